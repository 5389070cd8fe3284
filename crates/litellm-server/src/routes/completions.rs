//! `POST /v1/completions` (and `/completions`, `/engines/{model}/completions`,
//! `/openai/deployments/{model}/completions`): OpenAI's legacy Completions API, served by any
//! deployment through chat completions (`litellm_providers::text_completion`), as LiteLLM serves
//! it for chat models: the prompt is one user message, the answer a `text_completion` (or
//! `text_completion` chunks and `data: [DONE]`). Spend logs name it `atext_completion`.

use axum::extract::Path;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use litellm_core::ChatChunk;
use litellm_providers::text_completion::{
    self as translate, CompletionRequest, TextCompletionStream,
};

use crate::error::ApiError;
use crate::pipeline::{Admission, Endpoint, Inference, InferenceCall, RawBody};
use crate::state::AppState;
use crate::stream::estimate_tokens;

use super::event_stream::ChunkTranslator;

impl Inference for CompletionRequest {
    const CALL_TYPE: &'static str = "atext_completion";

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        self.prompt_text().map(|_| ()).map_err(ApiError::from)
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        let prompt = estimate_tokens(self.prompt_text().map_or(0, str::len));
        (prompt, self.max_tokens.map(u64::from))
    }
}

crate::routes::inference_route! {
    /// OpenAI Completions (legacy); SSE when `stream: true`.
    completions: CompletionRequest, "/v1/completions",
    request: "A Completions request: `model`, `prompt` (a string or a list of one string), `max_tokens`, `temperature`, `top_p`, `n`, `stop`, `presence_penalty`, `frequency_penalty`, `logit_bias`, `seed`, `logprobs`, `echo`, `user`, `stream`, `stream_options`",
    ok: "A `text_completion`, or an SSE stream of `text_completion` chunks ending in `data: [DONE]` when `stream` is true",
    refused: "Malformed request, unknown model, several prompts, token-id prompts, `suffix` or `best_of` > 1",
    (status = 429, description = "Upstream rate limit (after retries)"),
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

    async fn serve(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        let chat = translate::to_chat_request(&self).map_err(ApiError::from)?;
        let echoed = self.echoed();
        if self.is_stream() {
            let estimate = estimate_tokens(self.prompt_text().map_or(0, str::len));
            let chunks = Chunks {
                inner: TextCompletionStream::new(echoed, self.wants_stream_usage()),
                done: false,
            };
            return super::translated::stream(&state, adm, chat, estimate, |_| chunks).await;
        }
        super::translated::answer(&state, adm, chat, |r, _| {
            translate::to_text_completion(r, echoed.as_deref())
        })
        .await
    }
}
