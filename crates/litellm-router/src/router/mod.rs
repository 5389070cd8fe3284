//! The `Router`: resolves a model group (exact name, `model_group_alias`, then wildcard
//! patterns `*` / `provider/*`), picks a deployment with the configured strategy among those not
//! cooling down, under their `max_parallel_requests` and `rpm`/`tpm` (usage-based routing), and
//! fitting the prompt (`enable_pre_call_checks`), calls it with a timeout, retries retryable
//! failures (`num_retries`, `retry_policy`, `model_group_retry_policy`) on another deployment of
//! the group with LiteLLM's backoff, and when the group's retries are spent, falls back to other
//! groups (`fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`,
//! `default_fallbacks`, per-request `fallbacks`), each with its own retries.
//!
//! Cooldowns, failure counts and per-minute usage live in [`RouterState`] (memory, or Redis
//! shared by replicas); in-flight counts and latency samples are this replica's own.
//!
//! The configuration (groups, deployments, settings) is one immutable snapshot behind a lock
//! that [`Router::reload`] swaps; every call takes the snapshot once when it starts and keeps it
//! to the end (streams included), so a reload never disturbs a call in flight.

mod calls;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::time::Instant;

use futures::StreamExt;

use litellm_core::{
    CallContext, ChatRequest, ChatResponse, ChunkStream, EmbeddingRequest, EmbeddingResponse,
    ErrorKind, LlmError, NativeEventStream, NativeMessagesOutput, NativeMessagesRequest,
    UpstreamHeaders,
};

use crate::config::{DeploymentConfig, RouterSettings};
use crate::cooldown::{cooldown_key, parse_policy, policy_classes, Cooldowns};
use crate::deployment::{secs_to_duration, Deployment};
use crate::observer::{AttemptKind, RouterObserver};
use crate::options::RequestOptions;
use crate::state::RouterState;
use crate::strategy::{RoutingStrategy, Stats};

/// Where a call went and how it got there; the proxy turns this into `x-litellm-*` headers.
#[derive(Debug, Clone, Default)]
pub struct RouteInfo {
    /// The model group that served the call (after alias resolution).
    pub model_group: String,
    /// The serving deployment's id.
    pub deployment_id: String,
    /// Its provider (`openai`, `mock`, ...).
    pub provider: String,
    /// Its provider-prefixed model from the config.
    pub model: String,
    /// Its upstream base URL, if any.
    pub api_base: Option<String>,
    /// Retries made before the successful (or final) attempt.
    pub attempted_retries: u32,
    /// Fallback groups tried (always 0 until fallbacks land).
    pub attempted_fallbacks: u32,
    /// Time spent waiting on upstreams across all attempts (until the stream started, for streams).
    pub upstream_time: Duration,
    /// The serving upstream's response headers worth passing back.
    pub upstream_headers: UpstreamHeaders,
    /// Per-token prices configured on the deployment (`input_cost_per_token`, ...).
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    /// The deployment's effective prices (its own, then the price table's); `None` when the
    /// model has no price.
    pub prices: Option<litellm_providers::prices::TokenPrices>,
}

/// A routed chat completion.
#[derive(Debug, Clone)]
pub struct Completion {
    pub response: ChatResponse,
    pub route: RouteInfo,
}

/// A routed native Messages call (see [`Router::native_messages`]).
#[derive(Debug, Clone)]
pub struct NativeCompletion {
    pub output: NativeMessagesOutput,
    pub route: RouteInfo,
}

/// A routed native Messages stream: its first piece already arrived (or it ended empty).
pub struct NativeCompletionStream {
    pub stream: NativeEventStream,
    pub route: RouteInfo,
}

impl std::fmt::Debug for NativeCompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeCompletionStream")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

/// A routed chat stream: the first chunk already arrived (or the stream ended empty).
pub struct CompletionStream {
    pub stream: ChunkStream,
    pub route: RouteInfo,
}

impl std::fmt::Debug for CompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletionStream")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

/// A routed embeddings call.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub response: EmbeddingResponse,
    pub route: RouteInfo,
}

/// A routed failure: the last error and how far routing got.
#[derive(Debug, Clone)]
pub struct RouteError {
    pub error: LlmError,
    /// Filled when at least one deployment was tried.
    pub route: Option<RouteInfo>,
}

impl From<LlmError> for RouteError {
    fn from(error: LlmError) -> Self {
        RouteError { error, route: None }
    }
}

impl std::fmt::Display for RouteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for RouteError {}

/// Retry backoff, LiteLLM's `_time_to_sleep_before_retry`: no sleep when another deployment of
/// the group is untried; else the upstream's `retry-after` when within (0, 60] s; else
/// `initial * 2^attempt` clamped to `[retry_after_min, max]`, plus up to `jitter` of noise.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub jitter: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // LiteLLM's INITIAL_RETRY_DELAY, MAX_RETRY_DELAY and JITTER.
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
            jitter: Duration::from_millis(750),
        }
    }
}

impl Backoff {
    /// The sleep before retry number `attempt` (0-based) on the same deployment set.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, min: Duration) -> Duration {
        if let Some(ra) = retry_after.filter(|d| !d.is_zero() && *d <= Duration::from_secs(60)) {
            return ra.max(min);
        }
        let exp = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let base = exp.min(self.max).max(min);
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            use rand::Rng;
            self.jitter
                .mul_f64(rand::thread_rng().gen_range(0.0..1.0_f64))
        };
        base + jitter
    }
}

/// Recent latency samples of one deployment (seconds), newest last.
#[derive(Debug, Default)]
struct Samples(VecDeque<(tokio::time::Instant, f64)>);

impl Samples {
    fn push(&mut self, v: f64, max: usize) {
        self.0.push_back((tokio::time::Instant::now(), v));
        while self.0.len() > max {
            self.0.pop_front();
        }
    }

    fn average(&self, ttl: Duration) -> Option<f64> {
        let now = tokio::time::Instant::now();
        let (sum, n) = self
            .0
            .iter()
            .filter(|(t, _)| now.duration_since(*t) < ttl)
            .fold((0.0, 0u32), |(s, n), (_, v)| (s + v, n + 1));
        (n > 0).then(|| sum / f64::from(n))
    }
}

/// This replica's live counters for one deployment.
#[derive(Debug, Default)]
struct Live {
    in_flight: AtomicU64,
    latency: Mutex<Samples>,
    ttft: Mutex<Samples>,
}

/// Holds one in-flight slot of a deployment; released on drop (for streams, when the stream is
/// dropped).
struct InFlight {
    group: Arc<ModelGroup>,
    index: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.group.live[self.index]
            .in_flight
            .fetch_sub(1, Ordering::Relaxed);
    }
}

struct ModelGroup {
    name: String,
    deployments: Vec<Arc<Deployment>>,
    /// `cooldown:{id}` per deployment, index-aligned.
    cooldown_keys: Vec<String>,
    /// Index-aligned; shared with the previous configuration's deployment of the same id
    /// across a reload, so in-flight counts and latency samples carry over.
    live: Vec<Arc<Live>>,
}

