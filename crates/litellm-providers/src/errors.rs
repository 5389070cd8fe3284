//! Error classification every adapter shares: the `ErrorKind` of an HTTP status, and whether an
//! error message says the prompt did not fit the context window, and the pieces every
//! native-format adapter's error mapping is built of (the message, the kind, the error).

use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use crate::upstream::truncate_chars;

/// How much of a non-JSON error body is kept as the message.
const MAX_ERROR_TEXT: usize = 1000;

/// The message of a body's `error`: the string itself, or the object's `message`.
pub(crate) fn error_field_message(value: &Value) -> Option<String> {
    value.get("error").and_then(|e| match e {
        Value::String(s) => Some(s.clone()),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// An upstream's error message when it sent a non-blank one; else the body as text (truncated);
/// else a note that the body was empty.
pub(crate) fn message_or_body(
    message: Option<String>,
    raw: &[u8],
    provider: &str,
    status: Option<u16>,
) -> String {
    message
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            let text = String::from_utf8_lossy(raw);
            let t = text.trim();
            (!t.is_empty()).then(|| truncate_chars(t, MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{provider} returned HTTP {s} with an empty body"),
            None => format!("{provider} reported an error"),
        })
}

/// The kind a provider's error type names, else the status's, else (mid-stream) an internal
/// error.
pub(crate) fn kind_or_status(by_type: Option<ErrorKind>, status: Option<u16>) -> ErrorKind {
    match (by_type, status) {
        (Some(k), _) => k,
        (None, Some(s)) => kind_for_status(s),
        (None, None) => ErrorKind::InternalServer,
    }
}

/// An upstream error of `provider`, with the HTTP status (`None` mid-stream).
pub(crate) fn upstream_error(
    kind: ErrorKind,
    message: String,
    provider: &str,
    status: Option<u16>,
) -> LlmError {
    let mut err = LlmError::upstream(kind, message).with_provider(provider);
    err.status = status;
    err
}

/// Whether an error message says the prompt does not fit the context window.
pub(crate) fn looks_like_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "maximum context length",
        "context_length_exceeded",
        "context length exceeded",
        "context window",
        "prompt is too long",
        "input is too long",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// The error kind of an HTTP status alone (shared by the HTTP adapters).
pub(crate) fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::BadRequest,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        409 | 503 | 529 => ErrorKind::ServiceUnavailable,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::InternalServer,
        400..=499 => ErrorKind::BadRequest,
        _ => ErrorKind::InternalServer,
    }
}
