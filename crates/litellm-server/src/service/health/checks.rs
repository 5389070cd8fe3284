//! The deployment probes behind `GET /health` and the background checks: one minimal real call
//! per deployment (chat "ping" with `max_tokens: 1`, or an embedding of "ping" for
//! `model_info.mode: embedding`), in parallel, each under a timeout, and [`HealthChecks`], the
//! settings and latest background results kept in the app state. Nothing here knows HTTP or
//! the app state, so `state.rs` may hold a [`HealthChecks`] without an import circle.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use litellm_core::{CallContext, ChatRequest, EmbeddingInput, EmbeddingRequest, LlmError, Message};
use litellm_router::{Deployment, Router};

use crate::config::ProxyConfig;
use crate::service::shown::public_params;

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

    /// Keeps the latest background results.
    pub(super) fn store(&self, report: HealthReport) {
        *self.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(report));
    }
}

/// One probe's outcome.
struct Probe {
    id: String,
    endpoint: Value,
    error: Option<String>,
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
pub(super) fn targets(router: &Router, model: Option<&str>) -> Vec<Arc<Deployment>> {
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
