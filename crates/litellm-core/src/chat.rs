//! OpenAI Chat Completions wire types: the request (every role, content part, tool and format
//! option), the response, and the stream chunk.
//!
//! Conventions: `None` fields are absent from the JSON we write; every object keeps the fields we
//! do not model in a flattened `extra` map, so they are forwarded to the upstream unchanged.
//! Content parts, tool choices and response formats of a type we do not know are kept as raw JSON
//! for the same reason.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::usage::Usage;
use crate::{wire_struct, JsonMap};

wire_struct! {
    /// `POST /v1/chat/completions` request body.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ChatRequest {
        /// The model group (on the proxy) or provider-prefixed model (in the SDK).
        pub model: String,
        pub messages: Vec<Message>,
        pub stream?: bool,
        pub stream_options?: StreamOptions,
        pub temperature?: f64,
        pub top_p?: f64,
        pub n?: u32,
        pub stop?: Stop,
        pub max_tokens?: u32,
        pub max_completion_tokens?: u32,
        pub presence_penalty?: f64,
        pub frequency_penalty?: f64,
        #[schema(value_type = Option<Object>)]
        pub logit_bias?: JsonMap,
        pub logprobs?: bool,
        pub top_logprobs?: u32,
        pub user?: String,
        pub seed?: i64,
        pub tools?: Vec<Tool>,
        pub tool_choice?: ToolChoice,
        pub parallel_tool_calls?: bool,
        /// Legacy function calling.
        pub functions?: Vec<FunctionDefinition>,
        /// Legacy function calling: `"none"`, `"auto"` or `{"name": ...}`.
        #[schema(value_type = Option<Object>)]
        pub function_call?: Value,
        pub response_format?: ResponseFormat,
        #[schema(value_type = Option<Object>)]
        pub metadata?: JsonMap,
        pub reasoning_effort?: String,
        /// Every field we do not model, forwarded to the upstream as is.
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

impl ChatRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the client asked for a final usage chunk (`stream_options.include_usage`).
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// The output cap the client set, preferring `max_completion_tokens`.
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }
}

wire_struct! {
    /// `stream_options`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct StreamOptions {
        pub include_usage?: bool,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

/// `stop`: one sequence or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    /// The stop sequences as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

/// One chat message, tagged by `role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    System(SystemMessage),
    /// OpenAI's newer name for system instructions (o1 and later).
    Developer(SystemMessage),
    User(UserMessage),
    Assistant(AssistantMessage),
    Tool(ToolMessage),
    /// Legacy function result.
    Function(FunctionMessage),
}

impl Message {
    /// The role name as it appears on the wire.
    pub fn role(&self) -> &'static str {
        match self {
            Message::System(_) => "system",
            Message::Developer(_) => "developer",
            Message::User(_) => "user",
            Message::Assistant(_) => "assistant",
            Message::Tool(_) => "tool",
            Message::Function(_) => "function",
        }
    }

    /// A user message with plain text content.
    pub fn user(text: impl Into<String>) -> Self {
        Message::User(UserMessage {
            content: Content::Text(text.into()),
            name: None,
            extra: JsonMap::new(),
        })
    }

    /// A system message with plain text content.
    pub fn system(text: impl Into<String>) -> Self {
        Message::System(SystemMessage {
            content: Content::Text(text.into()),
            name: None,
            extra: JsonMap::new(),
        })
    }

    /// The text of the message's content, parts joined by newlines (images and files skipped).
    pub fn text(&self) -> String {
        match self {
            Message::System(m) | Message::Developer(m) => m.content.text(),
            Message::User(m) => m.content.text(),
            Message::Assistant(m) => m.content.as_ref().map(Content::text).unwrap_or_default(),
            Message::Tool(m) => m.content.text(),
            Message::Function(m) => m.content.clone().unwrap_or_default(),
        }
    }
}

wire_struct! {
    /// A `system` or `developer` message.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct SystemMessage {
        pub content: Content,
        pub name?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// A `user` message.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct UserMessage {
        pub content: Content,
        pub name?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// An `assistant` message in the conversation history.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct AssistantMessage {
        pub content?: Content,
        pub name?: String,
        pub tool_calls?: Vec<ToolCall>,
        pub function_call?: FunctionCall,
        pub refusal?: String,
        /// LiteLLM's field for a reasoning model's thinking text.
        pub reasoning_content?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

/// A `tool` message: the result of one tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolMessage {
    pub content: Content,
    pub tool_call_id: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: JsonMap,
}

/// A legacy `function` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionMessage {
    #[serde(default)]
    pub content: Option<String>,
    pub name: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: JsonMap,
}

/// Message content: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl Content {
    /// The text parts joined by newlines; other parts are skipped.
    pub fn text(&self) -> String {
        match self {
            Content::Text(s) => s.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Known(KnownContentPart::Text(t)) => Some(t.text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// One content part. A part of a type we do not model is kept as raw JSON and forwarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ContentPart {
    Known(KnownContentPart),
    #[schema(value_type = Object)]
    Other(Value),
}

/// The content parts OpenAI documents, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnownContentPart {
    Text(TextPart),
    ImageUrl(ImageUrlPart),
    InputAudio(InputAudioPart),
    File(FilePart),
}

/// `{"type": "text", "text": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TextPart {
    pub text: String,
    /// `cache_control` and similar provider hints, forwarded.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: JsonMap,
}

/// `{"type": "image_url", "image_url": {"url", "detail"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageUrlPart {
    pub image_url: ImageUrl,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: JsonMap,
}

