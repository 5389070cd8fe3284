//! The metric registry ([`Metrics`]): every family, and what each recorded event adds to them.

#[allow(unused_imports)]
use super::*;

/// The labels of one deployment, built once.
#[derive(Clone, Debug)]
pub(super) struct DeploymentInfo {
    pub(super) litellm_model_name: Lv,
    pub(super) model_id: Lv,
    pub(super) api_base: Lv,
    pub(super) api_provider: Lv,
    /// The model without its provider prefix (LiteLLM's `model` label).
    pub(super) model: Lv,
}

impl DeploymentInfo {
    pub(super) fn new(id: &str, model: &str, provider: &str, api_base: Option<&str>) -> Self {
        let bare = model
            .strip_prefix(provider)
            .and_then(|m| m.strip_prefix('/'))
            .unwrap_or(model);
        DeploymentInfo {
            litellm_model_name: Lv::new(model),
            model_id: Lv::new(id),
            api_base: Lv::opt(api_base.map(crate::headers::public_api_base).as_deref()),
            api_provider: Lv::new(provider),
            model: Lv::new(bare),
        }
    }

    pub(super) fn labels(&self) -> DeploymentLabels {
        DeploymentLabels {
            litellm_model_name: self.litellm_model_name.clone(),
            model_id: self.model_id.clone(),
            api_base: self.api_base.clone(),
            api_provider: self.api_provider.clone(),
        }
    }
}

/// The deployment labels of a request-level metric (whose sets take none).
pub(super) const NO_DEPLOYMENT: DeploymentInfo = DeploymentInfo {
    litellm_model_name: Lv::NONE,
    model_id: Lv::NONE,
    api_base: Lv::NONE,
    api_provider: Lv::NONE,
    model: Lv::NONE,
};

