//! The ConverseStream decoder: Bedrock answers `/converse-stream` with the binary
//! `application/vnd.amazon.eventstream` framing (prelude, headers, JSON payload, CRCs), decoded
//! here frame by frame as bytes arrive with `aws-smithy-eventstream`, and turned into OpenAI
//! chunks. Sans-IO: feed bytes, collect chunks.
//!
//! Events (`:message-type: event`, the name in `:event-type`): `messageStart` gives the role
//! chunk; `contentBlockStart` with `start.toolUse` opens a tool call (OpenAI `index` counts tool
//! calls, not content blocks); `contentBlockDelta` carries `delta.text`, `delta.toolUse.input`
//! (argument fragments) or `delta.reasoningContent` (`reasoning_content`); `contentBlockStop`
//! closes a block (a tool call that got no input is sent `{}` arguments); `messageStop` gives
//! the `finish_reason` chunk; `metadata` carries the usage, sent (with
//! `stream_options.include_usage`) as a final `choices: []` chunk, and ends the stream.
//! `:message-type: exception` (`throttlingException`, `validationException`, ...) and
//! `:message-type: error` frames become one error item that ends the stream. A stream that ends
//! before `messageStop` is an `ApiConnection` error.

use std::collections::HashMap;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue as FrameHeaderValue, Message as Frame};
use bytes::BytesMut;
use serde_json::{json, Value};

use litellm_core::{ChatChunk, Delta, ErrorKind, JsonMap, LlmError};

use super::error::error_from_parts;
use super::response::{map_stop_reason, str_field};
use super::{BedrockAdapter, CallOptions, PROVIDER, RESPONSE_FORMAT_TOOL_NAME};
use crate::decoder::{
    content_delta, cut_stream, tool_call_delta, ChunkMeta, Emit, EventDecoder, EventHandler,
    Framing,
};
use crate::response_common::{CacheCounts, CacheUsage};
use crate::upstream::invalid_upstream_body;

impl BedrockAdapter {
    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> BedrockStreamDecoder {
        BedrockStreamDecoder::new(&self.model, options)
    }
}

/// Bedrock's framing: the binary AWS event stream (aws-smithy-eventstream). An invalid frame is
/// the last event.
#[derive(Debug, Default)]
pub struct EventStream {
    frames: MessageFrameDecoder,
    buffer: BytesMut,
}

impl Framing for EventStream {
    type Event = Result<Frame, String>;

    fn push(&mut self, bytes: &[u8], events: &mut Vec<Self::Event>) {
        self.buffer.extend_from_slice(bytes);
        loop {
            match self.frames.decode_frame(&mut self.buffer) {
                Ok(DecodedFrame::Complete(frame)) => events.push(Ok(frame)),
                Ok(DecodedFrame::Incomplete) => break,
                Err(e) => {
                    events.push(Err(e.to_string()));
                    break;
                }
            }
        }
    }

    /// A partial frame at the end is dropped (the handler reports the cut stream).
    fn finish(&mut self, _events: &mut Vec<Self::Event>) {}
}

/// The `contentBlockIndex` of a block event (0 when absent).
fn block_index(event: &Value) -> u64 {
    event
        .get("contentBlockIndex")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// What a content block of the stream is, by its `contentBlockIndex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// A tool call, with its OpenAI tool-call index and whether any input arrived.
    Tool(u32, bool),
    /// The `json_tool_call` tool in JSON mode: its input is streamed as content.
    JsonTool,
}

/// Turns a ConverseStream body into OpenAI chunks, incrementally.
pub type BedrockStreamDecoder = EventDecoder<BedrockStream>;

/// What the events of a [`BedrockStreamDecoder`] mean.
#[derive(Debug)]
pub struct BedrockStream {
    meta: ChunkMeta,
    options: CallOptions,
    usage: CacheUsage,
    blocks: HashMap<u64, Block>,
    next_tool_index: u32,
    saw_finish: bool,
}

fn header_str<'a>(frame: &'a Frame, name: &str) -> Option<&'a str> {
    frame
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            FrameHeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

impl BedrockStreamDecoder {
    /// A decoder reporting `model` in its chunks.
    pub fn new(model: &str, options: CallOptions) -> Self {
        EventDecoder::from_handler(BedrockStream {
            meta: ChunkMeta::new(model),
            options,
            usage: CacheUsage::default(),
            blocks: HashMap::new(),
            next_tool_index: 0,
            saw_finish: false,
        })
    }
}

impl EventHandler for BedrockStream {
    type Framing = EventStream;

    fn on_event(&mut self, ev: Result<Frame, String>, out: &mut Emit<'_>) {
        self.on_frame(ev, out)
    }

    fn on_end(&mut self, out: &mut Emit<'_>) {
        if !self.saw_finish {
            out.push_back(Err(cut_stream(PROVIDER, "messageStop")));
        } else if self.options.include_usage {
            // No `metadata` event: the usage chunk still closes the stream, with what is known.
            out.push_back(Ok(self.usage_chunk()));
        }
    }
}

