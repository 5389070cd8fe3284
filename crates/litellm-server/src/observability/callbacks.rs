//! What happens after each LLM request, off the request path: one structured access-log line,
//! an OpenTelemetry trace (`otel`, see [`crate::otel`]) and LiteLLM's `generic_api` webhook
//! (one StandardLoggingPayload-shaped JSON event per request, batched, retried, on a bounded
//! background queue).
//!
//! How the facts get here:
//! - [`track`] wraps every LLM route in a per-request scope (a task-local). It notes the
//!   incoming `traceparent`, and the request's messages when some sink logs them.
//! - [`CallbackObserver`] (one of the router's observers, next to the metrics one, through
//!   [`Observers`]) adds every upstream attempt to the scope.
//! - The handlers hand their spend record to [`crate::spend::log`], which calls [`on_record`]:
//!   inside a request the record waits in the scope and [`track`] emits it with the HTTP status
//!   once the handler answered; a stream emits it itself when it ends (`stream.rs`).
//! - A request that failed before a spend record existed (auth, validation, upstream errors) is
//!   emitted by [`track`] as a failure, with the error message of the response.
//!
//! Secrets: a key never appears in an event or a log line; only its alias, its hash (events, as
//! LiteLLM's `user_api_key_hash`) or the first 12 characters of the hash (the access log).
//! Message contents are only captured when a sink logs them and
//! `litellm_settings.turn_off_message_logging` is not set; the access log shows them only at
//! debug level.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use litellm_auth::SpendRecord;
use litellm_core::LlmError;
use litellm_router::{AttemptKind, Deployment, RouterObserver};

use crate::config::{LitellmSettings, ProxyConfig};
use crate::error::ApiError;
use crate::otel::Otel;
use crate::state::AppState;

/// The `tracing` target of the access log (`RUST_LOG=litellm_rs::access=off` silences it).
pub const ACCESS_TARGET: &str = "litellm_rs::access";

/// Events a `generic_api` logger buffers before it sends (LiteLLM's `DEFAULT_BATCH_SIZE`).
pub const DEFAULT_BATCH_SIZE: usize = 512;
/// Seconds between flushes (LiteLLM's `DEFAULT_FLUSH_INTERVAL_SECONDS`).
pub const DEFAULT_FLUSH_INTERVAL: f64 = 5.0;
/// Events waiting to be sent before new ones are dropped (and counted).
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 10_000;
/// Retries of a failed delivery (connection error, 408, 429, 5xx), with doubling backoff.
pub const DELIVERY_RETRIES: u32 = 3;
/// The first retry's delay.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Response bodies read to capture them (or their error), at most; bigger ones are not.
const CAPTURE_LIMIT: u64 = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Config

/// One entry of the top-level `callback_settings` section (LiteLLM's keys; `batch_size`,
/// `flush_interval` and `max_queue_size` are ours).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct CallbackSettings {
    /// `generic_api` for a webhook under a custom name.
    pub callback_type: Option<String>,
    /// The webhook URL (else `GENERIC_LOGGER_ENDPOINT`).
    pub endpoint: Option<String>,
    /// Extra request headers (over `GENERIC_LOGGER_HEADERS`).
    pub headers: Option<BTreeMap<String, String>>,
    /// `llm_api_success` and/or `llm_api_failure` (default: both).
    pub event_types: Option<Vec<String>>,
    /// `json_array` (default), `ndjson` or `single`.
    pub log_format: Option<String>,
    pub batch_size: Option<usize>,
    /// Seconds.
    pub flush_interval: Option<f64>,
    pub max_queue_size: Option<usize>,
    /// `false` keeps message contents out of this callback's events / spans.
    pub message_logging: Option<bool>,
}

impl std::fmt::Debug for CallbackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSettings")
            .field("callback_type", &self.callback_type)
            .field("endpoint", &self.endpoint.as_deref().map(redact_endpoint))
            .field(
                "headers",
                &self.headers.as_ref().map(|h| h.keys().collect::<Vec<_>>()),
            )
            .field("event_types", &self.event_types)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// A URL without its query string and user info (either may carry a token).
pub fn redact_endpoint(url: &str) -> String {
    let no_query = crate::headers::strip_query(url);
    crate::config::redact_url_password(no_query)
}

/// Which callback lists name a callback.
#[derive(Debug, Clone, Copy, Default)]
struct Events {
    success: bool,
    failure: bool,
}

