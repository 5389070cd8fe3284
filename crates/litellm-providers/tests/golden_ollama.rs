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

mod common;

use common::golden::{run_cases, zero_generated, Case};
use litellm_providers::ollama::{CallOptions, OllamaAdapter, OllamaMode};
use litellm_providers::{resolve_provider, ProviderKind};

/// The prompt estimate the golden cases use when Ollama omits `prompt_eval_count`.
const PROMPT_ESTIMATE: u64 = 11;

fn run_case(provider: &str, dir: &std::path::Path) {
    let case = Case::new(dir, &["ollama-golden-key"]);
    let params = case.params();
    let (kind, model) = resolve_provider(&params).unwrap();
    let (expected, mode) = match provider {
        "ollama" => (ProviderKind::Ollama, OllamaMode::Generate),
        _ => (ProviderKind::OllamaChat, OllamaMode::Chat),
    };
    assert_eq!(kind, expected, "{}", dir.display());
    let adapter = OllamaAdapter::with_env(&params, &model, mode, |_| None).unwrap();
    let options = |include_usage| CallOptions {
        include_usage,
        prompt_estimate: PROMPT_ESTIMATE,
    };

    let include_usage = case.check_request(
        |req| req.wants_stream_usage(),
        |req, stream| adapter.build_chat_request(req, stream, &[]),
    );
    case.check_response(
        |bytes| adapter.parse_chat_response(bytes, options(false)),
        zero_generated,
    );
    case.check_stream(
        case.bytes("stream.upstream.ndjson"),
        || Box::new(adapter.stream_decoder(options(include_usage))),
        zero_generated,
    );
    case.check_embedding(
        |req| adapter.build_embedding_request(req, &[]),
        |bytes, req| adapter.parse_embedding_response(bytes, req),
    );
    case.check_error(|status, headers, body| adapter.map_error(status, headers, body));
}

#[test]
fn ollama_golden_cases() {
    run_cases("ollama", 6, |dir| run_case("ollama", dir));
}

#[test]
fn ollama_chat_golden_cases() {
    run_cases("ollama_chat", 12, |dir| run_case("ollama_chat", dir));
}
