//! `ApiError`: the one place an error becomes an HTTP status and an OpenAI-shaped body
//! `{"error": {"message", "type", "param", "code"}}`, with `code` the status as a string, as
//! LiteLLM sends it. Errors are logged once, here.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use litellm_core::{ErrorKind, ErrorSource, LlmError};

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The OpenAI error `type`.
    pub kind: &'static str,
    pub param: Option<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// What went wrong, in the router's taxonomy: metrics, traces and callbacks name the
    /// LiteLLM exception class from it. The response carries it as an extension.
    pub error_kind: ErrorKind,
}

impl ApiError {
    /// An error with a status, OpenAI `type` and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            headers: Vec::new(),
            error_kind: kind_of(kind, status),
        }
    }

    /// Sets the error's kind (when its `type` alone does not tell it).
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.error_kind = kind;
        self
    }

    /// 400 `invalid_request_error` naming the parameter at fault.
    pub fn bad_request(param: Option<&str>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message);
        e.param = param.map(str::to_string);
        e
    }

    /// 401 `auth_error`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "auth_error", message)
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.status.as_u16().to_string(),
            }
        })
    }
}

/// The status a routed error answers with. Upstream 5xx errors keep the upstream's own status
/// (502, 504, ...) the way LiteLLM does; everything else follows the kind.
pub fn status_for(err: &LlmError) -> StatusCode {
    let by_kind = match err.kind {
        ErrorKind::BadRequest
        | ErrorKind::ContextWindowExceeded
        | ErrorKind::ContentPolicyViolation => StatusCode::BAD_REQUEST,
        ErrorKind::Authentication => StatusCode::UNAUTHORIZED,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Timeout => StatusCode::REQUEST_TIMEOUT,
        ErrorKind::ApiConnection | ErrorKind::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::BudgetExceeded => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match (err.origin, err.kind, err.status) {
        (
            ErrorSource::Upstream,
            ErrorKind::InternalServer | ErrorKind::ServiceUnavailable | ErrorKind::BadRequest,
            Some(s),
        ) if (400..600).contains(&s) && s != 401 && s != 403 && s != 404 && s != 429 => {
            StatusCode::from_u16(s).unwrap_or(by_kind)
        }
        _ => by_kind,
    }
}

/// The kind of an error the proxy raises itself, by its OpenAI `type` (the status decides only
/// for a type that names no kind).
fn kind_of(kind: &str, status: StatusCode) -> ErrorKind {
    match kind {
        "invalid_request_error" | "bad_request_error" => ErrorKind::BadRequest,
        "auth_error" | "authentication_error" => ErrorKind::Authentication,
        "permission_error" | "permission_denied" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimited,
        "budget_exceeded" => ErrorKind::BudgetExceeded,
        "timeout" => ErrorKind::Timeout,
        "service_unavailable_error" => ErrorKind::ServiceUnavailable,
        _ => match status.as_u16() {
            400 | 413 | 422 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 | 405 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            429 => ErrorKind::RateLimited,
            503 => ErrorKind::ServiceUnavailable,
            _ => ErrorKind::InternalServer,
        },
    }
}

/// The LiteLLM exception class of a response: from the `ErrorKind` an [`ApiError`] left on
/// it, `APIError` for any other failure (a framework rejection).
pub fn exception_class(resp_extensions: &axum::http::Extensions) -> &'static str {
    resp_extensions
        .get::<ErrorKind>()
        .map_or("APIError", |k| k.litellm_class())
}

/// The OpenAI error `type` for a kind.
fn type_for(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadRequest | ErrorKind::ContextWindowExceeded => "invalid_request_error",
        ErrorKind::ContentPolicyViolation => "content_policy_violation",
        ErrorKind::Authentication => "auth_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Timeout => "timeout",
        ErrorKind::ApiConnection => "api_connection_error",
        ErrorKind::ServiceUnavailable => "service_unavailable_error",
        ErrorKind::InternalServer => "internal_server_error",
        ErrorKind::BudgetExceeded => "budget_exceeded",
    }
}

impl From<LlmError> for ApiError {
    fn from(err: LlmError) -> Self {
        let status = status_for(&err);
        // LiteLLM prefixes messages with the exception class; clients grep for these.
        let message = match err.origin {
            ErrorSource::Client => err.message.clone(),
            _ => format!("litellm.{}: {}", err.kind.litellm_class(), err.message),
        };
        let mut e = ApiError {
            status,
            message,
            kind: type_for(err.kind),
            param: err.param.clone(),
            headers: Vec::new(),
            error_kind: err.kind,
        };
        if let Some(ra) = err.retry_after {
            let secs = ra.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                e.headers.push((axum::http::header::RETRY_AFTER, v));
            }
        }
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), message = %self.message, "request failed");
        } else {
            tracing::info!(status = self.status.as_u16(), message = %self.message, "request refused");
        }
        let mut resp = (self.status, Json(self.body())).into_response();
        resp.extensions_mut().insert(self.error_kind);
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}
