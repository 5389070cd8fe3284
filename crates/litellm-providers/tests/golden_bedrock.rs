//! Golden-file tests of the Bedrock adapter's translations, one directory per case under
//! `tests/golden/bedrock/`. Each file pair is optional except `params.json`:
//! - `request.openai.json` (client request) -> `request.upstream.json` (method, URL, headers,
//!   Converse body). Requests are signed at a fixed time, so the SigV4 `authorization` and
//!   `x-amz-date` are stable and shown as sent; other credentials are redacted. The request also
//!   decides JSON mode and stream usage for the response and stream files of the same case.
//! - `response.upstream.json` -> `response.openai.json` (`created` written as 0, `id` as
//!   `chatcmpl-<id>`).
//! - `stream.upstream.jsonl` (one frame per line: `{"event", "payload"}` or
//!   `{"exception", "message"}`, encoded into the binary event-stream framing by the test) ->
//!   `stream.openai.jsonl` (one chunk per line; an error item is `{"error": {...}}`). The stream
//!   is also decoded byte by byte and must match.
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`.
//! - `embedding.openai.json` -> `embedding.upstream.json` (the InvokeModel requests), and
//!   `embedding.response.upstream.json` (`[{"headers", "body"}]`) ->
//!   `embedding.response.openai.json`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test golden_bedrock` rewrites the expected
//! files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use litellm_core::{ChatChunk, ChatRequest, EmbeddingRequest, LlmError};
use litellm_providers::bedrock::{BedrockAdapter, CallOptions};
use litellm_providers::{resolve_provider, ProviderKind, ProviderParams, UpstreamRequest};
use litellm_test_support::golden::{case_dirs, check_json, check_jsonl, read_json, read_jsonl};
use litellm_test_support::BedrockFrame;

/// The secrets used by the cases' `params.json`; none may appear in any output.
const SECRETS: &[&str] = &[
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "golden-session-token",
    "golden-bedrock-api-key",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/bedrock")
}

/// 2023-11-14T22:13:20Z: every request is signed at this instant.
fn clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
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

/// `created` is the time of translation and `id` is random: written as 0 and `chatcmpl-<id>`.
fn normalize(mut v: Value) -> Value {
    if v.get("created").is_some() {
        v["created"] = json!(0);
    }
    if v.get("id").is_some() {
        v["id"] = json!("chatcmpl-<id>");
    }
    v
}

/// The golden form of a request: the SigV4 headers as sent (stable under the fixed clock), any
/// other credential redacted.
fn request_json(req: &UpstreamRequest, dir: &Path) -> Value {
    let debug = format!("{req:?}");
    let mut v = req.to_redacted_json();
    for secret in SECRETS {
        assert!(
            !debug.contains(secret),
            "{}: secret in Debug",
            dir.display()
        );
    }
    if let Some(auth) = req
        .headers
        .get("authorization")
        .and_then(|a| a.to_str().ok())
    {
        if auth.starts_with("AWS4-HMAC-SHA256 ") {
            v["headers"]["authorization"] = json!(auth);
        }
    }
    v
}

fn assert_no_secret(v: &Value, dir: &Path) {
    let text = v.to_string();
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{}: secret in output",
            dir.display()
        );
    }
}

fn encode_frames(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for line in read_jsonl(path) {
        let frame = if let Some(kind) = line.get("exception").and_then(Value::as_str) {
            BedrockFrame::exception(kind, line["message"].as_str().unwrap_or(""))
        } else if let Some(raw) = line.get("raw_hex").and_then(Value::as_str) {
            // A corrupted or hand-made frame, given as hex bytes.
            let bytes: Vec<u8> = (0..raw.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&raw[i..i + 2], 16).unwrap())
                .collect();
            out.extend(bytes);
            continue;
        } else {
            BedrockFrame::event(line["event"].as_str().unwrap(), line["payload"].clone())
        };
        out.extend(frame.encode());
    }
    out
}

