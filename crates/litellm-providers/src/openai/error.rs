//! OpenAI error mapping: the error body in any common shape, kinds by status, type and code.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use super::{OpenAiAdapter, MAX_ERROR_TEXT, PROVIDER};
use crate::errors::{kind_for_status, looks_like_context_window};
use crate::upstream::{parse_retry_after, truncate_chars};

impl OpenAiAdapter {
    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }
}

/// The parts of an OpenAI-style error body.
#[derive(Debug, Default)]
pub(super) struct ErrorBody {
    pub(super) message: Option<String>,
    pub(super) kind: Option<String>,
    pub(super) code: Option<String>,
    pub(super) param: Option<String>,
}

pub(super) fn value_to_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Reads `{"error": {"message", "type", "param", "code"}}`, `{"error": "text"}`,
/// `{"message": ...}` or FastAPI's `{"detail": ...}`.
pub(super) fn extract_error(v: &Value) -> Option<ErrorBody> {
    let obj = v.as_object()?;
    match obj.get("error") {
        Some(Value::Object(e)) => Some(ErrorBody {
            message: e.get("message").and_then(value_to_text),
            kind: e.get("type").and_then(value_to_text),
            code: e.get("code").and_then(value_to_text),
            param: e.get("param").and_then(value_to_text),
        }),
        Some(Value::String(s)) => Some(ErrorBody {
            message: Some(s.clone()),
            ..Default::default()
        }),
        _ => {
            let message = obj
                .get("message")
                .or_else(|| obj.get("detail"))
                .and_then(value_to_text)?;
            Some(ErrorBody {
                message: Some(message),
                kind: obj.get("type").and_then(value_to_text),
                code: obj.get("code").and_then(value_to_text),
                param: obj.get("param").and_then(value_to_text),
            })
        }
    }
}

/// An error object inside a 200 body or a stream event (`{"error": ...}` only).
pub(super) fn error_in_body(v: &Value) -> Option<LlmError> {
    v.get("error").filter(|e| !e.is_null())?;
    let body = extract_error(v)?;
    Some(error_from_parts(None, body, None))
}

pub(super) fn is_context_window(code: Option<&str>, message: &str) -> bool {
    code == Some("context_length_exceeded") || looks_like_context_window(message)
}

pub(super) fn is_content_policy(code: Option<&str>, kind: Option<&str>, message: &str) -> bool {
    const CODES: &[&str] = &[
        "content_policy_violation",
        "content_filter",
        "ResponsibleAIPolicyViolation",
    ];
    code.is_some_and(|c| CODES.contains(&c))
        || kind.is_some_and(|k| CODES.contains(&k))
        // Azure OpenAI's wording when its content filter refuses a prompt.
        || message.contains("content management policy")
}

/// The kind of an error that came without an HTTP status (mid-stream), from its type and code.
pub(super) fn kind_for_type(kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    if let Some(status) = code.and_then(|c| c.parse::<u16>().ok()) {
        return kind_for_status(status);
    }
    let any = |names: &[&str]| names.iter().any(|n| kind == Some(*n) || code == Some(*n));
    if any(&[
        "rate_limit_exceeded",
        "rate_limit_error",
        "insufficient_quota",
        "tokens",
        "requests",
    ]) {
        ErrorKind::RateLimited
    } else if any(&["invalid_request_error", "invalid_value", "invalid_type"]) {
        ErrorKind::BadRequest
    } else if any(&["authentication_error", "invalid_api_key"]) {
        ErrorKind::Authentication
    } else if any(&[
        "overloaded_error",
        "service_unavailable",
        "server_overloaded",
    ]) {
        ErrorKind::ServiceUnavailable
    } else if any(&["timeout", "timeout_error"]) {
        ErrorKind::Timeout
    } else {
        ErrorKind::InternalServer
    }
}

pub(super) fn error_from_parts(
    status: Option<u16>,
    body: ErrorBody,
    raw: Option<&[u8]>,
) -> LlmError {
    let message = body
        .message
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            raw.map(|b| String::from_utf8_lossy(b))
                .filter(|t| !t.trim().is_empty())
                .map(|t| truncate_chars(t.trim(), MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{PROVIDER} returned HTTP {s} with an empty body"),
            None => format!("{PROVIDER} reported an error"),
        });
    let code = body.code.as_deref();
    let kind = if matches!(status, None | Some(400)) && is_context_window(code, &message) {
        ErrorKind::ContextWindowExceeded
    } else if matches!(status, None | Some(400))
        && is_content_policy(code, body.kind.as_deref(), &message)
    {
        ErrorKind::ContentPolicyViolation
    } else {
        match status {
            Some(s) => kind_for_status(s),
            None => kind_for_type(body.kind.as_deref(), code),
        }
    };
    let mut err = LlmError::upstream(kind, message).with_provider(PROVIDER);
    err.status = status;
    err.param = body.param;
    err
}

/// Maps an OpenAI (or OpenAI-compatible) error response to an `LlmError`, by status and by the
/// error body's `code`: 400 `context_length_exceeded` (or a "maximum context length" message) is
/// `ContextWindowExceeded`, 400 `content_policy_violation`/`content_filter` is
/// `ContentPolicyViolation`; otherwise 400/422 BadRequest, 401 Authentication, 403
/// PermissionDenied, 404 NotFound, 408/504 Timeout, 409/503/529 ServiceUnavailable, 429
/// RateLimited (`insufficient_quota` included), other 5xx InternalServer, other 4xx BadRequest.
/// The upstream message is kept (a non-JSON body is used as text, truncated), with `status`,
/// `param`, `provider` and `retry_after` (`retry-after-ms` or `retry-after`) set.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .as_ref()
        .and_then(extract_error)
        .unwrap_or_default();
    error_from_parts(Some(status), parsed, Some(body)).with_retry_after(parse_retry_after(headers))
}
