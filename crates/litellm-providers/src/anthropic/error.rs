//! Anthropic error mapping: the error `type`, then the status.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use super::PROVIDER;
use crate::errors::{
    error_field_message, kind_or_status, looks_like_context_window, message_or_body, upstream_error,
};
use crate::upstream::parse_retry_after;
use crate::AnthropicAdapter;

impl AnthropicAdapter {
    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }
}

/// The kind of an Anthropic error type (`error.type`).
pub(super) fn kind_for_error_type(kind: &str) -> Option<ErrorKind> {
    Some(match kind {
        "invalid_request_error" | "request_too_large" | "billing_error" => ErrorKind::BadRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimited,
        "api_error" => ErrorKind::InternalServer,
        "overloaded_error" => ErrorKind::ServiceUnavailable,
        "timeout_error" => ErrorKind::Timeout,
        _ => return None,
    })
}

/// An error from a parsed body: `{"type": "error", "error": {"type", "message"}}` (or any
/// `{"error": ...}` / `{"message": ...}` shape a proxy in between may send).
pub(super) fn error_from_value(status: Option<u16>, value: &Value, raw: &[u8]) -> LlmError {
    let err = value.get("error");
    let kind_name = err
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = error_field_message(value)
        .or_else(|| {
            value
                .get("message")
                .or_else(|| value.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|m| !m.trim().is_empty());
    error_from_parts(status, kind_name.as_deref(), message, raw)
}

pub(super) fn error_from_parts(
    status: Option<u16>,
    kind_name: Option<&str>,
    message: Option<String>,
    raw: &[u8],
) -> LlmError {
    let message = message_or_body(message, raw, PROVIDER, status);
    let mut kind = kind_or_status(kind_name.and_then(kind_for_error_type), status);
    let client_side = matches!(status, None | Some(400 | 413)) || status.is_some_and(|s| s < 500);
    if matches!(kind, ErrorKind::BadRequest) && client_side && looks_like_context_window(&message) {
        kind = ErrorKind::ContextWindowExceeded;
    }
    upstream_error(kind, message, PROVIDER, status)
}

/// Maps an Anthropic error response to an `LlmError`, by Anthropic's error type first and the
/// status otherwise (see the module docs), keeping the upstream message (a non-JSON body is used
/// as text, truncated) and `retry-after`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let err = match serde_json::from_slice::<Value>(body) {
        Ok(v) => error_from_value(Some(status), &v, body),
        Err(_) => error_from_parts(Some(status), None, None, body),
    };
    err.with_retry_after(parse_retry_after(headers))
}
