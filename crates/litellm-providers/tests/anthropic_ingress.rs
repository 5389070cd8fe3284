//! Golden-file tests of the Anthropic-format ingress (`anthropic_ingress.rs`), one directory per
//! case under `tests/golden/anthropic_ingress/`. Every file is optional except the inputs a case
//! is about:
//! - `request.anthropic.json` (+ `options.json`: `{"native", "forward_headers",
//!   "claude_target"}`) -> `request.openai.json` (the `ChatRequest`), or `error.json` when
//!   refused. In native mode instead `request.upstream.json`: the Messages body and headers the
//!   Anthropic adapter sends for it (`build_native_request`), which must equal the client's body
//!   but for `model`.
//! - `response.openai.json` (`ChatResponse`) -> `response.anthropic.json`.
//! - `chunks.openai.jsonl` (OpenAI chunks) -> `events.anthropic.jsonl` (`{"event", "data"}`).
//! - `upstream.response.json` (an Anthropic message) -> through the Anthropic adapter and back
//!   -> `response.anthropic.json`.
//! - `upstream.events.jsonl` (Anthropic stream events) -> through the adapter's decoder and the
//!   translator -> `events.anthropic.jsonl`.
//!
//! `UPDATE_EXPECT=1 cargo test -p litellm-providers --test anthropic_ingress` rewrites the
//! expected files.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use litellm_core::{ChatChunk, ChatResponse, LlmError};
use litellm_providers::anthropic::{AnthropicAdapter, CallOptions};
use litellm_providers::anthropic_ingress::{
    self as ingress, IngressOptions, MessagesRequest, StreamEvent, StreamTranslator,
};
use litellm_providers::backend_common::NativeCall;
use litellm_providers::ProviderParams;
use litellm_test_support::golden::{case_dirs, check_json, check_jsonl, read_json, read_jsonl};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/anthropic_ingress")
}

fn adapter() -> AnthropicAdapter {
    let params = ProviderParams {
        model: "anthropic/claude-sonnet-4-20250514".into(),
        api_key: Some(secrecy::SecretString::from("sk-ant-test")),
        extra_headers: Some(
            [(
                "anthropic-beta".to_string(),
                "prompt-caching-2024-07-31".to_string(),
            )]
            .into_iter()
            .collect(),
        ),
        ..Default::default()
    };
    AnthropicAdapter::with_env(&params, "claude-sonnet-4-20250514", |_| None).unwrap()
}

