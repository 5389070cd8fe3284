//! The Gemini SSE stream decoder (`streamGenerateContent?alt=sse` to OpenAI chunks).

use serde_json::Value;

use litellm_core::{ChatChunk, Delta, Usage};

use super::error::error_from_value;
use super::response::{candidate_parts, malformed_function_call, str_field};
use super::{map_finish_reason, usage_from_metadata, CallOptions, GeminiAdapter};
use crate::adapter_common::new_call_id;
use crate::decoder::{
    cut_stream, has_delta, open_choice, sse_value, tool_call_delta, ChunkMeta, Emit, EventDecoder,
    EventHandler, Sse,
};
use crate::sse::SseEvent;

impl GeminiAdapter {
    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> GeminiStreamDecoder {
        GeminiStreamDecoder::new(self.provider, &self.deployment.model, options)
    }
}

/// Per-candidate state of a stream.
#[derive(Debug, Default, Clone)]
pub(super) struct CandidateState {
    pub(super) started: bool,
    pub(super) tool_calls: u32,
    pub(super) finished: bool,
}

/// Turns Gemini's SSE stream into OpenAI chunks, incrementally: feed bytes as they arrive,
/// collect the chunks (and at most one error) they complete.
pub type GeminiStreamDecoder = EventDecoder<GeminiStream>;

/// What the events of a [`GeminiStreamDecoder`] mean.
#[derive(Debug)]
pub struct GeminiStream {
    pub(super) provider: &'static str,
    pub(super) meta: ChunkMeta,
    pub(super) options: CallOptions,
    pub(super) usage: Option<Usage>,
    pub(super) candidates: Vec<CandidateState>,
    pub(super) saw_finish: bool,
}

impl GeminiStreamDecoder {
    /// A decoder; `model` is used until an event names the `modelVersion`.
    pub fn new(provider: &'static str, model: &str, options: CallOptions) -> Self {
        EventDecoder::from_handler(GeminiStream {
            provider,
            meta: ChunkMeta::new(model),
            options,
            usage: None,
            candidates: Vec::new(),
            saw_finish: false,
        })
    }
}

impl EventHandler for GeminiStream {
    type Framing = Sse;

    fn on_event(&mut self, ev: SseEvent, out: &mut Emit<'_>) {
        let Some((data, value)) = sse_value(&ev, self.provider, out) else {
            return;
        };
        if value.get("error").is_some() {
            let err = error_from_value(self.provider, None, &value, data.as_bytes());
            return out.fail(err);
        }
        if let Some(m) = value.get("modelVersion").and_then(Value::as_str) {
            self.meta.model = m.to_string();
        }
        if let Some(id) = value.get("responseId").and_then(Value::as_str) {
            if !self.candidates.iter().any(|c| c.started) {
                self.meta.id = format!("chatcmpl-{id}");
            }
        }
        if let Some(m) = value.get("usageMetadata") {
            self.usage = Some(usage_from_metadata(m));
        }
        let candidates = value
            .get("candidates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if candidates.is_empty() {
            if value
                .get("promptFeedback")
                .and_then(|f| f.get("blockReason"))
                .is_some()
            {
                self.saw_finish = true;
                let delta = Delta {
                    role: Some("assistant".into()),
                    ..Default::default()
                };
                out.push_back(Ok(self.chunk(0, delta, Some("content_filter".into()))));
            }
            return;
        }
        for (i, candidate) in candidates.iter().enumerate() {
            let index = candidate
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64) as usize;
            if self.candidates.len() <= index {
                self.candidates.resize(index + 1, CandidateState::default());
            }
            let reason = candidate.get("finishReason").and_then(Value::as_str);
            if reason == Some("MALFORMED_FUNCTION_CALL") {
                let err = malformed_function_call(self.provider, candidate);
                return out.fail(err);
            }
            let mut delta = Delta::default();
            let mut text = String::new();
            let mut reasoning = String::new();
            let mut calls = Vec::new();
            for part in candidate_parts(candidate) {
                if let Some(call) = part.get("functionCall") {
                    let state = &mut self.candidates[index];
                    let args = call
                        .get("args")
                        .filter(|a| !a.is_null())
                        .map(Value::to_string)
                        .unwrap_or_else(|| "{}".into());
                    let name = Some(str_field(call, "name"));
                    let delta = tool_call_delta(state.tool_calls, Some(new_call_id()), name, args);
                    calls.extend(delta.tool_calls.into_iter().flatten());
                    state.tool_calls += 1;
                } else if let Some(t) = part.get("text").and_then(Value::as_str) {
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        reasoning.push_str(t);
                    } else {
                        text.push_str(t);
                    }
                }
            }
            if !text.is_empty() {
                delta.content = Some(text);
            }
            if !reasoning.is_empty() {
                delta.reasoning_content = Some(reasoning);
            }
            if !calls.is_empty() {
                delta.tool_calls = Some(calls);
            }
            let has_delta = has_delta(&delta);
            let state = &mut self.candidates[index];
            if !state.started && (has_delta || reason.is_some()) {
                state.started = true;
                open_choice(&mut delta);
            }
            let called_tools = state.tool_calls > 0;
            let finish = match reason {
                Some(r) if !state.finished => {
                    state.finished = true;
                    Some(map_finish_reason(r, called_tools))
                }
                _ => None,
            };
            if delta.role.is_some() || has_delta {
                out.push_back(Ok(self.chunk(index as u32, delta, None)));
            }
            if let Some(finish) = finish {
                self.saw_finish = true;
                out.push_back(Ok(self.chunk(index as u32, Delta::default(), Some(finish))));
            }
        }
    }

    fn on_end(&mut self, out: &mut Emit<'_>) {
        if !self.saw_finish {
            out.push_back(Err(cut_stream(self.provider, "any finishReason")));
            return;
        }
        if self.options.include_usage {
            let usage = self.usage.clone().unwrap_or_default();
            out.push_back(Ok(self.meta.usage_chunk(usage)));
        }
    }
}

impl GeminiStream {
    pub(super) fn chunk(
        &self,
        index: u32,
        delta: Delta,
        finish_reason: Option<String>,
    ) -> ChatChunk {
        self.meta.choice_chunk(index, delta, finish_reason)
    }
}
