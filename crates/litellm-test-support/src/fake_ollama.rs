//! `FakeOllama`: an in-process HTTP server on `127.0.0.1:0` speaking Ollama's native API
//! (`POST /api/chat`, `POST /api/generate`, `POST /api/embed`), for tests. It records what it
//! receives and can be scripted to answer any JSON, any NDJSON stream, or an error.
//!
//! Like the real server it streams unless the body says `"stream": false` (one JSON object per
//! line, `application/x-ndjson`, the last with `"done": true`, `done_reason`, the durations,
//! `prompt_eval_count` and `eval_count`), answers errors as `{"error": "..."}`, refuses a body
//! without `model` (400), a chat without `messages` or with a role other than
//! `system`/`user`/`assistant`/`tool` (400), an `options` that is not an object (400), and a
//! model whose name starts with `missing` (404 `model "..." not found, try pulling it first`);
//! other paths get 404 `page not found`.
//!
//! The default answer is [`FakeOllama::DEFAULT_REPLY`] (one streamed object per word). Usage is
//! ⌈chars/4⌉ (at least 1) of the text of every message (or of the prompt) for
//! `prompt_eval_count` and of the reply for `eval_count`. Embeddings are deterministic
//! 4-dimensional vectors (or `dimensions`).

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use crate::fake_cohere::fake_vector;
use crate::fake_script::chat_script;
use crate::fake_server::{
    estimate_tokens as tokens, fake_handle, split_words, FakeHeaders, Incoming, ServerState,
};

chat_script! {
    /// A scripted answer; queued answers are used once each, first in first out, then the
    /// default.
    OllamaScript: "a response, its NDJSON stream, or embeddings",
    usage "(prompt_eval_count, eval_count)", default FakeOllama::DEFAULT_REPLY,
    /// An NDJSON stream of exactly these objects (one per line).
    Lines(Vec<Value>)
}

impl OllamaScript {
    /// Ollama's error body `{"error": message}` with this status.
    pub fn error(status: u16, message: &str) -> Self {
        OllamaScript::Status {
            status,
            body: json!({ "error": message }),
            headers: Vec::new(),
        }
    }
}

type Shared = ServerState<OllamaScript>;

fake_handle!(FakeOllama(FakeServer<OllamaScript>), start: (handle, ()),
    base_url: "The base URL to configure as `api_base`: `http://127.0.0.1:PORT`.",
    default_reply: "Hello from the fake Ollama upstream!");

fn prompt_tokens(body: &Value) -> u64 {
    if let Some(p) = body.get("prompt").and_then(Value::as_str) {
        return tokens(p);
    }
    let text: String = body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .collect();
    tokens(&text)
}

const CREATED_AT: &str = "2025-01-01T00:00:00.000000Z";

fn error(status: u16, message: &str) -> Response {
    HEADERS.json(status, &json!({ "error": message }), &[])
}

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let parsed = shared.record(&req);
    let Incoming { method, uri, .. } = req;
    let path = uri.path();
    let chat = path == "/api/chat";
    if method != Method::POST || !["/api/chat", "/api/generate", "/api/embed"].contains(&path) {
        return error(404, "404 page not found");
    }
    let Ok(body) = parsed else {
        return error(400, "invalid character in request body");
    };
    let Some(model) = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return error(400, "model is required");
    };
    if model.starts_with("missing") {
        return error(
            404,
            &format!("model \"{model}\" not found, try pulling it first"),
        );
    }
    if body.get("options").is_some_and(|o| !o.is_object()) {
        return error(400, "options must be an object");
    }
    let script = shared.pop().unwrap_or(OllamaScript::Default);
    if path == "/api/embed" {
        return embed(&model, &body, script);
    }
    if chat {
        let Some(messages) = body.get("messages").and_then(Value::as_array) else {
            return error(400, "messages is required");
        };
        for m in messages {
            let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
            if !["system", "user", "assistant", "tool"].contains(&role) {
                return error(400, &format!("invalid role: {role:?}"));
            }
        }
    } else if body.get("prompt").and_then(Value::as_str).is_none() {
        return error(400, "prompt is required");
    }
    let stream = body.get("stream").and_then(Value::as_bool) != Some(false);
    script.answer().respond(
        &HEADERS,
        |lines| ndjson_response(&lines),
        || prompt_tokens(&body),
        |text, usage| reply(&model, chat, text, usage, stream),
    )
}

fn embed(model: &str, body: &Value, script: OllamaScript) -> Response {
    if let Ok(scripted) = script.answer().fixed(&HEADERS) {
        return scripted;
    }
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => return error(400, "input is required"),
    };
    let dims = body.get("dimensions").and_then(Value::as_u64).unwrap_or(4) as usize;
    let vectors: Vec<Vec<f64>> = inputs.iter().map(|t| fake_vector(t, dims)).collect();
    let count: u64 = inputs.iter().map(|t| tokens(t)).sum();
    HEADERS.json(
        200,
        &json!({"model": model, "embeddings": vectors, "total_duration": 14143917,
            "load_duration": 1019500, "prompt_eval_count": count}),
        &[],
    )
}

fn piece(model: &str, chat: bool, text: &str) -> Value {
    if chat {
        json!({"model": model, "created_at": CREATED_AT,
            "message": {"role": "assistant", "content": text}, "done": false})
    } else {
        json!({"model": model, "created_at": CREATED_AT, "response": text, "done": false})
    }
}

fn reply(
    model: &str,
    chat: bool,
    text: &str,
    (input, output): (u64, u64),
    stream: bool,
) -> Response {
    let mut last = piece(model, chat, if stream { "" } else { text });
    last["done"] = json!(true);
    last["done_reason"] = json!("stop");
    last["total_duration"] = json!(5_191_566_416u64);
    last["load_duration"] = json!(2_154_458u64);
    last["prompt_eval_count"] = json!(input);
    last["prompt_eval_duration"] = json!(383_809_000u64);
    last["eval_count"] = json!(output);
    last["eval_duration"] = json!(4_799_921_000u64);
    if !chat {
        last["context"] = json!([1, 2, 3]);
    }
    if !stream {
        return HEADERS.json(200, &last, &[]);
    }
    let mut lines: Vec<Value> = split_words(text)
        .into_iter()
        .map(|p| piece(model, chat, p))
        .collect();
    lines.push(last);
    ndjson_response(&lines)
}

/// The headers of every answer.
const HEADERS: FakeHeaders = FakeHeaders {
    json: &[("content-type", "application/json; charset=utf-8")],
    stream: &[("content-type", "application/x-ndjson")],
};

fn ndjson_response(lines: &[Value]) -> Response {
    HEADERS.framed(lines, |l| format!("{l}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_tokens_count_the_prompt_or_the_messages() {
        assert_eq!(prompt_tokens(&json!({"prompt": "abcdefgh"})), 2);
        assert_eq!(
            prompt_tokens(&json!({"messages": [{"role": "user", "content": "abcd"},
                {"role": "user", "content": "efgh"}]})),
            2
        );
        let done = piece("m", true, "x");
        assert_eq!(done["message"]["content"], "x");
    }
}
