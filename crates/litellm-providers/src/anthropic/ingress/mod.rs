//! Anthropic-format ingress (sans-IO): the translation behind the proxy's `POST /v1/messages`
//! and `/v1/messages/count_tokens`. A client speaking Anthropic's Messages API (the Anthropic
//! SDKs, Claude Code) is served by whatever deployment the router picks:
//!
//! - [`MessagesRequest`] → OpenAI [`ChatRequest`] ([`to_chat_request`]), for deployments that
//!   do not speak Messages natively (native mode, for `anthropic/` and Claude on Vertex, sends
//!   the client's body as it is: `anthropic_native`). Every turn is kept, in order, never
//!   merged: text, images (base64 and URL), PDF documents, `tool_use`/`tool_result` become
//!   OpenAI messages, parts, `tool_calls` and `tool` messages (a user turn's tool results come
//!   first, as `tool` messages, then its other blocks as one user message); a mid-conversation
//!   `{"role": "system"}` message becomes a system message in its place; tools become
//!   functions; `tool_choice` `auto`/`any`/`tool`/`none` becomes `auto`/`required`/named/`none`
//!   (`disable_parallel_tool_use` → `parallel_tool_calls: false`); `web_search_*` tools become
//!   `web_search_options: {}` (as LiteLLM). Thinking depends on the target
//!   ([`IngressOptions::claude_target`]): for Claude behind another API (Bedrock Converse),
//!   `thinking` is forwarded as sent, `thinking`/`redacted_thinking` blocks travel as the
//!   assistant message's `thinking_blocks` (with their signatures) and `cache_control` is kept;
//!   for any other model, `thinking.budget_tokens` becomes `reasoning_effort` (LiteLLM's
//!   buckets: ≥ 4096 high, ≥ 2048 medium, ≥ 1024 low, else minimal), and thinking blocks and
//!   `cache_control` are dropped (nobody else can verify Anthropic's signatures); an assistant
//!   turn that held only thinking then has nothing left and is left out. A block or tool other
//!   providers cannot express is a 400 naming it.
//!
//!   `max_tokens`, `stop_sequences` (→ `stop`), `temperature`, `top_p`, `metadata.user_id`
//!   (→ `user`) and `stream` map directly; `top_k` and every other field we do not model are
//!   forwarded as unknown fields.
//! - OpenAI [`ChatResponse`] → Anthropic `message` ([`to_messages_response`]): `thinking` /
//!   `redacted_thinking` blocks (from `thinking_blocks`, with signatures, else from
//!   `reasoning_content`), one `text` block, `tool_use` blocks; `finish_reason` `stop` →
//!   `end_turn` (`tool_use` when tool calls are present), `length` → `max_tokens`, `tool_calls`
//!   → `tool_use`, `content_filter` → `refusal`; usage with `input_tokens` excluding cached
//!   and cache-written tokens, as Anthropic counts.
//! - OpenAI chunks → Anthropic SSE events ([`StreamTranslator`]): `message_start`, then per
//!   block `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`,
//!   `thinking_delta`, `signature_delta`) / `content_block_stop`, then `message_delta` (stop
//!   reason and the exact usage) and `message_stop`; a failure is one `error` event.
//! - [`estimate_input_tokens`]: the `count_tokens` estimate.
//!
//! Reference: <https://docs.anthropic.com/en/api/messages>,
//! <https://docs.anthropic.com/en/docs/build-with-claude/streaming>, and LiteLLM's
//! `llms/anthropic/experimental_pass_through/adapters/`.
//!
//! [`ChatRequest`]: litellm_core::ChatRequest
//! [`ChatResponse`]: litellm_core::ChatResponse

use serde::Deserialize;
use serde_json::Value;

use litellm_core::JsonMap;

mod count;
mod request;
mod response;
mod stream;

pub use count::estimate_input_tokens;
pub use count::media_block_count;
pub use request::reasoning_effort_for_budget;
pub use request::to_chat_request;
pub use response::anthropic_usage;
pub use response::error_body;
pub use response::error_type_for_status;
pub use response::message_id;
pub use response::stop_reason;
pub use response::to_messages_response;
pub use stream::StreamEvent;
pub use stream::StreamTranslator;

/// Tokens counted for one image or document block whose size we cannot see (Anthropic's size
/// for an image of about 1.15 megapixels, the largest it does not downscale).
pub const MEDIA_BLOCK_TOKENS: u64 = 1600;

/// `POST /v1/messages` (and `count_tokens`) request body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    pub messages: Vec<InputMessage>,
    /// Required by `/v1/messages` (checked there), absent on `count_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub system: Option<SystemPrompt>,
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<u64>,
    #[serde(default)]
    pub tools: Option<Vec<Value>>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub thinking: Option<Value>,
    /// Every other field, forwarded as an unknown field.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl MessagesRequest {
    /// Whether the client asked for an event stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// `system`: a string or a list of text blocks.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    Text(String),
    Blocks(Vec<Value>),
}

/// One input message.
#[derive(Debug, Clone, Deserialize)]
pub struct InputMessage {
    pub role: String,
    pub content: InputContent,
}

/// Message content: a string or a list of content blocks.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum InputContent {
    Text(String),
    Blocks(Vec<Value>),
}

/// How to translate a request.
#[derive(Debug, Clone, Default)]
pub struct IngressOptions {
    /// The target is a Claude model behind a non-Messages API (Bedrock Converse): `thinking`,
    /// thinking blocks and `cache_control` are kept (see the module docs).
    pub claude_target: bool,
}

#[cfg(test)]
mod tests;
