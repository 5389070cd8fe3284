//! `POST /v1/completions` (and `/completions`, `/engines/{model}/completions`,
//! `/openai/deployments/{model}/completions`): OpenAI's legacy Completions API, served by any
//! deployment through chat completions (`litellm_providers::text_completion`), as LiteLLM serves
//! it for chat models: the prompt is one user message, the answer a `text_completion` (or
//! `text_completion` chunks and `data: [DONE]`). Spend logs name it `atext_completion`.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use litellm_core::ChatChunk;
use litellm_providers::text_completion::{
    self as translate, CompletionRequest, TextCompletionStream,
};

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Done, Endpoint, Inference, InferenceCall, RawBody};
use crate::state::AppState;
use crate::stream::estimate_tokens;

use super::event_stream::{self, ChunkTranslator};

impl Inference for CompletionRequest {
    const CALL_TYPE: &'static str = "atext_completion";

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        self.prompt_text().map(|_| ()).map_err(ApiError::from)
    }

    fn tag_sources(&self) -> (Option<&Value>, Option<&Value>) {
        (
            self.extra.get("metadata").and_then(|m| m.get("tags")),
            self.extra.get("tags"),
        )
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        let prompt = estimate_tokens(self.prompt_text().map_or(0, str::len));
        (prompt, self.max_tokens.map(u64::from))
    }
}

/// OpenAI Completions (legacy); SSE when `stream: true`.
#[utoipa::path(
    post,
    path = "/v1/completions",
    tag = "inference",
    request_body(content = Object, description = "A Completions request: `model`, `prompt` (a string or a list of one string), `max_tokens`, `temperature`, `top_p`, `n`, `stop`, `presence_penalty`, `frequency_penalty`, `logit_bias`, `seed`, `logprobs`, `echo`, `user`, `stream`, `stream_options`"),
    responses(
        (status = 200, description = "A `text_completion`, or an SSE stream of `text_completion` chunks ending in `data: [DONE]` when `stream` is true", body = Object),
        (status = 400, description = "Malformed request, unknown model, several prompts, token-id prompts, `suffix` or `best_of` > 1"),
        (status = 429, description = "Upstream rate limit (after retries)"),
        crate::routes::KeyRefusals,
    ),
    security(("bearer" = []))
)]
pub async fn completions(call: InferenceCall) -> Response {
    call.serve::<CompletionRequest>(None).await
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn completions_for_model(Path(model): Path<String>, call: InferenceCall) -> Response {
    call.serve::<CompletionRequest>(Some(model)).await
}

/// `text_completion` chunks as SSE, ending in `data: [DONE]`.
struct Chunks {
    inner: TextCompletionStream,
    done: bool,
}

fn data(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

impl ChunkTranslator for Chunks {
    fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<Bytes>) {
        out.extend(self.inner.chunk(chunk).as_ref().map(data));
    }

    fn fail(&mut self, status: u16, message: &str, out: &mut Vec<Bytes>) {
        // An error mid-stream, in OpenAI's error shape, ends the stream.
        let error = json!({"error": {"message": message, "type": "api_error",
                                     "param": null, "code": status.to_string()}});
        out.push(data(&error));
        self.done = true;
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) {
        if !self.done {
            out.push(Bytes::from_static(b"data: [DONE]\n\n"));
            self.done = true;
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

impl Endpoint for CompletionRequest {
    fn parse(body: RawBody, path_model: Option<&str>) -> Result<Self, ApiError> {
        crate::routes::parse_body(body, path_model)
    }

    async fn serve(
        self,
        state: AppState,
        adm: Admission,
        _headers: HeaderMap,
    ) -> Result<Response, ApiError> {
        let chat = translate::to_chat_request(&self).map_err(ApiError::from)?;
        let echoed = self.echoed();
        if self.is_stream() {
            let estimate = estimate_tokens(self.prompt_text().map_or(0, str::len));
            let routed = state
                .router
                .completion_stream_with(chat, adm.options.clone())
                .await
                .map_err(|e| ApiError::from(e.error))?;
            let (headers, call, limits) =
                pipeline::stream_start(&state, adm, routed.route, estimate, true);
            let chunks = Chunks {
                inner: TextCompletionStream::new(echoed, self.wants_stream_usage()),
                done: false,
            };
            let body = event_stream::translated(routed.stream, call, limits, chunks);
            return Ok(pipeline::stream_reply(headers, body));
        }
        let routed = state
            .router
            .completion_with(chat, adm.options.clone())
            .await
            .map_err(|e| ApiError::from(e.error))?;
        let r = routed.response;
        let body = translate::to_text_completion(&r, echoed.as_deref());
        let done = Done {
            route: &routed.route,
            usage: r.usage.as_ref(),
            model: r.model.clone(),
            cached: None::<&()>,
        };
        Ok(pipeline::reply(&state, adm, done, body).await)
    }
}
