//! Settlement, the second half of every inference call: cost, the rate-limit release (with the
//! tokens used), metrics, the response headers (`x-litellm-*`, key spend, rate limits, cache
//! key), the cache store and the spend record. A stream settles when it ends (`stream.rs`);
//! [`stream_start`] hands it what it needs.

use std::time::SystemTime;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use litellm_core::Usage;
use litellm_router::RouteInfo;

use crate::headers::route_headers;
use crate::limits::CallLimits;
use crate::spend;
use crate::state::AppState;
use crate::stream::StreamCall;

use super::admit::Admission;

/// How a non-streaming call ended: what settlement needs from the router's answer.
pub struct Done<'a, C> {
    pub route: &'a RouteInfo,
    /// The billed usage.
    pub usage: Option<&'a Usage>,
    /// The model the answer names (the spend record's `response_model`).
    pub model: String,
    /// The answer to store in the response cache (when the call has a cache plan).
    pub cached: Option<&'a C>,
    /// USD billed beyond tokens (rerank queries, images: see `spend::unit_cost`); 0 for the
    /// token-billed families.
    pub unit_cost: f64,
}

impl<'a> Done<'a, ()> {
    /// A call billed by its tokens alone (`model`: the upstream's), with nothing for the cache.
    pub fn tokens(route: &'a RouteInfo, usage: Option<&'a Usage>, model: String) -> Self {
        Done {
            route,
            usage,
            model,
            cached: None,
            unit_cost: 0.0,
        }
    }

    /// The same call, storing `answer` in the response cache (when it has a cache plan).
    pub fn caching<C>(self, answer: &'a C) -> Done<'a, C> {
        Done {
            route: self.route,
            usage: self.usage,
            model: self.model,
            cached: Some(answer),
            unit_cost: self.unit_cost,
        }
    }
}

/// The router's answer to a call, or its failure as the client's error.
pub async fn routed<T>(
    call: impl std::future::Future<Output = Result<T, litellm_router::RouteError>>,
) -> Result<T, crate::error::ApiError> {
    call.await
        .map_err(|e| crate::error::ApiError::from(e.error))
}

/// Names the answer's `model` after what the client asked for (LiteLLM answers with the model
/// group or alias); returns the upstream's, for the spend log.
pub fn answer_as_requested(model: &mut String, adm: &Admission) -> String {
    std::mem::replace(model, adm.requested_model.clone())
}

/// Settles a finished non-streaming call and answers `body` as JSON with the settlement's
/// headers.
pub async fn reply<C: serde::Serialize, B: serde::Serialize>(
    state: &AppState,
    adm: Admission,
    done: Done<'_, C>,
    body: B,
) -> Response {
    (settle(state, adm, done).await, axum::Json(body)).into_response()
}

/// Settles a finished non-streaming call; returns the response headers.
pub async fn settle<C: serde::Serialize>(
    state: &AppState,
    adm: Admission,
    done: Done<'_, C>,
) -> HeaderMap {
    let Done {
        route,
        usage,
        model: response_model,
        cached,
        unit_cost,
    } = done;
    let Admission {
        caller,
        call_id,
        mut facts,
        limits,
        cache,
        started,
        ..
    } = adm;
    let cost = spend::cost(route, usage) + unit_cost;
    limits.finish(usage.map_or(0, |u| u.total_tokens)).await;
    state.metrics.record_success(
        &crate::metrics::current_labels(),
        crate::metrics::Success {
            route,
            usage,
            cost,
            total: started.elapsed(),
            overhead: started.elapsed().saturating_sub(route.upstream_time),
            stream_api_latency: None,
        },
    );
    let mut headers = HeaderMap::new();
    route_headers(&mut headers, &call_id, route, started.elapsed(), cost);
    caller.key_headers(&mut headers, cost);
    limits.apply_headers(&mut headers);
    if let Some((plan, _)) = &cache {
        crate::routes::cache::key_header(&mut headers, plan);
        if let Some(value) = cached {
            crate::routes::cache::store(state, plan, value);
        }
    }
    facts.end = SystemTime::now();
    facts.usage = usage.cloned();
    facts.response_model = Some(response_model);
    spend::log(state, spend::record(route, facts, cost)).await;
    headers
}

/// The response headers of a stream that just started, and the accounting it settles with
/// when it ends.
pub fn stream_start(
    state: &AppState,
    adm: Admission,
    route: RouteInfo,
    prompt_estimate: u64,
    client_wants_usage: bool,
) -> (HeaderMap, StreamCall, CallLimits) {
    let mut headers = HeaderMap::new();
    route_headers(
        &mut headers,
        &adm.call_id,
        &route,
        adm.started.elapsed(),
        0.0,
    );
    adm.caller.key_headers(&mut headers, 0.0);
    adm.limits.apply_headers(&mut headers);
    if let Some((plan, _)) = &adm.cache {
        crate::routes::cache::key_header(&mut headers, plan);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let call = StreamCall {
        client_model: adm.requested_model.clone(),
        state: state.clone(),
        route,
        facts: adm.facts,
        prompt_estimate,
        client_wants_usage,
        cache_plan: adm.cache.map(|(plan, _)| plan),
    };
    (headers, call, adm.limits)
}
