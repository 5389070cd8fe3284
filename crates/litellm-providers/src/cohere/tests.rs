//! Unit tests of the Cohere adapter.

use http::header::HeaderMap;
use secrecy::SecretString;
use serde_json::json;

use litellm_core::ErrorKind;

use super::response::*;
use super::*;
use crate::params::ProviderParams;
use crate::test_util::{assert_cut, assert_missing_key, decode_all, hi_request};

fn adapter() -> CohereAdapter {
    let params: ProviderParams =
        serde_json::from_value(json!({"model": "cohere/command-r", "api_key": "co-test-key-123"}))
            .expect("params");
    CohereAdapter::with_env(&params, "command-r", |_| None).expect("adapter")
}

#[test]
fn api_bases_are_trimmed_to_the_host() {
    for (base, url) in [
        (None, "https://api.cohere.com/v2/chat"),
        (Some("http://h:1/"), "http://h:1/v2/chat"),
        (Some("http://h:1/v2/chat"), "http://h:1/v2/chat"),
        (Some("http://h:1/v1"), "http://h:1/v2/chat"),
    ] {
        let params = ProviderParams {
            model: "cohere/m".into(),
            api_base: base.map(str::to_string),
            api_key: Some(SecretString::from("k-1234")),
            ..Default::default()
        };
        let a = CohereAdapter::with_env(&params, "m", |_| None).expect("adapter");
        let req = a
            .build_chat_request(hi_request(), false, &[])
            .expect("request");
        assert_eq!(req.url, url);
    }
}

#[test]
fn the_key_comes_from_the_environment_in_order() {
    let params = ProviderParams {
        model: "cohere/m".into(),
        ..Default::default()
    };
    let env = |k: &str| (k == "CO_API_KEY").then(|| "co-env".to_string());
    let a = CohereAdapter::with_env(&params, "m", env).expect("adapter");
    let h = a.deployment.headers.get("authorization").expect("auth");
    assert!(h.is_sensitive());
    assert_eq!(h.as_bytes(), b"Bearer co-env");
    let a = CohereAdapter::with_env(&params, "m", |_| None).expect("adapter");
    assert_missing_key(
        a.build_chat_request(hi_request(), false, &[]),
        "COHERE_API_KEY",
    );
}

#[test]
fn finish_reasons_and_usage_map() {
    assert_eq!(map_finish_reason("COMPLETE", false), "stop");
    assert_eq!(map_finish_reason("STOP_SEQUENCE", false), "stop");
    assert_eq!(map_finish_reason("MAX_TOKENS", true), "length");
    assert_eq!(map_finish_reason("TOOL_CALL", false), "tool_calls");
    assert_eq!(map_finish_reason("ERROR_TOXIC", false), "content_filter");
    assert_eq!(
        finish_error("ERROR").expect("error").kind,
        ErrorKind::InternalServer
    );
    let u = usage_from(Some(
        &json!({"billed_units": {"input_tokens": 5, "output_tokens": 7},
        "tokens": {"input_tokens": 70, "output_tokens": 7}}),
    ));
    assert_eq!((u.prompt_tokens, u.completion_tokens), (70, 7));
    let u = usage_from(Some(
        &json!({"billed_units": {"input_tokens": 5.0, "output_tokens": 7.0}}),
    ));
    assert_eq!((u.prompt_tokens, u.total_tokens), (5, 12));
}

#[test]
fn errors_map_by_status_and_message() {
    let h = HeaderMap::new();
    let cases: &[(u16, &str, ErrorKind)] = &[
        (
            400,
            "invalid request: message must not be empty",
            ErrorKind::BadRequest,
        ),
        (
            400,
            "too many tokens: total number of tokens in the prompt cannot exceed 128000",
            ErrorKind::ContextWindowExceeded,
        ),
        (401, "invalid api token", ErrorKind::Authentication),
        (498, "invalid api token", ErrorKind::Authentication),
        (404, "model not found", ErrorKind::NotFound),
        (429, "You are using a Trial key", ErrorKind::RateLimited),
        (500, "internal server error", ErrorKind::InternalServer),
        (503, "unavailable", ErrorKind::ServiceUnavailable),
    ];
    for (status, m, kind) in cases {
        let body = serde_json::to_vec(&json!({"id": "x", "message": m})).expect("json");
        let e = map_error(*status, &h, &body);
        assert_eq!(e.kind, *kind, "{status} {m}");
        assert_eq!(e.message, *m);
        assert_eq!(e.status, Some(*status));
    }
    let e = adapter().map_error(401, &h, br#"{"message": "bad key co-test-key-123"}"#);
    assert_eq!(e.message, "bad key <redacted>");
}

#[test]
fn a_cut_stream_is_an_error() {
    let out = decode_all(
        adapter().stream_decoder(CallOptions::default()),
        b"event: message-start\ndata: {\"id\":\"a\",\"type\":\"message-start\"}\n\n",
    );
    assert_cut(&out, 2);
}
