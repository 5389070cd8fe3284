//! The response cache through the HTTP surface: repeated requests are answered from the cache
//! (the upstream sees one call), hits cost 0 and are flagged `cache_hit` in the spend log,
//! per-request controls, streams replayed from a cached answer, embeddings, `default_off`, the
//! admin routes, a Redis cache shared by two proxies, and one Redis handle per server.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

fn config(base: &str, cache: &str) -> String {
    format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-upstream
      api_base: {base}
      input_cost_per_token: 0.001
      output_cost_per_token: 0.002
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_key: sk-upstream
      api_base: {base}
general_settings:
  master_key: sk-admin
litellm_settings:
  cache: true
{cache}
"#
    )
}

/// The master key of the test configs.
const ADMIN: &str = "sk-admin";
const AUTH: (&str, &str) = ("authorization", "Bearer sk-admin");

async fn chat(p: &Proxy, body: Value) -> Resp {
    p.post_as(ADMIN, "/v1/chat/completions", body).await
}

fn msg(text: &str) -> Value {
    json!({"model": "gpt", "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn a_repeated_request_is_answered_from_the_cache_at_no_cost() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::reply_with_usage("cached answer", 10, 5));
    let p = Proxy::new(&config(&fake.base_url(), "")).await;

    let first = chat(&p, msg("hello")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let key = first.header("x-litellm-cache-key").unwrap().to_string();
    assert_eq!(key.len(), 64, "{key}");
    assert_ne!(first.header("x-litellm-response-cost"), Some("0.0"));

    let second = chat(&p, msg("hello")).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(
        fake.request_count(),
        1,
        "the second call came from the cache"
    );
    assert_eq!(second.header("x-litellm-cache-key"), Some(key.as_str()));
    assert_eq!(second.header("x-litellm-response-cost"), Some("0.0"));
    assert_eq!(second.json()["choices"], first.json()["choices"]);
    assert_eq!(second.json()["usage"], first.json()["usage"]);

    // Field order does not matter; a different parameter or message does.
    let reordered = json!({"messages": [{"content": "hello", "role": "user"}], "model": "gpt"});
    chat(&p, reordered).await;
    assert_eq!(fake.request_count(), 1);
    let mut warmer = msg("hello");
    warmer["temperature"] = json!(0.9);
    let r = chat(&p, warmer).await;
    assert_ne!(r.header("x-litellm-cache-key"), Some(key.as_str()));
    chat(&p, msg("something else")).await;
    assert_eq!(fake.request_count(), 3);

    let rows = p.flushed_spend_logs(5).await;
    let hits: Vec<_> = rows.iter().filter(|r| r.cache_hit).collect();
    assert_eq!(hits.len(), 2, "{rows:?}");
    assert!(hits
        .iter()
        .all(|r| r.spend == 0.0 && r.model_group == "gpt"));
    assert!(rows.iter().filter(|r| !r.cache_hit).all(|r| r.spend > 0.0));
}

#[tokio::test]
async fn per_request_controls_skip_reads_or_writes_and_bad_controls_are_a_400() {
    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url(), "")).await;

    // no-store: answered, not stored.
    let mut b = msg("a");
    b["cache"] = json!({"no-store": true});
    chat(&p, b).await;
    chat(&p, msg("a")).await;
    assert_eq!(fake.request_count(), 2);
    // Now stored; no-cache skips the read (and stores again).
    let mut b = msg("a");
    b["cache"] = json!({"no-cache": true});
    chat(&p, b).await;
    assert_eq!(fake.request_count(), 3);
    chat(&p, msg("a")).await;
    assert_eq!(fake.request_count(), 3);
    // The controls never reach the upstream.
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.body.get("cache").is_none()));
    // A namespace is a different key space.
    let mut b = msg("a");
    b["cache"] = json!({"namespace": "team-a"});
    let r = chat(&p, b).await;
    assert!(r
        .header("x-litellm-cache-key")
        .unwrap()
        .starts_with("team-a:"));
    assert_eq!(fake.request_count(), 4);
    // s-maxage: an entry older than that is not used.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut b = msg("a");
    b["cache"] = json!({"s-maxage": 1});
    chat(&p, b).await;
    assert_eq!(fake.request_count(), 5);

    let mut b = msg("a");
    b["cache"] = json!({"ttl": "soon"});
    let r = chat(&p, b).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("cache"), "{}", r.text);
    assert_eq!(fake.request_count(), 5);
}

