//! `FakeAnthropic`: an in-process HTTP server on `127.0.0.1:0` speaking Anthropic's Messages
//! wire format (`POST /v1/messages`), for tests. It records what it receives and can be scripted
//! to answer any JSON, any event stream, or an error.
//!
//! Like the real API it refuses a request without `x-api-key` (401 `authentication_error`),
//! without `anthropic-version` (400), or whose body lacks `model`, `messages` or `max_tokens`
//! (400 `invalid_request_error`), with Anthropic's error body
//! `{"type": "error", "error": {"type", "message"}}`. Other paths get a 404 `not_found_error`.
//!
//! The default answer is a text message with [`FakeAnthropic::DEFAULT_REPLY`], or, when the body
//! has `"stream": true`, the documented event sequence: `message_start`,
//! `content_block_start`, `ping`, one `text_delta` per word, `content_block_stop`,
//! `message_delta` (`stop_reason: end_turn` and the output usage), `message_stop`. Usage is
//! estimated as `⌈chars/4⌉` of the text of every message (at least 1) for input and of the reply
//! for output. Every answer carries `request-id`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use crate::fake_openai::RecordedRequest;

/// A scripted answer; queued answers are used once each, first in first out, then the default.
#[derive(Debug, Clone, PartialEq)]
pub enum AnthropicScript {
    /// The built-in answer (a message, or its event stream when the request streams).
    Default,
    /// The built-in answer with this text and exact usage `(input_tokens, output_tokens)`.
    Reply {
        text: String,
        usage: Option<(u64, u64)>,
    },
    /// Status 200 with exactly this JSON body.
    Json(Value),
    /// Any status with this JSON body and extra response headers.
    Status {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    /// An event stream of exactly these events (`event: <type>\ndata: <json>\n\n` each).
    Events(Vec<Value>),
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

    /// Adds a response header (only meaningful on `Status`).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let AnthropicScript::Status { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"})
}

struct Shared {
    queue: Mutex<VecDeque<AnthropicScript>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fake server. Shuts down when dropped.
pub struct FakeAnthropic {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeAnthropic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAnthropic")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeAnthropic {
    /// The default reply text.
    pub const DEFAULT_REPLY: &'static str = "Hello from the fake Anthropic upstream!";

    /// Starts the server on a free loopback port, on the current tokio runtime (panics if the
    /// port cannot be bound).
    pub async fn start() -> FakeAnthropic {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for FakeAnthropic");
        let addr = listener.local_addr().expect("FakeAnthropic local address");
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeAnthropic {
            addr,
            shared,
            shutdown: Some(tx),
        }
    }

    /// The base URL to configure as `api_base`: `http://127.0.0.1:PORT` (requests go to
    /// `/v1/messages` under it).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Queues an answer for a future request.
    pub fn push(&self, s: AnthropicScript) {
        lock(&self.shared.queue).push_back(s);
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn input_tokens(body: &Value) -> u64 {
    let mut text = text_of(body.get("system").unwrap_or(&Value::Null));
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        text.push_str(&text_of(m.get("content").unwrap_or(&Value::Null)));
    }
    tokens(&text)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body);
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| uri.path().to_string()),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: match &parsed {
            Ok(v) => v.clone(),
            Err(_) => Value::String(String::from_utf8_lossy(&body).into_owned()),
        },
    });
    if method != Method::POST || uri.path() != "/v1/messages" {
        return json_response(
            404,
            &error_body("not_found_error", &format!("Not found: {}", uri.path())),
            &[],
        );
    }
    if !headers.contains_key("x-api-key") {
        return json_response(
            401,
            &error_body("authentication_error", "x-api-key header is required"),
            &[],
        );
    }
    if !headers.contains_key("anthropic-version") {
        return json_response(
            400,
            &error_body(
                "invalid_request_error",
                "anthropic-version: header is required",
            ),
            &[],
        );
    }
    let Ok(body) = parsed else {
        return json_response(
            400,
            &error_body("invalid_request_error", "request body is not valid JSON"),
            &[],
        );
    };
    for field in ["model", "messages", "max_tokens"] {
        if body.get(field).is_none() {
            return json_response(
                400,
                &error_body("invalid_request_error", &format!("{field}: Field required")),
                &[],
            );
        }
    }
    let script = lock(&shared.queue)
        .pop_front()
        .unwrap_or(AnthropicScript::Default);
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude")
        .to_string();
    match script {
        AnthropicScript::Json(v) => json_response(200, &v, &[]),
        AnthropicScript::Status {
            status,
            body,
            headers,
        } => json_response(status, &body, &headers),
        AnthropicScript::Events(events) => sse_response(&events),
        AnthropicScript::Default => reply(
            &model,
            FakeAnthropic::DEFAULT_REPLY,
            (input_tokens(&body), tokens(FakeAnthropic::DEFAULT_REPLY)),
            stream,
        ),
        AnthropicScript::Reply { text, usage } => {
            let usage = usage.unwrap_or((input_tokens(&body), tokens(&text)));
            reply(&model, &text, usage, stream)
        }
    }
}

fn reply(model: &str, text: &str, (input, output): (u64, u64), stream: bool) -> Response {
    if !stream {
        return json_response(
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
    let mut start = 0;
    let pieces: Vec<&str> = text
        .char_indices()
        .filter(|(i, c)| *i > 0 && c.is_whitespace())
        .map(|(i, _)| {
            let piece = &text[start..i];
            start = i;
            piece
        })
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::once(&text[start..]))
        .collect();
    for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
        events.push(json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": piece}}));
    }
    events.push(json!({"type": "content_block_stop", "index": 0}));
    events.push(json!({"type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
        "usage": {"output_tokens": output}}));
    events.push(json!({"type": "message_stop"}));
    sse_response(&events)
}

fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("request-id", "req_fake");
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn sse_response(events: &[Value]) -> Response {
    let frames: Vec<Result<Bytes, std::io::Error>> = events
        .iter()
        .map(|e| {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("message");
            Ok(Bytes::from(format!("event: {kind}\ndata: {e}\n\n")))
        })
        .collect();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("request-id", "req_fake")
        .body(Body::from_stream(futures::stream::iter(frames)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_tokens_count_system_and_messages() {
        let body = json!({"system": [{"type": "text", "text": "abcd"}],
            "messages": [{"role": "user", "content": "efgh"}]});
        assert_eq!(input_tokens(&body), 2);
        assert_eq!(tokens(""), 1);
    }
}
