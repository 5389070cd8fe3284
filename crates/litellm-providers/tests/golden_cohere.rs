//! Golden-file tests of the Cohere v2 translation, one directory per case under
//! `tests/golden/cohere/`. Each file pair is optional except `params.json` (the deployment's
//! `litellm_params`):
//! - `request.openai.json` (client request) -> `request.upstream.json` (method, URL, redacted
//!   headers, body; or `{"error": ...}`). The request also decides stream usage for the stream
//!   file of the same case.
//! - `response.upstream.json` -> `response.openai.json` (`created` written as 0; an error as
//!   `{"error": ...}`).
//! - `stream.upstream.sse` -> `stream.openai.jsonl` (one chunk per line, `created` as 0; an error
//!   item is written as `{"error": {...}}`). The stream is also decoded byte by byte and must
//!   match.
//! - `embedding.openai.json` -> `embedding.upstream.json`, and with
//!   `embedding_response.upstream.json` -> `embedding_response.openai.json`.
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`.
//!
//! Generated ids (`call_<uuid>`, `chatcmpl-<uuid>`) are written as `<generated>`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test golden_cohere` rewrites the expected
//! files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use common::golden::{run_cases, zero_generated, Case};
use litellm_providers::cohere::{CallOptions, CohereAdapter};
use litellm_providers::{resolve_provider, ProviderKind};

fn run_case(dir: &std::path::Path) {
    let case = Case::new(dir, &["co-golden-key"]);
    let params = case.params();
    let (kind, model) = resolve_provider(&params).unwrap();
    assert_eq!(kind, ProviderKind::Cohere, "{}", dir.display());
    let adapter = CohereAdapter::with_env(&params, &model, |_| None).unwrap();

    let include_usage = case.check_request(
        |req| req.wants_stream_usage(),
        |req, stream| adapter.build_chat_request(req, stream, &[]),
    );
    case.check_response(|bytes| adapter.parse_chat_response(bytes), zero_generated);
    case.check_stream(
        case.bytes("stream.upstream.sse"),
        || Box::new(adapter.stream_decoder(CallOptions { include_usage })),
        zero_generated,
    );
    case.check_embedding(
        |req| adapter.build_embedding_request(req, &[]),
        |bytes, req| adapter.parse_embedding_response(bytes, req),
    );
    case.check_error(|status, headers, body| adapter.map_error(status, headers, body));
}

#[test]
fn cohere_golden_cases() {
    run_cases("cohere", 20, run_case);
}
