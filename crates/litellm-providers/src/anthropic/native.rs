//! Native mode of the proxy's `/v1/messages` (sans-IO): what changes in a client's Anthropic
//! Messages body on its way to an Anthropic-family upstream (Anthropic itself, Claude on Vertex
//! AI), and what is read off the answer. The body travels as the client wrote it: every role
//! (mid-conversation `system` included), every block with every field (`thinking` signatures,
//! `cache_control`, citations, server-tool and MCP blocks), `thinking`, `context_management`,
//! `output_config`, `metadata.user_id`. Only these change:
//!
//! - `model` becomes the deployment's (Vertex takes it from the URL: removed there);
//! - the gateway's own fields, which no Anthropic endpoint accepts, are removed
//!   ([`GATEWAY_FIELDS`], anything `litellm_`-prefixed, and `metadata` keys other than
//!   `user_id`: LiteLLM's `metadata.tags` and the like);
//! - for `count_tokens`, the fields that endpoint refuses (`max_tokens`, `stream`, sampling
//!   parameters, `metadata`) are removed.
//!
//! The answer comes back unchanged; [`message_usage`] reads its usage for billing.

use http::header::HeaderMap;
use serde_json::Value;

use litellm_core::{JsonMap, LlmError, Usage};

use super::{usage_of, AnthropicAdapter, PROVIDER};
use crate::adapter_common::{missing_key, serialize_body, with_call_headers};
use crate::upstream::{
    insert_header, invalid_upstream_body, upstream_json, NativeCall, UpstreamRequest,
};

/// The client request headers forwarded to an Anthropic-family upstream.
pub const FORWARDED_HEADERS: &[&str] = &["anthropic-beta", "anthropic-version"];

/// Applies forwarded headers to an upstream request's headers: `anthropic-version` replaces
/// the adapter's, `anthropic-beta` is joined (comma-separated) with a deployment's own.
pub fn apply_forwarded_headers(
    headers: &mut HeaderMap,
    forwarded: &[(String, String)],
) -> Result<(), LlmError> {
    for (name, value) in forwarded {
        if !FORWARDED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = match headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
            Some(existing) if name == "anthropic-beta" && !existing.is_empty() => {
                let mut merged: Vec<&str> = existing.split(',').map(str::trim).collect();
                for v in value.split(',').map(str::trim) {
                    if !v.is_empty() && !merged.contains(&v) {
                        merged.push(v);
                    }
                }
                merged.join(",")
            }
            _ => value.clone(),
        };
        insert_header(headers, name, &value, name)?;
    }
    Ok(())
}

/// Top-level fields of a `/v1/messages` body that belong to the gateway, not to Anthropic.
pub const GATEWAY_FIELDS: &[&str] = &[
    "fallbacks",
    "disable_fallbacks",
    "num_retries",
    "mock_response",
    "mock_testing_fallbacks",
    "cache",
    "caching",
    "tags",
    "user_config",
    "proxy_server_request",
];

/// The fields Anthropic's `count_tokens` endpoint accepts.
const COUNT_TOKENS_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
    "context_management",
    "output_config",
    "output_format",
];

/// Removes the gateway's own fields from a client body (see the module docs).
pub fn strip_gateway_fields(body: &mut JsonMap) {
    body.retain(|k, _| !GATEWAY_FIELDS.contains(&k.as_str()) && !k.starts_with("litellm_"));
    if let Some(Value::Object(meta)) = body.get_mut("metadata") {
        meta.retain(|k, _| k == "user_id");
        if meta.is_empty() {
            body.remove("metadata");
        }
    }
}

/// The upstream body of a Messages call: the client's, with the deployment's `model`.
pub fn messages_body(mut body: JsonMap, model: &str) -> JsonMap {
    strip_gateway_fields(&mut body);
    body.insert("model".into(), Value::String(model.to_string()));
    body
}

/// The upstream body of a `count_tokens` call.
pub fn count_tokens_body(body: JsonMap, model: &str) -> JsonMap {
    let mut body = messages_body(body, model);
    body.retain(|k, _| COUNT_TOKENS_FIELDS.contains(&k.as_str()));
    body
}

