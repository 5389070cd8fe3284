//! Gemini embeddings: `batchEmbedContents` (AI Studio) and `predict` (Vertex AI), and their answers.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use litellm_core::{EmbeddingRequest, EmbeddingResponse, LlmError};

use super::error::error_from_value;
use super::{EmbeddingStyle, GeminiAdapter};
use crate::adapter_common::serialize_body;
use crate::request_common::embedding_texts;
use crate::response_common::{
    estimated_input_tokens, float_embeddings, present, read_object, Loose,
};
use crate::upstream::{upstream_json, UpstreamRequest};

impl GeminiAdapter {
    /// The embeddings request: `:batchEmbedContents` (AI Studio) or `:predict` (Vertex).
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers, bearer)?;
        let texts = embedding_texts(req, self.provider)?;
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
        Ok(UpstreamRequest::post(self.url(method), headers, body))
    }

    /// Parses an embeddings answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let value = upstream_json(self.provider, "embeddings response", body)?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider, None, &value, body));
        }
        let answer: EmbedAnswer = read_object(&value);
        let (embeddings, prompt_tokens) = match self.embedding_style {
            EmbeddingStyle::BatchEmbedContents => (
                answer.embeddings.0.unwrap_or_default(),
                estimated_input_tokens(req),
            ),
            EmbeddingStyle::Predict => {
                let embeddings: Vec<Embedding> = answer
                    .predictions
                    .0
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| p.embeddings.0)
                    .collect();
                let tokens = embeddings
                    .iter()
                    .filter_map(|e| e.statistics.0.as_ref()?.token_count.0)
                    .map(|t| t as u64)
                    .sum();
                (embeddings, tokens)
            }
        };
        let vectors = embeddings
            .iter()
            .filter_map(|e| e.values.as_ref())
            .collect();
        let model = &self.deployment.model;
        float_embeddings(self.provider, vectors, req, model, prompt_tokens, body)
    }
}

/// What an embeddings answer is read for: the `embeddings` of `batchEmbedContents` or the
/// `predictions` of `predict`. A part of another shape reads as missing.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EmbedAnswer {
    embeddings: Loose<Vec<Embedding>>,
    predictions: Loose<Vec<Prediction>>,
}

/// One `predict` prediction.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Prediction {
    embeddings: Loose<Embedding>,
}

/// One embedding: its vector (checked later, see [`float_embeddings`]) and, from `predict`,
/// its token count.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Embedding {
    #[serde(deserialize_with = "present")]
    values: Option<Value>,
    statistics: Loose<Statistics>,
}

/// A `predict` embedding's statistics.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Statistics {
    token_count: Loose<f64>,
}
