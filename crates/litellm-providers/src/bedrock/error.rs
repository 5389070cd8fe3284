//! Bedrock error mapping: the AWS error type (`x-amzn-errortype` or `__type`), then the status.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{ErrorKind, LlmError};

use super::{BedrockAdapter, PROVIDER};
use crate::errors::{kind_or_status, looks_like_context_window, message_or_body, upstream_error};
use crate::upstream::parse_retry_after;

impl BedrockAdapter {
    /// Maps an error response (see [`map_error`]), removing secrets should they be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }
}

/// The kind of an AWS error type (`ThrottlingException`, or the stream's `throttlingException`).
pub(super) fn kind_for_error_type(kind: &str) -> Option<ErrorKind> {
    let k = kind.to_ascii_lowercase();
    Some(match k.as_str() {
        "throttlingexception" | "toomanyrequestsexception" | "servicequotaexceededexception" => {
            ErrorKind::RateLimited
        }
        "accessdeniedexception"
        | "unrecognizedclientexception"
        | "invalidsignatureexception"
        | "incompletesignatureexception"
        | "expiredtokenexception"
        | "missingauthenticationtokenexception"
        | "invalidclienttokenid"
        | "unauthorizedexception"
        | "signaturedoesnotmatch" => ErrorKind::Authentication,
        "validationexception" | "serializationexception" => ErrorKind::BadRequest,
        "resourcenotfoundexception" => ErrorKind::NotFound,
        "serviceunavailableexception" | "modelnotreadyexception" => ErrorKind::ServiceUnavailable,
        "modeltimeoutexception" => ErrorKind::Timeout,
        "internalserverexception"
        | "internalfailure"
        | "modelerrorexception"
        | "modelstreamerrorexception" => ErrorKind::InternalServer,
        _ => return None,
    })
}

/// Whether a validation message says the prompt does not fit.
pub(super) fn says_too_long(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("too long")
        || m.contains("too many input tokens")
        || m.contains("context length")
}

/// An error from its AWS type (if known), message and status (`None` mid-stream).
pub(crate) fn error_from_parts(
    status: Option<u16>,
    error_type: Option<&str>,
    message: Option<String>,
    raw: &[u8],
) -> LlmError {
    let message = message_or_body(message, raw, PROVIDER, status);
    let mut kind = kind_or_status(error_type.and_then(kind_for_error_type), status);
    if kind == ErrorKind::BadRequest && says_too_long(&message) {
        kind = ErrorKind::ContextWindowExceeded;
    }
    let message = match error_type {
        Some(t) if !t.is_empty() && !message.starts_with(t) => format!("{t}: {message}"),
        _ => message,
    };
    upstream_error(kind, message, PROVIDER, status)
}

/// The AWS error type from `x-amzn-errortype` (`ThrottlingException:http://...` → the name) or
/// a body's `__type` (`com.amazon.coral.service#UnrecognizedClientException` → the name).
pub(super) fn error_type(headers: &HeaderMap, body: Option<&Value>) -> Option<String> {
    let from_header = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).trim().to_string());
    let from_body = || {
        body.and_then(|b| b.get("__type").or_else(|| b.get("code")))
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
    };
    from_header.filter(|t| !t.is_empty()).or_else(from_body)
}

/// Maps a Bedrock error response to an `LlmError`, by the AWS error type first and the status
/// otherwise (see the module docs), keeping the upstream message and `retry-after`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let kind = error_type(headers, parsed.as_ref());
    let message = parsed.as_ref().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    error_from_parts(Some(status), kind.as_deref(), message, body)
        .with_retry_after(parse_retry_after(headers))
}
