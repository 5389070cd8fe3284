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
//!   for LLM routes it opens a per-request label scope (a task-local), then counts
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
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
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

/// `litellm_deployment_state` values.
pub const DEPLOYMENT_HEALTHY: i64 = 0;
pub const DEPLOYMENT_PARTIAL_OUTAGE: i64 = 1;
pub const DEPLOYMENT_OUTAGE: i64 = 2;

/// A label value: `None` is exposed as the text `None`, as LiteLLM does.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct Lv(Option<Arc<str>>);

impl Lv {
    /// A known value (an empty string counts as unknown).
    pub fn new(s: &str) -> Lv {
        if s.is_empty() {
            Lv(None)
        } else {
            Lv(Some(Arc::from(s)))
        }
    }

    /// `Some` as a value, `None` as unknown.
    pub fn opt(s: Option<&str>) -> Lv {
        s.map(Lv::new).unwrap_or_default()
    }

    /// The value, if known.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl EncodeLabelValue for Lv {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write;
        encoder.write_str(self.0.as_deref().unwrap_or("None"))
    }
}

/// What is known about one LLM request, for its labels: filled at the start by [`track`] (route,
/// client), by [`note_caller`] after auth, and by the router observer (the deployment).
#[derive(Clone, Debug, Default)]
pub struct RequestLabels {
    pub end_user: Lv,
    pub user: Lv,
    pub user_email: Lv,
    pub hashed_api_key: Lv,
    pub api_key_alias: Lv,
    pub team: Lv,
    pub team_alias: Lv,
    pub requested_model: Lv,
    pub route: Lv,
    pub client_ip: Lv,
    pub user_agent: Lv,
    /// The last deployment tried.
    pub model_id: Lv,
    /// The key's `max_budget` and its spend before this call.
    pub key_budget: Option<(f64, f64)>,
    /// The team's `max_budget` and its spend before this call.
    pub team_budget: Option<(f64, f64)>,
    /// Whether the caller has a virtual key (budget gauges are only set for those).
    pub has_key: bool,
    pub has_team: bool,
}

impl RequestLabels {
    fn from_request(path: &str, headers: &HeaderMap) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let client_ip = header("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .or_else(|| header("x-real-ip"));
        RequestLabels {
            route: Lv::new(path),
            client_ip: Lv::opt(client_ip),
            user_agent: Lv::opt(header("user-agent")),
            ..RequestLabels::default()
        }
    }
}

tokio::task_local! {
    static SCOPE: Arc<Mutex<RequestLabels>>;
}

/// Runs `f` on this request's labels, if the call runs inside a [`track`]ed request.
fn with_scope(f: impl FnOnce(&mut RequestLabels)) {
    let _ = SCOPE.try_with(|s| f(&mut s.lock().unwrap_or_else(|p| p.into_inner())));
}

/// The current request's labels (default labels outside a tracked request).
pub fn current_labels() -> RequestLabels {
    SCOPE
        .try_with(|s| s.lock().unwrap_or_else(|p| p.into_inner()).clone())
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
    const SUFFIXES: [&str; 5] = [
        "/chat/completions",
        "/embeddings",
        "/completions",
        "/messages",
        "/responses",
    ];
    SUFFIXES.iter().any(|s| path.ends_with(s))
}

// ---- label sets: field names and order are LiteLLM's (`PrometheusMetricLabels`) ----

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProxyRequestLabels {
    end_user: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    requested_model: Lv,
    team: Lv,
    team_alias: Lv,
    user: Lv,
    status_code: Lv,
    user_email: Lv,
    route: Lv,
    client_ip: Lv,
    user_agent: Lv,
    model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProxyFailedLabels {
    end_user: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    requested_model: Lv,
    team: Lv,
    team_alias: Lv,
    user: Lv,
    user_email: Lv,
    exception_status: Lv,
    exception_class: Lv,
    route: Lv,
    client_ip: Lv,
    user_agent: Lv,
    model_id: Lv,
}

/// `litellm_requests_metric` and `litellm_spend_metric`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestsLabels {
    end_user: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    model: Lv,
    team: Lv,
    team_alias: Lv,
    user: Lv,
    user_email: Lv,
    client_ip: Lv,
    user_agent: Lv,
    model_id: Lv,
    api_provider: Lv,
}

