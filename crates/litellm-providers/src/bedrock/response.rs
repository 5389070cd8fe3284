//! Bedrock Converse response translation: content blocks, stop reasons and usage (cache reads
//! and writes included).

use serde_json::{json, Value};

use litellm_core::{
    unix_now, ChatResponse, Choice, ErrorKind, JsonMap, LlmError, PromptTokensDetails,
    ResponseMessage, ToolCall, Usage,
};

use super::{BedrockAdapter, CallOptions, PROVIDER};
use crate::upstream::{invalid_upstream_body, truncate_chars};

impl BedrockAdapter {
    /// Parses a successful Converse response.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(PROVIDER, "converse response", &e, body))?;
        let Some(blocks) = value
            .pointer("/output/message/content")
            .and_then(Value::as_array)
        else {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{PROVIDER} returned a response without output.message.content: {}",
                    truncate_chars(&String::from_utf8_lossy(body), 300)
                ),
            )
            .with_provider(PROVIDER));
        };
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut thinking_blocks: Vec<Value> = Vec::new();
        let mut tool_calls: Vec<ToolCall> = Vec::new();
        for block in blocks {
            if let Some(t) = block.get("text").and_then(Value::as_str) {
                text.push_str(t);
            }
            if let Some(tool) = block.get("toolUse") {
                tool_calls.push(ToolCall {
                    id: str_field(tool, "toolUseId"),
                    kind: "function".into(),
                    function: litellm_core::FunctionCall {
                        name: str_field(tool, "name"),
                        arguments: tool
                            .get("input")
                            .map(Value::to_string)
                            .unwrap_or_else(|| "{}".into()),
                    },
                });
            }
            if let Some(r) = block.get("reasoningContent") {
                if let Some(rt) = r.get("reasoningText") {
                    let t = str_field(rt, "text");
                    reasoning.push_str(&t);
                    let mut b = json!({"type": "thinking", "thinking": t});
                    if let Some(sig) = rt.get("signature").and_then(Value::as_str) {
                        b["signature"] = json!(sig);
                    }
                    thinking_blocks.push(b);
                }
                if let Some(data) = r.get("redactedContent").and_then(Value::as_str) {
                    thinking_blocks.push(json!({"type": "redacted_thinking", "data": data}));
                }
            }
        }
        let stop_reason = value.get("stopReason").and_then(Value::as_str);
        let mut finish_reason = stop_reason.map(map_stop_reason);
        let mut content = (!text.is_empty()).then_some(text);
        if options.json_mode && tool_calls.len() == 1 {
            content = tool_calls.pop().map(|t| t.function.arguments);
            finish_reason = Some("stop".into());
        }
        let mut message_extra = JsonMap::new();
        if !thinking_blocks.is_empty() {
            message_extra.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
        }
        let usage = value.get("usage").map(|u| {
            let mut raw = RawUsage::default();
            raw.merge(u);
            raw.to_usage()
        });
        let mut extra = JsonMap::new();
        if let Some(trace) = value.get("trace").filter(|t| !t.is_null()) {
            extra.insert("trace".into(), trace.clone());
        }
        Ok(ChatResponse {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            object: "chat.completion".into(),
            created: unix_now(),
            model: self.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content,
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: None,
                    reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                    extra: message_extra,
                },
                finish_reason,
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage,
            system_fingerprint: None,
            service_tier: None,
            extra,
        })
    }
}
pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Bedrock's `stopReason` as an OpenAI `finish_reason`.
pub fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => other,
    }
    .to_string()
}

/// Bedrock's token counts, as reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RawUsage {
    pub(super) input: u64,
    pub(super) output: u64,
    pub(super) cache_read: u64,
    pub(super) cache_write: u64,
}

impl RawUsage {
    /// Takes every count present in a Converse `usage` object.
    pub(crate) fn merge(&mut self, u: &Value) {
        let get = |k: &str| u.get(k).and_then(Value::as_u64);
        if let Some(v) = get("inputTokens") {
            self.input = v;
        }
        if let Some(v) = get("outputTokens") {
            self.output = v;
        }
        if let Some(v) = get("cacheReadInputTokens") {
            self.cache_read = v;
        }
        if let Some(v) = get("cacheWriteInputTokens") {
            self.cache_write = v;
        }
    }

    /// Our usage: cached and cache-written tokens count as prompt tokens (as LiteLLM does).
    pub(crate) fn to_usage(self) -> Usage {
        let prompt = self.input + self.cache_read + self.cache_write;
        let mut usage = Usage::new(prompt, self.output);
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(self.cache_read),
            cache_creation_tokens: Some(self.cache_write),
            audio_tokens: None,
            extra: JsonMap::new(),
        });
        usage.extra.insert(
            "cache_creation_input_tokens".into(),
            Value::from(self.cache_write),
        );
        usage.extra.insert(
            "cache_read_input_tokens".into(),
            Value::from(self.cache_read),
        );
        usage
    }
}
