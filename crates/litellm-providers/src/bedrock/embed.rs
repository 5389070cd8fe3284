//! Bedrock embeddings through InvokeModel: Titan (one request per input) and Cohere bodies, and
//! their answers.

use std::time::SystemTime;

use bytes::Bytes;
use http::header::HeaderMap;
use serde::Deserialize;
use serde_json::{json, Value};

use litellm_core::{
    EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector,
    ErrorKind, JsonMap, LlmError,
};

use super::{base_model, BedrockAdapter, EmbeddingFamily, PROVIDER};
use crate::adapter_common::serialize_body;
use crate::response_common::{read_object, Loose};
use crate::upstream::{incomplete_upstream_body, upstream_json, UpstreamRequest};

impl BedrockAdapter {
    /// The embeddings family of this deployment's model, or a 400 for a model without one.
    pub fn embedding_family(&self) -> Result<EmbeddingFamily, LlmError> {
        let base = base_model(&self.model);
        if base.starts_with("amazon.titan-embed") {
            return Ok(EmbeddingFamily::Titan {
                v2: base.starts_with("amazon.titan-embed-text-v2"),
            });
        }
        if base.starts_with("cohere.embed") {
            return Ok(EmbeddingFamily::Cohere);
        }
        let mut e = LlmError::client(
            ErrorKind::BadRequest,
            format!(
                "bedrock model {} has no embeddings support in litellm-rs; use an \
                 amazon.titan-embed-* or cohere.embed-* model",
                self.model
            ),
        );
        e.param = Some("model".into());
        Err(e.with_provider(PROVIDER))
    }

    /// The InvokeModel requests for an embeddings call (Titan: one per input; Cohere: one),
    /// signed now.
    pub fn build_embedding_requests(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<Vec<UpstreamRequest>, LlmError> {
        self.build_embedding_requests_at(req, extra_headers, SystemTime::now())
    }

    /// As [`BedrockAdapter::build_embedding_requests`], signed at `now`.
    pub fn build_embedding_requests_at(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
        now: SystemTime,
    ) -> Result<Vec<UpstreamRequest>, LlmError> {
        let family = self.embedding_family()?;
        let texts: Vec<&str> = match &req.input {
            EmbeddingInput::Text(t) => vec![t.as_str()],
            EmbeddingInput::Texts(ts) => ts.iter().map(String::as_str).collect(),
            EmbeddingInput::Tokens(_) | EmbeddingInput::TokenBatches(_) => {
                return Err(LlmError::bad_param(
                    "input",
                    "bedrock embeddings take text input, not token ids",
                ));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let drop = self.drop_params
            || req.extra.get("drop_params").and_then(Value::as_bool) == Some(true)
            || self.defaults.get("drop_params").and_then(Value::as_bool) == Some(true);
        let dimensions = req.dimensions.or_else(|| {
            self.defaults
                .get("dimensions")
                .and_then(Value::as_u64)
                .and_then(|d| u32::try_from(d).ok())
        });
        let extra_str = |key: &str| {
            req.extra
                .get(key)
                .or_else(|| self.defaults.get(key))
                .filter(|v| !v.is_null())
                .cloned()
        };
        let bodies: Vec<Value> = match family {
            EmbeddingFamily::Titan { v2 } => {
                if dimensions.is_some() && !v2 && !drop {
                    return Err(unsupported_embedding_param(&self.model, "dimensions"));
                }
                texts
                    .iter()
                    .map(|t| {
                        let mut b = json!({"inputText": t});
                        if v2 {
                            if let Some(d) = dimensions {
                                b["dimensions"] = json!(d);
                            }
                            if let Some(n) = extra_str("normalize") {
                                b["normalize"] = n;
                            }
                        }
                        b
                    })
                    .collect()
            }
            EmbeddingFamily::Cohere => {
                if dimensions.is_some() && !drop {
                    return Err(unsupported_embedding_param(&self.model, "dimensions"));
                }
                let mut b = json!({
                    "texts": texts,
                    "input_type": extra_str("input_type").unwrap_or_else(|| json!("search_document")),
                });
                if let Some(t) = extra_str("truncate") {
                    b["truncate"] = t;
                }
                vec![b]
            }
        };
        bodies
            .into_iter()
            .map(|b| {
                let body = serialize_body(&b)?;
                self.finish(
                    self.url("invoke"),
                    self.json_headers("application/json"),
                    body,
                    extra_headers,
                    now,
                )
            })
            .collect()
    }

    /// Joins the InvokeModel answers (`(headers, body)` in request order) into one OpenAI
    /// embeddings response.
    pub fn parse_embedding_responses(
        &self,
        req: &EmbeddingRequest,
        answers: &[(HeaderMap, Bytes)],
    ) -> Result<EmbeddingResponse, LlmError> {
        let family = self.embedding_family()?;
        let mut vectors: Vec<Vec<f32>> = Vec::new();
        let mut tokens: u64 = 0;
        for (headers, body) in answers {
            let value = upstream_json(PROVIDER, "embeddings response", body)?;
            let answer: EmbedAnswer = read_object(&value);
            let bad = || {
                incomplete_upstream_body(PROVIDER, "an embeddings response without vectors", body)
            };
            match family {
                EmbeddingFamily::Titan { .. } => {
                    vectors.push(answer.embedding.0.ok_or_else(bad)?);
                    tokens += answer.input_text_token_count.0.unwrap_or(0);
                }
                EmbeddingFamily::Cohere => {
                    let (CohereVectors::List(list) | CohereVectors::ByType { float: list }) =
                        answer.embeddings.0.ok_or_else(bad)?;
                    vectors.extend(list);
                    tokens += headers
                        .get("x-amzn-bedrock-input-token-count")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .unwrap_or(0);
                }
            }
        }
        let base64 = req.wants_base64();
        let data = vectors
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let vector = EmbeddingVector::Float(v);
                litellm_core::Embedding {
                    object: "embedding".into(),
                    index: i as u32,
                    embedding: if base64 { vector.into_base64() } else { vector },
                }
            })
            .collect();
        Ok(EmbeddingResponse {
            object: "list".into(),
            data,
            model: self.model.clone(),
            usage: Some(EmbeddingUsage {
                prompt_tokens: tokens,
                total_tokens: tokens,
            }),
            extra: JsonMap::new(),
        })
    }
}

pub(super) fn unsupported_embedding_param(model: &str, param: &str) -> LlmError {
    let mut e = LlmError::client(
        ErrorKind::BadRequest,
        format!(
            "UnsupportedParamsError: bedrock model {model} does not support {param}. To drop it, \
             set drop_params: true"
        ),
    );
    e.param = Some(param.into());
    e.with_provider(PROVIDER)
}

/// What an InvokeModel embeddings answer is read for; a part of another shape reads as missing.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct EmbedAnswer {
    /// Titan's vector.
    embedding: Loose<Vec<f32>>,
    input_text_token_count: Loose<u64>,
    /// Cohere's vectors.
    embeddings: Loose<CohereVectors>,
}

/// Cohere's `embeddings`: by type (`{"float": [...]}`, with `embedding_types`) or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum CohereVectors {
    ByType { float: Vec<Vec<f32>> },
    List(Vec<Vec<f32>>),
}
