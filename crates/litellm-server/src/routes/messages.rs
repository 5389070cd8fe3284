//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: Anthropic's Messages API on the
//! proxy, for the Anthropic SDKs and Claude Code, served by whatever deployment the router
//! picks. The flow mirrors `routes/chat.rs` (auth — keys in `x-api-key` included —, model
//! authorization and budgets, routing, spend), around the sans-IO translation in
//! `litellm_providers::anthropic_ingress`: the request becomes an OpenAI `ChatRequest`, the
//! answer an Anthropic `message` or Anthropic SSE events, and every error Anthropic's
//! `{"type": "error", "error": {"type", "message"}}` with the status the OpenAI routes use.
//!
//! When every deployment of the model group is `anthropic/`, the request travels in native
//! mode (Anthropic blocks, tools, `tool_choice` and `thinking` as sent) and the client's
//! `anthropic-beta` / `anthropic-version` headers are forwarded upstream. See
//! `docs/anthropic-messages.md`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;

use litellm_core::{ChatChunk, ChunkStream, LlmError, StreamOptions};
use litellm_providers::anthropic_ingress::{
    self as ingress, IngressOptions, MessagesRequest, StreamEvent, StreamTranslator,
    FORWARDED_HEADERS,
};
use litellm_router::Router;

use crate::error::ApiError;
use crate::headers::route_headers;
use crate::spend::{self, CallFacts};
use crate::state::AppState;
use crate::stream::{sse_body_limited, StreamCall};

/// The spend-log `call_type` of `/v1/messages` calls (LiteLLM's `anthropic_messages`).
pub const CALL_TYPE: &str = "anthropic_messages";

/// Anthropic Messages API: a `message`, or Anthropic SSE events when `stream` is true.
#[utoipa::path(
    post,
    path = "/v1/messages",
    tag = "inference",
    request_body(content = Object, description = "An Anthropic Messages request: `model`, `messages` (text, image, document, tool_use, tool_result, thinking blocks), `max_tokens`, `system`, `stop_sequences`, `temperature`, `top_p`, `top_k`, `tools` (`input_schema`), `tool_choice`, `metadata.user_id`, `thinking`, `stream`"),
    responses(
        (status = 200, description = "An Anthropic `message`, or an SSE stream of `message_start`, `content_block_start`/`content_block_delta`/`content_block_stop`, `message_delta`, `message_stop` events when `stream` is true", body = Object),
        (status = 400, description = "`invalid_request_error`: malformed request, unknown model, or a block the serving provider cannot take"),
        (status = 401, description = "`authentication_error`: missing, invalid or blocked key (`x-api-key` or `Authorization`), or a model the key or team may not use"),
        (status = 413, description = "`request_too_large`"),
        (status = 422, description = "A key, team or user budget is exceeded"),
        (status = 429, description = "`rate_limit_error`: upstream rate limit (after retries)"),
        (status = 529, description = "`overloaded_error`: the upstream is overloaded (after retries)"),
    ),
    security(("bearer" = []))
)]
pub async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run(state, headers, body).await {
        Ok(r) => r,
        Err(e) => anthropic_error(e),
    }
}

/// Anthropic's token counting: `{"input_tokens": n}`, an estimate (see
/// `docs/anthropic-messages.md`); no upstream call is made.
#[utoipa::path(
    post,
    path = "/v1/messages/count_tokens",
    tag = "inference",
    request_body(content = Object, description = "An Anthropic Messages request without `max_tokens`"),
    responses(
        (status = 200, description = "`{\"input_tokens\": n}`: exact (tiktoken) for OpenAI-family deployments, else four characters a token plus 1,600 per image or binary document", body = Object),
        (status = 400, description = "`invalid_request_error`: malformed request or unknown model"),
        (status = 401, description = "`authentication_error`"),
    ),
    security(("bearer" = []))
)]
pub async fn count_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run_count(state, headers, body).await {
        Ok(r) => r,
        Err(e) => anthropic_error(e),
    }
}

