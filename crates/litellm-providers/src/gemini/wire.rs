//! Gemini's `generateContent` request wire format, typed: contents and their parts, the system
//! instruction, generation config, tools and tool config. Fields are serialized in declaration
//! order; `None` and empty fields are left out. Parts and tools a client sent in Gemini's own
//! shape, and JSON schemas, are forwarded as JSON.

use serde::Serialize;
use serde_json::Value;

use litellm_core::{wire_struct, JsonMap};

wire_struct! {
    /// A `GenerateContentRequest` (before the client's extra fields are merged in).
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct GenerateContentRequest {
        pub(super) contents: Vec<Turn>,
        pub(super) system_instruction?: SystemInstruction,
        /// [`GenerationConfig`] with the client's generation fields merged in.
        #[serde(skip_serializing_if = "JsonMap::is_empty")]
        pub(super) generation_config: JsonMap,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) tools: Vec<Tool>,
        pub(super) tool_config?: ToolConfig,
    }
}

/// One turn of `contents`.
#[derive(Debug, Serialize)]
pub(super) struct Turn {
    pub(super) role: &'static str,
    pub(super) parts: Vec<Part>,
}

/// The `systemInstruction`.
#[derive(Debug, Serialize)]
pub(super) struct SystemInstruction {
    pub(super) parts: Vec<Part>,
}

/// One part of a turn.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Part {
    Text(String),
    InlineData(InlineData),
    FileData(FileData),
    FunctionCall(FunctionCall),
    FunctionResponse(FunctionResponse),
    /// A part already in Gemini's shape (or one we do not know): forwarded.
    #[serde(untagged)]
    Raw(Value),
}

/// Base64 data with its MIME type.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InlineData {
    pub(super) mime_type: String,
    pub(super) data: String,
}

/// A file by URI with its MIME type.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FileData {
    pub(super) mime_type: String,
    pub(super) file_uri: String,
}

/// A function call of the model.
#[derive(Debug, Serialize)]
pub(super) struct FunctionCall {
    pub(super) name: String,
    pub(super) args: Value,
}

/// The result of a function call.
#[derive(Debug, Serialize)]
pub(super) struct FunctionResponse {
    pub(super) name: String,
    pub(super) response: Value,
}

wire_struct! {
    /// The typed part of `generationConfig` (client fields are merged in afterwards).
    #[derive(Debug, Default, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct GenerationConfig {
        pub(super) temperature?: f64,
        pub(super) top_p?: f64,
        pub(super) max_output_tokens?: u32,
        pub(super) stop_sequences?: Value,
        pub(super) candidate_count?: u32,
        pub(super) presence_penalty?: f64,
        pub(super) frequency_penalty?: f64,
        pub(super) seed?: i64,
        pub(super) response_logprobs?: bool,
        pub(super) logprobs?: u32,
        pub(super) response_mime_type?: &'static str,
        pub(super) response_schema?: Value,
        pub(super) thinking_config?: ThinkingConfig,
    }
}

wire_struct! {
    /// The `thinkingConfig` of `generationConfig`.
    #[derive(Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ThinkingConfig {
        pub(super) thinking_budget: u32,
        pub(super) include_thoughts?: bool,
    }
}

/// One entry of `tools`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Tool {
    FunctionDeclarations(Vec<FunctionDeclaration>),
    /// Gemini's own tools (`googleSearch`, `codeExecution`, ...): forwarded.
    #[serde(untagged)]
    Raw(Value),
}

wire_struct! {
    /// A function the model may call.
    #[derive(Debug, Serialize)]
    pub(super) struct FunctionDeclaration {
        pub(super) name: String,
        pub(super) description?: String,
        pub(super) parameters?: Value,
    }
}

/// The `toolConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolConfig {
    pub(super) function_calling_config: FunctionCallingConfig,
}

/// How the model may call functions.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum FunctionCallingConfig {
    #[serde(rename_all = "camelCase")]
    Mode {
        /// `AUTO`, `ANY` or `NONE`.
        mode: &'static str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        allowed_function_names: Vec<String>,
    },
    /// A client's own `functionCallingConfig`.
    Raw(Value),
}
