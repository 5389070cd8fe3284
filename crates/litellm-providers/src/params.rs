//! The provider half of a deployment's `litellm_params`: which provider and model, where, and
//! with what credentials. The router's half (rpm, tpm, weight, order, timeouts, ...) lives in
//! `litellm_router::LitellmParams`, which flattens this struct in.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::JsonMap;

/// Provider-facing deployment parameters, deserialized from `litellm_params` (LiteLLM names).
///
/// `Debug` never shows `api_key` (it is a `SecretString`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProviderParams {
    /// Provider-prefixed model: `openai/gpt-4o`, `mock/anything`, or a bare OpenAI model name.
    pub model: String,
    /// Base URL of the upstream API (e.g. `http://127.0.0.1:8000/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// Upstream credential.
    #[serde(default, skip_serializing)]
    pub api_key: Option<SecretString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// OpenAI organization, sent as `OpenAI-Organization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Overrides the provider taken from the model prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_llm_provider: Option<String>,
    /// For the `mock` provider (or any provider, as LiteLLM allows): answer with this text
    /// instead of calling upstream. `litellm.RateLimitError` and similar names raise that error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock_response: Option<String>,
    /// Headers added to every upstream request of this deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_headers: Option<BTreeMap<String, String>>,
    /// Drop OpenAI params the provider does not support instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_params: Option<bool>,
    /// Any other key: merged into every request body (e.g. `temperature`, `max_tokens`) unless
    /// the client set it, except LiteLLM-internal keys (see `openai::is_internal_param`).
    #[serde(flatten)]
    pub extra: JsonMap,
}
