//! Unit tests of the OpenAI adapter.

use std::collections::VecDeque;

use http::header::HeaderMap;
use secrecy::SecretString;

use litellm_core::{ChatChunk, ChatRequest, EmbeddingRequest, ErrorKind, LlmError};

use super::*;
use crate::params::ProviderParams;

#[test]
fn internal_params_are_recognised() {
    for key in [
        "rpm",
        "input_cost_per_token",
        "output_cost_per_token_batches",
        "cache_read_input_token_cost",
        "litellm_credential_name",
        "use_in_pass_through",
        "merge_reasoning_content_in_choices",
        "configurable_clientside_auth_params",
        "mock_delay",
        "aws_region_name",
        "metadata",
        "model_info",
    ] {
        assert!(is_internal_param(key), "{key} should be internal");
    }
    for key in [
        "temperature",
        "max_tokens",
        "top_k",
        "seed",
        "user",
        "reasoning_effort",
    ] {
        assert!(!is_internal_param(key), "{key} should be forwarded");
    }
}

#[test]
fn error_kinds_follow_status_and_code() {
    let h = HeaderMap::new();
    let cases: &[(u16, &str, ErrorKind)] = &[
        (
            400,
            r#"{"error":{"message":"bad","code":null}}"#,
            ErrorKind::BadRequest,
        ),
        (
            400,
            r#"{"error":{"message":"x","code":"context_length_exceeded"}}"#,
            ErrorKind::ContextWindowExceeded,
        ),
        (
            400,
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens"}}"#,
            ErrorKind::ContextWindowExceeded,
        ),
        (
            400,
            r#"{"error":{"message":"no","code":"content_policy_violation"}}"#,
            ErrorKind::ContentPolicyViolation,
        ),
        (
            400,
            r#"{"error":{"message":"no","code":"content_filter"}}"#,
            ErrorKind::ContentPolicyViolation,
        ),
        (401, "{}", ErrorKind::Authentication),
        (403, "", ErrorKind::PermissionDenied),
        (404, "", ErrorKind::NotFound),
        (408, "", ErrorKind::Timeout),
        (409, "", ErrorKind::ServiceUnavailable),
        (413, "", ErrorKind::BadRequest),
        (422, "", ErrorKind::BadRequest),
        (
            429,
            r#"{"error":{"message":"quota","code":"insufficient_quota"}}"#,
            ErrorKind::RateLimited,
        ),
        (500, "", ErrorKind::InternalServer),
        (502, "", ErrorKind::InternalServer),
        (503, "", ErrorKind::ServiceUnavailable),
        (504, "", ErrorKind::Timeout),
        (507, "", ErrorKind::InternalServer),
        (529, "", ErrorKind::ServiceUnavailable),
        // A context-length message on a 5xx is still a server error.
        (
            500,
            r#"{"error":{"message":"maximum context length"}}"#,
            ErrorKind::InternalServer,
        ),
    ];
    for (status, body, kind) in cases {
        let e = map_error(*status, &h, body.as_bytes());
        assert_eq!(e.kind, *kind, "{status} {body}");
        assert_eq!(e.status, Some(*status));
        assert_eq!(e.provider.as_deref(), Some(PROVIDER));
    }
}

