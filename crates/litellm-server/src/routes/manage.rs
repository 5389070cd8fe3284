//! What the management routes (`/key/*`, `/user/*`, `/team/*`, `/spend/*`) share: the admin
//! check, query and body parsing, and turning store and patch errors into OpenAI-shaped ones.

use std::collections::HashMap;

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use litellm_auth::{hash_token, AuthError, PatchError};

use crate::auth::{Caller, KeyDb};
use crate::error::ApiError;
use crate::state::AppState;

/// Query parameters by name.
pub type Params = HashMap<String, String>;

/// The query string, or a 400 naming the problem.
pub fn params(q: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(None, format!("Invalid query string: {e}")))
}

/// A non-empty query parameter.
pub fn param<'p>(p: &'p Params, name: &str) -> Option<&'p str> {
    p.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// A whole-number query parameter in `min..=max`, `default` when absent.
pub fn num_param(
    p: &Params,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ApiError> {
    let Some(raw) = param(p, name) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            Some(name),
            format!("{name} must be a whole number from {min} to {max}, got {raw:?}"),
        )),
    }
}

/// The caller, if it may manage keys, users and teams, and the key database.
pub async fn admin(state: &AppState, headers: &HeaderMap) -> Result<(Caller, KeyDb), ApiError> {
    let caller = state.auth.require_admin(headers).await?;
    let db = state.auth.key_db().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable_error",
            "No database is connected; key, user and team management needs one \
             (general_settings.database_url).",
        )
    })?;
    Ok((caller, db))
}

/// A JSON body.
pub fn body<T: DeserializeOwned>(b: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    super::parse_body(b, None)
}

/// A JSON body that may be empty (`{}` then).
pub fn optional_body(b: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    match &b {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
            Ok(Value::Object(Default::default()))
        }
        _ => body(b),
    }
}

/// A store failure: a conflict is the client's (400), anything else ours (500).
pub fn store_error(e: AuthError) -> ApiError {
    match e {
        AuthError::Conflict(m) => ApiError::bad_request(None, format!("Already exists: {m}")),
        other => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            format!("Internal error: {other}"),
        ),
    }
}

/// A patch that failed validation: 400 naming the field.
pub fn patch_error(e: PatchError) -> ApiError {
    ApiError::bad_request(Some(e.param), e.message)
}

/// Writes the queued spend records before a `spend` reset on `/key|user|team/update`, so the
/// reset covers every call made before it (otherwise they would land on top of the new value).
pub async fn write_queued_spend(state: &crate::state::AppState) {
    if let Some(ledger) = &state.ledger {
        if let Err(e) = ledger.flush().await {
            tracing::warn!(error = %e, "could not write queued spend before a spend reset");
        }
    }
}

/// 404 naming what was not found.
pub fn not_found(param: &str, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::new(StatusCode::NOT_FOUND, "not_found_error", message);
    e.param = Some(param.to_string());
    e
}

/// A required string field of a body.
pub fn required<'v>(v: &'v Option<String>, name: &str) -> Result<&'v str, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request(Some(name), format!("{name} is a required parameter")))
}

/// The stored hash for a key given as `sk-...` or already hashed (LiteLLM accepts both).
pub fn token_of(key: &str) -> String {
    if key.starts_with("sk-") {
        hash_token(key)
    } else {
        key.to_string()
    }
}

/// A JSON answer, or the error.
pub fn respond(res: Result<Value, ApiError>) -> Response {
    match res {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Serializes a record (they always serialize).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `a` with the fields of object `b` added (b wins).
pub fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// Whole pages needed for `total` rows of `size`.
pub fn pages(total: u64, size: u64) -> u64 {
    total.div_ceil(size.max(1))
}
