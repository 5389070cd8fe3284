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

mod common;

use common::golden::{run_cases, zero_created, Case};
use litellm_core::LlmError;
use litellm_providers::anthropic::{AnthropicAdapter, CallOptions};
use litellm_providers::{resolve_provider, ProviderKind};

fn run_case(dir: &std::path::Path) {
    let case = Case::new(dir, &["sk-ant-test"]);
    let params = case.params();
    let (kind, model) = resolve_provider(&params).unwrap();
    assert_eq!(kind, ProviderKind::Anthropic, "{}", dir.display());
    let adapter = AnthropicAdapter::with_env(&params, &model, |_| None).unwrap();

    let options = case.check_request(CallOptions::of, |req, stream| {
        adapter.build_chat_request(req, stream, &[])
    });
    case.check_response(
        |bytes| Ok::<_, LlmError>(adapter.parse_chat_response(bytes, options).unwrap()),
        zero_created,
    );
    case.check_stream(
        case.bytes("stream.upstream.sse"),
        || Box::new(adapter.stream_decoder(options)),
        zero_created,
    );
    case.check_error(|status, headers, body| adapter.map_error(status, headers, body));
}

#[test]
fn anthropic_golden_cases() {
    run_cases("anthropic", 20, run_case);
}
