//! `POST /v1/chat/completions` (and `/chat/completions`, `/engines/{model}/...`,
//! `/openai/deployments/{model}/...`): the chat family of the inference pipeline
//! (`pipeline/`): parse, admit, answer from the cache or route, and answer as JSON or SSE.

use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use litellm_core::{ChatRequest, ChatResponse, StreamOptions};

use litellm_router::RequestOptions;

use crate::error::ApiError;
use crate::pipeline::{self, Authed, Inference};
use crate::state::AppState;
use crate::stream::{estimate_tokens, sse_body_limited};

impl Inference for ChatRequest {
    const CALL_TYPE: &'static str = "acompletion";

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }

    fn end_user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    fn validate(&self) -> Result<(), ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::bad_request(
                Some("messages"),
                "messages must contain at least one message",
            ));
        }
        Ok(())
    }

    fn tag_sources(&self) -> (Option<&Value>, Option<&Value>) {
        (
            self.metadata.as_ref().and_then(|m| m.get("tags")),
            self.extra.get("tags"),
        )
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        let prompt = litellm_router::tokens::chat_prompt_tokens(self);
        let max_out = self
            .max_completion_tokens
            .or(self.max_tokens)
            .map(u64::from);
        (prompt, max_out)
    }

    fn take_options(&mut self) -> RequestOptions {
        RequestOptions::take(&mut self.extra)
    }

    fn take_cache_control(&mut self) -> Option<Option<Value>> {
        // The response cache: `cache` controls never reach the upstream.
        Some(self.extra.remove("cache"))
    }
}

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
    caller: Result<Authed, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, caller, headers, None, body).await
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn chat_completions_for_model(
    State(state): State<AppState>,
    caller: Result<Authed, ApiError>,
    Path(model): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, caller, headers, Some(model), body).await
}

async fn handle(
    state: AppState,
    caller: Result<Authed, ApiError>,
    headers: HeaderMap,
    path_model: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run(state, caller, headers, path_model, body).await {
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
    caller: Result<Authed, ApiError>,
    headers: HeaderMap,
    path_model: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let Authed(caller) = caller?;
    let mut req: ChatRequest = crate::routes::parse_body(body, path_model.as_deref())?;
    let adm = pipeline::admit(&state, caller, &headers, &mut req, t0).await?;
    let client_wants_usage = req.wants_stream_usage() || state.settings.always_include_stream_usage;
    if let Some((hit, answer)) = crate::routes::cache::hit::<ChatResponse>(&state, &adm).await {
        return Ok(answer.chat(hit, req.is_stream(), client_wants_usage).await);
    }

    if req.is_stream() {
        // Always ask the upstream for usage so streamed calls are billed exactly.
        req.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
        let prompt_estimate = estimate_tokens(prompt_chars(&req));
        let routed = state
            .router
            .completion_stream_with(req, adm.options.clone())
            .await
            .map_err(|e| ApiError::from(e.error))?;
        let (headers, call, limits) = pipeline::stream_start(
            &state,
            adm,
            routed.route,
            prompt_estimate,
            client_wants_usage,
        );
        let body = sse_body_limited(routed.stream, call, limits);
        return Ok((headers, axum::body::Body::from_stream(body)).into_response());
    }

    let routed = state
        .router
        .completion_with(req, adm.options.clone())
        .await
        .map_err(|e| ApiError::from(e.error))?;
    let headers = pipeline::settle(
        &state,
        adm,
        &routed.route,
        routed.response.usage.as_ref(),
        routed.response.model.clone(),
        Some(&routed.response),
    )
    .await;
    Ok((headers, axum::Json(routed.response)).into_response())
}
