//! Ollama error mapping: the error text of a body and its `ErrorKind`.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use super::OllamaAdapter;
use crate::errors::{
    error_field_message, kind_or_status, looks_like_context_window, message_or_body, upstream_error,
};
use crate::upstream::parse_retry_after;

impl OllamaAdapter {
    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(self.provider(), status, headers, body))
    }
}

pub(super) fn looks_like_ollama_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("exceeds the context length")
        || m.contains("input length exceeds")
}

pub(super) fn error_from_value(
    provider: &str,
    status: Option<u16>,
    value: &Value,
    raw: &[u8],
) -> LlmError {
    let message = message_or_body(error_field_message(value), raw, provider, status);
    let mut kind = kind_or_status(None, status);
    if matches!(kind, ErrorKind::BadRequest | ErrorKind::InternalServer)
        && looks_like_ollama_context_window(&message)
    {
        kind = ErrorKind::ContextWindowExceeded;
    } else if status.is_none() && message.contains("not found") {
        kind = ErrorKind::NotFound;
    }
    upstream_error(kind, message, provider, status)
}

/// Maps an Ollama error response (`{"error": "..."}`) to an `LlmError` by status, keeping the
/// upstream message (a non-JSON body is used as text, truncated) and the `retry-after`.
pub fn map_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let value = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    error_from_value(provider, Some(status), &value, body)
        .with_retry_after(parse_retry_after(headers))
}
