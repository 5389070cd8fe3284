//! The Cohere backend (adapter + transport) against the in-process `FakeCohere` upstream: v2 chat,
//! its event stream with usage, tool calls and tool results round-tripping, embeddings, error
//! statuses mapped to kinds, unsupported parameters refused before sending, and the key never
//! leaking into errors.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::sync::Arc;

use serde_json::json;

use litellm_core::{EmbeddingInput, ErrorKind, JsonMap, ModelBackend};
use litellm_test_support::{CohereScript, FakeCohere};

use common::http::{
    assert_opens_turn, assert_reply, assert_reply_stream, assert_usage_adds_up, chat, chat_error,
    chat_fails_as, chat_ok, embed_ok, embedding, first_call, request, stream_chunks, stream_error,
    streaming,
};

const KEY: &str = "co-http-secret-key";

fn backend(fake: &FakeCohere, model: &str) -> Arc<dyn ModelBackend> {
    common::http::backend(model, fake.base_url(), Some(KEY))
}

#[tokio::test]
async fn chat_goes_to_v2_chat_and_comes_back_in_openai_format() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere/command-r-plus");
    assert_eq!(b.provider(), "cohere");
    let mut req = chat("hello");
    req.top_p = Some(0.5);
    req.max_tokens = Some(50);
    req.stop = Some(litellm_core::Stop::One("END".into()));
    let r = chat_ok(&b, req).await;
    assert_reply(&r, FakeCohere::DEFAULT_REPLY);
    assert_usage_adds_up(&r);
    assert_eq!(r.usage.unwrap().completion_tokens, 9);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v2/chat");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer co-http-secret-key")
    );
    assert_eq!(
        sent.body,
        json!({"model": "command-r-plus", "messages": [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "hello"}
        ], "p": 0.5, "max_tokens": 50, "stop_sequences": ["END"]})
    );
}

#[tokio::test]
async fn cohere_chat_is_the_same_provider() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere_chat/command-r");
    assert_eq!(b.provider(), "cohere");
    chat_ok(&b, chat("x")).await;
    assert_eq!(fake.requests()[0].body["model"], "command-r");
}

#[tokio::test]
async fn a_stream_yields_text_finish_and_usage_chunks() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere/command-r");
    let chunks = stream_chunks(&b, streaming(chat("hello"))).await;
    assert_opens_turn(&chunks);
    assert_reply_stream(&chunks, FakeCohere::DEFAULT_REPLY);
    assert_eq!(
        chunks
            .last()
            .unwrap()
            .usage
            .as_ref()
            .unwrap()
            .completion_tokens,
        9
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
}

#[tokio::test]
async fn tool_calls_and_results_round_trip() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere/command-r");
    fake.push(CohereScript::Json(json!({
        "id": "r1", "finish_reason": "TOOL_CALL",
        "message": {"role": "assistant", "tool_plan": "I will look it up.",
            "tool_calls": [{"id": "lookup_abc", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]},
        "usage": {"billed_units": {"input_tokens": 10, "output_tokens": 5},
            "tokens": {"input_tokens": 20, "output_tokens": 5}}
    })));
    let req = request(json!({"model": "g",
        "messages": [{"role": "user", "content": "find rust"}],
        "tools": [{"type": "function", "function": {"name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
        "tool_choice": "required"}));
    let r = chat_ok(&b, req).await;
    let call = first_call(&r);
    assert_eq!(
        (call.id.as_str(), call.function.name.as_str()),
        ("lookup_abc", "lookup")
    );
    assert_eq!(call.function.arguments, "{\"q\":\"rust\"}");
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        r.choices[0].message.reasoning_content.as_deref(),
        Some("I will look it up.")
    );
    assert_eq!(r.usage.unwrap().prompt_tokens, 20);
    assert_eq!(fake.requests()[0].body["tool_choice"], "REQUIRED");

    let req = request(json!({"model": "g", "messages": [
        {"role": "user", "content": "find rust"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "lookup_abc",
            "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]},
        {"role": "tool", "tool_call_id": "lookup_abc", "content": "Rust is a language."}
    ]}));
    let r = chat_ok(&b, req).await;
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some(FakeCohere::DEFAULT_REPLY)
    );
    let sent = &fake.requests()[1].body;
    assert_eq!(
        sent["messages"][1],
        json!({"role": "assistant", "tool_calls": [{"id": "lookup_abc", "type": "function",
            "function": {"name": "lookup", "arguments": "{\"q\":\"rust\"}"}}]})
    );
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "tool_call_id": "lookup_abc", "content": "Rust is a language."})
    );
}

#[tokio::test]
async fn embeddings_use_v2_embed_with_search_document() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere/embed-english-v3.0");
    let input = EmbeddingInput::Texts(vec!["a".into(), "bb".into()]);
    let out = embed_ok(&b, embedding("e", input)).await;
    assert_eq!(out.data.len(), 2);
    assert_eq!(out.data[1].index, 1);
    assert_eq!(out.usage.unwrap().prompt_tokens, 2);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v2/embed");
    assert_eq!(
        sent.body,
        json!({"model": "embed-english-v3.0", "texts": ["a", "bb"],
            "input_type": "search_document", "embedding_types": ["float"]})
    );
}

#[tokio::test]
async fn errors_map_by_status_and_never_carry_the_key() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere/command-r");
    fake.push(
        CohereScript::error(429, "You are using a Trial key").with_header("retry-after", "3"),
    );
    let e = chat_fails_as(&b, ErrorKind::RateLimited).await;
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(3)));

    fake.push(CohereScript::error(
        400,
        "too many tokens: total number of tokens in the prompt cannot exceed 4081",
    ));
    let mut req = chat("x");
    req.stream = Some(true);
    let e = stream_error(&b, req).await;
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    assert_eq!(e.status, Some(400));

    fake.push(CohereScript::error(
        401,
        &format!("invalid api token {KEY}"),
    ));
    let e = chat_fails_as(&b, ErrorKind::Authentication).await;
    assert!(!e.message.contains(KEY), "{}", e.message);

    fake.push(CohereScript::error(500, "internal"));
    let e = chat_fails_as(&b, ErrorKind::InternalServer).await;
    assert!(e.is_retryable());
}

#[tokio::test]
async fn unsupported_parameters_are_refused_before_sending_unless_dropped() {
    let fake = FakeCohere::start().await;
    let b = backend(&fake, "cohere/command-r");
    let mut req = chat("x");
    req.logit_bias = Some(JsonMap::new());
    let e = chat_error(&b, req.clone()).await;
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(e.param.as_deref(), Some("logit_bias"));
    assert!(fake.requests().is_empty());
    req.extra.insert("drop_params".into(), json!(true));
    chat_ok(&b, req).await;
    assert!(fake.requests()[0].body.get("logit_bias").is_none());
}
