//! OpenAI Responses API ingress (sans-IO): the translation behind the proxy's
//! `POST /v1/responses` for deployments that only speak Chat Completions (LiteLLM's
//! `litellm/responses/litellm_completion_transformation/`). A client speaking the Responses API
//! (openai-python / openai-node `client.responses`, the OpenAI Agents SDK, Codex CLI) is served
//! by whatever deployment the router picks:
//!
//! - [`ResponsesRequest`] → OpenAI [`ChatRequest`] ([`to_chat_request`]): `instructions`
//!   becomes the first system message; the stored conversation of `previous_response_id` (the
//!   caller loads it) comes next; then the `input` items in order: messages (roles `user`,
//!   `assistant`, `system`, `developer`; `input_text`/`output_text`/`refusal` text, `input_image`
//!   by URL or `file_id`, `input_file`), consecutive `function_call` items as one assistant
//!   message with `tool_calls`, each `function_call_output` as a `tool` message; `reasoning`
//!   items are skipped. Flat function tools (`{"type": "function", "name", "parameters"}`)
//!   become chat tools; `tool_choice`, `parallel_tool_calls`, `max_output_tokens` (→
//!   `max_tokens`), `temperature`, `top_p`, `user`, `metadata`, `text.format` (→
//!   `response_format`) and `reasoning.effort` (→ `reasoning_effort`) map directly. A built-in
//!   tool (`web_search_preview`, `file_search`, ...), an item type or a content part we cannot
//!   express is a 400 naming it.
//! - OpenAI [`ChatResponse`] → a Responses `response` object ([`to_response`]): a `reasoning`
//!   item (from `reasoning_content`), a `message` item (`output_text` / `refusal` parts),
//!   `function_call` items; `status` `completed`, or `incomplete` with `incomplete_details`
//!   when the model stopped at `length` (`max_output_tokens`) or `content_filter`; usage as
//!   `input_tokens` / `output_tokens` with their details; the request's settings echoed from a
//!   [`ResponseEcho`].
//! - OpenAI chunks → Responses SSE events ([`ResponsesStreamTranslator`]): `response.created`,
//!   `response.in_progress`, per item `response.output_item.added` / `.done` with the content
//!   part, text, refusal, reasoning-summary and function-call-argument events in between, and
//!   `response.completed` (or `response.incomplete`) carrying the full response; a failure is
//!   `response.failed`.
//! - [`next_history`]: the conversation to store under a response id (the chat messages
//!   without the instructions, plus the reply), which [`to_chat_request`] takes back as
//!   `history` for a follow-up naming it in `previous_response_id`.
//! - [`estimate_input_tokens`], [`error_body`] (OpenAI's error shape), and the response ids
//!   ([`encode_response_id`] / [`decode_response_id`]) that carry the deployment that answered,
//!   so that a follow-up with `previous_response_id` can go back to it.
//!
//! Reference: <https://platform.openai.com/docs/api-reference/responses/create>,
//! <https://platform.openai.com/docs/api-reference/responses-streaming>, and openai-python's
//! `types/responses/` (`response.py`, `response_create_params.py`,
//! `response_stream_event.py`, `response_input_item_param.py`).
//!
//! [`ChatRequest`]: litellm_core::ChatRequest
//! [`ChatResponse`]: litellm_core::ChatResponse

use serde::{Deserialize, Serialize};
use serde_json::Value;

use litellm_core::{wire_struct, JsonMap};

mod count;
mod ids;
mod items;
mod request;
mod response;
mod stream;

pub use count::estimate_input_tokens;
pub use ids::{decode_response_id, encode_response_id, item_id};
pub use items::{
    FunctionCallItem, FunctionCallOutputItem, FunctionOutput, InputContent, InputItem,
    InputMessage, InputPart, KnownInputPart,
};
pub use request::{next_history, to_chat_request};
pub use response::{
    error_body, error_type_for_status, response_object, response_usage, to_response, ResponseEcho,
    ResponseStatus,
};
pub use stream::ResponsesStreamTranslator;

wire_struct! {
    /// `POST /v1/responses` request body. Fields we do not model are kept in `extra`; of those,
    /// only LiteLLM's own keys (`mock_response`, `tags`, `fallbacks`, ...) and a few chat
    /// parameters (`seed`, `stop`, `top_k`, the penalties, `service_tier`) reach the chat
    /// request, the rest being Responses-only settings (`background`, `prompt`, ...).
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct ResponsesRequest {
        pub model: String,
        /// A string (one user message) or a list of input items.
        pub input?: ResponsesInput,
        pub instructions?: String,
        pub tools?: Vec<ResponsesTool>,
        pub tool_choice?: ResponsesToolChoice,
        pub parallel_tool_calls?: bool,
        pub max_output_tokens?: u32,
        pub temperature?: f64,
        pub top_p?: f64,
        pub stream?: bool,
        pub user?: String,
        pub metadata?: JsonMap,
        pub store?: bool,
        pub previous_response_id?: String,
        pub text?: TextConfig,
        pub reasoning?: ReasoningConfig,
        /// `"auto"` or `"disabled"`; echoed only.
        pub truncation?: String,
        /// Extra output to include (`reasoning.encrypted_content`, ...); accepted and ignored.
        pub include?: Vec<String>,
        /// Every other field (`background`, `service_tier`, `prompt`, ...).
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

impl ResponsesRequest {
    /// Whether the client asked for an event stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the response should be stored for `previous_response_id` (the default).
    pub fn wants_store(&self) -> bool {
        self.store.unwrap_or(true)
    }
}

/// `input`: a string or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponsesInput {
    Text(String),
    Items(Vec<InputItem>),
}

impl<'de> Deserialize<'de> for ResponsesInput {
    /// A string or a list of items, with the item's own error (not serde's "did not match any
    /// variant") when an item is malformed.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ResponsesInput::Text(s)),
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    serde_json::from_value(v)
                        .map_err(|e| D::Error::custom(format!("input[{i}]: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ResponsesInput::Items),
            _ => Err(D::Error::custom(
                "input must be a string or a list of items",
            )),
        }
    }
}

wire_struct! {
    /// A tool. Function tools are flat (`{"type": "function", "name", "description",
    /// "parameters", "strict"}`); a built-in tool keeps its fields in `extra`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ResponsesTool {
        #[serde(rename = "type")]
        pub kind: String,
        pub name?: String,
        pub description?: String,
        pub parameters?: Value,
        pub strict?: bool,
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

/// `tool_choice`: `"auto" | "none" | "required"` or an object (`{"type": "function",
/// "name"}`, or a built-in tool type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesToolChoice {
    Mode(String),
    Object(ToolChoiceObject),
}

wire_struct! {
    /// An object `tool_choice`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ToolChoiceObject {
        #[serde(rename = "type")]
        pub kind: String,
        pub name?: String,
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// `text`: the output format (and `verbosity`, kept in `extra`).
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct TextConfig {
        pub format?: TextFormat,
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// `text.format`: `{"type": "text"}`, `{"type": "json_object"}` or `{"type": "json_schema",
    /// "name", "schema", "description", "strict"}` (flat, unlike chat's `json_schema` wrapper).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct TextFormat {
        #[serde(rename = "type")]
        pub kind: String,
        pub name?: String,
        pub schema?: Value,
        pub description?: String,
        pub strict?: bool,
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// `reasoning`: `{"effort", "summary"}`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct ReasoningConfig {
        pub effort?: String,
        pub summary?: String,
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_stream;
