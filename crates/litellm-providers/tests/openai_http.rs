//! End-to-end tests of the OpenAI backend (adapter + transport) against the in-process
//! `FakeOpenAi` upstream: chat, streams, embeddings, error statuses, timeouts, cut streams,
//! connection failures and credential hygiene.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::json;

use litellm_core::{
    CallContext, ChatChunk, ChatRequest, EmbeddingInput, EmbeddingRequest, EmbeddingVector,
    ErrorKind, JsonMap, LlmError, Message, ModelBackend, StreamOptions,
};
use litellm_providers::{build_backend, ProviderParams};
use litellm_test_support::{FakeOpenAi, Scripted};

use common::http::{assert_opens_turn, chat_error, chat_ok, text_of};

fn params(fake: &FakeOpenAi) -> ProviderParams {
    ProviderParams {
        model: "openai/gpt-4o".into(),
        api_base: Some(fake.base_url()),
        api_key: Some(SecretString::from("sk-test")),
        ..Default::default()
    }
}

fn backend(fake: &FakeOpenAi) -> Arc<dyn ModelBackend> {
    build_backend(&params(fake)).unwrap()
}

fn chat(text: &str) -> ChatRequest {
    ChatRequest {
        model: "my-group".into(),
        messages: vec![Message::user(text)],
        ..Default::default()
    }
}

fn streaming(text: &str, include_usage: bool) -> ChatRequest {
    let mut req = chat(text);
    req.stream = Some(true);
    if include_usage {
        req.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            extra: JsonMap::new(),
        });
    }
    req
}

/// The kinds of call a test makes fail.
#[derive(Debug, Clone, Copy)]
enum Call {
    Chat,
    Stream,
    Embed,
}

/// The error `call` fails with (a stream: before it starts).
async fn call_error(b: &Arc<dyn ModelBackend>, call: Call, ctx: &CallContext) -> LlmError {
    match call {
        Call::Chat => b.chat(chat("x"), ctx).await.map(drop),
        Call::Stream => b.chat_stream(streaming("x", false), ctx).await.map(drop),
        Call::Embed => {
            let input = EmbeddingInput::Text("a".into());
            b.embed(embedding(input, None), ctx).await.map(drop)
        }
    }
    .expect_err("the call fails")
}

fn embedding(input: EmbeddingInput, format: Option<&str>) -> EmbeddingRequest {
    EmbeddingRequest {
        encoding_format: format.map(str::to_string),
        ..common::http::embedding("embed-group", input)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn collect(stream: litellm_core::ChunkStream) -> (Vec<ChatChunk>, Option<LlmError>, usize) {
    let items: Vec<Result<ChatChunk, LlmError>> = stream.collect().await;
    let total = items.len();
    let mut chunks = Vec::new();
    let mut error = None;
    for item in items {
        match item {
            Ok(c) => chunks.push(c),
            Err(e) => error = Some(e),
        }
    }
    (chunks, error, total)
}

#[tokio::test]
async fn chat_sends_openai_wire_format_and_returns_rate_limit_headers() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    assert_eq!(b.provider(), "openai");
    assert_eq!(b.api_base(), Some(fake.base_url().as_str()));
    let ctx = CallContext {
        timeout: Some(Duration::from_secs(30)),
        extra_headers: vec![("x-litellm-trace".into(), "t-1".into())],
    };
    let out = b.chat(chat("hello there"), &ctx).await.unwrap();
    assert_eq!(
        out.response.choices[0].message.content.as_deref(),
        Some(FakeOpenAi::DEFAULT_REPLY)
    );
    let usage = out.response.usage.unwrap();
    assert!(usage.prompt_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    assert_eq!(
        header(&out.upstream_headers, "x-ratelimit-limit-requests"),
        Some("10000")
    );
    assert!(header(&out.upstream_headers, "x-request-id").is_some());
    assert_eq!(header(&out.upstream_headers, "content-type"), None);
    assert_eq!(header(&out.upstream_headers, "content-length"), None);

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-litellm-trace"), Some("t-1"));
    assert_eq!(r.body["model"], "gpt-4o");
    assert_eq!(r.body["messages"][0]["content"], "hello there");
    assert!(r.body.get("stream").is_none());
}

#[tokio::test]
async fn deployment_defaults_fill_in_but_do_not_override_the_client() {
    let fake = FakeOpenAi::start().await;
    let mut p = params(&fake);
    p.extra.insert("temperature".into(), json!(0.1));
    p.extra.insert("max_tokens".into(), json!(64));
    p.extra.insert("input_cost_per_token".into(), json!(0.5));
    let b = build_backend(&p).unwrap();
    let mut req = chat("x");
    req.temperature = Some(0.7);
    chat_ok(&b, req).await;
    let body = &fake.requests()[0].body;
    assert_eq!(body["temperature"], json!(0.7));
    assert_eq!(body["max_tokens"], json!(64));
    assert!(body.get("input_cost_per_token").is_none());
}

#[tokio::test]
async fn streams_decode_chunk_by_chunk_with_a_final_usage_chunk() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    let out = b
        .chat_stream(streaming("hi", true), &CallContext::default())
        .await
        .unwrap();
    assert!(header(&out.upstream_headers, "x-ratelimit-remaining-requests").is_some());
    let (chunks, error, _) = collect(out.stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text_of(&chunks), FakeOpenAi::DEFAULT_REPLY);
    assert_opens_turn(&chunks);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let usage = last.usage.as_ref().unwrap();
    assert!(usage.completion_tokens > 0);
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c.usage.is_none()));

    let body = &fake.requests()[0].body;
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"]["include_usage"], json!(true));
}

