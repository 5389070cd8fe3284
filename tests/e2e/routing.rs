//! Routing through the binary: fallbacks by error kind, wildcard groups, usage-based routing,
//! and two proxy processes sharing one Redis (127.0.0.1:6379, or `LITELLM_TEST_REDIS_URL`) for
//! one deployment `rpm` and one cooldown.

use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

fn redis_url() -> String {
    std::env::var("LITELLM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn deployment(name: &str, model: &str, api_base: &str, extra: &str) -> String {
    format!(
        "  - model_name: \"{name}\"\n    litellm_params:\n      model: \"{model}\"\n      api_base: {api_base}\n      api_key: sk-upstream\n{extra}"
    )
}

async fn start(deployments: &[String], tail: &str) -> ProxyProcess {
    let config = format!("model_list:\n{}{tail}", deployments.join(""));
    ProxyProcess::start(&config, &[]).await
}

async fn chat(p: &ProxyProcess, model: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn context_window_and_content_policy_errors_take_their_own_fallbacks() {
    let small = FakeOpenAi::start().await;
    let big = FakeOpenAi::start().await;
    let safe = FakeOpenAi::start().await;
    let generic = FakeOpenAi::start().await;
    small.push(Scripted::error(
        400,
        "This model's maximum context length is 8192 tokens",
        "invalid_request_error",
        Some("context_length_exceeded"),
    ));
    small.push(Scripted::error(
        400,
        "Your request was rejected by the safety system",
        "invalid_request_error",
        Some("content_policy_violation"),
    ));
    let p = start(
        &[
            deployment("small", "openai/small", &small.base_url(), ""),
            deployment("big", "openai/big", &big.base_url(), ""),
            deployment("safe", "openai/safe", &safe.base_url(), ""),
            deployment("generic", "openai/generic", &generic.base_url(), ""),
        ],
        "router_settings:\n  fallbacks: [{small: [generic]}]\n  context_window_fallbacks: [{small: [big]}]\n  content_policy_fallbacks: [{small: [safe]}]\n",
    )
    .await;
    let r = chat(&p, "small").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-litellm-model-group"), "big");
    assert_eq!(header(&r, "x-litellm-attempted-fallbacks"), "1");
    let r = chat(&p, "small").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-litellm-model-group"), "safe");
    assert_eq!(
        (
            big.request_count(),
            safe.request_count(),
            generic.request_count()
        ),
        (1, 1, 0),
        "each kind went to its own list, never the generic one"
    );
}

#[tokio::test]
async fn a_wildcard_group_sends_the_requested_model_upstream() {
    let fake = FakeOpenAi::start().await;
    let p = start(
        &[deployment("openai/*", "openai/*", &fake.base_url(), "")],
        "",
    )
    .await;
    let r = chat(&p, "openai/gpt-4.1-nano").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-litellm-model-group"), "openai/gpt-4.1-nano");
    assert_eq!(fake.requests()[0].body["model"], "gpt-4.1-nano");
    let r = chat(&p, "anthropic/claude").await;
    assert_eq!(r.status(), 400, "no pattern matches");
}

#[tokio::test]
async fn two_replicas_sharing_redis_respect_one_rpm_and_share_a_cooldown() {
    let upstream = FakeOpenAi::start().await;
    let bad = FakeOpenAi::start().await;
    bad.set_default(Scripted::error(500, "boom", "server_error", None));
    let suffix: u64 = rand_suffix();
    let limited_id = format!("e2e-limited-{suffix}");
    let bad_id = format!("e2e-bad-{suffix}");
    let good_id = format!("e2e-good-{suffix}");
    let deployments = [
        deployment(
            "limited",
            "openai/m",
            &upstream.base_url(),
            &format!("      rpm: 3\n    model_info:\n      id: {limited_id}\n"),
        ),
        deployment(
            "pair",
            "openai/bad",
            &bad.base_url(),
            &format!("    model_info:\n      id: {bad_id}\n"),
        ),
        deployment(
            "pair",
            "openai/good",
            &upstream.base_url(),
            &format!("    model_info:\n      id: {good_id}\n"),
        ),
    ];
    let tail = format!(
        "router_settings:\n  routing_strategy: usage-based-routing-v2\n  redis_url: {}\n  allowed_fails: 0\n  cooldown_time: 60\n  num_retries: 1\n",
        redis_url()
    );
    let a = start(&deployments, &tail).await;
    let b = start(&deployments, &tail).await;

    // One rpm of 3 across both replicas. A minute boundary in the middle would reset the count,
    // so the run is repeated when it crossed one.
    let mut limited_ok = false;
    for _ in 0..3 {
        let minute = litellm_core_minute();
        let before = upstream.request_count();
        let mut statuses = Vec::new();
        for p in [&a, &b, &a, &b, &a] {
            statuses.push(chat(p, "limited").await);
        }
        if litellm_core_minute() != minute {
            continue;
        }
        let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            codes,
            vec![200, 200, 200, 429, 429],
            "one limit, not one per replica"
        );
        let retry_after: u64 = header(&statuses[3], "retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let body: Value = statuses.pop().unwrap().json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("rpm/tpm limit"),
            "{body}"
        );
        assert_eq!(upstream.request_count() - before, 3);
        limited_ok = true;
        break;
    }
    assert!(limited_ok, "every run crossed a minute boundary");

    // Replica A meets the failing deployment once and cools it down (60 s) for everyone.
    for _ in 0..30 {
        if bad.request_count() > 0 {
            break;
        }
        assert_eq!(chat(&a, "pair").await.status(), 200);
    }
    assert_eq!(bad.request_count(), 1);
    for _ in 0..10 {
        let r = chat(&b, "pair").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-litellm-model-id"), good_id);
    }
    assert_eq!(
        bad.request_count(),
        1,
        "replica B never called the cooled-down deployment"
    );
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    nanos ^ u64::from(std::process::id()) << 32
}

fn litellm_core_minute() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
}