/// The three token counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    end_user: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    model: Lv,
    team: Lv,
    team_alias: Lv,
    user: Lv,
    user_email: Lv,
    requested_model: Lv,
    model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TotalLatencyLabels {
    end_user: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    requested_model: Lv,
    team: Lv,
    team_alias: Lv,
    user: Lv,
    model: Lv,
    model_id: Lv,
}

/// `litellm_llm_api_latency_metric` and `litellm_llm_api_time_to_first_token_metric`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLatencyLabels {
    model: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    team: Lv,
    team_alias: Lv,
    requested_model: Lv,
    end_user: Lv,
    user: Lv,
    model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OverheadLabels {
    model_group: Lv,
    api_provider: Lv,
    api_base: Lv,
    litellm_model_name: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeploymentLabels {
    litellm_model_name: Lv,
    model_id: Lv,
    api_base: Lv,
    api_provider: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeploymentCallLabels {
    requested_model: Lv,
    litellm_model_name: Lv,
    model_id: Lv,
    api_base: Lv,
    api_provider: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    team: Lv,
    team_alias: Lv,
    client_ip: Lv,
    user_agent: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeploymentFailureLabels {
    requested_model: Lv,
    litellm_model_name: Lv,
    model_id: Lv,
    api_base: Lv,
    api_provider: Lv,
    exception_status: Lv,
    exception_class: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    team: Lv,
    team_alias: Lv,
    client_ip: Lv,
    user_agent: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyBudgetLabels {
    hashed_api_key: Lv,
    api_key_alias: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TeamBudgetLabels {
    team: Lv,
    team_alias: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    model: Lv,
    hashed_api_key: Lv,
    api_key_alias: Lv,
    team: Lv,
    team_alias: Lv,
    end_user: Lv,
    user: Lv,
    model_id: Lv,
}

/// Builds histograms with LiteLLM's latency buckets.
#[derive(Clone, Copy, Debug, Default)]
struct LatencyHistogram;

impl MetricConstructor<Histogram> for LatencyHistogram {
    fn new_metric(&self) -> Histogram {
        Histogram::new(LATENCY_BUCKETS)
    }
}

type FloatCounter = Counter<f64, AtomicU64>;
type FloatGauge = Gauge<f64, AtomicU64>;
type Histograms<L> = Family<L, Histogram, LatencyHistogram>;

/// The labels of one deployment, built once.
#[derive(Clone, Debug)]
struct DeploymentInfo {
    litellm_model_name: Lv,
    model_id: Lv,
    api_base: Lv,
    api_provider: Lv,
    /// The model without its provider prefix (LiteLLM's `model` label).
    model: Lv,
}

impl DeploymentInfo {
    fn new(id: &str, model: &str, provider: &str, api_base: Option<&str>) -> Self {
        let bare = model
            .strip_prefix(provider)
            .and_then(|m| m.strip_prefix('/'))
            .unwrap_or(model);
        DeploymentInfo {
            litellm_model_name: Lv::new(model),
            model_id: Lv::new(id),
            api_base: Lv::opt(api_base.map(crate::headers::strip_query)),
            api_provider: Lv::new(provider),
            model: Lv::new(bare),
        }
    }

    fn labels(&self) -> DeploymentLabels {
        DeploymentLabels {
            litellm_model_name: self.litellm_model_name.clone(),
            model_id: self.model_id.clone(),
            api_base: self.api_base.clone(),
            api_provider: self.api_provider.clone(),
        }
    }
}

/// What a successful call reports to [`Metrics::record_success`].
#[derive(Debug, Clone, Copy)]
pub struct Success<'a> {
    pub route: &'a RouteInfo,
    pub usage: Option<&'a Usage>,
    /// USD.
    pub cost: f64,
    /// From the request's arrival to the last byte of the answer (for streams, the last chunk).
    pub total: Duration,
    /// Time spent in the proxy itself: the total until the answer started, less upstream time.
    pub overhead: Duration,
    /// For streams, the LLM API latency until the last chunk (non-streaming calls have theirs
    /// recorded per attempt by the router observer).
    pub stream_api_latency: Option<Duration>,
}

/// The proxy's metric registry.
pub struct Metrics {
    registry: Registry,
    proxy_total_requests: Family<ProxyRequestLabels, Counter>,
    proxy_failed_requests: Family<ProxyFailedLabels, Counter>,
    requests: Family<RequestsLabels, Counter>,
    spend: Family<RequestsLabels, FloatCounter>,
    total_tokens: Family<TokenLabels, Counter>,
    input_tokens: Family<TokenLabels, Counter>,
    output_tokens: Family<TokenLabels, Counter>,
    request_total_latency: Histograms<TotalLatencyLabels>,
    llm_api_latency: Histograms<ApiLatencyLabels>,
    time_to_first_token: Histograms<ApiLatencyLabels>,
    overhead_latency: Histograms<OverheadLabels>,
    deployment_state: Family<DeploymentLabels, Gauge>,
    deployment_success: Family<DeploymentCallLabels, Counter>,
    deployment_failure: Family<DeploymentFailureLabels, Counter>,
    remaining_key_budget: Family<KeyBudgetLabels, FloatGauge>,
    remaining_team_budget: Family<TeamBudgetLabels, FloatGauge>,
    cache_hits: Family<CacheLabels, Counter>,
    cache_misses: Family<CacheLabels, Counter>,
    in_flight: Gauge,
    deployments: RwLock<HashMap<String, Arc<DeploymentInfo>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric registered, none observed yet.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        macro_rules! reg {
            ($name:literal, $help:literal, $metric:expr) => {{
                let m = $metric;
                registry.register($name, $help, m.clone());
                m
            }};
        }
        Metrics {
            proxy_total_requests: reg!(
                "litellm_proxy_total_requests_metric",
                "Total number of requests made to the proxy server - track number of client side requests",
                Family::default()
            ),
            proxy_failed_requests: reg!(
                "litellm_proxy_failed_requests_metric",
                "Total number of failed responses from proxy - the client did not get a success response from litellm proxy",
                Family::default()
            ),
            requests: reg!(
                "litellm_requests_metric",
                "Total number of LLM calls to litellm - track total per API Key, team, user",
                Family::default()
            ),
            spend: reg!(
                "litellm_spend_metric",
                "Total spend on LLM requests",
                Family::default()
            ),
            total_tokens: reg!(
                "litellm_total_tokens_metric",
                "Total number of input + output tokens from LLM requests",
                Family::default()
            ),
            input_tokens: reg!(
                "litellm_input_tokens_metric",
                "Total number of input tokens from LLM requests",
                Family::default()
            ),
            output_tokens: reg!(
                "litellm_output_tokens_metric",
                "Total number of output tokens from LLM requests",
                Family::default()
            ),
            request_total_latency: reg!(
                "litellm_request_total_latency_metric",
                "Total latency (seconds) for a request to LiteLLM",
                Family::new_with_constructor(LatencyHistogram)
            ),
            llm_api_latency: reg!(
                "litellm_llm_api_latency_metric",
                "Total latency (seconds) for a models LLM API call",
                Family::new_with_constructor(LatencyHistogram)
            ),
            time_to_first_token: reg!(
                "litellm_llm_api_time_to_first_token_metric",
                "Time to first token for a models LLM API call",
                Family::new_with_constructor(LatencyHistogram)
            ),
            overhead_latency: reg!(
                "litellm_overhead_latency_metric",
                "Latency overhead (milliseconds) added by LiteLLM processing",
                Family::new_with_constructor(LatencyHistogram)
            ),
            deployment_state: reg!(
                "litellm_deployment_state",
                "LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage",
                Family::default()
            ),
            deployment_success: reg!(
                "litellm_deployment_success_responses",
                "LLM Deployment Analytics - Total number of successful LLM API calls via litellm",
                Family::default()
            ),
            deployment_failure: reg!(
                "litellm_deployment_failure_responses",
                "LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api",
                Family::default()
            ),
            remaining_key_budget: reg!(
                "litellm_remaining_api_key_budget_metric",
                "Remaining budget for api key",
                Family::default()
            ),
            remaining_team_budget: reg!(
                "litellm_remaining_team_budget_metric",
                "Remaining budget for team",
                Family::default()
            ),
            cache_hits: reg!(
                "litellm_cache_hits_metric",
                "Total number of LiteLLM cache hits",
                Family::default()
            ),
            cache_misses: reg!(
                "litellm_cache_misses_metric",
                "Total number of LiteLLM cache misses",
                Family::default()
            ),
            in_flight: reg!(
                "litellm_in_flight_requests",
                "Number of HTTP requests currently in-flight on this uvicorn worker",
                Gauge::default()
            ),
            deployments: RwLock::new(HashMap::new()),
            registry,
        }
    }

    /// The exposition in the Prometheus text format (0.0.4).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }

    fn deployment_info(
        &self,
        id: &str,
        model: &str,
        provider: &str,
        api_base: Option<&str>,
    ) -> Arc<DeploymentInfo> {
        if let Some(d) = self
            .deployments
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            return d.clone();
        }
        let info = Arc::new(DeploymentInfo::new(id, model, provider, api_base));
        self.deployments
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_insert(info)
            .clone()
    }

    fn info_for(&self, d: &Deployment) -> Arc<DeploymentInfo> {
        self.deployment_info(&d.id, d.model(), d.backend.provider(), d.backend.api_base())
    }

    /// Sets `litellm_deployment_state` to healthy for every configured deployment (wildcard
    /// patterns excepted), so the gauge exists before the first call.
    pub fn init_deployments(&self, router: &Router) {
        for d in router.deployments() {
            if d.model_name.contains('*') {
                continue;
            }
            let info = self.info_for(&d);
            self.deployment_state
                .get_or_create(&info.labels())
                .set(DEPLOYMENT_HEALTHY);
        }
    }

    /// Records the end of one attempt on a deployment (called by [`MetricsObserver`]).
    pub fn record_attempt(
        &self,
        deployment: &Deployment,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
        labels: &RequestLabels,
    ) {
        let info = self.info_for(deployment);
        match outcome {
            Ok(elapsed) => {
                self.deployment_state
                    .get_or_create(&info.labels())
                    .set(DEPLOYMENT_HEALTHY);
                self.deployment_success
                    .get_or_create(&DeploymentCallLabels {
                        requested_model: labels.requested_model.clone(),
                        litellm_model_name: info.litellm_model_name.clone(),
                        model_id: info.model_id.clone(),
                        api_base: info.api_base.clone(),
                        api_provider: info.api_provider.clone(),
                        hashed_api_key: labels.hashed_api_key.clone(),
                        api_key_alias: labels.api_key_alias.clone(),
                        team: labels.team.clone(),
                        team_alias: labels.team_alias.clone(),
                        client_ip: labels.client_ip.clone(),
                        user_agent: labels.user_agent.clone(),
                    })
                    .inc();
                let api = ApiLatencyLabels {
                    model: info.model.clone(),
                    hashed_api_key: labels.hashed_api_key.clone(),
                    api_key_alias: labels.api_key_alias.clone(),
                    team: labels.team.clone(),
                    team_alias: labels.team_alias.clone(),
                    requested_model: labels.requested_model.clone(),
                    end_user: labels.end_user.clone(),
                    user: labels.user.clone(),
                    model_id: info.model_id.clone(),
                };
                let secs = elapsed.as_secs_f64();
                match kind {
                    AttemptKind::Stream => {
                        self.time_to_first_token.get_or_create(&api).observe(secs)
                    }
                    AttemptKind::Chat | AttemptKind::Embedding => {
                        self.llm_api_latency.get_or_create(&api).observe(secs)
                    }
                }
            }
            Err(error) => {
                self.deployment_state
                    .get_or_create(&info.labels())
                    .set(DEPLOYMENT_PARTIAL_OUTAGE);
                let status = crate::error::status_for(error);
                self.deployment_failure
                    .get_or_create(&DeploymentFailureLabels {
                        requested_model: labels.requested_model.clone(),
                        litellm_model_name: info.litellm_model_name.clone(),
                        model_id: info.model_id.clone(),
                        api_base: info.api_base.clone(),
                        api_provider: info.api_provider.clone(),
                        exception_status: Lv::new(status.as_str()),
                        exception_class: Lv::new(&exception_class(
                            Some(deployment.backend.provider()),
                            error.kind.litellm_class(),
                        )),
                        hashed_api_key: labels.hashed_api_key.clone(),
                        api_key_alias: labels.api_key_alias.clone(),
                        team: labels.team.clone(),
                        team_alias: labels.team_alias.clone(),
                        client_ip: labels.client_ip.clone(),
                        user_agent: labels.user_agent.clone(),
                    })
                    .inc();
            }
        }
    }

    /// Records that a deployment was put into cooldown: `litellm_deployment_state` 2.
    pub fn record_cooldown(&self, deployment: &Deployment) {
        let info = self.info_for(deployment);
        self.deployment_state
            .get_or_create(&info.labels())
            .set(DEPLOYMENT_OUTAGE);
    }

    /// Records a successful LLM call: requests, spend, tokens, total and overhead latency,
    /// the stream's API latency, and the remaining key and team budgets.
    pub fn record_success(&self, labels: &RequestLabels, s: Success<'_>) {
        let r = s.route;
        let info = self.deployment_info(
            &r.deployment_id,
            &r.model,
            &r.provider,
            r.api_base.as_deref(),
        );
        let requests = RequestsLabels {
            end_user: labels.end_user.clone(),
            hashed_api_key: labels.hashed_api_key.clone(),
            api_key_alias: labels.api_key_alias.clone(),
            model: info.model.clone(),
            team: labels.team.clone(),
            team_alias: labels.team_alias.clone(),
            user: labels.user.clone(),
            user_email: labels.user_email.clone(),
            client_ip: labels.client_ip.clone(),
            user_agent: labels.user_agent.clone(),
            model_id: info.model_id.clone(),
            api_provider: info.api_provider.clone(),
        };
        self.requests.get_or_create(&requests).inc();
        if s.cost.is_finite() && s.cost > 0.0 {
            self.spend.get_or_create(&requests).inc_by(s.cost);
        }
        if let Some(u) = s.usage {
            let tokens = TokenLabels {
                end_user: labels.end_user.clone(),
                hashed_api_key: labels.hashed_api_key.clone(),
                api_key_alias: labels.api_key_alias.clone(),
                model: info.model.clone(),
                team: labels.team.clone(),
                team_alias: labels.team_alias.clone(),
                user: labels.user.clone(),
                user_email: labels.user_email.clone(),
                requested_model: labels.requested_model.clone(),
                model_id: info.model_id.clone(),
            };
            self.total_tokens
                .get_or_create(&tokens)
                .inc_by(u.total_tokens);
            self.input_tokens
                .get_or_create(&tokens)
                .inc_by(u.prompt_tokens);
            self.output_tokens
                .get_or_create(&tokens)
                .inc_by(u.completion_tokens);
        }
        self.request_total_latency
            .get_or_create(&TotalLatencyLabels {
                end_user: labels.end_user.clone(),
                hashed_api_key: labels.hashed_api_key.clone(),
                api_key_alias: labels.api_key_alias.clone(),
                requested_model: labels.requested_model.clone(),
                team: labels.team.clone(),
                team_alias: labels.team_alias.clone(),
                user: labels.user.clone(),
                model: info.model.clone(),
                model_id: info.model_id.clone(),
            })
            .observe(s.total.as_secs_f64());
        self.overhead_latency
            .get_or_create(&OverheadLabels {
                model_group: Lv::new(&r.model_group),
                api_provider: info.api_provider.clone(),
                api_base: info.api_base.clone(),
                litellm_model_name: info.litellm_model_name.clone(),
                hashed_api_key: labels.hashed_api_key.clone(),
                api_key_alias: labels.api_key_alias.clone(),
                model_id: info.model_id.clone(),
            })
            .observe(s.overhead.as_secs_f64() * 1000.0);
        if let Some(api) = s.stream_api_latency {
            self.llm_api_latency
                .get_or_create(&ApiLatencyLabels {
                    model: info.model.clone(),
                    hashed_api_key: labels.hashed_api_key.clone(),
                    api_key_alias: labels.api_key_alias.clone(),
                    team: labels.team.clone(),
                    team_alias: labels.team_alias.clone(),
                    requested_model: labels.requested_model.clone(),
                    end_user: labels.end_user.clone(),
                    user: labels.user.clone(),
                    model_id: info.model_id.clone(),
                })
                .observe(api.as_secs_f64());
        }
        // LiteLLM reports +Inf for a key or team without a budget.
        let remaining =
            |b: Option<(f64, f64)>| b.map_or(f64::INFINITY, |(max, spent)| max - spent - s.cost);
        if labels.has_key {
            self.remaining_key_budget
                .get_or_create(&KeyBudgetLabels {
                    hashed_api_key: labels.hashed_api_key.clone(),
                    api_key_alias: labels.api_key_alias.clone(),
                })
                .set(remaining(labels.key_budget));
        }
        if labels.has_team {
            self.remaining_team_budget
                .get_or_create(&TeamBudgetLabels {
                    team: labels.team.clone(),
                    team_alias: labels.team_alias.clone(),
                })
                .set(remaining(labels.team_budget));
        }
    }

    fn cache_labels(model: &str, model_id: Option<&str>) -> CacheLabels {
        let l = current_labels();
        CacheLabels {
            model: Lv::new(model),
            hashed_api_key: l.hashed_api_key,
            api_key_alias: l.api_key_alias,
            team: l.team,
            team_alias: l.team_alias,
            end_user: l.end_user,
            user: l.user,
            model_id: Lv::opt(model_id),
        }
    }

    /// Counts a response-cache hit for `model` (the caller's key and team labels come from
    /// the current request). For the response cache to call.
    pub fn record_cache_hit(&self, model: &str, model_id: Option<&str>) {
        self.cache_hits
            .get_or_create(&Self::cache_labels(model, model_id))
            .inc();
    }

    /// Counts a response-cache miss for `model`. For the response cache to call.
    pub fn record_cache_miss(&self, model: &str, model_id: Option<&str>) {
        self.cache_misses
            .get_or_create(&Self::cache_labels(model, model_id))
            .inc();
    }

    /// Counts one finished LLM-route request with its status.
    fn record_proxy_request(&self, labels: &RequestLabels, status: StatusCode) {
        let status_text = Lv::new(status.as_str());
        self.proxy_total_requests
            .get_or_create(&ProxyRequestLabels {
                end_user: labels.end_user.clone(),
                hashed_api_key: labels.hashed_api_key.clone(),
                api_key_alias: labels.api_key_alias.clone(),
                requested_model: labels.requested_model.clone(),
                team: labels.team.clone(),
                team_alias: labels.team_alias.clone(),
                user: labels.user.clone(),
                status_code: status_text.clone(),
                user_email: labels.user_email.clone(),
                route: labels.route.clone(),
                client_ip: labels.client_ip.clone(),
                user_agent: labels.user_agent.clone(),
                model_id: labels.model_id.clone(),
            })
            .inc();
        if status.is_success() {
            return;
        }
        self.proxy_failed_requests
            .get_or_create(&ProxyFailedLabels {
                end_user: labels.end_user.clone(),
                hashed_api_key: labels.hashed_api_key.clone(),
                api_key_alias: labels.api_key_alias.clone(),
                requested_model: labels.requested_model.clone(),
                team: labels.team.clone(),
                team_alias: labels.team_alias.clone(),
                user: labels.user.clone(),
                user_email: labels.user_email.clone(),
                exception_status: status_text,
                exception_class: Lv::new(class_for_status(status)),
                route: labels.route.clone(),
                client_ip: labels.client_ip.clone(),
                user_agent: labels.user_agent.clone(),
                model_id: labels.model_id.clone(),
            })
            .inc();
    }
}

/// LiteLLM's `exception_class` label: `Provider.ClassName` when the provider is known.
fn exception_class(provider: Option<&str>, class: &str) -> String {
    match provider.filter(|p| !p.is_empty()) {
        Some(p) => {
            let mut chars = p.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            format!("{}{}.{class}", first.unwrap_or_default(), chars.as_str())
        }
        None => class.to_string(),
    }
}

/// The LiteLLM exception class a proxy error status stands for.
fn class_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        408 => "Timeout",
        413 | 422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        503 => "ServiceUnavailableError",
        500..=599 => "InternalServerError",
        _ => "APIError",
    }
}