#[test]
fn error_messages_come_from_the_body_in_any_common_shape() {
    let h = HeaderMap::new();
    let msg = |status, body: &str| map_error(status, &h, body.as_bytes()).message;
    assert_eq!(msg(400, r#"{"error":{"message":"m1","param":"x"}}"#), "m1");
    assert_eq!(msg(400, r#"{"error":"m2"}"#), "m2");
    assert_eq!(msg(400, r#"{"detail":"m3"}"#), "m3");
    assert_eq!(
        msg(502, "<html>Bad gateway</html>"),
        "<html>Bad gateway</html>"
    );
    assert_eq!(msg(502, ""), "openai returned HTTP 502 with an empty body");
    let long = "x".repeat(5000);
    assert_eq!(msg(500, &long).chars().count(), MAX_ERROR_TEXT + 1);
    assert_eq!(
        map_error(400, &h, br#"{"error":{"message":"m","param":"messages"}}"#)
            .param
            .as_deref(),
        Some("messages")
    );
}

#[test]
fn scrub_removes_an_echoed_key() {
    let params = ProviderParams {
        model: "gpt-4o".into(),
        api_key: Some(SecretString::from("sk-live-abcdef")),
        ..Default::default()
    };
    let a = OpenAiAdapter::with_env(&params, "gpt-4o", |_| None).expect("adapter");
    let e = a.map_error(
        401,
        &HeaderMap::new(),
        br#"{"error":{"message":"Incorrect API key provided: sk-live-abcdef."}}"#,
    );
    assert_eq!(e.message, "Incorrect API key provided: <redacted>.");
}

#[test]
fn environment_fills_base_key_and_organization() {
    let params = ProviderParams {
        model: "gpt-4o".into(),
        ..Default::default()
    };
    let env = |name: &str| match name {
        "OPENAI_API_BASE" => Some("http://env-base/v1/".to_string()),
        "OPENAI_API_KEY" => Some("sk-env".to_string()),
        "OPENAI_ORGANIZATION" => Some("org-env".to_string()),
        _ => None,
    };
    let a = OpenAiAdapter::with_env(&params, "gpt-4o", env).expect("adapter");
    assert_eq!(a.api_base(), "http://env-base/v1");
    let req = a
        .build_chat_request(
            ChatRequest {
                model: "x".into(),
                messages: vec![litellm_core::Message::user("hi")],
                ..Default::default()
            },
            false,
            &[],
        )
        .expect("request");
    assert_eq!(req.url, "http://env-base/v1/chat/completions");
    assert_eq!(
        req.headers.get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer sk-env"[..])
    );
    assert_eq!(
        req.headers.get("openai-organization").map(|v| v.as_bytes()),
        Some(&b"org-env"[..])
    );

    // Without a key anywhere, no Authorization header is sent.
    let a = OpenAiAdapter::with_env(&params, "gpt-4o", |_| None).expect("adapter");
    assert_eq!(a.api_base(), DEFAULT_API_BASE);
    let req = a
        .build_embedding_request(
            EmbeddingRequest::new("x", litellm_core::EmbeddingInput::Text("a".into())),
            &[("X-Trace".to_string(), "t1".to_string())],
        )
        .expect("request");
    assert!(req.headers.get("authorization").is_none());
    assert_eq!(
        req.headers.get("x-trace").map(|v| v.as_bytes()),
        Some(&b"t1"[..])
    );
}

fn decode_all(bytes: &[u8]) -> Vec<Result<ChatChunk, LlmError>> {
    let mut d = ChatStreamDecoder::new("m");
    let mut out = VecDeque::new();
    d.feed(bytes, &mut out);
    d.finish(&mut out);
    out.into_iter().collect()
}

#[test]
fn a_stream_cut_before_done_and_finish_is_an_error() {
    let out = decode_all(
        b"data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n",
    );
    assert_eq!(out.len(), 2);
    assert!(out[0].is_ok());
    let err = out[1].as_ref().expect_err("cut");
    assert_eq!(err.kind, ErrorKind::ApiConnection);
}

#[test]
fn a_finished_stream_without_done_is_accepted() {
    let out = decode_all(
        b"data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    assert_eq!(out.len(), 1);
    assert!(out[0].is_ok());
}

#[test]
fn nothing_after_done_or_an_error_is_emitted() {
    let out = decode_all(
        b"data: [DONE]\n\ndata: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[]}\n\n",
    );
    assert!(out.is_empty());
    let out = decode_all(
        b"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\ndata: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[]}\n\n",
    );
    assert_eq!(out.len(), 1);
    let err = out[0].as_ref().expect_err("error event");
    assert_eq!(err.kind, ErrorKind::InternalServer);
    assert_eq!(err.message, "overloaded");
    assert_eq!(err.status, None);
}

#[test]
fn chunks_missing_identity_get_one_stable_id() {
    let out = decode_all(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    );
    let chunks: Vec<ChatChunk> = out.into_iter().map(|r| r.expect("chunk")).collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].id, chunks[1].id);
    assert!(chunks[0].id.starts_with("chatcmpl-"));
    assert_eq!(chunks[0].model, "m");
}

#[test]
fn an_error_finish_reason_is_still_a_chunk() {
    let out = decode_all(
        b"data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"error\"}]}\n\ndata: [DONE]\n\n",
    );
    assert_eq!(out.len(), 1);
    let chunk = out[0].as_ref().expect("chunk");
    assert_eq!(chunk.choices[0].finish_reason.as_deref(), Some("error"));
}
