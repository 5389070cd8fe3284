//! Request bodies, shared by the inference routes (`routes/`) and the management and service
//! routes (`management/`, `service/`): [`parse_body`] turns a JSON body into a typed request
//! with a clear OpenAI-shaped 4xx for every failure (empty, unreadable, too large, invalid JSON,
//! a missing or mistyped field), and the [`JsonBody`] and [`OptionalJsonBody`] extractors do
//! the same for a handler argument. Nothing here knows a route.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Parses a JSON request body, turning every failure into a clear OpenAI-shaped 4xx. With
/// `path_model` (the Azure- and engines-style routes), that model replaces the body's.
pub fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    path_model: Option<&str>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "Request body is larger than the proxy allows (general_settings.max_request_size_mb).",
            )
        } else {
            ApiError::bad_request(None, format!("Could not read the request body: {rej}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            None,
            "Request body is empty; expected a JSON object.",
        ));
    }
    let parsed = match path_model {
        None => serde_json::from_slice(&bytes),
        Some(model) => serde_json::from_slice::<Value>(&bytes).and_then(|mut v| {
            if let Some(obj) = v.as_object_mut() {
                obj.insert("model".into(), Value::String(model.to_string()));
            }
            serde_json::from_value(v)
        }),
    };
    parsed.map_err(|e| {
        let msg = e.to_string();
        // serde names the first missing required field; surface it as the `param`.
        let param = msg
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let kind = if e.is_syntax() || e.is_eof() {
            "Invalid JSON in request body"
        } else {
            "Invalid request body"
        };
        let mut err = ApiError::bad_request(None, format!("{kind}: {msg}"));
        if let Some(p) = param {
            err.message = format!("{p} is a required parameter ({msg})");
            err.param = Some(p);
        }
        err
    })
}

/// A JSON body parsed into `T` (an extractor; refusals as [`parse_body`] words them). Put it
/// last among a handler's arguments: the body is read only after the other extractors (the
/// caller's authentication first) have passed.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        parse_body(Bytes::from_request(req, state).await, None).map(JsonBody)
    }
}

/// A JSON body that may be empty (`{}` then); otherwise as [`JsonBody`].
#[derive(Debug, Clone)]
pub struct OptionalJsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await;
        match &bytes {
            Ok(b) if b.iter().all(u8::is_ascii_whitespace) => {
                Ok(OptionalJsonBody(Value::Object(Default::default())))
            }
            _ => parse_body(bytes, None).map(OptionalJsonBody),
        }
    }
}
