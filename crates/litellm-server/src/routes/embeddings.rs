//! `POST /v1/embeddings` (and `/embeddings`, `/engines/{model}/embeddings`,
//! `/openai/deployments/{model}/embeddings`).

use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use litellm_core::{EmbeddingRequest, EmbeddingResponse, Usage};

use litellm_router::RequestOptions;

use crate::error::ApiError;
use crate::pipeline::{self, Authed, Inference};
use crate::state::AppState;

impl Inference for EmbeddingRequest {
    const CALL_TYPE: &'static str = "aembedding";

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }

    fn end_user(&self) -> Option<&str> {
        self.user.as_deref()
    }

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

    fn tag_sources(&self) -> (Option<&Value>, Option<&Value>) {
        (
            self.extra.get("metadata").and_then(|m| m.get("tags")),
            self.extra.get("tags"),
        )
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        (
            litellm_router::tokens::embedding_input_tokens(&self.input),
            Some(0),
        )
    }

    fn take_options(&mut self) -> RequestOptions {
        RequestOptions::take(&mut self.extra)
    }

    fn take_cache_control(&mut self) -> Option<Option<Value>> {
        // The response cache: `cache` controls never reach the upstream.
        Some(self.extra.remove("cache"))
    }
}

/// OpenAI Embeddings (`encoding_format` `float` or `base64`).
#[utoipa::path(
    post,
    path = "/v1/embeddings",
    tag = "inference",
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "Embeddings", body = EmbeddingResponse),
        (status = 400, description = "Malformed request or unknown model"),
        (status = 401, description = "Missing, invalid or blocked key, or a model the key or team may not use"),
        (status = 422, description = "A key, team or user budget is exceeded (`budget_exceeded`)"),
    ),
    security(("bearer" = []))
)]
pub async fn embeddings(
    State(state): State<AppState>,
    caller: Result<Authed, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(state, caller, headers, None, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn embeddings_for_model(
    State(state): State<AppState>,
    caller: Result<Authed, ApiError>,
    Path(model): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(state, caller, headers, Some(model), body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
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
    let mut req: EmbeddingRequest = crate::routes::parse_body(body, path_model.as_deref())?;
    let adm = pipeline::admit(&state, caller, &headers, &mut req, t0).await?;
    if let Some((hit, answer)) = crate::routes::cache::hit::<EmbeddingResponse>(&state, &adm).await
    {
        return Ok(answer.embeddings(hit).await);
    }
    let routed = state
        .router
        .embedding_with(req, adm.options.clone())
        .await
        .map_err(|e| ApiError::from(e.error))?;
    // Embeddings bill their input only.
    let usage = routed
        .response
        .usage
        .as_ref()
        .map(|u| Usage::new(u.prompt_tokens, 0));
    let headers = pipeline::settle(
        &state,
        adm,
        &routed.route,
        usage.as_ref(),
        routed.response.model.clone(),
        Some(&routed.response),
    )
    .await;
    Ok((headers, axum::Json(routed.response)).into_response())
}
