//! Golden-file tests of the Gemini and Vertex AI translations, one directory per case under
//! `tests/golden/gemini/` and `tests/golden/vertex_ai/`. Each file pair is optional except
//! `params.json` (the deployment's `litellm_params`):
//! - `request.openai.json` (client request) -> `request.upstream.json` (method, URL, redacted
//!   headers, body; or `{"error": ...}`). The request also decides stream usage for the stream
//!   file of the same case. Vertex requests carry the bearer token `ya29.golden-token`
//!   (redacted in the file).
//! - `response.upstream.json` -> `response.openai.json` (`created` written as 0; an error as
//!   `{"error": ...}`).
//! - `stream.upstream.sse` -> `stream.openai.jsonl` (one chunk per line, `created` as 0; an error
//!   item is written as `{"error": {...}}`). The stream is also decoded byte by byte and must
//!   match.
//! - `embedding.openai.json` -> `embedding.upstream.json`, and with
//!   `embedding_response.upstream.json` -> `embedding_response.openai.json`.
//! - `error.upstream.json` (`{"status", "headers", "body"}`) -> `error.openai.json`.
//!
//! Generated tool-call ids (`call_<uuid>`) are written as `call_<generated>`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test golden_gemini` rewrites the expected
//! files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use secrecy::SecretString;

use common::golden::{run_cases, zero_generated, Case};
use litellm_providers::decoder::ChunkDecoder;
use litellm_providers::gemini::{CallOptions, GeminiAdapter};
use litellm_providers::vertex_ai::{self, VertexClaudeAdapter};
use litellm_providers::{anthropic, resolve_provider, ProviderKind, ProviderParams};

const SECRETS: &[&str] = &["AIza-test-key", "ya29.golden-token"];

/// The adapter of a case: Gemini (AI Studio or Vertex) or Claude on Vertex.
enum Adapter {
    Gemini(GeminiAdapter),
    Claude(VertexClaudeAdapter),
}

fn adapter(provider: &str, params: &ProviderParams) -> Adapter {
    let (kind, model) = resolve_provider(params).unwrap();
    let none = |_: &str| None;
    match provider {
        "gemini" => {
            assert_eq!(kind, ProviderKind::Gemini);
            Adapter::Gemini(GeminiAdapter::with_env(params, &model, none).unwrap())
        }
        _ => {
            assert_eq!(kind, ProviderKind::VertexAi);
            if vertex_ai::is_claude(&model) {
                let t = vertex_ai::target(params, &model, "anthropic", None, &none).unwrap();
                Adapter::Claude(VertexClaudeAdapter::new(params, &model, t).unwrap())
            } else {
                let t = vertex_ai::target(params, &model, "google", None, &none).unwrap();
                Adapter::Gemini(
                    GeminiAdapter::vertex(params, &model, t.api_base, t.model_url).unwrap(),
                )
            }
        }
    }
}

fn run_case(provider: &str, dir: &std::path::Path) {
    let case = Case::new(dir, SECRETS);
    let adapter = adapter(provider, &case.params());
    let bearer = SecretString::from("ya29.golden-token");
    let bearer = (provider == "vertex_ai").then_some(&bearer);

    let include_usage = case.check_request(
        |req| req.wants_stream_usage(),
        |req, stream| match &adapter {
            Adapter::Gemini(a) => a.build_chat_request(req, stream, &[], bearer),
            Adapter::Claude(a) => a.build_chat_request(req, stream, &[], bearer.unwrap()),
        },
    );
    case.check_response(
        |bytes| match &adapter {
            Adapter::Gemini(a) => a.parse_chat_response(bytes),
            Adapter::Claude(a) => a.anthropic().parse_chat_response(bytes, Default::default()),
        },
        zero_generated,
    );
    case.check_stream(
        case.bytes("stream.upstream.sse"),
        || -> Box<dyn ChunkDecoder> {
            match &adapter {
                Adapter::Gemini(a) => Box::new(a.stream_decoder(CallOptions { include_usage })),
                Adapter::Claude(a) => {
                    Box::new(a.anthropic().stream_decoder(anthropic::CallOptions {
                        json_mode: false,
                        include_usage,
                    }))
                }
            }
        },
        zero_generated,
    );
    if case.file("embedding.openai.json").is_some() {
        let Adapter::Gemini(a) = &adapter else {
            panic!("{}: embeddings need a Gemini adapter", dir.display());
        };
        case.check_embedding(
            |req| a.build_embedding_request(req, &[], bearer),
            |bytes, req| a.parse_embedding_response(bytes, req),
        );
    }
    case.check_error(|status, headers, body| match &adapter {
        Adapter::Gemini(a) => a.map_error(status, headers, body),
        Adapter::Claude(a) => a.map_error(status, headers, body),
    });
}

#[test]
fn gemini_golden_cases() {
    run_cases("gemini", 20, |dir| run_case("gemini", dir));
}

#[test]
fn vertex_ai_golden_cases() {
    run_cases("vertex_ai", 5, |dir| run_case("vertex_ai", dir));
}
