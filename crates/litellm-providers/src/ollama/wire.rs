//! Ollama's wire format, typed: the `/api/chat` messages a request sends (function tools are
//! `adapter_common::FunctionTool`). Fields are serialized in declaration order; `None` and empty fields are left out.

use serde::Serialize;
use serde_json::Value;

use litellm_core::wire_struct;

wire_struct! {
    /// One `/api/chat` message.
    #[derive(Debug, Serialize)]
    pub(super) struct ChatMessage {
        pub(super) role: &'static str,
        pub(super) content: String,
        pub(super) thinking?: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) images: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) tool_calls: Vec<ToolCall>,
        pub(super) tool_name?: String,
    }
}

impl ChatMessage {
    /// A message with only a role and content.
    pub(super) fn new(role: &'static str, content: String) -> Self {
        ChatMessage {
            role,
            content,
            thinking: None,
            images: Vec::new(),
            tool_calls: Vec::new(),
            tool_name: None,
        }
    }
}

/// A tool call of an assistant message (Ollama takes the arguments as an object).
#[derive(Debug, Serialize)]
pub(super) struct ToolCall {
    pub(super) function: CalledFunction,
}

/// The function a [`ToolCall`] calls.
#[derive(Debug, Serialize)]
pub(super) struct CalledFunction {
    pub(super) name: String,
    pub(super) arguments: Value,
}