impl BedrockStream {
    fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        self.meta.chunk(delta, finish_reason)
    }

    fn usage_chunk(&self) -> ChatChunk {
        self.meta.usage_chunk(self.usage.to_usage())
    }

    fn on_frame(&mut self, frame: Result<Frame, String>, out: &mut Emit<'_>) {
        match frame {
            Ok(frame) => self.decode(&frame, out),
            Err(e) => out.fail(
                LlmError::upstream(
                    ErrorKind::InternalServer,
                    format!("{PROVIDER} sent an invalid event stream frame: {e}"),
                )
                .with_provider(PROVIDER),
            ),
        }
    }

    fn decode(&mut self, frame: &Frame, out: &mut Emit<'_>) {
        let payload = frame.payload();
        match header_str(frame, ":message-type").unwrap_or("event") {
            "exception" => {
                let kind = header_str(frame, ":exception-type").unwrap_or("exception");
                let message = serde_json::from_slice::<Value>(payload).ok().and_then(|v| {
                    v.get("message")
                        .or_else(|| v.get("Message"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
                let err = error_from_parts(None, Some(kind), message, payload);
                return out.fail(err);
            }
            "error" => {
                let kind = header_str(frame, ":error-code")
                    .unwrap_or("error")
                    .to_string();
                let message = header_str(frame, ":error-message").map(str::to_string);
                let err = error_from_parts(None, Some(&kind), message, payload);
                return out.fail(err);
            }
            _ => {}
        }
        let Some(event) = header_str(frame, ":event-type") else {
            return;
        };
        let value: Value = if payload.is_empty() {
            Value::Object(JsonMap::new())
        } else {
            match serde_json::from_slice(payload) {
                Ok(v) => v,
                Err(e) => {
                    let err = invalid_upstream_body(PROVIDER, "stream event", &e, payload);
                    return out.fail(err);
                }
            }
        };
        match event {
            "messageStart" => {
                out.push_back(Ok(self.meta.opening_chunk()));
            }
            "contentBlockStart" => {
                let index = block_index(&value);
                let Some(tool) = value.pointer("/start/toolUse") else {
                    return;
                };
                let name = str_field(tool, "name");
                if self.options.json_mode && name == RESPONSE_FORMAT_TOOL_NAME {
                    self.blocks.insert(index, Block::JsonTool);
                    return;
                }
                let tool_index = self.next_tool_index;
                self.next_tool_index += 1;
                self.blocks.insert(index, Block::Tool(tool_index, false));
                let delta = tool_call_delta(
                    tool_index,
                    Some(str_field(tool, "toolUseId")),
                    Some(name),
                    String::new(),
                );
                out.push_back(Ok(self.chunk(delta, None)));
            }
            "contentBlockDelta" => {
                let index = block_index(&value);
                let Some(d) = value.get("delta") else {
                    return;
                };
                if let Some(text) = d.get("text").and_then(Value::as_str) {
                    if !text.is_empty() {
                        out.push_back(Ok(self.chunk(content_delta(text.to_string()), None)));
                    }
                } else if let Some(input) = d.pointer("/toolUse/input").and_then(Value::as_str) {
                    if input.is_empty() {
                        return;
                    }
                    let delta = match self.blocks.get_mut(&index) {
                        Some(Block::JsonTool) => content_delta(input.to_string()),
                        Some(Block::Tool(tool_index, got_input)) => {
                            *got_input = true;
                            tool_call_delta(*tool_index, None, None, input.to_string())
                        }
                        None => return,
                    };
                    out.push_back(Ok(self.chunk(delta, None)));
                } else if let Some(r) = d.get("reasoningContent") {
                    let mut delta = Delta::default();
                    if let Some(text) = r.get("text").and_then(Value::as_str) {
                        delta.reasoning_content = Some(text.to_string());
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "thinking", "thinking": text}]),
                        );
                    } else if let Some(sig) = r.get("signature").and_then(Value::as_str) {
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "thinking", "thinking": "", "signature": sig}]),
                        );
                    } else if let Some(data) = r.get("redactedContent").and_then(Value::as_str) {
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "redacted_thinking", "data": data}]),
                        );
                    } else {
                        return;
                    }
                    out.push_back(Ok(self.chunk(delta, None)));
                }
            }
            "contentBlockStop" => {
                let index = block_index(&value);
                if let Some(Block::Tool(tool_index, false)) = self.blocks.get(&index).copied() {
                    let delta = tool_call_delta(tool_index, None, None, "{}".into());
                    out.push_back(Ok(self.chunk(delta, None)));
                }
            }
            "messageStop" => {
                let reason = value
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .unwrap_or("end_turn");
                let mut finish = map_stop_reason(reason);
                if self.options.json_mode && finish == "tool_calls" && self.next_tool_index == 0 {
                    finish = "stop".into();
                }
                self.saw_finish = true;
                out.push_back(Ok(self.chunk(Delta::default(), Some(finish))));
            }
            "metadata" => {
                if let Some(u) = value.get("usage") {
                    self.usage.merge(CacheCounts::of(u));
                }
                if self.saw_finish {
                    if self.options.include_usage {
                        out.push_back(Ok(self.usage_chunk()));
                    }
                    out.stop();
                }
            }
            // Event types added later carry nothing for us.
            _ => {}
        }
    }
}
