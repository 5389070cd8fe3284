//! The Gemini SSE stream decoder (`streamGenerateContent?alt=sse` to OpenAI chunks).

use serde_json::Value;

use litellm_core::{ChatChunk, Delta, Usage};

use super::answer::{GenerateContentResponse, PartsRead};
use super::error::error_from_value;
use super::response::malformed_function_call;
use super::{map_finish_reason, usage_from_metadata, CallOptions, GeminiAdapter};
use crate::adapter_common::new_call_id;
use crate::decoder::{
    cut_stream, has_delta, open_choice, sse_value, tool_call_delta, ChunkMeta, Emit, EventDecoder,
    EventHandler, Sse,
};
use crate::response_common::read_object;
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
        let answer: GenerateContentResponse = read_object(&value);
        if let Some(m) = &answer.model_version.0 {
            self.meta.model = m.clone();
        }
        if let Some(id) = answer.response_id.as_ref().and_then(Value::as_str) {
            if !self.candidates.iter().any(|c| c.started) {
                self.meta.id = format!("chatcmpl-{id}");
            }
        }
        if let Some(m) = &answer.usage_metadata {
            self.usage = Some(usage_from_metadata(m));
        }
        let candidates = answer.candidates();
        if candidates.is_empty() {
            if answer.blocked() {
                self.saw_finish = true;
                let delta = Delta {
                    role: Some("assistant".into()),
                    ..Default::default()
                };
                out.push_back(Ok(self.chunk(0, delta, Some("content_filter".into()))));
            }
            return;
        }
        for (index, candidate) in candidates {
            let index = index as usize;
            if self.candidates.len() <= index {
                self.candidates.resize(index + 1, CandidateState::default());
            }
            let reason = candidate.finish_reason.0.as_deref();
            if reason == Some("MALFORMED_FUNCTION_CALL") {
                let err = malformed_function_call(self.provider, &candidate);
                return out.fail(err);
            }
            let mut delta = Delta::default();
            let PartsRead {
                text,
                reasoning,
                calls: read_calls,
            } = candidate.read_parts();
            let mut calls = Vec::new();
            for (name, args) in read_calls {
                let state = &mut self.candidates[index];
                let delta =
                    tool_call_delta(state.tool_calls, Some(new_call_id()), Some(name), args);
                calls.extend(delta.tool_calls.into_iter().flatten());
                state.tool_calls += 1;
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
