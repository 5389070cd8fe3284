//! Golden-file tests of the OpenAI adapter's translations, one directory per case under
//! `tests/golden/openai/`, and of Azure OpenAI's (the same adapter with Azure's URLs and auth)
//! under `tests/golden/azure/`. Each file pair is optional except `params.json`:
//! - `request.openai.json` (client request) -> `request.upstream.json` (method, URL, redacted
//!   headers, body); a request with `input` is an embeddings request.
//! - `response.upstream.json` -> `response.openai.json` (the parsed response, re-serialized).
//! - `stream.upstream.sse` -> `stream.openai.jsonl` (one chunk per line; an error item is
//!   written as `{"error": {...}}`). The stream is also decoded byte by byte and must match.
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test golden` rewrites the expected files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use litellm_core::{ChatChunk, ChatRequest, EmbeddingRequest, LlmError};
use litellm_providers::openai::ChatStreamDecoder;
use litellm_providers::{azure, resolve_provider, OpenAiAdapter, ProviderKind, ProviderParams};
use litellm_test_support::golden::{case_dirs, check_json, check_jsonl, read_json};

fn root(provider: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{provider}"))
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

fn stream_items(adapter: &OpenAiAdapter, pieces: &[&[u8]]) -> Vec<Value> {
    let mut decoder: ChatStreamDecoder = adapter.stream_decoder();
    let mut out: VecDeque<Result<ChatChunk, LlmError>> = VecDeque::new();
    for piece in pieces {
        decoder.feed(piece, &mut out);
    }
    decoder.finish(&mut out);
    out.into_iter()
        .map(|item| match item {
            Ok(chunk) => serde_json::to_value(chunk).unwrap(),
            Err(e) => json!({ "error": error_json(&e) }),
        })
        .collect()
}

fn run_case(dir: &Path) {
    let params: ProviderParams = serde_json::from_value(read_json(&dir.join("params.json")))
        .unwrap_or_else(|e| panic!("{}: params.json: {e}", dir.display()));
    let (kind, model) = resolve_provider(&params).unwrap();
    let adapter = match kind {
        ProviderKind::OpenAI => OpenAiAdapter::with_env(&params, &model, |_| None).unwrap(),
        ProviderKind::Azure => azure::adapter(&params, &model, |_| None).unwrap(),
        other => panic!(
            "{}: not an OpenAI-format provider: {other:?}",
            dir.display()
        ),
    };

    let request_path = dir.join("request.openai.json");
    let request = request_path.exists().then(|| read_json(&request_path));
    let is_embedding = request.as_ref().is_some_and(|r| r.get("input").is_some());
    let mut wants_base64 = false;

    if let Some(request) = &request {
        let upstream = if is_embedding {
            let req: EmbeddingRequest = serde_json::from_value(request.clone()).unwrap();
            wants_base64 = req.wants_base64();
            adapter.build_embedding_request(req, &[]).unwrap()
        } else {
            let req: ChatRequest = serde_json::from_value(request.clone()).unwrap();
            let stream = req.is_stream();
            adapter.build_chat_request(req, stream, &[]).unwrap()
        };
        // The key must never show up in the request's Debug form.
        let debug = format!("{upstream:?}");
        assert!(
            !debug.contains("sk-test"),
            "{}: key in Debug: {debug}",
            dir.display()
        );
        check_json(
            &dir.join("request.upstream.json"),
            &upstream.to_redacted_json(),
        );
    }

    let response_path = dir.join("response.upstream.json");
    if response_path.exists() {
        let bytes = std::fs::read(&response_path).unwrap();
        let parsed = if is_embedding {
            serde_json::to_value(
                adapter
                    .parse_embedding_response(&bytes, wants_base64)
                    .unwrap(),
            )
        } else {
            serde_json::to_value(adapter.parse_chat_response(&bytes).unwrap())
        }
        .unwrap();
        check_json(&dir.join("response.openai.json"), &parsed);
    }

    let sse_path = dir.join("stream.upstream.sse");
    if sse_path.exists() {
        let bytes = std::fs::read(&sse_path).unwrap();
        let whole = stream_items(&adapter, &[&bytes]);
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(
            stream_items(&adapter, &pieces),
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
            !err.message.contains("sk-test"),
            "{}: key in message",
            dir.display()
        );
        check_json(&dir.join("error.openai.json"), &error_json(&err));
    }
}

#[test]
fn openai_golden_cases() {
    let cases = case_dirs(&root("openai"));
    assert!(
        cases.len() >= 20,
        "expected the golden cases under {}",
        root("openai").display()
    );
    for dir in &cases {
        run_case(dir);
    }
}

#[test]
fn azure_golden_cases() {
    let cases = case_dirs(&root("azure"));
    assert!(
        cases.len() >= 5,
        "expected the golden cases under {}",
        root("azure").display()
    );
    for dir in &cases {
        run_case(dir);
    }
}
