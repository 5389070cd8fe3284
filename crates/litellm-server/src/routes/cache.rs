//! The response cache on the inference path, the handlers' glue: the request's plan, lookup,
//! store, and answering a hit (JSON or an SSE replay), recorded in the spend log at cost 0
//! with `cache_hit`. The cache itself is `crate::cache`; its admin routes (`/cache/ping`,
//! `/cache/delete`) are `service/cache.rs`.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use std::time::{Instant, SystemTime};

use litellm_router::RouteInfo;

use crate::auth::Caller;
use crate::cache::CachePlan;
use crate::error::ApiError;
use crate::headers::route_headers;
use crate::limits::CallLimits;
use crate::pipeline::Admission;
use crate::spend::{self, CallFacts};
use crate::state::AppState;

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

/// The cached answer of an admitted call, if its plan reads the cache and the key is there
/// (the call's rate-limit reservation is released: a hit uses no tokens), and the [`Hit`] to
/// answer with.
pub async fn hit<'a, T: serde::de::DeserializeOwned>(
    state: &'a AppState,
    adm: &'a Admission,
) -> Option<(T, Hit<'a>)> {
    let (plan, group) = adm.cache.as_ref()?;
    let value = lookup::<T>(state, plan, group).await?;
    adm.limits.finish(0).await;
    Some((
        value,
        Hit {
            state,
            plan,
            group,
            call_id: &adm.call_id,
            started: adm.started,
            caller: &adm.caller,
            facts: adm.facts.clone(),
            limits: &adm.limits,
        },
    ))
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
    pub limits: &'a CallLimits,
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

    /// Headers of a hit: LiteLLM's `x-litellm-*` with cost 0, the cache key, the rate limits.
    fn headers(&self, route: &RouteInfo) -> HeaderMap {
        let mut h = HeaderMap::new();
        route_headers(&mut h, self.call_id, route, self.started.elapsed(), 0.0);
        self.caller.key_headers(&mut h, 0.0);
        key_header(&mut h, self.plan);
        self.limits.apply_headers(&mut h);
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
