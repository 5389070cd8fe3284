//! The `count_tokens` estimate ([`estimate_input_tokens`]).

use serde_json::Value;

use super::request::{block_type, str_of};
use super::{InputContent, MessagesRequest, SystemPrompt, MEDIA_BLOCK_TOKENS};

/// Tokens of per-message overhead in the estimate (as `litellm-router`'s `tokens.rs`).
pub(super) const PER_MESSAGE: u64 = 3;

pub(super) fn text_chars(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(text_chars).sum(),
        Value::Object(_) => match block_type(v) {
            "text" => str_of(v, "text").map_or(0, str::len),
            "thinking" => str_of(v, "thinking").map_or(0, str::len),
            "tool_use" => {
                v.get("input").map_or(0, |i| i.to_string().len())
                    + str_of(v, "name").map_or(0, str::len)
            }
            "tool_result" => v.get("content").map_or(0, text_chars),
            "document" => match v.get("source") {
                Some(s) if str_of(s, "type") == Some("text") => {
                    str_of(s, "data").map_or(0, str::len)
                }
                Some(s) if str_of(s, "type") == Some("content") => {
                    s.get("content").map_or(0, text_chars)
                }
                _ => 0,
            },
            _ => 0,
        },
        _ => 0,
    }
}

pub(super) fn media_blocks(v: &Value) -> u64 {
    match v {
        Value::Array(items) => items.iter().map(media_blocks).sum(),
        Value::Object(_) => match block_type(v) {
            "image" => 1,
            "document" => match v.get("source").and_then(|s| str_of(s, "type")) {
                Some("text") | Some("content") => 0,
                _ => 1,
            },
            "tool_result" => v.get("content").map_or(0, media_blocks),
            _ => 0,
        },
        _ => 0,
    }
}

/// The `count_tokens` estimate: characters of every text the model reads (system, text and
/// thinking blocks, tool inputs and results, text documents, tool definitions as JSON) at four
/// characters a token (LiteLLM's fallback, as `litellm-router`'s `tokens.rs`), three tokens of
/// overhead per message plus three, and [`MEDIA_BLOCK_TOKENS`] per image or binary document.
pub fn estimate_input_tokens(req: &MessagesRequest) -> u64 {
    let mut chars = match &req.system {
        None => 0,
        Some(SystemPrompt::Text(t)) => t.len(),
        Some(SystemPrompt::Blocks(b)) => b.iter().map(text_chars).sum(),
    };
    let mut media = 0;
    for m in &req.messages {
        match &m.content {
            InputContent::Text(t) => chars += t.len(),
            InputContent::Blocks(b) => {
                chars += b.iter().map(text_chars).sum::<usize>();
                media += b.iter().map(media_blocks).sum::<u64>();
            }
        }
    }
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        chars += serde_json::to_string(tools).map_or(0, |s| s.len());
    }
    (chars as u64).div_ceil(4)
        + PER_MESSAGE * (req.messages.len() as u64 + 1)
        + media * MEDIA_BLOCK_TOKENS
}

/// The number of image and binary-document blocks in a request (for a count made by another
/// method, which adds [`MEDIA_BLOCK_TOKENS`] for each).
pub fn media_block_count(req: &MessagesRequest) -> u64 {
    req.messages
        .iter()
        .map(|m| match &m.content {
            InputContent::Text(_) => 0,
            InputContent::Blocks(b) => b.iter().map(media_blocks).sum(),
        })
        .sum()
}
