//! Internal-user management, with LiteLLM's request and response bodies: `/user/new`,
//! `GET /user/info`, `/user/update`, `/user/delete`, `GET /user/list`. All need the master key.
//! `/user/new` also creates a key for the user unless `auto_create_key` is false, as LiteLLM
//! does.

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use litellm_auth::{
    abbreviate_key, generate_key, hash_token, KeyColumn, KeyRecord, Page, SpendOf, TeamMember,
    UserPatch, UserRecord,
};

use super::extract::{paging, param, Admin, QueryParams};
use super::respond::{
    delete_owners, merged, not_found, pages, patch_error, store_error, to_json, write_queued_spend,
    KeyOwner,
};
use crate::auth::KeyDb;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;

async fn load_user(db: &KeyDb, user_id: &str) -> Result<UserRecord, ApiError> {
    db.store
        .user(user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found("user_id", format!("User not found: user_id={user_id}")))
}

/// Create a user (LiteLLM's `NewUserRequest`); with `auto_create_key` (default true) also a
/// key for them, returned once as `key`.
#[utoipa::path(post, path = "/user/new", tag = "users",
    request_body(content = Object, description = "LiteLLM's NewUserRequest: user_id (default: a UUID), user_email, user_alias, user_role, teams, models, max_budget, budget_duration, tpm_limit, rpm_limit, metadata, auto_create_key, key_alias, duration"),
    responses((status = 200, description = "The user, and the new key (`key`, `token_id`) unless auto_create_key is false"), (status = 400, description = "Invalid field, taken user_id or unknown team")),
    security(("bearer" = [])))]
pub async fn new(
    Admin { db, .. }: Admin,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let patch: UserPatch = serde_json::from_value(raw.clone())
        .map_err(|e| ApiError::bad_request(None, format!("Invalid request body: {e}")))?;
    let now = Utc::now();
    let id = patch
        .user_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut user = UserRecord::new(id, now);
    patch.apply(&mut user, now).map_err(patch_error)?;
    user.spend = patch.limits.spend.unwrap_or(0.0);
    let teams = std::mem::take(&mut user.teams);
    for t in &teams {
        super::teams::load_team(&db, t).await?;
    }
    db.store.insert_user(&user).await.map_err(|e| match e {
        litellm_auth::AuthError::Conflict(_) => ApiError::bad_request(
            Some("user_id"),
            format!("User with id={} already exists", user.user_id),
        ),
        other => store_error(other),
    })?;
    db.cache.invalidate_user(&user.user_id);
    for t in &teams {
        let member = TeamMember {
            role: "user".into(),
            user_id: Some(user.user_id.clone()),
            user_email: None,
        };
        super::teams::add_members(&db, t, vec![member]).await?;
    }
    let user = load_user(&db, &user.user_id).await?;
    let mut out = to_json(&user);
    if raw.get("auto_create_key").and_then(Value::as_bool) != Some(false) {
        let key = generate_key();
        let mut rec = KeyRecord::new(hash_token(&key), abbreviate_key(&key), now);
        rec.user_id = Some(user.user_id.clone());
        rec.models = user.models.clone();
        rec.key_alias = raw
            .get("key_alias")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(d) = raw.get("duration").and_then(Value::as_str) {
            rec.expires = Some(
                litellm_auth::deadline_after(d, now)
                    .map_err(|m| ApiError::bad_request(Some("duration"), m))?,
            );
        }
        db.store.insert_key(&rec).await.map_err(store_error)?;
        db.cache.invalidate_key(&rec.token);
        out = merged(
            out,
            json!({"key": key, "token_id": rec.token, "key_name": rec.key_name, "expires": rec.expires, "key_alias": rec.key_alias}),
        );
    }
    Ok(Json(out))
}

/// A user, their keys and their teams.
#[utoipa::path(get, path = "/user/info", tag = "users",
    params(("user_id" = String, Query, description = "The user")),
    responses((status = 200, description = "{\"user_id\", \"user_info\", \"keys\", \"teams\"}"), (status = 404, description = "No such user")),
    security(("bearer" = [])))]
