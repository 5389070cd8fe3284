//! Stream decoding, written once. [`ChunkDecoder`] is what the generic backend drives (feed the
//! bytes of a streamed answer as they arrive, finish at the end, stop when done);
//! [`EventDecoder`] is its one implementation: it owns the framing of the bytes into events
//! ([`Sse`] for Server-Sent Events, [`Ndjson`] for newline-delimited JSON, or a provider's own
//! [`Framing`], such as Bedrock's binary event stream) and the done flag, and hands each event to
//! a provider's [`EventHandler`], which only says what one event means (chunks and errors,
//! through [`Emit`]) and what the end of the body means. What the native-format handlers share
//! is here too: [`ChunkMeta`] (the id, time and model every chunk of a stream carries),
//! [`sse_json`] (an SSE event's JSON data), the tool-call deltas and [`cut_stream`].

use std::collections::VecDeque;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde_json::Value;

use litellm_core::{
    unix_now, ChatChunk, ChatRequest, ChunkChoice, Delta, ErrorKind, FunctionCallDelta, JsonMap,
    LlmError, ToolCallDelta, Usage,
};

use crate::sse::{SseEvent, SseParser};
use crate::upstream::invalid_upstream_body;

/// What a stream decoder produces: chunks and (at most one, last) error.
pub type Items = VecDeque<Result<ChatChunk, LlmError>>;

/// An incremental decoder of a provider's event stream into OpenAI chunks.
pub trait ChunkDecoder: Send + Unpin + 'static {
    /// Feeds the next bytes; completed chunks and errors are appended to `out`.
    fn feed(&mut self, bytes: &[u8], out: &mut Items);
    /// The bytes have ended.
    fn finish(&mut self, out: &mut Items);
    /// Whether nothing more will be produced.
    fn is_done(&self) -> bool;
}

/// How a body's bytes are cut into events.
pub trait Framing: fmt::Debug + Default + Send + Unpin + 'static {
    /// One event.
    type Event: Send + Unpin + 'static;
    /// Takes the next bytes; appends the events they complete.
    fn push(&mut self, bytes: &[u8], events: &mut Vec<Self::Event>);
    /// The bytes have ended; appends a last unterminated event, if the framing has one.
    fn finish(&mut self, events: &mut Vec<Self::Event>);
}

/// Server-Sent Events (see [`SseParser`]).
#[derive(Debug, Default)]
pub struct Sse(SseParser);

impl Framing for Sse {
    type Event = SseEvent;
    fn push(&mut self, bytes: &[u8], events: &mut Vec<SseEvent>) {
        self.0.push(bytes, events);
    }
    fn finish(&mut self, events: &mut Vec<SseEvent>) {
        self.0.finish(events);
    }
}

/// Newline-delimited JSON: each event is one line, its `\n` included; at the end, what is left
/// (possibly nothing) is a last line.
#[derive(Debug, Default)]
pub struct Ndjson(Vec<u8>);

impl Framing for Ndjson {
    type Event = Vec<u8>;
    fn push(&mut self, bytes: &[u8], events: &mut Vec<Vec<u8>>) {
        self.0.extend_from_slice(bytes);
        while let Some(pos) = self.0.iter().position(|b| *b == b'\n') {
            events.push(self.0.drain(..=pos).collect());
        }
    }
    fn finish(&mut self, events: &mut Vec<Vec<u8>>) {
        events.push(std::mem::take(&mut self.0));
    }
}

/// Where a handler puts what an event produced. It dereferences to the output queue; ending the
/// stream goes through [`Emit::fail`] or [`Emit::stop`], and nothing is decoded after that.
pub struct Emit<'a> {
    out: &'a mut Items,
    done: bool,
}

impl Emit<'_> {
    /// Emits an error item and ends the stream.
    pub fn fail(&mut self, err: LlmError) {
        self.done = true;
        self.out.push_back(Err(err));
    }

    /// Ends the stream (the provider's end event was seen).
    pub fn stop(&mut self) {
        self.done = true;
    }

    /// Whether the stream has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl Deref for Emit<'_> {
    type Target = Items;
    fn deref(&self) -> &Items {
        self.out
    }
}

