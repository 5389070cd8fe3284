//! `POST /v1/embeddings` (and `/embeddings`, `/engines/{model}/embeddings`,
//! `/openai/deployments/{model}/embeddings`).

use axum::extract::Path;
use axum::response::Response;

use litellm_core::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, Usage};

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Done, Endpoint, Inference, InferenceCall, RawBody};
use crate::state::AppState;

impl Inference for EmbeddingRequest {
    const CALL_TYPE: &'static str = "aembedding";
    const CACHED: bool = true;

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        crate::routes::check(!self.input.is_empty(), "input", "input must not be empty")?;
        let blank = matches!(&self.input, EmbeddingInput::Text(t) if t.is_empty())
            || matches!(&self.input, EmbeddingInput::Texts(ts) if ts.iter().any(String::is_empty));
        crate::routes::check(!blank, "input", "input must not contain an empty string")?;
        if let Some(f) = self.encoding_format.as_deref() {
            if f != "float" && f != "base64" {
                return Err(ApiError::bad_request(
                    Some("encoding_format"),
                    format!("encoding_format must be 'float' or 'base64', got '{f}'"),
                ));
            }
        }
        Ok(())
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        (
            litellm_router::tokens::embedding_input_tokens(&self.input),
            Some(0),
        )
    }
}

crate::routes::inference_route! {
    /// OpenAI Embeddings (`encoding_format` `float` or `base64`).
    embeddings: EmbeddingRequest, "/v1/embeddings",
    typed: EmbeddingRequest => EmbeddingResponse,
    ok: "Embeddings",
    refused: "Malformed request or unknown model",
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn embeddings_for_model(Path(model): Path<String>, call: InferenceCall) -> Response {
    call.serve::<EmbeddingRequest>(Some(model)).await
}

impl Endpoint for EmbeddingRequest {
    fn parse(body: RawBody, path_model: Option<&str>) -> Result<Self, ApiError> {
        crate::routes::parse_body(body, path_model)
    }

    async fn serve(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        if let Some((hit, answer)) =
            crate::routes::cache::hit::<EmbeddingResponse>(&state, &adm).await
        {
            return Ok(answer.embeddings(hit).await);
        }
        let routed =
            pipeline::routed(state.router.embedding_with(self, adm.options.clone())).await?;
        let mut r = routed.response;
        let upstream_model = pipeline::answer_as_requested(&mut r.model, &adm);
        // Embeddings bill their input only.
        let usage = r.usage.as_ref().map(|u| Usage::new(u.prompt_tokens, 0));
        let done = Done::tokens(&routed.route, usage.as_ref(), upstream_model).caching(&r);
        Ok(pipeline::reply(&state, adm, done, &r).await)
    }
}
