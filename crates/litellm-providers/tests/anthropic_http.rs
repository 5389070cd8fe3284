//! The Anthropic backend (adapter + transport) against the in-process `FakeAnthropic` upstream:
//! chat, streams with usage, error statuses mapped by Anthropic's error type, embeddings
//! refused, and the key never leaking into errors.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::sync::Arc;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::json;

use litellm_core::{
    CallContext, ChatRequest, EmbeddingInput, EmbeddingRequest, ErrorKind, JsonMap, Message,
    ModelBackend, StreamOptions,
};
use litellm_providers::{build_backend, ProviderParams};
use litellm_test_support::{AnthropicScript, FakeAnthropic};

fn backend(fake: &FakeAnthropic) -> Arc<dyn ModelBackend> {
    build_backend(&ProviderParams {
        model: "anthropic/claude-sonnet-4-5".into(),
        api_base: Some(fake.base_url()),
        api_key: Some(SecretString::from("sk-ant-http-secret")),
        ..Default::default()
    })
    .unwrap()
}

fn chat(text: &str) -> ChatRequest {
    ChatRequest {
        model: "group".into(),
        messages: vec![Message::system("be kind"), Message::user(text)],
        ..Default::default()
    }
}

#[tokio::test]
async fn chat_round_trips_through_the_messages_api() {
    let fake = FakeAnthropic::start().await;
    let b = backend(&fake);
    assert_eq!(b.provider(), "anthropic");
    let out = b
        .chat(chat("hello"), &CallContext::default())
        .await
        .unwrap();
    let r = out.response;
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some(FakeAnthropic::DEFAULT_REPLY)
    );
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
    let usage = r.usage.unwrap();
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-http-secret"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.body["model"], "claude-sonnet-4-5");
    assert_eq!(
        sent.body["system"],
        json!([{"type": "text", "text": "be kind"}])
    );
    assert_eq!(sent.body["max_tokens"], 4096);
}

#[tokio::test]
async fn a_stream_yields_text_finish_and_usage_chunks() {
    let fake = FakeAnthropic::start().await;
    let b = backend(&fake);
    let mut req = chat("hello");
    req.stream = Some(true);
    req.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        extra: JsonMap::new(),
    });
    let out = b.chat_stream(req, &CallContext::default()).await.unwrap();
    let chunks: Vec<_> = out.stream.collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(text, FakeAnthropic::DEFAULT_REPLY);
    let finish: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.finish_reason.clone())
        .collect();
    assert_eq!(finish, vec!["stop".to_string()]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert!(last.usage.as_ref().unwrap().completion_tokens > 0);
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
    let e = b
        .chat(chat("x"), &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable);
    assert_eq!(e.status, Some(529));
    assert_eq!(e.message, "Overloaded");

    fake.push(
        AnthropicScript::error(429, "rate_limit_error", "slow down")
            .with_header("retry-after", "3"),
    );
    let mut req = chat("x");
    req.stream = Some(true);
    let e = b
        .chat_stream(req, &CallContext::default())
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(3)));

    fake.push(AnthropicScript::error(
        401,
        "authentication_error",
        "invalid x-api-key: sk-ant-http-secret",
    ));
    let e = b
        .chat(chat("x"), &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(!e.message.contains("sk-ant-http-secret"), "{}", e.message);
}

#[tokio::test]
async fn embeddings_are_refused_with_a_clear_error() {
    let fake = FakeAnthropic::start().await;
    let e = backend(&fake)
        .embed(
            EmbeddingRequest {
                model: "x".into(),
                input: EmbeddingInput::Text("a".into()),
                encoding_format: None,
                dimensions: None,
                user: None,
                extra: JsonMap::new(),
            },
            &CallContext::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("embeddings"), "{}", e.message);
    assert!(fake.requests().is_empty());
}