/// The router observer that feeds [`Metrics`].
#[derive(Debug, Clone)]
pub struct MetricsObserver(pub Arc<Metrics>);

impl RouterObserver for MetricsObserver {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        _model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        let mut labels = RequestLabels::default();
        with_scope(|l| {
            l.model_id = Lv::new(&deployment.id);
            labels = l.clone();
        });
        self.0.record_attempt(deployment, kind, outcome, &labels);
    }

    fn on_cooldown(&self, deployment: &Deployment, _model_group: &str, _error: &LlmError) {
        self.0.record_cooldown(deployment);
    }
}

/// Decrements the in-flight gauge when the request ends (also when it is cancelled).
struct InFlightGuard<'a>(&'a Gauge);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Middleware around the whole app: `litellm_in_flight_requests`, and for LLM routes the
/// request's label scope and the proxy request counters.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let metrics = state.metrics.clone();
    metrics.in_flight.inc();
    let _guard = InFlightGuard(&metrics.in_flight);
    let path = req.uri().path();
    if !is_llm_route(path) {
        return next.run(req).await;
    }
    let scope = Arc::new(Mutex::new(RequestLabels::from_request(path, req.headers())));
    let response = SCOPE.scope(scope.clone(), next.run(req)).await;
    let labels = scope.lock().unwrap_or_else(|p| p.into_inner()).clone();
    metrics.record_proxy_request(&labels, response.status());
    response
}

