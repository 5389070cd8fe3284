//! `FakeOpenAi`: an in-process HTTP server on `127.0.0.1:0` speaking OpenAI's wire format, for
//! tests and the benchmark. It records what it receives and can be scripted to fail, stall, or
//! cut a stream.
//!
//! Routes (with or without the `/v1` prefix):
//! - `POST /v1/chat/completions`: JSON, or SSE (`data: {chunk}\n\n` ... `data: [DONE]\n\n`) when
//!   the body has `"stream": true`. The default stream is OpenAI's shape: a first chunk with
//!   `delta.role`, one chunk per word, a chunk with `finish_reason: "stop"`, and with
//!   `stream_options.include_usage` a final `choices: []` chunk with `usage` (and `"usage": null`
//!   on every other chunk).
//! - `POST /v1/embeddings`: deterministic unit vectors (8 dimensions unless `dimensions` is set),
//!   as floats or as base64 when `encoding_format` is `base64`.
//! - `POST /v1/moderations` and `POST /v1/images/generations`: OpenAI's shapes, and
//!   `POST /v1/rerank` as the OpenAI-compatible hosts that have one answer it (Jina, Together)
//!   (`fake_families.rs`); a field those endpoints do not take is a 400
//!   `Unrecognized request argument supplied`.
//! - `GET /v1/models`: a fixed list.
//! - Anything else: OpenAI's 404 body.
//!
//! A chat request whose conversation the real API refuses gets OpenAI's 400
//! `{"error": {"message", "type": "invalid_request_error", "param", "code": null}}` before any
//! scripted answer is used (the request is still recorded and counted; see
//! [`crate::history::openai`]):
//! - a role other than `system`, `developer`, `user`, `assistant`, `tool`, `function`
//!   (`param: messages.[i].role`);
//! - a message without `content` (null), but an assistant one with `tool_calls` or
//!   `function_call` (`param: messages.[i].content`);
//! - a `tool` message that does not answer a `tool_call_id` of the nearest assistant message
//!   with `tool_calls` before it, only tool messages between them;
//! - an assistant message with `tool_calls` (not the last message) not followed by tool
//!   messages answering every id.
//!
//! The same rules guard [`crate::FakeHttp`]'s `POST .../chat/completions` (Azure's layout).
//!
//! Every answer carries `x-request-id`; successes also carry `x-ratelimit-limit-requests`,
//! `x-ratelimit-remaining-requests`, `x-ratelimit-limit-tokens`, `x-ratelimit-remaining-tokens`
//! and `openai-processing-ms`.
//!
//! Default content is [`FakeOpenAi::DEFAULT_REPLY`]; usage is estimated as
//! `3 + Σ (4 + ⌈chars/4⌉)` prompt tokens over the messages and `max(1, ⌈chars/4⌉)` completion
//! tokens, like the mock provider.
//!
//! ```no_run
//! # async fn example() {
//! use litellm_test_support::{FakeOpenAi, Scripted};
//!
//! let fake = FakeOpenAi::start().await;
//! fake.push(
//!     Scripted::error(429, "slow down", "rate_limit_error", Some("rate_limit_exceeded"))
//!         .with_header("retry-after", "2"),
//! );
//! // ... point a deployment's api_base at fake.base_url() and call it ...
//! let first = &fake.requests()[0];
//! assert_eq!(first.header("authorization"), Some("Bearer sk-test"));
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use litellm_core::{unix_now, EmbeddingVector};

use crate::fake_script::with_header;
pub use crate::fake_server::RecordedRequest;
use crate::fake_server::{lock, text_of, FakeServer, Incoming, ServerState};
use crate::history;

