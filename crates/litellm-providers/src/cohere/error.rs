//! Cohere error mapping: the message of an error body and its `ErrorKind`.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use super::{CohereAdapter, PROVIDER};
use crate::errors::{kind_for_status, looks_like_context_window, message_or_body, upstream_error};
use crate::upstream::parse_retry_after;

impl CohereAdapter {
    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }
}

pub(super) fn message_of(value: &Value, raw: &[u8], status: Option<u16>) -> String {
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| value.get("error").and_then(Value::as_str))
        .or_else(|| value.pointer("/error/message").and_then(Value::as_str))
        .map(str::to_string);
    message_or_body(message, raw, PROVIDER, status)
}

pub(super) fn looks_like_cohere_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("too many tokens")
        || m.contains("exceeds the context")
}

pub(super) fn error_from_value(status: Option<u16>, value: &Value, raw: &[u8]) -> LlmError {
    let message = message_of(value, raw, status);
    let mut kind = match status {
        Some(401 | 498) => ErrorKind::Authentication,
        Some(499) => ErrorKind::ApiConnection,
        Some(s) => kind_for_status(s),
        None => ErrorKind::InternalServer,
    };
    if matches!(kind, ErrorKind::BadRequest) && looks_like_cohere_context_window(&message) {
        kind = ErrorKind::ContextWindowExceeded;
    }
    upstream_error(kind, message, PROVIDER, status)
}

/// Maps a Cohere error response (`{"message": ...}`) to an `LlmError` by status (see the module
/// docs), keeping the upstream message (a non-JSON body is used as text, truncated) and the
/// `retry-after`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let value = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    error_from_value(Some(status), &value, body).with_retry_after(parse_retry_after(headers))
}
