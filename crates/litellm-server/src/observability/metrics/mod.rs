//! Prometheus metrics in LiteLLM's names, types and labels (`litellm/integrations/prometheus.py`),
//! so existing Grafana dashboards work: request and failure counts, tokens, spend, latency
//! histograms, per-deployment state and responses, remaining budgets, cache hits and in-flight
//! requests. Served at `GET /metrics` in the Prometheus text format (0.0.4); see
//! `docs/observability.md` for the list.
//!
//! Recording is cheap: counters and gauges are atomics inside `prometheus-client` families, and a
//! request's labels are built once ([`RequestLabels`], shared `Arc<str>` values) and cloned into
//! each metric's label set without new string allocations. Per-deployment labels are built once
//! per deployment and cached.
//!
//! How the numbers get here:
//! - [`track`] is a middleware around the whole app: it counts `litellm_in_flight_requests`, and
//!   for LLM routes it opens the request's scope (`scope.rs`, shared with the callbacks), then
//!   counts
//!   `litellm_proxy_total_requests_metric` / `litellm_proxy_failed_requests_metric` from the
//!   response status.
//! - Handlers call [`note_caller`] once auth has identified the caller, filling the scope with the
//!   key, team and user labels.
//! - [`MetricsObserver`] is the router's observer: every attempt updates the deployment
//!   metrics, the LLM API latency (non-streaming) and the time to first token (streams).
//! - The success paths (`routes/chat.rs`, `routes/embeddings.rs`, the stream accounting in
//!   `stream.rs`) call [`Metrics::record_success`] with the usage and cost.
//!
//! Label values we do not know are exposed as `None`, as LiteLLM (Python's `str(None)`) does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use litellm_core::{LlmError, Usage};
use litellm_router::{AttemptKind, Deployment, RouteInfo, Router, RouterObserver};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// LiteLLM's `LATENCY_BUCKETS` (seconds; `+Inf` is implicit).
pub const LATENCY_BUCKETS: [f64; 17] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 420.0,
    600.0,
];

/// The most series a metric family with request labels holds by default; later label sets go
/// to the family's `other` series.
pub const MAX_SERIES: usize = 10_000;

/// `litellm_deployment_state` values.
pub const DEPLOYMENT_HEALTHY: i64 = 0;
pub const DEPLOYMENT_PARTIAL_OUTAGE: i64 = 1;
pub const DEPLOYMENT_OUTAGE: i64 = 2;

pub use super::labels::{Lv, RequestLabels};

/// Runs `f` on this request's labels, if the call runs inside a [`track`]ed request.
fn with_scope(f: impl FnOnce(&mut RequestLabels)) {
    crate::observability::scope::with(|s| f(&mut s.labels));
}

/// The current request's labels (default labels outside a tracked request).
pub fn current_labels() -> RequestLabels {
    crate::observability::scope::current()
        .map(|s| s.lock().labels.clone())
        .unwrap_or_default()
}

/// Records who is calling and for which model, once auth has run. Cheap; a no-op outside a
/// tracked request.
pub fn note_caller(caller: &Caller, requested_model: &str, end_user: Option<&str>) {
    with_scope(|l| {
        l.hashed_api_key = Lv::new(&caller.key_hash);
        l.api_key_alias = Lv::opt(caller.key_alias.as_deref());
        l.user = Lv::opt(caller.user_id.as_deref());
        l.user_email = Lv::opt(caller.user.as_ref().and_then(|u| u.user_email.as_deref()));
        l.team = Lv::opt(caller.team_id.as_deref());
        l.team_alias = Lv::opt(caller.team.as_ref().and_then(|t| t.team_alias.as_deref()));
        l.requested_model = Lv::new(requested_model);
        l.end_user = Lv::opt(end_user);
        l.has_key = caller.key.is_some();
        l.key_budget = caller
            .key
            .as_ref()
            .and_then(|k| k.max_budget)
            .map(|max| (max, caller.key_spend));
        l.has_team = caller.team.is_some();
        l.team_budget = caller
            .team
            .as_ref()
            .and_then(|t| t.max_budget)
            .map(|max| (max, caller.team_spend));
    });
}

/// Whether `path` is an LLM API route, counted in the proxy request metrics.
pub fn is_llm_route(path: &str) -> bool {
    const SUFFIXES: [&str; 8] = [
        "/chat/completions",
        "/embeddings",
        "/completions",
        "/messages",
        "/responses",
        "/rerank",
        "/moderations",
        "/images/generations",
    ];
    SUFFIXES.iter().any(|s| path.ends_with(s))
}

mod labels;
mod layer;
mod registry;
#[cfg(test)]
mod tests;

use labels::*;
pub use layer::*;
pub use registry::*;
