//! Budget objects (LiteLLM's `LiteLLM_BudgetTable`) with LiteLLM's bodies: `/budget/new`,
//! `/budget/info` (`{"budgets": [ids]}`), `/budget/update`, `/budget/delete` (`{"id": ...}`),
//! `GET /budget/list`. End users reference them by `budget_id`. All need the master key.

use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use litellm_auth::{BudgetPatch, BudgetRecord};

use super::extract::{Admin, PatchBody};
use super::respond::{not_found, patch_error, store_error, to_json};
use crate::body::JsonBody;
use crate::error::ApiError;

/// The body of `/budget/new` and `/budget/update`.
#[derive(serde::Deserialize)]
pub struct BudgetBody {
    #[serde(default)]
    budget_id: Option<String>,
    #[serde(flatten)]
    patch: BudgetPatch,
}

/// Create a budget (LiteLLM's `BudgetNewRequest`; `budget_id` defaults to a UUID).
#[utoipa::path(post, path = "/budget/new", tag = "budgets",
    request_body(content = Object, description = "budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, budget_duration, model_max_budget"),
    responses((status = 200, description = "The budget"), (status = 400, description = "Invalid field or taken budget_id")),
    security(("bearer" = [])))]
pub async fn new(
    Admin { db, .. }: Admin,
    PatchBody(body): PatchBody<BudgetBody>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    let id = body
        .budget_id
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut rec = BudgetRecord::new(id.clone(), now);
    body.patch.apply(&mut rec, now).map_err(patch_error)?;
    db.store.insert_budget(&rec).await.map_err(|e| match e {
        litellm_auth::AuthError::Conflict(_) => ApiError::bad_request(
            Some("budget_id"),
            format!("Budget already exists: budget_id={id}"),
        ),
        other => store_error(other),
    })?;
    db.cache.invalidate_budget(&id);
    Ok(Json(to_json(&rec)))
}

/// Change a budget; `null` clears a field. End users using it see it at once on this replica.
#[utoipa::path(post, path = "/budget/update", tag = "budgets",
    request_body(content = Object, description = "budget_id plus any /budget/new field"),
    responses((status = 200, description = "The budget"), (status = 404, description = "No such budget")),
    security(("bearer" = [])))]
pub async fn update(
    Admin { db, .. }: Admin,
    PatchBody(body): PatchBody<BudgetBody>,
) -> Result<Json<Value>, ApiError> {
    let id = body.budget_id.ok_or_else(|| {
        ApiError::bad_request(Some("budget_id"), "budget_id is a required parameter")
    })?;
    let mut rec = db
        .store
        .budget(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found("budget_id", format!("Budget not found: budget_id={id}")))?;
    body.patch
        .apply(&mut rec, Utc::now())
        .map_err(patch_error)?;
    db.store.update_budget(&rec).await.map_err(store_error)?;
    db.cache.invalidate_budget(&id);
    Ok(Json(to_json(&rec)))
}

/// The body of `/budget/info`.
#[derive(serde::Deserialize)]
pub struct InfoBody {
    budgets: Vec<String>,
}

/// The named budgets (`{"budgets": [ids]}`, as LiteLLM's POST /budget/info).
#[utoipa::path(post, path = "/budget/info", tag = "budgets",
    request_body(content = Object, description = "{\"budgets\": [budget_id, ...]}"),
    responses((status = 200, description = "[budget, ...] (the ones that exist)")),
    security(("bearer" = [])))]
pub async fn info(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<InfoBody>,
) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for id in &req.budgets {
        if let Some(rec) = db.store.budget(id).await.map_err(store_error)? {
            out.push(to_json(&rec));
        }
    }
    Ok(Json(Value::Array(out)))
}

/// The body of `/budget/delete`.
#[derive(serde::Deserialize)]
pub struct DeleteBody {
    id: String,
}

/// Delete a budget (`{"id": budget_id}`); end users that used it keep no budget.
#[utoipa::path(post, path = "/budget/delete", tag = "budgets",
    request_body(content = Object, description = "{\"id\": budget_id}"),
    responses((status = 200, description = "{\"deleted_budgets\": [id]}"), (status = 404, description = "No such budget")),
    security(("bearer" = [])))]
pub async fn delete(
    Admin { db, .. }: Admin,
    JsonBody(req): JsonBody<DeleteBody>,
) -> Result<Json<Value>, ApiError> {
    let deleted = db
        .store
        .delete_budgets(std::slice::from_ref(&req.id))
        .await
        .map_err(store_error)?;
    db.cache.invalidate_budget(&req.id);
    if deleted.is_empty() {
        return Err(not_found(
            "id",
            format!("Budget not found: budget_id={}", req.id),
        ));
    }
    Ok(Json(json!({"deleted_budgets": deleted})))
}

/// Every budget, newest first.
#[utoipa::path(get, path = "/budget/list", tag = "budgets",
    responses((status = 200, description = "[budget, ...]")),
    security(("bearer" = [])))]
pub async fn list(Admin { db, .. }: Admin) -> Result<Json<Value>, ApiError> {
    let all = db.store.list_budgets().await.map_err(store_error)?;
    Ok(Json(Value::Array(all.iter().map(to_json).collect())))
}
