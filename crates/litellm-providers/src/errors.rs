//! Error classification every adapter shares: the `ErrorKind` of an HTTP status, and whether an
//! error message says the prompt did not fit the context window.

use litellm_core::ErrorKind;

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
