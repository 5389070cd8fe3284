//! OpenAI request building: the chat and embeddings bodies, deployment defaults and the
//! parameter rules of OpenAI-compatible providers.

use bytes::Bytes;
use serde_json::Value;

use litellm_core::{ChatRequest, EmbeddingRequest, ErrorKind, JsonMap, LlmError};

use super::{OpenAiAdapter, ParamRules};
use crate::adapter_common::is_internal_param;
use crate::adapter_common::{merge_extra_body, take_extra_body};
use crate::upstream::UpstreamRequest;

/// Body fields the adapter always sets itself; a deployment default never overrides them.
pub(super) const STRUCTURAL_KEYS: &[&str] =
    &["model", "messages", "stream", "stream_options", "input"];

/// Deployment parameters an embeddings call may take from `litellm_params`.
pub(super) const EMBEDDING_DEFAULT_KEYS: &[&str] = &["dimensions", "encoding_format", "user"];

impl OpenAiAdapter {
    /// `POST {api_base}/chat/completions` for `req` (streaming or not), with per-call headers.
    pub fn build_chat_request(
        &self,
        mut req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        req.model.clone_from(&self.model);
        req.metadata = None;
        if stream {
            req.stream = Some(true);
        } else {
            req.stream = None;
            req.stream_options = None;
        }
        let client_extra_body = take_extra_body(&mut req.extra)?;
        let request_drop = req.extra.get("drop_params").and_then(Value::as_bool) == Some(true);
        req.extra.retain(|k, _| !is_internal_param(k));
        let body =
            if self.chat_defaults.is_empty() && client_extra_body.is_none() && self.rules.is_none()
            {
                // The common case: one serialization straight to bytes.
                serde_json::to_vec(&req)
            } else {
                let value = serde_json::to_value(&req).map_err(serialize_error)?;
                let mut value = merge_body(value, &self.chat_defaults, client_extra_body);
                if let Some(rules) = &self.rules {
                    self.apply_rules(rules, &mut value, request_drop)?;
                }
                serde_json::to_vec(&value)
            }
            .map_err(serialize_error)?;
        Ok(UpstreamRequest::post(
            self.chat_url.clone(),
            self.headers_with(extra_headers)?,
            Bytes::from(body),
        ))
    }

    /// Refuses or drops unsupported parameters and applies renames (OpenAI-compatible
    /// providers).
    pub(super) fn apply_rules(
        &self,
        rules: &ParamRules,
        body: &mut Value,
        drop: bool,
    ) -> Result<(), LlmError> {
        let Value::Object(map) = body else {
            return Ok(());
        };
        let present: Vec<&str> = rules
            .unsupported
            .iter()
            .map(String::as_str)
            .filter(|k| map.get(*k).is_some_and(|v| !v.is_null()))
            // `n: 1` asks for nothing a provider could refuse.
            .filter(|k| !(*k == "n" && map.get("n").and_then(Value::as_u64) == Some(1)))
            .collect();
        if !present.is_empty() {
            if !(drop || rules.drop_params) {
                let mut e = LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "UnsupportedParamsError: {} does not support parameters: {}. To drop \
                         them, set drop_params: true (litellm_settings or the deployment's \
                         litellm_params) or pass \"drop_params\": true in the request",
                        self.provider,
                        present.join(", ")
                    ),
                );
                e.param = present.first().map(|p| p.to_string());
                return Err(e.with_provider(self.provider));
            }
            let present: Vec<String> = present.into_iter().map(str::to_string).collect();
            for key in present {
                map.remove(&key);
            }
        }
        for (from, to) in &rules.renames {
            if map.contains_key(to) {
                continue;
            }
            if let Some(v) = map.remove(from) {
                map.insert(to.clone(), v);
            }
        }
        Ok(())
    }

    /// `POST {api_base}/embeddings` for `req`, with per-call headers.
    pub fn build_embedding_request(
        &self,
        mut req: EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        if self.rules.as_ref().is_some_and(|r| r.no_embeddings) {
            let mut e = LlmError::client(
                ErrorKind::BadRequest,
                format!("{} does not offer an embeddings API", self.provider),
            )
            .with_provider(self.provider);
            e.param = Some("model".into());
            return Err(e);
        }
        req.model.clone_from(&self.model);
        let client_extra_body = take_extra_body(&mut req.extra)?;
        req.extra.retain(|k, _| !is_internal_param(k));
        let body = if self.embedding_defaults.is_empty() && client_extra_body.is_none() {
            serde_json::to_vec(&req)
        } else {
            let value = serde_json::to_value(&req).map_err(serialize_error)?;
            serde_json::to_vec(&merge_body(
                value,
                &self.embedding_defaults,
                client_extra_body,
            ))
        }
        .map_err(serialize_error)?;
        Ok(UpstreamRequest::post(
            self.embeddings_url.clone(),
            self.headers_with(extra_headers)?,
            Bytes::from(body),
        ))
    }
}
pub(super) fn serialize_error(e: serde_json::Error) -> LlmError {
    LlmError::internal(format!("could not serialize the upstream request: {e}"))
}

/// Merges deployment defaults (only where absent) and the client's `extra_body` (overriding).
pub(super) fn merge_body(
    value: Value,
    defaults: &JsonMap,
    client_extra_body: Option<JsonMap>,
) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    for (key, v) in defaults {
        if !map.contains_key(key) {
            map.insert(key.clone(), v.clone());
        }
    }
    merge_extra_body(&mut map, client_extra_body, STRUCTURAL_KEYS, &[]);
    Value::Object(map)
}
