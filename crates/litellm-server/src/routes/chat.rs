//! `POST /v1/chat/completions` (and `/chat/completions`, `/engines/{model}/...`,
//! `/openai/deployments/{model}/...`): the chat family of the inference pipeline
//! (`pipeline/`): parse, admit, answer from the cache or route, and answer as JSON or SSE.

use axum::extract::Path;
use axum::response::Response;

use serde_json::Value;

use litellm_core::{ChatRequest, ChatResponse, StreamOptions};

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Done, Endpoint, Inference, InferenceCall, RawBody};
use crate::state::AppState;
use crate::stream::{estimate_tokens, sse_body_limited};

impl Inference for ChatRequest {
    const CALL_TYPE: &'static str = "acompletion";
    const CACHED: bool = true;

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        let message = "messages must contain at least one message";
        crate::routes::check(!self.messages.is_empty(), "messages", message)?;
        super::chat_checks::check(self)
    }

    fn metadata_tags(&self) -> Option<&Value> {
        self.metadata.as_ref()?.get("tags")
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        let prompt = litellm_router::tokens::chat_prompt_tokens(self);
        let max_out = self
            .max_completion_tokens
            .or(self.max_tokens)
            .map(u64::from);
        (prompt, max_out)
    }
}

crate::routes::inference_route! {
    /// OpenAI Chat Completions; SSE when `stream: true`.
    chat_completions: ChatRequest, "/v1/chat/completions",
    typed: ChatRequest => ChatResponse,
    ok: "A chat completion, or an SSE stream of `chat.completion.chunk` events when `stream` is true",
    refused: "Malformed request, unknown model, or context window exceeded",
    (status = 408, description = "Upstream timeout (after retries)"),
    (status = 413, description = "Request body too large"),
    (status = 429, description = "Upstream rate limit (after retries)"),
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn chat_completions_for_model(
    Path(model): Path<String>,
    call: InferenceCall,
) -> Response {
    call.serve::<ChatRequest>(Some(model)).await
}

/// Characters of prompt text, for the token estimate of a stream that never reports usage.
fn prompt_chars(req: &ChatRequest) -> usize {
    req.messages.iter().map(|m| m.text().len()).sum()
}

impl Endpoint for ChatRequest {
    fn parse(body: RawBody, path_model: Option<&str>) -> Result<Self, ApiError> {
        crate::routes::parse_body(body, path_model)
    }

    async fn serve(mut self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        let client_wants_usage =
            self.wants_stream_usage() || state.settings.always_include_stream_usage;
        if let Some((hit, answer)) = crate::routes::cache::hit::<ChatResponse>(&state, &adm).await {
            return Ok(answer.chat(hit, self.is_stream(), client_wants_usage).await);
        }
        if self.is_stream() {
            // Always ask the upstream for usage so streamed calls are billed exactly.
            self.stream_options
                .get_or_insert_with(StreamOptions::default)
                .include_usage = Some(true);
            let prompt_estimate = estimate_tokens(prompt_chars(&self));
            let routed = pipeline::routed(
                state
                    .router
                    .completion_stream_with(self, adm.options.clone()),
            )
            .await?;
            let (headers, call, limits) = pipeline::stream_start(
                &state,
                adm,
                routed.route,
                prompt_estimate,
                client_wants_usage,
            );
            return Ok(pipeline::stream_reply(
                headers,
                sse_body_limited(routed.stream, call, limits),
            ));
        }
        let routed =
            pipeline::routed(state.router.completion_with(self, adm.options.clone())).await?;
        let mut r = routed.response;
        let upstream_model = pipeline::answer_as_requested(&mut r.model, &adm);
        let done = Done::tokens(&routed.route, r.usage.as_ref(), upstream_model).caching(&r);
        Ok(pipeline::reply(&state, adm, done, &r).await)
    }
}