#[tokio::test]
async fn a_stream_is_served_from_a_cached_answer_as_sse() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::reply_with_usage("streamed from cache", 7, 3));
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    chat(&p, msg("s")).await;
    let mut b = msg("s");
    b["stream"] = json!(true);
    b["stream_options"] = json!({"include_usage": true});
    let r = chat(&p, b).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(fake.request_count(), 1);
    let chunks = chat_chunks(&r);
    assert_eq!(streamed_text(&chunks), "streamed from cache");
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "stop"));
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 10);
}

#[tokio::test]
async fn embeddings_are_cached_and_default_off_needs_use_cache() {
    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    let body = json!({"model": "embed", "input": ["x", "y"]});
    for _ in 0..2 {
        let r = p.post_as(ADMIN, "/v1/embeddings", body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json()["data"].as_array().unwrap().len(), 2);
    }
    assert_eq!(fake.request_count(), 1);

    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(
        &fake.base_url(),
        "  cache_params:\n    type: local\n    mode: default_off\n",
    ))
    .await;
    chat(&p, msg("q")).await;
    chat(&p, msg("q")).await;
    assert_eq!(fake.request_count(), 2, "default_off: not cached");
    let mut b = msg("q");
    b["cache"] = json!({"use-cache": true});
    chat(&p, b.clone()).await;
    chat(&p, b).await;
    assert_eq!(fake.request_count(), 3);
}

