//! Anthropic Messages response translation: content blocks, stop reasons and usage (cache
//! reads and writes included).

use serde_json::{json, Value};

use litellm_core::{
    unix_now, ChatResponse, Choice, ErrorKind, FunctionCall, JsonMap, LlmError,
    PromptTokensDetails, ResponseMessage, ToolCall, Usage,
};

use super::error::error_from_value;
use super::request::str_field;
use super::{CallOptions, PROVIDER, RESPONSE_FORMAT_TOOL_NAME};
use crate::upstream::{invalid_upstream_body, truncate_chars};
use crate::AnthropicAdapter;

impl AnthropicAdapter {
    /// Parses a successful Messages response.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(PROVIDER, "message", &e, body))?;
        if value.get("type").and_then(Value::as_str) == Some("error")
            || value.get("error").is_some()
        {
            return Err(error_from_value(None, &value, body));
        }
        let Some(blocks) = value.get("content").and_then(Value::as_array) else {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{PROVIDER} returned a message without `content`: {}",
                    truncate_chars(&String::from_utf8_lossy(body), 300)
                ),
            )
            .with_provider(PROVIDER));
        };
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut thinking_blocks: Vec<Value> = Vec::new();
        let mut tool_calls: Vec<ToolCall> = Vec::new();
        let mut citations: Vec<Value> = Vec::new();
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    text.push_str(block.get("text").and_then(Value::as_str).unwrap_or(""));
                    if let Some(c) = block.get("citations").filter(|c| !c.is_null()) {
                        citations.push(c.clone());
                    }
                }
                Some("tool_use") => tool_calls.push(ToolCall {
                    id: str_field(block, "id"),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: str_field(block, "name"),
                        arguments: block
                            .get("input")
                            .map(Value::to_string)
                            .unwrap_or_else(|| "{}".into()),
                    },
                }),
                Some("thinking") => {
                    reasoning.push_str(block.get("thinking").and_then(Value::as_str).unwrap_or(""));
                    thinking_blocks.push(block.clone());
                }
                Some("redacted_thinking") => thinking_blocks.push(block.clone()),
                _ => {}
            }
        }
        let stop_reason = value.get("stop_reason").and_then(Value::as_str);
        let mut finish_reason = stop_reason.map(map_stop_reason);
        let mut content = (!text.is_empty()).then_some(text);
        if options.json_mode
            && tool_calls.len() == 1
            && tool_calls[0].function.name == RESPONSE_FORMAT_TOOL_NAME
        {
            content = tool_calls.pop().map(|t| t.function.arguments);
            finish_reason = Some("stop".into());
        }
        let mut extra = JsonMap::new();
        if !thinking_blocks.is_empty() {
            extra.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
        }
        if !citations.is_empty() {
            extra.insert(
                "provider_specific_fields".into(),
                json!({ "citations": citations }),
            );
        }
        let message = ResponseMessage {
            role: "assistant".into(),
            content,
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            function_call: None,
            refusal: None,
            reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
            extra,
        };
        let usage = value.get("usage").map(|u| {
            let mut raw = RawUsage::default();
            raw.merge(u);
            raw.to_usage()
        });
        Ok(ChatResponse {
            id: value
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())),
            object: "chat.completion".into(),
            created: unix_now(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(&self.model)
                .to_string(),
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason,
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage,
            system_fingerprint: None,
            service_tier: None,
            extra: JsonMap::new(),
        })
    }
}

/// Anthropic's `stop_reason` as an OpenAI `finish_reason`.
pub fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
    .to_string()
}

/// Anthropic's token counts, as reported (a stream reports them in two events).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct RawUsage {
    pub(super) input: u64,
    pub(super) output: u64,
    pub(super) cache_read: u64,
    pub(super) cache_creation: u64,
}

impl RawUsage {
    /// Takes every count present (and not null) in an Anthropic `usage` object.
    pub(super) fn merge(&mut self, u: &Value) {
        let get = |k: &str| u.get(k).and_then(Value::as_u64);
        if let Some(v) = get("input_tokens") {
            self.input = v;
        }
        if let Some(v) = get("output_tokens") {
            self.output = v;
        }
        if let Some(v) = get("cache_read_input_tokens") {
            self.cache_read = v;
        }
        if let Some(v) = get("cache_creation_input_tokens") {
            self.cache_creation = v;
        }
    }

    /// Our usage: cached and cache-written tokens count as prompt tokens (as LiteLLM does).
    pub(super) fn to_usage(self) -> Usage {
        let prompt = self.input + self.cache_read + self.cache_creation;
        let mut usage = Usage::new(prompt, self.output);
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(self.cache_read),
            cache_creation_tokens: Some(self.cache_creation),
            audio_tokens: None,
            extra: JsonMap::new(),
        });
        usage.extra.insert(
            "cache_creation_input_tokens".into(),
            Value::from(self.cache_creation),
        );
        usage.extra.insert(
            "cache_read_input_tokens".into(),
            Value::from(self.cache_read),
        );
        usage
    }
}

/// An Anthropic `usage` object in our terms (see `RawUsage::to_usage`).
pub fn usage_of(u: &Value) -> Usage {
    let mut raw = RawUsage::default();
    raw.merge(u);
    raw.to_usage()
}
