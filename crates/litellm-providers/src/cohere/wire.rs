//! Cohere v2's wire format, typed: the `/v2/chat` messages a request sends (function tools are
//! `adapter_common::FunctionTool`). Fields are serialized in declaration order; `None` and
//! empty fields are left out.

use serde::Serialize;
use serde_json::Value;

use litellm_core::wire_struct;

wire_struct! {
    /// One v2 chat message.
    #[derive(Debug, Serialize)]
    pub(super) struct ChatMessage {
        pub(super) role: &'static str,
        pub(super) tool_call_id?: String,
        /// Text, or (user messages) an array of content parts.
        pub(super) content?: Value,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) tool_calls: Vec<ToolCall>,
    }
}

impl ChatMessage {
    /// A message with a role and content.
    pub(super) fn new(role: &'static str, content: Value) -> Self {
        ChatMessage {
            role,
            tool_call_id: None,
            content: Some(content),
            tool_calls: Vec::new(),
        }
    }
}

/// A tool call of an assistant message.
#[derive(Debug, Serialize)]
pub(super) struct ToolCall {
    pub(super) id: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: CalledFunction,
}

/// The function a [`ToolCall`] calls, with its arguments as a JSON string.
#[derive(Debug, Serialize)]
pub(super) struct CalledFunction {
    pub(super) name: String,
    pub(super) arguments: String,
}
