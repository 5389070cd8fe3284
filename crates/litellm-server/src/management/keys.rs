//! Virtual-key management, with LiteLLM's request and response bodies: `/key/generate`,
//! `/key/update`, `/key/delete`, `GET /key/info`, `GET /key/list`, `/key/regenerate`
//! (and `/key/{key}/regenerate`), `/key/block`, `/key/unblock`. All need the master key, except
//! `/key/info` on the caller's own key. Every change invalidates the key in this replica's
//! cache; other replicas see it within the cache TTL.

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use litellm_auth::{
    abbreviate_key, generate_key, hash_token, KeyColumn, KeyFilter, KeyPatch, KeyRecord, Page,
    SpendOf,
};

use super::extract::{paging, param, Admin, QueryParams, SignedIn};
use super::respond::{
    not_found, pages, patch_error, required, store_error, to_json, token_of, write_queued_spend,
};
use crate::auth::KeyDb;
use crate::body::{JsonBody, OptionalJsonBody};
use crate::error::ApiError;
use crate::state::AppState;

/// A key's JSON as LiteLLM returns it from generate/regenerate: the record plus the key
/// itself (shown this once) and `token_id` (its hash).
fn with_new_key(rec: &KeyRecord, key: &str) -> Value {
    let mut v = to_json(rec);
    if let Some(o) = v.as_object_mut() {
        o.insert("key".into(), json!(key));
        o.insert("token_id".into(), json!(rec.token));
    }
    v
}

/// Checks a key's `team_id` names a stored team.
async fn check_team(db: &KeyDb, rec: &KeyRecord) -> Result<(), ApiError> {
    let Some(team_id) = &rec.team_id else {
        return Ok(());
    };
    match db.store.team(team_id).await.map_err(store_error)? {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_request(
            Some("team_id"),
            format!("Team not found: team_id={team_id}. Create it with /team/new first."),
        )),
    }
}

async fn load(db: &KeyDb, token: &str, shown: &str) -> Result<KeyRecord, ApiError> {
    db.store
        .key(token)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found("key", format!("Key not found: {shown}")))
}

/// Writes a changed key (and `spend`, when set) and forgets the cached copy.
async fn save(
    db: &KeyDb,
    old_token: &str,
    rec: &KeyRecord,
    spend: Option<f64>,
) -> Result<(), ApiError> {
    let found = db
        .store
        .update_key(old_token, rec)
        .await
        .map_err(store_error)?;
    if !found {
        return Err(not_found("key", "Key not found"));
    }
    if let Some(s) = spend {
        db.store
            .set_spend(SpendOf::Key(&rec.token, s))
            .await
            .map_err(store_error)?;
    }
    db.cache.invalidate_key(old_token);
    db.cache.invalidate_key(&rec.token);
    Ok(())
}

/// Create a virtual key (LiteLLM's `GenerateKeyRequest`; the key is returned once).
#[utoipa::path(post, path = "/key/generate", tag = "keys",
    request_body(content = Object, description = "LiteLLM's GenerateKeyRequest: key_alias, duration, models, aliases, metadata, tags, max_budget, soft_budget, budget_duration, rpm_limit, tpm_limit, max_parallel_requests, user_id, team_id, blocked, allowed_routes, key (custom value)"),
    responses(
        (status = 200, description = "The new key (`key`, shown only now), its hash (`token_id`) and its fields"),
        (status = 400, description = "Invalid field, taken alias or unknown team"),
        (status = 401, description = "Missing or invalid key"),
        (status = 403, description = "Not the master key"),
    ),
    security(("bearer" = [])))]
pub async fn generate(
    Admin { db, .. }: Admin,
    JsonBody(patch): JsonBody<KeyPatch>,
) -> Result<Json<Value>, ApiError> {
    let key = match &patch.key {
        Some(k) if !k.starts_with("sk-") => {
            return Err(ApiError::bad_request(
                Some("key"),
                "Invalid key format: a LiteLLM virtual key must start with 'sk-'",
            ))
        }
        Some(k) => k.clone(),
        None => generate_key(),
    };
    let now = Utc::now();
    let mut rec = KeyRecord::new(hash_token(&key), abbreviate_key(&key), now);
    patch.apply(&mut rec, now).map_err(patch_error)?;
    rec.spend = patch.limits.spend.unwrap_or(0.0);
    check_team(&db, &rec).await?;
    db.store.insert_key(&rec).await.map_err(|e| match e {
        litellm_auth::AuthError::Conflict(_) => ApiError::bad_request(
            Some("key_alias"),
            format!(
                "Unique key aliases across all keys are required. Key alias={} already exists \
                 (or the custom key is already in use).",
                rec.key_alias.as_deref().unwrap_or("")
            ),
        ),
        other => store_error(other),
    })?;
    db.cache.invalidate_key(&rec.token);
    Ok(Json(with_new_key(&rec, &key)))
}

