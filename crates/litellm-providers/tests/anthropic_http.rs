//! The Anthropic backend (adapter + transport) against the in-process `FakeAnthropic` upstream:
//! chat, streams with usage, error statuses mapped by Anthropic's error type, embeddings
//! refused, and the key never leaking into errors.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::sync::Arc;

use serde_json::json;

use litellm_core::{EmbeddingInput, ErrorKind, ModelBackend};
use litellm_test_support::{AnthropicScript, FakeAnthropic};

use common::http::{
    assert_reply, assert_reply_stream, assert_usage_adds_up, chat, chat_fails_as, chat_ok,
    embed_error, embedding, stream_chunks, stream_error, streaming,
};

fn backend(fake: &FakeAnthropic) -> Arc<dyn ModelBackend> {
    common::http::backend(
        "anthropic/claude-sonnet-4-5",
        fake.base_url(),
        Some("sk-ant-http-secret"),
    )
}

#[tokio::test]
async fn chat_round_trips_through_the_messages_api() {
    let fake = FakeAnthropic::start().await;
    let b = backend(&fake);
    assert_eq!(b.provider(), "anthropic");
    let r = chat_ok(&b, chat("hello")).await;
    assert_reply(&r, FakeAnthropic::DEFAULT_REPLY);
    assert_usage_adds_up(&r);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-http-secret"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.body["model"], "claude-sonnet-4-5");
    assert_eq!(
        sent.body["system"],
        json!([{"type": "text", "text": "be kind"}])
    );
    // No max_tokens in the request: the model's maximum output from the price table (as
    // LiteLLM sends from its cost map); an unknown model gets 4096 (the adapter's unit tests).
    assert_eq!(sent.body["max_tokens"], 64000);
}

#[tokio::test]
async fn a_stream_yields_text_finish_and_usage_chunks() {
    let fake = FakeAnthropic::start().await;
    let chunks = stream_chunks(&backend(&fake), streaming(chat("hello"))).await;
    assert_reply_stream(&chunks, FakeAnthropic::DEFAULT_REPLY);
    assert_eq!(fake.requests()[0].body["stream"], true);
}

#[tokio::test]
async fn errors_map_by_type_and_never_carry_the_key() {
    let fake = FakeAnthropic::start().await;
    let b = backend(&fake);
    fake.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    let e = chat_fails_as(&b, ErrorKind::ServiceUnavailable).await;
    assert_eq!(e.status, Some(529));
    assert_eq!(e.message, "Overloaded");

    fake.push(
        AnthropicScript::error(429, "rate_limit_error", "slow down")
            .with_header("retry-after", "3"),
    );
    let mut req = chat("x");
    req.stream = Some(true);
    let e = stream_error(&b, req).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(3)));

    fake.push(AnthropicScript::error(
        401,
        "authentication_error",
        "invalid x-api-key: sk-ant-http-secret",
    ));
    let e = chat_fails_as(&b, ErrorKind::Authentication).await;
    assert!(!e.message.contains("sk-ant-http-secret"), "{}", e.message);
}

#[tokio::test]
async fn embeddings_are_refused_with_a_clear_error() {
    let fake = FakeAnthropic::start().await;
    let e = embed_error(
        &backend(&fake),
        embedding("x", EmbeddingInput::Text("a".into())),
    )
    .await;
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("embeddings"), "{}", e.message);
    assert!(fake.requests().is_empty());
}
