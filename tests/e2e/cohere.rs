//! The binary in front of Cohere (`FakeCohere`): an OpenAI request to a `cohere/` deployment goes
//! out as a v2 `/v2/chat` request with `Authorization: Bearer` (body checked at the upstream) and
//! comes back in OpenAI's format, streamed or not, with exact usage; tool calls round-trip,
//! embeddings use `/v2/embed`, and Cohere errors reach the client with the right status.

use litellm_test_support::{CohereScript, FakeCohere};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const KEY: &str = "co-e2e-secret";

async fn proxy(fake: &FakeCohere) -> ProxyProcess {
    let config = format!(
        "model_list:\n  - model_name: command\n    litellm_params:\n      model: cohere/command-r-plus-08-2024\n      api_base: {base}\n      api_key: os.environ/E2E_COHERE_KEY\n  - model_name: cohere-embed\n    litellm_params:\n      model: cohere/embed-english-v3.0\n      api_base: {base}\nrouter_settings:\n  num_retries: 0\n",
        base = fake.base_url()
    );
    ProxyProcess::start(
        &config,
        &[("E2E_COHERE_KEY", KEY), ("COHERE_API_KEY", "co-from-env")],
    )
    .await
}

fn sse(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn cohere_chat_is_translated_to_v2_and_back() {
    let fake = FakeCohere::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({
            "model": "command",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"}
            ],
            "temperature": 0.3,
            "max_tokens": 100,
            "response_format": {"type": "json_object"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-model-group"], "command");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeCohere::DEFAULT_REPLY
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 9);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v2/chat");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        sent.body,
        json!({"model": "command-r-plus-08-2024", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"}
        ], "temperature": 0.3, "max_tokens": 100, "response_format": {"type": "json_object"}})
    );
    assert!(
        !p.stderr().contains(KEY),
        "the upstream key must never be logged"
    );
}

#[tokio::test]
async fn a_cohere_stream_is_translated_with_usage_in_the_last_chunk() {
    let fake = FakeCohere::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "command", "stream": true,
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
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, FakeCohere::DEFAULT_REPLY);
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "stop"));
    assert_eq!(
        chunks.last().unwrap()["usage"]["completion_tokens"],
        9,
        "{text}"
    );
}

#[tokio::test]
async fn cohere_tool_calls_come_back_as_openai_tool_calls() {
    let fake = FakeCohere::start().await;
    let p = proxy(&fake).await;
    fake.push(CohereScript::Json(json!({
        "id": "r1", "finish_reason": "TOOL_CALL",
        "message": {"role": "assistant", "tool_calls": [{"id": "lookup_1", "type": "function",
            "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]},
        "usage": {"tokens": {"input_tokens": 12, "output_tokens": 4}}
    })));
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "command",
            "messages": [{"role": "user", "content": "look up rust"}],
            "tools": [{"type": "function", "function": {"name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["id"], "lookup_1");
    assert_eq!(call["function"]["arguments"], "{\"q\":\"rust\"}");
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(body["usage"]["prompt_tokens"], 12);
    assert_eq!(
        fake.requests()[0].body["tools"][0]["function"]["name"],
        "lookup"
    );
}

#[tokio::test]
async fn cohere_embeddings_and_errors() {
    let fake = FakeCohere::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let r = client
        .post(p.url("/v1/embeddings"))
        .json(&json!({"model": "cohere-embed", "input": ["one", "two"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v2/embed");
    assert_eq!(sent.header("authorization"), Some("Bearer co-from-env"));
    assert_eq!(sent.body["input_type"], "search_document");

    let call = || {
        client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "command", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    fake.push(CohereScript::error(
        429,
        "You are using a Trial key, which is limited",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 429);
    fake.push(CohereScript::error(401, "invalid api token"));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 401);
    fake.push(CohereScript::error(
        400,
        "too many tokens: total number of tokens in the prompt cannot exceed 128000",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("ContextWindowExceeded"));
}