/// A scripted answer. Queued answers are used once each, first in first out; when the queue is
/// empty the default answer (see [`FakeOpenAi::set_default`]) is used.
#[derive(Debug, Clone, PartialEq)]
pub enum Scripted {
    /// The built-in answer for the endpoint: a chat reply with [`FakeOpenAi::DEFAULT_REPLY`]
    /// (streamed when asked), embeddings, or the model list.
    Default,
    /// A chat reply with this content, streamed when the request asks. `usage` is
    /// `(prompt_tokens, completion_tokens)`; `None` estimates it. On other endpoints, as
    /// `Default`.
    Reply {
        content: String,
        usage: Option<(u64, u64)>,
    },
    /// Status 200 with exactly this JSON body (whatever the endpoint and `stream` flag).
    Json(Value),
    /// Any status with this JSON body and extra response headers (an error, typically).
    Status {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    /// Waits, then answers with the inner script (delays the response head: use it to trigger
    /// timeouts).
    Delay(Duration, Box<Scripted>),
    /// An SSE stream of exactly these chunks (`data: <json>\n\n` each), then `data: [DONE]`.
    StreamChunks(Vec<Value>),
    /// An SSE response whose body is exactly these pieces, each sent as its own write, nothing
    /// added (for framing tests: CRLF, comments, split events).
    StreamRaw(Vec<String>),
    /// The default stream's first `after_chunks` chunks, then the connection is dropped without
    /// `[DONE]`.
    StreamCut { after_chunks: usize },
    /// The default stream, pausing for `pause` after its first `after_chunks` chunks (use
    /// `after_chunks: 0` to stall before the first chunk, after the response head).
    StreamStall {
        after_chunks: usize,
        pause: Duration,
    },
    /// The default stream's first `after_chunks` chunks, then an in-band
    /// `data: {"error": <error>}` event, then the end of the body.
    StreamError { after_chunks: usize, error: Value },
}

impl Scripted {
    /// A chat reply with this content and estimated usage.
    pub fn reply(content: impl Into<String>) -> Self {
        Scripted::Reply {
            content: content.into(),
            usage: None,
        }
    }

    /// A chat reply with this content and exact usage.
    pub fn reply_with_usage(content: impl Into<String>, prompt: u64, completion: u64) -> Self {
        Scripted::Reply {
            content: content.into(),
            usage: Some((prompt, completion)),
        }
    }

    /// A status with a JSON body.
    pub fn status(status: u16, body: Value) -> Self {
        Scripted::Status {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// A status with OpenAI's error body `{"error": {"message", "type", "param", "code"}}`.
    pub fn error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Self {
        Self::status(
            status,
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
    }

    /// The default stream, stalled for `pause` after its first `after_chunks` chunks.
    pub fn stall(after_chunks: usize, pause: Duration) -> Self {
        Scripted::StreamStall {
            after_chunks,
            pause,
        }
    }

    /// The default answer after a delay.
    pub fn delay(d: Duration) -> Self {
        Scripted::Delay(d, Box::new(Scripted::Default))
    }

    /// This answer after a delay.
    pub fn delayed(self, d: Duration) -> Self {
        Scripted::Delay(d, Box::new(self))
    }
}

with_header!(Scripted);

/// What the OpenAI fake keeps beyond the queue and the recordings.
struct Settings {
    default: Mutex<Scripted>,
    record: AtomicBool,
    counter: AtomicU64,
}

type Shared = ServerState<Scripted, Settings>;

/// The fake server. Shuts down when dropped.
pub struct FakeOpenAi {
    server: FakeServer<Scripted, Settings>,
}

impl std::fmt::Debug for FakeOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.server.fmt(f)
    }
}

impl FakeOpenAi {
    /// The default chat content.
    pub const DEFAULT_REPLY: &'static str = "Hello from the fake OpenAI upstream!";

    /// Starts the server on a free loopback port, on the current tokio runtime.
    ///
    /// Panics if the port cannot be bound (this is test support: failing loudly is the point).
    pub async fn start() -> FakeOpenAi {
        let settings = Settings {
            default: Mutex::new(Scripted::Default),
            record: AtomicBool::new(true),
            counter: AtomicU64::new(0),
        };
        FakeOpenAi {
            server: FakeServer::start("FakeOpenAi", settings, handle).await,
        }
    }

    /// The OpenAI-style base URL: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.base_url())
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The requests received so far, in order (empty when recording is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }

    /// How many requests were received (counted even when recording is off).
    pub fn request_count(&self) -> u64 {
        self.server.state().extra.counter.load(Ordering::Relaxed)
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.server.clear_requests();
    }

    /// Turns request recording on (the default) or off (benchmarks: no memory growth).
    pub fn set_recording(&self, on: bool) {
        self.server
            .state()
            .extra
            .record
            .store(on, Ordering::Relaxed);
    }

    /// Queues an answer for a future request (first in, first out).
    pub fn push(&self, s: Scripted) {
        self.server.push(s);
    }

    /// Sets the answer used when the queue is empty.
    pub fn set_default(&self, s: Scripted) {
        *lock(&self.server.state().extra.default) = s;
    }

