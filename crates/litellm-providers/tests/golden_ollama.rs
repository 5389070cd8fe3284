//! Golden-file tests of the Ollama translations, one directory per case under
//! `tests/golden/ollama/` (`/api/generate`) and `tests/golden/ollama_chat/` (`/api/chat`). Each file pair is optional except `params.json` (the deployment's
//! `litellm_params`):
//! - `request.openai.json` (client request) -> `request.upstream.json` (method, URL, redacted
//!   headers, body; or `{"error": ...}`). The request also decides stream usage for the stream
//!   file of the same case.
//! - `response.upstream.json` -> `response.openai.json` (`created` written as 0; an error as
//!   `{"error": ...}`).
//! - `stream.upstream.ndjson` -> `stream.openai.jsonl` (one chunk per line, `created` as 0; an error
//!   item is written as `{"error": {...}}`). The stream is also decoded byte by byte and must
//!   match.
//! - `embedding.openai.json` -> `embedding.upstream.json`, and with
//!   `embedding_response.upstream.json` -> `embedding_response.openai.json`.
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`.
//!
//! Generated ids (`call_<uuid>`, `chatcmpl-<uuid>`) are written as `<generated>`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test golden_ollama` rewrites the expected
//! files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use litellm_core::{ChatChunk, ChatRequest, EmbeddingRequest, LlmError};
use litellm_providers::ollama::{CallOptions, OllamaAdapter, OllamaMode};
use litellm_providers::{resolve_provider, ProviderKind, ProviderParams, UpstreamRequest};
use litellm_test_support::golden::{case_dirs, check_json, check_jsonl, read_json};

const SECRET: &str = "ollama-golden-key";

fn root(provider: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{provider}"))
}

/// The prompt estimate the golden cases use when Ollama omits `prompt_eval_count`.
const PROMPT_ESTIMATE: u64 = 11;

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

/// `created` is the time of translation and generated ids are random: both are normalized.
fn normalize(mut v: Value) -> Value {
    fn ids(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    match val {
                        Value::String(s)
                            if k == "id" && s.starts_with("call_") && s.len() == 37 =>
                        {
                            *s = "call_<generated>".into();
                        }
                        Value::String(s)
                            if k == "id" && s.starts_with("chatcmpl-") && s.len() == 41 =>
                        {
                            *s = "chatcmpl-<generated>".into();
                        }
                        other => ids(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(ids),
            _ => {}
        }
    }
    if v.get("created").is_some() {
        v["created"] = json!(0);
    }
    ids(&mut v);
    v
}

fn upstream_json(dir: &Path, result: Result<UpstreamRequest, LlmError>) -> Value {
    match result {
        Ok(upstream) => {
            let debug = format!("{upstream:?}");
            assert!(
                !debug.contains(SECRET),
                "{}: secret in Debug",
                dir.display()
            );
            upstream.to_redacted_json()
        }
        Err(e) => json!({ "error": error_json(&e) }),
    }
}

fn stream_items(adapter: &OllamaAdapter, include_usage: bool, pieces: &[&[u8]]) -> Vec<Value> {
    let mut out: VecDeque<Result<ChatChunk, LlmError>> = VecDeque::new();
    let mut d = adapter.stream_decoder(CallOptions {
        include_usage,
        prompt_estimate: PROMPT_ESTIMATE,
    });
    for piece in pieces {
        d.feed(piece, &mut out);
    }
    d.finish(&mut out);
    out.into_iter()
        .map(|item| match item {
            Ok(chunk) => normalize(serde_json::to_value(chunk).unwrap()),
            Err(e) => json!({ "error": error_json(&e) }),
        })
        .collect()
}

fn run_case(provider: &str, dir: &Path) {
    let params: ProviderParams = serde_json::from_value(read_json(&dir.join("params.json")))
        .unwrap_or_else(|e| panic!("{}: params.json: {e}", dir.display()));
    let (kind, model) = resolve_provider(&params).unwrap();
    let mode = match provider {
        "ollama" => {
            assert_eq!(kind, ProviderKind::Ollama, "{}", dir.display());
            OllamaMode::Generate
        }
        _ => {
            assert_eq!(kind, ProviderKind::OllamaChat, "{}", dir.display());
            OllamaMode::Chat
        }
    };
    let adapter = OllamaAdapter::with_env(&params, &model, mode, |_| None).unwrap();
    let options = CallOptions {
        include_usage: false,
        prompt_estimate: PROMPT_ESTIMATE,
    };

    let request_path = dir.join("request.openai.json");
    let mut include_usage = false;
    if request_path.exists() {
        let req: ChatRequest = serde_json::from_value(read_json(&request_path)).unwrap();
        include_usage = req.wants_stream_usage();
        let stream = req.is_stream();
        check_json(
            &dir.join("request.upstream.json"),
            &upstream_json(dir, adapter.build_chat_request(req, stream, &[])),
        );
    }

    let response_path = dir.join("response.upstream.json");
    if response_path.exists() {
        let bytes = std::fs::read(&response_path).unwrap();
        let actual = match adapter.parse_chat_response(&bytes, options) {
            Ok(r) => normalize(serde_json::to_value(r).unwrap()),
            Err(e) => json!({ "error": error_json(&e) }),
        };
        check_json(&dir.join("response.openai.json"), &actual);
    }

    let sse_path = dir.join("stream.upstream.ndjson");
    if sse_path.exists() {
        let bytes = std::fs::read(&sse_path).unwrap();
        let whole = stream_items(&adapter, include_usage, &[&bytes]);
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(
            stream_items(&adapter, include_usage, &pieces),
            whole,
            "{}: byte-by-byte decoding differs",
            dir.display()
        );
        check_jsonl(&dir.join("stream.openai.jsonl"), &whole);
    }

    let embedding_path = dir.join("embedding.openai.json");
    if embedding_path.exists() {
        let req: EmbeddingRequest = serde_json::from_value(read_json(&embedding_path)).unwrap();
        check_json(
            &dir.join("embedding.upstream.json"),
            &upstream_json(dir, adapter.build_embedding_request(&req, &[])),
        );
        let response_path = dir.join("embedding_response.upstream.json");
        if response_path.exists() {
            let bytes = std::fs::read(&response_path).unwrap();
            let actual = match adapter.parse_embedding_response(&bytes, &req) {
                Ok(r) => serde_json::to_value(r).unwrap(),
                Err(e) => json!({ "error": error_json(&e) }),
            };
            check_json(&dir.join("embedding_response.openai.json"), &actual);
        }
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
            !err.message.contains(SECRET),
            "{}: secret in message",
            dir.display()
        );
        check_json(&dir.join("error.openai.json"), &error_json(&err));
    }
}

#[test]
fn ollama_golden_cases() {
    let cases = case_dirs(&root("ollama"));
    assert!(cases.len() >= 6, "expected the golden cases");
    for dir in &cases {
        run_case("ollama", dir);
    }
}

#[test]
fn ollama_chat_golden_cases() {
    let cases = case_dirs(&root("ollama_chat"));
    assert!(cases.len() >= 12, "expected the golden cases");
    for dir in &cases {
        run_case("ollama_chat", dir);
    }
}
