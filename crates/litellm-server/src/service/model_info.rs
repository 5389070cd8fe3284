//! `GET /model/info` and `/v1/model/info`: every deployment in LiteLLM's shape,
//! `{"data": [{"model_name", "litellm_params", "model_info"}]}`. `litellm_params` is the
//! deployment's config without credentials (no `api_key`, no key/secret/credential-like entry,
//! no `extra_headers`, `api_base` without its query string); `model_info` is the price table's
//! entry for the deployment, overlaid with the deployment's own `model_info` and its effective
//! prices (the ones its calls are billed at), plus its `id`. `?litellm_model_id=` selects one
//! deployment. A virtual key sees only the deployments of models it may use.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use litellm_router::Deployment;

use super::shown::public_params;
use crate::error::ApiError;
use crate::management::extract::SignedIn;
use crate::state::AppState;

/// The query string of `/model/info`.
#[derive(Debug, Default, Deserialize)]
pub struct ModelInfoQuery {
    /// Only the deployment with this id.
    pub litellm_model_id: Option<String>,
}

/// Lists every deployment with its prices and context window.
pub async fn model_info(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    query: Result<Query<ModelInfoQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid query string for /model/info",
        ));
    };
    let data: Vec<Value> = state
        .router
        .deployments()
        .iter()
        .filter(|d| {
            query
                .litellm_model_id
                .as_deref()
                .is_none_or(|id| d.id == id)
        })
        // Only deployments of models the caller's key and team may use.
        .filter(|d| state.auth.model_access(&caller, &d.model_name).is_ok())
        .map(|d| deployment_info(d))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// One entry of `data`.
pub fn deployment_info(d: &Deployment) -> Value {
    json!({
        "model_name": d.model_name,
        "litellm_params": public_params(d),
        "model_info": model_info_of(d),
    })
}

/// The table entry, the deployment's `model_info` over it, its effective prices, its id.
fn model_info_of(d: &Deployment) -> Value {
    let mut info = Map::new();
    for key in [
        "max_tokens",
        "max_input_tokens",
        "max_output_tokens",
        "input_cost_per_token",
        "output_cost_per_token",
        "litellm_provider",
        "mode",
    ] {
        info.insert(key.to_string(), Value::Null);
    }
    let entry = litellm_router::strategy::price_entry(d);
    if let Some(entry) = entry {
        if let Ok(Value::Object(m)) = serde_json::to_value(entry) {
            info.extend(m);
        }
    }
    if let Ok(Value::Object(m)) = serde_json::to_value(&d.config.model_info) {
        info.extend(m.into_iter().filter(|(_, v)| !v.is_null()));
    }
    if let Some(prices) = litellm_router::strategy::deployment_prices(d) {
        if let Ok(Value::Object(m)) = serde_json::to_value(prices) {
            info.extend(m);
        }
    }
    if info.get("litellm_provider").is_none_or(Value::is_null) {
        info.insert(
            "litellm_provider".into(),
            Value::String(d.backend.provider().to_string()),
        );
    }
    info.insert("id".into(), Value::String(d.id.clone()));
    info.insert("db_model".into(), Value::Bool(false));
    Value::Object(info)
}
