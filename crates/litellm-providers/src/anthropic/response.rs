//! Anthropic Messages response translation: content blocks, stop reasons and usage (cache
//! reads and writes included), read through private typed structs of the reply.

use serde::Deserialize;
use serde_json::{json, Value};

use litellm_core::{ChatResponse, JsonMap, LlmError, Usage};

use super::error::error_from_value;
use super::{CallOptions, PROVIDER, RESPONSE_FORMAT_TOOL_NAME};
use crate::response_common::{
    chat_response, lenient, new_chat_id, present, tool_call, CacheCounts, CacheUsage, Reply,
};
use crate::upstream::{incomplete_upstream_body, upstream_json};
use crate::AnthropicAdapter;

/// A Messages reply (or an error in its place), as far as we read it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MessageReply {
    #[serde(deserialize_with = "lenient")]
    id: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient")]
    kind: Option<String>,
    #[serde(deserialize_with = "present")]
    error: Option<Value>,
    #[serde(deserialize_with = "lenient")]
    model: Option<String>,
    /// Kept as JSON: thinking blocks are passed on as they are.
    #[serde(deserialize_with = "lenient")]
    content: Option<Vec<Value>>,
    #[serde(deserialize_with = "lenient")]
    stop_reason: Option<String>,
    #[serde(deserialize_with = "present")]
    usage: Option<CacheCounts>,
}

/// One content block, as far as we read it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireBlock {
    #[serde(rename = "type", deserialize_with = "lenient")]
    kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    text: Option<String>,
    citations: Option<Value>,
    #[serde(deserialize_with = "lenient")]
    id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(deserialize_with = "present")]
    input: Option<Value>,
    #[serde(deserialize_with = "lenient")]
    thinking: Option<String>,
}

impl AnthropicAdapter {
    /// Parses a successful Messages response.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value = upstream_json(PROVIDER, "message", body)?;
        let reply = MessageReply::deserialize(&value).unwrap_or_default();
        if reply.kind.as_deref() == Some("error") || reply.error.is_some() {
            return Err(error_from_value(None, &value, body));
        }
        let Some(blocks) = reply.content else {
            return Err(incomplete_upstream_body(
                PROVIDER,
                "a message without `content`",
                body,
            ));
        };
        let mut out = Reply::default();
        let mut citations: Vec<Value> = Vec::new();
        for raw in blocks {
            let block = WireBlock::deserialize(&raw).unwrap_or_default();
            match block.kind.as_deref() {
                Some("text") => {
                    out.text.push_str(block.text.as_deref().unwrap_or(""));
                    citations.extend(block.citations);
                }
                Some("tool_use") => out.tool_calls.push(tool_call(
                    block.id.unwrap_or_default(),
                    block.name.unwrap_or_default(),
                    block
                        .input
                        .map(|input| input.to_string())
                        .unwrap_or_else(|| "{}".into()),
                )),
                Some("thinking") => {
                    out.reasoning
                        .push_str(block.thinking.as_deref().unwrap_or(""));
                    out.thinking_blocks.push(raw);
                }
                Some("redacted_thinking") => out.thinking_blocks.push(raw),
                _ => {}
            }
        }
        let finish_reason = reply.stop_reason.as_deref().map(map_stop_reason);
        let mut extra = JsonMap::new();
        if !citations.is_empty() {
            extra.insert(
                "provider_specific_fields".into(),
                json!({ "citations": citations }),
            );
        }
        let choice = out.into_choice(
            finish_reason,
            options.json_mode,
            Some(RESPONSE_FORMAT_TOOL_NAME),
            extra,
        );
        let usage = reply.usage.map(CacheUsage::of);
        Ok(chat_response(
            reply.id.unwrap_or_else(new_chat_id),
            reply.model.unwrap_or_else(|| self.deployment.model.clone()),
            vec![choice],
            usage,
            JsonMap::new(),
        ))
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

/// An Anthropic `usage` object in our terms (see `CacheUsage::to_usage`).
pub fn usage_of(u: &Value) -> Usage {
    CacheUsage::of(CacheCounts::of(u))
}