impl ModelGroup {
    /// A group over `deployments`, taking each one's live counters out of `carried` (by
    /// deployment id) when a previous configuration had it.
    fn new(
        name: String,
        deployments: Vec<Arc<Deployment>>,
        carried: &mut HashMap<String, Arc<Live>>,
    ) -> Self {
        ModelGroup {
            cooldown_keys: deployments.iter().map(|d| cooldown_key(&d.id)).collect(),
            live: deployments
                .iter()
                .map(|d| carried.remove(&d.id).unwrap_or_default())
                .collect(),
            name,
            deployments,
        }
    }

    /// Its live counters by deployment id.
    fn live_by_id(&self, into: &mut HashMap<String, Arc<Live>>) {
        for (d, live) in self.deployments.iter().zip(&self.live) {
            into.entry(d.id.clone()).or_insert_with(|| live.clone());
        }
    }
}

/// Per-kind retries from `retry_policy` (class -> retries) and its `DefaultRetries`.
#[derive(Debug, Default, Clone)]
struct RetryPolicy {
    by_class: HashMap<&'static str, u32>,
    default: Option<u32>,
}

impl RetryPolicy {
    fn parse(
        setting: &str,
        map: &std::collections::BTreeMap<String, u32>,
    ) -> Result<Self, LlmError> {
        Ok(RetryPolicy {
            by_class: parse_policy(setting, "Retries", map, &["DefaultRetries"])?,
            default: map.get("DefaultRetries").copied(),
        })
    }

    fn for_kind(&self, kind: ErrorKind) -> Option<u32> {
        policy_classes(kind)
            .iter()
            .find_map(|c| self.by_class.get(c).copied())
            .or(self.default)
    }
}

/// How many wildcard materializations are kept (each a model string a client asked for).
const MAX_CONCRETE_GROUPS: usize = 1024;

/// One configuration snapshot: everything [`Router::reload`] replaces.
struct Inner {
    groups: HashMap<String, Arc<ModelGroup>>,
    /// Group names in config order, for `/v1/models`.
    group_order: Vec<String>,
    /// Wildcard group names (`*`, `anthropic/*`), most specific (longest) first.
    wildcards: Vec<String>,
    /// Groups built for concrete model names that matched a wildcard.
    concrete: RwLock<HashMap<String, Arc<ModelGroup>>>,
    /// Live counters of the previous configuration's wildcard materializations, by deployment
    /// id, taken when the same concrete model is built again.
    carried_concrete: Mutex<HashMap<String, Arc<Live>>>,
    /// alias -> (group, hidden)
    aliases: HashMap<String, (String, bool)>,
    settings: RouterSettings,
    strategy: RoutingStrategy,
    retry_policy: RetryPolicy,
    group_retry_policy: HashMap<String, RetryPolicy>,
    backoff: Backoff,
    /// The same store in every snapshot: it survives reloads.
    state: Arc<RouterState>,
    cooldowns: Cooldowns,
    /// The same in every snapshot: it survives reloads.
    common: Arc<Common>,
}

/// What outlives every configuration: the observer and the health checks' verdicts.
#[derive(Default)]
struct Common {
    /// Told about every attempt and cooldown (the proxy's metrics); see `observer.rs`.
    observer: RwLock<Option<Arc<dyn RouterObserver>>>,
    /// Deployment ids the last health check found unhealthy (`set_unhealthy`).
    unhealthy: RwLock<HashSet<String>>,
    /// Whether `unhealthy` is non-empty, so routing skips the lock in the common case.
    any_unhealthy: AtomicBool,
}

impl Common {
    fn observer(&self) -> Option<Arc<dyn RouterObserver>> {
        self.observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The router shared by the SDK and the proxy. Cheap to clone; clones share the configuration,
/// so [`Router::reload`] on one is seen by all.
#[derive(Clone)]
pub struct Router {
    shared: Arc<Shared>,
}

struct Shared {
    /// The configuration in force. A call clones the `Arc` once when it starts.
    current: RwLock<Arc<Inner>>,
    common: Arc<Common>,
    /// Serializes reloads, so each builds on the configuration it replaces.
    reload: Mutex<()>,
}

/// One call's view of the router: the snapshot it started with.
#[derive(Clone)]
struct Routing {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.load();
        f.debug_struct("Router")
            .field("groups", &inner.group_order)
            .field("strategy", &inner.strategy.name())
            .field("state", &inner.state.kind())
            .field("settings", &inner.settings)
            .finish()
    }
}

/// The call kinds the retry loop drives.
enum Call {
    Chat(ChatRequest),
    Stream(ChatRequest),
    Embed(EmbeddingRequest),
    /// A native Anthropic Messages call (non-streaming or streaming, by its body).
    Native(NativeMessagesRequest),
}

impl Call {
    fn is_stream(&self) -> bool {
        match self {
            Call::Stream(_) => true,
            Call::Native(r) => r.is_stream(),
            _ => false,
        }
    }

    fn kind(&self) -> AttemptKind {
        match self {
            Call::Chat(_) => AttemptKind::Chat,
            Call::Stream(_) => AttemptKind::Stream,
            Call::Native(r) if r.is_stream() => AttemptKind::Stream,
            Call::Native(_) => AttemptKind::Chat,
            Call::Embed(_) => AttemptKind::Embedding,
        }
    }

    /// The request's prompt size in tokens for `model` (see `tokens.rs`): exact for
    /// OpenAI-family models when `exact`, else estimated.
    fn input_tokens(&self, model: &str, exact: bool) -> u64 {
        match self {
            Call::Chat(r) | Call::Stream(r) if exact => {
                crate::tokens::chat_prompt_tokens_for(model, r)
            }
            Call::Chat(r) | Call::Stream(r) => crate::tokens::chat_prompt_tokens(r),
            Call::Embed(r) => crate::tokens::embedding_input_tokens(&r.input),
            Call::Native(r) => r.input_tokens,
        }
    }
}

enum Output {
    Chat(Box<ChatResponse>),
    Stream(ChunkStream),
    Embed(Box<EmbeddingResponse>),
    Native(Box<NativeMessagesOutput>),
    NativeStream(NativeEventStream),
}

/// Why no deployment could be picked.
enum NoPick {
    /// Every deployment is cooling down.
    CoolingDown,
    /// Every available deployment is at its `max_parallel_requests`.
    AtCapacity,
    /// Usage-based routing: every deployment is at its `rpm`/`tpm` this minute.
    OverLimits,
    /// Pre-call checks: the prompt fits no deployment's context window.
    ContextWindow { tokens: u64, largest: u64 },
}

impl Router {
    /// A router over `model_list` with default settings (LiteLLM's `Router(model_list=...)`).
    pub fn new(model_list: Vec<DeploymentConfig>) -> Result<Self, LlmError> {
        Self::with_settings(model_list, RouterSettings::default())
    }

