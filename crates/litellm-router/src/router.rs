//! The `Router`: resolves a model group, picks a deployment, calls it with a timeout, retries
//! retryable failures on another deployment of the group with LiteLLM's backoff, and when the
//! group's retries are spent, falls back to other groups (`fallbacks`,
//! `context_window_fallbacks`, `content_policy_fallbacks`, `default_fallbacks`, per-request
//! `fallbacks`), each with its own retries.
//!
//! Deployments that keep failing are cooled down (`cooldown.rs`) and skipped until their
//! cooldown ends. Seam for later work: the cooldown state moves behind a trait with a Redis
//! implementation so replicas share it.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use litellm_core::{
    CallContext, ChatRequest, ChatResponse, ChunkStream, EmbeddingRequest, EmbeddingResponse,
    ErrorKind, LlmError, UpstreamHeaders,
};

use crate::config::{DeploymentConfig, RouterSettings};
use crate::cooldown::Cooldowns;
use crate::deployment::{secs_to_duration, Deployment};
use crate::strategy::{SimpleShuffle, Strategy};

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
}

/// A routed chat completion.
#[derive(Debug, Clone)]
pub struct Completion {
    pub response: ChatResponse,
    pub route: RouteInfo,
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

struct ModelGroup {
    deployments: Vec<Arc<Deployment>>,
}

struct Inner {
    groups: HashMap<String, ModelGroup>,
    /// Group names in config order, for `/v1/models`.
    group_order: Vec<String>,
    /// alias -> (group, hidden)
    aliases: HashMap<String, (String, bool)>,
    settings: RouterSettings,
    strategy: Box<dyn Strategy>,
    backoff: Backoff,
    cooldowns: Cooldowns,
}

/// The router shared by the SDK and the proxy. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("groups", &self.inner.group_order)
            .field("settings", &self.inner.settings)
            .finish()
    }
}

/// Per-request fallback controls, taken out of the request body (LiteLLM's `fallbacks` and
/// `disable_fallbacks`) so they are never sent upstream.
#[derive(Debug, Default)]
struct RequestFallbacks {
    models: Vec<String>,
    disabled: bool,
}

