//! The event-stream bodies of the routes that answer in another API's events than OpenAI chat
//! chunks: `/v1/messages` (Anthropic SSE) and `/v1/responses` (Responses SSE). A routed stream is
//! either the upstream's own events passed through ([`native`]) or events a [`ChunkTranslator`]
//! makes from OpenAI chunks ([`translated`]). Both drive `stream.rs`'s [`sse_body_limited`] for
//! the accounting (spend, metrics, rate limits; on end, failure or client disconnect), so such a
//! stream is billed exactly as a chat stream; its OpenAI bytes are discarded and what the client
//! gets comes from a tap in front of it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use litellm_core::{ChatChunk, ChunkStream, LlmError, NativeEventStream};
use litellm_providers::anthropic_ingress::{error_body, StreamEvent, StreamTranslator};
use litellm_providers::responses::ResponsesStreamTranslator;

use crate::error::ApiError;
use crate::limits::CallLimits;
use crate::stream::{sse_body_limited, StreamCall};

/// Turns OpenAI chunks into a client's events (SSE bytes).
pub trait ChunkTranslator: Send + 'static {
    /// The events for one chunk.
    fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<Bytes>);
    /// The events for a failure (the stream ends).
    fn fail(&mut self, status: u16, message: &str, out: &mut Vec<Bytes>);
    /// The closing events.
    fn finish(&mut self, out: &mut Vec<Bytes>);
    /// Whether nothing more is to be sent.
    fn is_done(&self) -> bool;
}

fn sse_events(events: Vec<StreamEvent>, out: &mut Vec<Bytes>) {
    out.extend(events.iter().map(|e| Bytes::from(e.to_sse())));
}

impl ChunkTranslator for StreamTranslator {
    fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<Bytes>) {
        let mut events = Vec::new();
        StreamTranslator::push(self, chunk, &mut events);
        sse_events(events, out);
    }

    fn fail(&mut self, status: u16, message: &str, out: &mut Vec<Bytes>) {
        let mut events = Vec::new();
        StreamTranslator::fail(self, status, message, &mut events);
        sse_events(events, out);
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) {
        let mut events = Vec::new();
        StreamTranslator::finish(self, &mut events);
        sse_events(events, out);
    }

    fn is_done(&self) -> bool {
        StreamTranslator::is_done(self)
    }
}

impl ChunkTranslator for ResponsesStreamTranslator {
    fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<Bytes>) {
        out.extend(ResponsesStreamTranslator::push(self, chunk));
    }

    fn fail(&mut self, status: u16, message: &str, out: &mut Vec<Bytes>) {
        out.extend(ResponsesStreamTranslator::fail(self, status, message));
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) {
        out.extend(ResponsesStreamTranslator::finish(self));
    }

    fn is_done(&self) -> bool {
        ResponsesStreamTranslator::is_done(self)
    }
}

/// What the client is sent, made from what the tap saw.
trait Render: Send + 'static {
    /// Appends the client's bytes for everything seen since the last call.
    fn drain(&mut self, out: &mut Vec<Bytes>);
    /// The accounting stream ended: the last bytes, if any.
    fn end(&mut self, out: &mut Vec<Bytes>);
    /// Whether nothing more is to be sent.
    fn is_done(&self) -> bool;
}

/// An Anthropic `error` event for a failure.
fn error_event(e: LlmError) -> String {
    let api = ApiError::from(e);
    StreamEvent {
        event: "error",
        data: error_body(api.status.as_u16(), &api.message),
    }
    .to_sse()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Translated mode: OpenAI chunks through a [`ChunkTranslator`].
struct Translated<T> {
    seen: Arc<Mutex<VecDeque<Result<ChatChunk, LlmError>>>>,
    translator: T,
}

impl<T: ChunkTranslator> Render for Translated<T> {
    fn drain(&mut self, out: &mut Vec<Bytes>) {
        let items: Vec<_> = lock(&self.seen).drain(..).collect();
        for item in items {
            match item {
                Ok(chunk) => self.translator.push(&chunk, out),
                Err(e) => {
                    let api = ApiError::from(e);
                    self.translator.fail(api.status.as_u16(), &api.message, out);
                }
            }
        }
    }

    fn end(&mut self, out: &mut Vec<Bytes>) {
        self.translator.finish(out);
    }

    fn is_done(&self) -> bool {
        self.translator.is_done()
    }
}

/// Native mode: the upstream's events, as they came.
struct Native {
    seen: Arc<Mutex<VecDeque<String>>>,
    done: bool,
}

impl Render for Native {
    fn drain(&mut self, out: &mut Vec<Bytes>) {
        out.extend(lock(&self.seen).drain(..).map(Bytes::from));
    }

    fn end(&mut self, _out: &mut Vec<Bytes>) {
        self.done = true;
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// Drives the accounting body and sends what `render` makes of what passed through it.
fn client_body<R: Render>(
    accounting: impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
    render: R,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    let st = (
        Box::pin(accounting),
        render,
        VecDeque::<Bytes>::new(),
        false,
    );
    futures::stream::unfold(
        st,
        |(mut acct, mut render, mut pending, mut ended)| async move {
            loop {
                if let Some(s) = pending.pop_front() {
                    return Some((Ok(s), (acct, render, pending, ended)));
                }
                if ended || render.is_done() {
                    return None;
                }
                let next = acct.next().await;
                let mut out = Vec::new();
                render.drain(&mut out);
                if next.is_none() {
                    ended = true;
                    render.end(&mut out);
                }
                pending.extend(out);
            }
        },
    )
}

/// The client's SSE body of a translated stream.
pub fn translated<T: ChunkTranslator>(
    stream: ChunkStream,
    call: StreamCall,
    limits: CallLimits,
    translator: T,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    let seen = Arc::new(Mutex::new(VecDeque::new()));
    let tap = seen.clone();
    // The translator sees the model the client asked for; the accounting, the upstream's.
    let client_model = call.client_model.clone();
    let tapped: ChunkStream = Box::pin(stream.map(move |item| {
        let mut shown = item.clone();
        if let Ok(chunk) = shown.as_mut() {
            chunk.model.clone_from(&client_model);
        }
        lock(&tap).push_back(shown);
        item
    }));
    client_body(
        sse_body_limited(tapped, call, limits),
        Translated { seen, translator },
    )
}

/// The Anthropic SSE body of a native stream: the upstream's events unchanged. A failure the
/// upstream did not report itself (a cut stream, a transport error) ends it with one `error`
/// event.
pub fn native(
    stream: NativeEventStream,
    call: StreamCall,
    limits: CallLimits,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    let seen = Arc::new(Mutex::new(VecDeque::new()));
    let tap = seen.clone();
    let chunks: ChunkStream = Box::pin(stream.flat_map(move |item| {
        let chunks = match item {
            Ok(piece) => {
                let reported = piece.sse.contains("event: error");
                let failure = piece.chunks.iter().find_map(|c| c.as_ref().err()).cloned();
                let mut seen = lock(&tap);
                seen.push_back(piece.sse);
                if let (Some(e), false) = (failure, reported) {
                    seen.push_back(error_event(e));
                }
                piece.chunks
            }
            Err(e) => {
                lock(&tap).push_back(error_event(e.clone()));
                vec![Err(e)]
            }
        };
        futures::stream::iter(chunks)
    }));
    client_body(
        sse_body_limited(chunks, call, limits),
        Native { seen, done: false },
    )
}
