//! Unit tests of the Anthropic adapter.

use http::header::HeaderMap;
use secrecy::SecretString;
use serde_json::{json, Value};

use litellm_core::{ChatRequest, ErrorKind, Message};

use super::request::*;
use super::*;
use crate::params::ProviderParams;
use crate::test_util::{assert_cut, assert_missing_key, decode_all, hi_request};

fn adapter() -> AnthropicAdapter {
    let params = ProviderParams {
        model: "anthropic/claude-x".into(),
        api_key: Some(SecretString::from("sk-ant-test-key")),
        ..Default::default()
    };
    AnthropicAdapter::with_env(&params, "claude-x", |_| None).expect("adapter")
}

#[test]
fn base_urls_get_the_messages_path_once() {
    for (base, url) in [
        (None, "https://api.anthropic.com/v1/messages"),
        (Some("http://h:1/"), "http://h:1/v1/messages"),
        (Some("http://h:1/v1"), "http://h:1/v1/messages"),
        (Some("http://h:1/v1/messages"), "http://h:1/v1/messages"),
    ] {
        let params = ProviderParams {
            model: "anthropic/m".into(),
            api_base: base.map(str::to_string),
            ..Default::default()
        };
        let a = AnthropicAdapter::with_env(&params, "m", |_| None).expect("adapter");
        assert_eq!(a.url(), url);
    }
    let params = ProviderParams {
        model: "anthropic/m".into(),
        ..Default::default()
    };
    let env = |k: &str| match k {
        "ANTHROPIC_BASE_URL" => Some("http://env-base".to_string()),
        "ANTHROPIC_API_KEY" => Some("sk-ant-env".to_string()),
        _ => None,
    };
    let a = AnthropicAdapter::with_env(&params, "m", env).expect("adapter");
    assert_eq!(a.url(), "http://env-base/v1/messages");
    let req = a
        .build_chat_request(hi_request(), false, &[])
        .expect("request");
    assert_eq!(
        req.headers.get("x-api-key").map(|v| v.as_bytes()),
        Some(&b"sk-ant-env"[..])
    );
}

#[test]
fn a_missing_key_is_an_authentication_error_at_call_time() {
    let params = ProviderParams {
        model: "anthropic/m".into(),
        ..Default::default()
    };
    let a = AnthropicAdapter::with_env(&params, "m", |_| None).expect("adapter");
    assert_missing_key(
        a.build_chat_request(hi_request(), false, &[]),
        "ANTHROPIC_API_KEY",
    );
}

#[test]
fn unsupported_params_are_refused_or_dropped() {
    let a = adapter();
    let req = ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        presence_penalty: Some(0.5),
        seed: Some(1),
        ..Default::default()
    };
    let e = a
        .translate_request(req.clone(), false)
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(
        e.message.contains("presence_penalty") && e.message.contains("seed"),
        "{}",
        e.message
    );
    assert_eq!(e.param.as_deref(), Some("presence_penalty"));
    let mut dropping = req;
    dropping
        .extra
        .insert("drop_params".into(), Value::Bool(true));
    let body = a.translate_request(dropping, false).expect("dropped");
    assert!(!body.contains_key("presence_penalty") && !body.contains_key("seed"));
    assert!(!body.contains_key("drop_params"));
}

#[test]
fn user_ids_that_look_personal_are_not_sent() {
    assert!(valid_user_id("user-123"));
    assert!(!valid_user_id("a@b.com"));
    assert!(!valid_user_id("+1 (555) 123-4567"));
    assert!(!valid_user_id(""));
}

#[test]
fn deployment_defaults_fill_what_the_client_left_out() {
    let params: ProviderParams = serde_json::from_value(json!({
        "model": "anthropic/claude-x",
        "api_key": "sk-ant-x",
        "max_tokens": 100,
        "temperature": 0.1,
        "top_k": 5,
        "rpm": 10
    }))
    .expect("params");
    let a = AnthropicAdapter::with_env(&params, "claude-x", |_| None).expect("adapter");
    let body = a
        .translate_request(
            ChatRequest {
                model: "m".into(),
                messages: vec![Message::user("hi")],
                temperature: Some(0.9),
                ..Default::default()
            },
            false,
        )
        .expect("body");
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["temperature"], 0.9);
    assert_eq!(body["top_k"], 5);
    assert!(!body.contains_key("rpm"));
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    assert_eq!(map_stop_reason("end_turn"), "stop");
    assert_eq!(map_stop_reason("stop_sequence"), "stop");
    assert_eq!(map_stop_reason("max_tokens"), "length");
    assert_eq!(map_stop_reason("tool_use"), "tool_calls");
    assert_eq!(map_stop_reason("refusal"), "content_filter");
}

#[test]
fn error_kinds_follow_type_then_status() {
    let h = HeaderMap::new();
    let body = |t: &str, m: &str| {
        serde_json::to_vec(&json!({"type": "error", "error": {"type": t, "message": m}}))
            .expect("json")
    };
    let cases: &[(u16, &str, &str, ErrorKind)] = &[
        (400, "invalid_request_error", "bad", ErrorKind::BadRequest),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
            ErrorKind::ContextWindowExceeded,
        ),
        (401, "authentication_error", "x", ErrorKind::Authentication),
        (403, "permission_error", "x", ErrorKind::PermissionDenied),
        (404, "not_found_error", "x", ErrorKind::NotFound),
        (413, "request_too_large", "x", ErrorKind::BadRequest),
        (429, "rate_limit_error", "x", ErrorKind::RateLimited),
        (500, "api_error", "x", ErrorKind::InternalServer),
        (
            529,
            "overloaded_error",
            "Overloaded",
            ErrorKind::ServiceUnavailable,
        ),
        (504, "timeout_error", "x", ErrorKind::Timeout),
        (502, "", "", ErrorKind::InternalServer),
    ];
    for (status, t, m, kind) in cases {
        let e = map_error(*status, &h, &body(t, m));
        assert_eq!(e.kind, *kind, "{status} {t}");
        assert_eq!(e.status, Some(*status));
        assert_eq!(e.provider.as_deref(), Some(PROVIDER));
    }
    assert_eq!(map_error(503, &h, b"").kind, ErrorKind::ServiceUnavailable);
    assert_eq!(
        map_error(529, &h, b"upstream busy").message,
        "upstream busy"
    );
}

#[test]
fn an_echoed_key_is_scrubbed() {
    let e = adapter().map_error(
        401,
        &HeaderMap::new(),
        br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-test-key"}}"#,
    );
    assert_eq!(e.message, "invalid x-api-key <redacted>");
}

#[test]
fn a_cut_stream_is_an_error_and_a_finished_one_is_not() {
    let a = adapter();
    let out = decode_all(a.stream_decoder(CallOptions::default()), b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n");
    assert_cut(&out, 2);

    let out = decode_all(a.stream_decoder(CallOptions::default()), b"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n");
    assert_eq!(out.len(), 1);
    assert!(out[0].is_ok());
}
