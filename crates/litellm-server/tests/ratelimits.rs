//! Rate limits through the proxy's HTTP surface (in-process, temp SQLite, in-memory limiter on
//! a manual clock so window boundaries never make a test flaky): key, user, team and per-model
//! rpm, key tpm charged from usage, `max_parallel_requests` held by a stream until it ends or
//! the client leaves, 429 bodies and `retry-after`, and `x-ratelimit-*` headers that replace
//! the upstream's.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use tower::ServiceExt;

use litellm_auth::ratelimit::Clock;
use litellm_auth::{RateLimitOptions, RateLimiter};
use litellm_test_support::FakeOpenAi;

const MASTER: &str = "sk-test-master-rl01";

/// 41 s before a minute boundary.
const T0: u64 = 1_700_000_040_000 + 19_000;

fn config(fake_base: &str) -> String {
    let models = format!(
        r#"  - model_name: mock-gpt
    litellm_params:
      model: mock/gpt-4o
      mock_response: "Hello from the mock"
  - model_name: other
    litellm_params:
      model: mock/other
      mock_response: "other"
  - model_name: fake
    litellm_params:
      model: openai/gpt-4o
      api_base: {fake_base}
      api_key: sk-upstream
"#
    );
    config_yaml(&models, "", MASTER)
}

/// A proxy whose limiter runs on a manual clock.
async fn proxy(fake: &FakeOpenAi) -> (Proxy, Clock) {
    let mut p = Proxy::new(&config(&fake.base_url())).await;
    let clock = Clock::manual(T0);
    p.state = p.state.with_limiter(RateLimiter::memory(RateLimitOptions {
        clock: clock.clone(),
        ..RateLimitOptions::default()
    }));
    p.app = litellm_server::app(p.state.clone());
    (p, clock)
}

async fn admin(p: &Proxy, path: &str, body: Value) -> Value {
    let r = p.post_as(MASTER, path, body).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.json()
}

async fn new_key(p: &Proxy, body: Value) -> String {
    p.new_key_as(MASTER, body).await
}

async fn chat(p: &Proxy, key: &str, model: &str) -> Resp {
    p.chat(key, model).await
}

fn message(r: &Resp) -> String {
    error_field(r, "message")
}

/// A chat by `key` with `model` that must be refused with 429, its message naming `limit`.
async fn refused(p: &Proxy, key: &str, model: &str, limit: impl AsRef<str>) -> Resp {
    let r = chat(p, key, model).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let limit = limit.as_ref();
    assert!(message(&r).contains(limit), "{limit}: {}", message(&r));
    r
}

#[tokio::test]
async fn key_rpm_limit_answers_429_with_retry_after_and_headers() {
    let fake = FakeOpenAi::start().await;
    let (p, clock) = proxy(&fake).await;
    let key = new_key(&p, json!({"key_alias": "rl", "rpm_limit": 2})).await;

    let r = chat(&p, &key, "fake").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Ours replace the upstream's (FakeOpenAi sends 10000 requests); the upstream's stay
    // available under llm_provider-.
    assert_eq!(r.header("x-ratelimit-limit-requests"), Some("2"));
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("1"));
    assert_eq!(r.header("x-ratelimit-reset-requests"), Some("41s"));
    assert_eq!(r.header("x-ratelimit-api_key-limit-requests"), Some("2"));
    assert_eq!(
        r.header("x-ratelimit-api_key-remaining-requests"),
        Some("1")
    );
    assert_eq!(
        r.header("x-ratelimit-limit-tokens"),
        None,
        "no tpm limit: not ours, not theirs"
    );
    assert_eq!(
        r.header("llm_provider-x-ratelimit-limit-requests"),
        Some("10000")
    );
    assert_eq!(
        chat(&p, &key, "mock-gpt")
            .await
            .header("x-ratelimit-remaining-requests"),
        Some("0")
    );

    let before = fake.request_count();
    let r = chat(&p, &key, "fake").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("41"));
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("0"));
    let body = r.json();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["code"], "429");
    let msg = message(&r);
    assert!(
        msg.starts_with("Rate limit exceeded for key sk-...")
            && msg.contains("(key_alias rl): rpm_limit 2"),
        "{msg}"
    );
    assert!(!msg.contains(&key), "the key never appears in errors");
    assert_eq!(
        fake.request_count(),
        before,
        "a refused call never reaches the upstream"
    );

    clock.advance(Duration::from_secs(41));
    assert_eq!(
        chat(&p, &key, "fake").await.status,
        StatusCode::OK,
        "new window"
    );

    // Without limits a key gets the upstream's headers untouched.
    let free = new_key(&p, json!({})).await;
    let r = chat(&p, &free, "fake").await;
    assert_eq!(r.header("x-ratelimit-limit-requests"), Some("10000"));
}