/// The call labels of a metric whose set takes none.
pub(super) const NO_CALL: CallLabels = CallLabels {
    status_code: Lv::NONE,
    exception_status: Lv::NONE,
    exception_class: Lv::NONE,
    model_group: Lv::NONE,
};

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
    pub(super) registry: Registry,
    pub(super) proxy_total_requests: Family<ProxyRequestLabels, Counter>,
    pub(super) proxy_failed_requests: Family<ProxyFailedLabels, Counter>,
    pub(super) requests: Family<RequestsLabels, Counter>,
    pub(super) spend: Family<RequestsLabels, FloatCounter>,
    pub(super) total_tokens: Family<TokenLabels, Counter>,
    pub(super) input_tokens: Family<TokenLabels, Counter>,
    pub(super) output_tokens: Family<TokenLabels, Counter>,
    pub(super) request_total_latency: Histograms<TotalLatencyLabels>,
    pub(super) llm_api_latency: Histograms<ApiLatencyLabels>,
    pub(super) time_to_first_token: Histograms<ApiLatencyLabels>,
    pub(super) overhead_latency: Histograms<OverheadLabels>,
    pub(super) deployment_state: Family<DeploymentLabels, Gauge>,
    pub(super) deployment_success: Family<DeploymentCallLabels, Counter>,
    pub(super) deployment_failure: Family<DeploymentFailureLabels, Counter>,
    pub(super) remaining_key_budget: Family<KeyBudgetLabels, FloatGauge>,
    pub(super) remaining_team_budget: Family<TeamBudgetLabels, FloatGauge>,
    pub(super) cache_hits: Family<CacheLabels, Counter>,
    pub(super) cache_misses: Family<CacheLabels, Counter>,
    pub(super) in_flight: Gauge,
    pub(super) deployments: RwLock<HashMap<String, Arc<DeploymentInfo>>>,
    /// The most series a family with request labels holds (see [`Metrics::series`]).
    series_cap: AtomicUsize,
    /// How many series each bounded family holds, by the family's address (stable: the
    /// families live inside this `Metrics`, which is shared behind an `Arc` once built).
    series_counts: std::sync::Mutex<HashMap<usize, usize>>,
    /// Calls counted in a family's overflow series.
    series_overflow: Counter,
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
            series_overflow: reg!(
                "litellm_rs_metric_series_overflow",
                "Observations counted in a family's `other` series because the family already held its most series (see docs/observability.md)",
                Counter::default()
            ),
            series_cap: AtomicUsize::new(MAX_SERIES),
            series_counts: Default::default(),
            deployments: RwLock::new(HashMap::new()),
            registry,
        }
    }

    /// Sets the most series a family with request labels holds (default [`MAX_SERIES`]).
    pub fn set_series_cap(&self, cap: usize) {
        self.series_cap.store(cap, Ordering::Relaxed);
    }

    /// Applies `f` to `family`'s series for `labels`; once the family holds its most series,
    /// a new label set goes to the family's one `other` series instead (and is counted), so
    /// label values a client picks (user agents, forwarded addresses, keys) cannot grow memory
    /// or `/metrics` without bound.
    pub(super) fn series<L, M, C>(&self, family: &Family<L, M, C>, labels: &L, f: impl FnOnce(&M))
    where
        L: Overflow + Clone + std::hash::Hash + Eq,
        C: MetricConstructor<M>,
    {
        if let Some(series) = family.get(labels) {
            return f(&series);
        }
        // A new label set (the rare path): count it against the family's cap.
        let full = {
            let mut counts = self.series_counts.lock().unwrap_or_else(|p| p.into_inner());
            let held = counts.entry(family as *const _ as usize).or_insert(0);
            let full = *held >= self.series_cap.load(Ordering::Relaxed);
            if !full {
                *held += 1;
            }
            full
        };
        if full {
            self.series_overflow.inc();
            return f(&family.get_or_create(&L::overflow()));
        }
        f(&family.get_or_create(labels))
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

    pub(super) fn deployment_info(
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

    pub(super) fn info_for(&self, d: &Deployment) -> Arc<DeploymentInfo> {
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
                let success = DeploymentCallLabels::of(labels, &info, &NO_CALL);
                self.series(&self.deployment_success, &success, |c| {
                    c.inc();
                });
                let api = ApiLatencyLabels::of(labels, &info, &NO_CALL);
                let secs = elapsed.as_secs_f64();
                match kind {
                    AttemptKind::Stream => {
                        self.series(&self.time_to_first_token, &api, |h| h.observe(secs))
                    }
                    AttemptKind::Chat | AttemptKind::Embedding | AttemptKind::Family(_) => {
                        self.series(&self.llm_api_latency, &api, |h| h.observe(secs))
                    }
                }
            }
            Err(error) => {
                self.deployment_state
                    .get_or_create(&info.labels())
                    .set(DEPLOYMENT_PARTIAL_OUTAGE);
                let failure = CallLabels {
                    exception_status: Lv::new(crate::error::status_for(error).as_str()),
                    exception_class: Lv::new(&exception_class(
                        Some(deployment.backend.provider()),
                        error.kind.litellm_class(),
                    )),
                    ..CallLabels::default()
                };
                let failed = DeploymentFailureLabels::of(labels, &info, &failure);
                self.series(&self.deployment_failure, &failed, |c| {
                    c.inc();
                });
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
        let call = CallLabels {
            model_group: Lv::new(&r.model_group),
            ..CallLabels::default()
        };
        let requests = RequestsLabels::of(labels, &info, &call);
        self.series(&self.requests, &requests, |c| {
            c.inc();
        });
        if s.cost.is_finite() && s.cost > 0.0 {
            self.series(&self.spend, &requests, |c| {
                c.inc_by(s.cost);
            });
        }
        if let Some(u) = s.usage {
            let tokens = TokenLabels::of(labels, &info, &call);
            for (family, n) in [
                (&self.total_tokens, u.total_tokens),
                (&self.input_tokens, u.prompt_tokens),
                (&self.output_tokens, u.completion_tokens),
            ] {
                self.series(family, &tokens, |c| {
                    c.inc_by(n);
                });
            }
        }
        let total = TotalLatencyLabels::of(labels, &info, &call);
        self.series(&self.request_total_latency, &total, |h| {
            h.observe(s.total.as_secs_f64())
        });
        let overhead = OverheadLabels::of(labels, &info, &call);
        self.series(&self.overhead_latency, &overhead, |h| {
            h.observe(s.overhead.as_secs_f64() * 1000.0)
        });
        if let Some(api) = s.stream_api_latency {
            let latency = ApiLatencyLabels::of(labels, &info, &call);
            self.series(&self.llm_api_latency, &latency, |h| {
                h.observe(api.as_secs_f64())
            });
        }
        // LiteLLM reports +Inf for a key or team without a budget.
        let remaining =
            |b: Option<(f64, f64)>| b.map_or(f64::INFINITY, |(max, spent)| max - spent - s.cost);
        if labels.has_key {
            let key = KeyBudgetLabels::of(labels, &info, &call);
            self.series(&self.remaining_key_budget, &key, |g| {
                g.set(remaining(labels.key_budget));
            });
        }
        if labels.has_team {
            let team = TeamBudgetLabels::of(labels, &info, &call);
            self.series(&self.remaining_team_budget, &team, |g| {
                g.set(remaining(labels.team_budget));
            });
        }
    }

    pub(super) fn cache_labels(model: &str, model_id: Option<&str>) -> CacheLabels {
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
        self.series(
            &self.cache_hits,
            &Self::cache_labels(model, model_id),
            |c| {
                c.inc();
            },
        );
    }

    /// Counts a response-cache miss for `model`. For the response cache to call.
    pub fn record_cache_miss(&self, model: &str, model_id: Option<&str>) {
        self.series(
            &self.cache_misses,
            &Self::cache_labels(model, model_id),
            |c| {
                c.inc();
            },
        );
    }

    /// Counts one finished LLM-route request with its status.
    pub(super) fn record_proxy_request(
        &self,
        labels: &RequestLabels,
        status: StatusCode,
        class: &str,
    ) {
        let status_text = Lv::new(status.as_str());
        let call = CallLabels {
            status_code: status_text.clone(),
            exception_status: status_text,
            exception_class: Lv::new(class),
            ..CallLabels::default()
        };
        let total = ProxyRequestLabels::of(labels, &NO_DEPLOYMENT, &call);
        self.series(&self.proxy_total_requests, &total, |c| {
            c.inc();
        });
        if status.is_success() {
            return;
        }
        let failed = ProxyFailedLabels::of(labels, &NO_DEPLOYMENT, &call);
        self.series(&self.proxy_failed_requests, &failed, |c| {
            c.inc();
        });
    }
}
