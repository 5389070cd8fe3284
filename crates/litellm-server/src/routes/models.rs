//! `GET /v1/models` (and `/models`): the configured model groups and visible aliases.

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
    if let Err(e) = state.auth.check(&headers).await {
        return e.into_response();
    }
    let names = state.router.model_names();
    Json(ModelList::from_ids(
        names.iter().map(String::as_str),
        state.started_at,
        "openai",
    ))
    .into_response()
}
