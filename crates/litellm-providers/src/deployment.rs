//! What every native-format adapter (Anthropic, Gemini / Vertex AI, Cohere, Ollama) keeps of
//! its deployment, written once: the resolved base URL and model, the built headers, the key
//! (only for scrubbing it from errors), the `litellm_params` defaults and the drop settings;
//! with the accessors and the common preamble of a translation built on them.

use http::HeaderMap;
use secrecy::SecretString;
use serde_json::Value;

use litellm_core::{ChatRequest, EmbeddingRequest, JsonMap, LlmError};

use crate::adapter_common::{deployment_defaults, prepare, scrub_key, with_call_headers, Prepared};
use crate::params::ProviderParams;

/// One deployment's resolved settings.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    /// The base URL (no trailing `/`).
    pub api_base: String,
    /// The model sent upstream.
    pub model: String,
    /// The deployment's headers (credential, `extra_headers`, fixed ones).
    pub headers: HeaderMap,
    /// Parameters merged into every request.
    pub defaults: JsonMap,
    /// The deployment's `drop_params`.
    pub drop_params: bool,
    /// Request fields always removed.
    pub additional_drop_params: Vec<String>,
    /// The key, if any.
    pub api_key: Option<SecretString>,
}

impl Deployment {
    /// The settings of a deployment whose base, model, headers and key are resolved; its
    /// defaults are read from `params` (see [`deployment_defaults`]: `structural` keys are never
    /// defaults unless `allowed`).
    pub fn new(
        params: &ProviderParams,
        api_base: String,
        model: String,
        headers: HeaderMap,
        api_key: Option<SecretString>,
        structural: &[&str],
        allowed: &[&str],
    ) -> Result<Self, LlmError> {
        let (defaults, additional_drop_params) = deployment_defaults(params, structural, allowed)?;
        Ok(Deployment {
            api_base,
            model,
            headers,
            defaults,
            drop_params: params.drop_params.unwrap_or(false),
            additional_drop_params,
            api_key,
        })
    }

    /// The start of a translation of `req` (see [`prepare`]).
    pub fn prepare(
        &self,
        req: ChatRequest,
        renames: &[(&str, &str)],
    ) -> Result<Prepared, LlmError> {
        prepare(
            req,
            &self.defaults,
            renames,
            self.drop_params,
            &self.additional_drop_params,
        )
    }

    /// A setting of an embeddings call: the request's extra field `key`, else the deployment's
    /// default; null counts as unset.
    pub fn embedding_setting(&self, req: &EmbeddingRequest, key: &str) -> Option<Value> {
        req.extra
            .get(key)
            .or_else(|| self.defaults.get(key))
            .filter(|v| !v.is_null())
            .cloned()
    }

    /// The deployment's headers with a call's own.
    pub fn call_headers(&self, extra_headers: &[(String, String)]) -> Result<HeaderMap, LlmError> {
        with_call_headers(&self.headers, extra_headers)
    }

    /// Removes the deployment's key from a message, should an upstream have echoed it.
    pub fn scrub(&self, err: LlmError) -> LlmError {
        scrub_key(self.api_key.as_ref(), err)
    }
}

/// An adapter's public `api_base`, `model` and `scrub`, read off its `deployment` field; written
/// inside its `impl`.
macro_rules! deployment_accessors {
    () => {
        /// The base URL (no trailing `/`).
        pub fn api_base(&self) -> &str {
            &self.deployment.api_base
        }

        /// The model sent upstream.
        pub fn model(&self) -> &str {
            &self.deployment.model
        }

        /// Removes the deployment's key from a message, should an upstream have echoed it.
        pub fn scrub(&self, err: litellm_core::LlmError) -> litellm_core::LlmError {
            self.deployment.scrub(err)
        }
    };
}
pub(crate) use deployment_accessors;