#[tokio::test]
async fn tpm_limit_counts_usage_and_refuses_once_reached() {
    let fake = FakeOpenAi::start().await;
    let (p, _clock) = proxy(&fake).await;
    let key = new_key(&p, json!({"tpm_limit": 5})).await;
    let r = chat(&p, &key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ratelimit-limit-tokens"), Some("5"));
    assert_eq!(r.header("x-ratelimit-remaining-tokens"), Some("5"));
    let used = r.json()["usage"]["total_tokens"].as_u64().unwrap();
    assert!(used >= 5, "the mock's answer uses {used} tokens");
    refused(
        &p,
        &key,
        "mock-gpt",
        format!("tpm_limit 5 (used {used} this window"),
    )
    .await;
}

#[tokio::test]
async fn user_team_and_model_limits_are_enforced_and_named() {
    let fake = FakeOpenAi::start().await;
    let (p, _clock) = proxy(&fake).await;
    let user = admin(
        &p,
        "/user/new",
        json!({"user_id": "rl-alice", "rpm_limit": 1, "max_parallel_requests": 3}),
    )
    .await;
    assert_eq!(user["max_parallel_requests"], 3, "{user}");
    let user_key = user["key"].as_str().unwrap().to_string();
    assert_eq!(chat(&p, &user_key, "mock-gpt").await.status, StatusCode::OK);
    // Another key of the same user shares the user's limit.
    let second = new_key(&p, json!({"user_id": "rl-alice"})).await;
    refused(&p, &second, "mock-gpt", "for user rl-alice: rpm_limit 1").await;

    admin(
        &p,
        "/team/new",
        json!({"team_id": "rl-core", "rpm_limit": 1}),
    )
    .await;
    let t1 = new_key(&p, json!({"team_id": "rl-core"})).await;
    let t2 = new_key(&p, json!({"team_id": "rl-core"})).await;
    assert_eq!(chat(&p, &t1, "mock-gpt").await.status, StatusCode::OK);
    refused(&p, &t2, "mock-gpt", "for team rl-core: rpm_limit 1").await;

    let info = admin(
        &p,
        "/key/generate",
        json!({"key_alias": "per-model", "model_rpm_limit": {"mock-gpt": 1}}),
    )
    .await;
    let m = info["key"].as_str().unwrap().to_string();
    let stored = p
        .get(
            &format!("/key/info?key={m}"),
            &[("authorization", &bearer(MASTER))],
        )
        .await
        .json();
    assert_eq!(
        stored["info"]["metadata"]["model_rpm_limit"]["mock-gpt"], 1,
        "{stored}"
    );
    let r = chat(&p, &m, "mock-gpt").await;
    assert_eq!(
        r.header("x-ratelimit-model_per_key-remaining-requests"),
        Some("0")
    );
    refused(
        &p,
        &m,
        "mock-gpt",
        "(key_alias per-model) for model mock-gpt: model_rpm_limit 1",
    )
    .await;
    assert_eq!(
        chat(&p, &m, "other").await.status,
        StatusCode::OK,
        "other models are free"
    );

    let bad = p
        .post_raw(
            "/key/generate",
            serde_json::to_vec(&json!({"model_rpm_limit": {"mock-gpt": -1}})).unwrap(),
            &[("authorization", &bearer(MASTER))],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.json()["error"]["param"], "model_rpm_limit");
}

fn stream_request(key: &str) -> Request<Body> {
    let body = json!({"model": "mock-gpt", "stream": true,
        "messages": [{"role": "user", "content": "stream please"}]});
    Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", bearer(key))
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

#[tokio::test]
async fn a_stream_holds_its_parallel_slot_until_it_ends_or_the_client_leaves() {
    let fake = FakeOpenAi::start().await;
    let (p, _clock) = proxy(&fake).await;
    let key = new_key(&p, json!({"max_parallel_requests": 1, "tpm_limit": 100000})).await;

    // A stream whose body is not read yet is in flight.
    let open = p.app.clone().oneshot(stream_request(&key)).await.unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    assert_eq!(
        open.headers()["x-ratelimit-api_key-remaining-max_parallel_requests"],
        "0"
    );
    let r = refused(&p, &key, "mock-gpt", "max_parallel_requests 1").await;
    assert_eq!(r.header("retry-after"), Some("1"));

    // Reading it to the end frees the slot and charges its tokens before [DONE].
    let text = axum::body::to_bytes(open.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&text).ends_with("data: [DONE]\n\n"));
    let r = chat(&p, &key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let remaining: u64 = r.parsed_header("x-ratelimit-remaining-tokens");
    assert!(remaining < 100000, "the stream's tokens were charged");

    // A client that leaves mid-stream frees the slot too (from a background task).
    let gone = p.app.clone().oneshot(stream_request(&key)).await.unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    drop(gone);
    let mut freed = false;
    for _ in 0..200 {
        if chat(&p, &key, "mock-gpt").await.status == StatusCode::OK {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(freed, "the dropped stream's slot was never freed");
}

#[tokio::test]
async fn embeddings_and_the_master_key_are_limited_as_documented() {
    let fake = FakeOpenAi::start().await;
    let (p, _clock) = proxy(&fake).await;
    let key = new_key(&p, json!({"rpm_limit": 1})).await;
    let emb = |k: String| {
        let body = json!({"model": "fake", "input": "hello"});
        let auth = bearer(&k);
        let p = &p;
        async move {
            p.post_raw(
                "/v1/embeddings",
                serde_json::to_vec(&body).unwrap(),
                &[("authorization", &auth)],
            )
            .await
        }
    };
    let r = emb(key.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(emb(key.clone()).await.status, StatusCode::TOO_MANY_REQUESTS);
    // A malformed request is refused before the limiter and consumes nothing.
    let other = new_key(&p, json!({"rpm_limit": 1})).await;
    let bad = p
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&json!({"model": "mock-gpt", "messages": []})).unwrap(),
            &[("authorization", &bearer(&other))],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(chat(&p, &other, "mock-gpt").await.status, StatusCode::OK);
    // The master key has no limits.
    for _ in 0..3 {
        assert_eq!(chat(&p, MASTER, "mock-gpt").await.status, StatusCode::OK);
    }
}

/// `/v1/messages/count_tokens` runs under the caller's request limits too (it costs this
/// proxy's CPU, or an upstream call), whether the group counts natively or not.
#[tokio::test]
async fn count_tokens_is_rate_limited() {
    let fake = FakeOpenAi::start().await;
    let (p, _clock) = proxy(&fake).await;
    let key = new_key(&p, json!({"key_alias": "counter", "rpm_limit": 2})).await;
    let body = json!({"model": "fake", "messages": [{"role": "user", "content": "count me"}]});
    for _ in 0..2 {
        let r = p
            .post_as(&key, "/v1/messages/count_tokens", body.clone())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.json()["input_tokens"].as_u64().unwrap() > 0, "{}", r.text);
    }
    let r = p.post_as(&key, "/v1/messages/count_tokens", body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(fake.request_count(), 0);
}