    /// A router over `model_list` with the given settings; builds every deployment's backend.
    pub fn with_settings(
        model_list: Vec<DeploymentConfig>,
        settings: RouterSettings,
    ) -> Result<Self, LlmError> {
        Self::from_deployments(build_deployments(model_list)?, settings)
    }

    /// A router from LiteLLM `config.yaml` text (its `model_list` and `router_settings`).
    pub fn from_config_yaml(text: &str) -> Result<Self, LlmError> {
        let c = crate::config::RouterConfig::from_yaml(text)?;
        Self::with_settings(c.model_list, c.router_settings)
    }

    /// A router from a LiteLLM `config.yaml` file.
    pub fn from_config_file(path: impl AsRef<std::path::Path>) -> Result<Self, LlmError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            LlmError::client(
                ErrorKind::BadRequest,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::from_config_yaml(&text)
    }

    /// A router over deployments that already have backends (scripted backends in tests).
    /// With `redis_url`/`redis_host` set, router state is shared through Redis.
    pub fn from_deployments(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
    ) -> Result<Self, LlmError> {
        let state = crate::redis_store::state_for(&settings)?;
        Self::from_deployments_with_state(deployments, settings, state)
    }

    /// As [`Router::from_deployments`], over the given state (tests share one state between
    /// two routers to play two replicas).
    pub fn from_deployments_with_state(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
        state: RouterState,
    ) -> Result<Self, LlmError> {
        let common = Arc::new(Common::default());
        let inner = Inner::build(
            deployments,
            settings,
            Arc::new(state),
            common.clone(),
            Backoff::default(),
            Carried::default(),
        )?;
        Ok(Router {
            shared: Arc::new(Shared {
                current: RwLock::new(Arc::new(inner)),
                common,
                reload: Mutex::new(()),
            }),
        })
    }

    /// Replaces the model list and router settings, building every deployment's backend
    /// first: on error nothing changes. Calls and streams already running finish on the
    /// configuration they started with; new calls see the new one at once. See
    /// [`Router::reload_deployments`] for what carries over.
    pub fn reload(
        &self,
        model_list: Vec<DeploymentConfig>,
        settings: RouterSettings,
    ) -> Result<(), LlmError> {
        self.reload_deployments(build_deployments(model_list)?, settings)
    }

    /// As [`Router::reload`], over deployments that already have backends.
    ///
    /// What survives: the state store (cooldown marks, failure counts and per-minute usage,
    /// all keyed by deployment id, so a deployment whose id is unchanged keeps its cooldown and
    /// its `rpm`/`tpm` usage), this replica's in-flight counts and latency samples of
    /// deployments whose id is unchanged (ids are `model_info.id` or a hash of the config
    /// without credentials, so an unchanged entry, or one whose key was rotated, keeps its
    /// id), the observer, the health checks' unhealthy set (pruned to ids still configured),
    /// and the retry backoff. The Redis connection settings (`redis_*`) are not reloaded: the
    /// running store stays, and a change is logged.
    pub fn reload_deployments(
        &self,
        deployments: Vec<Deployment>,
        mut settings: RouterSettings,
    ) -> Result<(), LlmError> {
        let _serial = self.shared.reload.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.load();
        let running = &old.settings;
        if settings.redis_connection_url() != running.redis_connection_url()
            || settings.redis_timeout != running.redis_timeout
        {
            tracing::warn!(
                "router_settings.redis_*: the shared state store cannot change on reload; \
                 keeping the running one (restart to apply)"
            );
        }
        settings.redis_url = running.redis_url.clone();
        settings.redis_host = running.redis_host.clone();
        settings.redis_port = running.redis_port;
        settings.redis_password = running.redis_password.clone();
        settings.redis_db = running.redis_db;
        settings.redis_timeout = running.redis_timeout;
        let mut carried = Carried::default();
        for g in old.groups.values() {
            g.live_by_id(&mut carried.groups);
        }
        {
            let concrete = old.concrete.read().unwrap_or_else(|p| p.into_inner());
            for g in concrete.values() {
                g.live_by_id(&mut carried.concrete);
            }
        }
        let inner = Inner::build(
            deployments,
            settings,
            old.state.clone(),
            old.common.clone(),
            old.backoff,
            carried,
        )?;
        let ids: HashSet<&str> = inner
            .groups
            .values()
            .flat_map(|g| g.deployments.iter().map(|d| d.id.as_str()))
            .collect();
        {
            let mut unhealthy = self
                .shared
                .common
                .unhealthy
                .write()
                .unwrap_or_else(|p| p.into_inner());
            unhealthy.retain(|id| ids.contains(id.as_str()));
            self.shared
                .common
                .any_unhealthy
                .store(!unhealthy.is_empty(), Ordering::Release);
        }
        tracing::info!(
            models = ?inner.group_order,
            deployments = ids.len(),
            strategy = inner.strategy.name(),
            "router configuration reloaded"
        );
        *self
            .shared
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(inner);
        Ok(())
    }

    /// The configuration in force.
    fn load(&self) -> Arc<Inner> {
        self.shared
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A call's view: the configuration in force now, kept for the whole call.
    fn routing(&self) -> Routing {
        Routing { inner: self.load() }
    }
}

/// Live counters of the configuration being replaced, by deployment id.
#[derive(Default)]
struct Carried {
    groups: HashMap<String, Arc<Live>>,
    concrete: HashMap<String, Arc<Live>>,
}

/// Builds every deployment's backend, naming the failing entry (`model_list[i]: ...`).
fn build_deployments(model_list: Vec<DeploymentConfig>) -> Result<Vec<Deployment>, LlmError> {
    model_list
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Deployment::build(c).map_err(|mut e| {
                e.message = format!("model_list[{i}]: {}", e.message);
                e
            })
        })
        .collect()
}