/// A case's options: the ingress options, native mode, and the headers a client forwarded.
fn options(case: &Path) -> (IngressOptions, bool, Vec<(String, String)>) {
    let path = case.join("options.json");
    if !path.exists() {
        return (IngressOptions::default(), false, Vec::new());
    }
    let v = read_json(&path);
    let opts = IngressOptions {
        claude_target: v["claude_target"].as_bool().unwrap_or(false),
    };
    let forward = v["forward_headers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (opts, v["native"].as_bool().unwrap_or(false), forward)
}

fn events_json(events: &[StreamEvent]) -> Vec<Value> {
    events
        .iter()
        .map(|e| json!({"event": e.event, "data": e.data}))
        .collect()
}

fn error_json(e: &LlmError) -> Value {
    json!({"kind": e.kind.litellm_class(), "param": e.param, "message": e.message})
}

fn translate(chunks: impl IntoIterator<Item = Result<ChatChunk, LlmError>>) -> Vec<StreamEvent> {
    let mut t = StreamTranslator::new("requested-model", 10);
    let mut out = Vec::new();
    for item in chunks {
        match item {
            Ok(c) => t.push(&c, &mut out),
            Err(e) => t.fail(500, &e.message, &mut out),
        }
    }
    t.finish(&mut out);
    out
}

fn run_case(case: &Path) {
    let req_path = case.join("request.anthropic.json");
    if req_path.exists() {
        let (opts, native, forward) = options(case);
        if native {
            let body = read_json(&req_path).as_object().unwrap().clone();
            let call = NativeCall::Messages {
                stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            };
            let up = adapter()
                .build_native_request(body, call, &forward, &[])
                .unwrap();
            let mut headers: Vec<(String, String)> = up
                .headers
                .iter()
                .filter(|(k, _)| k.as_str().starts_with("anthropic-"))
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                .collect();
            headers.sort();
            let body: Value = serde_json::from_slice(&up.body).unwrap();
            check_json(
                &case.join("request.upstream.json"),
                &json!({"headers": headers, "body": body}),
            );
        } else {
            let req: MessagesRequest = serde_json::from_value(read_json(&req_path)).unwrap();
            match ingress::to_chat_request(req, &opts) {
                Ok(chat) => check_json(
                    &case.join("request.openai.json"),
                    &serde_json::to_value(&chat).unwrap(),
                ),
                Err(e) => check_json(&case.join("error.json"), &error_json(&e)),
            }
        }
    }
    let resp_path = case.join("response.openai.json");
    if resp_path.exists() {
        let resp: ChatResponse = serde_json::from_value(read_json(&resp_path)).unwrap();
        check_json(
            &case.join("response.anthropic.json"),
            &ingress::to_messages_response(&resp),
        );
    }
    let chunks_path = case.join("chunks.openai.jsonl");
    if chunks_path.exists() {
        let chunks = read_jsonl(&chunks_path)
            .into_iter()
            .map(|v| Ok(serde_json::from_value::<ChatChunk>(v).unwrap()));
        check_jsonl(
            &case.join("events.anthropic.jsonl"),
            &events_json(&translate(chunks)),
        );
    }
    let up_resp = case.join("upstream.response.json");
    if up_resp.exists() {
        let body = serde_json::to_vec(&read_json(&up_resp)).unwrap();
        let resp = adapter()
            .parse_chat_response(&body, CallOptions::default())
            .unwrap();
        check_json(
            &case.join("response.anthropic.json"),
            &ingress::to_messages_response(&resp),
        );
    }
    let up_events = case.join("upstream.events.jsonl");
    if up_events.exists() {
        let events = upstream_events(&up_events);
        let mut sse = String::new();
        for e in &events {
            sse.push_str(&format!(
                "event: {}\ndata: {}\n\n",
                e["type"].as_str().unwrap(),
                e
            ));
        }
        let chunks = decode(sse.as_bytes());
        check_jsonl(
            &case.join("events.anthropic.jsonl"),
            &events_json(&translate(chunks)),
        );
    }
}

fn upstream_events(path: &Path) -> Vec<Value> {
    read_jsonl(path)
}

fn decode(bytes: &[u8]) -> Vec<Result<ChatChunk, LlmError>> {
    let mut decoder = adapter().stream_decoder(CallOptions {
        json_mode: false,
        include_usage: true,
    });
    let mut out: VecDeque<Result<ChatChunk, LlmError>> = VecDeque::new();
    decoder.feed(bytes, &mut out);
    decoder.finish(&mut out);
    out.into_iter().collect()
}

#[test]
fn golden_cases() {
    let cases = case_dirs(&root());
    assert!(cases.len() >= 10, "the golden cases are missing");
    for case in cases {
        run_case(&case);
    }
}

/// In native mode the body the Anthropic adapter sends equals what the client sent, but for
/// the deployment's model: every role (mid-conversation `system`), single-block assistant
/// turns, thinking signatures, `cache_control`, unknown fields.
#[test]
fn native_requests_reach_an_anthropic_upstream_unchanged() {
    let case = root().join("request_native_lossless");
    let client = read_json(&case.join("request.anthropic.json"));
    let (_, _, forward) = options(&case);
    let up = adapter()
        .build_native_request(
            client.as_object().unwrap().clone(),
            NativeCall::Messages { stream: false },
            &forward,
            &[],
        )
        .unwrap();
    let sent: Value = serde_json::from_slice(&up.body).unwrap();
    let mut expected = client;
    expected["model"] = json!("claude-sonnet-4-20250514");
    assert_eq!(sent, expected);
    assert_eq!(
        up.headers.get("anthropic-beta").unwrap(),
        "prompt-caching-2024-07-31,interleaved-thinking-2025-05-14"
    );
}

/// An Anthropic stream decoded by the adapter and re-encoded by the translator keeps every
/// block, delta, signature, stop reason and usage figure.
#[test]
fn an_anthropic_stream_round_trips() {
    let case = root().join("upstream_stream_thinking_tool");
    let upstream = upstream_events(&case.join("upstream.events.jsonl"));
    let mut sse = String::new();
    for e in &upstream {
        sse.push_str(&format!(
            "event: {}\ndata: {}\n\n",
            e["type"].as_str().unwrap(),
            e
        ));
    }
    let events = translate(decode(sse.as_bytes()));
    let names: Vec<&str> = events.iter().map(|e| e.event).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[0].data["message"]["id"], "msg_01ABC");
    assert_eq!(
        events[4].data["delta"],
        json!({"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"})
    );
    let args: String = events
        .iter()
        .filter(|e| e.data["delta"]["type"] == "input_json_delta")
        .map(|e| {
            e.data["delta"]["partial_json"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(args, "{\"location\": \"San Francisco, CA\"}");
    let delta = &events[13].data;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 472, "output_tokens": 89,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 100})
    );
}

/// A failure after the stream started is one `error` event, typed by status, and nothing after.
#[test]
fn a_failed_stream_ends_with_one_error_event() {
    let chunk: ChatChunk = serde_json::from_value(json!({"id": "chatcmpl-x", "created": 1,
        "model": "m", "choices": [{"index": 0, "delta": {"content": "partial"}}]}))
    .unwrap();
    let mut t = StreamTranslator::new("m", 3);
    let mut out = Vec::new();
    t.push(&chunk, &mut out);
    t.fail(529, "Overloaded", &mut out);
    t.finish(&mut out);
    let last = out.last().unwrap();
    assert_eq!(last.event, "error");
    assert_eq!(
        last.data,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert_eq!(
        last.to_sse(),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
    );
    assert!(t.is_done());
}

/// An empty stream still has the message frame.
#[test]
fn an_empty_stream_is_a_complete_message() {
    let events = translate(std::iter::empty());
    let names: Vec<&str> = events.iter().map(|e| e.event).collect();
    assert_eq!(names, ["message_start", "message_delta", "message_stop"]);
    assert!(events[0].data["message"]["id"]
        .as_str()
        .unwrap()
        .starts_with("msg_"));
    assert_eq!(events[1].data["delta"]["stop_reason"], "end_turn");
}

#[test]
fn count_tokens_estimate_counts_text_tools_and_media() {
    let req: MessagesRequest = serde_json::from_value(json!({
        "model": "m",
        "system": "abcd",
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "efgh"},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
            ]}
        ]
    }))
    .unwrap();
    // 8 characters -> 2 tokens, 3 per message + 3, one image.
    assert_eq!(ingress::estimate_input_tokens(&req), 2 + 6 + 1600);
    assert_eq!(ingress::media_block_count(&req), 1);
    let with_tools: MessagesRequest = serde_json::from_value(json!({
        "model": "m", "messages": [{"role": "user", "content": "efgh"}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}]
    }))
    .unwrap();
    assert!(ingress::estimate_input_tokens(&with_tools) > 1 + 6);
}
