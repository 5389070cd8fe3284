//! Budget objects (LiteLLM's `LiteLLM_BudgetTable`) with LiteLLM's bodies: `/budget/new`,
//! `/budget/info` (`{"budgets": [ids]}`), `/budget/update`, `/budget/delete` (`{"id": ...}`),
//! `GET /budget/list`. End users reference them by `budget_id`. All need the master key.

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use chrono::Utc;
use serde_json::{json, Value};

use litellm_auth::{BudgetPatch, BudgetRecord};

use super::manage::{admin, body, not_found, patch_error, respond, store_error, to_json};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(serde::Deserialize)]
struct BudgetBody {
    #[serde(default)]
    budget_id: Option<String>,
    #[serde(flatten)]
    patch: BudgetPatch,
}

fn parse(b: Result<Bytes, BytesRejection>) -> Result<BudgetBody, ApiError> {
    let raw: Value = body(b)?;
    serde_json::from_value(raw)
        .map_err(|e| ApiError::bad_request(None, format!("Invalid request body: {e}")))
}

/// Create a budget (LiteLLM's `BudgetNewRequest`; `budget_id` defaults to a UUID).
#[utoipa::path(post, path = "/budget/new", tag = "budgets",
    request_body(content = Object, description = "budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, budget_duration, model_max_budget"),
    responses((status = 200, description = "The budget"), (status = 400, description = "Invalid field or taken budget_id")),
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
    let body = parse(b)?;
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
    Ok(to_json(&rec))
}

/// Change a budget; `null` clears a field. End users using it see it at once on this replica.
#[utoipa::path(post, path = "/budget/update", tag = "budgets",
    request_body(content = Object, description = "budget_id plus any /budget/new field"),
    responses((status = 200, description = "The budget"), (status = 404, description = "No such budget")),
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
    let body = parse(b)?;
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
    Ok(to_json(&rec))
}

#[derive(serde::Deserialize)]
struct InfoBody {
    budgets: Vec<String>,
}

/// The named budgets (`{"budgets": [ids]}`, as LiteLLM's POST /budget/info).
#[utoipa::path(post, path = "/budget/info", tag = "budgets",
    request_body(content = Object, description = "{\"budgets\": [budget_id, ...]}"),
    responses((status = 200, description = "[budget, ...] (the ones that exist)")),
    security(("bearer" = [])))]
pub async fn info(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    respond(info_inner(state, headers, b).await)
}

async fn info_inner(
    state: AppState,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let req: InfoBody = body(b)?;
    let mut out = Vec::new();
    for id in &req.budgets {
        if let Some(rec) = db.store.budget(id).await.map_err(store_error)? {
            out.push(to_json(&rec));
        }
    }
    Ok(Value::Array(out))
}

#[derive(serde::Deserialize)]
struct DeleteBody {
    id: String,
}

/// Delete a budget (`{"id": budget_id}`); end users that used it keep no budget.
#[utoipa::path(post, path = "/budget/delete", tag = "budgets",
    request_body(content = Object, description = "{\"id\": budget_id}"),
    responses((status = 200, description = "{\"deleted_budgets\": [id]}"), (status = 404, description = "No such budget")),
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
    let req: DeleteBody = body(b)?;
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
    Ok(json!({"deleted_budgets": deleted}))
}

/// Every budget, newest first.
#[utoipa::path(get, path = "/budget/list", tag = "budgets",
    responses((status = 200, description = "[budget, ...]")),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(list_inner(state, headers).await)
}

async fn list_inner(state: AppState, headers: HeaderMap) -> Result<Value, ApiError> {
    let (_, db) = admin(&state, &headers).await?;
    let all = db.store.list_budgets().await.map_err(store_error)?;
    Ok(Value::Array(all.iter().map(to_json).collect()))
}
