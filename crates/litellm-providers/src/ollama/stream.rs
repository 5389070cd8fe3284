//! The Ollama NDJSON stream decoder (one JSON object a line to OpenAI chunks).

use serde_json::Value;

use litellm_core::{ChatChunk, Delta};

use super::error::error_from_value;
use super::response::ResponsePart;
use super::{map_done_reason, usage_from, CallOptions, OllamaAdapter, OllamaMode};
use crate::adapter_common::{arguments_string, new_call_id};
use crate::decoder::{
    cut_stream, has_delta, open_choice, tool_call_delta, ChunkMeta, Emit, EventDecoder,
    EventHandler, Ndjson,
};
use crate::upstream::invalid_upstream_body;

impl OllamaAdapter {
    /// A decoder for this deployment's NDJSON stream.
    pub fn stream_decoder(&self, options: CallOptions) -> OllamaStreamDecoder {
        OllamaStreamDecoder::new(self.provider(), self.mode, &self.deployment.model, options)
    }
}

/// Turns Ollama's NDJSON stream into OpenAI chunks, incrementally: feed bytes as they arrive,
/// collect the chunks (and at most one error) they complete.
pub type OllamaStreamDecoder = EventDecoder<OllamaStream>;

/// What the events of a [`OllamaStreamDecoder`] mean.
#[derive(Debug)]
pub struct OllamaStream {
    pub(super) provider: &'static str,
    pub(super) mode: OllamaMode,
    pub(super) meta: ChunkMeta,
    pub(super) options: CallOptions,
    pub(super) started: bool,
    pub(super) tool_calls: u32,
}

impl OllamaStreamDecoder {
    /// A decoder; `model` is used until an object names its `model`.
    pub fn new(
        provider: &'static str,
        mode: OllamaMode,
        model: &str,
        options: CallOptions,
    ) -> Self {
        EventDecoder::from_handler(OllamaStream {
            provider,
            mode,
            meta: ChunkMeta::new(model),
            options,
            started: false,
            tool_calls: 0,
        })
    }
}

impl EventHandler for OllamaStream {
    type Framing = Ndjson;

    fn on_event(&mut self, ev: Vec<u8>, out: &mut Emit<'_>) {
        self.line(&ev, out)
    }

    fn on_end(&mut self, out: &mut Emit<'_>) {
        out.push_back(Err(cut_stream(self.provider, "done: true")));
    }
}

impl OllamaStream {
    pub(super) fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        self.meta.chunk(delta, finish_reason)
    }

    pub(super) fn line(&mut self, line: &[u8], out: &mut Emit<'_>) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let err = invalid_upstream_body(self.provider, "stream line", &e, text.as_bytes());
                return out.fail(err);
            }
        };
        if value.get("error").is_some() {
            return out.fail(error_from_value(
                self.provider,
                None,
                &value,
                text.as_bytes(),
            ));
        }
        if let Some(m) = value.get("model").and_then(Value::as_str) {
            self.meta.model = m.to_string();
        }
        let part = ResponsePart::of(self.mode, &value);
        let mut delta = Delta {
            content: part.content.filter(|c| !c.is_empty()),
            reasoning_content: part.thinking,
            ..Default::default()
        };
        if !part.tool_calls.is_empty() {
            let mut calls = Vec::new();
            for c in &part.tool_calls {
                let id = c
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(new_call_id);
                let name = c
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let args = arguments_string(c.pointer("/function/arguments"));
                let delta = tool_call_delta(self.tool_calls, Some(id), Some(name), args);
                calls.extend(delta.tool_calls.into_iter().flatten());
                self.tool_calls += 1;
            }
            delta.tool_calls = Some(calls);
        }
        let has_delta = has_delta(&delta);
        let done = value.get("done").and_then(Value::as_bool) == Some(true);
        if !self.started && (has_delta || done) {
            self.started = true;
            open_choice(&mut delta);
        }
        if delta.role.is_some() || has_delta {
            out.push_back(Ok(self.chunk(delta, None)));
        }
        if done {
            let reason = map_done_reason(
                value.get("done_reason").and_then(Value::as_str),
                self.tool_calls > 0,
            );
            out.push_back(Ok(self.chunk(Delta::default(), Some(reason))));
            if self.options.include_usage {
                let usage = usage_from(&value, self.options.prompt_estimate);
                out.push_back(Ok(self.meta.usage_chunk(usage)));
            }
            out.stop();
        }
    }
}
