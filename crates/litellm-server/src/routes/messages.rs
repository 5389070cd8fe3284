//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: Anthropic's Messages API on the
//! proxy, for the Anthropic SDKs and Claude Code, served by whatever deployment the router
//! picks, around the same admission (auth with keys in `x-api-key` too, model access, budget
//! hold, rate limits) and settlement (cost, metrics, headers, spend) as `routes/chat.rs`.
//!
//! Two modes, chosen per model group:
//! - **native**, when every deployment of the group speaks Messages (`anthropic/`, Claude on
//!   Vertex AI): the client's body travels unchanged but for the model
//!   (`litellm_providers::anthropic_native`), with the client's `anthropic-beta` and
//!   `anthropic-version`, and the upstream's answer or events come back unchanged;
//! - **translated**, for any other deployment: the request becomes an OpenAI `ChatRequest`
//!   (`litellm_providers::anthropic_ingress`), the answer an Anthropic `message` or Anthropic
//!   SSE events (`messages_sse.rs`).
//!
//! Every error has Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`, with the
//! status the OpenAI routes use. See `docs/anthropic-messages.md`.

use std::time::{Duration, Instant, SystemTime};

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use litellm_core::{JsonMap, NativeMessagesRequest, StreamOptions, Usage};
use litellm_providers::anthropic_ingress::{
    self as ingress, IngressOptions, MessagesRequest, StreamTranslator,
};
use litellm_providers::anthropic_native::FORWARDED_HEADERS;
use litellm_router::{RouteInfo, Router};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::headers::route_headers;
use crate::limits::CallLimits;
use crate::spend::{self, CallFacts};
use crate::state::AppState;
use crate::stream::StreamCall;

use super::messages_sse;

/// How long `count_tokens` waits for the upstream's count before answering with ours.
const COUNT_TOKENS_TIMEOUT: Duration = Duration::from_secs(10);

/// The spend-log `call_type` of `/v1/messages` calls (LiteLLM's `anthropic_messages`).
pub const CALL_TYPE: &str = "anthropic_messages";

/// Anthropic Messages API: a `message`, or Anthropic SSE events when `stream` is true.
#[utoipa::path(
    post,
    path = "/v1/messages",
    tag = "inference",
    request_body(content = Object, description = "An Anthropic Messages request: `model`, `messages` (roles user, assistant and, mid-conversation, system; text, image, document, tool_use, tool_result, thinking blocks and, for Anthropic-family deployments, every other block type), `max_tokens`, `system`, `stop_sequences`, `temperature`, `top_p`, `top_k`, `tools` (`input_schema`), `tool_choice`, `metadata.user_id`, `thinking`, `context_management`, `output_config`, `stream`"),
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

