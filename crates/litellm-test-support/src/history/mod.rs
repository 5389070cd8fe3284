//! Conversation-history validation, as the real providers do it: pure functions that the fakes
//! call on every chat request before a scripted answer is used, so a gateway that drops a turn,
//! merges two turns or loses a tool call is refused exactly as the real API would refuse it.
//!
//! - [`anthropic`]: Messages API (`POST /v1/messages`, also Claude on Vertex `rawPredict`):
//!   roles, non-empty content, `tool_use` / `tool_result` pairing, thinking signatures.
//! - [`openai`]: Chat Completions (OpenAI, Azure and every OpenAI-compatible provider): roles,
//!   `tool` messages answering the `tool_calls` of the assistant message before them, assistant
//!   messages with neither content nor tool calls.
//! - [`gemini`]: `generateContent` (Google AI Studio and Vertex AI): roles, non-empty parts,
//!   the order and count of `functionCall` / `functionResponse` turns.
//! - [`bedrock`]: Converse: first turn from the user, alternating roles, non-empty content,
//!   `toolUse` / `toolResult` pairing.
//!
//! Each returns the provider's own error message (OpenAI's also the `param` it names); the fake
//! wraps it in the provider's status and error body.

mod anthropic;
mod bedrock;
mod gemini;
mod openai;

use axum::http::HeaderMap;
use serde_json::Value;

pub use openai::OpenAiRefusal;

/// Anthropic's Messages API rules (listed in the `FakeAnthropic` docs). `headers` supply
/// `anthropic-beta`, which (like the body's `anthropic_beta` list, as Vertex AI and Bedrock
/// send it) may allow `system` messages inside `messages`. The error is the `message` of a 400
/// `invalid_request_error`.
pub fn anthropic(body: &Value, headers: &HeaderMap) -> Result<(), String> {
    anthropic::check(body, headers)
}

/// OpenAI's Chat Completions rules. The error is the `message` and `param` of a 400
/// `invalid_request_error`.
pub fn openai(body: &Value) -> Result<(), OpenAiRefusal> {
    openai::check(body)
}

/// Gemini's `generateContent` history rules. The error is the `message` of a 400
/// `INVALID_ARGUMENT`.
pub fn gemini(body: &Value) -> Result<(), String> {
    gemini::check(body)
}

/// Bedrock Converse's history rules. The error is the `message` of a 400 `ValidationException`.
pub fn bedrock(body: &Value) -> Result<(), String> {
    bedrock::check(body)
}

/// The messages (or contents) list of a body under `key`; empty when absent or not a list.
fn list<'a>(body: &'a Value, key: &str) -> &'a [Value] {
    body.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A message's content blocks (`content` as a list; empty for a string or when absent).
fn blocks(message: &Value) -> &[Value] {
    list(message, "content")
}

/// The role of a message, if it is a string.
fn role(message: &Value) -> Option<&str> {
    message.get("role").and_then(Value::as_str)
}
