//! `GET /v1/models` (and `/models`): the configured model groups and visible aliases that the
//! caller's key and team may use (`models`, access groups, `all-team-models`).

use axum::extract::State;
use axum::Json;

use litellm_core::ModelList;

use crate::error::ApiError;
use crate::management::extract::SignedIn;
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
pub async fn list_models(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
) -> Result<Json<ModelList>, ApiError> {
    // Only the models this key (and its team) may call, as LiteLLM lists them.
    let names: Vec<String> = state
        .router
        .model_names()
        .into_iter()
        .filter(|m| state.auth.model_access(&caller, m).is_ok())
        .collect();
    Ok(Json(ModelList::from_ids(
        names.iter().map(String::as_str),
        state.started_at,
        "openai",
    )))
}
