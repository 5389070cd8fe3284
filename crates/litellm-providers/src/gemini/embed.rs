//! Gemini embeddings: `batchEmbedContents` (AI Studio) and `predict` (Vertex AI), and their answers.

use http::Method;
use secrecy::SecretString;
use serde_json::{json, Value};

use litellm_core::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, LlmError};

use super::error::error_from_value;
use super::{EmbeddingStyle, GeminiAdapter};
use crate::adapter_common::serialize_body;
use crate::response_common::{estimated_input_tokens, float_embeddings};
use crate::upstream::{invalid_upstream_body, UpstreamRequest};

impl GeminiAdapter {
    /// The embeddings request: `:batchEmbedContents` (AI Studio) or `:predict` (Vertex).
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers, bearer)?;
        let texts = match &req.input {
            EmbeddingInput::Text(_) | EmbeddingInput::Texts(_) => req.input.texts(),
            _ => {
                return Err(LlmError::bad_param(
                    "input",
                    format!(
                        "{} embeddings take text input, not token arrays",
                        self.provider
                    ),
                )
                .with_provider(self.provider));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let dimensions = req
            .dimensions
            .map(Value::from)
            .or_else(|| self.deployment.defaults.get("dimensions").cloned());
        let task_type = req
            .extra
            .get("task_type")
            .or_else(|| req.extra.get("taskType"))
            .or_else(|| self.deployment.defaults.get("task_type"))
            .cloned();
        let (method, body) = match self.embedding_style {
            EmbeddingStyle::BatchEmbedContents => {
                let requests: Vec<Value> = texts
                    .iter()
                    .map(|t| {
                        let mut r = json!({
                            "model": format!("models/{}", self.deployment.model),
                            "content": {"parts": [{"text": t}]}
                        });
                        if let Some(d) = &dimensions {
                            r["outputDimensionality"] = d.clone();
                        }
                        if let Some(tt) = &task_type {
                            r["taskType"] = tt.clone();
                        }
                        r
                    })
                    .collect();
                ("batchEmbedContents", json!({ "requests": requests }))
            }
            EmbeddingStyle::Predict => {
                let instances: Vec<Value> = texts
                    .iter()
                    .map(|t| {
                        let mut i = json!({ "content": t });
                        if let Some(tt) = &task_type {
                            i["task_type"] = tt.clone();
                        }
                        i
                    })
                    .collect();
                let mut body = json!({ "instances": instances });
                if let Some(d) = &dimensions {
                    body["parameters"] = json!({ "outputDimensionality": d });
                }
                ("predict", body)
            }
        };
        let body = serialize_body(&body)?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.url(method),
            headers,
            body,
        })
    }

    /// Parses an embeddings answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(self.provider, "embeddings response", &e, body))?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider, None, &value, body));
        }
        let vectors: Vec<&Value> = match self.embedding_style {
            EmbeddingStyle::BatchEmbedContents => value
                .get("embeddings")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|e| e.get("values")).collect())
                .unwrap_or_default(),
            EmbeddingStyle::Predict => value
                .get("predictions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.get("embeddings").and_then(|e| e.get("values")))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let prompt_tokens = match self.embedding_style {
            EmbeddingStyle::Predict => value
                .get("predictions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| {
                            p.pointer("/embeddings/statistics/token_count")
                                .and_then(Value::as_f64)
                        })
                        .map(|t| t as u64)
                        .sum()
                })
                .unwrap_or(0),
            EmbeddingStyle::BatchEmbedContents => estimated_input_tokens(req),
        };
        let model = &self.deployment.model;
        float_embeddings(self.provider, vectors, req, model, prompt_tokens, body)
    }
}
