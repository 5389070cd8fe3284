//! The event-stream bodies of `POST /v1/messages`: Anthropic SSE events for a routed stream,
//! either the upstream's own events passed through (native mode) or events translated from
//! OpenAI chunks (translated mode). Both drive `stream.rs`'s [`sse_body_limited`] for the
//! accounting (spend, metrics, rate limits; on end, failure or client disconnect), so a
//! `/v1/messages` stream is billed exactly as a chat stream; its OpenAI bytes are discarded and
//! what the client gets comes from a tap in front of it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use litellm_core::{ChatChunk, ChunkStream, LlmError, NativeEventStream};
use litellm_providers::anthropic_ingress::{error_body, StreamEvent, StreamTranslator};

use crate::error::ApiError;
use crate::limits::CallLimits;
use crate::stream::{sse_body_limited, StreamCall};

/// What the client is sent, made from what the tap saw.
trait Render: Send + 'static {
    /// Appends the client's bytes for everything seen since the last call.
    fn drain(&mut self, out: &mut Vec<String>);
    /// The accounting stream ended: the last bytes, if any.
    fn end(&mut self, out: &mut Vec<String>);
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

/// Translated mode: OpenAI chunks through the [`StreamTranslator`].
struct Translated {
    seen: Arc<Mutex<VecDeque<Result<ChatChunk, LlmError>>>>,
    translator: StreamTranslator,
}

impl Translated {
    fn events(&mut self, events: Vec<StreamEvent>, out: &mut Vec<String>) {
        out.extend(events.iter().map(StreamEvent::to_sse));
    }
}

impl Render for Translated {
    fn drain(&mut self, out: &mut Vec<String>) {
        let items: Vec<_> = lock(&self.seen).drain(..).collect();
        let mut events = Vec::new();
        for item in items {
            match item {
                Ok(chunk) => self.translator.push(&chunk, &mut events),
                Err(e) => {
                    let api = ApiError::from(e);
                    self.translator
                        .fail(api.status.as_u16(), &api.message, &mut events);
                }
            }
        }
        self.events(events, out);
    }

    fn end(&mut self, out: &mut Vec<String>) {
        let mut events = Vec::new();
        self.translator.finish(&mut events);
        self.events(events, out);
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
    fn drain(&mut self, out: &mut Vec<String>) {
        out.extend(lock(&self.seen).drain(..));
    }

    fn end(&mut self, _out: &mut Vec<String>) {
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
        VecDeque::<String>::new(),
        false,
    );
    futures::stream::unfold(
        st,
        |(mut acct, mut render, mut pending, mut ended)| async move {
            loop {
                if let Some(s) = pending.pop_front() {
                    return Some((Ok(Bytes::from(s)), (acct, render, pending, ended)));
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

/// The Anthropic SSE body of a translated stream.
pub fn translated(
    stream: ChunkStream,
    call: StreamCall,
    limits: CallLimits,
    translator: StreamTranslator,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    let seen = Arc::new(Mutex::new(VecDeque::new()));
    let tap = seen.clone();
    let tapped: ChunkStream = Box::pin(stream.map(move |item| {
        lock(&tap).push_back(item.clone());
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
