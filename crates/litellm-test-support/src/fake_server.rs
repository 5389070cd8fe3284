//! The skeleton every fake upstream shares: [`FakeServer`] binds `127.0.0.1:0`, serves one
//! handler function on a task of the current tokio runtime until shutdown or drop, and keeps a
//! [`ServerState`] with the FIFO of scripted answers and the [`RecordedRequest`]s. Also the small
//! helpers the fakes answer with: JSON and streamed responses, `event:` framing, the `⌈chars/4⌉`
//! token estimate and word splitting.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers with lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Null` when empty; a string when not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not hide the recordings).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request as a fake's handler receives it.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Incoming {
    /// The body parsed as JSON.
    pub(crate) fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as lossy UTF-8 text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// This request as recorded, with `body` as its recorded body.
    pub(crate) fn recorded(&self, body: Value) -> RecordedRequest {
        RecordedRequest {
            method: self.method.to_string(),
            path: self
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| self.uri.path().to_string()),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        }
    }
}

/// What a fake's handler shares with its owner: the scripted answers `S` (first in, first out),
/// the recorded requests, the bound address and the fake's own extra state `X`.
pub(crate) struct ServerState<S, X = ()> {
    pub(crate) addr: SocketAddr,
    pub(crate) extra: X,
    queue: Mutex<VecDeque<S>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl<S, X> ServerState<S, X> {
    /// Takes the next queued answer, if any.
    pub(crate) fn pop(&self) -> Option<S> {
        lock(&self.queue).pop_front()
    }

    /// Records this request as it is.
    pub(crate) fn record_as(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// Records the request (its body as JSON, or else as lossy text) and returns the body
    /// parsed as JSON.
    pub(crate) fn record(&self, req: &Incoming) -> Result<Value, serde_json::Error> {
        let parsed = req.json();
        let body = match &parsed {
            Ok(v) => v.clone(),
            Err(_) => Value::String(req.text()),
        };
        self.record_as(req.recorded(body));
        parsed
    }
}

/// A running fake: the state shared with its handler and the shutdown switch. Shuts down when
/// dropped.
pub(crate) struct FakeServer<S, X = ()> {
    name: &'static str,
    state: Arc<ServerState<S, X>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<S, X> std::fmt::Debug for FakeServer<S, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(self.name)
            .field("addr", &self.state.addr)
            .finish_non_exhaustive()
    }
}

impl<S: Send + 'static, X: Send + Sync + 'static> FakeServer<S, X> {
    /// Binds a free loopback port and serves `handler` for every method and path, on the
    /// current tokio runtime. `name` names the fake in panics and `Debug`. Panics if the port
    /// cannot be bound (this is test support: failing loudly is the point).
    pub(crate) async fn start<F, Fut>(name: &'static str, extra: X, handler: F) -> Self
    where
        F: Fn(Arc<ServerState<S, X>>, Incoming) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind 127.0.0.1:0 for {name}: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{name} local address: {e}"));
        let state = Arc::new(ServerState {
            addr,
            extra,
            queue: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
        });
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let req = Incoming {
                    method,
                    uri,
                    headers,
                    body,
                };
                handler(shared.clone(), req)
            },
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeServer {
            name,
            state,
            shutdown: Some(tx),
        }
    }
}

impl<S, X> FakeServer<S, X> {
    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.state.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.state.addr)
    }

    /// The state shared with the handler.
    pub(crate) fn state(&self) -> &ServerState<S, X> {
        &self.state
    }

    /// The requests recorded so far, in order.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Forgets the recorded requests.
    pub(crate) fn clear_requests(&self) {
        lock(&self.state.requests).clear();
    }

    /// Queues an answer for a future request.
    pub(crate) fn push(&self, s: S) {
        lock(&self.state.queue).push_back(s);
    }

    /// Stops accepting connections (also done on drop).
    pub(crate) fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl<S, X> Drop for FakeServer<S, X> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Declares a fake's public handle around a [`FakeServer`]: the struct, a `Debug` that shows its
