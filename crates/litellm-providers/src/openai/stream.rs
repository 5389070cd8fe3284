//! The OpenAI SSE stream decoder: chunks pass through, `[DONE]` ends the stream, an error event
//! ends it with an error item.

use serde_json::Value;

use litellm_core::{ChatChunk, ErrorKind, LlmError};

use super::error::{error_from_parts, error_in_body, extract_error, ErrorBody};
use super::response::fill_identity;
use super::{OpenAiAdapter, MAX_ERROR_TEXT, PROVIDER};
use crate::decoder::{Emit, EventDecoder, EventHandler, Sse};
use crate::sse::SseEvent;
use crate::upstream::{invalid_upstream_body, truncate_chars};

impl OpenAiAdapter {
    /// A decoder for this deployment's chat stream.
    pub fn stream_decoder(&self) -> ChatStreamDecoder {
        ChatStreamDecoder::new(&self.model)
    }
}

/// Turns an OpenAI SSE stream into chunks, incrementally: feed bytes as they arrive, collect the
/// chunks (and at most one error) they complete.
///
/// Ends at `data: [DONE]`. An `{"error": ...}` event yields one error item and ends the stream.
/// If the bytes end before `[DONE]` and no chunk carried a `finish_reason`, that is an
/// `ApiConnection` error: the stream was cut.
pub type ChatStreamDecoder = EventDecoder<OpenAiStream>;

/// What an OpenAI stream's events mean (see [`ChatStreamDecoder`]).
#[derive(Debug)]
pub struct OpenAiStream {
    model: String,
    /// The id given to chunks that lack one, the same for the whole stream.
    fallback_id: Option<String>,
    saw_finish: bool,
}

impl ChatStreamDecoder {
    /// A decoder; `model` fills chunks that omit theirs.
    pub fn new(model: &str) -> Self {
        EventDecoder::from_handler(OpenAiStream {
            model: model.to_string(),
            fallback_id: None,
            saw_finish: false,
        })
    }
}

impl EventHandler for OpenAiStream {
    type Framing = Sse;

    fn on_event(&mut self, ev: SseEvent, out: &mut Emit<'_>) {
        let data = ev.data.trim();
        if data == "[DONE]" {
            return out.stop();
        }
        match self.decode_event(ev) {
            Some(Ok(chunk)) => out.push_back(Ok(chunk)),
            Some(Err(e)) => out.fail(e),
            None => {}
        }
    }

    /// The bytes ended before `[DONE]`: a cut stream, unless a chunk carried a `finish_reason`.
    fn on_end(&mut self, out: &mut Emit<'_>) {
        if !self.saw_finish {
            out.fail(
                LlmError::upstream(
                    ErrorKind::ApiConnection,
                    "the upstream stream ended before [DONE]",
                )
                .with_provider(PROVIDER),
            );
        }
    }
}

impl OpenAiStream {
    pub(super) fn decode_event(&mut self, ev: SseEvent) -> Option<Result<ChatChunk, LlmError>> {
        let data = ev.data.trim();
        if data.is_empty() {
            return None;
        }
        let is_error_event = ev.event.as_deref() == Some("error");
        // Fast path: a well-formed chunk. A raw `"error"` (a key, or an error finish reason)
        // takes the careful path.
        if !is_error_event && !data.contains("\"error\"") {
            if let Ok(chunk) = serde_json::from_str::<ChatChunk>(data) {
                // Azure opens its streams with a `prompt_filter_results` chunk that has no id,
                // no choices and no usage: nothing for the client (LiteLLM drops it too).
                if chunk.id.is_empty() && chunk.choices.is_empty() && chunk.usage.is_none() {
                    return None;
                }
                self.note(&chunk);
                return Some(Ok(chunk));
            }
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                if is_error_event {
                    let message = truncate_chars(data, MAX_ERROR_TEXT);
                    return Some(Err(error_from_parts(
                        None,
                        ErrorBody {
                            message: Some(message),
                            ..Default::default()
                        },
                        None,
                    )));
                }
                return Some(Err(invalid_upstream_body(
                    PROVIDER,
                    "stream chunk",
                    &e,
                    data.as_bytes(),
                )));
            }
        };
        if let Some(err) = error_in_body(&value) {
            return Some(Err(err));
        }
        if is_error_event {
            let body = extract_error(&value).unwrap_or_else(|| ErrorBody {
                message: Some(truncate_chars(data, MAX_ERROR_TEXT)),
                ..Default::default()
            });
            return Some(Err(error_from_parts(None, body, None)));
        }
        let Value::Object(mut map) = value else {
            return Some(Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{PROVIDER} sent a stream event that is not a JSON object: {}",
                    truncate_chars(data, 300)
                ),
            )
            .with_provider(PROVIDER)));
        };
        let id = self
            .fallback_id
            .get_or_insert_with(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()))
            .clone();
        fill_identity(&mut map, &self.model, Some(&id));
        match serde_json::from_value::<ChatChunk>(Value::Object(map)) {
            Ok(chunk) => {
                self.note(&chunk);
                Some(Ok(chunk))
            }
            Err(e) => Some(Err(invalid_upstream_body(
                PROVIDER,
                "stream chunk",
                &e,
                data.as_bytes(),
            ))),
        }
    }

    pub(super) fn note(&mut self, chunk: &ChatChunk) {
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.saw_finish = true;
        }
    }
}
