//! Golden-file tests of the Anthropic adapter's translations, one directory per case under
//! `tests/golden/anthropic/`. Each file pair is optional except `params.json`:
//! - `request.openai.json` (client request) -> `request.upstream.json` (method, URL, redacted
//!   headers, Messages body). The request also decides JSON mode and stream usage for the
//!   response and stream files of the same case.
//! - `response.upstream.json` -> `response.openai.json` (`created` written as 0).
//! - `stream.upstream.sse` -> `stream.openai.jsonl` (one chunk per line, `created` as 0; an error
//!   item is written as `{"error": {...}}`). The stream is also decoded byte by byte and must
//!   match.
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test golden_anthropic` rewrites the
//! expected files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use litellm_core::{ChatChunk, ChatRequest, LlmError};
use litellm_providers::anthropic::{AnthropicAdapter, CallOptions};
use litellm_providers::{resolve_provider, ProviderKind, ProviderParams};
use litellm_test_support::golden::{case_dirs, check_json, check_jsonl, read_json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/anthropic")
}

fn error_json(e: &LlmError) -> Value {
    json!({
        "kind": e.kind.litellm_class(),
        "retryable": e.is_retryable(),
        "status": e.status,
        "message": e.message,
        "param": e.param,
        "provider": e.provider,
        "retry_after_ms": e.retry_after.map(|d| d.as_millis() as u64),
    })
}

/// `created` is the time of translation; it is written as 0.
fn zero_created(mut v: Value) -> Value {
    if v.get("created").is_some() {
        v["created"] = json!(0);
    }
    v
}

fn stream_items(adapter: &AnthropicAdapter, options: CallOptions, pieces: &[&[u8]]) -> Vec<Value> {
    let mut decoder = adapter.stream_decoder(options);
    let mut out: VecDeque<Result<ChatChunk, LlmError>> = VecDeque::new();
    for piece in pieces {
        decoder.feed(piece, &mut out);
    }
    decoder.finish(&mut out);
    out.into_iter()
        .map(|item| match item {
            Ok(chunk) => zero_created(serde_json::to_value(chunk).unwrap()),
            Err(e) => json!({ "error": error_json(&e) }),
        })
        .collect()
}

fn run_case(dir: &Path) {
    let params: ProviderParams = serde_json::from_value(read_json(&dir.join("params.json")))
        .unwrap_or_else(|e| panic!("{}: params.json: {e}", dir.display()));
    let (kind, model) = resolve_provider(&params).unwrap();
    assert_eq!(kind, ProviderKind::Anthropic, "{}", dir.display());
    let adapter = AnthropicAdapter::with_env(&params, &model, |_| None).unwrap();

    let request_path = dir.join("request.openai.json");
    let mut options = CallOptions::default();
    if request_path.exists() {
        let req: ChatRequest = serde_json::from_value(read_json(&request_path)).unwrap();
        options = CallOptions::of(&req);
        let stream = req.is_stream();
        let result = adapter.build_chat_request(req, stream, &[]);
        let actual = match result {
            Ok(upstream) => {
                let debug = format!("{upstream:?}");
                assert!(
                    !debug.contains("sk-ant-test"),
                    "{}: key in Debug: {debug}",
                    dir.display()
                );
                upstream.to_redacted_json()
            }
            Err(e) => json!({ "error": error_json(&e) }),
        };
        check_json(&dir.join("request.upstream.json"), &actual);
    }

    let response_path = dir.join("response.upstream.json");
    if response_path.exists() {
        let bytes = std::fs::read(&response_path).unwrap();
        let parsed = adapter.parse_chat_response(&bytes, options).unwrap();
        check_json(
            &dir.join("response.openai.json"),
            &zero_created(serde_json::to_value(parsed).unwrap()),
        );
    }

    let sse_path = dir.join("stream.upstream.sse");
    if sse_path.exists() {
        let bytes = std::fs::read(&sse_path).unwrap();
        let whole = stream_items(&adapter, options, &[&bytes]);
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(
            stream_items(&adapter, options, &pieces),
            whole,
            "{}: byte-by-byte decoding differs",
            dir.display()
        );
        check_jsonl(&dir.join("stream.openai.jsonl"), &whole);
    }

    let error_path = dir.join("error.upstream.json");
    if error_path.exists() {
        let spec = read_json(&error_path);
        let status = spec["status"].as_u64().unwrap() as u16;
        let mut headers = HeaderMap::new();
        for (k, v) in spec["headers"].as_object().unwrap() {
            headers.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v.as_str().unwrap()).unwrap(),
            );
        }
        let body = match &spec["body"] {
            Value::String(s) => s.clone().into_bytes(),
            other => serde_json::to_vec(other).unwrap(),
        };
        let err = adapter.map_error(status, &headers, &body);
        assert!(
            !err.message.contains("sk-ant-test"),
            "{}: key in message",
            dir.display()
        );
        check_json(&dir.join("error.openai.json"), &error_json(&err));
    }
}

#[test]
fn anthropic_golden_cases() {
    let cases = case_dirs(&root());
    assert!(
        cases.len() >= 20,
        "expected the golden cases under {}",
        root().display()
    );
    for dir in &cases {
        run_case(dir);
    }
}
