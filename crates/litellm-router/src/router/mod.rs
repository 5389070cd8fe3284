//! The `Router`: resolves a model group (exact name, `model_group_alias`, then wildcard
//! patterns `*` / `provider/*`), picks a deployment with the configured strategy among those not
//! cooling down, under their `max_parallel_requests` and `rpm`/`tpm` (usage-based routing), and
//! fitting the prompt (`enable_pre_call_checks`), calls it with a timeout, retries retryable
//! failures (`num_retries`, `retry_policy`, `model_group_retry_policy`) on another deployment of
//! the group with LiteLLM's backoff, and when the group's retries are spent, falls back to other
//! groups (`fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`,
//! `default_fallbacks`, per-request `fallbacks`), each with its own retries.
//!
//! Cooldowns, failure counts and per-minute usage live in [`RouterState`](crate::state::RouterState) (memory, or Redis
//! shared by replicas); in-flight counts and latency samples are this replica's own.
//!
//! The configuration (groups, deployments, settings) is one immutable snapshot behind a lock
//! that [`Router::reload`] swaps; every call takes the snapshot once when it starts and keeps it
//! to the end (streams included), so a reload never disturbs a call in flight.
//!
//! The code is split by responsibility: `registry` holds the configuration snapshot (model
//! groups, deployments, live counters) and resolves a requested model to a group; `lifecycle`
//! builds, reloads and inspects a router; `retry` runs the retry and fallback loop; `selection`
//! picks a deployment; `stats` records and reads what the strategies weigh (latency samples,
//! per-minute usage); `attempt` makes one call on one deployment; `policy` holds the retry
//! backoff and per-error retry policy; `calls` is the public call surface.

mod attempt;
mod calls;
mod lifecycle;
mod policy;
mod registry;
mod retry;
mod selection;
mod stats;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use litellm_core::{
    debug_fields, ChatResponse, ChunkStream, EmbeddingResponse, LlmError, NativeEventStream,
    NativeMessagesOutput, UpstreamHeaders,
};

pub use self::policy::Backoff;
use self::registry::{Common, Inner};

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

debug_fields!(NativeCompletionStream { route });

/// A routed chat stream: the first chunk already arrived (or the stream ended empty).
pub struct CompletionStream {
    pub stream: ChunkStream,
    pub route: RouteInfo,
}

debug_fields!(CompletionStream { route });

/// A routed embeddings call.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub response: EmbeddingResponse,
    pub route: RouteInfo,
}

/// A routed family call (rerank, moderations, image generation).
#[derive(Debug, Clone)]
pub struct FamilyCompletion {
    pub output: litellm_core::FamilyOutput,
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

/// The error alone, without the route (the SDK's one-shot calls answer with it).
impl From<RouteError> for LlmError {
    fn from(e: RouteError) -> Self {
        e.error
    }
}

impl std::fmt::Display for RouteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for RouteError {}

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

impl Router {
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