/// Change a key's fields (LiteLLM's `UpdateKeyRequest`; `key` names the key or its hash).
#[utoipa::path(post, path = "/key/update", tag = "keys",
    request_body(content = Object, description = "LiteLLM's UpdateKeyRequest: key plus any /key/generate field, and spend; null clears a field"),
    responses(
        (status = 200, description = "The key's fields after the update"),
        (status = 400, description = "Invalid field"),
        (status = 404, description = "No such key"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Admin { db, .. }: Admin,
    JsonBody(patch): JsonBody<KeyPatch>,
) -> Result<Json<Value>, ApiError> {
    let shown = required(&patch.key, "key")?;
    let token = token_of(shown);
    let mut rec = load(&db, &token, &litellm_auth::abbreviate_key(shown)).await?;
    patch.apply(&mut rec, Utc::now()).map_err(patch_error)?;
    check_team(&db, &rec).await?;
    if patch.limits.spend.is_some() {
        write_queued_spend(&state).await;
    }
    save(&db, &token, &rec, patch.limits.spend).await?;
    let rec = load(&db, &token, shown).await?;
    let mut v = to_json(&rec);
    if let Some(o) = v.as_object_mut() {
        o.insert("key".into(), json!(shown));
    }
    Ok(Json(v))
}

/// The body of `/key/delete`.
#[derive(Debug, Deserialize)]
pub struct DeleteBody {
    #[serde(default)]
    keys: Option<Vec<String>>,
    #[serde(default)]
    key_aliases: Option<Vec<String>>,
}

/// Delete keys by `keys` (keys or hashes) or by `key_aliases`.
#[utoipa::path(post, path = "/key/delete", tag = "keys",
    request_body(content = Object, description = "{\"keys\": [...]} or {\"key_aliases\": [...]}"),
    responses(
        (status = 200, description = "{\"deleted_keys\": [...]}: what was asked for"),
        (status = 400, description = "Neither keys nor key_aliases given"),
        (status = 404, description = "None of the keys exist"),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<DeleteBody>,
) -> Result<Json<Value>, ApiError> {
    let (asked, tokens) =
        match (req.keys, req.key_aliases) {
            (Some(keys), _) if !keys.is_empty() => {
                let tokens = keys.iter().map(|k| token_of(k)).collect::<Vec<_>>();
                (keys, tokens)
            }
            (_, Some(aliases)) if !aliases.is_empty() => {
                let found = db
                    .store
                    .keys_where(KeyColumn::KeyAlias, &aliases)
                    .await
                    .map_err(store_error)?;
                (aliases, found.into_iter().map(|k| k.token).collect())
            }
            _ => return Err(ApiError::bad_request(
                Some("keys"),
                "Pass the keys to delete as \"keys\" (keys or their hashes) or \"key_aliases\".",
            )),
        };
    let deleted = db.store.delete_keys(&tokens).await.map_err(store_error)?;
    for t in &tokens {
        db.cache.invalidate_key(t);
    }
    if deleted.is_empty() {
        return Err(not_found("keys", "No keys found to delete"));
    }
    Ok(Json(json!({ "deleted_keys": asked })))
}

/// A key's fields (without its hash). With no `key`, the caller's own key.
#[utoipa::path(get, path = "/key/info", tag = "keys",
    params(("key" = Option<String>, Query, description = "The key (or its hash); default: the caller's key")),
    responses(
        (status = 200, description = "{\"key\": ..., \"info\": {...}}"),
        (status = 403, description = "Another key's info without the master key"),
        (status = 404, description = "No such key"),
    ),
    security(("bearer" = [])))]
pub async fn info(
    QueryParams(p): QueryParams,
    SignedIn(caller): SignedIn,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let asked = param(&p, "key").map(str::to_string);
    let token = asked
        .as_deref()
        .map(token_of)
        .unwrap_or(caller.key_hash.clone());
    if !caller.is_admin && token != caller.key_hash {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "auth_error",
            "You are not allowed to access this key's info: only your own key, or any key with \
             the master key.",
        ));
    }
    let db = state
        .auth
        .key_db()
        .ok_or_else(|| not_found("key", "Key not found: no database is connected"))?;
    let rec = load(db, &token, "the requested key").await?;
    let mut info = to_json(&rec);
    if let Some(o) = info.as_object_mut() {
        o.remove("token");
    }
    Ok(Json(
        json!({ "key": asked.unwrap_or(rec.token), "info": info }),
    ))
}

/// Keys page by page (newest first), as hashes or, with `return_full_object`, records.
#[utoipa::path(get, path = "/key/list", tag = "keys",
    params(
        ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
        ("size" = Option<u64>, Query, description = "Keys per page, 1 to 100 (default 10)"),
        ("user_id" = Option<String>, Query, description = "Only this user's keys"),
        ("team_id" = Option<String>, Query, description = "Only this team's keys"),
        ("key_alias" = Option<String>, Query, description = "Only the key with this alias"),
        ("return_full_object" = Option<bool>, Query, description = "Return key records instead of hashes"),
    ),
    responses((status = 200, description = "{\"keys\", \"total_count\", \"current_page\", \"total_pages\"}")),
    security(("bearer" = [])))]
