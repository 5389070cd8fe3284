//! `GET /v1/models` (and `/models`): the configured model groups and visible aliases that the
//! caller's key and team may use (`models`, access groups, `all-team-models`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use litellm_core::ModelList;

use crate::state::AppState;

/// Lists the model groups clients may call.
#[utoipa::path(
    get,
    path = "/v1/models",
    tag = "inference",
    responses(
        (status = 200, description = "The configured model groups", body = ModelList),
        (status = 401, description = "Missing or invalid key"),
    ),
    security(("bearer" = []))
)]
pub async fn list_models(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match state.auth.check(&headers).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    // Only the models this key (and its team) may call, as LiteLLM lists them.
    let names: Vec<String> = state
        .router
        .model_names()
        .into_iter()
        .filter(|m| state.auth.model_access(&caller, m).is_ok())
        .collect();
    Json(ModelList::from_ids(
        names.iter().map(String::as_str),
        state.started_at,
        "openai",
    ))
    .into_response()
}
