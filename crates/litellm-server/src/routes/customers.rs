//! End-user ("customer") management with LiteLLM's bodies: `/customer/new`, `GET
//! /customer/info?end_user_id=`, `/customer/update`, `/customer/delete`, `/customer/block`,
//! `/customer/unblock`, `GET /customer/list`. All need the master key. Budget fields on
//! `/customer/new|update` (`max_budget`, `rpm_limit`, `tpm_limit`, `max_parallel_requests`,
//! `budget_duration`, ...) without a `budget_id` create or update the end user's own budget.

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use chrono::Utc;
use serde_json::{json, Value};

use litellm_auth::{BudgetRecord, CustomerPatch, EndUserRecord};

use super::manage::{admin, body, param, params, patch_error, respond, store_error, Params};
use crate::auth::KeyDb;
use crate::error::ApiError;
use crate::state::AppState;

/// An end user as LiteLLM returns it, with its budget under `litellm_budget_table`.
async fn render(db: &KeyDb, e: &EndUserRecord) -> Result<Value, ApiError> {
    let budget = match &e.budget_id {
        Some(id) => db.store.budget(id).await.map_err(store_error)?,
        None => None,
    };
    Ok(json!({
        "user_id": e.user_id,
        "alias": e.alias,
        "spend": e.spend,
        "allowed_model_region": e.allowed_model_region,
        "default_model": e.default_model,
        "budget_id": e.budget_id,
        "blocked": e.blocked,
        "litellm_budget_table": budget,
    }))
}

fn parse(raw: Value) -> Result<CustomerPatch, ApiError> {
    serde_json::from_value(raw)
        .map_err(|e| ApiError::bad_request(None, format!("Invalid request body: {e}")))
}

/// Applies a patch's budget fields: to the named `budget_id` (which must exist) or to the end
/// user's own budget (`budget-<user_id>`), created when missing.
async fn apply_budget(
    db: &KeyDb,
    patch: &CustomerPatch,
    e: &mut EndUserRecord,
) -> Result<(), ApiError> {
    let now = Utc::now();
    if let Some(Some(id)) = &patch.budget_id {
        if db.store.budget(id).await.map_err(store_error)?.is_none() {
            return Err(ApiError::bad_request(
                Some("budget_id"),
                format!("Budget not found: budget_id={id}"),
            ));
        }
    }
    if patch.budget.is_empty() {
        return Ok(());
    }
    let id = e
        .budget_id
        .clone()
        .unwrap_or_else(|| format!("budget-{}", e.user_id));
    let existing = db.store.budget(&id).await.map_err(store_error)?;
    let mut b = existing
        .clone()
        .unwrap_or_else(|| BudgetRecord::new(id.clone(), now));
    patch.budget.apply(&mut b, now).map_err(patch_error)?;
    if existing.is_some() {
        db.store.update_budget(&b).await.map_err(store_error)?;
    } else {
        db.store.insert_budget(&b).await.map_err(store_error)?;
    }
    db.cache.invalidate_budget(&id);
    e.budget_id = Some(id);
    Ok(())
}

/// Create an end user (LiteLLM's `NewCustomerRequest`).
#[utoipa::path(post, path = "/customer/new", tag = "customers",
    request_body(content = Object, description = "user_id (required), alias, blocked, budget_id, allowed_model_region (eu|us), default_model, and budget fields: max_budget, soft_budget, rpm_limit, tpm_limit, max_parallel_requests, budget_duration, model_max_budget"),
    responses((status = 200, description = "The end user, with litellm_budget_table"), (status = 400, description = "Invalid field, unknown budget_id or taken user_id")),
    security(("bearer" = [])))]
pub async fn new(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    respond(new_inner(state, headers, b).await)
}

async fn new_inner(
    state: AppState,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let patch = parse(body(b)?)?;
    let id = patch
        .user_id
        .clone()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request(Some("user_id"), "user_id is a required parameter"))?;
    let now = Utc::now();
    if db.store.end_user(&id).await.map_err(store_error)?.is_some() {
        return Err(ApiError::bad_request(
            Some("user_id"),
            format!("Customer already exists: user_id={id}"),
        ));
    }
    let mut e = EndUserRecord::new(id.clone(), now);
    patch.apply(&mut e, now).map_err(patch_error)?;
    apply_budget(&db, &patch, &mut e).await?;
    db.store.insert_end_user(&e).await.map_err(store_error)?;
    if let Some(s) = patch.spend {
        db.store
            .set_end_user_spend(&id, s)
            .await
            .map_err(store_error)?;
        e.spend = s;
    }
    db.cache.invalidate_end_user(&id);
    render(&db, &e).await
}

/// One end user (`?end_user_id=`).
#[utoipa::path(get, path = "/customer/info", tag = "customers",
    params(("end_user_id" = String, Query, description = "The end user")),
    responses((status = 200, description = "The end user, with litellm_budget_table"), (status = 400, description = "No such end user")),
    security(("bearer" = [])))]
pub async fn info(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(info_inner(state, headers, q).await)
}