pub async fn info(
    Admin { db, .. }: Admin,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let user_id = param(&p, "user_id")
        .ok_or_else(|| ApiError::bad_request(Some("user_id"), "user_id is a required parameter"))?;
    let user = load_user(&db, user_id).await?;
    let keys = db
        .store
        .keys_where(KeyColumn::UserId, &[user_id.to_string()])
        .await
        .map_err(store_error)?;
    let mut teams = Vec::new();
    for t in &user.teams {
        if let Some(team) = db.store.team(t).await.map_err(store_error)? {
            teams.push(to_json(&team));
        }
    }
    Ok(Json(json!({
        "user_id": user.user_id,
        "user_info": to_json(&user),
        "keys": keys.iter().map(to_json).collect::<Vec<_>>(),
        "teams": teams,
    })))
}

/// Change a user (LiteLLM's `UpdateUserRequest`; `user_id`, or `user_email`, names them).
#[utoipa::path(post, path = "/user/update", tag = "users",
    request_body(content = Object, description = "user_id (or user_email) plus any /user/new field, and spend; null clears a field"),
    responses((status = 200, description = "{\"user_id\", \"data\": user}"), (status = 404, description = "No such user")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin { db, .. }: Admin,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<Value>, ApiError> {
    let user_id = match (&patch.user_id, &patch.user_email) {
        (Some(id), _) if !id.is_empty() => id.clone(),
        (_, Some(Some(email))) => db
            .store
            .users_by_email(email)
            .await
            .map_err(store_error)?
            .into_iter()
            .next()
            .map(|u| u.user_id)
            .ok_or_else(|| {
                not_found("user_email", format!("User not found: user_email={email}"))
            })?,
        _ => {
            return Err(ApiError::bad_request(
                Some("user_id"),
                "user_id (or user_email) is a required parameter",
            ))
        }
    };
    let mut user = load_user(&db, &user_id).await?;
    patch.apply(&mut user, Utc::now()).map_err(patch_error)?;
    db.store.update_user(&user).await.map_err(store_error)?;
    if let Some(s) = patch.limits.spend {
        write_queued_spend(&state).await;
        db.store
            .set_spend(SpendOf::User(&user_id, s))
            .await
            .map_err(store_error)?;
    }
    db.cache.invalidate_user(&user_id);
    let user = load_user(&db, &user_id).await?;
    Ok(Json(
        json!({ "user_id": user.user_id, "data": to_json(&user) }),
    ))
}

/// The body of `/user/delete`.
#[derive(Debug, Deserialize)]
pub struct UserIds {
    #[serde(default)]
    user_ids: Vec<String>,
}

/// Delete users and their keys.
#[utoipa::path(post, path = "/user/delete", tag = "users",
    request_body(content = Object, description = "{\"user_ids\": [...]}"),
    responses((status = 200, description = "{\"deleted_users\": [...]}"), (status = 404, description = "None of the users exist")),
    security(("bearer" = [])))]
pub async fn delete(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<UserIds>,
) -> Result<Json<Value>, ApiError> {
    delete_owners(&db, KeyOwner::User, &req.user_ids).await
}

/// Users page by page (newest first).
#[utoipa::path(get, path = "/user/list", tag = "users",
    params(
        ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
        ("page_size" = Option<u64>, Query, description = "Users per page, 1 to 100 (default 25)"),
        ("role" = Option<String>, Query, description = "Only users with this user_role"),
    ),
    responses((status = 200, description = "{\"users\", \"total\", \"page\", \"page_size\", \"total_pages\"}")),
    security(("bearer" = [])))]
pub async fn list(
    Admin { db, .. }: Admin,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let (page, size) = paging(&p, "page_size", 25, 100)?;
    let (users, total) = db
        .store
        .list_users(param(&p, "role"), Page { page, size })
        .await
        .map_err(store_error)?;
    Ok(Json(json!({
        "users": users.iter().map(to_json).collect::<Vec<_>>(),
        "total": total,
        "page": page,
        "page_size": size,
        "total_pages": pages(total, size),
    })))
}
