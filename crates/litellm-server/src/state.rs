//! Shared server state: the router, the authenticator (with the ledger's store and key cache
//! behind virtual keys), the spend ledger and the settings the handlers read. Built once from a `ProxyConfig`; cheap to clone into every handler.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::task::TaskTracker;

use litellm_auth::{Ledger, MasterKey};
use litellm_router::Router;

use crate::auth::{Auth, KeyDb};
use crate::config::ProxyConfig;

/// Default request body limit in MiB (`general_settings.max_request_size_mb`).
pub const DEFAULT_MAX_REQUEST_SIZE_MB: f64 = 32.0;

/// Handler-facing settings derived from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Request body limit in bytes.
    pub body_limit: usize,
    /// `general_settings.always_include_stream_usage`.
    pub always_include_stream_usage: bool,
    /// `general_settings.disable_spend_logs`.
    pub disable_spend_logs: bool,
    /// `litellm_settings.include_cost_in_streaming_usage`: `usage.cost` in a stream's usage chunk.
    pub include_cost_in_streaming_usage: bool,
    /// `require_auth_for_metrics_endpoint` (litellm_settings or general_settings; default true).
    pub require_auth_for_metrics: bool,
    /// `litellm_settings.max_budget`, reported by `/global/spend`.
    pub global_max_budget: Option<f64>,
}

/// Everything a handler needs.
/// Everything a handler needs: one `Arc`, so the clone every handler and middleware layer takes
/// is a single reference-count increment. Fields are reached through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct AppStateInner {
    pub router: Router,
    pub auth: Auth,
    pub ledger: Option<Ledger>,
    pub settings: Arc<Settings>,
    /// Background spend-record tasks spawned by streams; awaited on shutdown.
    pub tasks: TaskTracker,
    /// Unix seconds the process started, for `/v1/models` `created`.
    pub started_at: u64,
    /// Prometheus metrics (`GET /metrics`); also the router's observer.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Deployment health: the latest `/health` results and the background checks.
    pub health: Arc<crate::service::health::checks::HealthChecks>,
    /// Key, user, team and per-model rate limits (in memory, or on the router's Redis handle).
    pub limiter: litellm_auth::RateLimiter,
    /// The response cache (`litellm_settings.cache: true`), if enabled.
    pub cache: Option<crate::cache::ResponseCache>,
    /// Access log, OpenTelemetry traces and `generic_api` webhooks (see `callbacks.rs`).
    pub callbacks: Arc<crate::callbacks::Callbacks>,
    /// Where budget reservations are kept (`budget_reserve.rs`).
    pub budget_reservations: crate::reservations::Reservations,
    /// The responses `/v1/responses` stored (`routes/responses/store.rs`).
    pub responses: crate::routes::responses::store::ResponseStore,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("router", &self.router)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for `config` with the given router and ledger.
    pub fn new(config: &ProxyConfig, router: Router, ledger: Option<Ledger>) -> Self {
        let general = &config.general_settings;
        let master_key = general.master_key.clone().map(MasterKey::new);
        let mb = general
            .max_request_size_mb
            .filter(|m| m.is_finite() && *m > 0.0)
            .unwrap_or(DEFAULT_MAX_REQUEST_SIZE_MB);
        let mut auth = Auth::new(master_key, general.litellm_key_header_name.clone())
            .with_router(router.clone());
        if let Some(l) = &ledger {
            auth = auth.with_key_db(KeyDb {
                store: l.store().clone(),
                cache: l.key_cache().clone(),
            });
        }
        if let Some(status) = config
            .litellm_settings
            .budget_exceeded_status_code
            .and_then(|c| axum::http::StatusCode::from_u16(c).ok())
        {
            auth = auth.with_budget_exceeded_status(status);
        }
        auth = auth.with_stale_keys_on_db_error(general.allow_requests_on_db_unavailable);
        let metrics = Arc::new(crate::metrics::Metrics::new());
        metrics.init_deployments(&router);
        router.set_observer(Arc::new(crate::callbacks::Observers(vec![
            Arc::new(crate::metrics::MetricsObserver(metrics.clone())),
            Arc::new(crate::callbacks::CallbackObserver),
        ])));
        let callbacks = Arc::new(crate::callbacks::Callbacks::from_config(config));
        let health = Arc::new(crate::service::health::checks::HealthChecks::from_config(
            config,
        ));
        // One Redis handle per server: the router's state, the rate limiter and (on the same
        // URL) the response cache share its pool and breaker.
        let redis = router.redis_handle();
        let limiter = crate::limits::limiter_for(&config.router_settings, redis.as_ref());
        let redis = redis.or_else(|| limiter.redis_handle().cloned());
        let budget_reservations = crate::reservations::Reservations::choose(
            config.general_settings.budget_reservations.as_deref(),
            ledger.as_ref().map(|l| l.store()),
        );
        let tasks = TaskTracker::new();
        let responses = crate::routes::responses::store::ResponseStore::new(
            ledger.as_ref().map(|l| l.store().clone()),
            tasks.clone(),
        );
        AppState(Arc::new(AppStateInner {
            router,
            auth,
            ledger,
            settings: Arc::new(Settings {
                body_limit: (mb * 1024.0 * 1024.0) as usize,
                always_include_stream_usage: general.always_include_stream_usage,
                disable_spend_logs: general.disable_spend_logs,
                include_cost_in_streaming_usage: config
                    .litellm_settings
                    .include_cost_in_streaming_usage
                    .unwrap_or(false),
                require_auth_for_metrics: general
                    .require_auth_for_metrics_endpoint
                    .or(config.litellm_settings.require_auth_for_metrics_endpoint)
                    .unwrap_or(true),
                global_max_budget: config.litellm_settings.max_budget,
            }),
            tasks,
            started_at: litellm_core::unix_now(),
            metrics,
            health,
            limiter,
            cache: crate::cache::from_config(config, redis.as_ref()),
            callbacks,
            budget_reservations,
            responses,
        }))
    }

    /// A copy of this state with another rate limiter (tests drive one on a manual clock).
    pub fn with_limiter(&self, limiter: litellm_auth::RateLimiter) -> AppState {
        let mut inner = (*self.0).clone();
        inner.limiter = limiter;
        AppState(Arc::new(inner))
    }

    /// The ledger to record spend into, unless spend logs are disabled.
    pub fn spend_ledger(&self) -> Option<&Ledger> {
        if self.settings.disable_spend_logs {
            None
        } else {
            self.ledger.as_ref()
        }
    }
}

/// `general_settings.user_api_key_cache_ttl` as a duration (default 60 s, LiteLLM's): how long
/// this replica trusts its cached keys, users and teams, so the longest an update, block or
/// delete made through another replica takes to reach this one.
pub fn key_cache_ttl(config: &ProxyConfig) -> Duration {
    config
        .general_settings
        .user_api_key_cache_ttl
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(60))
}

/// `proxy_batch_write_at` as a duration (default 10 s).
pub fn batch_interval(config: &ProxyConfig) -> Duration {
    config
        .general_settings
        .proxy_batch_write_at
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(10))
}
