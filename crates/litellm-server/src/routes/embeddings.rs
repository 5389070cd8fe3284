//! `POST /v1/embeddings` (and `/embeddings`, `/engines/{model}/embeddings`,
//! `/openai/deployments/{model}/embeddings`).

use axum::extract::Path;
use axum::response::Response;

use litellm_core::{EmbeddingRequest, EmbeddingResponse, Usage};

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Done, Endpoint, Inference, InferenceCall, RawBody};
use crate::state::AppState;

impl Inference for EmbeddingRequest {
    const CALL_TYPE: &'static str = "aembedding";

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        if self.input.is_empty() {
            return Err(ApiError::bad_request(
                Some("input"),
                "input must not be empty",
            ));
        }
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

    const CACHED: bool = true;
}

crate::routes::inference_route! {
    /// OpenAI Embeddings (`encoding_format` `float` or `base64`).
    embeddings: EmbeddingRequest,
    "/v1/embeddings",
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
        let routed = state
            .router
            .embedding_with(self, adm.options.clone())
            .await
            .map_err(|e| ApiError::from(e.error))?;
        let mut r = routed.response;
        let upstream_model = std::mem::replace(&mut r.model, adm.requested_model.clone());
        // Embeddings bill their input only.
        let usage = r.usage.as_ref().map(|u| Usage::new(u.prompt_tokens, 0));
        let done = Done {
            unit_cost: 0.0,
            route: &routed.route,
            usage: usage.as_ref(),
            model: upstream_model,
            cached: Some(&r),
        };
        Ok(pipeline::reply(&state, adm, done, &r).await)
    }
}
