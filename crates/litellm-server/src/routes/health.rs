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

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use litellm_core::{CallContext, ChatRequest, EmbeddingInput, EmbeddingRequest, LlmError, Message};
use litellm_router::{Deployment, Router};

use crate::config::ProxyConfig;
use crate::error::ApiError;
use crate::headers::VERSION;
use crate::state::AppState;

/// LiteLLM's default `health_check_interval` (seconds).
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(300);

/// How long one probe may take when the deployment sets no `timeout` (LiteLLM's
/// `HEALTH_CHECK_TIMEOUT_SECONDS`).
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The answer of `GET /health`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// `litellm_params` (without credentials) of each deployment that answered.
    #[schema(value_type = Vec<Object>)]
    pub healthy_endpoints: Vec<Value>,
    /// The same for each deployment that failed, with its `error`.
    #[schema(value_type = Vec<Object>)]
    pub unhealthy_endpoints: Vec<Value>,
    pub healthy_count: usize,
    pub unhealthy_count: usize,
}

/// Health-check settings and the latest background results.
#[derive(Debug)]
pub struct HealthChecks {
    /// `general_settings.background_health_checks`.
    pub background: bool,
    /// `general_settings.health_check_interval`.
    pub interval: Duration,
    latest: RwLock<Option<Arc<HealthReport>>>,
}

impl HealthChecks {
    /// The settings of `config`.
    pub fn from_config(config: &ProxyConfig) -> Self {
        let g = &config.general_settings;
        HealthChecks {
            background: g.background_health_checks,
            interval: g
                .health_check_interval
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(DEFAULT_HEALTH_CHECK_INTERVAL),
            latest: RwLock::new(None),
        }
    }

    /// The latest background results, if a round has finished.
    pub fn latest(&self) -> Option<Arc<HealthReport>> {
        self.latest
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store(&self, report: HealthReport) {
        *self.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(report));
    }
}

/// One probe's outcome.
struct Probe {
    id: String,
    endpoint: Value,
    error: Option<String>,
}

/// Whether a `litellm_params` key holds a credential (`api_key`, `aws_secret_access_key`,
/// `vertex_credentials`, ...).
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["key", "secret", "token", "password", "credential"]
        .iter()
        .any(|n| k.contains(n))
}

/// A deployment's `litellm_params` as JSON, without credentials: string values under
/// credential-like keys, `extra_headers` and query strings of `api_base` are left out.
pub fn public_params(d: &Deployment) -> Value {
    let mut v = serde_json::to_value(&d.config.litellm_params).unwrap_or_else(|_| json!({}));
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|k, val| !(val.is_string() && is_secret_key(k)) && k != "extra_headers");
        if let Some(Value::String(base)) = obj.get_mut("api_base") {
            *base = crate::headers::strip_query(base).to_string();
        }
    }
    v
}

/// Whether a deployment is probed with an embedding call (`model_info.mode: embedding`).
fn is_embedding(d: &Deployment) -> bool {
    d.config.model_info.mode.as_deref() == Some("embedding")
}

async fn probe_one(d: Arc<Deployment>) -> Probe {
    let timeout = d.timeout().unwrap_or(DEFAULT_PROBE_TIMEOUT);
    let ctx = CallContext {
        timeout: Some(timeout),
        extra_headers: Vec::new(),
    };
    let model = d.model_name.clone();
    let call = async {
        if is_embedding(&d) {
            let req = EmbeddingRequest {
                model,
                input: EmbeddingInput::Text("ping".to_string()),
                encoding_format: None,
                dimensions: None,
                user: None,
                extra: Default::default(),
            };
            d.backend.embed(req, &ctx).await.map(|_| ())
        } else {
            let req = ChatRequest {
                model,
                messages: vec![Message::user("ping")],
                max_tokens: Some(1),
                ..Default::default()
            };
            d.backend.chat(req, &ctx).await.map(|_| ())
        }
    };
    let outcome: Result<(), LlmError> = match tokio::time::timeout(timeout, call).await {
        Ok(r) => r,
        Err(_) => Err(LlmError::upstream(
            litellm_core::ErrorKind::Timeout,
            format!(
                "Health check timed out after {:.1} s",
                timeout.as_secs_f64()
            ),
        )),
    };
    let mut endpoint = public_params(&d);
    let error = outcome.err().map(|e| e.message);
    if let (Some(msg), Some(obj)) = (&error, endpoint.as_object_mut()) {
        obj.insert("error".into(), Value::String(msg.clone()));
    }
    Probe {
        id: d.id.clone(),
        endpoint,
        error,
    }
}

/// The deployments a check covers: all (wildcard patterns excepted, they name no concrete
/// model), or those of the group `model` resolves to.
fn targets(router: &Router, model: Option<&str>) -> Vec<Arc<Deployment>> {
    let group = model.map(|m| router.resolve_group(m).unwrap_or_else(|| m.to_string()));
    router
        .deployments()
        .into_iter()
        .filter(|d| !d.model_name.contains('*'))
        .filter(|d| group.as_deref().is_none_or(|g| d.model_name == g))
        .collect()
}

/// Probes the deployments (see [`targets`]) in parallel; returns the report and the ids of
/// the unhealthy ones.
pub async fn run_checks(router: &Router, model: Option<&str>) -> (HealthReport, Vec<String>) {
    let probes = futures::future::join_all(targets(router, model).into_iter().map(probe_one)).await;
    let mut report = HealthReport::default();
    let mut unhealthy = Vec::new();
    for p in probes {
        if p.error.is_some() {
            unhealthy.push(p.id);
            report.unhealthy_endpoints.push(p.endpoint);
        } else {
            report.healthy_endpoints.push(p.endpoint);
        }
    }
    report.healthy_count = report.healthy_endpoints.len();
    report.unhealthy_count = report.unhealthy_endpoints.len();
    (report, unhealthy)
}

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
    headers: HeaderMap,
    query: Result<Query<HealthQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match run_health(state, headers, query).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run_health(
    state: AppState,
    headers: HeaderMap,
    query: Result<Query<HealthQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    state.auth.require_admin(&headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(None, e.body_text()))?;
    let model = q.model.filter(|m| !m.is_empty());
    if let Some(m) = &model {
        if targets(&state.router, Some(m)).is_empty() {
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
            return Ok(Json(latest.as_ref().clone()).into_response());
        }
    }
    let (report, _) = run_checks(&state.router, model.as_deref()).await;
    Ok(Json(report).into_response())
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
pub async fn readiness(State(state): State<AppState>) -> Response {
    let db_check = async {
        match &state.ledger {
            None => (StatusCode::OK, "Not connected".to_string()),
            Some(l) => match l.ping().await {
                Ok(()) => (StatusCode::OK, "connected".to_string()),
                Err(e) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("disconnected: {e}"),
                ),
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