impl Inner {
    /// Validates `settings` and groups `deployments` into a configuration snapshot.
    fn build(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
        state: Arc<RouterState>,
        common: Arc<Common>,
        backoff: Backoff,
        mut carried: Carried,
    ) -> Result<Self, LlmError> {
        let strategy =
            RoutingStrategy::parse(&settings.routing_strategy, &settings.routing_strategy_args)?;
        if settings.enable_pre_call_checks {
            // Load the tokenizer vocabularies off the request path (about 0.3 s, once).
            std::thread::spawn(crate::tokens::warm_up);
        }
        let mut by_name: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        let mut group_order = Vec::new();
        for d in deployments {
            let name = d.model_name.clone();
            by_name
                .entry(name.clone())
                .or_insert_with(|| {
                    group_order.push(name.clone());
                    Vec::new()
                })
                .push(Arc::new(d));
        }
        let groups: HashMap<String, Arc<ModelGroup>> = by_name
            .into_iter()
            .map(|(name, deps)| {
                let group = ModelGroup::new(name.clone(), deps, &mut carried.groups);
                (name, Arc::new(group))
            })
            .collect();
        let mut wildcards: Vec<String> = group_order
            .iter()
            .filter(|g| g.contains('*'))
            .cloned()
            .collect();
        wildcards.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut aliases = HashMap::new();
        for (alias, target) in &settings.model_group_alias {
            let (group, hidden) = match target {
                serde_json::Value::String(s) => (s.clone(), false),
                serde_json::Value::Object(o) => (
                    o.get("model")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    o.get("hidden").and_then(|v| v.as_bool()).unwrap_or(false),
                ),
                _ => (String::new(), false),
            };
            if !groups.contains_key(&group) {
                return Err(LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "router_settings.model_group_alias.{alias}: no model group named '{group}'"
                    ),
                ));
            }
            aliases.insert(alias.clone(), (group, hidden));
        }
        let retry_policy = RetryPolicy::parse("retry_policy", &settings.retry_policy)?;
        let group_retry_policy = settings
            .model_group_retry_policy
            .iter()
            .map(|(g, m)| {
                RetryPolicy::parse(&format!("model_group_retry_policy.{g}"), m)
                    .map(|p| (g.clone(), p))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let fails_policy = parse_policy(
            "allowed_fails_policy",
            "AllowedFails",
            &settings.allowed_fails_policy,
            &[],
        )?;
        let cooldowns = Cooldowns::new(
            state.clone(),
            settings.allowed_fails,
            fails_policy,
            secs_to_duration(settings.cooldown_time).unwrap_or(Duration::ZERO),
            settings.disable_cooldowns,
        );
        Ok(Inner {
            groups,
            group_order,
            wildcards,
            concrete: RwLock::new(HashMap::new()),
            carried_concrete: Mutex::new(carried.concrete),
            aliases,
            settings,
            strategy,
            retry_policy,
            group_retry_policy,
            backoff,
            state,
            cooldowns,
            common,
        })
    }
}

impl Router {
    /// Sets the observer told about every attempt and cooldown (see [`RouterObserver`]).
    pub fn with_observer(self, observer: Arc<dyn RouterObserver>) -> Self {
        self.set_observer(observer);
        self
    }

    /// Sets (or replaces) the observer on this router and every clone of it; it stays across
    /// reloads.
    pub fn set_observer(&self, observer: Arc<dyn RouterObserver>) {
        *self
            .shared
            .common
            .observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    /// Marks the deployments with these ids unhealthy (replacing the previous set), as the
    /// proxy's background health checks do. Routing skips an unhealthy deployment while
    /// another deployment of its group that is not cooling down is healthy; when none is, the
    /// unhealthy ones are still tried (the health check may be stale).
    pub fn set_unhealthy(&self, ids: impl IntoIterator<Item = String>) {
        let set: HashSet<String> = ids.into_iter().collect();
        let any = !set.is_empty();
        let common = &self.shared.common;
        *common.unhealthy.write().unwrap_or_else(|p| p.into_inner()) = set;
        common.any_unhealthy.store(any, Ordering::Release);
    }

    /// The Redis handle router state is shared through (`None`: state in memory only). The
    /// proxy runs its rate limiter and, on the same server, its response cache on it, so one
    /// pool and one breaker serve them all.
    pub fn redis_handle(&self) -> Option<crate::redis::RedisHandle> {
        self.load().state.redis_handle().cloned()
    }

    /// Pings the shared state store (Redis): `None` when router state is in memory only.
    pub async fn ping_state_store(&self) -> Option<Result<(), crate::state::StateError>> {
        let state = self.load().state.clone();
        state.ping_remote().await
    }

    /// The ids of the deployments currently marked unhealthy, sorted.
    pub fn unhealthy_deployments(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .shared
            .common
            .unhealthy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// Replaces the retry backoff (tests use a zero backoff to stay fast); it stays across
    /// reloads. Call it right after construction: on a router that was already cloned it
    /// changes nothing.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            let current = shared.current.get_mut().unwrap_or_else(|p| p.into_inner());
            if let Some(inner) = Arc::get_mut(current) {
                inner.backoff = backoff;
            }
        }
        self
    }

    /// The settings in force (a copy: a reload may replace them).
    pub fn settings(&self) -> RouterSettings {
        self.load().settings.clone()
    }

    /// The routing strategy in force.
    pub fn strategy(&self) -> RoutingStrategy {
        self.load().strategy.clone()
    }

    /// Where router state lives: `memory` or `redis`.
    pub fn state_kind(&self) -> &'static str {
        self.load().state.kind()
    }

    /// Model names clients may ask for: every group in config order, then visible aliases.
    pub fn model_names(&self) -> Vec<String> {
        let inner = self.load();
        let mut names = inner.group_order.clone();
        let mut aliases: Vec<_> = inner
            .aliases
            .iter()
            .filter(|(_, (_, hidden))| !hidden)
            .map(|(a, _)| a.clone())
            .collect();
        aliases.sort();
        names.extend(aliases);
        names
    }

    /// Every deployment, in config order of their groups.
    pub fn deployments(&self) -> Vec<Arc<Deployment>> {
        let inner = self.load();
        inner
            .group_order
            .iter()
            .filter_map(|g| inner.groups.get(g))
            .flat_map(|g| g.deployments.iter().cloned())
            .collect()
    }

    /// The group a requested model name resolves to, if any: an exact group, an alias, or
    /// (returned as the pattern) the most specific wildcard group matching it.
    pub fn resolve_group(&self, model: &str) -> Option<String> {
        let inner = self.load();
        if inner.groups.contains_key(model) {
            return Some(model.to_string());
        }
        if let Some((g, _)) = inner.aliases.get(model) {
            return Some(g.clone());
        }
        inner
            .wildcards
            .iter()
            .find(|w| wildcard_capture(w, model).is_some())
            .cloned()
    }
}