    /// Stops accepting connections (also done on drop).
    pub fn shutdown(mut self) {
        self.server.shutdown();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Embeddings,
    Models,
    Moderations,
    Images,
    Rerank,
}

/// What the answer needs from the request.
struct RequestFacts {
    model: String,
    stream: bool,
    include_usage: bool,
    prompt_tokens: u64,
    base64: bool,
    dimensions: usize,
    inputs: Vec<String>,
}

impl RequestFacts {
    fn from_body(body: &Value) -> Self {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("gpt-4o")
            .to_string();
        let messages = body.get("messages").and_then(Value::as_array);
        let prompt_tokens = 3 + messages
            .map(|ms| {
                ms.iter()
                    .map(|m| 4 + tokens(&text_of(m.get("content").unwrap_or(&Value::Null))))
                    .sum::<u64>()
            })
            .unwrap_or(0);
        let inputs = match body.get("input") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if items.iter().all(Value::is_number) => {
                vec![Value::Array(items.clone()).to_string()]
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        RequestFacts {
            model,
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            include_usage: body
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            prompt_tokens,
            base64: body.get("encoding_format").and_then(Value::as_str) == Some("base64"),
            dimensions: body
                .get("dimensions")
                .and_then(Value::as_u64)
                .map(|d| d.clamp(1, 8192) as usize)
                .unwrap_or(8),
            inputs,
        }
    }
}

fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let n = shared.extra.counter.fetch_add(1, Ordering::Relaxed);
    let (method, path) = (&req.method, req.uri.path());
    let endpoint = match (method.as_str(), path.strip_prefix("/v1").unwrap_or(path)) {
        ("POST", "/chat/completions") => Some(Endpoint::Chat),
        ("POST", "/embeddings") => Some(Endpoint::Embeddings),
        ("GET", "/models") => Some(Endpoint::Models),
        ("POST", "/moderations") => Some(Endpoint::Moderations),
        ("POST", "/images/generations") => Some(Endpoint::Images),
        ("POST", "/rerank") => Some(Endpoint::Rerank),
        _ => None,
    };
    let parsed = if req.body.is_empty() {
        Ok(Value::Null)
    } else {
        req.json()
    };
    let facts = parsed.as_ref().map(RequestFacts::from_body).ok();
    let refused = match (&parsed, endpoint) {
        (Ok(body), Some(Endpoint::Chat)) => history::openai(body).err().map(|r| r.body()),
        (Ok(body), Some(Endpoint::Moderations)) => crate::fake_families::moderation(body)
            .err()
            .map(|m| openai_error(&m, "invalid_request_error")),
        (Ok(body), Some(Endpoint::Images)) => crate::fake_families::image_generation(body)
            .err()
            .map(|m| openai_error(&m, "invalid_request_error")),
        (Ok(body), Some(Endpoint::Rerank)) => crate::fake_families::compat_rerank(body)
            .err()
            .map(|m| openai_error(&m, "invalid_request_error")),
        _ => None,
    };
    let family_body = parsed.as_ref().ok().cloned();
    if shared.extra.record.load(Ordering::Relaxed) {
        let body = match parsed {
            Ok(v) => v,
            Err(_) => Value::String(req.text()),
        };
        shared.record_as(req.recorded(body));
    }
    let Some(endpoint) = endpoint else {
        let msg = format!("Invalid URL ({} {})", method, path);
        return json_response(n, 404, &openai_error(&msg, "invalid_request_error"), &[]);
    };
    let Some(facts) = facts else {
        let msg = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)";
        return json_response(n, 400, &openai_error(msg, "invalid_request_error"), &[]);
    };
    if let Some(refusal) = refused {
        return json_response(n, 400, &refusal, &[]);
    }
    let script = match shared.pop() {
        Some(s) => s,
        None => lock(&shared.extra.default).clone(),
    };
    answer(script, endpoint, &facts, family_body.as_ref(), n).await
}

fn openai_error(message: &str, kind: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

async fn answer(
    mut script: Scripted,
    endpoint: Endpoint,
    facts: &RequestFacts,
    body: Option<&Value>,
    n: u64,
) -> Response {
    while let Scripted::Delay(d, inner) = script {
        tokio::time::sleep(d).await;
        script = *inner;
    }
    match script {
        Scripted::Delay(..) => unreachable_delay(n),
        Scripted::Json(body) => json_response(n, 200, &body, &[]),
        Scripted::Status {
            status,
            body,
            headers,
        } => json_response(n, status, &body, &headers),
        Scripted::StreamRaw(pieces) => {
            let steps = pieces
                .into_iter()
                .map(|p| Step::Frame(Bytes::from(p)))
                .collect();
            sse_response(n, steps)
        }
        Scripted::StreamChunks(chunks) => {
            let mut steps: Vec<Step> = chunks.iter().map(|c| Step::Frame(sse_frame(c))).collect();
            steps.push(Step::Frame(Bytes::from_static(b"data: [DONE]\n\n")));
            sse_response(n, steps)
        }
        Scripted::StreamCut { after_chunks } => {
            let mut steps = first_frames(facts, after_chunks, n);
            // Let the written chunks reach the socket before the connection is dropped.
            steps.push(Step::Sleep(Duration::from_millis(5)));
            steps.push(Step::Abort);
            sse_response(n, steps)
        }
        Scripted::StreamStall {
            after_chunks,
            pause,
        } => {
            let chunks = default_chunks(facts, FakeOpenAi::DEFAULT_REPLY, None, n);
            let mut steps: Vec<Step> = Vec::with_capacity(chunks.len() + 2);
            for (i, c) in chunks.iter().enumerate() {
                if i == after_chunks {
                    steps.push(Step::Sleep(pause));
                }
                steps.push(Step::Frame(sse_frame(c)));
            }
            if after_chunks >= chunks.len() {
                steps.push(Step::Sleep(pause));
            }
            steps.push(Step::Frame(Bytes::from_static(b"data: [DONE]\n\n")));
            sse_response(n, steps)
        }
        Scripted::StreamError {
            after_chunks,
            error,
        } => {
            let mut steps = first_frames(facts, after_chunks, n);
            steps.push(Step::Frame(sse_frame(&json!({ "error": error }))));
            sse_response(n, steps)
        }
        Scripted::Reply { content, usage } => {
            default_answer(endpoint, facts, body, &content, usage, n)
        }
        Scripted::Default => {
            default_answer(endpoint, facts, body, FakeOpenAi::DEFAULT_REPLY, None, n)
        }
    }
}

/// The frames of the default stream's first `after_chunks` chunks.
fn first_frames(facts: &RequestFacts, after_chunks: usize, n: u64) -> Vec<Step> {
    default_chunks(facts, FakeOpenAi::DEFAULT_REPLY, None, n)
        .iter()
        .take(after_chunks)
        .map(|c| Step::Frame(sse_frame(c)))
        .collect()
}

/// `Delay` is unwrapped by the loop above; this keeps the match exhaustive without a panic.
fn unreachable_delay(n: u64) -> Response {
    json_response(n, 500, &openai_error("nested delay", "server_error"), &[])
}

fn default_answer(
    endpoint: Endpoint,
    facts: &RequestFacts,
    body: Option<&Value>,
    content: &str,
    usage: Option<(u64, u64)>,
    n: u64,
) -> Response {
    match endpoint {
        Endpoint::Chat if facts.stream => {
            let mut steps: Vec<Step> = default_chunks(facts, content, usage, n)
                .iter()
                .map(|c| Step::Frame(sse_frame(c)))
                .collect();
            steps.push(Step::Frame(Bytes::from_static(b"data: [DONE]\n\n")));
            sse_response(n, steps)
        }
        Endpoint::Chat => json_response(n, 200, &chat_completion(facts, content, usage, n), &[]),
        Endpoint::Embeddings => json_response(n, 200, &embeddings(facts), &[]),
        Endpoint::Models => json_response(n, 200, &models(), &[]),
        Endpoint::Moderations | Endpoint::Images | Endpoint::Rerank => {
            let body = body.unwrap_or(&Value::Null);
            let answer = match endpoint {
                Endpoint::Moderations => crate::fake_families::moderation(body),
                Endpoint::Rerank => crate::fake_families::compat_rerank(body),
                _ => crate::fake_families::image_generation(body),
            };
            match answer {
                Ok(answer) => json_response(n, 200, &answer, &[]),
                Err(m) => json_response(n, 400, &openai_error(&m, "invalid_request_error"), &[]),
            }
        }
    }
}

fn usage_json(facts: &RequestFacts, content: &str, usage: Option<(u64, u64)>) -> Value {
    let (prompt, completion) = usage.unwrap_or((facts.prompt_tokens, tokens(content).max(1)));
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn chat_completion(
    facts: &RequestFacts,
    content: &str,
    usage: Option<(u64, u64)>,
    n: u64,
) -> Value {
    json!({
        "id": format!("chatcmpl-fake{n}"),
        "object": "chat.completion",
        "created": unix_now(),
        "model": facts.model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": usage_json(facts, content, usage),
        "service_tier": "default",
        "system_fingerprint": "fp_fake"
    })
}

/// The default stream's chunks for `content`, in OpenAI's shape.
fn default_chunks(
    facts: &RequestFacts,
    content: &str,
    usage: Option<(u64, u64)>,
    n: u64,
) -> Vec<Value> {
    let id = format!("chatcmpl-fake{n}");
    let created = unix_now();
    let chunk = |choices: Value| {
        let mut c = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": facts.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": choices,
        });
        if facts.include_usage {
            c["usage"] = Value::Null;
        }
        c
    };
    let mut out = vec![chunk(json!([{
        "index": 0,
        "delta": {"role": "assistant", "content": "", "refusal": null},
        "logprobs": null,
        "finish_reason": null
    }]))];
    for word in words(content) {
        out.push(chunk(json!([{
            "index": 0,
            "delta": {"content": word},
            "logprobs": null,
            "finish_reason": null
        }])));
    }
    out.push(chunk(json!([{
        "index": 0,
        "delta": {},
        "logprobs": null,
        "finish_reason": "stop"
    }])));
    if facts.include_usage {
        let mut last = chunk(json!([]));
        last["usage"] = usage_json(facts, content, usage);
        out.push(last);
    }
    out
}

/// Splits text into words, each keeping the whitespace before it.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && in_word {
            out.push(&text[start..i]);
            start = i;
            in_word = false;
        } else if !c.is_whitespace() {
            in_word = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A deterministic unit vector for `text`.
pub fn fake_embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        seed ^= u64::from(*b);
        seed = seed.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dimensions)
        .map(|_| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn embeddings(facts: &RequestFacts) -> Value {
    let data: Vec<Value> = facts
        .inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = EmbeddingVector::Float(fake_embedding(text, facts.dimensions));
            let v = if facts.base64 { v.into_base64() } else { v };
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    let prompt: u64 = facts.inputs.iter().map(|t| tokens(t).max(1)).sum();
    json!({
        "object": "list",
        "data": data,
        "model": facts.model,
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt}
    })
}

fn models() -> Value {
    let data: Vec<Value> = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1_715_367_049, "owned_by": "system"}))
        .collect();
    json!({"object": "list", "data": data})
}

