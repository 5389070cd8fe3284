//! Gemini response translation: candidates, function calls, finish reasons and usage metadata.

use serde_json::Value;

use litellm_core::{
    ChatResponse, CompletionTokensDetails, ErrorKind, JsonMap, LlmError, PromptTokensDetails, Usage,
};

use super::error::error_from_value;
use super::GeminiAdapter;
use crate::adapter_common::new_call_id;
use crate::response_common::{
    assistant_message, chat_response, choice, tool_call, upstream_chat_id,
};
use crate::upstream::{invalid_upstream_body, truncate_chars};

impl GeminiAdapter {
    /// Parses a successful `GenerateContentResponse`.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(self.provider, "response", &e, body))?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider, None, &value, body));
        }
        let mut choices = Vec::new();
        let mut grounding = Vec::new();
        let mut safety = Vec::new();
        let candidates = value
            .get("candidates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, candidate) in candidates.iter().enumerate() {
            let index = candidate
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64) as u32;
            let reason = candidate.get("finishReason").and_then(Value::as_str);
            if reason == Some("MALFORMED_FUNCTION_CALL") {
                return Err(malformed_function_call(self.provider, candidate));
            }
            let parts = candidate_parts(candidate);
            let mut text = String::new();
            let mut reasoning = String::new();
            let mut tool_calls = Vec::new();
            for part in parts {
                if let Some(call) = part.get("functionCall") {
                    let arguments = call
                        .get("args")
                        .filter(|a| !a.is_null())
                        .map(Value::to_string)
                        .unwrap_or_else(|| "{}".into());
                    tool_calls.push(tool_call(new_call_id(), str_field(call, "name"), arguments));
                } else if let Some(t) = part.get("text").and_then(Value::as_str) {
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        reasoning.push_str(t);
                    } else {
                        text.push_str(t);
                    }
                }
            }
            let finish_reason = reason.map(|r| map_finish_reason(r, !tool_calls.is_empty()));
            if let Some(g) = candidate.get("groundingMetadata") {
                grounding.push(g.clone());
            }
            if let Some(s) = candidate.get("safetyRatings") {
                safety.push(s.clone());
            }
            let content = (!text.is_empty()).then_some(text);
            let message = assistant_message(content, tool_calls, Some(reasoning), JsonMap::new());
            choices.push(choice(index, message, finish_reason));
        }
        if choices.is_empty() {
            // No candidate at all: the prompt was blocked (`promptFeedback.blockReason`).
            let blocked = value
                .get("promptFeedback")
                .and_then(|f| f.get("blockReason"))
                .is_some();
            if !blocked {
                return Err(LlmError::upstream(
                    ErrorKind::InternalServer,
                    format!(
                        "{} returned no candidates: {}",
                        self.provider,
                        truncate_chars(&String::from_utf8_lossy(body), 300)
                    ),
                )
                .with_provider(self.provider));
            }
            let message = assistant_message(None, Vec::new(), None, JsonMap::new());
            choices.push(choice(0, message, Some("content_filter".into())));
        }
        let usage = value.get("usageMetadata").map(usage_from_metadata);
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
        let model = value
            .get("modelVersion")
            .and_then(Value::as_str)
            .unwrap_or(&self.deployment.model)
            .to_string();
        let id = upstream_chat_id(value.get("responseId"));
        Ok(chat_response(id, model, choices, usage, extra))
    }
}
pub(super) fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(super) fn candidate_parts(candidate: &Value) -> Vec<Value> {
    candidate
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(super) fn malformed_function_call(provider: &str, candidate: &Value) -> LlmError {
    let detail = candidate
        .get("finishMessage")
        .and_then(Value::as_str)
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
    let get = |k: &str| m.get(k).and_then(Value::as_u64);
    let prompt = get("promptTokenCount").unwrap_or(0);
    let candidates = get("candidatesTokenCount").unwrap_or(0);
    let thoughts = get("thoughtsTokenCount");
    let inclusive = get("totalTokenCount").is_some_and(|total| prompt + candidates == total);
    let completion = candidates + if inclusive { 0 } else { thoughts.unwrap_or(0) };
    let mut usage = Usage::new(prompt, completion);
    if let Some(cached) = get("cachedContentTokenCount") {
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