wire_struct! {
    /// An image by http(s) URL or `data:` URL.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ImageUrl {
        pub url: String,
        pub detail?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

/// `{"type": "input_audio", "input_audio": {"data", "format"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InputAudioPart {
    pub input_audio: InputAudio,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: JsonMap,
}

/// Base64 audio and its format (`wav`, `mp3`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InputAudio {
    pub data: String,
    pub format: String,
}

/// `{"type": "file", "file": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FilePart {
    pub file: FileRef,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: JsonMap,
}

wire_struct! {
    /// A file by inline data or id.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct FileRef {
        pub file_data?: String,
        pub file_id?: String,
        pub filename?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// A tool the model may call. `type` is `"function"` for function tools; other tool types
    /// (built-in tools of some providers) are forwarded with their fields in `extra`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Tool {
        #[serde(rename = "type")]
        pub kind: String,
        pub function?: FunctionDefinition,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// A function's name, description and JSON Schema parameters.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct FunctionDefinition {
        pub name: String,
        pub description?: String,
        #[schema(value_type = Option<Object>)]
        pub parameters?: Value,
        pub strict?: bool,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

/// `tool_choice`: `"none" | "auto" | "required"`, a named function, or another shape (forwarded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(String),
    Named(NamedToolChoice),
    #[schema(value_type = Object)]
    Other(Value),
}

/// `{"type": "function", "function": {"name": ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionName,
}

/// A function referenced by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionName {
    pub name: String,
}

/// `response_format`: text, JSON mode, or a JSON schema; unknown shapes are forwarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ResponseFormat {
    Known(KnownResponseFormat),
    #[schema(value_type = Object)]
    Other(Value),
}

/// The response formats OpenAI documents, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnownResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

wire_struct! {
    /// A named JSON schema for structured output.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct JsonSchemaFormat {
        pub name: String,
        pub description?: String,
        #[schema(value_type = Option<Object>)]
        pub schema?: Value,
        pub strict?: bool,
    }
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".to_string()
}

/// A function name and its JSON-encoded arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

wire_struct! {
    /// `chat.completion` response body.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ChatResponse {
        pub id: String,
        #[serde(default = "chat_completion_object")]
        pub object: String,
        pub created: u64,
        pub model: String,
        pub choices: Vec<Choice>,
        pub usage?: Usage,
        pub system_fingerprint?: String,
        pub service_tier?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

fn chat_completion_object() -> String {
    "chat.completion".to_string()
}

wire_struct! {
    /// One choice of a response.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Choice {
        pub index: u32,
        pub message: ResponseMessage,
        /// `stop`, `length`, `tool_calls`, `content_filter` or `function_call`; null while unknown.
        pub finish_reason: Option<String>,
        #[schema(value_type = Option<Object>)]
        pub logprobs?: Value,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// The assistant message in a response. `content` is always written (null when absent), as
    /// OpenAI does.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ResponseMessage {
        #[serde(default = "assistant_role")]
        pub role: String,
        #[serde(default)]
        pub content: Option<String>,
        pub tool_calls?: Vec<ToolCall>,
        pub function_call?: FunctionCall,
        pub refusal?: String,
        pub reasoning_content?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

fn assistant_role() -> String {
    "assistant".to_string()
}

impl ResponseMessage {
    /// An assistant message with text content.
    pub fn text(content: impl Into<String>) -> Self {
        ResponseMessage {
            role: assistant_role(),
            content: Some(content.into()),
            tool_calls: None,
            function_call: None,
            refusal: None,
            reasoning_content: None,
            extra: JsonMap::new(),
        }
    }
}

wire_struct! {
    /// `chat.completion.chunk`: one streamed event.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ChatChunk {
        pub id: String,
        #[serde(default = "chunk_object")]
        pub object: String,
        pub created: u64,
        pub model: String,
        #[serde(default)]
        pub choices: Vec<ChunkChoice>,
        pub usage?: Usage,
        pub system_fingerprint?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_string()
}

impl ChatChunk {
    /// An empty chunk with the given identity.
    pub fn new(id: impl Into<String>, created: u64, model: impl Into<String>) -> Self {
        ChatChunk {
            id: id.into(),
            object: chunk_object(),
            created,
            model: model.into(),
            choices: Vec::new(),
            usage: None,
            system_fingerprint: None,
            extra: JsonMap::new(),
        }
    }
}

wire_struct! {
    /// One choice's delta in a chunk. `finish_reason` is always written (null until the end), as
    /// OpenAI does.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ChunkChoice {
        pub index: u32,
        #[serde(default)]
        pub delta: Delta,
        #[serde(default)]
        pub finish_reason: Option<String>,
        #[schema(value_type = Option<Object>)]
        pub logprobs?: Value,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// What a chunk adds to the message.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Delta {
        pub role?: String,
        pub content?: String,
        pub reasoning_content?: String,
        pub tool_calls?: Vec<ToolCallDelta>,
        pub function_call?: FunctionCallDelta,
        pub refusal?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// A fragment of a tool call in a stream; fragments with the same `index` concatenate.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ToolCallDelta {
        pub index: u32,
        pub id?: String,
        #[serde(rename = "type")]
        pub kind?: String,
        pub function?: FunctionCallDelta,
    }
}

wire_struct! {
    /// A fragment of a function call.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct FunctionCallDelta {
        pub name?: String,
        pub arguments?: String,
    }
}