impl RequestFallbacks {
    fn take(extra: &mut litellm_core::JsonMap) -> Self {
        let models = match extra.remove("fallbacks") {
            Some(serde_json::Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    // LiteLLM also accepts `{"model": "...", ...}` entries.
                    serde_json::Value::Object(o) => {
                        o.get("model").and_then(|m| m.as_str()).map(str::to_string)
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let disabled = matches!(
            extra.remove("disable_fallbacks"),
            Some(serde_json::Value::Bool(true))
        );
        RequestFallbacks { models, disabled }
    }
}

/// The three call kinds the retry loop drives.
enum Call {
    Chat(ChatRequest),
    Stream(ChatRequest),
    Embed(EmbeddingRequest),
}

enum Output {
    Chat(Box<ChatResponse>),
    Stream(ChunkStream),
    Embed(Box<EmbeddingResponse>),
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
        let deployments = model_list
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                Deployment::build(c).map_err(|mut e| {
                    e.message = format!("model_list[{i}]: {}", e.message);
                    e
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_deployments(deployments, settings)
    }

    /// A router over deployments that already have backends (scripted backends in tests).
    pub fn from_deployments(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
    ) -> Result<Self, LlmError> {
        if settings.routing_strategy != "simple-shuffle" {
            tracing::warn!(
                strategy = %settings.routing_strategy,
                "routing strategy not supported yet; using simple-shuffle"
            );
        }
        let mut groups: HashMap<String, ModelGroup> = HashMap::new();
        let mut group_order = Vec::new();
        for d in deployments {
            let name = d.model_name.clone();
            let group = groups.entry(name.clone()).or_insert_with(|| {
                group_order.push(name.clone());
                ModelGroup {
                    deployments: Vec::new(),
                }
            });
            group.deployments.push(Arc::new(d));
        }
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
        let cooldowns = Cooldowns::new(
            settings.allowed_fails,
            secs_to_duration(settings.cooldown_time).unwrap_or(Duration::ZERO),
            settings.disable_cooldowns,
        );
        Ok(Router {
            inner: Arc::new(Inner {
                groups,
                group_order,
                aliases,
                settings,
                strategy: Box::new(SimpleShuffle),
                backoff: Backoff::default(),
                cooldowns,
            }),
        })
    }

    /// Replaces the retry backoff (tests use a zero backoff to stay fast). Call it right after
    /// construction: on a router that was already cloned it changes nothing.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.backoff = backoff;
        }
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &RouterSettings {
        &self.inner.settings
    }

    /// Model names clients may ask for: every group in config order, then visible aliases.
    pub fn model_names(&self) -> Vec<String> {
        let mut names = self.inner.group_order.clone();
        let mut aliases: Vec<_> = self
            .inner
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
        self.inner
            .group_order
            .iter()
            .filter_map(|g| self.inner.groups.get(g))
            .flat_map(|g| g.deployments.iter().cloned())
            .collect()
    }

    /// The group a requested model name resolves to, if any.
    pub fn resolve_group(&self, model: &str) -> Option<&str> {
        if let Some((k, _)) = self.inner.groups.get_key_value(model) {
            return Some(k.as_str());
        }
        self.inner.aliases.get(model).map(|(g, _)| g.as_str())
    }

    /// A non-streaming chat completion.
    pub async fn completion(&self, mut req: ChatRequest) -> Result<Completion, RouteError> {
        let model = req.model.clone();
        let fallbacks = RequestFallbacks::take(&mut req.extra);
        match self.run(&model, Call::Chat(req), fallbacks).await? {
            (Output::Chat(response), route) => Ok(Completion {
                response: *response,
                route,
            }),
            _ => Err(LlmError::internal("router returned the wrong output kind").into()),
        }
    }

    /// A streaming chat completion. Resolves once the first chunk arrived, so failures before
    /// the first byte are retried like any other.
    pub async fn completion_stream(
        &self,
        mut req: ChatRequest,
    ) -> Result<CompletionStream, RouteError> {
        let model = req.model.clone();
        let fallbacks = RequestFallbacks::take(&mut req.extra);
        match self.run(&model, Call::Stream(req), fallbacks).await? {
            (Output::Stream(stream), route) => Ok(CompletionStream { stream, route }),
            _ => Err(LlmError::internal("router returned the wrong output kind").into()),
        }
    }

    /// Embeddings.
    pub async fn embedding(&self, mut req: EmbeddingRequest) -> Result<Embeddings, RouteError> {
        let model = req.model.clone();
        let fallbacks = RequestFallbacks::take(&mut req.extra);
        match self.run(&model, Call::Embed(req), fallbacks).await? {
            (Output::Embed(response), route) => Ok(Embeddings {
                response: *response,
                route,
            }),
            _ => Err(LlmError::internal("router returned the wrong output kind").into()),
        }
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
        request: RequestFallbacks,
    ) -> Result<(Output, RouteInfo), RouteError> {
        let group_name = self
            .resolve_group(model)
            .ok_or_else(|| Self::unknown_model(model))?
            .to_string();
        let mut last = match self.run_group(&group_name, &call).await {
            Ok(ok) => return Ok(ok),
            Err(e) => e,
        };
        if request.disabled || !Self::falls_back_on(&last.error) {
            return Err(last);
        }
        let chain = self.fallback_chain(&group_name, &last.error, request.models);
        let max = self.inner.settings.max_fallbacks as usize;
        for (i, fallback) in chain.iter().take(max).enumerate() {
            let Some(target) = self.resolve_group(fallback).map(str::to_string) else {
                tracing::warn!(model_group = %group_name, fallback = %fallback, "fallback names no model group; skipped");
                continue;
            };
            tracing::debug!(from = %group_name, to = %target, kind = ?last.error.kind, "falling back");
            let attempted = i as u32 + 1;
            match self.run_group(&target, &call).await {
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

    /// The retry loop of one model group, shared by every call kind.
    async fn run_group(
        &self,
        group_name: &str,
        call: &Call,
    ) -> Result<(Output, RouteInfo), RouteError> {
        let group_name = group_name.to_string();
        let group = self
            .inner
            .groups
            .get(&group_name)
            .ok_or_else(|| Self::unknown_model(&group_name))?;
        let settings = &self.inner.settings;
        let num_retries = group
            .deployments
            .iter()
            .find_map(|d| d.config.litellm_params.num_retries)
            .unwrap_or(settings.num_retries);
        let retry_min = secs_to_duration(settings.retry_after).unwrap_or(Duration::ZERO);

        let mut tried: Vec<&str> = Vec::new();
        let mut retries = 0u32;
        let mut upstream_time = Duration::ZERO;
        let mut last: Option<RouteError> = None;
        loop {
            let Some(deployment) = self.pick(group, &tried) else {
                // Every deployment is cooling down. Mid-retries, report the failure that got us
                // here; otherwise fail fast, without calling a deployment known to be down.
                return Err(
                    last.unwrap_or_else(|| self.all_cooling_down(&group_name, group).into())
                );
            };
            let started = Instant::now();
            let result = self.attempt(deployment, call).await;
            upstream_time += started.elapsed();
            let mut route = RouteInfo {
                model_group: group_name.clone(),
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
            };
            match result {
                Ok((output, headers)) => {
                    route.upstream_headers = headers;
                    return Ok((output, route));
                }
                Err(error) => {
                    let multi = group.deployments.len() > 1;
                    if self.inner.cooldowns.record_failure(
                        &deployment.id,
                        error.kind,
                        multi,
                        deployment.cooldown_time(),
                        tokio::time::Instant::now(),
                    ) {
                        tracing::warn!(
                            deployment = %deployment.id,
                            model_group = %group_name,
                            kind = ?error.kind,
                            "deployment cooled down"
                        );
                    }
                    let retryable = error.is_retryable()
                        || (multi
                            && matches!(
                                error.kind,
                                ErrorKind::Authentication | ErrorKind::PermissionDenied
                            ));
                    tracing::debug!(
                        deployment = %deployment.id,
                        model_group = %group_name,
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
                    if !tried.contains(&deployment.id.as_str()) {
                        tried.push(deployment.id.as_str());
                    }
                    let untried_left = group
                        .deployments
                        .iter()
                        .any(|d| !tried.contains(&d.id.as_str()));
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

    /// LiteLLM's answer when every deployment of a group is cooling down: a 429 with the time
    /// until the first one is back. It counts as an upstream failure, so fallbacks apply.
    fn all_cooling_down(&self, group_name: &str, group: &ModelGroup) -> LlmError {
        let now = tokio::time::Instant::now();
        let wait = group
            .deployments
            .iter()
            .filter_map(|d| self.inner.cooldowns.remaining(&d.id, now))
            .min()
            .unwrap_or(Duration::from_secs(1));
        LlmError::upstream(
            ErrorKind::RateLimited,
            format!(
                "No deployments available for selected model, Try again in {} seconds. Passed model={group_name}. All deployments are cooling down after repeated failures.",
                wait.as_secs_f64().ceil() as u64
            ),
        )
        .with_status(429)
        .with_retry_after(Some(wait))
    }

    /// Picks among the lowest `order` tier of the deployments that are not cooling down and not
    /// yet tried; once every available deployment was tried, among all available ones again.
    fn pick<'a>(&self, group: &'a ModelGroup, tried: &[&str]) -> Option<&'a Arc<Deployment>> {
        let now = tokio::time::Instant::now();
        let available: Vec<&Arc<Deployment>> = group
            .deployments
            .iter()
            .filter(|d| self.inner.cooldowns.remaining(&d.id, now).is_none())
            .collect();
        let untried: Vec<&Arc<Deployment>> = available
            .iter()
            .copied()
            .filter(|d| !tried.contains(&d.id.as_str()))
            .collect();
        let pool = if untried.is_empty() {
            available
        } else {
            untried
        };
        let best_order = pool.iter().map(|d| d.order()).min()?;
        let tier: Vec<&Arc<Deployment>> = pool
            .into_iter()
            .filter(|d| d.order() == best_order)
            .collect();
        let refs: Vec<&Deployment> = tier.iter().map(|d| d.as_ref()).collect();
        let i = self.inner.strategy.pick(&refs)?;
        tier.get(i).copied()
    }

    async fn attempt(
        &self,
        deployment: &Deployment,
        call: &Call,
    ) -> Result<(Output, UpstreamHeaders), LlmError> {
        let settings = &self.inner.settings;
        let timeout = deployment
            .timeout()
            .or_else(|| secs_to_duration(settings.timeout))
            .unwrap_or(Duration::from_secs(600));
        let ctx = CallContext {
            timeout: Some(timeout),
            extra_headers: Vec::new(),
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
                Ok((Output::Chat(Box::new(out.response)), out.upstream_headers))
            }
            Call::Embed(req) => {
                let fut = deployment.backend.embed(req.clone(), &ctx);
                let out = tokio::time::timeout(timeout, fut)
                    .await
                    .map_err(|_| timed_out(timeout))??;
                Ok((Output::Embed(Box::new(out.response)), out.upstream_headers))
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
                    Some(Ok(chunk)) => {
                        Box::pin(futures::stream::once(async { Ok(chunk) }).chain(rest))
                    }
                    None => Box::pin(futures::stream::empty()),
                };
                Ok((Output::Stream(stream), headers))
            }
        }
    }
}
