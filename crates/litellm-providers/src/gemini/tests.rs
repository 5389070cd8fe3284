//! Unit tests of the Gemini adapter.

use http::header::HeaderMap;
use serde_json::{json, Value};

use litellm_core::{ChatRequest, ErrorKind};

use super::*;
use crate::params::ProviderParams;
use crate::test_util::{assert_cut, assert_missing_key, decode_all, hi_request};

fn params(json: Value) -> ProviderParams {
    serde_json::from_value(json).expect("params")
}

fn adapter() -> GeminiAdapter {
    GeminiAdapter::with_env(
        &params(json!({"model": "gemini/gemini-2.0-flash", "api_key": "AIza-test-key"})),
        "gemini-2.0-flash",
        |_| None,
    )
    .expect("adapter")
}

#[test]
fn base_urls_name_the_model_once() {
    for (base, url) in [
        (
            None,
            "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent",
        ),
        (
            Some("http://h:1/"),
            "http://h:1/v1beta/models/m:generateContent",
        ),
        (
            Some("http://h:1/v1beta"),
            "http://h:1/v1beta/models/m:generateContent",
        ),
        (
            Some("http://h:1/proxy/v1beta/models/m"),
            "http://h:1/proxy/v1beta/models/m:generateContent",
        ),
    ] {
        let mut p = params(json!({"model": "gemini/m"}));
        p.api_base = base.map(str::to_string);
        let a = GeminiAdapter::with_env(&p, "m", |_| None).expect("adapter");
        assert_eq!(a.url("generateContent"), url);
    }
}

#[test]
fn the_key_goes_in_a_sensitive_header_never_the_url() {
    let env = |k: &str| (k == "GEMINI_API_KEY").then(|| "AIza-env".to_string());
    let a =
        GeminiAdapter::with_env(&params(json!({"model": "gemini/m"})), "m", env).expect("adapter");
    let req = a
        .build_chat_request(hi_request(), true, &[], None)
        .expect("request");
    assert!(req.url.ends_with(":streamGenerateContent?alt=sse"));
    assert!(!req.url.contains("key="));
    let h = req.headers.get("x-goog-api-key").expect("key header");
    assert!(h.is_sensitive());
    assert_eq!(h.as_bytes(), b"AIza-env");

    let a = GeminiAdapter::with_env(&params(json!({"model": "gemini/m"})), "m", |_| None)
        .expect("adapter");
    assert_missing_key(
        a.build_chat_request(hi_request(), false, &[], None),
        "GEMINI_API_KEY",
    );
}

#[test]
fn finish_reasons_map() {
    assert_eq!(map_finish_reason("STOP", false), "stop");
    assert_eq!(map_finish_reason("STOP", true), "tool_calls");
    assert_eq!(map_finish_reason("MAX_TOKENS", true), "length");
    for r in [
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
    ] {
        assert_eq!(map_finish_reason(r, false), "content_filter");
    }
    assert_eq!(map_finish_reason("OTHER", false), "stop");
}

#[test]
fn usage_adds_thoughts_unless_already_included() {
    let u = usage_from_metadata(&json!({"promptTokenCount": 10, "candidatesTokenCount": 5,
        "thoughtsTokenCount": 7, "totalTokenCount": 22, "cachedContentTokenCount": 4}));
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (10, 12, 22)
    );
    assert_eq!(u.cached_tokens(), 4);
    assert_eq!(u.reasoning_tokens(), 7);
    let u = usage_from_metadata(&json!({"promptTokenCount": 10, "candidatesTokenCount": 12,
        "thoughtsTokenCount": 7, "totalTokenCount": 22}));
    assert_eq!((u.completion_tokens, u.reasoning_tokens()), (12, 7));
}

#[test]
fn errors_map_by_google_status() {
    let h = HeaderMap::new();
    let body = |code: u16, status: &str, m: &str| {
        serde_json::to_vec(&json!({"error": {"code": code, "message": m, "status": status}}))
            .expect("json")
    };
    let cases: &[(u16, &str, &str, ErrorKind)] = &[
        (400, "INVALID_ARGUMENT", "bad", ErrorKind::BadRequest),
        (
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ErrorKind::ContextWindowExceeded,
        ),
        (
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            ErrorKind::Authentication,
        ),
        (401, "UNAUTHENTICATED", "x", ErrorKind::Authentication),
        (403, "PERMISSION_DENIED", "x", ErrorKind::PermissionDenied),
        (404, "NOT_FOUND", "x", ErrorKind::NotFound),
        (429, "RESOURCE_EXHAUSTED", "x", ErrorKind::RateLimited),
        (500, "INTERNAL", "x", ErrorKind::InternalServer),
        (503, "UNAVAILABLE", "x", ErrorKind::ServiceUnavailable),
        (504, "DEADLINE_EXCEEDED", "x", ErrorKind::Timeout),
    ];
    for (status, s, m, kind) in cases {
        let e = map_error(PROVIDER, *status, &h, &body(*status, s, m));
        assert_eq!(e.kind, *kind, "{status} {s} {m}");
        assert_eq!(e.status, Some(*status));
        assert_eq!(e.provider.as_deref(), Some(PROVIDER));
    }
    let e = map_error(PROVIDER, 502, &h, b"<html>bad gateway</html>");
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert_eq!(e.message, "<html>bad gateway</html>");
    let arr = br#"[{"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]}}]"#;
    let e = map_error(PROVIDER, 429, &h, arr);
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(17)));
}

#[test]
fn an_echoed_key_is_scrubbed() {
    let e = adapter().map_error(
        400,
        &HeaderMap::new(),
        br#"{"error":{"code":400,"message":"bad key AIza-test-key","status":"INVALID_ARGUMENT"}}"#,
    );
    assert_eq!(e.message, "bad key <redacted>");
}

#[test]
fn a_tool_result_without_its_call_is_a_clear_400() {
    let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "nope", "content": "x"}
    ]}))
    .expect("request");
    let e = adapter().translate_request(req).expect_err("no call");
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(e.param.as_deref(), Some("messages[1]"));
}

#[test]
fn a_cut_stream_is_an_error_and_a_finished_one_is_not() {
    let a = adapter();
    let out = decode_all(a.stream_decoder(CallOptions::default()), b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"index\":0}]}\r\n\r\n");
    assert_cut(&out, 2);
    let out = decode_all(a.stream_decoder(CallOptions::default()), b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\",\"index\":0}]}\n\n");
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(Result::is_ok));
}
