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

mod common;

use serde_json::Value;

use common::golden::{as_is, run_cases, Case};
use litellm_core::{ChatRequest, EmbeddingRequest};
use litellm_providers::{azure, resolve_provider, OpenAiAdapter, ProviderKind};

fn run_case(dir: &std::path::Path) {
    let case = Case::new(dir, &["sk-test"]);
    let params = case.params();
    let (kind, model) = resolve_provider(&params).unwrap();
    let adapter = match kind {
        ProviderKind::OpenAI => OpenAiAdapter::with_env(&params, &model, |_| None).unwrap(),
        ProviderKind::Azure => azure::adapter(&params, &model, |_| None).unwrap(),
        other => panic!(
            "{}: not an OpenAI-format provider: {other:?}",
            dir.display()
        ),
    };

    let request: Option<Value> = case.json("request.openai.json");
    let is_embedding = request.as_ref().is_some_and(|r| r.get("input").is_some());
    let mut wants_base64 = false;
    if let Some(request) = request {
        let upstream = if is_embedding {
            let req: EmbeddingRequest = serde_json::from_value(request).unwrap();
            wants_base64 = req.wants_base64();
            adapter.build_embedding_request(req, &[]).unwrap()
        } else {
            let req: ChatRequest = serde_json::from_value(request).unwrap();
            let stream = req.is_stream();
            adapter.build_chat_request(req, stream, &[]).unwrap()
        };
        case.check("request.upstream.json", &case.upstream(Ok(upstream)));
    }

    case.check_response(
        |bytes| {
            Ok(if is_embedding {
                serde_json::to_value(
                    adapter
                        .parse_embedding_response(bytes, wants_base64)
                        .unwrap(),
                )
            } else {
                serde_json::to_value(adapter.parse_chat_response(bytes).unwrap())
            }
            .unwrap())
        },
        as_is,
    );
    case.check_stream(
        case.bytes("stream.upstream.sse"),
        || Box::new(adapter.stream_decoder()),
        as_is,
    );
    case.check_error(|status, headers, body| adapter.map_error(status, headers, body));
}

#[test]
fn openai_golden_cases() {
    run_cases("openai", 20, run_case);
}

#[test]
fn azure_golden_cases() {
    run_cases("azure", 5, run_case);
}
