//! Tests of the built-in mock provider through `build_backend`: fixed answers, echo, streams,
//! simulated errors and embeddings.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::sync::Arc;

use futures::StreamExt;

use litellm_core::{
    CallContext, ChatChunk, ChatRequest, EmbeddingInput, EmbeddingRequest, EmbeddingVector,
    ErrorKind, JsonMap, Message, ModelBackend, StreamOptions,
};
use litellm_providers::{build_backend, ProviderParams};

fn mock(model: &str, response: Option<&str>) -> Arc<dyn ModelBackend> {
    build_backend(&ProviderParams {
        model: model.into(),
        mock_response: response.map(str::to_string),
        ..Default::default()
    })
    .unwrap()
}

fn chat(text: &str) -> ChatRequest {
    ChatRequest {
        model: "group".into(),
        messages: vec![Message::system("be brief"), Message::user(text)],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_fixed_mock_response_is_answered_with_consistent_usage() {
    let b = mock("mock/gpt-4o", Some("Hello from the mock"));
    assert_eq!(b.provider(), "mock");
    let out = b.chat(chat("hi"), &CallContext::default()).await.unwrap();
    let r = out.response;
    assert!(r.id.starts_with("chatcmpl-"));
    assert_eq!(r.model, "gpt-4o");
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some("Hello from the mock")
    );
    assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
    let u = r.usage.unwrap();
    // 3 + (4 + ⌈8/4⌉) + (4 + ⌈2/4⌉) prompt tokens; ⌈19/4⌉ completion tokens.
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (14, 5, 19)
    );
}

#[tokio::test]
async fn without_a_mock_response_the_last_user_message_is_echoed() {
    let b = mock("mock/echo", None);
    let out = b
        .chat(chat("what is 2+2?"), &CallContext::default())
        .await
        .unwrap();
    assert_eq!(
        out.response.choices[0].message.content.as_deref(),
        Some("This is a mock response to: what is 2+2?")
    );
}

#[tokio::test]
async fn mock_streams_are_words_with_role_first_stop_last_and_usage_when_asked() {
    let b = mock("mock/gpt-4o", Some("one two  three"));
    let mut req = chat("hi");
    req.stream = Some(true);
    req.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        extra: JsonMap::new(),
    });
    let out = b
        .chat_stream(req.clone(), &CallContext::default())
        .await
        .unwrap();
    let chunks: Vec<ChatChunk> = out.stream.map(Result::unwrap).collect().await;
    assert_eq!(chunks.len(), 4);
    let contents: Vec<&str> = chunks[..3]
        .iter()
        .map(|c| c.choices[0].delta.content.as_deref().unwrap())
        .collect();
    assert_eq!(contents, vec!["one", " two", "  three"]);
    assert_eq!(
        chunks[0].choices[0].delta.role.as_deref(),
        Some("assistant")
    );
    assert!(chunks[1].choices[0].delta.role.is_none());
    assert_eq!(chunks[2].choices[0].finish_reason.as_deref(), Some("stop"));
    assert!(chunks[3].choices.is_empty());
    assert_eq!(chunks[3].usage.as_ref().unwrap().completion_tokens, 4);
    assert!(chunks.iter().all(|c| c.id == chunks[0].id));

    req.stream_options = None;
    let out = b.chat_stream(req, &CallContext::default()).await.unwrap();
    let chunks: Vec<ChatChunk> = out.stream.map(Result::unwrap).collect().await;
    assert_eq!(chunks.len(), 3);
    assert!(chunks.iter().all(|c| c.usage.is_none()));
}

#[tokio::test]
async fn litellm_error_names_raise_that_error_on_any_provider() {
    for (name, kind, status) in [
        ("litellm.RateLimitError", ErrorKind::RateLimited, 429),
        (
            "litellm.AuthenticationError",
            ErrorKind::Authentication,
            401,
        ),
        ("litellm.Timeout", ErrorKind::Timeout, 408),
        (
            "litellm.InternalServerError",
            ErrorKind::InternalServer,
            500,
        ),
        (
            "litellm.ContextWindowExceededError",
            ErrorKind::ContextWindowExceeded,
            400,
        ),
        (
            "litellm.ContentPolicyViolationError",
            ErrorKind::ContentPolicyViolation,
            400,
        ),
        (
            "litellm.ServiceUnavailableError",
            ErrorKind::ServiceUnavailable,
            503,
        ),
        ("litellm.BadRequestError", ErrorKind::BadRequest, 400),
        ("litellm.NotFoundError", ErrorKind::NotFound, 404),
    ] {
        let b = mock("openai/gpt-4o", Some(name));
        assert_eq!(b.provider(), "openai");
        let e = b
            .chat(chat("x"), &CallContext::default())
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.status), (kind, Some(status)), "{name}");
        assert_eq!(e.provider.as_deref(), Some("openai"));
        let e = b
            .chat_stream(chat("x"), &CallContext::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind, kind, "{name} (stream)");
    }
}

fn embed_req(input: EmbeddingInput, format: Option<&str>, dims: Option<u32>) -> EmbeddingRequest {
    EmbeddingRequest {
        model: "e".into(),
        input,
        encoding_format: format.map(str::to_string),
        dimensions: dims,
        user: None,
        extra: JsonMap::new(),
    }
}

#[tokio::test]
async fn mock_embeddings_are_deterministic_and_honour_dimensions_and_format() {
    let b = mock("mock/text-embedding", None);
    let ctx = CallContext::default();
    let texts = EmbeddingInput::Texts(vec!["a".into(), "b".into(), "a".into()]);
    let out = b
        .embed(embed_req(texts.clone(), None, None), &ctx)
        .await
        .unwrap();
    let vecs: Vec<Vec<f32>> = out
        .response
        .data
        .iter()
        .map(|d| match &d.embedding {
            EmbeddingVector::Float(v) => v.clone(),
            EmbeddingVector::Base64(_) => panic!("floats expected"),
        })
        .collect();
    assert_eq!(vecs.len(), 3);
    assert_eq!(vecs[0].len(), 16);
    assert_eq!(vecs[0], vecs[2]);
    assert_ne!(vecs[0], vecs[1]);
    assert_eq!(out.response.usage.unwrap().prompt_tokens, 3);

    let out = b
        .embed(embed_req(texts.clone(), None, Some(4)), &ctx)
        .await
        .unwrap();
    let EmbeddingVector::Float(v) = &out.response.data[0].embedding else {
        panic!("floats expected");
    };
    assert_eq!(v.len(), 4);

    let out = b
        .embed(embed_req(texts.clone(), Some("base64"), None), &ctx)
        .await
        .unwrap();
    assert_eq!(
        out.response.data[0].embedding,
        EmbeddingVector::Float(vecs[0].clone()).into_base64()
    );

    let e = b
        .embed(embed_req(texts, Some("int8"), None), &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(e.param.as_deref(), Some("encoding_format"));
}
