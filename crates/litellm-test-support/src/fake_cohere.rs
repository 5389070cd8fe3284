//! `FakeCohere`: an in-process HTTP server on `127.0.0.1:0` speaking Cohere's v2 wire format
//! (`POST /v2/chat`, JSON or its SSE event stream, `POST /v2/embed` and `POST /v2/rerank`), for
//! tests. It records
//! what it receives and can be scripted to answer any JSON, any event stream, or an error.
//!
//! Like the real API it answers errors as `{"id", "message"}`: a missing or non-Bearer
//! `Authorization` is 401 `invalid api token`; a body without `model`, with empty `messages`, a
//! role other than `system`/`user`/`assistant`/`tool`, a `tool` message without `tool_call_id`,
//! or an OpenAI-only field (`top_p`, `stop`, `max_completion_tokens`, `n`) is 400; an embed
//! request without `texts`, `input_type` or `embedding_types` is 400; other paths 404.
//!
//! The default chat answer is [`FakeCohere::DEFAULT_REPLY`] with `finish_reason: COMPLETE`; when
//! the body has `"stream": true` it is the documented sequence `message-start`, `content-start`,
//! one `content-delta` per word, `content-end`, `message-end` (finish reason and usage), each
//! framed `event: <type>\ndata: <json>\n\n`. Usage is ⌈chars/4⌉ (at least 1) of the text of
//! every message for input and of the reply for output, reported in both `billed_units` and
//! `tokens`. Embeddings are deterministic 4-dimensional vectors (or `output_dimension`).

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use crate::fake_script::chat_script;
use crate::fake_server::{
    estimate_tokens as tokens, fake_handle, split_words, text_of, FakeHeaders, Incoming,
    ServerState,
};

chat_script! {
    /// A scripted answer; queued answers are used once each, first in first out, then the
    /// default.
    CohereScript: "a response, its event stream, or embeddings",
    usage "(input_tokens, output_tokens)", default FakeCohere::DEFAULT_REPLY,
    /// An event stream of exactly these events (`event: <type>\ndata: <json>\n\n` each).
    Events(Vec<Value>)
}

impl CohereScript {
    /// Cohere's error body with this status and message.
    pub fn error(status: u16, message: &str) -> Self {
        CohereScript::Status {
            status,
            body: error_body(message),
            headers: Vec::new(),
        }
    }
}

fn error_body(message: &str) -> Value {
    json!({"id": "err-fake-0001", "message": message})
}

type Shared = ServerState<CohereScript>;

fake_handle!(FakeCohere(FakeServer<CohereScript>), start: (handle, ()),
    base_url: "The base URL to configure as `api_base`: `http://127.0.0.1:PORT`.",
    default_reply: "Hello from the fake Cohere upstream!");

fn input_tokens(body: &Value) -> u64 {
    let text: String = body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| text_of(m.get("content").unwrap_or(&Value::Null)))
        .collect();
    tokens(&text)
}

