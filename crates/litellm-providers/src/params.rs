//! The provider half of a deployment's `litellm_params`: which provider and model, where, and
//! with what credentials. The router's half (rpm, tpm, weight, order, timeouts, ...) lives in
//! `litellm_router::LitellmParams`, which flattens this struct in.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use litellm_core::wire_struct;

use crate::JsonMap;

wire_struct! {
    /// Provider-facing deployment parameters, deserialized from `litellm_params` (LiteLLM names).
    ///
    /// `Debug` never shows `api_key` (a `SecretString`) nor any `extra` value whose key names a
    /// credential (`aws_secret_access_key`, `vertex_credentials`, `azure_ad_token`, ...).
    #[derive(Clone, Default, Deserialize, Serialize)]
    pub struct ProviderParams {
        /// Provider-prefixed model: `openai/gpt-4o`, `mock/anything`, or a bare OpenAI model name.
        pub model: String,
        /// Base URL of the upstream API (e.g. `http://127.0.0.1:8000/v1`).
        pub api_base?: String,
        /// Upstream credential.
        #[serde(default, skip_serializing)]
        pub api_key: Option<SecretString>,
        pub api_version?: String,
        /// OpenAI organization, sent as `OpenAI-Organization`.
        pub organization?: String,
        /// Overrides the provider taken from the model prefix.
        pub custom_llm_provider?: String,
        /// For the `mock` provider (or any provider, as LiteLLM allows): answer with this text
        /// instead of calling upstream. `litellm.RateLimitError` and similar names raise that
        /// error.
        pub mock_response?: String,
        /// Headers added to every upstream request of this deployment.
        pub extra_headers?: BTreeMap<String, String>,
        /// Drop OpenAI params the provider does not support instead of failing.
        pub drop_params?: bool,
        /// Any other key: merged into every request body (e.g. `temperature`, `max_tokens`) unless
        /// the client set it, except LiteLLM-internal keys (see `openai::is_internal_param`).
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

/// Whether a `litellm_params` key holds a credential (its value must never be printed).
pub fn is_secret_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["key", "secret", "token", "password", "credential"]
        .iter()
        .any(|needle| k.contains(needle))
}

impl std::fmt::Debug for ProviderParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra: BTreeMap<&str, String> = self
            .extra
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_param(k) {
                    "[REDACTED]".to_string()
                } else {
                    v.to_string()
                };
                (k.as_str(), shown)
            })
            .collect();
        let headers: Option<BTreeMap<&str, &str>> = self.extra_headers.as_ref().map(|h| {
            h.iter()
                .map(|(k, v)| {
                    let shown = if is_secret_param(k) || k.eq_ignore_ascii_case("authorization") {
                        "[REDACTED]"
                    } else {
                        v.as_str()
                    };
                    (k.as_str(), shown)
                })
                .collect()
        });
        f.debug_struct("ProviderParams")
            .field("model", &self.model)
            .field("api_base", &self.api_base)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("api_version", &self.api_version)
            .field("organization", &self.organization)
            .field("custom_llm_provider", &self.custom_llm_provider)
            .field("mock_response", &self.mock_response)
            .field("extra_headers", &headers)
            .field("drop_params", &self.drop_params)
            .field("extra", &extra)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_every_credential() {
        let p: ProviderParams = serde_json::from_value(serde_json::json!({
            "model": "bedrock/x",
            "api_key": "sk-top-secret",
            "aws_secret_access_key": "aws-top-secret",
            "vertex_credentials": "{\"private_key\": \"pem-top-secret\"}",
            "extra_headers": {"Authorization": "Bearer hdr-top-secret", "x-trace": "visible"},
            "temperature": 0.5
        }))
        .expect("params");
        let shown = format!("{p:?}");
        assert!(!shown.contains("top-secret"), "{shown}");
        assert!(
            shown.contains("temperature") && shown.contains("0.5"),
            "{shown}"
        );
        assert!(shown.contains("visible"), "{shown}");
    }
}