impl DerefMut for Emit<'_> {
    fn deref_mut(&mut self) -> &mut Items {
        self.out
    }
}

/// What a provider's stream decoder does with one event, and at the end of the body.
pub trait EventHandler: Send + Unpin + 'static {
    /// How the provider's bytes are cut into events.
    type Framing: Framing;
    /// Decodes one event: chunks to `out`, and [`Emit::fail`] / [`Emit::stop`] to end.
    fn on_event(&mut self, ev: <Self::Framing as Framing>::Event, out: &mut Emit<'_>);
    /// The body ended before the handler ended the stream (typically an error: the stream was
    /// cut). The stream is over afterwards whatever the handler does.
    fn on_end(&mut self, out: &mut Emit<'_>);
}

/// The one stream decoder: framing, done flag, and a provider's [`EventHandler`]. Once done
/// (the handler ended the stream, or the body ended), later bytes are ignored.
pub struct EventDecoder<H: EventHandler> {
    framing: H::Framing,
    events: Vec<<H::Framing as Framing>::Event>,
    handler: H,
    done: bool,
}

impl<H: EventHandler + fmt::Debug> fmt::Debug for EventDecoder<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventDecoder")
            .field("framing", &self.framing)
            .field("handler", &self.handler)
            .field("done", &self.done)
            .finish()
    }
}

impl<H: EventHandler> EventDecoder<H> {
    /// A decoder handing events to `handler`.
    pub fn from_handler(handler: H) -> Self {
        EventDecoder {
            framing: H::Framing::default(),
            events: Vec::new(),
            handler,
            done: false,
        }
    }

    /// The handler (for inspection).
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Whether the stream is over: later bytes are ignored.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds the next bytes; completed chunks and errors are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Items) {
        if self.done {
            return;
        }
        self.framing.push(bytes, &mut self.events);
        self.drain(out);
    }

    /// The bytes have ended: decodes a last unterminated event, then lets the handler report
    /// the end (a cut stream, a last usage chunk) unless it already ended the stream.
    pub fn finish(&mut self, out: &mut Items) {
        if self.done {
            return;
        }
        self.framing.finish(&mut self.events);
        self.drain(out);
        if !self.done {
            let mut emit = Emit { out, done: false };
            self.handler.on_end(&mut emit);
        }
        self.done = true;
    }

    fn drain(&mut self, out: &mut Items) {
        let mut events = std::mem::take(&mut self.events);
        let mut emit = Emit { out, done: false };
        for ev in events.drain(..) {
            self.handler.on_event(ev, &mut emit);
            if emit.done {
                break;
            }
        }
        self.done = emit.done;
        // Keep the allocation.
        events.clear();
        self.events = events;
    }
}

impl<H: EventHandler> ChunkDecoder for EventDecoder<H> {
    fn feed(&mut self, bytes: &[u8], out: &mut Items) {
        EventDecoder::feed(self, bytes, out);
    }
    fn finish(&mut self, out: &mut Items) {
        EventDecoder::finish(self, out);
    }
    fn is_done(&self) -> bool {
        EventDecoder::is_done(self)
    }
}

/// The call options of an adapter whose response side needs to know only whether the client
/// asked for a final usage chunk: Cohere's and Gemini's `CallOptions`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageOptions {
    /// The client asked for a final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
}

impl UsageOptions {
    /// The options implied by a request.
    pub fn of(req: &ChatRequest) -> UsageOptions {
        UsageOptions {
            include_usage: req.wants_stream_usage(),
        }
    }
}

/// What every chunk of one stream carries: its id, creation time and model.
#[derive(Debug, Clone)]
pub struct ChunkMeta {
    /// `chatcmpl-...`; a provider's start event may replace it.
    pub id: String,
    /// Unix seconds when the stream started.
    pub created: u64,
    /// The deployment's model until the provider names its own.
    pub model: String,
}

