//! The real binary's Anthropic-format ingress: `POST /v1/messages` with the key in `x-api-key`,
//! answered in Anthropic's format (message and event stream) from an OpenAI upstream and from
//! an Anthropic upstream (the body and `anthropic-beta` reaching it as sent), errors in
//! Anthropic's shape, and `/v1/messages/count_tokens` (counted by the Anthropic upstream).

use litellm_test_support::{FakeAnthropic, FakeOpenAi};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const KEY: &str = "sk-e2e-master-key-1";

async fn proxy(openai: &FakeOpenAi, anthropic: &FakeAnthropic) -> ProxyProcess {
    let config = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {}\n      api_key: sk-up\n  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-sonnet-4-5\n      api_base: {}\n      api_key: sk-ant-up\nrouter_settings:\n  num_retries: 0\ngeneral_settings:\n  master_key: {KEY}\n",
        openai.base_url(),
        anthropic.base_url()
    );
    ProxyProcess::start(&config, &[]).await
}

fn event_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("event: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn messages_are_served_in_anthropics_format_by_any_provider() {
    let openai = FakeOpenAi::start().await;
    let anthropic = FakeAnthropic::start().await;
    let p = proxy(&openai, &anthropic).await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(p.url(path))
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", "prompt-caching-2024-07-31")
            .json(&body)
            .send()
    };

    // An OpenAI deployment, plain and streamed.
    let r = post(
        "/v1/messages",
        json!({"model": "gpt", "max_tokens": 64, "system": "Be brief.",
               "messages": [{"role": "user", "content": "Hello"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["type"], "message");
    assert!(b["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(b["content"][0]["type"], "text");
    assert_eq!(b["content"][0]["text"], FakeOpenAi::DEFAULT_REPLY);
    assert_eq!(b["stop_reason"], "end_turn");
    assert!(b["usage"]["output_tokens"].as_u64().unwrap() > 0);

    let r = post(
        "/v1/messages",
        json!({"model": "gpt", "max_tokens": 64, "stream": true,
               "messages": [{"role": "user", "content": "Hello"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let names = event_names(&text);
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    assert!(names.iter().any(|n| n == "content_block_delta"), "{text}");
    assert!(names.iter().any(|n| n == "message_delta"), "{text}");

    // An Anthropic deployment: the client's body and beta header reach it.
    let r = post(
        "/v1/messages",
        json!({"model": "claude", "max_tokens": 64, "top_k": 4,
               "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi",
                   "cache_control": {"type": "ephemeral"}}]}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["id"], "msg_fake01");
    assert_eq!(b["content"][0]["text"], FakeAnthropic::DEFAULT_REPLY);
    let sent = &anthropic.requests()[0];
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-up"));
    assert_eq!(
        sent.body,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "top_k": 4,
               "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi",
                   "cache_control": {"type": "ephemeral"}}]}]})
    );

    // Errors in Anthropic's shape; count_tokens.
    let r = client
        .post(p.url("/v1/messages"))
        .header("x-api-key", "sk-not-the-key")
        .json(&json!({"model": "gpt", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["type"], "error");
    assert_eq!(b["error"]["type"], "authentication_error");

    let r = post(
        "/v1/messages/count_tokens",
        json!({"model": "claude", "messages": [{"role": "user", "content": "abcdefgh"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    // The Anthropic upstream's own count (the fake's: four characters a token).
    assert_eq!(b, json!({"input_tokens": 2}));
    assert_eq!(
        anthropic
            .requests()
            .last()
            .map(|r| r.path.clone())
            .as_deref(),
        Some("/v1/messages/count_tokens")
    );
}
