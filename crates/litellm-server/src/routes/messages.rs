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
//!   SSE events (`event_stream.rs`).
//!
//! Every error has Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`, with the
//! status the OpenAI routes use. See `docs/anthropic-messages.md`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use litellm_core::{JsonMap, NativeMessagesRequest, StreamOptions};
use litellm_providers::anthropic_ingress::{
    self as ingress, IngressOptions, MessagesRequest, StreamTranslator,
};
use litellm_providers::anthropic_native::FORWARDED_HEADERS;
use litellm_router::{RequestOptions, Router};
use serde::Deserialize;

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Authed, Done, Endpoint, Inference, RawBody};
use crate::state::AppState;

use super::event_stream;

/// How long `count_tokens` waits for the upstream's count before answering with ours.
const COUNT_TOKENS_TIMEOUT: Duration = Duration::from_secs(10);

/// The spend-log `call_type` of `/v1/messages` calls (LiteLLM's `anthropic_messages`).
pub const CALL_TYPE: &str = "anthropic_messages";

crate::routes::inference_route! {
    /// Anthropic Messages API: a `message`, or Anthropic SSE events when `stream` is true.
    messages: MessagesCall, "/v1/messages",
    request: "An Anthropic Messages request: `model`, `messages` (roles user, assistant and, mid-conversation, system; text, image, document, tool_use, tool_result, thinking blocks and, for Anthropic-family deployments, every other block type), `max_tokens`, `system`, `stop_sequences`, `temperature`, `top_p`, `top_k`, `tools` (`input_schema`), `tool_choice`, `metadata.user_id`, `thinking`, `context_management`, `output_config`, `stream`",
    ok: "An Anthropic `message`, or an SSE stream of `message_start`, `content_block_start`/`content_block_delta`/`content_block_stop`, `message_delta`, `message_stop` events when `stream` is true",
    responses: [
        (status = 400, description = "`invalid_request_error`: malformed request, unknown model, or a block the serving provider cannot take"),
        (status = 401, description = "`authentication_error`: missing, invalid or blocked key (`x-api-key` or `Authorization`), or a model the key or team may not use"),
        (status = 413, description = "`request_too_large`"),
        (status = 422, description = "A key, team or user budget is exceeded"),
        (status = 429, description = "`rate_limit_error`: upstream rate limit (after retries)"),
        (status = 529, description = "`overloaded_error`: the upstream is overloaded (after retries)"),
    ],
}

