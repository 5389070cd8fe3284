//! The Anthropic Messages event-stream decoder (SSE events to OpenAI chunks, usage included).

use std::collections::HashMap;

use serde_json::{json, Value};

use litellm_core::{ChatChunk, Delta};

use super::error::{error_from_parts, error_from_value};
use super::request::str_field;
use super::{map_stop_reason, CallOptions, PROVIDER, RESPONSE_FORMAT_TOOL_NAME};
use crate::decoder::{
    content_delta, cut_stream, sse_json, tool_call_delta, ChunkMeta, Emit, EventDecoder,
    EventHandler, Sse,
};
use crate::response_common::{CacheCounts, CacheUsage};
use crate::sse::SseEvent;
use crate::upstream::invalid_upstream_body;
use crate::AnthropicAdapter;

impl AnthropicAdapter {
    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> AnthropicStreamDecoder {
        AnthropicStreamDecoder::new(&self.deployment.model, options)
    }
}

/// What a content block of the stream is, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    Text,
    /// A tool call, with its OpenAI tool-call index.
    Tool(u32),
    /// The `json_tool_call` tool in JSON mode: its input is streamed as content.
    JsonTool,
    Thinking,
    Other,
}

/// Turns Anthropic's SSE event stream into OpenAI chunks, incrementally: feed bytes as they
/// arrive, collect the chunks (and at most one error) they complete.
pub type AnthropicStreamDecoder = EventDecoder<AnthropicStream>;

/// What the events of a [`AnthropicStreamDecoder`] mean.
#[derive(Debug)]
pub struct AnthropicStream {
    pub(super) meta: ChunkMeta,
    pub(super) options: CallOptions,
    pub(super) usage: CacheUsage,
    pub(super) blocks: HashMap<u64, Block>,
    pub(super) next_tool_index: u32,
    pub(super) saw_finish: bool,
}

impl AnthropicStreamDecoder {
    /// A decoder; `model` is used until `message_start` names the upstream model.
    pub fn new(model: &str, options: CallOptions) -> Self {
        EventDecoder::from_handler(AnthropicStream {
            meta: ChunkMeta::new(model),
            options,
            usage: CacheUsage::default(),
            blocks: HashMap::new(),
            next_tool_index: 0,
            saw_finish: false,
        })
    }
}

impl EventHandler for AnthropicStream {
    type Framing = Sse;

    fn on_event(&mut self, ev: SseEvent, out: &mut Emit<'_>) {
        let Some((data, parsed)) = sse_json(&ev) else {
            return;
        };
        let value: Value = match parsed {
            Ok(v) => v,
            Err(e) => {
                let err = if ev.event.as_deref() == Some("error") {
                    error_from_parts(None, None, None, data.as_bytes())
                } else {
                    invalid_upstream_body(PROVIDER, "stream event", &e, data.as_bytes())
                };
                return out.fail(err);
            }
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                let message = value.get("message");
                if let Some(id) = message.and_then(|m| m.get("id")).and_then(Value::as_str) {
                    self.meta.id = id.to_string();
                }
                if let Some(m) = message.and_then(|m| m.get("model")).and_then(Value::as_str) {
                    self.meta.model = m.to_string();
                }
                if let Some(u) = message.and_then(|m| m.get("usage")) {
                    self.usage.merge(CacheCounts::of(u));
                }
                out.push_back(Ok(self.meta.opening_chunk()));
            }
            "content_block_start" => {
                let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                let block = value.get("content_block").cloned().unwrap_or(Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        self.blocks.insert(index, Block::Text);
                        let text = str_field(&block, "text");
                        if !text.is_empty() {
                            out.push_back(Ok(self.chunk(content_delta(text), None)));
                        }
                    }
                    Some("tool_use") => {
                        let name = str_field(&block, "name");
                        if self.options.json_mode && name == RESPONSE_FORMAT_TOOL_NAME {
                            self.blocks.insert(index, Block::JsonTool);
                            return;
                        }
                        let tool_index = self.next_tool_index;
                        self.next_tool_index += 1;
                        self.blocks.insert(index, Block::Tool(tool_index));
                        let id = Some(str_field(&block, "id"));
                        let delta = tool_call_delta(tool_index, id, Some(name), String::new());
                        out.push_back(Ok(self.chunk(delta, None)));
                    }
                    Some("thinking") => {
                        self.blocks.insert(index, Block::Thinking);
                    }
                    Some("redacted_thinking") => {
                        self.blocks.insert(index, Block::Other);
                        let mut delta = Delta::default();
                        delta
                            .extra
                            .insert("thinking_blocks".into(), Value::Array(vec![block]));
                        out.push_back(Ok(self.chunk(delta, None)));
                    }
                    _ => {
                        self.blocks.insert(index, Block::Other);
                    }
                }
            }
            "content_block_delta" => {
                let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                let block = self.blocks.get(&index).copied().unwrap_or(Block::Other);
                let d = value.get("delta").cloned().unwrap_or(Value::Null);
                let delta = match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let text = str_field(&d, "text");
                        if text.is_empty() {
                            return;
                        }
                        content_delta(text)
                    }
                    Some("input_json_delta") => {
                        let partial = str_field(&d, "partial_json");
                        if partial.is_empty() {
                            return;
                        }
                        match block {
                            Block::JsonTool => content_delta(partial),
                            Block::Tool(tool_index) => {
                                tool_call_delta(tool_index, None, None, partial)
                            }
                            _ => return,
                        }
                    }
                    Some("thinking_delta") => {
                        let thinking = str_field(&d, "thinking");
                        let mut delta = Delta {
                            reasoning_content: Some(thinking.clone()),
                            ..Default::default()
                        };
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "thinking", "thinking": thinking}]),
                        );
                        delta
                    }
                    Some("signature_delta") => {
                        let mut delta = Delta::default();
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{
                                "type": "thinking",
                                "thinking": "",
                                "signature": str_field(&d, "signature")
                            }]),
                        );
                        delta
                    }
                    _ => return,
                };
                out.push_back(Ok(self.chunk(delta, None)));
            }
            "message_delta" => {
                if let Some(u) = value.get("usage") {
                    self.usage.merge(CacheCounts::of(u));
                }
                let reason = value
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str);
                if let Some(reason) = reason {
                    let mut finish = map_stop_reason(reason);
                    if self.options.json_mode && finish == "tool_calls" && self.next_tool_index == 0
                    {
                        finish = "stop".into();
                    }
                    self.finish(finish, out);
                }
            }
            "message_stop" => {
                if !self.saw_finish {
                    // No stop_reason was ever sent: end the message as a plain stop.
                    self.finish("stop".into(), out);
                }
                out.stop();
            }
            "error" => {
                let err = error_from_value(None, &value, data.as_bytes());
                out.fail(err);
            }
            // `ping`, `content_block_stop` and event types added later carry nothing for us.
            _ => {}
        }
    }

    fn on_end(&mut self, out: &mut Emit<'_>) {
        if !self.saw_finish {
            out.push_back(Err(cut_stream(PROVIDER, "message_stop")));
        }
    }
}

impl AnthropicStream {
    pub(super) fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        self.meta.chunk(delta, finish_reason)
    }

    /// The finish chunk, then (when asked for) the usage chunk.
    fn finish(&mut self, finish: String, out: &mut Emit<'_>) {
        self.saw_finish = true;
        out.push_back(Ok(self.chunk(Delta::default(), Some(finish))));
        if self.options.include_usage {
            out.push_back(Ok(self.meta.usage_chunk(self.usage.to_usage())));
        }
    }
}