/// Callback names in `litellm_settings` with the events each one wants, in first-seen order.
fn named_callbacks(s: &LitellmSettings) -> Vec<(String, Events, &'static str)> {
    let mut out: Vec<(String, Events, &'static str)> = Vec::new();
    let lists: [(&Option<Vec<String>>, &'static str, Events); 3] = [
        (
            &s.callbacks,
            "callbacks",
            Events {
                success: true,
                failure: true,
            },
        ),
        (
            &s.success_callback,
            "success_callback",
            Events {
                success: true,
                failure: false,
            },
        ),
        (
            &s.failure_callback,
            "failure_callback",
            Events {
                success: false,
                failure: true,
            },
        ),
    ];
    for (list, key, events) in lists {
        for name in list.iter().flatten() {
            let name = name.trim();
            match out.iter_mut().find(|(n, _, _)| n == name) {
                Some((_, e, _)) => {
                    e.success |= events.success;
                    e.failure |= events.failure;
                }
                None => out.push((name.to_string(), events, key)),
            }
        }
    }
    out
}

/// Whether `name` (with its `callback_settings` entry) is a `generic_api` webhook.
fn is_generic(name: &str, settings: Option<&CallbackSettings>) -> bool {
    name == "generic_api"
        || settings
            .and_then(|s| s.callback_type.as_deref())
            .is_some_and(|t| t == "generic_api")
}

/// Load-time warnings for the callback keys: names we do not implement, webhooks without an
/// endpoint, bad `log_format` / `event_types`.
pub fn config_warnings(
    litellm: &LitellmSettings,
    callback_settings: &BTreeMap<String, CallbackSettings>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _, list) in named_callbacks(litellm) {
        let settings = callback_settings.get(&name);
        if name == "otel" || name == "prometheus" {
            continue;
        }
        if !is_generic(&name, settings) {
            out.push(format!(
                "litellm_settings.{list}: callback `{name}` not supported yet; ignored"
            ));
            continue;
        }
        let has_endpoint = settings.and_then(|s| s.endpoint.as_deref()).is_some()
            || lookup("GENERIC_LOGGER_ENDPOINT").is_some_and(|e| !e.trim().is_empty());
        if !has_endpoint {
            out.push(format!(
                "callback_settings.{name}.endpoint: not set, and neither is \
                 GENERIC_LOGGER_ENDPOINT; the `{name}` webhook is off"
            ));
        }
        if let Some(f) = settings.and_then(|s| s.log_format.as_deref()) {
            if !matches!(f, "json_array" | "ndjson" | "single") {
                out.push(format!(
                    "callback_settings.{name}.log_format: `{f}` is not json_array, ndjson or \
                     single; using json_array"
                ));
            }
        }
        for t in settings
            .and_then(|s| s.event_types.as_ref())
            .into_iter()
            .flatten()
        {
            if !matches!(t.as_str(), "llm_api_success" | "llm_api_failure") {
                out.push(format!(
                    "callback_settings.{name}.event_types: unknown event type `{t}` (expected \
                     llm_api_success or llm_api_failure); ignored"
                ));
            }
        }
    }
    for (name, s) in callback_settings {
        let named = named_callbacks(litellm).iter().any(|(n, _, _)| n == name);
        if !named && (is_generic(name, Some(s)) || name == "otel") {
            out.push(format!(
                "callback_settings.{name}: `{name}` is not in litellm_settings.callbacks; ignored"
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The finished-call record every sink reads

/// An error, as the sinks show it (never containing a key: `ApiError` messages do not).
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
    /// LiteLLM's exception class (`RateLimitError`, ...).
    pub class: String,
    /// The HTTP status, as text (LiteLLM's `error_code`).
    pub code: Option<String>,
}

/// One upstream attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub deployment_id: String,
    pub model_group: String,
    pub provider: String,
    pub model: String,
    /// Without its query string.
    pub api_base: Option<String>,
    pub kind: &'static str,
    pub start: SystemTime,
    pub end: SystemTime,
    pub error: Option<AttemptError>,
}

/// Why an attempt failed.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub class: &'static str,
    pub status: Option<u16>,
    pub message: String,
}

/// Everything known about one finished LLM request.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub request_id: String,
    pub call_type: String,
    /// The route (`/v1/chat/completions`).
    pub path: String,
    pub status_code: u16,
    pub stream: bool,
    pub start: SystemTime,
    pub end: SystemTime,
    pub completion_start: Option<SystemTime>,
    pub requested_model: Option<String>,
    /// The model that answered (the upstream's name, else the deployment's).
    pub model: Option<String>,
    pub model_group: Option<String>,
    pub model_id: Option<String>,
    pub provider: Option<String>,
    pub api_base: Option<String>,
    pub cost: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub cache_hit: bool,
    pub cache_key: Option<String>,
    /// SHA-256 of the caller's key (never the key).
    pub key_hash: Option<String>,
    pub key_alias: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    pub user_id: Option<String>,
    pub end_user: Option<String>,
    pub client_ip: Option<String>,
    /// The spend record's metadata extras (retries, fallbacks, `usage_estimated`).
    pub extra_metadata: serde_json::Map<String, Value>,
    /// The request's tags (body, `x-litellm-tags`, key and team).
    pub request_tags: Vec<String>,
    pub error: Option<ErrorInfo>,
    pub attempts: Vec<Attempt>,
    /// The request's messages (or embedding input), when captured.
    pub messages: Option<Value>,
    /// The response body, when captured.
    pub response: Option<Value>,
}

impl Default for CallRecord {
    fn default() -> Self {
        CallRecord {
            request_id: String::new(),
            call_type: String::new(),
            path: String::new(),
            status_code: 0,
            stream: false,
            start: UNIX_EPOCH,
            end: UNIX_EPOCH,
            completion_start: None,
            requested_model: None,
            model: None,
            model_group: None,
            model_id: None,
            provider: None,
            api_base: None,
            cost: 0.0,
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cache_hit: false,
            cache_key: None,
            key_hash: None,
            key_alias: None,
            team_id: None,
            team_alias: None,
            user_id: None,
            end_user: None,
            client_ip: None,
            extra_metadata: serde_json::Map::new(),
            request_tags: Vec::new(),
            error: None,
            attempts: Vec::new(),
            messages: None,
            response: None,
        }
    }
}

impl Default for ErrorInfo {
    fn default() -> Self {
        ErrorInfo {
            message: String::new(),
            class: "APIError".to_string(),
            code: None,
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl CallRecord {
    /// The record of a call that has a spend record.
    fn from_spend(rec: &SpendRecord) -> CallRecord {
        let meta = rec.metadata.as_object();
        let meta_str = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut extra = serde_json::Map::new();
        if let Some(m) = meta {
            for (k, v) in m {
                if !k.starts_with("user_api_key_") {
                    extra.insert(k.clone(), v.clone());
                }
            }
        }
        let failed = rec.status != "success";
        CallRecord {
            request_id: rec.request_id.clone(),
            call_type: rec.call_type.clone(),
            status_code: 200,
            start: rec.start_time.into(),
            end: rec.end_time.into(),
            completion_start: rec.completion_start_time.map(Into::into),
            model: non_empty(&rec.model),
            model_group: non_empty(&rec.model_group),
            model_id: non_empty(&rec.model_id),
            provider: non_empty(&rec.custom_llm_provider),
            api_base: non_empty(&rec.api_base),
            cost: rec.spend,
            prompt_tokens: rec.prompt_tokens,
            completion_tokens: rec.completion_tokens,
            total_tokens: rec.total_tokens,
            cache_hit: rec.cache_hit,
            key_hash: non_empty(&rec.api_key_hash),
            key_alias: meta_str("user_api_key_alias"),
            team_id: rec.team_id.clone(),
            user_id: rec.user_id.clone(),
            end_user: rec.end_user.clone(),
            extra_metadata: extra,
            request_tags: rec.request_tags.clone(),
            error: failed.then(|| ErrorInfo {
                message: "the upstream stream failed after it started".to_string(),
                class: "APIConnectionError".to_string(),
                code: None,
            }),
            ..CallRecord::default()
        }
    }

    /// Fills what the request's labels know (requested model, team alias, client).
    fn with_labels(mut self, l: &crate::metrics::RequestLabels) -> CallRecord {
        let s = |v: &crate::metrics::Lv| v.as_str().map(str::to_string);
        self.requested_model = self.requested_model.or_else(|| s(&l.requested_model));
        self.team_alias = self.team_alias.or_else(|| s(&l.team_alias));
        self.client_ip = self.client_ip.or_else(|| s(&l.client_ip));
        self.key_alias = self.key_alias.or_else(|| s(&l.api_key_alias));
        self.team_id = self.team_id.or_else(|| s(&l.team));
        self.user_id = self.user_id.or_else(|| s(&l.user));
        self.end_user = self.end_user.or_else(|| s(&l.end_user));
        if self.key_hash.is_none() {
            self.key_hash = s(&l.hashed_api_key).filter(|h| !h.is_empty());
        }
        self
    }

    fn success(&self) -> bool {
        self.error.is_none()
    }
}

/// Unix seconds as a float (LiteLLM's `startTime`).
fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The event in the shape of LiteLLM's `StandardLoggingPayload`.
pub fn standard_logging_payload(c: &CallRecord, message_logging: bool) -> Value {
    let end = epoch(c.end);
    let start = epoch(c.start);
    let mut metadata = json!({
        "user_api_key_hash": c.key_hash,
        "user_api_key_alias": c.key_alias,
        "user_api_key_team_id": c.team_id,
        "user_api_key_team_alias": c.team_alias,
        "user_api_key_user_id": c.user_id,
        "user_api_key_end_user_id": c.end_user,
        "spend_logs_metadata": null,
        "requester_ip_address": c.client_ip,
    });
    if let Some(m) = metadata.as_object_mut() {
        for (k, v) in &c.extra_metadata {
            m.insert(k.clone(), v.clone());
        }
    }
    let model = c.model.clone().unwrap_or_default();
    json!({
        "id": c.request_id,
        "trace_id": c.request_id,
        "call_type": c.call_type,
        "stream": c.stream,
        "response_cost": c.cost,
        "response_cost_failure_debug_info": null,
        "status": if c.success() { "success" } else { "failure" },
        "custom_llm_provider": c.provider,
        "total_tokens": c.total_tokens,
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "startTime": start,
        "endTime": end,
        "completionStartTime": c.completion_start.map(epoch).unwrap_or(end),
        "response_time": (end - start).max(0.0),
        "model_map_information": {"model_map_key": model, "model_map_value": null},
        "model": model,
        "model_id": c.model_id,
        "model_group": c.model_group.clone().or_else(|| c.requested_model.clone()),
        "api_base": c.api_base.clone().unwrap_or_default(),
        "metadata": metadata,
        "cache_hit": c.cache_hit,
        "cache_key": c.cache_key,
        "saved_cache_cost": 0.0,
        "request_tags": c.request_tags,
        "end_user": c.end_user,
        "requester_ip_address": c.client_ip,
        "messages": if message_logging { c.messages.clone() } else { None },
        "response": if message_logging { c.response.clone() } else { None },
        "error_str": c.error.as_ref().map(|e| e.message.clone()),
        "error_information": c.error.as_ref().map(|e| json!({
            "error_code": e.code,
            "error_class": e.class,
            "llm_provider": c.provider,
            "error_message": e.message,
        })),
        "model_parameters": {},
        "hidden_params": {
            "model_id": c.model_id,
            "cache_key": c.cache_key,
            "api_base": c.api_base,
            "response_cost": c.cost,
            "additional_headers": null,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Per-request scope

/// What the scope gathers for one request.
#[derive(Default)]
struct ScopeState {
    path: String,
    attempts: Vec<Attempt>,
    /// A spend record waiting for the response status (non-streamed calls).
    pending: Option<SpendRecord>,
    /// A stream took over emitting this call.
    stream_owned: bool,
    /// The labels when the stream started.
    labels: Option<crate::metrics::RequestLabels>,
    messages: Option<Value>,
    parent: Option<opentelemetry::Context>,
    /// The client asked for a stream (known once the body is read).
    stream: bool,
}

/// A request's scope, shared with the stream that outlives the handler.
#[derive(Clone)]
pub struct CallScope(Arc<Mutex<ScopeState>>);

impl CallScope {
    fn lock(&self) -> std::sync::MutexGuard<'_, ScopeState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

tokio::task_local! {
    static SCOPE: CallScope;
}

/// The current request's scope, if running inside [`track`].
pub fn current_scope() -> Option<CallScope> {
    SCOPE.try_with(Clone::clone).ok()
}

/// The current request asked for a stream: its record says so even when it is refused before
/// any stream starts.
pub fn note_stream(stream: bool) {
    if let Some(scope) = current_scope() {
        scope.lock().stream = stream;
    }
}

/// A stream takes over emitting the current call (called when its body is built, inside the
/// handler). Returns the scope for [`on_stream_end`].
pub fn take_over_for_stream() -> Option<CallScope> {
    let scope = current_scope()?;
    {
        let mut s = scope.lock();
        s.stream_owned = true;
        s.labels = Some(crate::metrics::current_labels());
    }
    Some(scope)
}

/// A handler produced a spend record: inside a request it waits for the response status;
/// outside one it is emitted at once.
pub fn on_record(state: &AppState, rec: &SpendRecord) {
    match current_scope() {
        Some(scope) => scope.lock().pending = Some(rec.clone()),
        None => state.callbacks.emit(CallRecord::from_spend(rec), None),
    }
}

/// A stream ended (or was dropped) with this spend record.
pub fn on_stream_end(state: &AppState, scope: Option<&CallScope>, rec: &SpendRecord) {
    let mut call = CallRecord::from_spend(rec);
    call.stream = true;
    let mut parent = None;
    if let Some(scope) = scope {
        let mut s = scope.lock();
        call.path = s.path.clone();
        call.attempts = std::mem::take(&mut s.attempts);
        call.messages = s.messages.take();
        parent = s.parent.take();
        if let Some(l) = &s.labels {
            call = call.with_labels(l);
        }
    }
    state.callbacks.emit(call, parent.as_ref());
}

/// The router observer that adds each attempt to the current request's scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallbackObserver;

impl RouterObserver for CallbackObserver {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        let Some(scope) = current_scope() else { return };
        let end = SystemTime::now();
        let took = match outcome {
            Ok(d) => d,
            Err(_) => Duration::ZERO,
        };
        let attempt = Attempt {
            deployment_id: deployment.id.clone(),
            model_group: model_group.to_string(),
            provider: deployment.backend.provider().to_string(),
            model: deployment.model().to_string(),
            api_base: deployment
                .backend
                .api_base()
                .map(|b| crate::headers::strip_query(b).to_string()),
            kind: match kind {
                AttemptKind::Chat => "acompletion",
                AttemptKind::Stream => "acompletion_stream",
                AttemptKind::Embedding => "aembedding",
            },
            start: end.checked_sub(took).unwrap_or(end),
            end,
            error: outcome.err().map(|e| AttemptError {
                class: e.kind.litellm_class(),
                status: e.status,
                message: e.message.chars().take(500).collect(),
            }),
        };
        scope.lock().attempts.push(attempt);
    }
}

/// Several router observers behind the router's one observer slot (metrics and callbacks).
pub struct Observers(pub Vec<Arc<dyn RouterObserver>>);

impl RouterObserver for Observers {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        for o in &self.0 {
            o.on_attempt_end(deployment, model_group, kind, outcome);
        }
    }

    fn on_cooldown(&self, deployment: &Deployment, model_group: &str, error: &LlmError) {
        for o in &self.0 {
            o.on_cooldown(deployment, model_group, error);
        }
    }
}

/// The call type of an LLM route, for failures (LiteLLM's names).
fn call_type_for(path: &str) -> &'static str {
    if path.ends_with("/embeddings") {
        "aembedding"
    } else if path.ends_with("/messages") {
        "anthropic_messages"
    } else {
        "acompletion"
    }
}

/// The messages (or embedding input) of a request body.
fn request_messages(body: &[u8]) -> Option<Value> {
    #[derive(Deserialize)]
    struct Probe {
        messages: Option<Value>,
        input: Option<Value>,
    }
    let p: Probe = serde_json::from_slice(body).ok()?;
    p.messages.or(p.input)
}

/// Reads a small body whole (its exact size known and at most [`CAPTURE_LIMIT`]).
async fn read_small(body: Body) -> Result<bytes::Bytes, Body> {
    use axum::body::HttpBody as _;
    match body.size_hint().exact() {
        Some(n) if n <= CAPTURE_LIMIT => match axum::body::to_bytes(body, n as usize).await {
            Ok(b) => Ok(b),
            Err(_) => Ok(bytes::Bytes::new()),
        },
        _ => Err(body),
    }
}

/// Middleware around the LLM routes: opens the request's scope and emits its record.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !crate::metrics::is_llm_route(&path) {
        return next.run(req).await;
    }
    let callbacks = state.callbacks.clone();
    let start = SystemTime::now();
    let parent = callbacks
        .otel
        .as_ref()
        .and_then(|_| remote_parent(req.headers()));
    let mut messages = None;
    let req = if callbacks.wants_messages() {
        use axum::body::HttpBody as _;
        let (parts, body) = req.into_parts();
        // Only bodies of known size within the request limit (bigger ones get a 413 anyway).
        match body.size_hint().exact() {
            Some(n) if n <= state.settings.body_limit as u64 => {
                match axum::body::to_bytes(body, n as usize).await {
                    Ok(bytes) => {
                        messages = request_messages(&bytes);
                        Request::from_parts(parts, Body::from(bytes))
                    }
                    Err(_) => {
                        return ApiError::bad_request(None, "could not read the request body")
                            .into_response()
                    }
                }
            }
            _ => Request::from_parts(parts, body),
        }
    } else {
        req
    };
    let scope = CallScope(Arc::new(Mutex::new(ScopeState {
        path: path.clone(),
        messages,
        parent,
        ..ScopeState::default()
    })));
    let response = SCOPE.scope(scope.clone(), next.run(req)).await;
    let labels = crate::metrics::current_labels();
    let (pending, attempts, messages, parent, streamed) = {
        let mut s = scope.lock();
        if s.stream_owned {
            return response;
        }
        (
            s.pending.take(),
            std::mem::take(&mut s.attempts),
            s.messages.take(),
            s.parent.take(),
            s.stream,
        )
    };
    let status = response.status();
    let (mut call, response) = match pending {
        Some(rec) => {
            let mut call = CallRecord::from_spend(&rec);
            let response = if callbacks.wants_messages() && status.is_success() {
                let (parts, body) = response.into_parts();
                match read_small(body).await {
                    Ok(bytes) => {
                        call.response = serde_json::from_slice(&bytes).ok();
                        Response::from_parts(parts, Body::from(bytes))
                    }
                    Err(body) => Response::from_parts(parts, body),
                }
            } else {
                response
            };
            (call, response)
        }
        None if status.is_success() => return response,
        None => {
            let (parts, body) = response.into_parts();
            let (error, response) = match read_small(body).await {
                Ok(bytes) => (
                    error_from_body(status, &bytes),
                    Response::from_parts(parts, Body::from(bytes)),
                ),
                Err(body) => (
                    error_from_body(status, b""),
                    Response::from_parts(parts, body),
                ),
            };
            let last = attempts.last();
            let call = CallRecord {
                request_id: uuid::Uuid::new_v4().to_string(),
                call_type: call_type_for(&path).to_string(),
                start,
                end: SystemTime::now(),
                model_group: last.map(|a| a.model_group.clone()),
                model_id: last.map(|a| a.deployment_id.clone()),
                provider: last.map(|a| a.provider.clone()),
                model: last.map(|a| a.model.clone()),
                api_base: last.and_then(|a| a.api_base.clone()),
                error: Some(error),
                ..CallRecord::default()
            };
            (call, response)
        }
    };
    call.path = path;
    call.stream |= streamed;
    call.status_code = status.as_u16();
    call.attempts = attempts;
    call.messages = messages;
    call.cache_key = response
        .headers()
        .get("x-litellm-cache-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let call = call.with_labels(&labels);
    callbacks.emit(call, parent.as_ref());
    response
}

/// The caller's trace (W3C `traceparent`), if it sent one.
fn remote_parent(headers: &HeaderMap) -> Option<opentelemetry::Context> {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::TraceContextExt as _;
    headers.get("traceparent")?;
    let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(headers));
    cx.span().span_context().is_valid().then_some(cx)
}

/// The error of a failed response: its OpenAI (or Anthropic) error body, else the status.
fn error_from_body(status: StatusCode, body: &[u8]) -> ErrorInfo {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = v["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    ErrorInfo {
        message,
        class: class_for_status(status).to_string(),
        code: Some(status.as_u16().to_string()),
    }
}

/// LiteLLM's exception class for a proxy error status.
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

// ---------------------------------------------------------------------------------------------
// The sinks

/// The configured sinks. The access log is always on.
pub struct Callbacks {
    pub otel: Option<Otel>,
    pub generic: Vec<GenericLogger>,
    pub turn_off_message_logging: bool,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("otel", &self.otel.is_some())
            .field("generic", &self.generic.len())
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// No sinks but the access log.
    pub fn none() -> Callbacks {
        Callbacks {
            otel: None,
            generic: Vec::new(),
            turn_off_message_logging: false,
        }
    }

    /// The sinks `config` asks for (environment from its `environment_variables`, then the
    /// process). Background parts need a tokio runtime; without one they stay off.
    pub fn from_config(config: &ProxyConfig) -> Callbacks {
        let lookup = |name: &str| {
            config
                .environment_variables
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        };
        let litellm = &config.litellm_settings;
        let turn_off = litellm.turn_off_message_logging.unwrap_or(false);
        let named = named_callbacks(litellm);
        let mut out = Callbacks {
            turn_off_message_logging: turn_off,
            ..Callbacks::none()
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            if !named.is_empty() || lookup("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
                tracing::warn!("callbacks need a tokio runtime; they are off");
            }
            return out;
        };
        let otel_named = named.iter().any(|(n, _, _)| n == "otel");
        let otel_messages = !turn_off
            && config
                .callback_settings
                .get("otel")
                .and_then(|s| s.message_logging)
                .unwrap_or(true);
        let mut warnings = Vec::new();
        if let Some(settings) =
            crate::otel::settings_from_env(&lookup, otel_named, otel_messages, &mut warnings)
        {
            match Otel::start(&settings, runtime.clone()) {
                Ok(o) => {
                    tracing::info!(
                        exporter = ?settings.exporter,
                        endpoint = %redact_endpoint(&settings.endpoint),
                        "OpenTelemetry tracing on"
                    );
                    out.otel = Some(o);
                }
                Err(e) => tracing::error!(error = %e, "OpenTelemetry tracing is off"),
            }
        }
        for w in warnings {
            tracing::warn!("{w}");
        }
        for (name, events, _) in &named {
            let settings = config.callback_settings.get(name);
            if !is_generic(name, settings) {
                continue;
            }
            match GenericLogger::start(name, settings, *events, turn_off, &lookup, &runtime) {
                Some(g) => out.generic.push(g),
                None => tracing::warn!(
                    callback = %name,
                    "generic_api callback has no endpoint (callback_settings.{name}.endpoint or \
                     GENERIC_LOGGER_ENDPOINT); it is off"
                ),
            }
        }
        out
    }

    /// Whether any sink wants message contents.
    pub fn wants_messages(&self) -> bool {
        !self.turn_off_message_logging
            && (self.otel.as_ref().is_some_and(|o| o.message_logging)
                || self.generic.iter().any(|g| g.message_logging)
                || tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG))
    }

    /// Hands a finished call to every sink (never blocks: queues and a log line).
    pub fn emit(&self, call: CallRecord, parent: Option<&opentelemetry::Context>) {
        access_log(&call, !self.turn_off_message_logging);
        if let Some(o) = &self.otel {
            o.record(&call, parent);
        }
        let success = call.success();
        for g in &self.generic {
            if (success && g.events.success) || (!success && g.events.failure) {
                g.log(standard_logging_payload(&call, g.message_logging));
            }
        }
    }

    /// Events dropped so far by the webhooks (queue overflow, or delivery given up).
    pub fn dropped_events(&self) -> u64 {
        self.generic.iter().map(|g| g.dropped()).sum()
    }

    /// Exports queued spans now (tests).
    pub fn flush_traces(&self) {
        if let Some(o) = &self.otel {
            o.force_flush();
        }
    }

    /// Sends everything still queued (graceful shutdown).
    pub async fn shutdown(&self) {
        for g in &self.generic {
            g.shutdown().await;
        }
        if let Some(o) = &self.otel {
            o.shutdown().await;
        }
    }
}

/// The access-log line of one request (info level; messages only at debug level).
fn access_log(c: &CallRecord, message_logging: bool) {
    let key_hash = c.key_hash.as_deref().map(|h| &h[..h.len().min(12)]);
    let latency_ms = c
        .end
        .duration_since(c.start)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    tracing::info!(
        target: ACCESS_TARGET,
        request_id = %c.request_id,
        call_type = %c.call_type,
        route = %c.path,
        status_code = c.status_code,
        status = if c.success() { "success" } else { "failure" },
        latency_ms,
        key_alias = c.key_alias.as_deref(),
        key_hash = key_hash,
        team_id = c.team_id.as_deref(),
        user_id = c.user_id.as_deref(),
        requested_model = c.requested_model.as_deref(),
        model = c.model.as_deref(),
        model_group = c.model_group.as_deref(),
        deployment_id = c.model_id.as_deref(),
        provider = c.provider.as_deref(),
        cost = c.cost,
        prompt_tokens = c.prompt_tokens,
        completion_tokens = c.completion_tokens,
        total_tokens = c.total_tokens,
        cache_hit = c.cache_hit,
        stream = c.stream,
        attempts = c.attempts.len(),
        error = c.error.as_ref().map(|e| e.message.as_str()),
        "llm request"
    );
    if message_logging && tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG) {
        tracing::debug!(
            target: ACCESS_TARGET,
            request_id = %c.request_id,
            messages = %c.messages.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            response = %c.response.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            "llm request messages"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// generic_api

/// How a batch is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogFormat {
    /// One POST with a JSON array of events.
    JsonArray,
    /// One POST with one JSON event per line.
    Ndjson,
    /// One POST per event.
    Single,
}

/// LiteLLM's `generic_api` webhook: events queue in a bounded channel; a background task
/// sends them in batches (every `batch_size` events or `flush_interval`), retrying failed
/// deliveries with backoff.
pub struct GenericLogger {
    pub name: String,
    tx: mpsc::Sender<Value>,
    events: Events,
    pub message_logging: bool,
    dropped: Arc<AtomicU64>,
    stop: CancellationToken,
    worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl GenericLogger {
    /// Starts the logger, or `None` without an endpoint.
    fn start(
        name: &str,
        settings: Option<&CallbackSettings>,
        mut events: Events,
        turn_off_message_logging: bool,
        lookup: &dyn Fn(&str) -> Option<String>,
        runtime: &tokio::runtime::Handle,
    ) -> Option<GenericLogger> {
        let default = CallbackSettings::default();
        let s = settings.unwrap_or(&default);
        let endpoint = s
            .endpoint
            .clone()
            .or_else(|| lookup("GENERIC_LOGGER_ENDPOINT"))
            .filter(|e| !e.trim().is_empty())?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let mut add = |k: &str, v: &str| {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.trim().as_bytes()),
                HeaderValue::from_str(v.trim()),
            ) {
                headers.insert(k, v);
            }
        };
        if let Some(env) = lookup("GENERIC_LOGGER_HEADERS") {
            for item in env.split(',') {
                if let Some((k, v)) = item.split_once('=') {
                    add(k, v);
                }
            }
        }
        for (k, v) in s.headers.iter().flatten() {
            add(k, v);
        }
        if let Some(types) = &s.event_types {
            events.success &= types.iter().any(|t| t == "llm_api_success");
            events.failure &= types.iter().any(|t| t == "llm_api_failure");
        }
        let format = match s.log_format.as_deref() {
            Some("ndjson") => LogFormat::Ndjson,
            Some("single") => LogFormat::Single,
            _ => LogFormat::JsonArray,
        };
        let batch_size = s.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1);
        let flush = s
            .flush_interval
            .filter(|f| f.is_finite() && *f > 0.0)
            .unwrap_or(DEFAULT_FLUSH_INTERVAL);
        let (tx, rx) = mpsc::channel(s.max_queue_size.unwrap_or(DEFAULT_MAX_QUEUE_SIZE).max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let delivery = Delivery {
            name: name.to_string(),
            client,
            endpoint,
            headers,
            format,
            dropped: dropped.clone(),
        };
        tracing::info!(
            callback = %name,
            endpoint = %redact_endpoint(&delivery.endpoint),
            "generic_api logging on"
        );
        let worker = runtime.spawn(run_worker(
            rx,
            delivery,
            batch_size,
            Duration::from_secs_f64(flush),
            stop.clone(),
        ));
        Some(GenericLogger {
            name: name.to_string(),
            tx,
            events,
            message_logging: !turn_off_message_logging && s.message_logging.unwrap_or(true),
            dropped,
            stop,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Queues one event; a full queue drops it (counted, and logged now and then).
    pub fn log(&self, event: Value) {
        if self.tx.try_send(event).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n % 1000 == 0 {
                tracing::warn!(
                    callback = %self.name,
                    dropped = n,
                    "generic_api queue is full (or stopped): event dropped"
                );
            }
        }
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends what is queued and stops (waits at most 30 s).
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let worker = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = worker {
            if tokio::time::timeout(Duration::from_secs(30), w)
                .await
                .is_err()
            {
                tracing::warn!(callback = %self.name, "generic_api: shutdown flush timed out");
            }
        }
    }
}

/// Sends batches to the endpoint.
struct Delivery {
    name: String,
    client: reqwest::Client,
    endpoint: String,
    headers: HeaderMap,
    format: LogFormat,
    dropped: Arc<AtomicU64>,
}

impl Delivery {
    async fn send(&self, batch: Vec<Value>) {
        if batch.is_empty() {
            return;
        }
        let bodies: Vec<(Vec<u8>, u64)> = match self.format {
            LogFormat::JsonArray => vec![(
                serde_json::to_vec(&batch).unwrap_or_default(),
                batch.len() as u64,
            )],
            LogFormat::Ndjson => {
                let lines: Vec<String> = batch.iter().map(Value::to_string).collect();
                vec![(lines.join("\n").into_bytes(), batch.len() as u64)]
            }
            LogFormat::Single => batch
                .iter()
                .map(|e| (serde_json::to_vec(e).unwrap_or_default(), 1))
                .collect(),
        };
        for (body, count) in bodies {
            if let Err(why) = self.post(body).await {
                let total = self.dropped.fetch_add(count, Ordering::Relaxed) + count;
                tracing::error!(
                    callback = %self.name,
                    endpoint = %redact_endpoint(&self.endpoint),
                    events = count,
                    dropped_total = total,
                    error = %why,
                    "generic_api: delivery failed; events dropped"
                );
            }
        }
    }

    /// One POST, retried on connection errors, 408, 429 and 5xx with doubling backoff.
    async fn post(&self, body: Vec<u8>) -> Result<(), String> {
        let body = bytes::Bytes::from(body);
        let mut delay = FIRST_RETRY_DELAY;
        let mut last = String::new();
        for attempt in 0..=DELIVERY_RETRIES {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            let sent = self
                .client
                .post(&self.endpoint)
                .headers(self.headers.clone())
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => {
                    let status = r.status();
                    last = format!("status {status}");
                    let retryable = status == StatusCode::REQUEST_TIMEOUT
                        || status == StatusCode::TOO_MANY_REQUESTS
                        || status.is_server_error();
                    if !retryable {
                        return Err(last);
                    }
                }
                Err(e) => last = e.without_url().to_string(),
            }
            tracing::debug!(callback = %self.name, attempt, error = %last, "generic_api: retrying");
        }
        Err(format!("{last} after {DELIVERY_RETRIES} retries"))
    }
}

async fn run_worker(
    mut rx: mpsc::Receiver<Value>,
    delivery: Delivery,
    batch_size: usize,
    flush: Duration,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(batch_size.min(1024));
    let mut tick = tokio::time::interval(flush);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            ev = rx.recv() => match ev {
                Some(e) => {
                    batch.push(e);
                    if batch.len() >= batch_size {
                        delivery.send(std::mem::take(&mut batch)).await;
                    }
                }
                None => break,
            },
            _ = tick.tick() => delivery.send(std::mem::take(&mut batch)).await,
        }
    }
    rx.close();
    while let Some(e) = rx.recv().await {
        batch.push(e);
        if batch.len() >= batch_size {
            delivery.send(std::mem::take(&mut batch)).await;
        }
    }
    delivery.send(batch).await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> LitellmSettings {
        serde_yaml::from_str(yaml).unwrap_or_default()
    }

    #[test]
    fn unknown_callbacks_warn_and_generic_needs_an_endpoint() {
        let s =
            settings("callbacks: [otel, generic_api]\nsuccess_callback: [langfuse, prometheus]");
        let w = config_warnings(&s, &BTreeMap::new(), &|_| None);
        assert_eq!(
            w,
            vec![
                "callback_settings.generic_api.endpoint: not set, and neither is \
                 GENERIC_LOGGER_ENDPOINT; the `generic_api` webhook is off"
                    .to_string(),
                "litellm_settings.success_callback: callback `langfuse` not supported yet; ignored"
                    .to_string(),
            ]
        );
        let w = config_warnings(&s, &BTreeMap::new(), &|n| {
            (n == "GENERIC_LOGGER_ENDPOINT").then(|| "http://x".to_string())
        });
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn a_named_callback_with_generic_api_type_is_a_webhook() {
        let s = settings("callbacks: [my_hook]");
        let mut cs = BTreeMap::new();
        cs.insert(
            "my_hook".to_string(),
            CallbackSettings {
                callback_type: Some("generic_api".into()),
                endpoint: Some("http://x".into()),
                log_format: Some("xml".into()),
                ..Default::default()
            },
        );
        let w = config_warnings(&s, &cs, &|_| None);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("log_format"), "{w:?}");
    }

    #[test]
    fn payload_has_litellm_fields_and_messages_only_when_allowed() {
        let call = CallRecord {
            request_id: "id-1".into(),
            call_type: "acompletion".into(),
            key_hash: Some("abc".into()),
            key_alias: Some("alias".into()),
            prompt_tokens: 3,
            completion_tokens: 4,
            total_tokens: 7,
            messages: Some(json!([{"role": "user", "content": "secret prompt"}])),
            start: UNIX_EPOCH + Duration::from_secs(10),
            end: UNIX_EPOCH + Duration::from_secs(12),
            ..CallRecord::default()
        };
        let p = standard_logging_payload(&call, true);
        assert_eq!(p["id"], "id-1");
        assert_eq!(p["status"], "success");
        assert_eq!(p["startTime"], 10.0);
        assert_eq!(p["response_time"], 2.0);
        assert_eq!(p["metadata"]["user_api_key_alias"], "alias");
        assert_eq!(p["messages"][0]["content"], "secret prompt");
        let p = standard_logging_payload(&call, false);
        assert!(p["messages"].is_null());
        assert!(!p.to_string().contains("secret prompt"));
    }

    #[test]
    fn errors_come_from_the_openai_body_or_the_status() {
        let e = error_from_body(
            StatusCode::UNAUTHORIZED,
            br#"{"error":{"message":"bad key","type":"auth"}}"#,
        );
        assert_eq!(e.message, "bad key");
        assert_eq!(e.class, "AuthenticationError");
        let e = error_from_body(StatusCode::BAD_GATEWAY, b"");
        assert_eq!(e.message, "Bad Gateway");
        assert_eq!(e.code.as_deref(), Some("502"));
    }
}