impl ChunkMeta {
    /// A fresh id, now, and `model`.
    pub fn new(model: &str) -> Self {
        ChunkMeta {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            created: unix_now(),
            model: model.to_string(),
        }
    }

    /// A chunk with no choices and no usage.
    pub fn empty_chunk(&self) -> ChatChunk {
        ChatChunk::new(self.id.clone(), self.created, self.model.clone())
    }

    /// A chunk with one choice of `index`.
    pub fn choice_chunk(
        &self,
        index: u32,
        delta: Delta,
        finish_reason: Option<String>,
    ) -> ChatChunk {
        let mut c = self.empty_chunk();
        c.choices.push(ChunkChoice {
            index,
            delta,
            finish_reason,
            logprobs: None,
            extra: JsonMap::new(),
        });
        c
    }

    /// A chunk with the one choice (index 0).
    pub fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        self.choice_chunk(0, delta, finish_reason)
    }

    /// The first chunk of a stream: the assistant role and empty content.
    pub fn opening_chunk(&self) -> ChatChunk {
        let delta = Delta {
            role: Some("assistant".into()),
            content: Some(String::new()),
            ..Default::default()
        };
        self.chunk(delta, None)
    }

    /// The `choices: []` chunk that carries a stream's usage.
    pub fn usage_chunk(&self, usage: Usage) -> ChatChunk {
        let mut c = self.empty_chunk();
        c.usage = Some(usage);
        c
    }
}

/// The JSON data of an SSE event: `None` for an empty event and `[DONE]`; otherwise the trimmed
/// data and its parse.
pub fn sse_json(ev: &SseEvent) -> Option<(&str, Result<Value, serde_json::Error>)> {
    let data = ev.data.trim();
    if data.is_empty() || data == "[DONE]" {
        return None;
    }
    Some((data, serde_json::from_str(data)))
}

/// The JSON data of an SSE event as [`sse_json`] reads it, with its parse; an event that is not
/// JSON fails the stream (`out`) as an invalid `provider` body, and is `None` like an empty one.
pub fn sse_value<'e>(
    ev: &'e SseEvent,
    provider: &str,
    out: &mut Emit<'_>,
) -> Option<(&'e str, Value)> {
    let (data, parsed) = sse_json(ev)?;
    match parsed {
        Ok(value) => Some((data, value)),
        Err(e) => {
            out.fail(invalid_upstream_body(
                provider,
                "stream event",
                &e,
                data.as_bytes(),
            ));
            None
        }
    }
}

/// The error for a stream whose bytes ended before its end event (`before`).
pub fn cut_stream(provider: &str, before: &str) -> LlmError {
    LlmError::upstream(
        ErrorKind::ApiConnection,
        format!("the {provider} stream ended before {before}"),
    )
    .with_provider(provider)
}

/// A delta holding only content.
pub fn content_delta(text: String) -> Delta {
    Delta {
        content: Some(text),
        ..Default::default()
    }
}

/// A delta holding one tool call (or a fragment of one): a first fragment has an `id` (and the
/// `function` type), later ones only arguments.
pub fn tool_call_delta(
    index: u32,
    id: Option<String>,
    name: Option<String>,
    args: String,
) -> Delta {
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index,
            kind: id.as_ref().map(|_| "function".to_string()),
            id,
            function: Some(FunctionCallDelta {
                name,
                arguments: Some(args),
            }),
        }]),
        ..Default::default()
    }
}

/// Marks a choice's first delta: the `assistant` role, and empty content when it carries neither
/// content nor tool calls.
pub fn open_choice(delta: &mut Delta) {
    delta.role = Some("assistant".into());
    if delta.content.is_none() && delta.tool_calls.is_none() {
        delta.content = Some(String::new());
    }
}

/// Whether a delta carries content, reasoning or tool calls.
pub fn has_delta(delta: &Delta) -> bool {
    delta.content.is_some() || delta.reasoning_content.is_some() || delta.tool_calls.is_some()
}
