//! Bedrock Converse response translation: content blocks, stop reasons and usage (cache reads
//! and writes included), read through private typed structs of the reply.

use serde::Deserialize;
use serde_json::{json, Value};

use litellm_core::{ChatResponse, JsonMap, LlmError};

use super::{BedrockAdapter, CallOptions, PROVIDER};
use crate::response_common::{
    chat_response, lenient, new_chat_id, present, tool_call, CacheCounts, CacheUsage, Reply,
};
use crate::upstream::{incomplete_upstream_body, upstream_json};

pub(crate) use crate::response_common::str_field;

/// A Converse reply, as far as we read it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ConverseReply {
    #[serde(deserialize_with = "lenient")]
    output: Option<Output>,
    #[serde(deserialize_with = "lenient")]
    stop_reason: Option<String>,
    #[serde(deserialize_with = "present")]
    usage: Option<CacheCounts>,
    trace: Option<Value>,
}

/// `output`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Output {
    #[serde(deserialize_with = "lenient")]
    message: Option<OutputMessage>,
}

/// `output.message`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputMessage {
    /// Each block is read on its own: one we cannot read is passed over.
    #[serde(deserialize_with = "lenient")]
    content: Option<Vec<Value>>,
}

/// One content block, as far as we read it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireBlock {
    #[serde(deserialize_with = "lenient")]
    text: Option<String>,
    #[serde(deserialize_with = "present")]
    tool_use: Option<WireToolUse>,
    #[serde(deserialize_with = "lenient")]
    reasoning_content: Option<WireReasoning>,
}

/// A `toolUse` block.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireToolUse {
    #[serde(deserialize_with = "lenient")]
    tool_use_id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(deserialize_with = "present")]
    input: Option<Value>,
}

/// A `reasoningContent` block.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireReasoning {
    #[serde(deserialize_with = "present")]
    reasoning_text: Option<WireReasoningText>,
    #[serde(deserialize_with = "lenient")]
    redacted_content: Option<String>,
}

/// `reasoningContent.reasoningText`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireReasoningText {
    #[serde(deserialize_with = "lenient")]
    text: Option<String>,
    #[serde(deserialize_with = "lenient")]
    signature: Option<String>,
}

impl BedrockAdapter {
    /// Parses a successful Converse response.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value = upstream_json(PROVIDER, "converse response", body)?;
        let reply = ConverseReply::deserialize(&value).unwrap_or_default();
        let Some(blocks) = reply.output.and_then(|o| o.message?.content) else {
            return Err(incomplete_upstream_body(
                PROVIDER,
                "a response without output.message.content",
                body,
            ));
        };
        let mut out = Reply::default();
        for block in blocks {
            let block = WireBlock::deserialize(&block).unwrap_or_default();
            if let Some(t) = block.text {
                out.text.push_str(&t);
            }
            if let Some(tool) = block.tool_use {
                out.tool_calls.push(tool_call(
                    tool.tool_use_id.unwrap_or_default(),
                    tool.name.unwrap_or_default(),
                    tool.input
                        .map(|input| input.to_string())
                        .unwrap_or_else(|| "{}".into()),
                ));
            }
            if let Some(r) = block.reasoning_content {
                if let Some(rt) = r.reasoning_text {
                    let t = rt.text.unwrap_or_default();
                    out.reasoning.push_str(&t);
                    let mut b = json!({"type": "thinking", "thinking": t});
                    if let Some(sig) = rt.signature {
                        b["signature"] = json!(sig);
                    }
                    out.thinking_blocks.push(b);
                }
                if let Some(data) = r.redacted_content {
                    out.thinking_blocks
                        .push(json!({"type": "redacted_thinking", "data": data}));
                }
            }
        }
        let finish_reason = reply.stop_reason.as_deref().map(map_stop_reason);
        let choice = out.into_choice(finish_reason, options.json_mode, None, JsonMap::new());
        let usage = reply.usage.map(CacheUsage::of);
        let mut extra = JsonMap::new();
        if let Some(trace) = reply.trace {
            extra.insert("trace".into(), trace);
        }
        Ok(chat_response(
            new_chat_id(),
            self.model.clone(),
            vec![choice],
            usage,
            extra,
        ))
    }
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
