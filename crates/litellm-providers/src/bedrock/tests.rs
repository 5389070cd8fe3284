//! Unit tests of the Bedrock adapter.

use http::header::HeaderMap;
use http::HeaderValue;
use serde_json::{json, Value};

use litellm_core::ErrorKind;

use super::error::*;
use super::*;
use crate::params::ProviderParams;
use crate::test_util::hi_request;

fn params(extra: Value) -> ProviderParams {
    let mut v = json!({"model": "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"});
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    serde_json::from_value(v).expect("params")
}

#[test]
fn urls_encode_the_model_id_and_honour_the_endpoint() {
    let a = BedrockAdapter::with_env(
        &params(json!({"aws_region_name": "eu-west-1"})),
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        |_| None,
    )
    .expect("adapter");
    assert_eq!(
        a.url("converse"),
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/\
         anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    let a = BedrockAdapter::with_env(
        &params(json!({"api_base": "http://127.0.0.1:9/"})),
        "converse/arn:aws:bedrock:us-east-1:1:inference-profile/us.x",
        |k| (k == "AWS_REGION").then(|| "ap-south-1".to_string()),
    )
    .expect("adapter");
    assert_eq!(a.region(), "ap-south-1");
    assert_eq!(
        a.url("converse-stream"),
        "http://127.0.0.1:9/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream"
    );
    assert!(BedrockAdapter::with_env(&params(json!({})), "invoke/x", |_| None).is_err());
    assert_eq!(base_model("us.anthropic.claude-x"), "anthropic.claude-x");
    assert_eq!(base_model("amazon.nova-pro-v1:0"), "amazon.nova-pro-v1:0");
}

#[test]
fn credentials_come_from_params_then_the_environment() {
    let env = |k: &str| match k {
        "AWS_ACCESS_KEY_ID" => Some("AKIDENV".to_string()),
        "AWS_SECRET_ACCESS_KEY" => Some("env-secret-value".to_string()),
        _ => None,
    };
    let a = BedrockAdapter::with_env(&params(json!({})), "m", env).expect("adapter");
    let req = a
        .build_chat_request(hi_request(), false, &[])
        .expect("signed");
    let auth = req.headers["authorization"].to_str().expect("ascii");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDENV/"),
        "{auth}"
    );
    assert!(req.headers["authorization"].is_sensitive());
    assert!(!format!("{a:?}").contains("env-secret-value"));

    let e = BedrockAdapter::with_env(&params(json!({"aws_access_key_id": "AKID"})), "m", |_| None)
        .expect_err("half credentials");
    assert_eq!(e.param.as_deref(), Some("aws_secret_access_key"));
    let e = BedrockAdapter::with_env(
        &params(json!({"aws_role_name": "arn:aws:iam::1:role/x"})),
        "m",
        |_| None,
    )
    .expect_err("roles");
    assert_eq!(e.param.as_deref(), Some("aws_role_name"));

    let a = BedrockAdapter::with_env(&params(json!({})), "m", |_| None).expect("adapter");
    let e = a
        .build_chat_request(hi_request(), false, &[])
        .expect_err("no credentials");
    assert_eq!(e.kind, ErrorKind::Authentication);
}

#[test]
fn echoed_secrets_are_scrubbed() {
    let a = BedrockAdapter::with_env(
        &params(
            json!({"aws_access_key_id": "AKID", "aws_secret_access_key": "very-secret",
            "aws_session_token": "session-tok"}),
        ),
        "m",
        |_| None,
    )
    .expect("adapter");
    let mut h = HeaderMap::new();
    h.insert(
        "x-amzn-errortype",
        HeaderValue::from_static("UnrecognizedClientException:http://internal"),
    );
    let e = a.map_error(
        403,
        &h,
        br#"{"message":"bad key very-secret and session-tok"}"#,
    );
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert_eq!(
        e.message,
        "UnrecognizedClientException: bad key <redacted> and <redacted>"
    );
}

#[test]
fn error_types_map_to_kinds() {
    let h = HeaderMap::new();
    let cases: &[(&str, &str, ErrorKind)] = &[
        ("ThrottlingException", "slow", ErrorKind::RateLimited),
        ("throttlingException", "slow", ErrorKind::RateLimited),
        ("AccessDeniedException", "no", ErrorKind::Authentication),
        ("ValidationException", "bad", ErrorKind::BadRequest),
        (
            "ValidationException",
            "Input is too long for requested model.",
            ErrorKind::ContextWindowExceeded,
        ),
        ("ResourceNotFoundException", "x", ErrorKind::NotFound),
        ("ModelNotReadyException", "x", ErrorKind::ServiceUnavailable),
        (
            "ServiceUnavailableException",
            "x",
            ErrorKind::ServiceUnavailable,
        ),
        ("ModelTimeoutException", "x", ErrorKind::Timeout),
        ("InternalServerException", "x", ErrorKind::InternalServer),
    ];
    for (t, m, kind) in cases {
        let e = error_from_parts(Some(400), Some(t), Some(m.to_string()), b"");
        assert_eq!(e.kind, *kind, "{t}");
    }
    let body =
        br#"{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"expired"}"#;
    assert_eq!(map_error(403, &h, body).kind, ErrorKind::Authentication);
    assert_eq!(map_error(503, &h, b"").kind, ErrorKind::ServiceUnavailable);
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    assert_eq!(map_stop_reason("end_turn"), "stop");
    assert_eq!(map_stop_reason("stop_sequence"), "stop");
    assert_eq!(map_stop_reason("max_tokens"), "length");
    assert_eq!(map_stop_reason("tool_use"), "tool_calls");
    assert_eq!(map_stop_reason("guardrail_intervened"), "content_filter");
    assert_eq!(map_stop_reason("content_filtered"), "content_filter");
}