#[tokio::test]
async fn chunks_are_delivered_before_the_upstream_finishes() {
    let fake = FakeOpenAi::start().await;
    // The upstream sends two chunks, then stalls for an hour: the two must arrive now.
    fake.push(Scripted::stall(2, Duration::from_secs(3600)));
    let b = backend(&fake);
    let out = b
        .chat_stream(streaming("hi", false), &CallContext::default())
        .await
        .unwrap();
    let mut stream = out.stream;
    // The guard only turns a hang into a failure; a buffering implementation never gets here.
    let first_two = tokio::time::timeout(Duration::from_secs(60), async {
        let a = stream.next().await;
        let b = stream.next().await;
        (a, b)
    })
    .await
    .expect("chunks must be forwarded as they arrive, not buffered");
    assert_eq!(
        first_two.0.unwrap().unwrap().choices[0]
            .delta
            .role
            .as_deref(),
        Some("assistant")
    );
    assert!(first_two.1.unwrap().is_ok());
}

#[tokio::test]
async fn a_cut_stream_ends_with_a_connection_error() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamCut { after_chunks: 2 });
    let b = backend(&fake);
    let out = b
        .chat_stream(streaming("hi", false), &CallContext::default())
        .await
        .unwrap();
    let (chunks, error, total) = collect(out.stream).await;
    assert_eq!(chunks.len(), 2);
    assert_eq!(total, 3, "the error is the last item");
    let error = error.unwrap();
    assert_eq!(error.kind, ErrorKind::ApiConnection);
    assert_eq!(error.provider.as_deref(), Some("openai"));
}

#[tokio::test]
async fn an_error_event_mid_stream_is_an_error_item() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamError {
        after_chunks: 1,
        error: json!({"message": "rate limited mid-stream", "type": "rate_limit_error"}),
    });
    let b = backend(&fake);
    let out = b
        .chat_stream(streaming("hi", false), &CallContext::default())
        .await
        .unwrap();
    let (chunks, error, _) = collect(out.stream).await;
    assert_eq!(chunks.len(), 1);
    let error = error.unwrap();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.message, "rate limited mid-stream");
}

#[tokio::test]
async fn raw_sse_framing_survives_the_network() {
    let fake = FakeOpenAi::start().await;
    let chunk = |content: &str, finish: &str| {
        format!(
            "{{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":{finish}}}]}}"
        )
    };
    let a = format!("data: {}\r\n\r\n", chunk("Hel", "null"));
    let b2 = format!("data: {}\r\n\r\n", chunk("lo", "\"stop\""));
    // Events split mid-line and mid-CRLF, with a comment, across separate writes.
    let (a1, a2) = a.split_at(a.len() - 1);
    let pieces = vec![
        ": comment\r\n\r\n".to_string(),
        a1.to_string(),
        a2.to_string(),
        b2[..10].to_string(),
        b2[10..].to_string(),
        "data: [DO".to_string(),
        "NE]\r\n\r\n".to_string(),
    ];
    fake.push(Scripted::StreamRaw(pieces));
    let out = backend(&fake)
        .chat_stream(streaming("hi", false), &CallContext::default())
        .await
        .unwrap();
    let (chunks, error, _) = collect(out.stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text_of(&chunks), "Hello");
}

#[tokio::test]
async fn embeddings_in_float_and_base64_agree() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    let ctx = CallContext::default();
    let floats = b
        .embed(
            embedding(EmbeddingInput::Texts(vec!["a".into(), "b".into()]), None),
            &ctx,
        )
        .await
        .unwrap();
    assert_eq!(floats.response.data.len(), 2);
    let EmbeddingVector::Float(v) = &floats.response.data[0].embedding else {
        panic!("expected floats");
    };
    let b64 = b
        .embed(
            embedding(
                EmbeddingInput::Texts(vec!["a".into(), "b".into()]),
                Some("base64"),
            ),
            &ctx,
        )
        .await
        .unwrap();
    let EmbeddingVector::Base64(s) = &b64.response.data[0].embedding else {
        panic!("expected base64");
    };
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
    let decoded: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(&decoded, v);
    let reqs = fake.requests();
    assert_eq!(reqs[1].path, "/v1/embeddings");
    assert_eq!(reqs[1].body["encoding_format"], "base64");
    assert_eq!(reqs[1].body["model"], "gpt-4o");
}