impl Routing {
    /// The group serving `model`: exact or alias, else a group built from the matching
    /// wildcard group's deployments with `*` in their model replaced by what it matched.
    fn group_for(&self, model: &str) -> Result<Arc<ModelGroup>, LlmError> {
        if let Some(g) = self.inner.groups.get(model) {
            return Ok(g.clone());
        }
        if let Some(g) = self
            .inner
            .aliases
            .get(model)
            .and_then(|(g, _)| self.inner.groups.get(g))
        {
            return Ok(g.clone());
        }
        {
            let cache = self
                .inner
                .concrete
                .read()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(g) = cache.get(model) {
                return Ok(g.clone());
            }
        }
        let (pattern, captured) = self
            .inner
            .wildcards
            .iter()
            .find_map(|w| wildcard_capture(w, model).map(|c| (w, c)))
            .ok_or_else(|| Self::unknown_model(model))?;
        let template = self
            .inner
            .groups
            .get(pattern)
            .ok_or_else(|| Self::unknown_model(model))?;
        let deployments = template
            .deployments
            .iter()
            .map(|d| {
                let mut config = d.config.clone();
                config.model_name = model.to_string();
                let m = &mut config.litellm_params.provider.model;
                if m.contains('*') {
                    *m = m.replacen('*', captured, 1);
                }
                if let Some(id) = config.model_info.id.as_mut() {
                    id.push(':');
                    id.push_str(model);
                }
                Deployment::build(config).map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let group = {
            let mut carried = self
                .inner
                .carried_concrete
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            Arc::new(ModelGroup::new(
                model.to_string(),
                deployments,
                &mut carried,
            ))
        };
        let mut cache = self
            .inner
            .concrete
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if cache.len() < MAX_CONCRETE_GROUPS {
            cache.insert(model.to_string(), group.clone());
        }
        Ok(group)
    }

    fn unknown_model(model: &str) -> LlmError {
        LlmError::bad_param(
            "model",
            format!(
                "Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
            ),
        )
    }

    /// Runs `call` on the requested group and, when that fails, on its fallback groups in turn
    /// (each with its own retries), up to `max_fallbacks` of them.
    async fn run(
        &self,
        model: &str,
        call: Call,
        request: RequestOptions,
    ) -> Result<(Output, RouteInfo), RouteError> {
        let group = self.group_for(model)?;
        let mut last = match self.run_group(&group, &call, &request).await {
            Ok(ok) => return Ok(ok),
            Err(e) => e,
        };
        if request.disable_fallbacks || !Self::falls_back_on(&last.error) {
            return Err(last);
        }
        let chain = self.fallback_chain(&group.name, &last.error, request.fallbacks.clone());
        let max = self.inner.settings.max_fallbacks as usize;
        for (i, fallback) in chain.iter().take(max).enumerate() {
            let target = match self.group_for(fallback) {
                Ok(g) => g,
                Err(_) => {
                    tracing::warn!(model_group = %group.name, fallback = %fallback, "fallback names no model group; skipped");
                    continue;
                }
            };
            tracing::debug!(from = %group.name, to = %target.name, kind = ?last.error.kind, "falling back");
            let attempted = i as u32 + 1;
            match self.run_group(&target, &call, &request).await {
                Ok((output, mut route)) => {
                    route.attempted_fallbacks = attempted;
                    return Ok((output, route));
                }
                Err(mut e) => {
                    if let Some(route) = e.route.as_mut() {
                        route.attempted_fallbacks = attempted;
                    }
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// Whether an error may be cured by another model group: every upstream failure except a
    /// plain bad request (the same request would be refused there too). Context-window and
    /// content-policy errors have their own kinds and do fall back.
    fn falls_back_on(error: &LlmError) -> bool {
        error.origin == litellm_core::ErrorSource::Upstream && error.kind != ErrorKind::BadRequest
    }

    /// The fallback groups for `group` after `error`, in LiteLLM's order: per-request
    /// `fallbacks` if given; else the context-window or content-policy list for those errors;
    /// then the generic `fallbacks`; then the `"*"` entry or `default_fallbacks`.
    fn fallback_chain(&self, group: &str, error: &LlmError, request: Vec<String>) -> Vec<String> {
        if !request.is_empty() {
            return request;
        }
        let s = &self.inner.settings;
        let lookup = |lists: &[crate::config::FallbackMap], key: &str| -> Option<Vec<String>> {
            lists.iter().find_map(|m| m.get(key).cloned())
        };
        let specific = match error.kind {
            ErrorKind::ContextWindowExceeded => lookup(&s.context_window_fallbacks, group),
            ErrorKind::ContentPolicyViolation => lookup(&s.content_policy_fallbacks, group),
            _ => None,
        };
        specific
            .or_else(|| lookup(&s.fallbacks, group))
            .or_else(|| lookup(&s.fallbacks, "*"))
            .or_else(|| (!s.default_fallbacks.is_empty()).then(|| s.default_fallbacks.clone()))
            .unwrap_or_default()
            .into_iter()
            .filter(|g| g != group)
            .collect()
    }

    /// Retries allowed after an error of `kind` in `group`: the per-request `num_retries`,
    /// else the group's then the router's `retry_policy` entry for the kind, else the
    /// deployment's or router's `num_retries`.
    fn retries_for(
        &self,
        group: &ModelGroup,
        kind: ErrorKind,
        request: Option<u32>,
    ) -> (u32, bool) {
        if let Some(n) = request {
            return (n, false);
        }
        let policy = self
            .inner
            .group_retry_policy
            .get(&group.name)
            .and_then(|p| p.for_kind(kind))
            .or_else(|| self.inner.retry_policy.for_kind(kind));
        if let Some(n) = policy {
            return (n, true);
        }
        let n = group
            .deployments
            .iter()
            .find_map(|d| d.config.litellm_params.num_retries)
            .unwrap_or(self.inner.settings.num_retries);
        (n, false)
    }

    /// The retry loop of one model group, shared by every call kind.
    async fn run_group(
        &self,
        group: &Arc<ModelGroup>,
        call: &Call,
        request: &RequestOptions,
    ) -> Result<(Output, RouteInfo), RouteError> {
        let settings = &self.inner.settings;
        let retry_min = secs_to_duration(settings.retry_after).unwrap_or(Duration::ZERO);
        let needs_tokens = settings.enable_pre_call_checks || self.inner.strategy.uses_usage();
        // Pre-call checks count exactly (tiktoken) when the group serves an OpenAI-family
        // model; the usage-based `tpm` check alone uses the cheap estimate.
        let input_tokens = if needs_tokens {
            let model = group
                .deployments
                .first()
                .map(|d| {
                    d.config
                        .model_info
                        .base_model
                        .as_deref()
                        .or(d.config.litellm_params.base_model.as_deref())
                        .unwrap_or_else(|| d.model())
                })
                .unwrap_or_default();
            call.input_tokens(model, settings.enable_pre_call_checks)
        } else {
            0
        };

        let mut tried: Vec<usize> = Vec::new();
        let mut retries = 0u32;
        let mut upstream_time = Duration::ZERO;
        let mut last: Option<RouteError> = None;
        loop {
            let (index, slot) = match self.pick(group, &tried, input_tokens, call).await {
                Ok(picked) => picked,
                Err(why) => {
                    // Mid-retries, report the failure that got us here; otherwise fail fast,
                    // without calling a deployment known to be down or full.
                    return Err(last.unwrap_or_else(|| self.no_pick_error(group, why).into()));
                }
            };
            let deployment = &group.deployments[index];
            let started = Instant::now();
            let result = self.attempt(deployment, call, slot, request).await;
            let elapsed = started.elapsed();
            upstream_time += elapsed;
            let observer = self.inner.common.observer();
            if let Some(o) = &observer {
                let outcome = match &result {
                    Ok(_) => Ok(elapsed),
                    Err(e) => Err(e),
                };
                o.on_attempt_end(deployment, &group.name, call.kind(), outcome);
            }
            let mut route = RouteInfo {
                model_group: group.name.clone(),
                deployment_id: deployment.id.clone(),
                provider: deployment.backend.provider().to_string(),
                model: deployment.model().to_string(),
                api_base: deployment.backend.api_base().map(str::to_string),
                attempted_retries: retries,
                attempted_fallbacks: 0,
                upstream_time,
                upstream_headers: Vec::new(),
                input_cost_per_token: deployment
                    .config
                    .litellm_params
                    .input_cost_per_token
                    .or(deployment.config.model_info.input_cost_per_token),
                output_cost_per_token: deployment
                    .config
                    .litellm_params
                    .output_cost_per_token
                    .or(deployment.config.model_info.output_cost_per_token),
                prices: crate::strategy::deployment_prices(deployment),
            };
            match result {
                Ok((output, headers)) => {
                    route.upstream_headers = headers;
                    let output = self.on_success(group, index, output, elapsed);
                    return Ok((output, route));
                }
                Err(error) => {
                    if error.kind == ErrorKind::Timeout {
                        // LiteLLM's latency penalty for a timeout.
                        self.record_latency(group, index, call.is_stream(), 1000.0);
                    }
                    let multi = group.deployments.len() > 1;
                    if self
                        .inner
                        .cooldowns
                        .record_failure(
                            &deployment.id,
                            error.kind,
                            multi,
                            deployment.cooldown_time(),
                        )
                        .await
                    {
                        tracing::warn!(
                            deployment = %deployment.id,
                            model_group = %group.name,
                            kind = ?error.kind,
                            "deployment cooled down"
                        );
                        if let Some(o) = &observer {
                            o.on_cooldown(deployment, &group.name, &error);
                        }
                    }
                    let (num_retries, from_policy) =
                        self.retries_for(group, error.kind, request.num_retries);
                    let retryable = (from_policy && num_retries > 0)
                        || error.is_retryable()
                        || (multi
                            && matches!(
                                error.kind,
                                ErrorKind::Authentication | ErrorKind::PermissionDenied
                            ));
                    tracing::debug!(
                        deployment = %deployment.id,
                        model_group = %group.name,
                        kind = ?error.kind,
                        retries,
                        "attempt failed"
                    );
                    let failure = RouteError {
                        error,
                        route: Some(route),
                    };
                    if !retryable || retries >= num_retries {
                        return Err(failure);
                    }
                    if !tried.contains(&index) {
                        tried.push(index);
                    }
                    let untried_left = tried.len() < group.deployments.len();
                    if !untried_left {
                        let delay =
                            self.inner
                                .backoff
                                .delay(retries, failure.error.retry_after, retry_min);
                        tokio::time::sleep(delay).await;
                    }
                    last = Some(failure);
                    retries += 1;
                }
            }
        }
    }

    /// Bookkeeping after a successful attempt: latency samples, and for usage-based routing
    /// the tokens used this minute (for streams, once the usage chunk passes by).
    fn on_success(
        &self,
        group: &Arc<ModelGroup>,
        index: usize,
        output: Output,
        elapsed: Duration,
    ) -> Output {
        let secs = elapsed.as_secs_f64();
        let tokens_key = self
            .inner
            .strategy
            .uses_usage()
            .then(|| usage_keys(&group.deployments[index].id).1);
        match output {
            Output::Chat(response) => {
                let usage = response.usage.as_ref();
                let completion = usage.map_or(0, |u| u.completion_tokens);
                self.record_latency(group, index, false, per_token(secs, completion));
                if let (Some(key), Some(u)) = (tokens_key, usage) {
                    self.spawn_tokens(key, u.total_tokens);
                }
                Output::Chat(response)
            }
            Output::Embed(response) => {
                self.record_latency(group, index, false, secs);
                if let (Some(key), Some(u)) = (tokens_key, response.usage.as_ref()) {
                    self.spawn_tokens(key, u.total_tokens);
                }
                Output::Embed(response)
            }
            Output::Native(output) => {
                let completion = output.usage.completion_tokens;
                self.record_latency(group, index, false, per_token(secs, completion));
                if let Some(key) = tokens_key {
                    self.spawn_tokens(key, output.usage.total_tokens);
                }
                Output::Native(output)
            }
            Output::NativeStream(stream) => {
                self.record_latency(group, index, true, secs);
                match tokens_key {
                    None => Output::NativeStream(stream),
                    Some(key) => {
                        let router = self.clone();
                        let mut key = Some(key);
                        Output::NativeStream(Box::pin(stream.inspect(move |item| {
                            let Ok(piece) = item else { return };
                            for chunk in piece.chunks.iter().flatten() {
                                if let (Some(u), Some(_)) = (chunk.usage.as_ref(), key.as_ref()) {
                                    if let Some(k) = key.take() {
                                        router.spawn_tokens(k, u.total_tokens);
                                    }
                                }
                            }
                        })))
                    }
                }
            }
            Output::Stream(stream) => {
                // `attempt` resolved at the first chunk: `elapsed` is the time to first token.
                self.record_latency(group, index, true, secs);
                match tokens_key {
                    None => Output::Stream(stream),
                    Some(key) => {
                        let router = self.clone();
                        let mut key = Some(key);
                        Output::Stream(Box::pin(stream.inspect(move |item| {
                            if let Ok(chunk) = item {
                                if let (Some(u), Some(_)) = (chunk.usage.as_ref(), key.as_ref()) {
                                    if let Some(k) = key.take() {
                                        router.spawn_tokens(k, u.total_tokens);
                                    }
                                }
                            }
                        })))
                    }
                }
            }
        }
    }

    /// Adds `tokens` to a per-minute token counter off the request path.
    fn spawn_tokens(&self, key: String, tokens: u64) {
        if tokens == 0 {
            return;
        }
        let state = self.inner.state.clone();
        tokio::spawn(async move {
            state
                .incr(&key, tokens.min(i64::MAX as u64) as i64, USAGE_TTL)
                .await;
        });
    }

    fn record_latency(&self, group: &ModelGroup, index: usize, stream: bool, secs: f64) {
        let RoutingStrategy::LatencyBased { max_samples, .. } = self.inner.strategy else {
            return;
        };
        let live = &group.live[index];
        let samples = if stream { &live.ttft } else { &live.latency };
        samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(secs, max_samples);
    }

    /// The error for a group where no deployment could be picked. Each counts as an upstream
    /// failure, so fallbacks apply.
    fn no_pick_error(&self, group: &ModelGroup, why: NoPick) -> LlmError {
        match why {
            NoPick::CoolingDown => self.all_cooling_down(group),
            NoPick::AtCapacity => LlmError::upstream(
                ErrorKind::RateLimited,
                format!(
                    "No deployments available for selected model, Try again in 1 seconds. Passed model={}. Every deployment is at its max_parallel_requests.",
                    group.name
                ),
            )
            .with_status(429)
            .with_retry_after(Some(Duration::from_secs(1))),
            NoPick::OverLimits => {
                let wait = Duration::from_secs(60 - (litellm_core::unix_now() % 60));
                LlmError::upstream(
                    ErrorKind::RateLimited,
                    format!(
                        "No deployments available for selected model, Try again in {} seconds. Passed model={}. Every deployment is at its rpm/tpm limit for this minute.",
                        wait.as_secs(),
                        group.name
                    ),
                )
                .with_status(429)
                .with_retry_after(Some(wait))
            }
            NoPick::ContextWindow { tokens, largest } => LlmError::upstream(
                ErrorKind::ContextWindowExceeded,
                format!(
                    "Context window exceeded: the prompt has about {tokens} tokens; the largest context window in model group {} is {largest} (enable_pre_call_checks).",
                    group.name
                ),
            )
            .with_status(400),
        }
    }

    /// LiteLLM's answer when every deployment of a group is cooling down: a 429 with the time
    /// until the first one is back.
    fn all_cooling_down(&self, group: &ModelGroup) -> LlmError {
        // The caller just read the marks; the local mirror is current enough for the message.
        let wait = self
            .inner
            .state
            .local_marked(&group.cooldown_keys)
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::from_secs(1));
        LlmError::upstream(
            ErrorKind::RateLimited,
            format!(
                "No deployments available for selected model, Try again in {} seconds. Passed model={}. All deployments are cooling down after repeated failures.",
                wait.as_secs_f64().ceil() as u64,
                group.name
            ),
        )
        .with_status(429)
        .with_retry_after(Some(wait))
    }

    /// The in-flight cap of a deployment, if any.
    fn max_parallel(&self, d: &Deployment) -> Option<u64> {
        d.config
            .litellm_params
            .max_parallel_requests
            .or(self.inner.settings.default_max_parallel_requests)
            .map(u64::from)
    }

    /// Picks a deployment: not cooling down, under its `max_parallel_requests`, fitting the
    /// prompt (pre-call checks), untried if possible, in the lowest `order` tier, chosen by the
    /// strategy; under usage-based routing its `rpm` is reserved atomically. Returns its index
    /// and its in-flight slot.
    async fn pick(
        &self,
        group: &Arc<ModelGroup>,
        tried: &[usize],
        input_tokens: u64,
        call: &Call,
    ) -> Result<(usize, InFlight), NoPick> {
        let marks = self.inner.cooldowns.remaining(&group.cooldown_keys).await;
        let mut available: Vec<usize> = (0..group.deployments.len())
            .filter(|&i| marks[i].is_none())
            .collect();
        if available.is_empty() {
            return Err(NoPick::CoolingDown);
        }
        if self.inner.common.any_unhealthy.load(Ordering::Acquire) {
            let unhealthy = self
                .inner
                .common
                .unhealthy
                .read()
                .unwrap_or_else(|p| p.into_inner());
            let healthy: Vec<usize> = available
                .iter()
                .copied()
                .filter(|&i| !unhealthy.contains(&group.deployments[i].id))
                .collect();
            if !healthy.is_empty() {
                available = healthy;
            }
        }
        available.retain(|&i| {
            self.max_parallel(&group.deployments[i])
                .is_none_or(|cap| group.live[i].in_flight.load(Ordering::Relaxed) < cap)
        });
        if available.is_empty() {
            return Err(NoPick::AtCapacity);
        }
        if self.inner.settings.enable_pre_call_checks {
            let windows: Vec<Option<u64>> = available
                .iter()
                .map(|&i| context_window(&group.deployments[i]))
                .collect();
            let fits: Vec<usize> = available
                .iter()
                .zip(&windows)
                .filter(|(_, w)| w.is_none_or(|w| input_tokens <= w))
                .map(|(i, _)| *i)
                .collect();
            if fits.is_empty() {
                let largest = windows.into_iter().flatten().max().unwrap_or(0);
                return Err(NoPick::ContextWindow {
                    tokens: input_tokens,
                    largest,
                });
            }
            available = fits;
        }
        let untried: Vec<usize> = available
            .iter()
            .copied()
            .filter(|i| !tried.contains(i))
            .collect();
        let pool = if untried.is_empty() {
            available
        } else {
            untried
        };
        let best_order = pool
            .iter()
            .map(|&i| group.deployments[i].order())
            .min()
            .ok_or(NoPick::CoolingDown)?;
        let mut tier: Vec<usize> = pool
            .into_iter()
            .filter(|&i| group.deployments[i].order() == best_order)
            .collect();
        let strategy = &self.inner.strategy;
        loop {
            let stats = self.stats(group, &tier, call).await;
            let refs: Vec<&Deployment> = tier
                .iter()
                .map(|&i| group.deployments[i].as_ref())
                .collect();
            let Some(j) = strategy.pick(&refs, &stats, input_tokens) else {
                return Err(if strategy.uses_usage() {
                    NoPick::OverLimits
                } else {
                    NoPick::AtCapacity
                });
            };
            let index = tier[j];
            let deployment = &group.deployments[index];
            if strategy.uses_usage() {
                if let Some(rpm) = deployment.config.litellm_params.rpm {
                    let (rpm_key, _) = usage_keys(&deployment.id);
                    let used = self.inner.state.incr(&rpm_key, 1, USAGE_TTL).await;
                    if used > rpm.min(i64::MAX as u64) as i64 {
                        // Another request (maybe on another replica) took the last slot.
                        self.inner.state.incr(&rpm_key, -1, USAGE_TTL).await;
                        tier.remove(j);
                        continue;
                    }
                }
            }
            let cap = self.max_parallel(deployment).unwrap_or(u64::MAX);
            let acquired = group.live[index]
                .in_flight
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < cap).then_some(n + 1)
                })
                .is_ok();
            if !acquired {
                tier.remove(j);
                continue;
            }
            return Ok((
                index,
                InFlight {
                    group: group.clone(),
                    index,
                },
            ));
        }
    }

    /// The stats the strategy reads, for the deployments at `indices`.
    async fn stats(&self, group: &ModelGroup, indices: &[usize], call: &Call) -> Vec<Stats> {
        let mut stats: Vec<Stats> = indices
            .iter()
            .map(|&i| Stats {
                in_flight: group.live[i].in_flight.load(Ordering::Relaxed),
                ..Stats::default()
            })
            .collect();
        match &self.inner.strategy {
            RoutingStrategy::UsageBased => {
                let keys: Vec<String> = indices
                    .iter()
                    .flat_map(|&i| {
                        let (r, t) = usage_keys(&group.deployments[i].id);
                        [r, t]
                    })
                    .collect();
                let values = self.inner.state.get(&keys).await;
                for (s, pair) in stats.iter_mut().zip(values.chunks(2)) {
                    s.rpm_used = pair.first().copied().unwrap_or(0).max(0) as u64;
                    s.tpm_used = pair.get(1).copied().unwrap_or(0).max(0) as u64;
                }
            }
            RoutingStrategy::LatencyBased { ttl, .. } => {
                for (s, &i) in stats.iter_mut().zip(indices) {
                    let live = &group.live[i];
                    let read = |m: &Mutex<Samples>| {
                        m.lock().unwrap_or_else(|p| p.into_inner()).average(*ttl)
                    };
                    s.latency = if call.is_stream() {
                        read(&live.ttft).or_else(|| read(&live.latency))
                    } else {
                        read(&live.latency)
                    };
                }
            }
            _ => {}
        }
        stats
    }

    async fn attempt(
        &self,
        deployment: &Deployment,
        call: &Call,
        slot: InFlight,
        request: &RequestOptions,
    ) -> Result<(Output, UpstreamHeaders), LlmError> {
        let settings = &self.inner.settings;
        let timeout = deployment
            .timeout()
            .or_else(|| secs_to_duration(settings.timeout))
            .unwrap_or(Duration::from_secs(600));
        let timeout = request.timeout.map_or(timeout, |t| t.min(timeout));
        let ctx = CallContext {
            timeout: Some(timeout),
            extra_headers: request.extra_headers.clone(),
        };
        let provider = deployment.backend.provider().to_string();
        let timed_out = |d: Duration| {
            LlmError::upstream(
                ErrorKind::Timeout,
                format!(
                    "Request timed out after {:.1} s (model={})",
                    d.as_secs_f64(),
                    deployment.model()
                ),
            )
            .with_status(408)
            .with_provider(provider.clone())
        };
        match call {
            Call::Chat(req) => {
                let fut = deployment.backend.chat(req.clone(), &ctx);
                let out = tokio::time::timeout(timeout, fut)
                    .await
                    .map_err(|_| timed_out(timeout))??;
                drop(slot);
                Ok((Output::Chat(Box::new(out.response)), out.upstream_headers))
            }
            Call::Embed(req) => {
                let fut = deployment.backend.embed(req.clone(), &ctx);
                let out = tokio::time::timeout(timeout, fut)
                    .await
                    .map_err(|_| timed_out(timeout))??;
                drop(slot);
                Ok((Output::Embed(Box::new(out.response)), out.upstream_headers))
            }
            Call::Native(req) if !req.is_stream() => {
                let fut = deployment.backend.native_messages(req.clone(), &ctx);
                let out = tokio::time::timeout(timeout, fut)
                    .await
                    .map_err(|_| timed_out(timeout))??;
                drop(slot);
                let headers = out.upstream_headers.clone();
                Ok((Output::Native(Box::new(out)), headers))
            }
            Call::Native(req) => {
                let first_timeout = deployment
                    .stream_timeout()
                    .or_else(|| settings.stream_timeout.and_then(secs_to_duration))
                    .unwrap_or(timeout);
                let started = async {
                    let out = deployment
                        .backend
                        .native_messages_stream(req.clone(), &ctx)
                        .await?;
                    let mut stream = out.stream;
                    let first = stream.next().await;
                    Ok::<_, LlmError>((first, stream, out.upstream_headers))
                };
                let (first, rest, headers) = tokio::time::timeout(first_timeout, started)
                    .await
                    .map_err(|_| timed_out(first_timeout))??;
                let stream: NativeEventStream = match first {
                    Some(Err(e)) => return Err(e),
                    // An `error` event before anything else (overloaded, ...) fails the attempt.
                    Some(Ok(piece))
                        if piece.chunks.first().is_some_and(Result::is_err)
                            && !piece.chunks.iter().any(Result::is_ok) =>
                    {
                        return Err(piece
                            .chunks
                            .into_iter()
                            .find_map(Result::err)
                            .unwrap_or_else(|| LlmError::internal("stream failed")));
                    }
                    Some(Ok(piece)) => {
                        Box::pin(futures::stream::once(async { Ok(piece) }).chain(rest).map(
                            move |item| {
                                let _held = &slot;
                                item
                            },
                        ))
                    }
                    None => Box::pin(futures::stream::empty()),
                };
                Ok((Output::NativeStream(stream), headers))
            }
            Call::Stream(req) => {
                let first_chunk_timeout = deployment
                    .stream_timeout()
                    .or_else(|| settings.stream_timeout.and_then(secs_to_duration))
                    .unwrap_or(timeout);
                let started = async {
                    let out = deployment.backend.chat_stream(req.clone(), &ctx).await?;
                    let mut stream = out.stream;
                    let first = stream.next().await;
                    Ok::<_, LlmError>((first, stream, out.upstream_headers))
                };
                let (first, rest, headers) = tokio::time::timeout(first_chunk_timeout, started)
                    .await
                    .map_err(|_| timed_out(first_chunk_timeout))??;
                let stream: ChunkStream = match first {
                    // A failure before the first chunk is an ordinary failed attempt.
                    Some(Err(e)) => return Err(e),
                    // The in-flight slot is held until the stream is dropped.
                    Some(Ok(chunk)) => {
                        Box::pin(futures::stream::once(async { Ok(chunk) }).chain(rest).map(
                            move |item| {
                                let _held = &slot;
                                item
                            },
                        ))
                    }
                    None => Box::pin(futures::stream::empty()),
                };
                Ok((Output::Stream(stream), headers))
            }
        }
    }
}

/// How long per-minute usage counters live (two windows, so the previous minute's keys expire
/// on their own).
const USAGE_TTL: Duration = Duration::from_secs(120);

/// The state keys of a deployment's requests and tokens in the current UTC minute.
fn usage_keys(id: &str) -> (String, String) {
    let minute = litellm_core::unix_now() / 60;
    (
        format!("usage:{id}:rpm:{minute}"),
        format!("usage:{id}:tpm:{minute}"),
    )
}

/// Latency per output token when the response reports output tokens (LiteLLM's measure).
fn per_token(secs: f64, completion_tokens: u64) -> f64 {
    if completion_tokens > 0 {
        secs / completion_tokens as f64
    } else {
        secs
    }
}

/// A deployment's context window for pre-call checks: `model_info.max_input_tokens`, else
/// `model_info.max_tokens`, else the price table's `max_input_tokens`.
fn context_window(d: &Deployment) -> Option<u64> {
    let info = &d.config.model_info;
    info.max_input_tokens
        .or(info.max_tokens)
        .or_else(|| crate::strategy::price_entry(d).and_then(|e| e.context_window()))
}

/// What `*` in `pattern` matched in `model`, if `model` matches (one `*`; `*` alone matches
/// every model).
fn wildcard_capture<'m>(pattern: &str, model: &'m str) -> Option<&'m str> {
    let (prefix, suffix) = pattern.split_once('*')?;
    if model.len() < prefix.len() + suffix.len() {
        return None;
    }
    let rest = model.strip_prefix(prefix)?;
    let captured = rest.strip_suffix(suffix)?;
    (!captured.is_empty()).then_some(captured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_capture_what_the_star_matched() {
        assert_eq!(
            wildcard_capture("anthropic/*", "anthropic/claude-x"),
            Some("claude-x")
        );
        assert_eq!(wildcard_capture("*", "groq/llama"), Some("groq/llama"));
        assert_eq!(wildcard_capture("anthropic/*", "openai/gpt-4o"), None);
        assert_eq!(wildcard_capture("anthropic/*", "anthropic/"), None);
        assert_eq!(wildcard_capture("gpt-*-mini", "gpt-4o-mini"), Some("4o"));
        assert_eq!(wildcard_capture("plain", "plain"), None);
    }
}