/// Anthropic's token counting: `{"input_tokens": n}`: the upstream's own count for a group
/// served natively (Anthropic, Claude on Vertex), else our count (see
/// `docs/anthropic-messages.md`). The request is validated as `/v1/messages` validates it.
#[utoipa::path(
    post,
    path = "/v1/messages/count_tokens",
    tag = "inference",
    request_body(content = Object, description = "An Anthropic Messages request without `max_tokens`"),
    responses(
        (status = 200, description = "`{\"input_tokens\": n}`: the upstream's count for Anthropic and Claude-on-Vertex deployments, exact (tiktoken) for OpenAI-family deployments, else four characters a token plus 1,600 per image or binary document", body = Object),
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

/// Whether the model group is Claude behind an API that is not Messages (Bedrock Converse):
/// thinking and `cache_control` then travel in translated mode.
fn claude_target(router: &Router, model: &str) -> bool {
    let Some(group) = router.resolve_group(model) else {
        return false;
    };
    let mut any = false;
    for d in router.deployments() {
        if d.model_name == group {
            let m = d.model().to_ascii_lowercase();
            if d.backend.provider() != "bedrock"
                || !(m.contains("claude") || m.contains("anthropic"))
            {
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

/// A Messages call admitted by [`admit`].
struct Admitted {
    caller: Caller,
    /// The typed request, its model after the key's aliases.
    req: MessagesRequest,
    /// The body as sent, for native mode.
    body: JsonMap,
    /// The model the client asked for.
    requested_model: String,
    /// Whether the group is served natively.
    native: bool,
}

/// Checks a body the way both routes do (and Anthropic does): roles, content shapes.
fn validate(req: &MessagesRequest) -> Result<(), ApiError> {
    if req.messages.is_empty() {
        return Err(ApiError::bad_request(
            Some("messages"),
            "messages: at least one message is required",
        ));
    }
    for (i, m) in req.messages.iter().enumerate() {
        if !matches!(m.role.as_str(), "user" | "assistant" | "system") {
            return Err(ApiError::bad_request(
                Some("messages"),
                format!(
                    "messages.{i}.role: Input should be 'user', 'assistant' or 'system' (got {:?})",
                    m.role
                ),
            ));
        }
        if let ingress::InputContent::Blocks(blocks) = &m.content {
            if let Some(j) = blocks.iter().position(|b| !b.is_object()) {
                return Err(ApiError::bad_request(
                    Some("messages"),
                    format!("messages.{i}.content.{j}: a content block must be an object"),
                ));
            }
        }
    }
    Ok(())
}

/// Authenticates, parses, validates and authorizes a Messages body (shared by both routes).
async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Admitted, ApiError> {
    let caller = state.auth.check(headers).await?;
    let body: JsonMap = crate::routes::parse_body(body, None)?;
    let mut req: MessagesRequest = serde_json::from_value(serde_json::Value::Object(body.clone()))
        .map_err(|e| ApiError::bad_request(None, format!("Invalid Messages request: {e}")))?;
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
    validate(&req)?;
    let native = state.router.serves_natively(&req.model);
    Ok(Admitted {
        caller,
        req,
        body,
        requested_model,
        native,
    })
}

/// The native request for an admitted call (the body with the model after key aliases).
fn native_request(a: &Admitted, headers: &HeaderMap, input_tokens: u64) -> NativeMessagesRequest {
    let mut body = a.body.clone();
    body.insert(
        "model".into(),
        serde_json::Value::String(a.req.model.clone()),
    );
    NativeMessagesRequest {
        body,
        forward_headers: forwarded_headers(headers),
        input_tokens,
    }
}

/// Settlement of a finished non-streaming call: cost, rate-limit release, metrics, response
/// headers and the spend record. Returns the response headers.
#[allow(clippy::too_many_arguments)]
async fn settle(
    state: &AppState,
    caller: &Caller,
    route: &RouteInfo,
    usage: Option<&Usage>,
    response_model: String,
    mut facts: CallFacts,
    limits: CallLimits,
    t0: Instant,
) -> HeaderMap {
    let cost = spend::cost(route, usage);
    limits.finish(usage.map_or(0, |u| u.total_tokens)).await;
    state.metrics.record_success(
        &crate::metrics::current_labels(),
        crate::metrics::Success {
            route,
            usage,
            cost,
            total: t0.elapsed(),
            overhead: t0.elapsed().saturating_sub(route.upstream_time),
            stream_api_latency: None,
        },
    );
    let mut resp_headers = HeaderMap::new();
    route_headers(
        &mut resp_headers,
        &facts.request_id,
        route,
        t0.elapsed(),
        cost,
    );
    caller.key_headers(&mut resp_headers, cost);
    limits.apply_headers(&mut resp_headers);
    facts.end = SystemTime::now();
    facts.usage = usage.cloned();
    facts.response_model = Some(response_model);
    spend::log(state, spend::record(route, facts, cost)).await;
    resp_headers
}

/// The headers of a stream's response.
fn stream_headers(
    caller: &Caller,
    route: &RouteInfo,
    call_id: &str,
    t0: Instant,
    limits: &CallLimits,
) -> HeaderMap {
    let mut h = HeaderMap::new();
    route_headers(&mut h, call_id, route, t0.elapsed(), 0.0);
    caller.key_headers(&mut h, 0.0);
    limits.apply_headers(&mut h);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h
}

async fn run(
    state: AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let start = SystemTime::now();
    let admitted = admit(&state, &headers, body).await?;
    let stream = admitted.req.is_stream();
    crate::callbacks::note_stream(stream);
    let mut caller = admitted.caller.clone();
    let end_user = admitted
        .req
        .metadata
        .as_ref()
        .and_then(|m| m.get("user_id"))
        .and_then(serde_json::Value::as_str);
    crate::budget_reserve::load_end_user(&state, &mut caller, &headers, end_user).await?;
    let req = &admitted.req;
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
    let prompt_estimate = ingress::estimate_input_tokens(req);
    // Budgets before rate limits (LiteLLM's order): the prompt estimate and `max_tokens`.
    let budget_hold = crate::budget_reserve::reserve_tokens(
        &state,
        &caller,
        &req.model,
        prompt_estimate,
        req.max_tokens,
    )
    .await?;
    let limits = crate::limits::check(&state.limiter, &caller, &admitted.requested_model).await?;
    let call_id = uuid::Uuid::new_v4().to_string();
    let user = req
        .metadata
        .as_ref()
        .and_then(|m| m.get("user_id"))
        .and_then(serde_json::Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let mut facts = CallFacts::start(call_id.clone(), CALL_TYPE, &caller, user, start);
    facts.budget = budget_hold;
    facts.tags = tags;

    if admitted.native {
        let native = native_request(&admitted, &headers, prompt_estimate);
        if stream {
            let routed = state
                .router
                .native_messages_stream(native)
                .await
                .map_err(|e| ApiError::from(e.error))?;
            let resp_headers = stream_headers(&caller, &routed.route, &call_id, t0, &limits);
            let call = StreamCall {
                state: state.clone(),
                route: routed.route,
                facts,
                prompt_estimate,
                client_wants_usage: true,
                cache_plan: None,
            };
            let body = messages_sse::native(routed.stream, call, limits);
            return Ok((resp_headers, axum::body::Body::from_stream(body)).into_response());
        }
        let routed = state
            .router
            .native_messages(native)
            .await
            .map_err(|e| ApiError::from(e.error))?;
        let out = routed.output;
        let model = if out.model.is_empty() {
            routed.route.model.clone()
        } else {
            out.model
        };
        let resp_headers = settle(
            &state,
            &caller,
            &routed.route,
            Some(&out.usage),
            model,
            facts,
            limits,
            t0,
        )
        .await;
        return Ok((resp_headers, axum::Json(out.body)).into_response());
    }

    let opts = IngressOptions {
        claude_target: claude_target(&state.router, &req.model),
    };
    let model_for_events = req.model.clone();
    let mut chat = ingress::to_chat_request(admitted.req, &opts).map_err(ApiError::from)?;
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
        let resp_headers = stream_headers(&caller, &routed.route, &call_id, t0, &limits);
        let call = StreamCall {
            state: state.clone(),
            route: routed.route,
            facts,
            prompt_estimate,
            client_wants_usage: true,
            cache_plan: None,
        };
        let translator = StreamTranslator::new(&model_for_events, prompt_estimate);
        let body = messages_sse::translated(routed.stream, call, limits, translator);
        return Ok((resp_headers, axum::body::Body::from_stream(body)).into_response());
    }
    let routed = state
        .router
        .completion(chat)
        .await
        .map_err(|e| ApiError::from(e.error))?;
    let resp_headers = settle(
        &state,
        &caller,
        &routed.route,
        routed.response.usage.as_ref(),
        routed.response.model.clone(),
        facts,
        limits,
        t0,
    )
    .await;
    let message = ingress::to_messages_response(&routed.response);
    Ok((resp_headers, axum::Json(message)).into_response())
}

async fn run_count(
    state: AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let admitted = admit(&state, &headers, body).await?;
    let req = &admitted.req;
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
    let estimate = ingress::estimate_input_tokens(req);
    if admitted.native {
        // The upstream's own count: one call under the caller's rate limits, bounded in time.
        let limits =
            crate::limits::check(&state.limiter, &admitted.caller, &admitted.requested_model)
                .await?;
        let native = native_request(&admitted, &headers, estimate);
        let counted = state
            .router
            .native_count_tokens(native, COUNT_TOKENS_TIMEOUT)
            .await;
        limits.finish(0).await;
        let tokens = match counted {
            Some(Ok(n)) => n,
            // The upstream refused the body: the same refusal `/v1/messages` would give.
            Some(Err(e)) if e.kind == litellm_core::ErrorKind::BadRequest => {
                return Err(ApiError::from(e))
            }
            Some(Err(e)) => {
                tracing::warn!(model_group = %group, error = %e.message, "count_tokens: the upstream did not count; answering with our estimate");
                estimate
            }
            None => estimate,
        };
        return Ok(axum::Json(serde_json::json!({ "input_tokens": tokens })).into_response());
    }
    // Translated: refused exactly as `/v1/messages` would refuse it.
    let opts = IngressOptions {
        claude_target: claude_target(&state.router, &req.model),
    };
    let media = ingress::media_block_count(req) * ingress::MEDIA_BLOCK_TOKENS;
    let chat = ingress::to_chat_request(admitted.req.clone(), &opts).map_err(ApiError::from)?;
    let deployment_model = state
        .router
        .deployments()
        .into_iter()
        .find(|d| d.model_name == group)
        .map(|d| d.model().to_string());
    let tokens = match deployment_model.filter(|m| litellm_router::tokens::is_exact(m)) {
        // An OpenAI-family deployment: count with its tokenizer, off the async workers (a large
        // prompt is CPU work).
        Some(model) => tokio::task::spawn_blocking(move || {
            litellm_router::tokens::chat_prompt_tokens_for(&model, &chat) + media
        })
        .await
        .unwrap_or(estimate),
        None => estimate,
    };
    Ok(axum::Json(serde_json::json!({ "input_tokens": tokens })).into_response())
}