/// `GET /metrics`: the Prometheus exposition. Behind auth (any valid key) unless
/// `require_auth_for_metrics_endpoint: false`.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text format (0.0.4)", content_type = "text/plain"),
        (status = 401, description = "No valid key (when require_auth_for_metrics_endpoint is on)"),
    ),
    security(("bearer" = [])))]
pub async fn metrics_endpoint(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.settings.require_auth_for_metrics {
        if let Err(e) = state.auth.check(&headers).await {
            return ApiError::unauthorized(format!(
                "Unauthorized access to metrics endpoint: {}",
                e.message
            ))
            .into_response();
        }
    }
    let body = state.metrics.encode();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_carry_litellm_names_with_total_suffix() {
        let m = Metrics::new();
        m.record_proxy_request(&RequestLabels::default(), StatusCode::OK);
        let text = m.encode();
        assert!(text.contains("# TYPE litellm_proxy_total_requests_metric_total counter"));
        assert!(text.contains("litellm_proxy_total_requests_metric_total{end_user=\"None\""));
        assert!(text.contains("status_code=\"200\""));
        assert!(text.contains("# TYPE litellm_in_flight_requests gauge"));
        assert!(!text.contains("litellm_proxy_failed_requests_metric_total{"));
    }

    #[test]
    fn failures_are_counted_with_status_and_class() {
        let m = Metrics::new();
        m.record_proxy_request(&RequestLabels::default(), StatusCode::TOO_MANY_REQUESTS);
        let text = m.encode();
        assert!(text.contains("exception_status=\"429\""), "{text}");
        assert!(
            text.contains("exception_class=\"RateLimitError\""),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        let labels = RequestLabels {
            user_agent: Lv::new("evil\"agent\nx"),
            ..RequestLabels::default()
        };
        m.record_proxy_request(&labels, StatusCode::OK);
        let text = m.encode();
        assert!(text.contains("user_agent=\"evil\\\"agent\\nx\""), "{text}");
    }

    #[test]
    fn exception_class_is_prefixed_with_the_capitalized_provider() {
        assert_eq!(
            exception_class(Some("openai"), "RateLimitError"),
            "Openai.RateLimitError"
        );
        assert_eq!(exception_class(None, "Timeout"), "Timeout");
    }

    #[test]
    fn llm_routes_are_recognized() {
        assert!(is_llm_route("/v1/chat/completions"));
        assert!(is_llm_route("/openai/deployments/x/embeddings"));
        assert!(is_llm_route("/v1/messages"));
        assert!(!is_llm_route("/health"));
        assert!(!is_llm_route("/key/generate"));
    }
}