#[tokio::test]
async fn the_admin_routes_ping_and_delete() {
    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    let r = p.get("/cache/ping", &[AUTH]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "healthy");
    assert_eq!(r.json()["cache_type"], "local");
    assert_eq!(
        p.get("/cache/ping", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );

    let key = chat(&p, msg("d"))
        .await
        .header("x-litellm-cache-key")
        .unwrap()
        .to_string();
    let r = p
        .post_as(ADMIN, "/cache/delete", json!({"keys": [key]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["deleted"], 1);
    chat(&p, msg("d")).await;
    assert_eq!(fake.request_count(), 2, "deleted entries are fetched again");
    let r = p
        .post_raw("/cache/delete", b"{\"nope\": 1}".to_vec(), &[AUTH])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // Without a cache the routes say so.
    let plain = Proxy::new("model_list: []\ngeneral_settings:\n  master_key: sk-admin\n").await;
    let r = plain.get("/cache/ping", &[AUTH]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(r.text.contains("litellm_settings.cache"), "{}", r.text);
}

#[tokio::test]
async fn a_redis_cache_is_shared_by_two_proxies() {
    let fake = FakeOpenAi::start().await;
    let ns = format!("t{}", uuid::Uuid::new_v4().simple());
    let cache = format!(
        "  cache_params:\n    type: redis\n    host: 127.0.0.1\n    port: 6379\n    namespace: {ns}\n"
    );
    let a = Proxy::new(&config(&fake.base_url(), &cache)).await;
    let b = Proxy::new(&config(&fake.base_url(), &cache)).await;
    let r = a.get("/cache/ping", &[AUTH]).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "Redis at 127.0.0.1:6379: {}",
        r.text
    );
    assert_eq!(r.json()["cache_type"], "redis");

    let first = chat(&a, msg("shared")).await;
    assert_eq!(first.status, StatusCode::OK);
    // Redis writes happen off the request path; wait for it to land.
    let mut served = None;
    for _ in 0..100 {
        let r = chat(&b, msg("shared")).await;
        if r.header("x-litellm-response-cost") == Some("0.0") {
            served = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let served = served.expect("proxy b never hit the entry proxy a wrote");
    assert_eq!(served.json()["choices"], first.json()["choices"]);
    let key = served.header("x-litellm-cache-key").unwrap().to_string();
    assert!(key.starts_with(&format!("{ns}:")));
    let r = b
        .post_as(ADMIN, "/cache/delete", json!({"keys": [key]}))
        .await;
    assert_eq!(r.json()["deleted"], 1, "{}", r.text);
}

/// The Redis handle of the router's state; panics without one.
fn router_redis(p: &Proxy) -> litellm_router::RedisHandle {
    p.state
        .router
        .redis_handle()
        .expect("router state on Redis")
}

/// The Redis handle of the response cache, if it has one.
fn cache_redis(p: &Proxy) -> Option<litellm_router::RedisHandle> {
    p.state
        .cache
        .as_ref()
        .and_then(|c| c.redis_handle().cloned())
}

#[tokio::test]
async fn the_router_state_rate_limiter_and_cache_share_one_redis_handle_per_server() {
    let fake = FakeOpenAi::start().await;
    let with = |cache: &str| {
        let router = "router_settings:\n  redis_url: redis://127.0.0.1:6379\n";
        format!("{}{router}", config(&fake.base_url(), cache))
    };
    // The cache names no Redis of its own: it runs on the router's handle, as the limiter does.
    let p = Proxy::new(&with("  cache_params:\n    type: redis\n")).await;
    let router = router_redis(&p);
    let limiter = p
        .state
        .limiter
        .redis_handle()
        .expect("rate limits on Redis");
    let cache = cache_redis(&p);
    assert!(
        router.same_as(limiter),
        "one pool and breaker for router state and rate limits"
    );
    assert!(
        router.same_as(&cache.expect("cache on Redis")),
        "and for the cache"
    );
    assert_eq!(
        router.max_connections(),
        3 * litellm_router::redis::POOL_SIZE,
        "the pool keeps the capacity three pools had"
    );
    // A cache on another Redis server gets a handle of its own.
    let other = "  cache_params:\n    type: redis\n    host: localhost\n    port: 6379\n";
    let p = Proxy::new(&with(other)).await;
    let router = router_redis(&p);
    let cache = cache_redis(&p);
    assert!(!router.same_as(&cache.expect("cache on Redis")));
    assert!(router.same_as(
        p.state
            .limiter
            .redis_handle()
            .expect("rate limits on Redis")
    ));
}

#[tokio::test]
async fn a_streamed_answer_fills_the_cache_but_a_failed_stream_does_not() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::reply_with_usage("streamed once", 6, 2));
    let p = Proxy::new(&config(&fake.base_url(), "")).await;
    let mut b = msg("fill from a stream");
    b["stream"] = json!(true);
    let r = chat(&p, b.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("[DONE]"));
    // The same question, not streamed: answered from what the stream stored.
    let r = chat(&p, msg("fill from a stream")).await;
    assert_eq!(fake.request_count(), 1, "served from the streamed answer");
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.0"));
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], "streamed once");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["total_tokens"], 8);
    // And streamed again: replayed.
    let r = chat(&p, b).await;
    assert_eq!(fake.request_count(), 1);
    assert!(r.text.contains("streamed once"), "{}", r.text);

    // A stream that ends in an error stores nothing.
    fake.push(Scripted::StreamError {
        after_chunks: 1,
        error: json!({"message": "boom", "type": "server_error"}),
    });
    let mut b = msg("broken stream");
    b["stream"] = json!(true);
    let r = chat(&p, b).await;
    assert!(r.text.contains("boom"), "{}", r.text);
    chat(&p, msg("broken stream")).await;
    assert_eq!(fake.request_count(), 3, "the failed stream was not cached");
}
