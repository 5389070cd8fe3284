//! Cohere v2 chat response translation: the answer, tool calls, finish reasons and usage.

use serde_json::Value;

use litellm_core::{ChatResponse, ErrorKind, JsonMap, LlmError, ToolCall, Usage};

use super::error::error_from_value;
use super::{CohereAdapter, PROVIDER};
use crate::response_common::{
    assistant_message, chat_response, choice, openai_tool_call, upstream_chat_id,
};
use crate::upstream::upstream_json;

impl CohereAdapter {
    /// Parses a successful v2 chat response.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        let value = upstream_json(PROVIDER, "response", body)?;
        let Some(message) = value.get("message").filter(|m| m.is_object()) else {
            // `{"message": "<error text>"}`: an error body with a success status.
            return Err(error_from_value(None, &value, body));
        };
        let reason = value.get("finish_reason").and_then(Value::as_str);
        if let Some(err) = reason.and_then(finish_error) {
            return Err(err);
        }
        let mut text = String::new();
        let mut reasoning = String::new();
        if let Some(plan) = message.get("tool_plan").and_then(Value::as_str) {
            reasoning.push_str(plan);
        }
        for part in message
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match part.get("type").and_then(Value::as_str) {
                Some("thinking") => {
                    if let Some(t) = part.get("thinking").and_then(Value::as_str) {
                        reasoning.push_str(t);
                    }
                }
                _ => {
                    if let Some(t) = part.get("text").and_then(Value::as_str) {
                        text.push_str(t);
                    }
                }
            }
        }
        let tool_calls: Vec<ToolCall> = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(openai_tool_call)
            .collect();
        let mut extra = JsonMap::new();
        if let Some(c) = message
            .get("citations")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        {
            extra.insert("citations".into(), c.clone());
        }
        let finish_reason = reason.map(|r| map_finish_reason(r, !tool_calls.is_empty()));
        let content = (!text.is_empty()).then_some(text);
        let message = assistant_message(content, tool_calls, Some(reasoning), extra);
        Ok(chat_response(
            upstream_chat_id(value.get("id")),
            self.deployment.model.clone(),
            vec![choice(0, message, finish_reason)],
            Some(usage_from(value.get("usage"))),
            JsonMap::new(),
        ))
    }
}

/// A Cohere `finish_reason` that is a failure, as its error.
pub(super) fn finish_error(reason: &str) -> Option<LlmError> {
    let (kind, text) = match reason {
        "ERROR" => (
            ErrorKind::InternalServer,
            "cohere finished with ERROR: the generation failed",
        ),
        "TIMEOUT" => (
            ErrorKind::Timeout,
            "cohere finished with TIMEOUT: the generation timed out",
        ),
        "ERROR_LIMIT" => (
            ErrorKind::ContextWindowExceeded,
            "cohere finished with ERROR_LIMIT: the prompt and output exceed the context window",
        ),
        _ => return None,
    };
    Some(LlmError::upstream(kind, text).with_provider(PROVIDER))
}

/// Cohere's `finish_reason` as an OpenAI `finish_reason`.
pub fn map_finish_reason(reason: &str, called_tools: bool) -> String {
    match reason {
        "MAX_TOKENS" => "length",
        "TOOL_CALL" => "tool_calls",
        "ERROR_TOXIC" => "content_filter",
        _ if called_tools => "tool_calls",
        _ => "stop",
    }
    .to_string()
}

/// Our usage from Cohere's `usage`: `tokens` (what the model processed, LiteLLM's choice), else
/// `billed_units`.
pub fn usage_from(usage: Option<&Value>) -> Usage {
    let counts = |key: &str| {
        let v = usage?.get(key)?;
        let get = |k: &str| v.get(k).and_then(Value::as_f64).map(|t| t as u64);
        match (get("input_tokens"), get("output_tokens")) {
            (None, None) => None,
            (i, o) => Some((i.unwrap_or(0), o.unwrap_or(0))),
        }
    };
    let (input, output) = counts("tokens")
        .or_else(|| counts("billed_units"))
        .unwrap_or((0, 0));
    Usage::new(input, output)
}
