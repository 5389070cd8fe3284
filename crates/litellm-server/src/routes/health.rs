//! Health probes: `/health/liveliness` (alias `/health/liveness`) is a constant answer for
//! Kubernetes liveness; `/health/readiness` reports whether the database answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::headers::VERSION;
use crate::state::AppState;

/// The process is alive.
#[utoipa::path(get, path = "/health/liveliness", tag = "health",
    responses((status = 200, description = "Always \"I'm alive!\"", body = String)))]
pub async fn liveliness() -> Json<&'static str> {
    Json("I'm alive!")
}

/// Ready for traffic: 200 when the database answers (or none is configured), else 503.
#[utoipa::path(get, path = "/health/readiness", tag = "health",
    responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "The database does not answer"),
    ))]
pub async fn readiness(State(state): State<AppState>) -> Response {
    let (status, db) = match &state.ledger {
        None => (StatusCode::OK, "Not connected".to_string()),
        Some(l) => match l.ping().await {
            Ok(()) => (StatusCode::OK, "connected".to_string()),
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("disconnected: {e}"),
            ),
        },
    };
    let body = json!({
        "status": if status == StatusCode::OK { "healthy" } else { "unhealthy" },
        "db": db,
        "cache": null,
        "litellm_version": VERSION,
    });
    (status, Json(body)).into_response()
}
