//! What the management handlers share once the caller is known: turning store and patch
//! errors into OpenAI-shaped ones, naming what was not found, key hashes, building the JSON
//! answers, and the `block_handlers!` macro (the block/unblock route pair of an area).

use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use litellm_auth::{hash_token, AuthError, PatchError};

use crate::auth::KeyDb;
use crate::error::ApiError;
use crate::state::AppState;

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
pub async fn write_queued_spend(state: &AppState) {
    if let Some(ledger) = &state.ledger {
        if let Err(e) = ledger.flush().await {
            tracing::warn!(error = %e, "could not write queued spend before a spend reset");
        }
    }
}

/// What owns keys that go with it when it is deleted.
#[derive(Debug, Clone, Copy)]
pub enum KeyOwner {
    User,
    Team,
}

/// `/user/delete` and `/team/delete`: deletes the users or teams `ids` (the body's
/// `user_ids` / `team_ids`) and their keys, and answers `{"deleted_users"|"deleted_teams":
/// [...]}`; 400 for an empty list, 404 when none of them existed.
pub async fn delete_owners(
    db: &KeyDb,
    owner: KeyOwner,
    ids: &[String],
) -> Result<Json<Value>, ApiError> {
    let what = match owner {
        KeyOwner::User => "user",
        KeyOwner::Team => "team",
    };
    let field = format!("{what}_ids");
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            Some(&field),
            format!("{field} must list at least one {what}"),
        ));
    }
    let deleted = match owner {
        KeyOwner::User => db.store.delete_users(ids).await,
        KeyOwner::Team => db.store.delete_teams(ids).await,
    }
    .map_err(store_error)?;
    // Their keys went with them; which keys were cached is not known here.
    db.cache.clear();
    if deleted.is_empty() {
        return Err(not_found(&field, format!("No {what}s found to delete")));
    }
    Ok(Json(json!({ format!("deleted_{what}s"): deleted })))
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

/// The `block` and `unblock` handlers of an area (keys, teams, end users): the proxy admin
/// posts a `$body`, and the area's own `set_blocked(db, body, blocked)` does the rest. Each
/// handler gets its doc line, path and the area's OpenAPI annotation.
macro_rules! block_handlers {
    (
        tag = $tag:literal,
        body = $body:ty,
        request = $request:literal,
        responses = ($($responses:tt)*),
        #[doc = $block_doc:literal]
        block = $block_path:literal,
        #[doc = $unblock_doc:literal]
        unblock = $unblock_path:literal $(,)?
    ) => {
        $crate::management::respond::block_handlers!(@handler block, true, $block_doc,
            $block_path, $tag, $body, $request, ($($responses)*));
        $crate::management::respond::block_handlers!(@handler unblock, false, $unblock_doc,
            $unblock_path, $tag, $body, $request, ($($responses)*));
    };
    (
        @handler $name:ident, $blocked:literal, $doc:literal, $path:literal, $tag:literal,
        $body:ty, $request:literal, ($($responses:tt)*)
    ) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = $tag,
            request_body(content = Object, description = $request),
            responses($($responses)*),
            security(("bearer" = [])))]
        pub async fn $name(
            $crate::management::Admin { db, .. }: $crate::management::Admin,
            $crate::body::JsonBody(body): $crate::body::JsonBody<$body>,
        ) -> Result<axum::Json<serde_json::Value>, $crate::error::ApiError> {
            set_blocked(db, body, $blocked).await
        }
    };
}

pub(crate) use block_handlers;
