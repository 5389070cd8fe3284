//! `POST /v1/chat/completions` (and `/chat/completions`, `/engines/{model}/...`,
//! `/openai/deployments/{model}/...`): authenticate, parse, authorize the model (key and team
//! models, budgets), route, and answer as JSON or SSE.

use std::time::{Instant, SystemTime};

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use litellm_core::{ChatRequest, ChatResponse, StreamOptions};

use crate::error::ApiError;
use crate::headers::route_headers;
use crate::spend::{self, CallFacts};
use crate::state::AppState;
use crate::stream::{estimate_tokens, sse_body_limited, StreamCall};

/// OpenAI Chat Completions; SSE when `stream: true`.
#[utoipa::path(
    post,
    path = "/v1/chat/completions",
    tag = "inference",
    request_body = ChatRequest,
    responses(
        (status = 200, description = "A chat completion, or an SSE stream of `chat.completion.chunk` events when `stream` is true", body = ChatResponse),
        (status = 400, description = "Malformed request, unknown model, or context window exceeded"),
        (status = 401, description = "Missing, invalid or blocked key, or a model the key or team may not use"),
        (status = 408, description = "Upstream timeout (after retries)"),
        (status = 413, description = "Request body too large"),
        (status = 422, description = "A key, team or user budget is exceeded (`budget_exceeded`)"),
        (status = 429, description = "Upstream rate limit (after retries)"),
    ),
    security(("bearer" = []))
)]
pub async fn chat_completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, headers, None, body).await
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn chat_completions_for_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, headers, Some(model), body).await
}

async fn handle(
    state: AppState,
    headers: HeaderMap,
    path_model: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run(state, headers, path_model, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Characters of prompt text, for the token estimate of a stream that never reports usage.
fn prompt_chars(req: &ChatRequest) -> usize {
    req.messages.iter().map(|m| m.text().len()).sum()
}

async fn run(
    state: AppState,
    headers: HeaderMap,
    path_model: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let start = SystemTime::now();
    let mut caller = state.auth.check(&headers).await?;
    let mut req: ChatRequest = crate::routes::parse_body(body, path_model.as_deref())?;
    crate::routes::require_model(&req.model)?;
    crate::metrics::note_caller(&caller, &req.model, req.user.as_deref());
    state.auth.authorize(&caller, &req.model)?;
    crate::budget_reserve::load_end_user(&state, &mut caller, &headers, req.user.as_deref())
        .await?;
    let requested_model = req.model.clone();
    if let Some(target) = caller.model_alias(&req.model) {
        req.model = target;
    }
    if req.messages.is_empty() {
        return Err(ApiError::bad_request(
            Some("messages"),
            "messages must contain at least one message",
        ));
    }
    let tags = crate::routes::tags::of_request(
        &headers,
        req.metadata.as_ref().and_then(|m| m.get("tags")),
        req.extra.get("tags"),
        &caller,
    )?;
    // Budgets before rate limits (LiteLLM's order); a refused call holds nothing.
    let budget_hold =
        crate::budget_reserve::reserve_chat(&state, &caller, &req.model, &req).await?;
    let limits = crate::limits::check(&state.limiter, &caller, &requested_model).await?;
    let call_id = uuid::Uuid::new_v4().to_string();
    let mut facts = CallFacts::start(
        call_id.clone(),
        "acompletion",
        &caller,
        req.user.clone(),
        start,
    );
    facts.budget = budget_hold;
    facts.tags = tags;
    // The response cache: `cache` controls never reach the upstream.
    let cache_control = req.extra.remove("cache");
    let cache_plan =
        crate::routes::cache::plan(&state, "acompletion", &req.model, &req, cache_control)?;
    if let Some((plan, group)) = &cache_plan {
        if let Some(hit) = crate::routes::cache::lookup::<ChatResponse>(&state, plan, group).await {
            let include_usage =
                req.wants_stream_usage() || state.settings.always_include_stream_usage;
            limits.finish(0).await;
            let hit_call = crate::routes::cache::Hit {
                state: &state,
                plan,
                group,
                call_id: &call_id,
                started: t0,
                caller: &caller,
                facts,
            };
            let mut resp = hit_call.chat(hit, req.is_stream(), include_usage).await;
            limits.apply_headers(resp.headers_mut());
            return Ok(resp);
        }
    }

    if req.is_stream() {
        let client_wants_usage =
            req.wants_stream_usage() || state.settings.always_include_stream_usage;
        // Always ask the upstream for usage so streamed calls are billed exactly.
        req.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
        let prompt_estimate = estimate_tokens(prompt_chars(&req));
        let routed = state
            .router
            .completion_stream(req)
            .await
            .map_err(|e| ApiError::from(e.error))?;
        let mut resp_headers = HeaderMap::new();
        route_headers(
            &mut resp_headers,
            &call_id,
            &routed.route,
            t0.elapsed(),
            0.0,
        );
        caller.key_headers(&mut resp_headers, 0.0);
        limits.apply_headers(&mut resp_headers);
        if let Some((plan, _)) = &cache_plan {
            crate::routes::cache::key_header(&mut resp_headers, plan);
        }
        resp_headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        resp_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let body = sse_body_limited(
            routed.stream,
            StreamCall {
                state: state.clone(),
                route: routed.route,
                facts,
                prompt_estimate,
                client_wants_usage,
                cache_plan: cache_plan.as_ref().map(|(plan, _)| plan.clone()),
            },
            limits,
        );
        return Ok((resp_headers, axum::body::Body::from_stream(body)).into_response());
    }

    let routed = state
        .router
        .completion(req)
        .await
        .map_err(|e| ApiError::from(e.error))?;
    let cost = spend::cost(&routed.route, routed.response.usage.as_ref());
    limits
        .finish(routed.response.usage.as_ref().map_or(0, |u| u.total_tokens))
        .await;
    state.metrics.record_success(
        &crate::metrics::current_labels(),
        crate::metrics::Success {
            route: &routed.route,
            usage: routed.response.usage.as_ref(),
            cost,
            total: t0.elapsed(),
            overhead: t0.elapsed().saturating_sub(routed.route.upstream_time),
            stream_api_latency: None,
        },
    );
    let mut resp_headers = HeaderMap::new();
    route_headers(
        &mut resp_headers,
        &call_id,
        &routed.route,
        t0.elapsed(),
        cost,
    );
    caller.key_headers(&mut resp_headers, cost);
    limits.apply_headers(&mut resp_headers);
    if let Some((plan, _)) = &cache_plan {
        crate::routes::cache::key_header(&mut resp_headers, plan);
        crate::routes::cache::store(&state, plan, &routed.response);
    }
    let mut facts = facts;
    facts.end = SystemTime::now();
    facts.usage = routed.response.usage.clone();
    facts.response_model = Some(routed.response.model.clone());
    spend::log(&state, spend::record(&routed.route, facts, cost)).await;
    Ok((resp_headers, axum::Json(routed.response)).into_response())
}
