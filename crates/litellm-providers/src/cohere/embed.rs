//! Cohere `/v2/embed`: the embeddings request and its answer.

use serde_json::{json, Value};

use litellm_core::{EmbeddingRequest, EmbeddingResponse, LlmError};

use super::error::error_from_value;
use super::{CohereAdapter, DEFAULT_INPUT_TYPE, PROVIDER};
use crate::adapter_common::serialize_body;
use crate::request_common::embedding_texts;
use crate::response_common::float_embeddings;
use crate::upstream::{upstream_json, UpstreamRequest};

impl CohereAdapter {
    /// `POST {api_base}/v2/embed` for `req`.
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers)?;
        let texts = embedding_texts(req, PROVIDER)?;
        let setting = |key| self.deployment.embedding_setting(req, key);
        let mut body = json!({
            "model": self.deployment.model,
            "texts": texts,
            "input_type": setting("input_type").unwrap_or_else(|| json!(DEFAULT_INPUT_TYPE)),
            "embedding_types": ["float"],
        });
        if let Some(d) = req
            .dimensions
            .map(Value::from)
            .or_else(|| setting("dimensions"))
        {
            body["output_dimension"] = d;
        }
        if let Some(t) = setting("truncate") {
            body["truncate"] = t;
        }
        Ok(UpstreamRequest::post(
            format!("{}/v2/embed", self.deployment.api_base),
            headers,
            serialize_body(&body)?,
        ))
    }

    /// Parses a v2 embed answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let value = upstream_json(PROVIDER, "embeddings response", body)?;
        let vectors = match value.get("embeddings") {
            Some(Value::Object(by_type)) => by_type.get("float").and_then(Value::as_array),
            // `embeddings_floats` (the v1 shape): a plain list.
            Some(Value::Array(list)) => Some(list),
            _ => None,
        };
        let Some(vectors) = vectors else {
            return Err(error_from_value(None, &value, body));
        };
        let prompt_tokens = value
            .pointer("/meta/billed_units/input_tokens")
            .and_then(Value::as_f64)
            .map(|t| t as u64)
            .unwrap_or(0);
        let model = &self.deployment.model;
        float_embeddings(
            PROVIDER,
            vectors.iter().collect(),
            req,
            model,
            prompt_tokens,
            body,
        )
    }
}
