//! The Bedrock backend (adapter + transport) against the in-process `FakeBedrock` upstream:
//! SigV4-signed Converse calls, the binary event stream decoded as it arrives with usage,
//! mid-stream exceptions, error statuses mapped by `x-amzn-errortype`, Titan and Cohere
//! embeddings, and the secrets never leaking into errors.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::json;

use litellm_core::{
    CallContext, ChatRequest, EmbeddingInput, EmbeddingRequest, EmbeddingVector, ErrorKind,
    JsonMap, Message, ModelBackend, StreamOptions,
};
use litellm_providers::{build_backend, ProviderParams};
use litellm_test_support::{BedrockFrame, BedrockScript, FakeBedrock};

const SECRET: &str = "http-test-secret-access-key";
const TOKEN: &str = "http-test-session-token";

fn backend(fake: &FakeBedrock, model: &str) -> Arc<dyn ModelBackend> {
    let params: ProviderParams = serde_json::from_value(json!({
        "model": model,
        "api_base": fake.base_url(),
        "aws_access_key_id": "AKIDHTTPTEST",
        "aws_secret_access_key": SECRET,
        "aws_session_token": TOKEN,
        "aws_region_name": "us-east-1",
    }))
    .unwrap();
    build_backend(&params).unwrap()
}

fn claude(fake: &FakeBedrock) -> Arc<dyn ModelBackend> {
    backend(fake, "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0")
}

fn chat(text: &str) -> ChatRequest {
    ChatRequest {
        model: "group".into(),
        messages: vec![Message::system("be kind"), Message::user(text)],
        ..Default::default()
    }
}

#[tokio::test]
async fn chat_is_signed_and_round_trips_through_converse() {
    let fake = FakeBedrock::start().await;
    let b = claude(&fake);
    assert_eq!(b.provider(), "bedrock");
    let out = b
        .chat(chat("hello"), &CallContext::default())
        .await
        .unwrap();
    let r = out.response;
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some(FakeBedrock::DEFAULT_REPLY)
    );
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
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
    let b = claude(&fake);
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
    assert_eq!(text, FakeBedrock::DEFAULT_REPLY);
    let finish: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.finish_reason.clone())
        .collect();
    assert_eq!(finish, vec!["stop".to_string()]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert!(last.usage.as_ref().unwrap().completion_tokens > 0);
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
    let out = claude(&fake)
        .chat_stream(req, &CallContext::default())
        .await
        .unwrap();
    let items: Vec<_> = out.stream.collect().await;
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
    let e = b
        .chat(chat("x"), &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.status, Some(429));

    fake.push(BedrockScript::error(
        400,
        "ValidationException",
        "Input is too long for requested model.",
    ));
    let mut req = chat("x");
    req.stream = Some(true);
    let e = b
        .chat_stream(req, &CallContext::default())
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);

    fake.push(BedrockScript::error(
        403,
        "UnrecognizedClientException",
        &format!("The security token {TOKEN} is invalid (secret {SECRET})"),
    ));
    let e = b
        .chat(chat("x"), &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(
        !e.message.contains(TOKEN) && !e.message.contains(SECRET),
        "{}",
        e.message
    );

    // A conversation Bedrock refuses (it must start with a user turn) comes back as a 400.
    let e = b
        .chat(
            ChatRequest {
                model: "g".into(),
                messages: vec![serde_json::from_value(
                    json!({"role": "assistant", "content": "hi"}),
                )
                .unwrap()],
                ..Default::default()
            },
            &CallContext::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("ValidationException"), "{}", e.message);
}

fn embedding(input: EmbeddingInput) -> EmbeddingRequest {
    EmbeddingRequest {
        model: "x".into(),
        input,
        encoding_format: None,
        dimensions: None,
        user: None,
        extra: JsonMap::new(),
    }
}

#[tokio::test]
async fn titan_embeds_one_request_per_input_and_cohere_in_one() {
    let fake = FakeBedrock::start().await;
    let titan = backend(&fake, "bedrock/amazon.titan-embed-text-v2:0");
    let out = titan
        .embed(
            embedding(EmbeddingInput::Texts(vec!["one".into(), "three".into()])),
            &CallContext::default(),
        )
        .await
        .unwrap();
    let r = out.response;
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].index, 1);
    assert!(matches!(&r.data[0].embedding, EmbeddingVector::Float(v) if v.len() == 8));
    assert_eq!(r.usage.unwrap().prompt_tokens, 1 + 2);
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.requests()[0].body, json!({"inputText": "one"}));

    let cohere = backend(&fake, "bedrock/cohere.embed-english-v3");
    let out = cohere
        .embed(
            embedding(EmbeddingInput::Texts(vec!["a".into(), "b".into()])),
            &CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.response.data.len(), 2);
    assert_eq!(out.response.usage.unwrap().prompt_tokens, 2);
    let sent = fake.requests().pop().unwrap();
    assert_eq!(sent.path, "/model/cohere.embed-english-v3/invoke");
    assert_eq!(
        sent.body,
        json!({"texts": ["a", "b"], "input_type": "search_document"})
    );

    let e = claude(&fake)
        .embed(
            embedding(EmbeddingInput::Text("a".into())),
            &CallContext::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
}