fn sse_frame(v: &Value) -> Bytes {
    let mut s = String::with_capacity(256);
    s.push_str("data: ");
    s.push_str(&v.to_string());
    s.push_str("\n\n");
    Bytes::from(s)
}

enum Step {
    Frame(Bytes),
    Sleep(Duration),
    Abort,
}

fn common_headers(
    builder: axum::http::response::Builder,
    n: u64,
    success: bool,
) -> axum::http::response::Builder {
    let b = builder.header("x-request-id", format!("req_fake_{n}"));
    if !success {
        return b;
    }
    b.header("x-ratelimit-limit-requests", "10000")
        .header(
            "x-ratelimit-remaining-requests",
            (9999 - n % 10000).to_string(),
        )
        .header("x-ratelimit-limit-tokens", "30000000")
        .header("x-ratelimit-remaining-tokens", "29999000")
        .header("openai-processing-ms", "1")
}

fn json_response(n: u64, status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let builder = common_headers(Response::builder(), n, status.is_success())
        .status(status)
        .header("content-type", "application/json");
    let mut resp = builder
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()));
    add_headers(resp.headers_mut(), headers);
    resp
}

fn add_headers(map: &mut HeaderMap, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            map.append(name, value);
        }
    }
}

fn sse_response(n: u64, steps: Vec<Step>) -> Response {
    let body = futures::stream::unfold(steps.into_iter(), |mut it| async move {
        loop {
            match it.next()? {
                Step::Frame(b) => return Some((Ok::<Bytes, std::io::Error>(b), it)),
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Abort => {
                    return Some((Err(std::io::Error::other("scripted stream cut")), it));
                }
            }
        }
    });
    common_headers(Response::builder(), n, true)
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_rejoin_exactly() {
        for t in ["Hello from the fake", " lead", "trail ", ""] {
            assert_eq!(words(t).concat(), t);
        }
    }

    #[test]
    fn embeddings_are_unit_vectors() {
        let v = fake_embedding("abc", 8);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert_eq!(v, fake_embedding("abc", 8));
    }
}
