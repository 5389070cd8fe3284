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

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{json, Value};

use common::golden::{as_is, headers_of, or_error, run_cases, Case};
use litellm_core::EmbeddingRequest;
use litellm_providers::bedrock::{BedrockAdapter, CallOptions};
use litellm_providers::{resolve_provider, ProviderKind, UpstreamRequest};
use litellm_test_support::golden::read_jsonl;
use litellm_test_support::BedrockFrame;

/// The secrets used by the cases' `params.json`; none may appear in any output.
const SECRETS: &[&str] = &[
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "golden-session-token",
    "golden-bedrock-api-key",
];

/// 2023-11-14T22:13:20Z: every request is signed at this instant.
fn clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
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
fn request_json(req: &UpstreamRequest) -> Value {
    let mut v = req.to_redacted_json();
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

fn run_case(dir: &Path) {
    let case = Case::new(dir, SECRETS).rendering(request_json);
    let params = case.params();
    let (kind, model) = resolve_provider(&params).unwrap();
    assert_eq!(kind, ProviderKind::Bedrock, "{}", dir.display());
    let adapter = BedrockAdapter::with_env(&params, &model, |_| None).unwrap();

    let options = case.check_request(CallOptions::of, |req, stream| {
        adapter.build_chat_request_at(req, stream, &[], clock())
    });
    case.check_response(
        |bytes| adapter.parse_chat_response(bytes, options),
        normalize,
    );
    case.check_stream(
        case.file("stream.upstream.jsonl")
            .map(|p| encode_frames(&p)),
        || Box::new(adapter.stream_decoder(options)),
        normalize,
    );
    case.check_error(|status, headers, body| adapter.map_error(status, headers, body));

    let Some(req) = case.json::<EmbeddingRequest>("embedding.openai.json") else {
        return;
    };
    let actual = match adapter.build_embedding_requests_at(&req, &[], clock()) {
        Ok(list) => Value::Array(list.into_iter().map(|r| case.upstream(Ok(r))).collect()),
        Err(e) => case.upstream(Err(e)),
    };
    case.check("embedding.upstream.json", &actual);
    if let Some(answers) = case.json::<Vec<Value>>("embedding.response.upstream.json") {
        let answers: Vec<(HeaderMap, Bytes)> = answers
            .iter()
            .map(|a| {
                (
                    headers_of(&a["headers"]),
                    Bytes::from(serde_json::to_vec(&a["body"]).unwrap()),
                )
            })
            .collect();
        let actual = or_error(adapter.parse_embedding_responses(&req, &answers), as_is);
        case.check("embedding.response.openai.json", &actual);
    }
}

#[test]
fn bedrock_golden_cases() {
    run_cases("bedrock", 20, run_case);
}
