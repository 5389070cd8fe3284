//! Cache administration (admin only), LiteLLM's paths: `GET /cache/ping` checks the response
//! cache's backend and `POST /cache/delete` removes entries by key (the `x-litellm-cache-key`
//! a response carried). Also the handlers' glue: lookup, store, and answering a hit (JSON or
//! an SSE replay), recorded in the spend log at cost 0 with `cache_hit`.

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use std::time::{Instant, SystemTime};

use serde::Deserialize;
use serde_json::json;

use litellm_router::RouteInfo;

use crate::auth::Caller;
use crate::cache::CachePlan;
use crate::error::ApiError;
use crate::headers::route_headers;
use crate::spend::{self, CallFacts};
use crate::state::AppState;

fn not_enabled() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "Cache not initialized: set litellm_settings.cache: true (and cache_params) in config.yaml.",
    )
}

/// Checks the cache backend: `{"status": "healthy", "cache_type": "local"|"redis", ...}`.
#[utoipa::path(
    get,
    path = "/cache/ping",
    tag = "cache",
    responses(
        (status = 200, description = "The cache backend answers"),
        (status = 503, description = "No cache is configured, or its Redis does not answer"),
    ),
    security(("bearer" = []))
)]
pub async fn ping(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = state.auth.require_admin(&headers).await {
        return e.into_response();
    }
    let Some(cache) = &state.cache else {
        return not_enabled().into_response();
    };
    let s = cache.settings();
    match cache.ping().await {
        Ok(()) => Json(json!({
            "status": "healthy",
            "cache_type": cache.kind(),
            "ping_response": true,
            "litellm_cache_params": {
                "ttl": s.ttl.as_secs_f64(),
                "namespace": s.namespace,
                "mode": if s.mode == crate::cache::CacheMode::DefaultOn { "default_on" } else { "default_off" },
                "supported_call_types": s.call_types,
            },
            "entries": cache.local_entries(),
        }))
        .into_response(),
        Err(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            format!("Cache unhealthy: {e}"),
        )
        .into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct DeleteBody {
    keys: Vec<String>,
}

/// Deletes cached responses by key: body `{"keys": ["<x-litellm-cache-key>", ...]}`.
#[utoipa::path(
    post,
    path = "/cache/delete",
    tag = "cache",
    request_body(content = Object, description = "`{\"keys\": [\"<x-litellm-cache-key>\", ...]}`"),
    responses(
        (status = 200, description = "`{\"status\": \"success\", \"deleted\": n}`"),
        (status = 400, description = "The body is not `{\"keys\": [...]}`"),
        (status = 503, description = "No cache is configured, or its Redis does not answer"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = state.auth.require_admin(&headers).await {
        return e.into_response();
    }
    let Some(cache) = &state.cache else {
        return not_enabled().into_response();
    };
    let body: DeleteBody = match crate::routes::parse_body(body, None) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    match cache.delete(&body.keys).await {
        Ok(n) => Json(json!({"status": "success", "deleted": n})).into_response(),
        Err(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            format!("Cache delete failed: {e}"),
        )
        .into_response(),
    }
}

/// The request's cache plan and its model group (the key is per group, so aliases share
/// entries), or `None` when no cache is configured or the request does not use it.
pub fn plan(
    state: &AppState,
    call_type: &str,
    model: &str,
    body: &impl serde::Serialize,
    control: Option<serde_json::Value>,
) -> Result<Option<(CachePlan, String)>, ApiError> {
    let Some(cache) = &state.cache else {
        return Ok(None);
    };
    let group = state
        .router
        .resolve_group(model)
        .unwrap_or_else(|| model.to_string());
    Ok(crate::cache::plan_request(cache, call_type, &group, body, control)?.map(|p| (p, group)))
}

/// Sets `x-litellm-cache-key`.
pub fn key_header(headers: &mut HeaderMap, plan: &CachePlan) {
    if let Ok(v) = axum::http::HeaderValue::from_str(&plan.key) {
        headers.insert("x-litellm-cache-key", v);
    }
}

/// Looks the plan's key up; a stored body that no longer parses is a miss. Counts the hit or
/// miss in the metrics.
pub async fn lookup<T: serde::de::DeserializeOwned>(
    state: &AppState,
    plan: &CachePlan,
    group: &str,
) -> Option<T> {
    let cache = state.cache.as_ref()?;
    if !plan.read {
        return None;
    }
    let hit = cache
        .get(plan)
        .await
        .and_then(|b| serde_json::from_slice::<T>(&b).ok());
    if hit.is_some() {
        state.metrics.record_cache_hit(group, None);
    } else {
        state.metrics.record_cache_miss(group, None);
    }
    hit
}

/// Stores a response under the plan's key (off the request path for Redis).
pub fn store(state: &AppState, plan: &CachePlan, value: &impl serde::Serialize) {
    if let (Some(cache), Ok(body)) = (state.cache.as_ref(), serde_json::to_vec(value)) {
        cache.put(plan, Bytes::from(body));
    }
}

/// What a cache hit needs to answer and be recorded.
pub struct Hit<'a> {
    pub state: &'a AppState,
    pub plan: &'a CachePlan,
    pub group: &'a str,
    pub call_id: &'a str,
    pub started: Instant,
    pub caller: &'a Caller,
    pub facts: CallFacts,
}

impl Hit<'_> {
    /// The route a hit is recorded under: the model group, no deployment, provider `cache`.
    fn route(&self, model: &str) -> RouteInfo {
        RouteInfo {
            model_group: self.group.to_string(),
            model: model.to_string(),
            provider: "cache".to_string(),
            ..RouteInfo::default()
        }
    }

    /// Headers of a hit: LiteLLM's `x-litellm-*` with cost 0 and the cache key.
    fn headers(&self, route: &RouteInfo) -> HeaderMap {
        let mut h = HeaderMap::new();
        route_headers(&mut h, self.call_id, route, self.started.elapsed(), 0.0);
        self.caller.key_headers(&mut h, 0.0);
        key_header(&mut h, self.plan);
        h
    }

    /// Records the hit in the spend log: cost 0, `cache_hit` true, the cached usage.
    async fn record(self, route: &RouteInfo, usage: Option<litellm_core::Usage>, model: String) {
        let mut facts = self.facts;
        facts.end = SystemTime::now();
        facts.usage = usage;
        facts.response_model = Some(model);
        let mut rec = spend::record(route, facts, 0.0);
        rec.cache_hit = true;
        spend::log(self.state, rec).await;
    }

    /// Answers a chat request from the cache: JSON, or an SSE replay when it asked to stream.
    pub async fn chat(
        self,
        resp: litellm_core::ChatResponse,
        stream: bool,
        include_usage: bool,
    ) -> Response {
        let route = self.route(&resp.model);
        let mut headers = self.headers(&route);
        let usage = resp.usage.clone();
        let model = resp.model.clone();
        let response = if stream {
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-cache"),
            );
            let chunks = crate::cache::chat_response_as_sse(&resp, include_usage);
            let body = futures::stream::iter(
                chunks
                    .into_iter()
                    .map(Ok::<Bytes, std::convert::Infallible>),
            );
            (headers, axum::body::Body::from_stream(body)).into_response()
        } else {
            (headers, Json(resp)).into_response()
        };
        self.record(&route, usage, model).await;
        response
    }

    /// Answers an embeddings request from the cache.
    pub async fn embeddings(self, resp: litellm_core::EmbeddingResponse) -> Response {
        let route = self.route(&resp.model);
        let headers = self.headers(&route);
        let usage = resp.usage.clone().map(|u| litellm_core::Usage {
            prompt_tokens: u.prompt_tokens,
            total_tokens: u.total_tokens,
            ..litellm_core::Usage::default()
        });
        let model = resp.model.clone();
        let response = (headers, Json(resp)).into_response();
        self.record(&route, usage, model).await;
        response
    }
}