/// A successful Messages answer: the body as JSON, its usage in our terms and its model.
pub fn message_usage(body: &[u8]) -> Result<(Value, Usage, String), LlmError> {
    let value = upstream_json(PROVIDER, "message", body)?;
    let usage = usage_of(value.get("usage").unwrap_or(&Value::Null));
    let model = value
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok((value, usage, model))
}

/// The `input_tokens` of a `count_tokens` answer.
pub fn counted_tokens(body: &[u8]) -> Result<u64, LlmError> {
    #[derive(serde::Deserialize)]
    struct Counted {
        input_tokens: u64,
    }
    serde_json::from_slice::<Counted>(body)
        .map(|c| c.input_tokens)
        .map_err(|e| invalid_upstream_body(PROVIDER, "count_tokens answer", &e, body))
}

impl AnthropicAdapter {
    /// `POST {api_base}/v1/messages` (or `.../count_tokens`) for a client's own Messages body
    /// (native mode, see `anthropic_native`): the body with this deployment's model, the
    /// client's `anthropic-beta` / `anthropic-version` over the deployment's headers.
    pub fn build_native_request(
        &self,
        body: JsonMap,
        call: NativeCall,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        if self.deployment.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for anthropic: set litellm_params.api_key or ANTHROPIC_API_KEY",
            ));
        }
        let (body, url) = match call {
            NativeCall::Messages { .. } => (
                messages_body(body, &self.deployment.model),
                self.url.clone(),
            ),
            NativeCall::CountTokens => (
                count_tokens_body(body, &self.deployment.model),
                format!("{}/count_tokens", self.url),
            ),
        };
        let mut headers = self.deployment.headers.clone();
        apply_forwarded_headers(&mut headers, forward_headers)?;
        Ok(UpstreamRequest::post(
            url,
            with_call_headers(&headers, extra_headers)?,
            serialize_body(&Value::Object(body))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> JsonMap {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test bodies are objects"),
        }
    }

    #[test]
    fn beta_headers_merge_with_the_deployments_and_nothing_else_passes() {
        let mut h = HeaderMap::new();
        h.insert("anthropic-beta", http::HeaderValue::from_static("x,y"));
        apply_forwarded_headers(
            &mut h,
            &[
                ("anthropic-beta".into(), "y, z".into()),
                ("x-api-key".into(), "steal".into()),
            ],
        )
        .expect("headers");
        assert_eq!(
            h.get("anthropic-beta").map(|v| v.as_bytes()),
            Some(&b"x,y,z"[..])
        );
        assert!(h.get("x-api-key").is_none());
    }

    #[test]
    fn only_the_model_and_gateway_fields_change() {
        let client = json!({
            "model": "claude-alias",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "system", "content": "be brief"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Read", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x", "cache_control": {"type": "ephemeral"}}]}
            ],
            "max_tokens": 10,
            "thinking": {"type": "adaptive"},
            "context_management": {"edits": []},
            "metadata": {"user_id": "u", "tags": ["a"]},
            "fallbacks": ["other"],
            "litellm_trace_id": "x"
        });
        let body = messages_body(map(client.clone()), "claude-opus");
        let mut want = map(client);
        want.insert("model".into(), json!("claude-opus"));
        want.insert("metadata".into(), json!({"user_id": "u"}));
        want.remove("fallbacks");
        want.remove("litellm_trace_id");
        assert_eq!(Value::Object(body), Value::Object(want));
    }

    #[test]
    fn count_tokens_keeps_what_the_endpoint_takes() {
        let body = count_tokens_body(
            map(
                json!({"model": "a", "messages": [], "max_tokens": 5, "stream": true,
                "temperature": 1, "system": "s", "tools": [], "metadata": {"user_id": "u"}}),
            ),
            "b",
        );
        assert_eq!(
            Value::Object(body),
            json!({"model": "b", "messages": [], "system": "s", "tools": []})
        );
    }

    #[test]
    fn usage_counts_cache_reads_and_writes_as_prompt() {
        let (_, usage, model) = message_usage(
            br#"{"model": "m", "usage": {"input_tokens": 10, "output_tokens": 3,
                "cache_read_input_tokens": 5, "cache_creation_input_tokens": 2}}"#,
        )
        .expect("parse");
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (17, 3));
        assert_eq!(model, "m");
        assert_eq!(counted_tokens(br#"{"input_tokens": 12}"#).expect("n"), 12);
        assert!(counted_tokens(b"{}").is_err());
    }
}
