//! The `generic_api` webhook and the JSON access log through the real binary: events configured
//! from `GENERIC_LOGGER_ENDPOINT` / `GENERIC_LOGGER_HEADERS` arrive as LiteLLM
//! StandardLoggingPayloads (success and failure), the shutdown flushes the queue, and with
//! `JSON_LOGS` every request has one JSON access-log line and no key appears on stderr.

use litellm_test_support::{FakeHttp, FakeOpenAi, HttpScript};
use serde_json::{json, Value};

use crate::harness::*;

const MASTER: &str = "sk-e2e-master-hooks-777";
const UPSTREAM: &str = "sk-e2e-upstream-hooks-888";

#[tokio::test]
async fn webhook_events_and_json_access_logs_without_secrets() {
    let upstream = FakeOpenAi::start().await;
    let hook = FakeHttp::start().await;
    for _ in 0..10 {
        hook.push(HttpScript::ok(json!({"ok": true})));
    }
    let config = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {}\n      api_key: {UPSTREAM}\n    model_info:\n      id: dep-hook\nlitellm_settings:\n  callbacks: [\"generic_api\"]\ngeneral_settings:\n  master_key: {MASTER}\n",
        upstream.base_url()
    );
    let endpoint = format!("{}/ingest", hook.base_url());
    let mut p = ProxyProcess::start(
        &config,
        &[
            ("GENERIC_LOGGER_ENDPOINT", endpoint.as_str()),
            ("GENERIC_LOGGER_HEADERS", "x-hook-token=hook-secret-1"),
            ("JSON_LOGS", "true"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let ok = client
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&json!({"model": "gpt", "messages": [{"role": "user", "content": "hook me"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let call_id = ok.headers()["x-litellm-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    let denied = client
        .post(p.url("/v1/chat/completions"))
        .bearer_auth("sk-e2e-wrong-key-999")
        .json(&json!({"model": "gpt", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    // A refused call of a real caller is a failure event; the 401 above is not (anyone can
    // make those): it reaches the access log only.
    let refused = client
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    // Events are sent every 5 s; the graceful shutdown flushes what is queued.
    p.sigterm();
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());

    let posts = hook.requests();
    assert!(
        !posts.is_empty(),
        "no webhook call; stderr:\n{}",
        p.stderr()
    );
    let mut events = Vec::new();
    for post in &posts {
        assert_eq!(post.method, "POST");
        assert_eq!(post.path, "/ingest");
        assert_eq!(post.header("x-hook-token"), Some("hook-secret-1"));
        events.extend(post.body.as_array().unwrap().iter().cloned());
    }
    assert_eq!(events.len(), 2, "{events:#?}");
    let success = events.iter().find(|e| e["id"] == call_id.as_str()).unwrap();
    assert_eq!(success["status"], "success");
    assert_eq!(success["model_group"], "gpt");
    assert_eq!(success["model_id"], "dep-hook");
    assert_eq!(success["messages"][0]["content"], "hook me");
    assert_eq!(
        success["metadata"]["user_api_key_hash"],
        litellm_auth::hash_token(MASTER)
    );
    let failure = events.iter().find(|e| e["status"] == "failure").unwrap();
    assert_eq!(failure["error_information"]["error_code"], "400");
    let all = serde_json::to_string(&events).unwrap();
    for secret in [MASTER, UPSTREAM, "sk-e2e-wrong-key-999"] {
        assert!(!all.contains(secret), "an event leaks {secret}");
    }

    let stderr = p.stderr();
    let access: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "litellm_rs::access")
        .collect();
    assert_eq!(access.len(), 3, "{stderr}");
    assert_eq!(access[0]["request_id"], call_id.as_str());
    assert_eq!(access[0]["status_code"], 200);
    assert_eq!(access[0]["deployment_id"], "dep-hook");
    assert_eq!(access[1]["status_code"], 401);
    assert_eq!(access[2]["status_code"], 400);
    for secret in [MASTER, UPSTREAM, "sk-e2e-wrong-key-999", "hook-secret-1"] {
        assert!(!stderr.contains(secret), "stderr shows {secret}:\n{stderr}");
    }
}