/// An `ApiError` in Anthropic's shape, with the same status and headers (and logged the same
/// way as `ApiError`'s own responses).
pub fn anthropic_error(e: ApiError) -> Response {
    if e.status.is_server_error() {
        tracing::error!(status = e.status.as_u16(), message = %e.message, "request failed");
    } else {
        tracing::info!(status = e.status.as_u16(), message = %e.message, "request refused");
    }
    let body = ingress::error_body(e.status.as_u16(), &e.message);
    let mut resp = (e.status, axum::Json(body)).into_response();
    for (k, v) in e.headers {
        resp.headers_mut().insert(k, v);
    }
    resp
}

/// Whether every deployment that serves `model` is an `anthropic/` one (native mode).
fn served_only_by_anthropic(router: &Router, model: &str) -> bool {
    let Some(group) = router.resolve_group(model) else {
        return false;
    };
    let mut any = false;
    for d in router.deployments() {
        if d.model_name == group {
            if d.backend.provider() != litellm_providers::anthropic::PROVIDER {
                return false;
            }
            any = true;
        }
    }
    any
}

/// The client's `anthropic-beta` / `anthropic-version` headers.
fn forwarded_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    FORWARDED_HEADERS
        .iter()
        .filter_map(|name| {
            let values: Vec<&str> = headers
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| (name.to_string(), values.join(",")))
        })
        .collect()
}

/// Authenticates, parses and authorizes a Messages body (shared by both routes); returns the
/// caller, the request (its model after the key's aliases) and the model the client asked for.
async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(crate::auth::Caller, MessagesRequest, String), ApiError> {
    let caller = state.auth.check(headers).await?;
    let mut req: MessagesRequest = crate::routes::parse_body(body, None)?;
    crate::routes::require_model(&req.model)?;
    let end_user = req
        .metadata
        .as_ref()
        .and_then(|m| m.get("user_id"))
        .and_then(serde_json::Value::as_str);
    crate::metrics::note_caller(&caller, &req.model, end_user);
    state.auth.authorize(&caller, &req.model)?;
    let requested_model = req.model.clone();
    if let Some(target) = caller.model_alias(&req.model) {
        req.model = target;
    }
    if req.messages.is_empty() {
        return Err(ApiError::bad_request(
            Some("messages"),
            "messages: at least one message is required",
        ));
    }
    Ok((caller, req, requested_model))
}

async fn run(
    state: AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let start = SystemTime::now();
    let (mut caller, req, requested_model) = admit(&state, &headers, body).await?;
    let end_user = req
        .metadata
        .as_ref()
        .and_then(|m| m.get("user_id"))
        .and_then(serde_json::Value::as_str);
    crate::budget_reserve::load_end_user(&state, &mut caller, &headers, end_user).await?;
    if req.max_tokens.is_none() {
        return Err(ApiError::bad_request(
            Some("max_tokens"),
            "max_tokens: Field required",
        ));
    }
    let tags = crate::routes::tags::of_request(
        &headers,
        req.metadata.as_ref().and_then(|m| m.get("tags")),
        req.extra.get("tags"),
        &caller,
    )?;
    // Budgets before rate limits (LiteLLM's order): the prompt estimate and `max_tokens`.
    let budget_hold = crate::budget_reserve::reserve_tokens(
        &state,
        &caller,
        &req.model,
        ingress::estimate_input_tokens(&req),
        req.max_tokens,
    )
    .await?;
    let limits = crate::limits::check(&state.limiter, &caller, &requested_model).await?;
    let opts = IngressOptions {
        native: served_only_by_anthropic(&state.router, &req.model),
        forward_headers: forwarded_headers(&headers),
    };
    let stream = req.is_stream();
    let prompt_estimate = ingress::estimate_input_tokens(&req);
    let model_for_events = req.model.clone();
    let mut chat = ingress::to_chat_request(req, &opts).map_err(ApiError::from)?;
    let call_id = uuid::Uuid::new_v4().to_string();
    let mut facts = CallFacts::start(
        call_id.clone(),
        CALL_TYPE,
        &caller,
        chat.user.clone(),
        start,
    );
    facts.budget = budget_hold;
    facts.tags = tags;

    if stream {
        // Always ask the upstream for usage so streamed calls are billed exactly.
        chat.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
        let routed = state
            .router
            .completion_stream(chat)
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
        resp_headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        resp_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let body = anthropic_sse(
            routed.stream,
            StreamCall {
                state: state.clone(),
                route: routed.route,
                facts,
                prompt_estimate,
                client_wants_usage: true,
                cache_plan: None,
            },
            limits,
            StreamTranslator::new(&model_for_events, prompt_estimate),
        );
        return Ok((resp_headers, axum::body::Body::from_stream(body)).into_response());
    }

    let routed = state
        .router
        .completion(chat)
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
    let mut facts = facts;
    facts.end = SystemTime::now();
    facts.usage = routed.response.usage.clone();
    facts.response_model = Some(routed.response.model.clone());
    spend::log(&state, spend::record(&routed.route, facts, cost)).await;
    let message = ingress::to_messages_response(&routed.response);
    Ok((resp_headers, axum::Json(message)).into_response())
}