/// The deterministic vector of a text: `dims` values from its bytes, normalized.
pub fn fake_vector(text: &str, dims: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..dims)
        .map(|i| {
            let sum: u64 = text
                .bytes()
                .enumerate()
                .map(|(j, b)| u64::from(b) * (i as u64 + j as u64 + 1))
                .sum();
            (sum % 97) as f64 + 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn validate_chat(body: &Value) -> Option<String> {
    if body.get("model").and_then(Value::as_str).is_none() {
        return Some("invalid request: model must be provided".into());
    }
    for field in ["top_p", "stop", "max_completion_tokens", "n", "top_k"] {
        if body.get(field).is_some() {
            return Some(format!(
                "invalid request: unknown field: parameter {field} is not a valid field"
            ));
        }
    }
    let messages = body.get("messages").and_then(Value::as_array);
    let Some(messages) = messages.filter(|m| !m.is_empty()) else {
        return Some("invalid request: messages must not be empty".into());
    };
    for (i, m) in messages.iter().enumerate() {
        match m.get("role").and_then(Value::as_str) {
            Some("system" | "user" | "assistant") => {}
            Some("tool") => {
                if m.get("tool_call_id").and_then(Value::as_str).is_none() {
                    return Some(format!(
                        "invalid request: messages[{i}]: tool messages must have a tool_call_id"
                    ));
                }
            }
            other => {
                return Some(format!(
                    "invalid request: messages[{i}]: invalid role {other:?}"
                ))
            }
        }
    }
    None
}

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let parsed = shared.record(&req);
    let (method, uri, headers) = (&req.method, &req.uri, &req.headers);
    let path = uri.path();
    if method != Method::POST || !["/v2/chat", "/v2/embed", "/v2/rerank"].contains(&path) {
        return HEADERS.json(404, &error_body(&format!("Not found: {path}")), &[]);
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    if !authorized {
        return HEADERS.json(401, &error_body("invalid api token"), &[]);
    }
    let Ok(body) = parsed else {
        return HEADERS.json(
            400,
            &error_body("invalid request: body is not valid JSON"),
            &[],
        );
    };
    if path == "/v2/embed" {
        return embed(&shared, &body);
    }
    if path == "/v2/rerank" {
        return match crate::fake_families::cohere_rerank(&body) {
            Err(problem) => HEADERS.json(400, &error_body(&problem), &[]),
            Ok(answer) => match shared.pop().map(|s| s.answer().fixed(&HEADERS)) {
                Some(Ok(scripted)) => scripted,
                _ => HEADERS.json(200, &answer, &[]),
            },
        };
    }
    if let Some(problem) = validate_chat(&body) {
        return HEADERS.json(400, &error_body(&problem), &[]);
    }
    let script = shared.pop().unwrap_or(CohereScript::Default);
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    script.answer().respond(
        &HEADERS,
        |events| HEADERS.events(&events),
        || input_tokens(&body),
        |text, usage| reply(text, usage, stream),
    )
}

fn embed(shared: &Shared, body: &Value) -> Response {
    let texts: Vec<String> = body
        .get("texts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if texts.is_empty() {
        return HEADERS.json(
            400,
            &error_body("invalid request: texts must not be empty"),
            &[],
        );
    }
    for field in ["model", "input_type", "embedding_types"] {
        if body.get(field).is_none() {
            return HEADERS.json(
                400,
                &error_body(&format!("invalid request: {field} is required")),
                &[],
            );
        }
    }
    if let Some(Ok(scripted)) = shared.pop().map(|s| s.answer().fixed(&HEADERS)) {
        return scripted;
    }
    let dims = body
        .get("output_dimension")
        .and_then(Value::as_u64)
        .unwrap_or(4) as usize;
    let vectors: Vec<Vec<f64>> = texts.iter().map(|t| fake_vector(t, dims)).collect();
    let input: u64 = texts.iter().map(|t| tokens(t)).sum();
    HEADERS.json(
        200,
        &json!({
            "id": "emb-fake-0001",
            "embeddings": {"float": vectors},
            "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": input}},
            "response_type": "embeddings_by_type"
        }),
        &[],
    )
}

fn usage(input: u64, output: u64) -> Value {
    json!({
        "billed_units": {"input_tokens": input, "output_tokens": output},
        "tokens": {"input_tokens": input, "output_tokens": output}
    })
}

fn reply(text: &str, (input, output): (u64, u64), stream: bool) -> Response {
    if !stream {
        return HEADERS.json(
            200,
            &json!({
                "id": "c0ffee00-fake-4000-8000-000000000001",
                "finish_reason": "COMPLETE",
                "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
                "usage": usage(input, output)
            }),
            &[],
        );
    }
    let mut events = vec![
        json!({"id": "c0ffee00-fake-4000-8000-000000000001", "type": "message-start",
            "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "",
                "tool_calls": [], "citations": []}}}),
        json!({"type": "content-start", "index": 0,
            "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
    ];
    for piece in split_words(text) {
        events.push(json!({"type": "content-delta", "index": 0,
            "delta": {"message": {"content": {"text": piece}}}}));
    }
    events.push(json!({"type": "content-end", "index": 0}));
    events.push(json!({"type": "message-end",
        "delta": {"finish_reason": "COMPLETE", "usage": usage(input, output)}}));
    HEADERS.events(&events)
}

/// The headers of every answer.
const HEADERS: FakeHeaders = FakeHeaders {
    json: &[
        ("content-type", "application/json"),
        ("x-trial-endpoint-call-remaining", "999"),
    ],
    stream: &[
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_validation_follows_the_v2_rules() {
        assert!(validate_chat(&json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"}]}))
        .is_none());
        assert!(validate_chat(&json!({"model": "m", "messages": []})).is_some());
        assert!(validate_chat(&json!({"model": "m", "top_p": 0.5,
            "messages": [{"role": "user", "content": "hi"}]}))
        .is_some());
        assert!(validate_chat(&json!({"model": "m", "messages": [
            {"role": "tool", "content": "x"}]}))
        .is_some());
        let v = fake_vector("abc", 4);
        assert_eq!(v.len(), 4);
        assert!((v.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
