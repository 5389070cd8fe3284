//! Bedrock's Converse request wire format, typed: messages and their content blocks, system
//! blocks, tool config, inference config and additional model request fields. Fields are
//! serialized in declaration order; `None` and empty fields are left out. Blocks, tools and tool
//! choices a client sent in Converse's own shape, and JSON schemas, are forwarded as JSON.

use serde::Serialize;
use serde_json::Value;

use litellm_core::{wire_struct, JsonMap};

wire_struct! {
    /// A `Converse` body (before the client's `extra_body` is merged in).
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ConverseRequest {
        pub(super) messages: Vec<Message>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) system: Vec<ContentBlock>,
        pub(super) tool_config?: ToolConfig,
        /// Top-level Converse fields the client sent (`guardrailConfig`, ...), in its order.
        #[serde(flatten)]
        pub(super) top_level: JsonMap,
        /// [`InferenceConfig`] with the client's `inferenceConfig` merged in.
        #[serde(skip_serializing_if = "JsonMap::is_empty")]
        pub(super) inference_config: JsonMap,
        /// [`AdditionalFields`] with the client's model-specific fields merged in.
        #[serde(skip_serializing_if = "JsonMap::is_empty")]
        pub(super) additional_model_request_fields: JsonMap,
    }
}

/// One message: a role and its content blocks.
#[derive(Debug, Serialize)]
pub(super) struct Message {
    pub(super) role: &'static str,
    pub(super) content: Vec<ContentBlock>,
}

/// A content block (of a message, a tool result or the system prompt).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ContentBlock {
    Text(String),
    Image(Image),
    Document(Document),
    ReasoningContent(ReasoningContent),
    ToolUse(ToolUse),
    ToolResult(ToolResult),
    CachePoint(CachePoint),
    /// A block already in Converse's shape: forwarded.
    #[serde(untagged)]
    Raw(Value),
}

/// An image block.
#[derive(Debug, Serialize)]
pub(super) struct Image {
    pub(super) format: &'static str,
    pub(super) source: Source,
}

/// A document block (Bedrock requires a name).
#[derive(Debug, Serialize)]
pub(super) struct Document {
    pub(super) format: &'static str,
    pub(super) name: String,
    pub(super) source: Source,
}

/// Where an image's or document's bytes come from.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Source {
    /// Base64 data.
    Bytes(String),
    S3Location {
        uri: String,
    },
}

/// An earlier reasoning block of the model, sent back.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ReasoningContent {
    ReasoningText {
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    RedactedContent(String),
}

/// A tool call of the model.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolUse {
    pub(super) tool_use_id: String,
    pub(super) name: String,
    pub(super) input: Value,
}

/// The result of a tool call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolResult {
    pub(super) tool_use_id: String,
    pub(super) content: Vec<ContentBlock>,
}

/// A prompt-cache checkpoint (`{"cachePoint": {"type": "default"}}`).
#[derive(Debug, Serialize)]
pub(super) struct CachePoint {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
}

impl CachePoint {
    pub(super) const DEFAULT: CachePoint = CachePoint { kind: "default" };
}

wire_struct! {
    /// The `toolConfig`.
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ToolConfig {
        pub(super) tools: Vec<Tool>,
        pub(super) tool_choice?: ToolChoice,
    }
}

/// One entry of `tools`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Tool {
    ToolSpec(ToolSpec),
    CachePoint(CachePoint),
    /// A tool already in Converse's shape: forwarded.
    #[serde(untagged)]
    Raw(Value),
}

/// A tool the model may call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolSpec {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) input_schema: InputSchema,
}

/// A tool's input schema.
#[derive(Debug, Serialize)]
pub(super) struct InputSchema {
    pub(super) json: Value,
}

/// How the model may call tools.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ToolChoice {
    Auto {},
    Any {},
    Tool {
        name: String,
    },
    /// A client's own Converse `toolChoice`.
    #[serde(untagged)]
    Raw(Value),
}

wire_struct! {
    /// The typed part of `inferenceConfig` (the client's fields are merged in afterwards).
    #[derive(Debug, Default, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct InferenceConfig {
        pub(super) max_tokens?: u64,
        pub(super) temperature?: f64,
        pub(super) top_p?: f64,
        pub(super) stop_sequences?: Value,
        /// Nova models take `topK` here.
        pub(super) top_k?: Value,
    }
}

wire_struct! {
    /// The typed part of `additionalModelRequestFields` (the client's fields are merged in
    /// afterwards).
    #[derive(Debug, Default, Serialize)]
    pub(super) struct AdditionalFields {
        /// Non-Nova models take `top_k` here.
        pub(super) top_k?: Value,
        /// `{"type": "enabled", "budget_tokens": n}`, or the client's own `thinking` object.
        pub(super) thinking?: Value,
    }
}
