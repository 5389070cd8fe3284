//! The Gemini and Vertex AI backends (adapter + transport) against the in-process `FakeGemini`
//! upstream: AI Studio chat, streams with usage, tools, embeddings and error mapping; Vertex AI
//! with a service-account token obtained from the fake token endpoint (JWT signature verified,
//! token cached), its stream and `:predict` embeddings; Claude on Vertex through `rawPredict`;
//! and credentials never leaking into URLs or errors.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::sync::Arc;

use serde_json::{json, Value};

use litellm_core::{EmbeddingInput, EmbeddingRequest, EmbeddingVector, ErrorKind, ModelBackend};
use litellm_test_support::fake_gemini::TEST_PUBLIC_KEY_PEM;
use litellm_test_support::{FakeGemini, GeminiScript};

use common::http::{
    assert_reply, assert_reply_stream, chat, chat_error, chat_fails_as, chat_ok, embed_error,
    embed_ok, request, stream_chunks, stream_error, stream_items, streaming, text_of,
};

const KEY: &str = "AIza-http-secret-key";

fn gemini(fake: &FakeGemini) -> Arc<dyn ModelBackend> {
    common::http::backend("gemini/gemini-2.0-flash", fake.base_url(), Some(KEY))
}

fn vertex(fake: &FakeGemini, model: &str) -> Arc<dyn ModelBackend> {
    common::http::backend_of(json!({
        "model": format!("vertex_ai/{model}"),
        "api_base": fake.base_url(),
        "vertex_location": "europe-west4",
        "vertex_credentials": fake.service_account_json(),
    }))
}

fn embedding(input: EmbeddingInput) -> EmbeddingRequest {
    EmbeddingRequest {
        dimensions: Some(4),
        ..common::http::embedding("e", input)
    }
}

#[tokio::test]
async fn ai_studio_chat_sends_the_key_in_a_header_and_maps_the_answer() {
    let fake = FakeGemini::start().await;
    let b = gemini(&fake);
    assert_eq!(b.provider(), "gemini");
    let r = chat_ok(&b, chat("hello")).await;
    assert_reply(&r, FakeGemini::DEFAULT_REPLY);
    assert_eq!(r.model, "gemini-2.0-flash");
    let usage = r.usage.unwrap();
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert!(!sent.path.contains(KEY));
    assert_eq!(
        sent.body["systemInstruction"],
        json!({"parts": [{"text": "be kind"}]})
    );
    assert_eq!(
        sent.body["contents"],
        json!([{"role": "user", "parts": [{"text": "hello"}]}])
    );
}

#[tokio::test]
async fn ai_studio_streams_text_finish_and_usage() {
    let fake = FakeGemini::start().await;
    let b = gemini(&fake);
    let chunks = stream_chunks(&b, streaming(chat("hello"))).await;
    assert_reply_stream(&chunks, FakeGemini::DEFAULT_REPLY);
    let usage = chunks.last().unwrap().usage.as_ref().unwrap();
    assert_eq!(usage.completion_tokens, 9);
    assert_eq!(
        fake.requests()[0].path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    );
}

#[tokio::test]
async fn tool_calls_round_trip_and_bad_finishes_are_not_silent() {
    let fake = FakeGemini::start().await;
    let b = gemini(&fake);
    fake.push(GeminiScript::Json(json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "lookup", "args": {"q": "rust"}}}
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 5, "totalTokenCount": 25}
    })));
    let req = request(json!({"model": "g", "messages": [
        {"role": "user", "content": "search rust"},
        {"role": "assistant", "tool_calls": [{"id": "call_0", "type": "function",
            "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "nothing"}
    ], "tools": [{"type": "function", "function": {"name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
       "tool_choice": "required"}));
    let r = chat_ok(&b, req).await;
    let choice = &r.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    let call = &choice.message.tool_calls.as_ref().unwrap()[0];
    assert!(call.id.starts_with("call_"));
    assert_eq!(call.function.arguments, "{\"q\":\"rust\"}");
    let sent = &fake.requests()[0].body;
    assert_eq!(
        sent["contents"][1],
        json!({"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "x"}}}]})
    );
    assert_eq!(
        sent["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "lookup",
            "response": {"content": "nothing"}}}]})
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY"}})
    );

    fake.push(GeminiScript::Json(json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
            "finishReason": "MALFORMED_FUNCTION_CALL", "index": 0}]
    })));
    let e = chat_fails_as(&b, ErrorKind::InternalServer).await;
    assert!(
        e.message.contains("MALFORMED_FUNCTION_CALL"),
        "{}",
        e.message
    );

    fake.push(GeminiScript::Json(json!({
        "candidates": [{"finishReason": "SAFETY", "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]}]
    })));
    let r = chat_ok(&b, chat("x")).await;
    assert_eq!(
        r.choices[0].finish_reason.as_deref(),
        Some("content_filter")
    );
    assert_eq!(r.choices[0].message.content, None);
}

#[tokio::test]
async fn errors_map_by_google_status_and_never_carry_the_key() {
    let fake = FakeGemini::start().await;
    let b = gemini(&fake);
    fake.push(
        GeminiScript::error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted")
            .with_header("retry-after", "3"),
    );
    let e = chat_fails_as(&b, ErrorKind::RateLimited).await;
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(3)));

    fake.push(GeminiScript::error(
        400,
        "INVALID_ARGUMENT",
        "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).",
    ));
    let e = stream_error(&b, streaming(chat("x"))).await;
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    assert_eq!(e.status, Some(400));

    fake.push(GeminiScript::error(
        503,
        "UNAVAILABLE",
        &format!("The model is overloaded (key {KEY})"),
    ));
    let e = chat_fails_as(&b, ErrorKind::ServiceUnavailable).await;
    assert!(!e.message.contains(KEY), "{}", e.message);

    // A mid-stream error event ends the stream with one error item.
    fake.push(GeminiScript::Events(vec![
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "index": 0}]}),
        json!({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}),
    ]));
    let items = stream_items(&b, streaming(chat("x"))).await;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].as_ref().unwrap_err().kind,
        ErrorKind::InternalServer
    );

    // No key at all: refused before any request, naming where the key is read from.
    let before = fake.requests().len();
    let keyless = common::http::backend("gemini/gemini-2.0-flash", fake.base_url(), None);
    if std::env::var("GEMINI_API_KEY").is_err() {
        let e = chat_error(&keyless, chat("x")).await;
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert_eq!(fake.requests().len(), before);
    }
}

