//! `FakeBedrock`: an in-process HTTP server on `127.0.0.1:0` speaking Amazon Bedrock Runtime's
//! wire format, for tests: `POST /model/{modelId}/converse` (JSON), `/converse-stream` (the
//! binary `application/vnd.amazon.eventstream` framing, encoded with `aws-smithy-eventstream`)
//! and `/invoke` (Titan and Cohere embeddings). It records what it receives and can be scripted
//! to answer any JSON, any sequence of stream frames, or an error.
//!
//! Like the real service it refuses a request without credentials: the `Authorization` header
//! must be a bearer key or a SigV4 header (`AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/
//! bedrock/aws4_request, SignedHeaders=...;host;...;x-amz-date..., Signature=<64 hex>`) with an
//! `x-amz-date` of the same day (and `x-amz-security-token` signed when present); otherwise 403
//! `MissingAuthenticationTokenException` / `IncompleteSignatureException`. Errors carry Bedrock's
//! `x-amzn-errortype` header and `{"message"}` body.
//!
//! A Converse conversation the real service refuses gets 400 `ValidationException` with
//! Bedrock's wording before any scripted answer is used (the request is still recorded; see
//! [`crate::history::bedrock`]):
//! - a role other than `user` / `assistant`, or a missing `content` list;
//! - a first message that is not from the user, or two messages in a row of the same role;
//! - a message with an empty `content` list;
//! - more `toolResult` blocks than the previous turn has `toolUse` blocks, or a user turn after
//!   an assistant turn with `toolUse` lacking a `toolResult` for some of its ids;
//! - a `toolUse` or `toolResult` block without `toolConfig`.
//!
//! The default answer is a text message with [`FakeBedrock::DEFAULT_REPLY`], or for a stream the
//! documented event sequence: `messageStart`, one `contentBlockDelta` per word,
//! `contentBlockStop`, `messageStop` (`end_turn`), `metadata` (usage). Usage is estimated as
//! `⌈chars/4⌉` of the text of every message (at least 1) for input and of the reply for output.
//! Embeddings are deterministic vectors (8 floats, or `dimensions`) derived from each text.

use std::sync::Arc;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{json, Value};

use crate::fake_server::{
    block_texts, estimate_tokens as tokens, fake_handle, messages_tokens, split_words, FakeHeaders,
    Incoming, ServerState,
};
use crate::history;

/// One frame of a scripted event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum BedrockFrame {
    /// `:message-type: event` with this `:event-type` and JSON payload.
    Event(String, Value),
    /// `:message-type: exception` with this `:exception-type` and `{"message"}` payload.
    Exception(String, String),
}

impl BedrockFrame {
    /// An event frame.
    pub fn event(kind: &str, payload: Value) -> Self {
        BedrockFrame::Event(kind.to_string(), payload)
    }

    /// An exception frame.
    pub fn exception(kind: &str, message: &str) -> Self {
        BedrockFrame::Exception(kind.to_string(), message.to_string())
    }

    /// The frame in the binary event-stream encoding (prelude, headers, payload, CRCs).
    pub fn encode(&self) -> Vec<u8> {
        let header = |name: &'static str, value: &str| {
            Header::new(name, HeaderValue::String(value.to_string().into()))
        };
        let message = match self {
            BedrockFrame::Event(kind, payload) => Message::new(payload.to_string().into_bytes())
                .add_header(header(":event-type", kind))
                .add_header(header(":content-type", "application/json"))
                .add_header(header(":message-type", "event")),
            BedrockFrame::Exception(kind, message) => {
                Message::new(json!({ "message": message }).to_string().into_bytes())
                    .add_header(header(":exception-type", kind))
                    .add_header(header(":content-type", "application/json"))
                    .add_header(header(":message-type", "exception"))
            }
        };
        let mut out = Vec::new();
        // Writing to a Vec only fails for oversized frames, which tests never build.
        write_message_to(&message, &mut out).expect("encode an event-stream frame");
        out
    }
}

/// A scripted answer; queued answers are used once each, first in first out, then the default.
#[derive(Debug, Clone, PartialEq)]
pub enum BedrockScript {
    /// The built-in answer (a message, its event stream, or embeddings).
    Default,
    /// The built-in answer with this text and exact usage `(inputTokens, outputTokens)`.
    Reply {
        text: String,
        usage: Option<(u64, u64)>,
    },
    /// Status 200 with exactly this JSON body.
    Json(Value),
    /// An error: this status, `x-amzn-errortype`, and `{"message"}`.
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
    /// An event stream of exactly these frames.
    Frames(Vec<BedrockFrame>),
}