async fn load(db: &KeyDb, id: &str) -> Result<EndUserRecord, ApiError> {
    db.store
        .end_user(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            ApiError::bad_request(
                Some("end_user_id"),
                format!("End User Id={id} does not exist in db"),
            )
        })
}

async fn info_inner(
    state: AppState,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let p = params(q)?;
    let id = param(&p, "end_user_id").ok_or_else(|| {
        ApiError::bad_request(Some("end_user_id"), "end_user_id is a required parameter")
    })?;
    let e = load(&db, id).await?;
    render(&db, &e).await
}

/// Change an end user (LiteLLM's `UpdateCustomerRequest`); `null` clears a field.
#[utoipa::path(post, path = "/customer/update", tag = "customers",
    request_body(content = Object, description = "user_id plus any /customer/new field, and spend"),
    responses((status = 200, description = "The end user"), (status = 400, description = "No such end user or invalid field")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    respond(update_inner(state, headers, b).await)
}

async fn update_inner(
    state: AppState,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let patch = parse(body(b)?)?;
    let id = patch
        .user_id
        .clone()
        .ok_or_else(|| ApiError::bad_request(Some("user_id"), "user_id is a required parameter"))?;
    let mut e = load(&db, &id).await?;
    let now = Utc::now();
    patch.apply(&mut e, now).map_err(patch_error)?;
    apply_budget(&db, &patch, &mut e).await?;
    db.store.update_end_user(&e).await.map_err(store_error)?;
    if let Some(s) = patch.spend {
        db.store
            .set_end_user_spend(&id, s)
            .await
            .map_err(store_error)?;
        e.spend = s;
    }
    db.cache.invalidate_end_user(&id);
    render(&db, &e).await
}

#[derive(serde::Deserialize)]
struct Ids {
    user_ids: Vec<String>,
}

fn ids(b: Result<Bytes, BytesRejection>) -> Result<Vec<String>, ApiError> {
    let ids: Ids = body(b)?;
    if ids.user_ids.is_empty() {
        return Err(ApiError::bad_request(
            Some("user_ids"),
            "user_ids must name at least one end user",
        ));
    }
    Ok(ids.user_ids)
}

/// Delete end users (`{"user_ids": [...]}`).
#[utoipa::path(post, path = "/customer/delete", tag = "customers",
    request_body(content = Object, description = "{\"user_ids\": [...]}"),
    responses((status = 200, description = "{\"deleted_customers\": [ids]}"), (status = 404, description = "None of them exist")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    respond(delete_inner(state, headers, b).await)
}

async fn delete_inner(
    state: AppState,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let ids = ids(b)?;
    let deleted = db.store.delete_end_users(&ids).await.map_err(store_error)?;
    for id in &ids {
        db.cache.invalidate_end_user(id);
    }
    if deleted.is_empty() {
        return Err(super::manage::not_found(
            "user_ids",
            format!("End users not found: {ids:?}"),
        ));
    }
    Ok(json!({"deleted_customers": deleted}))
}

async fn set_blocked(
    state: AppState,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
    blocked: bool,
) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let ids = ids(b)?;
    let now = Utc::now();
    for id in &ids {
        // LiteLLM's block upserts: an unknown end user is created blocked.
        match db.store.end_user(id).await.map_err(store_error)? {
            Some(mut e) => {
                e.blocked = blocked;
                e.updated_at = now;
                db.store.update_end_user(&e).await.map_err(store_error)?;
            }
            None => {
                let mut e = EndUserRecord::new(id.clone(), now);
                e.blocked = blocked;
                match db.store.insert_end_user(&e).await {
                    Ok(()) | Err(litellm_auth::AuthError::Conflict(_)) => {}
                    Err(err) => return Err(store_error(err)),
                }
            }
        }
        db.cache.invalidate_end_user(id);
    }
    Ok(json!({"blocked_users": ids}))
}

/// Block end users: their requests are refused (400) until unblocked.
#[utoipa::path(post, path = "/customer/block", tag = "customers",
    request_body(content = Object, description = "{\"user_ids\": [...]}"),
    responses((status = 200, description = "{\"blocked_users\": [ids]}")),
    security(("bearer" = [])))]
pub async fn block(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    respond(set_blocked(state, headers, b, true).await)
}

/// Unblock end users.
#[utoipa::path(post, path = "/customer/unblock", tag = "customers",
    request_body(content = Object, description = "{\"user_ids\": [...]}"),
    responses((status = 200, description = "{\"blocked_users\": [ids]}")),
    security(("bearer" = [])))]
pub async fn unblock(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    respond(set_blocked(state, headers, b, false).await)
}

/// Every end user, newest first.
#[utoipa::path(get, path = "/customer/list", tag = "customers",
    responses((status = 200, description = "[end user, ...]")),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(list_inner(state, headers).await)
}

async fn list_inner(state: AppState, headers: HeaderMap) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let mut out = Vec::new();
    for e in db.store.list_end_users().await.map_err(store_error)? {
        out.push(render(&db, &e).await?);
    }
    Ok(Value::Array(out))
}