#[tokio::test]
async fn error_statuses_map_to_kinds_with_retry_after() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    let ctx = CallContext::default();
    fake.push(
        Scripted::error(
            429,
            "Rate limit reached",
            "requests",
            Some("rate_limit_exceeded"),
        )
        .with_header("retry-after", "2"),
    );
    let e = call_error(&b, Call::Chat, &ctx).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(e.message, "Rate limit reached");
    assert_eq!(e.provider.as_deref(), Some("openai"));

    for (status, kind) in [
        (401, ErrorKind::Authentication),
        (404, ErrorKind::NotFound),
        (500, ErrorKind::InternalServer),
        (503, ErrorKind::ServiceUnavailable),
    ] {
        fake.push(Scripted::error(status, "nope", "error", None));
        let e = call_error(&b, Call::Chat, &ctx).await;
        assert_eq!((e.kind, e.status), (kind, Some(status)));
    }

    // A stream refused before it starts fails the call itself.
    fake.push(Scripted::error(
        400,
        "This model's maximum context length is 10 tokens.",
        "invalid_request_error",
        Some("context_length_exceeded"),
    ));
    let e = call_error(&b, Call::Stream, &ctx).await;
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);

    fake.push(Scripted::error(500, "boom", "server_error", None));
    let e = call_error(&b, Call::Embed, &ctx).await;
    assert_eq!(e.kind, ErrorKind::InternalServer);
}

#[tokio::test]
async fn the_call_timeout_applies_to_chat_streams_and_embeddings() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    let ctx = CallContext {
        timeout: Some(Duration::from_millis(200)),
        extra_headers: Vec::new(),
    };
    for call in [Call::Chat, Call::Stream, Call::Embed] {
        fake.push(Scripted::delay(Duration::from_secs(30)));
        let e = call_error(&b, call, &ctx).await;
        assert_eq!(e.kind, ErrorKind::Timeout, "{call:?}");
    }
}

#[tokio::test]
async fn the_stream_timeout_does_not_cut_a_long_stream_after_its_head() {
    let fake = FakeOpenAi::start().await;
    // The body pauses longer than the call timeout after the head has arrived.
    fake.push(Scripted::stall(1, Duration::from_millis(400)));
    let ctx = CallContext {
        timeout: Some(Duration::from_millis(200)),
        extra_headers: Vec::new(),
    };
    let out = backend(&fake)
        .chat_stream(streaming("x", false), &ctx)
        .await
        .unwrap();
    let (chunks, error, _) = collect(out.stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text_of(&chunks), FakeOpenAi::DEFAULT_REPLY);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_connection_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let api_base = format!("http://127.0.0.1:{port}/v1");
    let b = common::http::backend("openai/gpt-4o", api_base, Some("sk-test"));
    let e = chat_error(&b, chat("x")).await;
    assert_eq!(e.kind, ErrorKind::ApiConnection);
    assert!(!e.message.contains("sk-test"));
    assert!(
        !e.message.contains(&port.to_string()),
        "no URL in: {}",
        e.message
    );
}

#[tokio::test]
async fn the_key_never_leaks_into_errors_or_debug() {
    let fake = FakeOpenAi::start().await;
    let mut p = params(&fake);
    p.api_key = Some(SecretString::from("sk-very-secret-123"));
    let b = build_backend(&p).unwrap();
    fake.push(Scripted::error(
        401,
        "Incorrect API key provided: sk-very-secret-123.",
        "invalid_request_error",
        Some("invalid_api_key"),
    ));
    let e = chat_error(&b, chat("x")).await;
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(!e.message.contains("sk-very-secret-123"), "{}", e.message);
    assert!(!format!("{e:?}").contains("sk-very-secret-123"));
    assert!(!format!("{p:?}").contains("sk-very-secret-123"));
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer sk-very-secret-123")
    );
}

#[tokio::test]
async fn a_request_level_mock_response_never_reaches_the_upstream() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    let mut req = chat("x");
    req.extra.insert("mock_response".into(), json!("mocked!"));
    let r = chat_ok(&b, req.clone()).await;
    assert_eq!(r.choices[0].message.content.as_deref(), Some("mocked!"));
    req.stream = Some(true);
    let out = b.chat_stream(req, &CallContext::default()).await.unwrap();
    let (chunks, _, _) = collect(out.stream).await;
    assert_eq!(text_of(&chunks), "mocked!");
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn concurrent_calls_share_the_pool() {
    let fake = FakeOpenAi::start().await;
    let b = backend(&fake);
    let calls = (0..16).map(|i| {
        let b = b.clone();
        async move {
            b.chat(chat(&format!("q{i}")), &CallContext::default())
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fake.request_count(), 16);
}

/// A redirect is the upstream's answer: the key never goes to the host it names.
#[tokio::test]
async fn redirects_are_not_followed() {
    let fake = FakeOpenAi::start().await;
    let elsewhere = FakeOpenAi::start().await;
    fake.push(Scripted::Status {
        status: 302,
        body: json!({}),
        headers: vec![(
            "location".into(),
            format!("{}/chat/completions", elsewhere.base_url()),
        )],
    });
    let e = chat_error(&backend(&fake), chat("hi")).await;
    assert_eq!(e.status, Some(302), "{e:?}");
    assert_eq!(fake.request_count(), 1);
    assert_eq!(elsewhere.request_count(), 0, "the redirect was followed");
    assert!(!e.message.contains("sk-test"), "{}", e.message);
}
