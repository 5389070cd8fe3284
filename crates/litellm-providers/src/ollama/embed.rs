//! Ollama `/api/embed`: the embeddings request and its answer.

use bytes::Bytes;
use http::Method;
use serde_json::{json, Value};

use litellm_core::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, LlmError};

use super::error::error_from_value;
use super::OllamaAdapter;
use crate::response_common::{estimated_input_tokens, float_embeddings};
use crate::upstream::{invalid_upstream_body, UpstreamRequest};

impl OllamaAdapter {
    /// `POST {api_base}/api/embed` for `req`.
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers)?;
        let texts = match &req.input {
            EmbeddingInput::Text(_) | EmbeddingInput::Texts(_) => req.input.texts(),
            _ => {
                return Err(LlmError::bad_param(
                    "input",
                    format!(
                        "{} embeddings take text input, not token arrays",
                        self.provider()
                    ),
                )
                .with_provider(self.provider()));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let mut body = json!({ "model": self.deployment.model, "input": texts });
        if let Some(d) = req.dimensions {
            body["dimensions"] = json!(d);
        }
        for key in ["truncate", "keep_alive", "options", "dimensions"] {
            if body.get(key).is_some() {
                continue;
            }
            if let Some(v) = req
                .extra
                .get(key)
                .or_else(|| self.deployment.defaults.get(key))
                .filter(|v| !v.is_null())
            {
                body[key] = v.clone();
            }
        }
        let body = serde_json::to_vec(&body).map_err(|e| {
            LlmError::internal(format!("could not serialize the upstream request: {e}"))
        })?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}/api/embed", self.deployment.api_base),
            headers,
            body: Bytes::from(body),
        })
    }

    /// Parses an `/api/embed` answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let provider = self.provider();
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(provider, "embeddings response", &e, body))?;
        let Some(vectors) = value.get("embeddings").and_then(Value::as_array) else {
            return Err(error_from_value(provider, None, &value, body));
        };
        let prompt_tokens = value
            .get("prompt_eval_count")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| estimated_input_tokens(req));
        let model = &self.deployment.model;
        float_embeddings(
            provider,
            vectors.iter().collect(),
            req,
            model,
            prompt_tokens,
            body,
        )
    }
}
