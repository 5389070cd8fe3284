//! The error taxonomy shared by every layer. `ErrorKind` mirrors LiteLLM's exception classes so
//! the router can decide retries, fallbacks and cooldowns from the kind alone, never from message
//! text. Only the server turns an `LlmError` into an HTTP status and an OpenAI error body.

use std::time::Duration;

/// What went wrong, in LiteLLM's vocabulary (`litellm/exceptions.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or uses something the model does not support.
    BadRequest,
    /// The caller's (or the upstream's) credentials were refused.
    Authentication,
    /// The credentials are valid but may not do this.
    PermissionDenied,
    /// The model, deployment or route does not exist.
    NotFound,
    /// The prompt does not fit the model's context window.
    ContextWindowExceeded,
    /// The provider refused the content.
    ContentPolicyViolation,
    /// Too many requests, at the upstream or at our own limits.
    RateLimited,
    /// The upstream did not answer in time.
    Timeout,
    /// The upstream could not be reached (connect, TLS, reset).
    ApiConnection,
    /// The upstream says it is overloaded or unavailable.
    ServiceUnavailable,
    /// The upstream (or we) failed in an unexpected way.
    InternalServer,
    /// A key, user, team, end-user or global budget is spent.
    BudgetExceeded,
}

impl ErrorKind {
    /// Whether another attempt may succeed: LiteLLM's `should_retry` (408, 409, 429, >= 500).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Timeout
                | ErrorKind::ApiConnection
                | ErrorKind::ServiceUnavailable
                | ErrorKind::InternalServer
        )
    }

    /// The LiteLLM exception class name, as used in `retry_policy` keys and logs.
    pub fn litellm_class(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::ContextWindowExceeded => "ContextWindowExceededError",
            ErrorKind::ContentPolicyViolation => "ContentPolicyViolationError",
            ErrorKind::RateLimited => "RateLimitError",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::ApiConnection => "APIConnectionError",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableError",
            ErrorKind::InternalServer => "InternalServerError",
            ErrorKind::BudgetExceeded => "BudgetExceededError",
        }
    }
}

/// Who caused the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The provider answered with an error, or could not be reached.
    Upstream,
    /// The client's request was refused before any upstream call.
    Client,
    /// Our own failure.
    Internal,
}

/// An error with its kind, origin and the facts the router and server need.
///
/// Invariant: `message` never contains credentials; adapters strip them before building one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", kind.litellm_class())]
pub struct LlmError {
    pub kind: ErrorKind,
    pub origin: ErrorSource,
    pub message: String,
    /// The upstream HTTP status, when an upstream answered.
    pub status: Option<u16>,
    /// The upstream's `retry-after`, when it sent one.
    pub retry_after: Option<Duration>,
    /// The provider that failed (`openai`, `anthropic`, ...).
    pub provider: Option<String>,
    /// The request parameter at fault, when known.
    pub param: Option<String>,
}

impl LlmError {
    /// A new error with no status, provider or parameter.
    pub fn new(kind: ErrorKind, origin: ErrorSource, message: impl Into<String>) -> Self {
        LlmError {
            kind,
            origin,
            message: message.into(),
            status: None,
            retry_after: None,
            provider: None,
            param: None,
        }
    }

    /// A client error (the request itself is wrong).
    pub fn client(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, ErrorSource::Client, message)
    }

    /// An upstream error of the given kind.
    pub fn upstream(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, ErrorSource::Upstream, message)
    }

    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InternalServer, ErrorSource::Internal, message)
    }

    /// A 400 naming the parameter at fault.
    pub fn bad_param(param: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::client(ErrorKind::BadRequest, message);
        e.param = Some(param.into());
        e
    }

    /// Sets the upstream status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the provider name.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Sets the upstream's retry-after.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Whether the router may try again (delegates to the kind).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_kinds_match_litellm_should_retry() {
        let retryable: Vec<_> = [
            ErrorKind::BadRequest,
            ErrorKind::Authentication,
            ErrorKind::PermissionDenied,
            ErrorKind::NotFound,
            ErrorKind::ContextWindowExceeded,
            ErrorKind::ContentPolicyViolation,
            ErrorKind::RateLimited,
            ErrorKind::Timeout,
            ErrorKind::ApiConnection,
            ErrorKind::ServiceUnavailable,
            ErrorKind::InternalServer,
            ErrorKind::BudgetExceeded,
        ]
        .into_iter()
        .filter(|k| k.is_retryable())
        .collect();
        assert_eq!(
            retryable,
            vec![
                ErrorKind::RateLimited,
                ErrorKind::Timeout,
                ErrorKind::ApiConnection,
                ErrorKind::ServiceUnavailable,
                ErrorKind::InternalServer
            ]
        );
    }

    #[test]
    fn display_names_the_class_and_message() {
        let e = LlmError::bad_param("model", "model is required").with_status(400);
        assert_eq!(e.to_string(), "BadRequestError: model is required");
        assert_eq!(e.param.as_deref(), Some("model"));
    }
}
