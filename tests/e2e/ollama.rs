//! The binary in front of Ollama (`FakeOllama`): `ollama_chat/` deployments speak `/api/chat`
//! and `ollama/` ones `/api/generate` (a prompt built from the messages), with `stream: false`
//! or NDJSON streams translated to SSE chunks with usage; tool calls come back with their
//! object arguments serialized, embeddings use `/api/embed`, and a model that is not pulled is
//! a 404.

use litellm_test_support::{FakeOllama, OllamaScript};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

async fn proxy(fake: &FakeOllama) -> ProxyProcess {
    let config = format!(
        "model_list:\n  - model_name: llama-chat\n    litellm_params:\n      model: ollama_chat/llama3.1\n      api_base: {base}\n      num_ctx: 4096\n  - model_name: llama-gen\n    litellm_params:\n      model: ollama/llama3\n  - model_name: missing\n    litellm_params:\n      model: ollama_chat/missing-model\n      api_base: {base}\n  - model_name: embed\n    litellm_params:\n      model: ollama/nomic-embed-text\n      api_base: {base}\nrouter_settings:\n  num_retries: 0\n",
        base = fake.base_url()
    );
    // `llama-gen` has no api_base: it comes from OLLAMA_API_BASE.
    ProxyProcess::start(&config, &[("OLLAMA_API_BASE", &fake.base_url())]).await
}

fn sse(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn ollama_chat_answers_and_streams() {
    let fake = FakeOllama::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "llama-chat", "max_tokens": 32,
            "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeOllama::DEFAULT_REPLY
    );
    assert_eq!(body["usage"]["completion_tokens"], 9);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(
        sent.body,
        json!({"model": "llama3.1", "stream": false,
            "messages": [{"role": "user", "content": "Hi"}],
            "options": {"num_predict": 32, "num_ctx": 4096}})
    );

    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "llama-chat", "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "stream"}]}))
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
    assert_eq!(content, FakeOllama::DEFAULT_REPLY);
    assert_eq!(
        chunks.last().unwrap()["usage"]["completion_tokens"],
        9,
        "{text}"
    );
}

#[tokio::test]
async fn ollama_generate_builds_the_prompt() {
    let fake = FakeOllama::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "llama-gen", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeOllama::DEFAULT_REPLY
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/generate");
    assert_eq!(
        sent.body["prompt"],
        "### System:\nBe brief.\n\n### User:\nHi\n\n"
    );
    assert_eq!(sent.body["stream"], false);
}

#[tokio::test]
async fn ollama_tools_embeddings_and_errors() {
    let fake = FakeOllama::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    fake.push(OllamaScript::Json(json!({
        "model": "llama3.1", "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "",
            "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Oslo"}}}]},
        "done": true, "done_reason": "stop", "prompt_eval_count": 20, "eval_count": 8
    })));
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "llama-chat",
            "messages": [{"role": "user", "content": "weather?"}],
            "tools": [{"type": "function", "function": {"name": "weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["arguments"], "{\"city\":\"Oslo\"}");
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");

    let r = client
        .post(p.url("/v1/embeddings"))
        .json(&json!({"model": "embed", "input": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 4);
    assert_eq!(fake.requests()[1].path, "/api/embed");

    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "missing", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("try pulling it first"));
}
