//! A minimal, fast OpenAI-shaped upstream for the bench, on its own tokio runtime and thread.
//!
//! `POST /v1/chat/completions` answers with a fixed `chat.completion` (with usage), or, when the
//! body asks for `"stream": true`, a fixed SSE stream of `chat.completion.chunk` events, a usage
//! chunk and `data: [DONE]`. All response bytes are built once at startup; per request the server
//! only scans the body for the stream flag.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use serde_json::json;
use tokio::sync::oneshot;

use crate::Result;

/// The model name the upstream reports.
const MODEL: &str = "bench-model";

/// The words of the canned answer; the stream sends one per chunk.
const WORDS: [&str; 9] = [
    "Hello!",
    " I",
    " am",
    " a",
    " fixed",
    " benchmark",
    " answer",
    " from",
    " upstream.",
];

/// Precomputed response bodies.
struct Canned {
    /// The non-streaming `chat.completion` JSON.
    json: Bytes,
    /// The SSE events, one `Bytes` per event, ending with `data: [DONE]`.
    events: Vec<Bytes>,
}

/// The usage block both responses report.
fn usage() -> serde_json::Value {
    json!({
        "prompt_tokens": 24,
        "completion_tokens": 9,
        "total_tokens": 33,
        "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

impl Canned {
    fn build() -> Result<Self> {
        let id = "chatcmpl-bench0000000000000000000000";
        let created = 1_700_000_000_u64;
        let json = serde_json::to_vec(&json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": MODEL,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": WORDS.concat(), "refusal": null },
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_bench"
        }))?;

        let chunk = |choices: serde_json::Value, usage: serde_json::Value| {
            json!({
                "id": id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL,
                "service_tier": "default",
                "system_fingerprint": "fp_bench",
                "choices": choices,
                "usage": usage
            })
        };
        let mut chunks = vec![chunk(
            json!([{ "index": 0, "delta": { "role": "assistant", "content": "", "refusal": null }, "logprobs": null, "finish_reason": null }]),
            serde_json::Value::Null,
        )];
        for word in WORDS {
            chunks.push(chunk(
                json!([{ "index": 0, "delta": { "content": word }, "logprobs": null, "finish_reason": null }]),
                serde_json::Value::Null,
            ));
        }
        chunks.push(chunk(
            json!([{ "index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop" }]),
            serde_json::Value::Null,
        ));
        chunks.push(chunk(json!([]), usage()));
        let mut events = Vec::with_capacity(chunks.len() + 1);
        for chunk in &chunks {
            let mut event = b"data: ".to_vec();
            event.extend(serde_json::to_vec(chunk)?);
            event.extend_from_slice(b"\n\n");
            events.push(Bytes::from(event));
        }
        events.push(Bytes::from_static(b"data: [DONE]\n\n"));
        Ok(Self {
            json: Bytes::from(json),
            events,
        })
    }
}

/// Whether a request body asks for a stream (`"stream":true`, with or without a space).
pub fn wants_stream(body: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 2] = [b"\"stream\":true", b"\"stream\": true"];
    NEEDLES
        .iter()
        .any(|needle| body.windows(needle.len()).any(|window| window == *needle))
}

async fn chat_completions(State(canned): State<Arc<Canned>>, body: Bytes) -> Response {
    if wants_stream(&body) {
        let events = canned.events.clone();
        let stream = futures::stream::iter(events.into_iter().map(Ok::<_, Infallible>));
        let mut response = Response::new(Body::from_stream(stream));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    } else {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            canned.json.clone(),
        )
            .into_response()
    }
}

/// A running fake upstream; dropping it stops the server and joins its thread.
pub struct Upstream {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Upstream {
    /// Starts the upstream on `127.0.0.1:0` with `worker_threads` runtime workers.
    pub fn start(worker_threads: usize) -> Result<Self> {
        let canned = Arc::new(Canned::build()?);
        let listener = StdTcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1))
            .thread_name("bench-upstream")
            .enable_all()
            .build()?;
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let thread = std::thread::Builder::new()
            .name("bench-upstream-main".to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener.tap_io(|tcp| {
                            // Small responses must not wait for Nagle's algorithm.
                            let _ = tcp.set_nodelay(true);
                        }),
                        Err(err) => {
                            let _ = ready_tx.send(Err(err.into()));
                            return;
                        }
                    };
                    let app = axum::Router::new()
                        .route("/v1/chat/completions", post(chat_completions))
                        .route("/chat/completions", post(chat_completions))
                        .with_state(canned);
                    let _ = ready_tx.send(Ok(()));
                    // Stop at once on shutdown: the proxy's keep-alive connections would hold a
                    // graceful shutdown open.
                    tokio::select! {
                        served = axum::serve(listener, app) => {
                            if let Err(err) = served {
                                eprintln!("bench upstream stopped: {err}");
                            }
                        }
                        _ = shutdown_rx => {}
                    }
                });
                runtime.shutdown_background();
            })?;
        ready_rx
            .recv()
            .map_err(|_| "the bench upstream thread exited before it was ready")??;
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address the upstream listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;

    #[test]
    fn detects_the_stream_flag() {
        assert!(wants_stream(br#"{"model":"m","stream":true}"#));
        assert!(wants_stream(br#"{"model": "m", "stream": true}"#));
        assert!(!wants_stream(br#"{"model":"m","stream":false}"#));
        assert!(!wants_stream(br#"{"model":"m"}"#));
    }

    #[test]
    fn canned_bodies_are_valid_openai_shapes() {
        let canned = Canned::build().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&canned.json).unwrap();
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["usage"]["total_tokens"], 33);
        assert_eq!(
            body["choices"][0]["message"]["content"],
            "Hello! I am a fixed benchmark answer from upstream."
        );

        let (done, chunks) = canned.events.split_last().unwrap();
        assert_eq!(&done[..], b"data: [DONE]\n\n");
        let mut text = String::new();
        for event in chunks {
            let payload = event
                .strip_prefix(b"data: ")
                .and_then(|rest| rest.strip_suffix(b"\n\n"))
                .unwrap();
            let chunk: serde_json::Value = serde_json::from_slice(payload).unwrap();
            assert_eq!(chunk["object"], "chat.completion.chunk");
            if let Some(content) = chunk["choices"][0]["delta"]["content"].as_str() {
                text.push_str(content);
            }
        }
        assert_eq!(text, WORDS.concat());
        let last: serde_json::Value = serde_json::from_slice(
            chunks.last().unwrap()[6..chunks.last().unwrap().len() - 2].as_ref(),
        )
        .unwrap();
        assert_eq!(last["choices"], json!([]));
        assert_eq!(last["usage"]["completion_tokens"], 9);
    }
}