impl BedrockScript {
    /// Bedrock's error answer.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        BedrockScript::Error {
            status,
            error_type: error_type.to_string(),
            message: message.to_string(),
        }
    }
}

type Shared = ServerState<BedrockScript>;

fake_handle!(FakeBedrock(FakeServer<BedrockScript>), start: (handle, ()),
    base_url: "The endpoint to configure as `api_base`: `http://127.0.0.1:PORT`.",
    requests: "Paths as sent, model ids percent-encoded.",
    default_reply: "Hello from the fake Bedrock upstream!");

fn input_tokens(body: &Value) -> u64 {
    messages_tokens(body, block_texts)
}

/// `%XX` sequences decoded (model ids arrive percent-encoded).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why the credentials are refused, as `(error type, message)`, or `None` when they look right.
fn check_auth(headers: &HeaderMap) -> Option<(&'static str, String)> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(auth) = get("authorization") else {
        return Some((
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        ));
    };
    if auth.starts_with("Bearer ") && auth.len() > 7 {
        return None;
    }
    let incomplete = |why: &str| Some(("IncompleteSignatureException", why.to_string()));
    let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 Credential=") else {
        return incomplete("Authorization header requires the AWS4-HMAC-SHA256 scheme");
    };
    let parts: Vec<&str> = rest.split(", ").collect();
    let [credential, signed, signature] = parts.as_slice() else {
        return incomplete("Authorization header requires Credential, SignedHeaders, Signature");
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [_id, date, _region, service, terminal] = scope.as_slice() else {
        return incomplete("malformed credential scope");
    };
    if *service != "bedrock" || *terminal != "aws4_request" || date.len() != 8 {
        return incomplete(
            "credential scope must be <id>/<yyyymmdd>/<region>/bedrock/aws4_request",
        );
    }
    let Some(amz_date) = get("x-amz-date") else {
        return incomplete("x-amz-date header is required");
    };
    if !amz_date.starts_with(date) {
        return incomplete("x-amz-date does not match the credential scope date");
    }
    let Some(signed) = signed.strip_prefix("SignedHeaders=") else {
        return incomplete("SignedHeaders is required");
    };
    let signed: Vec<&str> = signed.split(';').collect();
    let mut required = vec!["host", "x-amz-date"];
    if headers.contains_key("x-amz-security-token") {
        required.push("x-amz-security-token");
    }
    if let Some(missing) = required.iter().find(|h| !signed.contains(h)) {
        return incomplete(&format!("{missing} must be a signed header"));
    }
    let hex = signature.strip_prefix("Signature=").unwrap_or("");
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return incomplete("Signature must be 64 hex digits");
    }
    None
}

