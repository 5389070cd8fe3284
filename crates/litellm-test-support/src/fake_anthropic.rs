//! `FakeAnthropic`: an in-process HTTP server on `127.0.0.1:0` speaking Anthropic's Messages
//! wire format (`POST /v1/messages`), for tests. It records what it receives and can be scripted
//! to answer any JSON, any event stream, or an error.
//!
//! Like the real API it refuses a request without `x-api-key` (401 `authentication_error`),
//! without `anthropic-version` (400), or whose body lacks `model`, `messages` or `max_tokens`
//! (400 `invalid_request_error`), with Anthropic's error body
//! `{"type": "error", "error": {"type", "message"}, "request_id"}`. Other paths get a 404
//! `not_found_error`. `POST /v1/messages/count_tokens` answers `{"input_tokens"}` (the input
//! estimate below) after the same checks, refusing fields that endpoint does not take (as
//! `max_tokens`, `stream`) with Anthropic's "Extra inputs are not permitted".
//!
//! It also refuses, before any scripted answer is used (the request is still recorded), a
//! conversation the real API refuses, with a 400 `invalid_request_error` worded as Anthropic's
//! (see [`crate::history::anthropic`]):
//! - a role other than `user` / `assistant` (`messages.{i}.role: Input should be 'user' or
//!   'assistant'`), except `system` when an `anthropic-beta` starts with
//!   `mid-conversation-system` or `per-turn-control` (Claude Code's mid-conversation system
//!   messages);
//! - a message with empty content (`""` or `[]`), but for an optional final assistant message;
//! - a `tool_result` whose `tool_use_id` is not a `tool_use` of the previous (non-system)
//!   message, an assistant message;
//! - a `tool_use` of an assistant message (not the last) left unanswered by `tool_result`
//!   blocks in the next (non-system) message;
//! - a `thinking` block without a `signature`.
//!
//! Consecutive messages of the same role are accepted, as Anthropic merges them.
//!
//! The default answer is a text message with [`FakeAnthropic::DEFAULT_REPLY`], or, when the body
//! has `"stream": true`, the documented event sequence: `message_start`,
//! `content_block_start`, `ping`, one `text_delta` per word, `content_block_stop`,
//! `message_delta` (`stop_reason: end_turn` and the output usage), `message_stop`. Usage is
//! estimated as `⌈chars/4⌉` of the text of every message (at least 1) for input and of the reply
//! for output. Every answer carries `request-id`.

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use crate::fake_script::chat_script;
use crate::fake_server::{
    fake_handle, messages_tokens, split_words, text_of, FakeHeaders, Incoming, ServerState,
};
use crate::history;

chat_script! {
    /// A scripted answer; queued answers are used once each, first in first out, then the
    /// default.
    AnthropicScript: "a message, or its event stream when the request streams",
    usage "(input_tokens, output_tokens)", default FakeAnthropic::DEFAULT_REPLY,
    /// An event stream of exactly these events (`event: <type>\ndata: <json>\n\n` each).
    Events(Vec<Value>)
}

impl AnthropicScript {
    /// Anthropic's error body with this status, error type and message.
    pub fn error(status: u16, kind: &str, message: &str) -> Self {
        AnthropicScript::Status {
            status,
            body: error_body(kind, message),
            headers: Vec::new(),
        }
    }
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"})
}

type Shared = ServerState<AnthropicScript>;

fake_handle!(FakeAnthropic(FakeServer<AnthropicScript>), start: (handle, ()),
    base_url: "The base URL to configure as `api_base`: `http://127.0.0.1:PORT` (requests go \
        to `/v1/messages` under it).",
    default_reply: "Hello from the fake Anthropic upstream!");

fn input_tokens(body: &Value) -> u64 {
    messages_tokens(body, text_of)
}

/// `count_tokens`: the fields the real endpoint takes, else its refusal; the input estimate.
/// Scripted answers are left for `/v1/messages`.
fn count_tokens(body: &Value) -> Response {
    const ALLOWED: &[&str] = &[
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "mcp_servers",
        "context_management",
        "output_config",
        "output_format",
    ];
    if let Some(field) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !ALLOWED.contains(&k.as_str())))
    {
        return HEADERS.json(
            400,
            &error_body(
                "invalid_request_error",
                &format!("{field}: Extra inputs are not permitted"),
            ),
            &[],
        );
    }
    HEADERS.json(200, &json!({"input_tokens": input_tokens(body)}), &[])
}

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let parsed = shared.record(&req);
    let (method, uri, headers) = (&req.method, &req.uri, &req.headers);
    let counting = uri.path() == "/v1/messages/count_tokens";
    if method != Method::POST || (uri.path() != "/v1/messages" && !counting) {
        return HEADERS.json(
            404,
            &error_body("not_found_error", &format!("Not found: {}", uri.path())),
            &[],
        );
    }
    if !headers.contains_key("x-api-key") {
        return HEADERS.json(
            401,
            &error_body("authentication_error", "x-api-key header is required"),
            &[],
        );
    }
    if !headers.contains_key("anthropic-version") {
        return HEADERS.json(
            400,
            &error_body(
                "invalid_request_error",
                "anthropic-version: header is required",
            ),
            &[],
        );
    }
    let Ok(body) = parsed else {
        return HEADERS.json(
            400,
            &error_body("invalid_request_error", "request body is not valid JSON"),
            &[],
        );
    };
    let required: &[&str] = if counting {
        &["model", "messages"]
    } else {
        &["model", "messages", "max_tokens"]
    };
    for field in required {
        if body.get(*field).is_none() {
            return HEADERS.json(
                400,
                &error_body("invalid_request_error", &format!("{field}: Field required")),
                &[],
            );
        }
    }
    if let Err(message) = history::anthropic(&body, headers) {
        return HEADERS.json(400, &error_body("invalid_request_error", &message), &[]);
    }
    if counting {
        return count_tokens(&body);
    }
    let script = shared.pop().unwrap_or(AnthropicScript::Default);
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude");
    script.answer().respond(
        &HEADERS,
        |events| HEADERS.events(&events),
        || input_tokens(&body),
        |text, usage| reply(model, text, usage, stream),
    )
}

fn reply(model: &str, text: &str, (input, output): (u64, u64), stream: bool) -> Response {
    if !stream {
        return HEADERS.json(
            200,
            &json!({
                "id": "msg_fake01", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": input, "output_tokens": output,
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
            }),
            &[],
        );
    }
    let mut events = vec![
        json!({"type": "message_start", "message": {
            "id": "msg_fake01", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input, "output_tokens": 1,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
    ];
    for piece in split_words(text) {
        events.push(json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": piece}}));
    }
    events.push(json!({"type": "content_block_stop", "index": 0}));
    events.push(json!({"type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
        "usage": {"output_tokens": output}}));
    events.push(json!({"type": "message_stop"}));
    HEADERS.events(&events)
}

/// The headers of every answer.
const HEADERS: FakeHeaders = FakeHeaders {
    json: &[
        ("content-type", "application/json"),
        ("request-id", "req_fake"),
    ],
    stream: &[
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("request-id", "req_fake"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_tokens_count_system_and_messages() {
        let body = json!({"system": [{"type": "text", "text": "abcd"}],
            "messages": [{"role": "user", "content": "efgh"}]});
        assert_eq!(input_tokens(&body), 2);
        assert_eq!(crate::fake_server::estimate_tokens(""), 1);
    }
}
