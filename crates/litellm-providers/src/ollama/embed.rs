//! Ollama `/api/embed`: the embeddings request and its answer.

use serde_json::{json, Value};

use litellm_core::{EmbeddingRequest, EmbeddingResponse, LlmError};

use super::error::error_from_value;
use super::OllamaAdapter;
use crate::adapter_common::serialize_body;
use crate::request_common::embedding_texts;
use crate::response_common::{estimated_input_tokens, float_embeddings};
use crate::upstream::{upstream_json, UpstreamRequest};

impl OllamaAdapter {
    /// `POST {api_base}/api/embed` for `req`.
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers)?;
        let texts = embedding_texts(req, self.provider())?;
        let mut body = json!({ "model": self.deployment.model, "input": texts });
        if let Some(d) = req.dimensions {
            body["dimensions"] = json!(d);
        }
        for key in ["truncate", "keep_alive", "options", "dimensions"] {
            if body.get(key).is_some() {
                continue;
            }
            if let Some(v) = self.deployment.embedding_setting(req, key) {
                body[key] = v;
            }
        }
        Ok(UpstreamRequest::post(
            format!("{}/api/embed", self.deployment.api_base),
            headers,
            serialize_body(&body)?,
        ))
    }

    /// Parses an `/api/embed` answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let provider = self.provider();
        let value = upstream_json(provider, "embeddings response", body)?;
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
