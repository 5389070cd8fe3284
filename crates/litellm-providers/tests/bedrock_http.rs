//! The Bedrock backend (adapter + transport) against the in-process `FakeBedrock` upstream:
//! SigV4-signed Converse calls, the binary event stream decoded as it arrives with usage,
//! mid-stream exceptions, error statuses mapped by `x-amzn-errortype`, Titan and Cohere
//! embeddings, and the secrets never leaking into errors.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::sync::Arc;

use serde_json::json;

use litellm_core::{EmbeddingInput, EmbeddingVector, ErrorKind, ModelBackend};
use litellm_test_support::{BedrockFrame, BedrockScript, FakeBedrock};

use common::http::{
    assert_reply, assert_reply_stream, chat, chat_error, chat_fails_as, chat_ok, embed_error,
    embed_ok, embedding, request, stream_chunks, stream_error, stream_items, streaming,
};

const SECRET: &str = "http-test-secret-access-key";
const TOKEN: &str = "http-test-session-token";

fn backend(fake: &FakeBedrock, model: &str) -> Arc<dyn ModelBackend> {
    common::http::backend_of(json!({
        "model": model,
        "api_base": fake.base_url(),
        "aws_access_key_id": "AKIDHTTPTEST",
        "aws_secret_access_key": SECRET,
        "aws_session_token": TOKEN,
        "aws_region_name": "us-east-1",
    }))
}

fn claude(fake: &FakeBedrock) -> Arc<dyn ModelBackend> {
    backend(fake, "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0")
}

#[tokio::test]
async fn chat_is_signed_and_round_trips_through_converse() {
    let fake = FakeBedrock::start().await;
    let b = claude(&fake);
    assert_eq!(b.provider(), "bedrock");
    let r = chat_ok(&b, chat("hello")).await;
    assert_reply(&r, FakeBedrock::DEFAULT_REPLY);
    let usage = r.usage.unwrap();
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    let auth = sent.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDHTTPTEST/"),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
    assert!(auth.contains("x-amz-security-token"), "{auth}");
    assert_eq!(sent.header("x-amz-security-token"), Some(TOKEN));
    assert!(sent.header("x-amz-date").is_some());
    assert_eq!(sent.body["system"], json!([{"text": "be kind"}]));
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": [{"text": "hello"}]}])
    );
}

#[tokio::test]
async fn a_stream_yields_text_finish_and_usage_chunks() {
    let fake = FakeBedrock::start().await;
    let chunks = stream_chunks(&claude(&fake), streaming(chat("hello"))).await;
    assert_reply_stream(&chunks, FakeBedrock::DEFAULT_REPLY);
    assert!(fake.requests()[0].path.ends_with("/converse-stream"));
}

#[tokio::test]
async fn a_mid_stream_exception_ends_the_stream_with_its_error() {
    let fake = FakeBedrock::start().await;
    fake.push(BedrockScript::Frames(vec![
        BedrockFrame::event("messageStart", json!({"role": "assistant"})),
        BedrockFrame::event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}}),
        ),
        BedrockFrame::exception("throttlingException", "Too many tokens"),
    ]));
    let mut req = chat("x");
    req.stream = Some(true);
    let items = stream_items(&claude(&fake), req).await;
    assert_eq!(items.len(), 3);
    let e = items[2].as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(e.message.contains("Too many tokens"), "{}", e.message);
}

#[tokio::test]
async fn errors_map_by_type_and_never_carry_secrets() {
    let fake = FakeBedrock::start().await;
    let b = claude(&fake);
    fake.push(BedrockScript::error(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
    ));
    let e = chat_fails_as(&b, ErrorKind::RateLimited).await;
    assert_eq!(e.status, Some(429));

    fake.push(BedrockScript::error(
        400,
        "ValidationException",
        "Input is too long for requested model.",
    ));
    let mut req = chat("x");
    req.stream = Some(true);
    let e = stream_error(&b, req).await;
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);

    fake.push(BedrockScript::error(
        403,
        "UnrecognizedClientException",
        &format!("The security token {TOKEN} is invalid (secret {SECRET})"),
    ));
    let e = chat_fails_as(&b, ErrorKind::Authentication).await;
    assert!(
        !e.message.contains(TOKEN) && !e.message.contains(SECRET),
        "{}",
        e.message
    );

    // A conversation Bedrock refuses (it must start with a user turn) comes back as a 400.
    let req = request(json!({"model": "g", "messages": [{"role": "assistant", "content": "hi"}]}));
    let e = chat_error(&b, req).await;
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("ValidationException"), "{}", e.message);
}

#[tokio::test]
async fn titan_embeds_one_request_per_input_and_cohere_in_one() {
    let fake = FakeBedrock::start().await;
    let titan = backend(&fake, "bedrock/amazon.titan-embed-text-v2:0");
    let input = EmbeddingInput::Texts(vec!["one".into(), "three".into()]);
    let r = embed_ok(&titan, embedding("x", input)).await;
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].index, 1);
    assert!(matches!(&r.data[0].embedding, EmbeddingVector::Float(v) if v.len() == 8));
    assert_eq!(r.usage.unwrap().prompt_tokens, 1 + 2);
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.requests()[0].body, json!({"inputText": "one"}));

    let cohere = backend(&fake, "bedrock/cohere.embed-english-v3");
    let input = EmbeddingInput::Texts(vec!["a".into(), "b".into()]);
    let r = embed_ok(&cohere, embedding("x", input)).await;
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.usage.unwrap().prompt_tokens, 2);
    let sent = fake.requests().pop().unwrap();
    assert_eq!(sent.path, "/model/cohere.embed-english-v3/invoke");
    assert_eq!(
        sent.body,
        json!({"texts": ["a", "b"], "input_type": "search_document"})
    );

    let e = embed_error(
        &claude(&fake),
        embedding("x", EmbeddingInput::Text("a".into())),
    )
    .await;
    assert_eq!(e.kind, ErrorKind::BadRequest);
}

/// Claude without `max_tokens` gets its maximum output from the price table (LiteLLM's
/// cost-map default), through a regional inference profile too; other models get Bedrock's
/// own default (no `maxTokens`); a request's own limit always wins.
#[tokio::test]
async fn claude_without_max_tokens_gets_its_maximum_output() {
    let fake = FakeBedrock::start().await;
    for (model, expected) in [
        (
            "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0",
            json!(64000),
        ),
        (
            "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
            json!(4096),
        ),
        ("bedrock/amazon.nova-pro-v1:0", serde_json::Value::Null),
    ] {
        chat_ok(&backend(&fake, model), chat("hello")).await;
        let sent = fake.requests().pop().unwrap();
        assert_eq!(
            sent.body
                .pointer("/inferenceConfig/maxTokens")
                .cloned()
                .unwrap_or_default(),
            expected,
            "{model}: {}",
            sent.body
        );
    }
    let mut limited = chat("hello");
    limited.max_tokens = Some(100);
    chat_ok(
        &backend(&fake, "bedrock/anthropic.claude-sonnet-4-20250514-v1:0"),
        limited,
    )
    .await;
    let sent = fake.requests().pop().unwrap();
    assert_eq!(sent.body["inferenceConfig"]["maxTokens"], 100);
}