fn error_response(status: u16, error_type: &str, message: &str) -> Response {
    HEADERS.json(
        status,
        &json!({ "message": message }),
        &[(
            "x-amzn-errortype".to_string(),
            format!("{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        )],
    )
}

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let parsed = shared.record(&req);
    let (method, uri, headers) = (&req.method, &req.uri, &req.headers);
    let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let (model, action) = match segments.as_slice() {
        ["model", id, action] if method == Method::POST => (percent_decode(id), *action),
        _ => {
            return error_response(
                404,
                "UnknownOperationException",
                &format!("Unknown operation: {} {}", method, uri.path()),
            );
        }
    };
    if let Some((kind, message)) = check_auth(headers) {
        return error_response(403, kind, &message);
    }
    let Ok(body) = parsed else {
        return error_response(400, "ValidationException", "Malformed input request");
    };
    if !matches!(action, "converse" | "converse-stream" | "invoke") {
        return error_response(
            404,
            "UnknownOperationException",
            &format!("Unknown operation: {action}"),
        );
    }
    if action != "invoke" {
        if let Err(message) = history::bedrock(&body) {
            return error_response(400, "ValidationException", &message);
        }
    }
    let script = shared.pop().unwrap_or(BedrockScript::Default);
    match script {
        BedrockScript::Json(v) => HEADERS.json(200, &v, &[]),
        BedrockScript::Error {
            status,
            error_type,
            message,
        } => error_response(status, &error_type, &message),
        BedrockScript::Frames(frames) => stream_response(&frames),
        BedrockScript::Default if action == "invoke" => embeddings(&model, &body),
        BedrockScript::Default => reply(
            FakeBedrock::DEFAULT_REPLY,
            (input_tokens(&body), tokens(FakeBedrock::DEFAULT_REPLY)),
            action == "converse-stream",
        ),
        BedrockScript::Reply { text, usage } => {
            let usage = usage.unwrap_or((input_tokens(&body), tokens(&text)));
            reply(&text, usage, action == "converse-stream")
        }
    }
}

/// A deterministic vector for a text.
fn vector(text: &str, dims: usize) -> Vec<f64> {
    let n = text.chars().count() as f64;
    (0..dims).map(|i| ((n + i as f64) % 10.0) / 10.0).collect()
}

/// The refusal of an embedding body without `key`.
fn missing_key(key: &str) -> Response {
    error_response(
        400,
        "ValidationException",
        &format!("Malformed input request: required key [{key}] not found"),
    )
}

fn embeddings(model: &str, body: &Value) -> Response {
    if model.starts_with("amazon.titan-embed") {
        let Some(text) = body.get("inputText").and_then(Value::as_str) else {
            return missing_key("inputText");
        };
        let dims = body.get("dimensions").and_then(Value::as_u64).unwrap_or(8) as usize;
        return HEADERS.json(
            200,
            &json!({"embedding": vector(text, dims), "inputTextTokenCount": tokens(text)}),
            &[],
        );
    }
    if model.starts_with("cohere.embed") {
        let Some(texts) = body.get("texts").and_then(Value::as_array) else {
            return missing_key("texts");
        };
        if body.get("input_type").and_then(Value::as_str).is_none() {
            return missing_key("input_type");
        }
        let texts: Vec<&str> = texts.iter().filter_map(Value::as_str).collect();
        let count: u64 = texts.iter().map(|t| tokens(t)).sum();
        return HEADERS.json(
            200,
            &json!({
                "id": "emb-fake", "response_type": "embeddings_floats", "texts": texts,
                "embeddings": texts.iter().map(|t| vector(t, 8)).collect::<Vec<_>>()
            }),
            &[(
                "x-amzn-bedrock-input-token-count".to_string(),
                count.to_string(),
            )],
        );
    }
    error_response(
        400,
        "ValidationException",
        &format!("The provided model {model} does not support InvokeModel embeddings in this fake"),
    )
}

fn reply(text: &str, (input, output): (u64, u64), stream: bool) -> Response {
    let usage =
        json!({"inputTokens": input, "outputTokens": output, "totalTokens": input + output});
    if !stream {
        return HEADERS.json(
            200,
            &json!({
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": "end_turn",
                "usage": usage,
                "metrics": {"latencyMs": 42}
            }),
            &[],
        );
    }
    let mut frames = vec![BedrockFrame::event(
        "messageStart",
        json!({"role": "assistant"}),
    )];
    for piece in split_words(text) {
        frames.push(BedrockFrame::event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
        ));
    }
    frames.push(BedrockFrame::event(
        "contentBlockStop",
        json!({"contentBlockIndex": 0}),
    ));
    frames.push(BedrockFrame::event(
        "messageStop",
        json!({"stopReason": "end_turn"}),
    ));
    frames.push(BedrockFrame::event(
        "metadata",
        json!({"usage": usage, "metrics": {"latencyMs": 42}}),
    ));
    stream_response(&frames)
}

/// The headers of every answer.
const HEADERS: FakeHeaders = FakeHeaders {
    json: &[
        ("content-type", "application/json"),
        ("x-amzn-requestid", "req-fake-bedrock"),
    ],
    stream: &[
        ("content-type", "application/vnd.amazon.eventstream"),
        ("x-amzn-requestid", "req-fake-bedrock"),
    ],
};

fn stream_response(frames: &[BedrockFrame]) -> Response {
    HEADERS.stream(frames.iter().map(|f| Bytes::from(f.encode())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_percent_decoded() {
        assert_eq!(percent_decode("anthropic.x-v1%3A0"), "anthropic.x-v1:0");
        assert_eq!(percent_decode("a%2Fb%"), "a/b%");
    }

    #[test]
    fn sigv4_headers_are_checked_for_shape() {
        let mut h = HeaderMap::new();
        assert!(check_auth(&h).is_some());
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature=\
             0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                .parse()
                .expect("header"),
        );
        assert!(check_auth(&h).is_some(), "x-amz-date is required");
        h.insert("x-amz-date", "20240101T000000Z".parse().expect("header"));
        assert_eq!(check_auth(&h), None);
        h.insert("x-amz-security-token", "tok".parse().expect("header"));
        assert!(check_auth(&h).is_some(), "the token must be signed");
    }
}
