//! Ollama response translation: `<think>` blocks, tool calls, done reasons and usage.

use serde_json::Value;

use litellm_core::{
    unix_now, ChatResponse, Choice, JsonMap, LlmError, ResponseMessage, ToolCall, Usage,
};

use super::error::error_from_value;
use super::{CallOptions, OllamaAdapter, OllamaMode};
use crate::response_common::openai_tool_call;
use crate::upstream::upstream_json;

impl OllamaAdapter {
    /// Parses a successful (non-streamed) answer; `options` gives the prompt estimate used when
    /// Ollama omits `prompt_eval_count`.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value = upstream_json(self.provider(), "response", body)?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider(), None, &value, body));
        }
        let part = ResponsePart::of(self.mode, &value);
        let (mut reasoning, content) = split_think(part.content.as_deref().unwrap_or_default());
        if let Some(t) = part.thinking {
            reasoning = Some(t);
        }
        let tool_calls: Vec<ToolCall> = part.tool_calls.iter().map(openai_tool_call).collect();
        let finish = map_done_reason(
            value.get("done_reason").and_then(Value::as_str),
            !tool_calls.is_empty(),
        );
        Ok(ChatResponse {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            object: "chat.completion".into(),
            created: unix_now(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(&self.deployment.model)
                .to_string(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: (!content.is_empty() || tool_calls.is_empty()).then_some(content),
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: None,
                    reasoning_content: reasoning.filter(|r| !r.is_empty()),
                    extra: JsonMap::new(),
                },
                finish_reason: Some(finish),
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage: Some(usage_from(&value, options.prompt_estimate)),
            system_fingerprint: None,
            service_tier: None,
            extra: JsonMap::new(),
        })
    }
}

/// The parts of an answer (or a streamed object) that carry output.
pub(super) struct ResponsePart {
    pub(super) content: Option<String>,
    pub(super) thinking: Option<String>,
    pub(super) tool_calls: Vec<Value>,
}

impl ResponsePart {
    pub(super) fn of(mode: OllamaMode, value: &Value) -> ResponsePart {
        let src = match mode {
            OllamaMode::Chat => value.get("message").unwrap_or(&Value::Null),
            OllamaMode::Generate => value,
        };
        let text_key = match mode {
            OllamaMode::Chat => "content",
            OllamaMode::Generate => "response",
        };
        ResponsePart {
            content: src
                .get(text_key)
                .and_then(Value::as_str)
                .map(str::to_string),
            thinking: src
                .get("thinking")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            tool_calls: src
                .get("tool_calls")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// A leading `<think>...</think>` block split off the content (LiteLLM's
/// `_parse_content_for_reasoning`).
pub(super) fn split_think(content: &str) -> (Option<String>, String) {
    let trimmed = content.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<think>") {
        if let Some((reasoning, after)) = rest.split_once("</think>") {
            return (Some(reasoning.to_string()), after.trim_start().to_string());
        }
    }
    (None, content.to_string())
}

/// Ollama's `done_reason` as an OpenAI `finish_reason`.
pub fn map_done_reason(reason: Option<&str>, called_tools: bool) -> String {
    match reason {
        Some("length") => "length",
        _ if called_tools => "tool_calls",
        _ => "stop",
    }
    .to_string()
}

/// Usage from a final object: `prompt_eval_count` (else the estimate) and `eval_count`.
pub fn usage_from(value: &Value, prompt_estimate: u64) -> Usage {
    let prompt = value
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(prompt_estimate);
    let completion = value.get("eval_count").and_then(Value::as_u64).unwrap_or(0);
    Usage::new(prompt, completion)
}