pub async fn list(
    Admin { db, .. }: Admin,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let (page, size) = paging(&p, "size", 10, 100)?;
    let full = param(&p, "return_full_object").is_some_and(|v| v == "true" || v == "1");
    let filter = KeyFilter {
        user_id: param(&p, "user_id").map(str::to_string),
        team_id: param(&p, "team_id").map(str::to_string),
        key_alias: param(&p, "key_alias").map(str::to_string),
    };
    let (keys, total) = db
        .store
        .list_keys(&filter, Page { page, size })
        .await
        .map_err(store_error)?;
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| if full { to_json(k) } else { json!(k.token) })
        .collect();
    Ok(Json(json!({
        "keys": keys,
        "total_count": total,
        "current_page": page,
        "total_pages": pages(total, size),
    })))
}

/// Replace a key with a new one, keeping its fields and spend (`/key/regenerate` takes the key
/// in the body).
#[utoipa::path(post, path = "/key/regenerate", tag = "keys",
    request_body(content = Object, description = "key (the old key or its hash), optional new_key, and any /key/update field"),
    responses(
        (status = 200, description = "The new key (`key`), its hash (`token_id`) and its fields"),
        (status = 404, description = "No such key"),
    ),
    security(("bearer" = [])))]
pub async fn regenerate(
    admin: Admin,
    OptionalJsonBody(raw): OptionalJsonBody,
) -> Result<Json<Value>, ApiError> {
    replace_key(admin.db, None, raw).await.map(Json)
}

/// `/key/{key}/regenerate`: the key to replace in the path.
#[utoipa::path(post, path = "/key/{key}/regenerate", tag = "keys",
    params(("key" = String, Path, description = "The key to replace, or its hash")),
    request_body(content = Option<Object>, description = "Optional new_key and any /key/update field"),
    responses(
        (status = 200, description = "The new key (`key`), its hash (`token_id`) and its fields"),
        (status = 404, description = "No such key"),
    ),
    security(("bearer" = [])))]
pub async fn regenerate_path(
    Path(key): Path<String>,
    admin: Admin,
    OptionalJsonBody(raw): OptionalJsonBody,
) -> Result<Json<Value>, ApiError> {
    replace_key(admin.db, Some(key), raw).await.map(Json)
}

/// Replaces the key named in the path (or else in the body) with `new_key` or a fresh one.
async fn replace_key(db: KeyDb, path_key: Option<String>, raw: Value) -> Result<Value, ApiError> {
    let patch: KeyPatch = serde_json::from_value(raw.clone())
        .map_err(|e| ApiError::bad_request(None, format!("Invalid request body: {e}")))?;
    let new_key = match raw.get("new_key") {
        None | Some(Value::Null) => generate_key(),
        Some(Value::String(k)) if k.starts_with("sk-") => k.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("new_key"),
                "new_key must be a string starting with 'sk-'",
            ))
        }
    };
    let old = match &path_key {
        Some(k) => k.clone(),
        None => required(&patch.key, "key")?.to_string(),
    };
    let old_token = token_of(&old);
    let mut rec = load(&db, &old_token, &abbreviate_key(&old)).await?;
    patch.apply(&mut rec, Utc::now()).map_err(patch_error)?;
    rec.token = hash_token(&new_key);
    rec.key_name = abbreviate_key(&new_key);
    check_team(&db, &rec).await?;
    save(&db, &old_token, &rec, patch.limits.spend).await?;
    let rec = load(&db, &rec.token, "the regenerated key").await?;
    Ok(with_new_key(&rec, &new_key))
}

/// The body of `/key/block` and `/key/unblock`.
#[derive(Debug, Deserialize)]
pub struct KeyBody {
    #[serde(default)]
    key: Option<String>,
}

async fn set_blocked(db: KeyDb, req: KeyBody, blocked: bool) -> Result<Json<Value>, ApiError> {
    let shown = required(&req.key, "key")?;
    let token = token_of(shown);
    let mut rec = load(&db, &token, &abbreviate_key(shown)).await?;
    rec.blocked = blocked;
    rec.updated_at = Utc::now();
    save(&db, &token, &rec, None).await?;
    Ok(Json(to_json(&load(&db, &token, shown).await?)))
}

super::respond::block_handlers! {
    tag = "keys",
    body = KeyBody,
    request = "{\"key\": \"sk-...\"} (or its hash)",
    responses = ((status = 200, description = "The key's fields"), (status = 404, description = "No such key")),
    /// Block a key: every request with it is refused until `/key/unblock`.
    block = "/key/block",
    /// Unblock a key.
    unblock = "/key/unblock",
}
