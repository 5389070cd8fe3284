//! The binary in front of an Anthropic upstream (`FakeAnthropic`): an OpenAI request goes out
//! as an Anthropic Messages request (body and headers checked at the upstream), and the answer,
//! streamed or not, comes back in OpenAI's format with exact usage; Anthropic errors reach the
//! client with the right status.

use litellm_test_support::{AnthropicScript, FakeAnthropic};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

async fn proxy(fake: &FakeAnthropic) -> ProxyProcess {
    let config = format!(
        "model_list:\n  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-sonnet-4-5\n      api_base: {base}\n      api_key: os.environ/E2E_ANTHROPIC_KEY\n  - model_name: claude-env\n    litellm_params:\n      model: anthropic/claude-haiku-4-5\n      api_base: {base}\nrouter_settings:\n  num_retries: 0\n",
        base = fake.base_url()
    );
    ProxyProcess::start(
        &config,
        &[
            ("E2E_ANTHROPIC_KEY", "sk-ant-e2e-secret"),
            ("ANTHROPIC_API_KEY", "sk-ant-from-env"),
        ],
    )
    .await
}

fn sse(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn chat_is_translated_to_the_messages_api_and_back() {
    let fake = FakeAnthropic::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({
            "model": "claude",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]}
            ],
            "stop": "END",
            "temperature": 0.2,
            "tools": [{"type": "function", "function": {"name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
            "tool_choice": "auto"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeAnthropic::DEFAULT_REPLY
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["object"], "chat.completion");
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-e2e-secret"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert!(sent.header("authorization").is_none());
    assert_eq!(
        sent.body,
        json!({
            "model": "claude-sonnet-4-5",
            "system": [{"type": "text", "text": "Be brief."}],
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                    "data": "iVBORw0KGgo="}}
            ]}],
            // No max_tokens asked: Claude Sonnet 4.5's maximum output (price table).
            "max_tokens": 64000,
            "temperature": 0.2,
            "stop_sequences": ["END"],
            "tools": [{"name": "lookup", "input_schema": {"type": "object",
                "properties": {"q": {"type": "string"}}}}],
            "tool_choice": {"type": "auto"}
        })
    );
    assert!(
        !p.stderr().contains("sk-ant-e2e-secret"),
        "the upstream key must never be logged"
    );

    // The key falls back to ANTHROPIC_API_KEY.
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "claude-env", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sent = &fake.requests()[1];
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-from-env"));
    assert_eq!(sent.body["model"], "claude-haiku-4-5");
}

#[tokio::test]
async fn tool_use_comes_back_as_tool_calls() {
    let fake = FakeAnthropic::start().await;
    fake.push(AnthropicScript::Json(json!({
        "id": "msg_t", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "rust"}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 20, "output_tokens": 7, "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 0}
    })));
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "claude", "messages": [
            {"role": "user", "content": "search rust"},
            {"role": "assistant", "tool_calls": [{"id": "toolu_0", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_0", "content": "nothing"}
        ], "tools": [{"type": "function", "function": {"name": "lookup"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["tool_calls"][0]["id"], "toolu_1");
    assert_eq!(
        choice["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"q\":\"rust\"}"
    );
    assert_eq!(body["usage"]["prompt_tokens"], 120);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 100);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.body["messages"][1]["content"][0],
        json!({"type": "tool_use", "id": "toolu_0", "name": "lookup", "input": {"q": "x"}})
    );
    assert_eq!(
        sent.body["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_0", "content": "nothing"}]})
    );
}

#[tokio::test]
async fn a_stream_is_translated_event_by_event_with_usage() {
    let fake = FakeAnthropic::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "claude", "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "stream please"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events = sse(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, FakeAnthropic::DEFAULT_REPLY);
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "stop"));
    let usage = &chunks.last().unwrap()["usage"];
    assert!(usage["completion_tokens"].as_u64().unwrap() > 0, "{text}");
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    let sent = &fake.requests()[0];
    assert_eq!(sent.body["stream"], true);
    assert!(sent.body.get("stream_options").is_none());
}

#[tokio::test]
async fn anthropic_errors_keep_their_message_and_map_to_the_right_status() {
    let fake = FakeAnthropic::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let call = || {
        client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "claude", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };

    fake.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    let r = call().await.unwrap();
    assert!(
        r.status() == 503 || r.status() == 529,
        "overloaded is a service-unavailable error, got {}",
        r.status()
    );
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Overloaded"),
        "{e}"
    );

    fake.push(AnthropicScript::error(
        400,
        "invalid_request_error",
        "prompt is too long: 210000 tokens > 200000 maximum",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("prompt is too long"), "{e}");
    assert!(message.contains("ContextWindowExceeded"), "{e}");

    fake.push(AnthropicScript::error(
        401,
        "authentication_error",
        "invalid x-api-key",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.text().await.unwrap().contains("sk-ant-e2e-secret"));

    // An OpenAI parameter Anthropic cannot honour is a 400 naming it, before any upstream call.
    let before = fake.requests().len();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "claude", "presence_penalty": 0.5,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("presence_penalty"),
        "{e}"
    );
    assert_eq!(fake.requests().len(), before);
}