/// What the tapped stream saw, in order, for the translator.
type Seen = Arc<Mutex<VecDeque<Result<ChatChunk, LlmError>>>>;

struct SseState<S> {
    /// The OpenAI SSE body of `stream.rs`, driven only for its accounting (spend, metrics,
    /// rate limits; on end, failure or client disconnect); its bytes are discarded.
    accounting: S,
    seen: Seen,
    translator: StreamTranslator,
    pending: VecDeque<StreamEvent>,
    ended: bool,
}

/// The Anthropic SSE body for a routed stream. The chunks pass through `stream.rs`'s
/// [`sse_body_limited`] so that spend, metrics and rate-limit accounting are exactly the OpenAI
/// route's (one spend record, also on a client disconnect); a tap in front of it hands each
/// chunk (and a failure) to the [`StreamTranslator`], and the OpenAI bytes are discarded.
fn anthropic_sse(
    stream: ChunkStream,
    call: StreamCall,
    limits: crate::limits::CallLimits,
    translator: StreamTranslator,
) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
    let seen: Seen = Arc::new(Mutex::new(VecDeque::new()));
    let tap = seen.clone();
    let tapped: ChunkStream = Box::pin(stream.map(move |item| {
        tap.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(item.clone());
        item
    }));
    let st = SseState {
        accounting: Box::pin(sse_body_limited(tapped, call, limits)),
        seen,
        translator,
        pending: VecDeque::new(),
        ended: false,
    };
    futures::stream::unfold(st, |mut st| async move {
        loop {
            if let Some(ev) = st.pending.pop_front() {
                return Some((Ok(Bytes::from(ev.to_sse())), st));
            }
            if st.ended || st.translator.is_done() {
                return None;
            }
            let next = st.accounting.next().await;
            let items: Vec<_> = st
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..)
                .collect();
            let mut out = Vec::new();
            for item in items {
                match item {
                    Ok(chunk) => st.translator.push(&chunk, &mut out),
                    Err(e) => {
                        let api = ApiError::from(e);
                        st.translator
                            .fail(api.status.as_u16(), &api.message, &mut out);
                    }
                }
            }
            if next.is_none() {
                st.ended = true;
                st.translator.finish(&mut out);
            }
            st.pending.extend(out);
        }
    })
}

async fn run_count(
    state: AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (_caller, req, _) = admit(&state, &headers, body).await?;
    let group = state.router.resolve_group(&req.model).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!(
                "Invalid model name passed in model={}. Call `/v1/models` to view available models.",
                req.model
            ),
        )
    })?;
    let deployment_model = state
        .router
        .deployments()
        .into_iter()
        .find(|d| d.model_name == group)
        .map(|d| d.model().to_string());
    let exact_model = deployment_model.filter(|m| litellm_router::tokens::is_exact(m));
    let tokens = match exact_model {
        // An OpenAI-family deployment: count with its tokenizer, off the async workers (a large
        // prompt is CPU work).
        Some(model) => {
            let media = ingress::media_block_count(&req) * ingress::MEDIA_BLOCK_TOKENS;
            let fallback = ingress::estimate_input_tokens(&req);
            match ingress::to_chat_request(req, &IngressOptions::default()) {
                Ok(chat) => tokio::task::spawn_blocking(move || {
                    litellm_router::tokens::chat_prompt_tokens_for(&model, &chat) + media
                })
                .await
                .unwrap_or(fallback),
                Err(_) => fallback,
            }
        }
        None => ingress::estimate_input_tokens(&req),
    };
    Ok(axum::Json(serde_json::json!({ "input_tokens": tokens })).into_response())
}