#[tokio::test]
async fn ai_studio_embeddings_use_batch_embed_contents() {
    let fake = FakeGemini::start().await;
    let b = common::http::backend("gemini/text-embedding-004", fake.base_url(), Some(KEY));
    let out = embed_ok(
        &b,
        embedding(EmbeddingInput::Texts(vec!["a".into(), "bcde".into()])),
    )
    .await;
    assert_eq!(out.data.len(), 2);
    assert_eq!(out.data[1].index, 1);
    match &out.data[0].embedding {
        EmbeddingVector::Float(v) => assert_eq!(v.len(), 4),
        other => panic!("floats expected, got {other:?}"),
    }
    assert_eq!(out.usage.unwrap().prompt_tokens, 2);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.path,
        "/v1beta/models/text-embedding-004:batchEmbedContents"
    );
    assert_eq!(
        sent.body["requests"][0],
        json!({"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]},
            "outputDimensionality": 4})
    );
    let e = embed_error(&b, embedding(EmbeddingInput::Tokens(vec![1, 2]))).await;
    assert_eq!(e.kind, ErrorKind::BadRequest);
}

fn b64url(s: &str) -> Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn vertex_gets_a_signed_token_once_and_sends_it_as_bearer() {
    let fake = FakeGemini::start().await;
    let b = vertex(&fake, "gemini-2.0-flash");
    assert_eq!(b.provider(), "vertex_ai");
    for _ in 0..2 {
        let r = chat_ok(&b, chat("hello")).await;
        assert_eq!(
            r.choices[0].message.content.as_deref(),
            Some(FakeGemini::DEFAULT_REPLY)
        );
    }
    let tokens = fake.token_requests();
    assert_eq!(tokens.len(), 1, "the token is cached");
    let form = tokens[0].body.as_str().unwrap();
    assert!(form.starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
    ));
    let jwt = form.split("assertion=").nth(1).unwrap();
    // The signature verifies with the public half of the test key.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[fake.token_url()]);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY_PEM.as_bytes()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(
        claims["iss"],
        "litellm-test@fake-project.iam.gserviceaccount.com"
    );
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(b64url(jwt.split('.').next().unwrap())["kid"], "test-key-1");

    let models = fake.model_requests();
    assert_eq!(models.len(), 2);
    assert_eq!(
        models[0].path,
        "/v1/projects/fake-project/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"
    );
    let issued = fake.issued_tokens();
    assert_eq!(
        models[1].header("authorization"),
        Some(format!("Bearer {}", issued[0]).as_str())
    );
    assert!(models[0].header("x-goog-api-key").is_none());

    let chunks = stream_chunks(&b, streaming(chat("hi"))).await;
    assert_eq!(text_of(&chunks), FakeGemini::DEFAULT_REPLY);
    assert!(chunks.last().unwrap().usage.is_some());
    assert_eq!(fake.token_requests().len(), 1);
}

