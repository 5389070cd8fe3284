//! The Cohere v2 chat event-stream decoder (SSE events to OpenAI chunks).

use serde_json::Value;

use litellm_core::{ChatChunk, Delta};

use super::error::error_from_value;
use super::response::finish_error;
use super::{map_finish_reason, usage_from, CallOptions, CohereAdapter, PROVIDER};
use crate::adapter_common::new_call_id;
use crate::decoder::{
    content_delta, cut_stream, sse_value, tool_call_delta, ChunkMeta, Emit, EventDecoder,
    EventHandler, Sse,
};
use crate::sse::SseEvent;

/// Turns Cohere's v2 chat event stream into OpenAI chunks, incrementally: feed bytes as they
/// arrive, collect the chunks (and at most one error) they complete.
pub type CohereStreamDecoder = EventDecoder<CohereStream>;

impl CohereAdapter {
    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> CohereStreamDecoder {
        CohereStreamDecoder::new(&self.deployment.model, options)
    }
}

/// What the events of a [`CohereStreamDecoder`] mean.
#[derive(Debug)]
pub struct CohereStream {
    pub(super) meta: ChunkMeta,
    pub(super) options: CallOptions,
    pub(super) started: bool,
    /// Tool calls opened so far (the next call's OpenAI index).
    pub(super) tool_calls: u32,
}

impl CohereStreamDecoder {
    /// A decoder for a stream of `model`.
    pub fn new(model: &str, options: CallOptions) -> Self {
        EventDecoder::from_handler(CohereStream {
            meta: ChunkMeta::new(model),
            options,
            started: false,
            tool_calls: 0,
        })
    }
}

impl EventHandler for CohereStream {
    type Framing = Sse;

    fn on_event(&mut self, ev: SseEvent, out: &mut Emit<'_>) {
        let Some((data, value)) = sse_value(&ev, PROVIDER, out) else {
            return;
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default()
            .to_string();
        let message = value.pointer("/delta/message");
        match kind.as_str() {
            "message-start" => {
                if let Some(id) = value.get("id").and_then(Value::as_str) {
                    self.meta.id = format!("chatcmpl-{id}");
                }
                self.push_delta(content_delta(String::new()), out);
            }
            "content-delta" => {
                let content = message.and_then(|m| m.get("content"));
                let text = content.and_then(|c| c.get("text")).and_then(Value::as_str);
                let thinking = content
                    .and_then(|c| c.get("thinking"))
                    .and_then(Value::as_str);
                let delta = Delta {
                    content: text.map(str::to_string),
                    reasoning_content: thinking.map(str::to_string),
                    ..Default::default()
                };
                if delta.content.is_some() || delta.reasoning_content.is_some() {
                    self.push_delta(delta, out);
                }
            }
            "tool-plan-delta" => {
                if let Some(plan) = message
                    .and_then(|m| m.get("tool_plan"))
                    .and_then(Value::as_str)
                {
                    let delta = Delta {
                        reasoning_content: Some(plan.to_string()),
                        ..Default::default()
                    };
                    self.push_delta(delta, out);
                }
            }
            "tool-call-start" => {
                let call = message.and_then(|m| m.get("tool_calls"));
                let index = self.tool_calls;
                self.tool_calls += 1;
                let id = call
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(new_call_id);
                let name = call
                    .and_then(|c| c.pointer("/function/name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let args = call
                    .and_then(|c| c.pointer("/function/arguments"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let delta = tool_call_delta(index, Some(id), Some(name.into()), args.to_string());
                self.push_delta(delta, out);
            }
            "tool-call-delta" => {
                let args = message
                    .and_then(|m| m.pointer("/tool_calls/function/arguments"))
                    .and_then(Value::as_str);
                if let Some(args) = args.filter(|a| !a.is_empty()) {
                    let index = self.tool_calls.saturating_sub(1);
                    let delta = tool_call_delta(index, None, None, args.to_string());
                    self.push_delta(delta, out);
                }
            }
            "message-end" => {
                let delta = value.get("delta");
                let reason = delta
                    .and_then(|d| d.get("finish_reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("COMPLETE");
                if let Some(err) = finish_error(reason) {
                    return out.fail(err);
                }
                let finish = map_finish_reason(reason, self.tool_calls > 0);
                if !self.started {
                    self.push_delta(content_delta(String::new()), out);
                }
                out.push_back(Ok(self.chunk(Delta::default(), Some(finish))));
                if self.options.include_usage {
                    let usage = usage_from(delta.and_then(|d| d.get("usage")));
                    out.push_back(Ok(self.meta.usage_chunk(usage)));
                }
                out.stop();
            }
            _ if value.get("message").is_some() && value.get("delta").is_none() => {
                // An error object in the stream (`{"message": ...}`).
                let err = error_from_value(None, &value, data.as_bytes());
                out.fail(err);
            }
            // content-start, content-end, tool-call-end, citation-start/end, debug.
            _ => {}
        }
    }

    fn on_end(&mut self, out: &mut Emit<'_>) {
        out.push_back(Err(cut_stream(PROVIDER, "message-end")));
    }
}

impl CohereStream {
    pub(super) fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        self.meta.chunk(delta, finish_reason)
    }

    pub(super) fn push_delta(&mut self, mut delta: Delta, out: &mut Emit<'_>) {
        if !self.started {
            self.started = true;
            delta.role = Some("assistant".into());
        }
        out.push_back(Ok(self.chunk(delta, None)));
    }
}