fn stream_items(adapter: &BedrockAdapter, options: CallOptions, pieces: &[&[u8]]) -> Vec<Value> {
    let mut decoder = adapter.stream_decoder(options);
    let mut out: VecDeque<Result<ChatChunk, LlmError>> = VecDeque::new();
    for piece in pieces {
        decoder.feed(piece, &mut out);
    }
    decoder.finish(&mut out);
    out.into_iter()
        .map(|item| match item {
            Ok(chunk) => normalize(serde_json::to_value(chunk).unwrap()),
            Err(e) => json!({ "error": error_json(&e) }),
        })
        .collect()
}

fn headers_of(spec: &Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (k, v) in spec.as_object().into_iter().flatten() {
        headers.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v.as_str().unwrap()).unwrap(),
        );
    }
    headers
}

fn run_case(dir: &Path) {
    let params: ProviderParams = serde_json::from_value(read_json(&dir.join("params.json")))
        .unwrap_or_else(|e| panic!("{}: params.json: {e}", dir.display()));
    let (kind, model) = resolve_provider(&params).unwrap();
    assert_eq!(kind, ProviderKind::Bedrock, "{}", dir.display());
    let adapter = BedrockAdapter::with_env(&params, &model, |_| None).unwrap();

    let request_path = dir.join("request.openai.json");
    let mut options = CallOptions::default();
    if request_path.exists() {
        let req: ChatRequest = serde_json::from_value(read_json(&request_path)).unwrap();
        options = CallOptions::of(&req);
        let stream = req.is_stream();
        let actual = match adapter.build_chat_request_at(req, stream, &[], clock()) {
            Ok(upstream) => request_json(&upstream, dir),
            Err(e) => json!({ "error": error_json(&e) }),
        };
        assert_no_secret(&actual["body"], dir);
        check_json(&dir.join("request.upstream.json"), &actual);
    }

    let response_path = dir.join("response.upstream.json");
    if response_path.exists() {
        let bytes = std::fs::read(&response_path).unwrap();
        let actual = match adapter.parse_chat_response(&bytes, options) {
            Ok(parsed) => normalize(serde_json::to_value(parsed).unwrap()),
            Err(e) => json!({ "error": error_json(&e) }),
        };
        check_json(&dir.join("response.openai.json"), &actual);
    }

    let stream_path = dir.join("stream.upstream.jsonl");
    if stream_path.exists() {
        let bytes = encode_frames(&stream_path);
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
        let body = match &spec["body"] {
            Value::String(s) => s.clone().into_bytes(),
            other => serde_json::to_vec(other).unwrap(),
        };
        let err = adapter.map_error(status, &headers_of(&spec["headers"]), &body);
        let actual = error_json(&err);
        assert_no_secret(&actual, dir);
        check_json(&dir.join("error.openai.json"), &actual);
    }

    let embedding_path = dir.join("embedding.openai.json");
    if embedding_path.exists() {
        let req: EmbeddingRequest = serde_json::from_value(read_json(&embedding_path)).unwrap();
        let actual = match adapter.build_embedding_requests_at(&req, &[], clock()) {
            Ok(list) => Value::Array(list.iter().map(|r| request_json(r, dir)).collect()),
            Err(e) => json!({ "error": error_json(&e) }),
        };
        check_json(&dir.join("embedding.upstream.json"), &actual);
        let answers_path = dir.join("embedding.response.upstream.json");
        if answers_path.exists() {
            let answers: Vec<(HeaderMap, Bytes)> = read_json(&answers_path)
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        headers_of(&a["headers"]),
                        Bytes::from(serde_json::to_vec(&a["body"]).unwrap()),
                    )
                })
                .collect();
            let actual = match adapter.parse_embedding_responses(&req, &answers) {
                Ok(r) => serde_json::to_value(r).unwrap(),
                Err(e) => json!({ "error": error_json(&e) }),
            };
            check_json(&dir.join("embedding.response.openai.json"), &actual);
        }
    }
}

#[test]
fn bedrock_golden_cases() {
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
