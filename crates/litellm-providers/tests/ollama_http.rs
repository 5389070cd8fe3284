//! The Ollama backends (adapter + transport) against the in-process `FakeOllama` server:
//! `ollama_chat/` on `/api/chat` and `ollama/` on `/api/generate`, non-streamed (`stream: false`
//! always sent) and NDJSON streams with usage, tools with object arguments, images, `options`,
//! JSON mode, `/api/embed`, and error statuses mapped to kinds.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::sync::Arc;

use serde_json::json;

use litellm_core::{EmbeddingInput, ErrorKind, ModelBackend};
use litellm_test_support::{FakeOllama, OllamaScript};

use common::http::{
    assert_opens_turn, assert_reply, chat, chat_error, chat_fails_as, chat_ok, embed_ok, embedding,
    first_call, request, stream_chunks, stream_error, stream_items, streaming, text_of,
};

fn backend(fake: &FakeOllama, model: &str) -> Arc<dyn ModelBackend> {
    common::http::backend(model, fake.base_url(), None)
}

#[tokio::test]
async fn ollama_chat_maps_options_and_the_answer() {
    let fake = FakeOllama::start().await;
    let b = backend(&fake, "ollama_chat/llama3.1");
    assert_eq!(b.provider(), "ollama_chat");
    let req = request(json!({"model": "g", "messages": [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": [{"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}
        ], "temperature": 0.1, "max_tokens": 64, "seed": 7, "top_k": 20, "num_ctx": 8192,
        "response_format": {"type": "json_object"}, "keep_alive": "5m"}));
    let r = chat_ok(&b, req).await;
    assert_reply(&r, FakeOllama::DEFAULT_REPLY);
    assert_eq!(r.model, "llama3.1");
    assert_eq!(r.usage.unwrap().completion_tokens, 9);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/chat");
    assert!(sent.header("authorization").is_none());
    assert_eq!(
        sent.body,
        json!({"model": "llama3.1", "stream": false, "messages": [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "what is this?", "images": ["iVBORw0KGgo="]}
        ], "options": {"temperature": 0.1, "num_predict": 64, "seed": 7, "top_k": 20,
            "num_ctx": 8192}, "format": "json", "keep_alive": "5m"})
    );
}

#[tokio::test]
async fn ollama_chat_streams_ndjson_with_usage() {
    let fake = FakeOllama::start().await;
    let b = backend(&fake, "ollama_chat/llama3.1");
    let chunks = stream_chunks(&b, streaming(chat("hi"))).await;
    assert_opens_turn(&chunks);
    assert_eq!(text_of(&chunks), FakeOllama::DEFAULT_REPLY);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let usage = last.usage.as_ref().unwrap();
    assert_eq!(usage.completion_tokens, 9);
    assert!(usage.prompt_tokens > 0);
    assert_eq!(fake.requests()[0].body["stream"], true);
}

#[tokio::test]
async fn ollama_generate_sends_a_prompt_and_streams() {
    let fake = FakeOllama::start().await;
    let b = backend(&fake, "ollama/llama3");
    assert_eq!(b.provider(), "ollama");
    let r = chat_ok(&b, chat("hello")).await;
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some(FakeOllama::DEFAULT_REPLY)
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/generate");
    assert_eq!(
        sent.body,
        json!({"model": "llama3", "stream": false,
            "prompt": "### System:\nbe kind\n\n### User:\nhello\n\n"})
    );
    let chunks = stream_chunks(&b, streaming(chat("hi"))).await;
    assert_eq!(text_of(&chunks), FakeOllama::DEFAULT_REPLY);
    assert!(chunks.last().unwrap().usage.is_some());
}

#[tokio::test]
async fn tools_round_trip_with_object_arguments() {
    let fake = FakeOllama::start().await;
    let b = backend(&fake, "ollama_chat/qwen3");
    fake.push(OllamaScript::Json(json!({
        "model": "qwen3", "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "",
            "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Paris"}}}]},
        "done": true, "done_reason": "stop", "prompt_eval_count": 30, "eval_count": 12
    })));
    let req = request(json!({"model": "g",
        "messages": [{"role": "user", "content": "weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}));
    let r = chat_ok(&b, req).await;
    let call = first_call(&r);
    assert_eq!(call.function.name, "weather");
    assert_eq!(call.function.arguments, "{\"city\":\"Paris\"}");
    assert!(call.id.starts_with("call_"));
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    let usage = r.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (30, 12));
    assert_eq!(
        fake.requests()[0].body["tools"][0]["function"]["name"],
        "weather"
    );

    let req = request(json!({"model": "g", "messages": [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22C"}
    ]}));
    chat_ok(&b, req).await;
    let sent = &fake.requests()[1].body;
    assert_eq!(
        sent["messages"][1],
        json!({"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "weather", "arguments": {"city": "Paris"}}}]})
    );
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "content": "22C", "tool_name": "weather"})
    );
}

#[tokio::test]
async fn embeddings_use_api_embed() {
    let fake = FakeOllama::start().await;
    let b = backend(&fake, "ollama/nomic-embed-text");
    let input = EmbeddingInput::Texts(vec!["a".into(), "b".into()]);
    let out = embed_ok(&b, embedding("e", input)).await;
    assert_eq!(out.data.len(), 2);
    assert_eq!(out.usage.unwrap().prompt_tokens, 2);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/api/embed");
    assert_eq!(
        sent.body,
        json!({"model": "nomic-embed-text", "input": ["a", "b"]})
    );
}

#[tokio::test]
async fn errors_map_by_status() {
    let fake = FakeOllama::start().await;
    let b = backend(&fake, "ollama_chat/missing-model");
    let e = chat_fails_as(&b, ErrorKind::NotFound).await;
    assert!(e.message.contains("try pulling it first"), "{}", e.message);

    let b = backend(&fake, "ollama_chat/llama3.1");
    fake.push(OllamaScript::error(429, "too many requests").with_header("retry-after", "2"));
    let e = stream_error(&b, streaming(chat("x"))).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(2)));

    fake.push(OllamaScript::Lines(vec![
        json!({"model": "llama3.1", "message": {"role": "assistant", "content": "Hi"}, "done": false}),
        json!({"error": "an error was encountered while running the model"}),
    ]));
    let items = stream_items(&b, streaming(chat("x"))).await;
    let e = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InternalServer);

    let mut req = chat("x");
    req.tool_choice = Some(litellm_core::ToolChoice::Mode("required".into()));
    let e = chat_error(&b, req).await;
    assert_eq!(
        (e.kind, e.param.as_deref()),
        (ErrorKind::BadRequest, Some("tool_choice"))
    );
}
