//! Gemini response translation: candidates, function calls, finish reasons and usage metadata.

use serde_json::Value;

use litellm_core::{
    ChatResponse, CompletionTokensDetails, ErrorKind, JsonMap, LlmError, PromptTokensDetails, Usage,
};

use super::answer::{Candidate, GenerateContentResponse, PartsRead, UsageMetadata};
use super::error::error_from_value;
use super::GeminiAdapter;
use crate::adapter_common::new_call_id;
use crate::response_common::{
    assistant_message, chat_response, choice, read_object, tool_call, upstream_chat_id,
};
use crate::upstream::{incomplete_upstream_body, truncate_chars, upstream_json};

impl GeminiAdapter {
    /// Parses a successful `GenerateContentResponse`.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        let value = upstream_json(self.provider, "response", body)?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider, None, &value, body));
        }
        let answer: GenerateContentResponse = read_object(&value);
        let mut choices = Vec::new();
        let mut grounding = Vec::new();
        let mut safety = Vec::new();
        for (index, candidate) in answer.candidates() {
            let reason = candidate.finish_reason.0.as_deref();
            if reason == Some("MALFORMED_FUNCTION_CALL") {
                return Err(malformed_function_call(self.provider, &candidate));
            }
            let PartsRead {
                text,
                reasoning,
                calls,
            } = candidate.read_parts();
            let tool_calls: Vec<_> = calls
                .into_iter()
                .map(|(name, arguments)| tool_call(new_call_id(), name, arguments))
                .collect();
            let finish_reason = reason.map(|r| map_finish_reason(r, !tool_calls.is_empty()));
            grounding.extend(candidate.grounding_metadata);
            safety.extend(candidate.safety_ratings);
            let content = (!text.is_empty()).then_some(text);
            let message = assistant_message(content, tool_calls, Some(reasoning), JsonMap::new());
            choices.push(choice(index as u32, message, finish_reason));
        }
        if choices.is_empty() {
            // No candidate at all: the prompt was blocked (`promptFeedback.blockReason`).
            if !answer.blocked() {
                return Err(incomplete_upstream_body(
                    self.provider,
                    "no candidates",
                    body,
                ));
            }
            let message = assistant_message(None, Vec::new(), None, JsonMap::new());
            choices.push(choice(0, message, Some("content_filter".into())));
        }
        let usage = answer.usage_metadata.as_ref().map(usage_from_metadata);
        // LiteLLM's names for Google's per-candidate metadata, kept on the response.
        let mut extra = JsonMap::new();
        if !grounding.is_empty() {
            extra.insert(
                "vertex_ai_grounding_metadata".into(),
                Value::Array(grounding),
            );
        }
        if !safety.is_empty() {
            extra.insert("vertex_ai_safety_ratings".into(), Value::Array(safety));
        }
        let model = answer
            .model_version
            .0
            .unwrap_or_else(|| self.deployment.model.clone());
        let id = upstream_chat_id(answer.response_id.as_ref());
        Ok(chat_response(id, model, choices, usage, extra))
    }
}
/// The 500 for a candidate that finished with `MALFORMED_FUNCTION_CALL`.
pub(super) fn malformed_function_call(provider: &str, candidate: &Candidate) -> LlmError {
    let detail = candidate
        .finish_message
        .0
        .as_deref()
        .map(|m| format!(": {}", truncate_chars(m, 300)))
        .unwrap_or_default();
    LlmError::upstream(
        ErrorKind::InternalServer,
        format!(
            "{provider} finished with MALFORMED_FUNCTION_CALL: the model produced a function call \
             that could not be parsed{detail}"
        ),
    )
    .with_provider(provider)
}

/// Gemini's `finishReason` as an OpenAI `finish_reason`.
pub fn map_finish_reason(reason: &str, called_tools: bool) -> String {
    let mapped = match reason {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ => "stop",
    };
    if called_tools && mapped == "stop" {
        "tool_calls".into()
    } else {
        mapped.into()
    }
}

/// Our usage from Gemini's `usageMetadata` (see the module docs for the rules).
pub fn usage_from_metadata(m: &Value) -> Usage {
    let m: UsageMetadata = read_object(m);
    let prompt = m.prompt_token_count.0.unwrap_or(0);
    let candidates = m.candidates_token_count.0.unwrap_or(0);
    let thoughts = m.thoughts_token_count.0;
    let inclusive = m
        .total_token_count
        .0
        .is_some_and(|total| prompt + candidates == total);
    let completion = candidates.saturating_add(if inclusive { 0 } else { thoughts.unwrap_or(0) });
    let mut usage = Usage::new(prompt, completion);
    if let Some(cached) = m.cached_content_token_count.0 {
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(cached),
            cache_creation_tokens: None,
            audio_tokens: None,
            extra: JsonMap::new(),
        });
    }
    if let Some(t) = thoughts {
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(t),
            ..Default::default()
        });
    }
    usage
}