/// address, `start` (serving `$handler` with the extra state `$extra_state`), `base_url` (with
/// the given doc line), `requests` and `push` delegating to the server (with an extra doc line
/// when given), and the `DEFAULT_REPLY` text when given.
macro_rules! fake_handle {
    (
        $name:ident(FakeServer<$script:ty $(, $extra:ty)?>),
        start: ($handler:expr, $extra_state:expr),
        base_url: $base_url_doc:literal
        $(, requests: $requests_doc:literal)?
        $(, push: $push_doc:literal)?
        $(, default_reply: $default_reply:literal)? $(,)?
    ) => {
        /// The fake server. Shuts down when dropped.
        pub struct $name {
            server: $crate::fake_server::FakeServer<$script $(, $extra)?>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.server.fmt(f)
            }
        }

        impl $name {
            $(
                /// The default reply text.
                pub const DEFAULT_REPLY: &'static str = $default_reply;
            )?

            /// Starts the server on a free loopback port, on the current tokio runtime (panics if
            /// the port cannot be bound).
            pub async fn start() -> $name {
                let server = $crate::fake_server::FakeServer::start(
                    stringify!($name),
                    $extra_state,
                    $handler,
                );
                $name {
                    server: server.await,
                }
            }

            #[doc = $base_url_doc]
            pub fn base_url(&self) -> String {
                self.server.base_url()
            }

            /// The requests received so far, in order.
            $(#[doc = ""] #[doc = $requests_doc])?
            pub fn requests(&self) -> Vec<$crate::fake_server::RecordedRequest> {
                self.server.requests()
            }

            /// Queues an answer for a future request.
            $(#[doc = ""] #[doc = $push_doc])?
            pub fn push(&self, s: $script) {
                self.server.push(s);
            }
        }
    };
}
pub(crate) use fake_handle;

/// The fixed headers a fake answers with: those of every JSON answer and those of every stream.
pub(crate) struct FakeHeaders {
    pub(crate) json: &'static [(&'static str, &'static str)],
    pub(crate) stream: &'static [(&'static str, &'static str)],
}

impl FakeHeaders {
    /// A [`json_response`] with the JSON headers, then the scripted `extra` ones.
    pub(crate) fn json(&self, status: u16, body: &Value, extra: &[(String, String)]) -> Response {
        json_response(status, body, self.json, extra)
    }

    /// A [`stream_response`] of `frames` with the stream headers.
    pub(crate) fn stream(&self, frames: Vec<Bytes>) -> Response {
        stream_response(frames, self.stream)
    }

    /// A stream of `values`, each written by `frame` (`data: {v}\r\n\r\n`, `{v}\n`, ...).
    pub(crate) fn framed(&self, values: &[Value], frame: impl Fn(&Value) -> String) -> Response {
        self.stream(values.iter().map(|v| Bytes::from(frame(v))).collect())
    }

    /// A stream of `events`, each framed by [`event_frames`].
    pub(crate) fn events(&self, events: &[Value]) -> Response {
        self.stream(event_frames(events))
    }
}

/// A JSON response: `status` (500 when invalid), then the `fixed` headers, then the scripted
/// `extra` ones, each added in order.
pub(crate) fn json_response(
    status: u16,
    body: &Value,
    fixed: &[(&str, &str)],
    extra: &[(String, String)],
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder().status(status);
    for (k, v) in fixed {
        b = b.header(*k, *v);
    }
    for (k, v) in extra {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A 200 response with these headers whose body is `frames`, each sent as its own write.
pub(crate) fn stream_response(frames: Vec<Bytes>, headers: &[(&str, &str)]) -> Response {
    let frames = frames.into_iter().map(Ok::<Bytes, std::io::Error>);
    let mut b = Response::builder().status(StatusCode::OK);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from_stream(futures::stream::iter(frames)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Each event framed `event: <its "type">\ndata: <json>\n\n` (`message` when it has no type).
pub(crate) fn event_frames(events: &[Value]) -> Vec<Bytes> {
    events
        .iter()
        .map(|e| {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("message");
            Bytes::from(format!("event: {kind}\ndata: {e}\n\n"))
        })
        .collect()
}

/// The text of a message's `content`: the string itself, or [`block_texts`].
pub(crate) fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        other => block_texts(other),
    }
}

/// The `text` of each block of an array joined with newlines (other blocks left out; nothing
/// when not an array).
pub(crate) fn block_texts(blocks: &Value) -> String {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The input estimate of a Messages-style body: the text of its `system` and of every message's
/// `content`, each read with `text`.
pub(crate) fn messages_tokens(body: &Value, text: fn(&Value) -> String) -> u64 {
    let mut all = text(body.get("system").unwrap_or(&Value::Null));
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        all.push_str(&text(m.get("content").unwrap_or(&Value::Null)));
    }
    estimate_tokens(&all)
}

/// The token estimate of the fakes: `⌈chars/4⌉`, at least 1.
pub(crate) fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// `text` cut before each whitespace character (after the first), empty pieces left out: the
/// pieces a fake streams one by one.
pub(crate) fn split_words(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if i > 0 && c.is_whitespace() {
            pieces.push(&text[start..i]);
            start = i;
        }
    }
    pieces.push(&text[start..]);
    pieces.retain(|p| !p.is_empty());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_the_whitespace_before_them_and_rejoin_exactly() {
        assert_eq!(
            split_words("Hello from  here"),
            ["Hello", " from", " ", " here"]
        );
        assert_eq!(split_words(""), Vec::<&str>::new());
        for t in ["a b", " lead", "trail ", "x"] {
            assert_eq!(split_words(t).concat(), t);
        }
    }

    #[test]
    fn token_estimate_is_at_least_one() {
        assert_eq!(estimate_tokens(""), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
    }
}