#[tokio::test]
async fn vertex_embeddings_use_predict_with_exact_token_counts() {
    let fake = FakeGemini::start().await;
    let b = vertex(&fake, "text-embedding-005");
    let out = embed_ok(&b, embedding(EmbeddingInput::Text("hello world!".into()))).await;
    assert_eq!(out.data.len(), 1);
    assert_eq!(out.usage.unwrap().prompt_tokens, 3);
    let sent = &fake.model_requests()[0];
    assert!(sent.path.ends_with("/models/text-embedding-005:predict"));
    assert_eq!(
        sent.body,
        json!({"instances": [{"content": "hello world!"}],
            "parameters": {"outputDimensionality": 4}})
    );
}

#[tokio::test]
async fn vertex_token_failures_and_missing_credentials_are_auth_errors() {
    let fake = FakeGemini::start().await;
    let b = vertex(&fake, "gemini-2.0-flash");
    fake.fail_token_requests(1);
    let e = chat_fails_as(&b, ErrorKind::Authentication).await;
    assert!(
        e.message.contains("Invalid JWT Signature."),
        "{}",
        e.message
    );
    assert!(!e.message.contains("PRIVATE KEY"), "{}", e.message);
    assert!(fake.model_requests().is_empty());
    // The next call gets a token.
    chat_ok(&b, chat("x")).await;

    if std::env::var("GOOGLE_APPLICATION_CREDENTIALS").is_err() {
        let b = common::http::backend_of(json!({
            "model": "vertex_ai/gemini-2.0-flash",
            "api_base": fake.base_url(),
            "vertex_project": "p",
        }));
        let e = chat_fails_as(&b, ErrorKind::Authentication).await;
        assert!(e.message.contains("vertex_credentials"), "{}", e.message);
    }
}

#[tokio::test]
async fn claude_on_vertex_uses_raw_predict_with_the_vertex_anthropic_body() {
    let fake = FakeGemini::start().await;
    let b = vertex(&fake, "claude-sonnet-4-5@20250929");
    let r = chat_ok(&b, chat("hello")).await;
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some(FakeGemini::DEFAULT_REPLY)
    );
    let sent = &fake.model_requests()[0];
    assert_eq!(
        sent.path,
        "/v1/projects/fake-project/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    );
    assert_eq!(sent.body["anthropic_version"], "vertex-2023-10-16");
    assert!(sent.body.get("model").is_none());
    assert_eq!(
        sent.body["system"],
        json!([{"type": "text", "text": "be kind"}])
    );
    assert!(sent
        .header("authorization")
        .unwrap()
        .starts_with("Bearer ya29."));

    let chunks = stream_chunks(&b, streaming(chat("hi"))).await;
    assert_eq!(text_of(&chunks), FakeGemini::DEFAULT_REPLY);
    assert!(fake.model_requests()[1].path.ends_with(":streamRawPredict"));
    assert_eq!(fake.model_requests()[1].body["stream"], true);

    fake.push(GeminiScript::error(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded",
    ));
    let e = chat_fails_as(&b, ErrorKind::RateLimited).await;
    assert_eq!(e.provider.as_deref(), Some("vertex_ai"));
}

/// A model name becomes a URL path segment for Gemini, Vertex AI and Azure, and with wildcard
/// groups (`gemini/*`) it comes from the client: anything that could leave the segment or add a
/// method is refused, naming the model; real model names pass.
#[test]
fn model_names_cannot_leave_their_path_segment() {
    let build = |v: Value| {
        let params: litellm_providers::ProviderParams = serde_json::from_value(v).unwrap();
        litellm_providers::build_backend(&params)
    };
    let vertex = |model: &str| json!({"model": model, "vertex_project": "p", "vertex_location": "us-central1"});
    for bad in [
        json!({"model": "gemini/../../v1/projects/other", "api_key": "k"}),
        json!({"model": "gemini/..", "api_key": "k"}),
        json!({"model": "gemini/m:streamGenerateContent", "api_key": "k"}),
        json!({"model": "gemini/m?key=x", "api_key": "k"}),
        vertex("vertex_ai/../../projects/OTHER/locations/x/publishers/google/models/m"),
        vertex("vertex_ai/m#frag"),
        json!({"model": "azure/..", "api_base": "https://r.openai.azure.com", "api_key": "k"}),
    ] {
        let err = match build(bad.clone()) {
            Ok(_) => panic!("built {bad}"),
            Err(e) => e,
        };
        assert_eq!(err.kind, ErrorKind::BadRequest, "{bad}");
        assert!(err.message.contains("model name"), "{bad}: {}", err.message);
    }
    for good in [
        json!({"model": "gemini/gemini-2.0-flash-001", "api_key": "k"}),
        vertex("vertex_ai/gemini-2.5-pro"),
        vertex("vertex_ai/claude-3-5-sonnet-v2@20241022"),
        json!({"model": "azure/my_deployment-1", "api_base": "https://r.openai.azure.com", "api_key": "k"}),
    ] {
        assert!(build(good.clone()).is_ok(), "{good}");
    }
}
