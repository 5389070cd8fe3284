//! Health endpoints, as LiteLLM's `health_endpoints/_health_endpoints.py`:
//!
//! - `GET /health` (admin) probes every deployment, or those of `?model=<group>`, with a minimal
//!   real call (chat: "ping" with `max_tokens: 1`; deployments with `model_info.mode: embedding`:
//!   an embedding of "ping"), all in parallel, each under a timeout, and answers
//!   `{"healthy_endpoints", "unhealthy_endpoints", "healthy_count", "unhealthy_count"}`. Each
//!   endpoint is the deployment's `litellm_params` without credentials, plus `error` when it
//!   failed. With `general_settings.background_health_checks`, the probes run every
//!   `health_check_interval` seconds in the background instead, `/health` answers the latest
//!   results, and the router skips unhealthy deployments while their group has a healthy one.
//! - `GET /health/readiness` (public) reports the database and Redis; 503 when the database
//!   is configured but does not answer.
//! - `GET /health/liveliness` (alias `/health/liveness`) is a constant answer.
//!
//! The probes themselves and [`checks::HealthChecks`] (settings and latest results, held in the
//! app state) are [`checks`]; this module is the routes and the background loop.

pub mod checks;

use checks::{run_checks, HealthReport};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::headers::VERSION;
use crate::management::extract::AdminCaller;
use crate::state::AppState;

/// One background round: probe everything, keep the report, tell the router.
pub async fn background_round(state: &AppState) {
    let (report, unhealthy) = run_checks(&state.router, None).await;
    if !unhealthy.is_empty() {
        tracing::warn!(
            unhealthy = ?unhealthy,
            healthy = report.healthy_count,
            "background health check found unhealthy deployments"
        );
    }
    state.router.set_unhealthy(unhealthy);
    state.health.store(report);
}

/// Starts the background health checks when `background_health_checks` is on: a round at
/// once, then one every `health_check_interval`, until `shutdown` is cancelled.
pub fn spawn_background_checks(state: &AppState, shutdown: CancellationToken) {
    if !state.health.background {
        return;
    }
    let state = state.clone();
    let interval = state.health.interval;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = background_round(&state) => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    });
}

/// `GET /health` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HealthQuery {
    /// Only the deployments of this model group.
    pub model: Option<String>,
}

/// Probes the deployments with real calls (admin).
#[utoipa::path(get, path = "/health", tag = "health",
    params(HealthQuery),
    responses(
        (status = 200, description = "Healthy and unhealthy deployments", body = HealthReport),
        (status = 400, description = "`model` names no model group"),
        (status = 401, description = "No valid key"),
        (status = 403, description = "Not a proxy admin"),
    ),
    security(("bearer" = [])))]
pub async fn health(
    State(state): State<AppState>,
    _admin: AdminCaller,
    query: Result<Query<HealthQuery>, QueryRejection>,
) -> Result<Json<HealthReport>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(None, e.body_text()))?;
    let model = q.model.filter(|m| !m.is_empty());
    if let Some(m) = &model {
        if checks::targets(&state.router, Some(m)).is_empty() {
            return Err(ApiError::bad_request(
                Some("model"),
                format!(
                    "No deployment to check for model={m}. Call `/v1/models` to view available models."
                ),
            ));
        }
    }
    if state.health.background && model.is_none() {
        if let Some(latest) = state.health.latest() {
            return Ok(Json(latest.as_ref().clone()));
        }
    }
    let (report, _) = run_checks(&state.router, model.as_deref()).await;
    Ok(Json(report))
}

/// The process is alive.
#[utoipa::path(get, path = "/health/liveliness", tag = "health",
    responses((status = 200, description = "Always \"I'm alive!\"", body = String)))]
pub async fn liveliness() -> Json<&'static str> {
    Json("I'm alive!")
}

/// Ready for traffic: 200 when the database answers (or none is configured), else 503. Redis
/// (router state) is reported but does not fail readiness: the router falls back to local
/// state when it is down.
#[utoipa::path(get, path = "/health/readiness", tag = "health",
    responses(
        (status = 200, description = "Ready: `status`, `db`, `redis`, `cache`, `litellm_version`, `success_callbacks`"),
        (status = 503, description = "The database does not answer"),
    ))]
pub async fn readiness(
    State(state): State<AppState>,
    caller: Result<crate::pipeline::Authed, crate::error::ApiError>,
) -> Response {
    // The database's error text (hosts, users, schema) is for admins only.
    let admin = caller.is_ok_and(|crate::pipeline::Authed(c)| c.is_admin);
    let db_check = async {
        match &state.ledger {
            None => (StatusCode::OK, "Not connected".to_string()),
            Some(l) => match l.ping().await {
                Ok(()) => (StatusCode::OK, "connected".to_string()),
                Err(e) => {
                    tracing::warn!(error = %e, "readiness: the database does not answer");
                    let shown = if admin {
                        format!("disconnected: {e}")
                    } else {
                        "disconnected".to_string()
                    };
                    (StatusCode::SERVICE_UNAVAILABLE, shown)
                }
            },
        }
    };
    let redis_check = async {
        match state.router.ping_state_store().await {
            None => "not configured".to_string(),
            Some(Ok(())) => "connected".to_string(),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "readiness: Redis does not answer");
                "disconnected".to_string()
            }
        }
    };
    let ((status, db), redis) = tokio::join!(db_check, redis_check);
    let mut body = Map::new();
    body.insert(
        "status".into(),
        json!(if status == StatusCode::OK {
            "healthy"
        } else {
            "unhealthy"
        }),
    );
    body.insert("db".into(), json!(db));
    body.insert("redis".into(), json!(redis));
    body.insert("cache".into(), Value::Null);
    body.insert("litellm_version".into(), json!(VERSION));
    body.insert("success_callbacks".into(), json!(Vec::<String>::new()));
    (status, Json(Value::Object(body))).into_response()
}