crate::routes::inference_route! {
    handler
    /// Anthropic's token counting: `{"input_tokens": n}`: the upstream's own count for a group
    /// served natively (Anthropic, Claude on Vertex), else our count (see
    /// `docs/anthropic-messages.md`). The request is validated as `/v1/messages` validates it.
    "/v1/messages/count_tokens",
    request: "An Anthropic Messages request without `max_tokens`",
    ok: "`{\"input_tokens\": n}`: the upstream's count for Anthropic and Claude-on-Vertex deployments, exact (tiktoken) for OpenAI-family deployments, else four characters a token plus 1,600 per image or binary document",
    responses: [
        (status = 400, description = "`invalid_request_error`: malformed request or unknown model"),
        (status = 401, description = "`authentication_error`"),
    ],
    pub async fn count_tokens(
        State(state): State<AppState>,
        caller: Result<Authed, ApiError>,
        headers: HeaderMap,
        body: RawBody,
    ) -> Response {
        match run_count(state, caller, headers, body).await {
            Ok(r) => r,
            Err(e) => anthropic_error(e),
        }
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
    resp.extensions_mut().insert(e.error_kind);
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

/// A `/v1/messages` body: typed, and as sent (native mode sends it as it is).
#[derive(serde::Serialize)]
struct MessagesCall {
    #[serde(skip)]
    req: MessagesRequest,
    #[serde(flatten)]
    body: JsonMap,
    /// Whether `max_tokens` is required (`/v1/messages`, not `count_tokens`).
    #[serde(skip)]
    counting: bool,
}

impl MessagesCall {
    fn parse(body: RawBody, counting: bool) -> Result<Self, ApiError> {
        let body = serde_json::Value::Object(crate::routes::parse_body::<JsonMap>(body, None)?);
        // The typed view borrows the parsed body (no second copy of it).
        let req = MessagesRequest::deserialize(&body)
            .map_err(|e| ApiError::bad_request(None, format!("Invalid Messages request: {e}")))?;
        let serde_json::Value::Object(body) = body else {
            return Err(ApiError::bad_request(
                None,
                "the body must be a JSON object",
            ));
        };
        Ok(MessagesCall {
            req,
            body,
            counting,
        })
    }

    /// The native request (the body with the model after key aliases).
    fn native(&self, headers: &HeaderMap, input_tokens: u64) -> NativeMessagesRequest {
        let mut body = self.body.clone();
        body.insert(
            "model".into(),
            serde_json::Value::String(self.req.model.clone()),
        );
        NativeMessagesRequest {
            body,
            forward_headers: forwarded_headers(headers),
            input_tokens,
        }
    }
}

impl Inference for MessagesCall {
    const CALL_TYPE: &'static str = CALL_TYPE;

    fn model_mut(&mut self) -> &mut String {
        &mut self.req.model
    }

    fn end_user(&self) -> Option<&str> {
        self.req
            .metadata
            .as_ref()
            .and_then(|m| m.get("user_id"))
            .and_then(serde_json::Value::as_str)
            .filter(|u| !u.is_empty())
    }

    /// The checks both routes make (and Anthropic makes): roles, content shapes; and
    /// `max_tokens` on `/v1/messages`.
    fn validate(&self) -> Result<(), ApiError> {
        let req = &self.req;
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
        if !self.counting && req.max_tokens.is_none() {
            return Err(ApiError::bad_request(
                Some("max_tokens"),
                "max_tokens: Field required",
            ));
        }
        Ok(())
    }

    fn extra(&self) -> &JsonMap {
        &self.req.extra
    }

    fn metadata_tags(&self) -> Option<&serde_json::Value> {
        self.req.metadata.as_ref()?.get("tags")
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        (
            ingress::estimate_input_tokens(&self.req),
            self.req.max_tokens,
        )
    }

    fn extra_mut(&mut self) -> &mut JsonMap {
        &mut self.body
    }

    fn take_options(&mut self) -> RequestOptions {
        // The typed request keeps unknown fields apart: take them from both views.
        RequestOptions::take(&mut self.req.extra);
        RequestOptions::take(&mut self.body)
    }
}

impl Endpoint for MessagesCall {
    fn parse(body: RawBody, _path_model: Option<&str>) -> Result<Self, ApiError> {
        let call = MessagesCall::parse(body, false)?;
        crate::callbacks::note_stream(call.req.is_stream());
        Ok(call)
    }

    fn error_response(e: ApiError) -> Response {
        anthropic_error(e)
    }

    async fn serve(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        if state.router.serves_natively(&self.req.model) {
            self.serve_native(state, adm).await
        } else {
            self.serve_translated(state, adm).await
        }
    }
}

/// The two ways a `/v1/messages` call is served.
impl MessagesCall {
    /// Native mode: the body goes upstream as it is; the answer or events come back as they are.
    async fn serve_native(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        let call = self;
        let prompt_estimate = ingress::estimate_input_tokens(&call.req);
        let native = call.native(&adm.headers, prompt_estimate);
        if call.req.is_stream() {
            let routed = pipeline::routed(
                state
                    .router
                    .native_messages_stream(native, adm.options.clone()),
            )
            .await?;
            let (headers, call, limits) =
                pipeline::stream_start(&state, adm, routed.route, prompt_estimate, true);
            let body = event_stream::native(routed.stream, call, limits);
            return Ok(pipeline::stream_reply(headers, body));
        }
        let routed =
            pipeline::routed(state.router.native_messages(native, adm.options.clone())).await?;
        let out = routed.output;
        let model = if out.model.is_empty() {
            routed.route.model.clone()
        } else {
            out.model
        };
        let done = Done::tokens(&routed.route, Some(&out.usage), model);
        Ok(pipeline::reply(&state, adm, done, out.body).await)
    }

    /// Translated mode: the request becomes an OpenAI chat request, the answer a `message` or
    /// Anthropic events.
    async fn serve_translated(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        let call = self;
        let prompt_estimate = ingress::estimate_input_tokens(&call.req);
        let stream = call.req.is_stream();
        let opts = IngressOptions {
            claude_target: claude_target(&state.router, &call.req.model),
        };
        let model_for_events = adm.requested_model.clone();
        let mut chat = ingress::to_chat_request(call.req, &opts).map_err(ApiError::from)?;
        if stream {
            // Always ask the upstream for usage so streamed calls are billed exactly.
            chat.stream_options
                .get_or_insert_with(StreamOptions::default)
                .include_usage = Some(true);
            let translator = StreamTranslator::new(&model_for_events, prompt_estimate);
            return super::translated::stream(&state, adm, chat, prompt_estimate, |_| translator)
                .await;
        }
        super::translated::answer(&state, adm, chat, |r, _| ingress::to_messages_response(r)).await
    }
}

async fn run_count(
    state: AppState,
    caller: Result<Authed, ApiError>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, ApiError> {
    let Authed(caller) = caller?;
    let mut call = MessagesCall::parse(body, true)?;
    crate::routes::require_model(&call.req.model)?;
    state.auth.authorize(&caller, &call.req.model)?;
    let requested_model = call.req.model.clone();
    if let Some(target) = caller.model_alias(&requested_model) {
        call.req.model = target;
    }
    call.validate()?;
    let req = &call.req;
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
    // A count is a call under the caller's rate limits (requests; it uses no tokens), whoever
    // counts it: the work is the upstream's or this proxy's CPU.
    let limits = crate::limits::check(&state.limiter, &caller, &requested_model).await?;
    if state.router.serves_natively(&req.model) {
        // The upstream's own count, bounded in time.
        let native = call.native(&headers, estimate);
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
    let chat = ingress::to_chat_request(call.req, &opts).map_err(ApiError::from)?;
    let deployment_model = state
        .router
        .deployments()
        .into_iter()
        .find(|d| d.model_name == group)
        .map(|d| d.model().to_string());
    let tokens = match deployment_model.filter(|m| litellm_router::tokens::is_exact(m)) {
        // An OpenAI-family deployment: count with its tokenizer (bounded work: see
        // `litellm_router::tokens`), off the async workers.
        Some(model) => tokio::task::spawn_blocking(move || {
            litellm_router::tokens::chat_prompt_tokens_for(&model, &chat) + media
        })
        .await
        .unwrap_or(estimate),
        None => estimate,
    };
    limits.finish(0).await;
    Ok(axum::Json(serde_json::json!({ "input_tokens": tokens })).into_response())
}
