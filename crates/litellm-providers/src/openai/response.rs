//! OpenAI response parsing: chat completions (lenient about missing identity fields) and
//! embeddings (base64 encoding on request).

use serde_json::Value;

use litellm_core::{unix_now, ChatResponse, EmbeddingResponse, EmbeddingVector, JsonMap, LlmError};

use super::error::error_in_body;
use super::{OpenAiAdapter, PROVIDER};
use crate::upstream::invalid_upstream_body;

impl OpenAiAdapter {
    /// Parses a successful chat completion body.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        match serde_json::from_slice::<ChatResponse>(body) {
            Ok(resp) => Ok(resp),
            Err(first) => {
                let value: Value = serde_json::from_slice(body).map_err(|_| {
                    invalid_upstream_body(PROVIDER, "chat completion", &first, body)
                })?;
                if let Some(err) = error_in_body(&value) {
                    return Err(err);
                }
                let Value::Object(mut map) = value else {
                    return Err(invalid_upstream_body(
                        PROVIDER,
                        "chat completion",
                        &first,
                        body,
                    ));
                };
                fill_identity(&mut map, &self.model, None);
                serde_json::from_value(Value::Object(map))
                    .map_err(|e| invalid_upstream_body(PROVIDER, "chat completion", &e, body))
            }
        }
    }

    /// Parses a successful embeddings body; float vectors are base64-encoded when the client
    /// asked for base64 (`wants_base64`), base64 vectors are never decoded.
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        wants_base64: bool,
    ) -> Result<EmbeddingResponse, LlmError> {
        let mut resp: EmbeddingResponse = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                if let Some(err) = serde_json::from_slice::<Value>(body)
                    .ok()
                    .as_ref()
                    .and_then(error_in_body)
                {
                    return Err(err);
                }
                return Err(invalid_upstream_body(
                    PROVIDER,
                    "embeddings response",
                    &e,
                    body,
                ));
            }
        };
        if wants_base64 {
            for item in &mut resp.data {
                if matches!(item.embedding, EmbeddingVector::Float(_)) {
                    let v =
                        std::mem::replace(&mut item.embedding, EmbeddingVector::Float(Vec::new()));
                    item.embedding = v.into_base64();
                }
            }
        }
        Ok(resp)
    }
}

/// Fills `id`, `created` and `model` when an OpenAI-compatible server left them out.
pub(super) fn fill_identity(map: &mut JsonMap, model: &str, id: Option<&str>) {
    if !map.get("id").is_some_and(Value::is_string) {
        let id = id
            .map(str::to_string)
            .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()));
        map.insert("id".into(), Value::String(id));
    }
    if !map.get("created").is_some_and(Value::is_u64) {
        map.insert("created".into(), Value::from(unix_now()));
    }
    if !map.get("model").is_some_and(Value::is_string) {
        map.insert("model".into(), Value::String(model.to_string()));
    }
}
