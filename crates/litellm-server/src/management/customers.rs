//! End-user ("customer") management with LiteLLM's bodies: `/customer/new`, `GET
//! /customer/info?end_user_id=`, `/customer/update`, `/customer/delete`, `/customer/block`,
//! `/customer/unblock`, `GET /customer/list`. All need the master key. Budget fields on
//! `/customer/new|update` (`max_budget`, `rpm_limit`, `tpm_limit`, `max_parallel_requests`,
//! `budget_duration`, ...) without a `budget_id` create or update the end user's own budget.

use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use litellm_auth::{BudgetRecord, CustomerPatch, EndUserRecord};

use super::extract::{param, Admin, PatchBody, QueryParams};
use super::respond::{not_found, patch_error, store_error};
use crate::auth::KeyDb;
use crate::body::JsonBody;
use crate::error::ApiError;

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
    Admin { db, .. }: Admin,
    PatchBody(patch): PatchBody<CustomerPatch>,
) -> Result<Json<Value>, ApiError> {
    let id = required_user_id(patch.user_id.clone().filter(|u| !u.trim().is_empty()))?;
    let now = Utc::now();
    if db.store.end_user(&id).await.map_err(store_error)?.is_some() {
        return Err(ApiError::bad_request(
            Some("user_id"),
            format!("Customer already exists: user_id={id}"),
        ));
    }
    save(&db, &patch, EndUserRecord::new(id, now), now, true).await
}

/// The `user_id` of a `/customer/new|update` body, which is required.
fn required_user_id(id: Option<String>) -> Result<String, ApiError> {
    id.ok_or_else(|| ApiError::bad_request(Some("user_id"), "user_id is a required parameter"))
}

/// Applies `patch` (with its budget fields) to `e` and stores it (`insert`: as a new end user);
/// then writes the `spend` the patch sets (after the record), drops the cached end user and
/// answers the record.
async fn save(
    db: &KeyDb,
    patch: &CustomerPatch,
    mut e: EndUserRecord,
    now: chrono::DateTime<Utc>,
    insert: bool,
) -> Result<Json<Value>, ApiError> {
    patch.apply(&mut e, now).map_err(patch_error)?;
    apply_budget(db, patch, &mut e).await?;
    if insert {
        db.store.insert_end_user(&e).await
    } else {
        db.store.update_end_user(&e).await.map(drop)
    }
    .map_err(store_error)?;
    if let Some(s) = patch.spend {
        db.store
            .set_end_user_spend(&e.user_id, s)
            .await
            .map_err(store_error)?;
        e.spend = s;
    }
    db.cache.invalidate_end_user(&e.user_id);
    render(db, &e).await.map(Json)
}

/// One end user (`?end_user_id=`).
#[utoipa::path(get, path = "/customer/info", tag = "customers",
    params(("end_user_id" = String, Query, description = "The end user")),
    responses((status = 200, description = "The end user, with litellm_budget_table"), (status = 400, description = "No such end user")),
    security(("bearer" = [])))]
pub async fn info(
    Admin { db, .. }: Admin,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let id = param(&p, "end_user_id").ok_or_else(|| {
        ApiError::bad_request(Some("end_user_id"), "end_user_id is a required parameter")
    })?;
    let e = load(&db, id).await?;
    render(&db, &e).await.map(Json)
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

/// Change an end user (LiteLLM's `UpdateCustomerRequest`); `null` clears a field.
#[utoipa::path(post, path = "/customer/update", tag = "customers",
    request_body(content = Object, description = "user_id plus any /customer/new field, and spend"),
    responses((status = 200, description = "The end user"), (status = 400, description = "No such end user or invalid field")),
    security(("bearer" = [])))]
pub async fn update(
    Admin { db, .. }: Admin,
    PatchBody(patch): PatchBody<CustomerPatch>,
) -> Result<Json<Value>, ApiError> {
    let id = required_user_id(patch.user_id.clone())?;
    let e = load(&db, &id).await?;
    save(&db, &patch, e, Utc::now(), false).await
}

/// The body of `/customer/delete`, `/customer/block` and `/customer/unblock`.
#[derive(serde::Deserialize)]
pub struct Ids {
    user_ids: Vec<String>,
}

/// The named end users (at least one).
fn ids(ids: Ids) -> Result<Vec<String>, ApiError> {
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
    Admin { db, .. }: Admin,
    JsonBody(body): JsonBody<Ids>,
) -> Result<Json<Value>, ApiError> {
    let ids = ids(body)?;
    let deleted = db.store.delete_end_users(&ids).await.map_err(store_error)?;
    for id in &ids {
        db.cache.invalidate_end_user(id);
    }
    if deleted.is_empty() {
        return Err(not_found(
            "user_ids",
            format!("End users not found: {ids:?}"),
        ));
    }
    Ok(Json(json!({"deleted_customers": deleted})))
}

async fn set_blocked(db: KeyDb, body: Ids, blocked: bool) -> Result<Json<Value>, ApiError> {
    let ids = ids(body)?;
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
    Ok(Json(json!({"blocked_users": ids})))
}

super::respond::block_handlers! {
    tag = "customers",
    body = Ids,
    request = "{\"user_ids\": [...]}",
    responses = ((status = 200, description = "{\"blocked_users\": [ids]}")),
    /// Block end users: their requests are refused (400) until unblocked.
    block = "/customer/block",
    /// Unblock end users.
    unblock = "/customer/unblock",
}

/// Every end user, newest first.
#[utoipa::path(get, path = "/customer/list", tag = "customers",
    responses((status = 200, description = "[end user, ...]")),
    security(("bearer" = [])))]
pub async fn list(Admin { db, .. }: Admin) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for e in db.store.list_end_users().await.map_err(store_error)? {
        out.push(render(&db, &e).await?);
    }
    Ok(Json(Value::Array(out)))
}
