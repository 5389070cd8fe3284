//! Gemini error mapping: Google's `status`, retry delays and context-window messages.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use super::GeminiAdapter;
use crate::errors::{
    error_field_message, kind_or_status, looks_like_context_window, message_or_body, upstream_error,
};
use crate::upstream::parse_retry_after;

impl GeminiAdapter {
    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(self.provider, status, headers, body))
    }
}

/// The kind for a Google RPC `status` string.
pub(super) fn kind_for_google_status(status: &str) -> Option<ErrorKind> {
    Some(match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::BadRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "UNAVAILABLE" | "ABORTED" => ErrorKind::ServiceUnavailable,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => ErrorKind::InternalServer,
        "CANCELLED" => ErrorKind::ApiConnection,
        _ => return None,
    })
}

pub(super) fn looks_like_gemini_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("exceeds the maximum number of tokens")
        || m.contains("input token count") && m.contains("exceeds")
        || m.contains("prompt is too long")
}

/// `google.rpc.RetryInfo.retryDelay` (`"17s"`, `"1.5s"`) from an error's details.
pub(super) fn retry_delay(details: Option<&Value>) -> Option<std::time::Duration> {
    details?.as_array()?.iter().find_map(|d| {
        let t = d.get("@type").and_then(Value::as_str)?;
        if !t.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        let raw = d.get("retryDelay").and_then(Value::as_str)?;
        let secs: f64 = raw.trim().strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| std::time::Duration::from_secs_f64(secs))
    })
}

pub(super) fn has_reason(details: Option<&Value>, reason: &str) -> bool {
    details.and_then(Value::as_array).is_some_and(|a| {
        a.iter()
            .any(|d| d.get("reason").and_then(Value::as_str) == Some(reason))
    })
}

/// An error from a parsed body: `{"error": {"code", "message", "status", "details"}}`, also as
/// the one element of an array (as `streamGenerateContent` without SSE answers).
pub(super) fn error_from_value(
    provider: &str,
    status: Option<u16>,
    value: &Value,
    raw: &[u8],
) -> LlmError {
    let value = match value {
        Value::Array(items) if items.len() == 1 => &items[0],
        v => v,
    };
    let err = value.get("error");
    let google_status = err
        .and_then(|e| e.get("status"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let details = err.and_then(|e| e.get("details"));
    let message = error_field_message(value).or_else(|| {
        value
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let code = err
        .and_then(|e| e.get("code"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let message = message_or_body(message, raw, provider, status);
    let status = status.or(code);
    let by_status = google_status.as_deref().and_then(kind_for_google_status);
    let mut kind = kind_or_status(by_status, status);
    if kind == ErrorKind::BadRequest {
        if has_reason(details, "API_KEY_INVALID") || message.contains("API key not valid") {
            kind = ErrorKind::Authentication;
        } else if looks_like_gemini_context_window(&message) {
            kind = ErrorKind::ContextWindowExceeded;
        }
    }
    upstream_error(kind, message, provider, status).with_retry_after(retry_delay(details))
}

/// Maps a Google error response to an `LlmError`, by Google's `status` first and the HTTP status
/// otherwise (see the module docs), keeping the upstream message (a non-JSON body is used as
/// text, truncated) and the retry delay (`retry-after`, else `RetryInfo`).
pub fn map_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let err = match serde_json::from_slice::<Value>(body) {
        Ok(v) => error_from_value(provider, Some(status), &v, body),
        Err(_) => error_from_value(provider, Some(status), &Value::Null, body),
    };
    match parse_retry_after(headers) {
        Some(d) => err.with_retry_after(Some(d)),
        None => err,
    }
}
