//! The OpenAI adapter (`openai/` prefix, and bare model names): sans-IO translation between our
//! OpenAI-format types and OpenAI's HTTP API. It builds requests, parses responses, decodes the
//! SSE stream and maps error responses; it never opens a socket (the transport sends).
//!
//! Upstream reference: <https://platform.openai.com/docs/api-reference/chat> and
//! <https://platform.openai.com/docs/api-reference/embeddings>.
//!
//! Quirks handled, following LiteLLM:
//! - `api_base` defaults to `OPENAI_BASE_URL`, then `OPENAI_API_BASE`, then
//!   `https://api.openai.com/v1`; a trailing `/` is trimmed. The key defaults to `OPENAI_API_KEY`
//!   and the organization to `OPENAI_ORGANIZATION`. Without a key no `Authorization` is sent
//!   (local OpenAI-compatible servers).
//! - The body is the client's request with `model` replaced by the deployment's model. Fields we
//!   do not model are forwarded, except LiteLLM's own kwargs ([`is_internal_param`]) and
//!   `metadata` (a LiteLLM logging kwarg, as in `litellm.completion`). A client `extra_body`
//!   object is merged into the body (its keys win, as in the OpenAI SDK).
//! - Deployment `litellm_params` keys that are not LiteLLM's own (`temperature`, `max_tokens`,
//!   ...) fill in what the client did not set; a deployment `extra_body` map is merged the same
//!   way. For embeddings only `dimensions`, `encoding_format` and `user` are taken from the
//!   deployment (chat parameters would make OpenAI reject the call).
//! - Streams send `"stream": true` and keep the client's `stream_options`; non-streams drop
//!   `stream_options` (OpenAI rejects it without `stream`).
//! - Chunks are passed through intact, including a last chunk carrying both `choices` and
//!   `usage`. A `{"error": ...}` event mid-stream becomes an error item that ends the stream.
//! - Embeddings: `encoding_format` is forwarded as given; base64 vectors pass through untouched,
//!   and float vectors are encoded when the client asked for base64.
//! - Lenient parsing: a response or chunk missing `id`, `created` or `model` gets defaults (some
//!   OpenAI-compatible servers omit them) instead of failing the call. A chunk with an empty
//!   `id`, no choices and no usage (Azure's leading `prompt_filter_results` chunk) is skipped.
//! - The same adapter serves OpenAI-compatible providers (`openai_compatible/`: another
//!   provider name plus [`ParamRules`]) and Azure OpenAI (`azure/`: Azure's URLs and auth).

use http::header::{HeaderMap, CONTENT_TYPE};
use http::HeaderValue;
use request::{EMBEDDING_DEFAULT_KEYS, STRUCTURAL_KEYS};
use secrecy::{ExposeSecret, SecretString};

use litellm_core::{Family, JsonMap, LlmError};

use crate::adapter_common::{env_constructors, extra_defaults, non_empty, resolve_api_base, Env};
use crate::params::ProviderParams;
use crate::upstream::insert_header;

pub use crate::adapter_common::is_internal_param;

mod backend;
mod error;
mod request;
mod response;
mod stream;

pub use backend::OpenAiBackend;
pub use error::map_error;
pub use stream::ChatStreamDecoder;

/// The provider name reported in errors, headers and spend records.
pub const PROVIDER: &str = "openai";

/// OpenAI's public API base.
pub const DEFAULT_API_BASE: &str = "https://api.openai.com/v1";

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// One OpenAI deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (it is a `SecretString`; the built `Authorization` header is
/// marked sensitive).
#[derive(Debug, Clone)]
pub struct OpenAiAdapter {
    api_base: String,
    model: String,
    chat_url: String,
    embeddings_url: String,
    /// Content type, auth, organization and the deployment's `extra_headers`.
    headers: HeaderMap,
    /// Deployment parameters filling in what the client did not set (chat).
    chat_defaults: JsonMap,
    /// The same for embeddings.
    embedding_defaults: JsonMap,
    api_key: Option<SecretString>,
    /// The provider name reported in errors and spend (`openai`, or an OpenAI-compatible
    /// provider's prefix such as `groq`).
    provider: &'static str,
    /// Parameter rules of an OpenAI-compatible provider (none for OpenAI itself).
    rules: Option<ParamRules>,
    /// The JSON families served, and where (OpenAI: moderations and image generation).
    family_urls: Vec<(Family, String)>,
}

/// What an OpenAI-compatible provider does not accept, or names differently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamRules {
    /// Request fields the provider refuses: a 400 naming them, or dropped with `drop_params`.
    pub unsupported: Vec<String>,
    /// Request fields sent under another name (`max_completion_tokens` -> `max_tokens`); a rename
    /// never overwrites a field the request already has.
    pub renames: Vec<(String, String)>,
    /// The deployment's `drop_params`.
    pub drop_params: bool,
    /// The provider has no `/embeddings` endpoint: embedding calls are a 400 naming it.
    pub no_embeddings: bool,
}

impl OpenAiAdapter {
    env_constructors! {
        /// The adapter for one deployment whose provider prefix has been stripped (`model`), reading
        /// defaults from the process environment.
    }

    fn from_env(params: &ProviderParams, model: &str, env: &Env<'_>) -> Result<Self, LlmError> {
        let api_base = resolve_api_base(
            params,
            &env,
            &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
            DEFAULT_API_BASE,
        );
        let api_key = params
            .api_key
            .clone()
            .filter(|k| !k.expose_secret().is_empty())
            .or_else(|| non_empty(env("OPENAI_API_KEY")).map(SecretString::from));
        let organization = non_empty(params.organization.clone())
            .or_else(|| non_empty(env("OPENAI_ORGANIZATION")));

        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &api_key {
            let value = format!("Bearer {}", key.expose_secret().trim());
            insert_header(&mut headers, "authorization", &value, "api_key")?;
        }
        if let Some(org) = &organization {
            insert_header(&mut headers, "openai-organization", org, "organization")?;
        }
        for (name, value) in params.extra_headers.iter().flatten() {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }

        let structural = |key: &str| STRUCTURAL_KEYS.contains(&key);
        let chat_defaults = extra_defaults(params, |key| !structural(key))?;
        let embedding_defaults = extra_defaults(params, |key| {
            !structural(key) && EMBEDDING_DEFAULT_KEYS.contains(&key)
        })?;

        let family_urls = [Family::Moderation, Family::ImageGeneration]
            .into_iter()
            .map(|f| (f, format!("{api_base}/{}", f.openai_path())))
            .collect();
        Ok(OpenAiAdapter {
            family_urls,
            chat_url: format!("{api_base}/chat/completions"),
            embeddings_url: format!("{api_base}/embeddings"),
            api_base,
            model: model.to_string(),
            headers,
            chat_defaults,
            embedding_defaults,
            api_key,
            provider: PROVIDER,
            rules: None,
        })
    }

    /// The same adapter reporting another provider name and applying its parameter rules (for
    /// OpenAI-compatible providers).
    pub fn with_provider(mut self, provider: &'static str, rules: ParamRules) -> Self {
        self.provider = provider;
        self.rules = Some(rules);
        self
    }

    /// Replaces the endpoints and the credential header (Azure's URL layout and `api-key`).
    /// `secret` is the credential, removed from error messages like the API key.
    pub(crate) fn set_endpoints_and_auth(
        &mut self,
        chat_url: String,
        embeddings_url: String,
        auth: Option<(&str, String)>,
        secret: Option<SecretString>,
    ) -> Result<(), LlmError> {
        self.chat_url = chat_url;
        self.embeddings_url = embeddings_url;
        if let Some((name, value)) = auth {
            insert_header(&mut self.headers, name, &value, "api_key")?;
        }
        self.api_key = secret;
        Ok(())
    }

    /// Replaces the JSON families served and their URLs.
    pub(crate) fn set_family_urls(&mut self, urls: Vec<(Family, String)>) {
        self.family_urls = urls;
    }

    /// Where the deployment serves `family`, if it does.
    pub fn family_url(&self, family: Family) -> Option<&str> {
        self.family_urls
            .iter()
            .find(|(f, _)| *f == family)
            .map(|(_, url)| url.as_str())
    }

    /// The provider name reported in errors and spend records.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The base URL requests go to (no trailing `/`).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The model sent upstream.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Removes the deployment's key from a message, should an upstream have echoed it, and
    /// names this adapter's provider on an upstream error.
    pub fn scrub(&self, mut err: LlmError) -> LlmError {
        if err.provider.is_some() && self.provider != PROVIDER {
            err.provider = Some(self.provider.to_string());
            if err.message.starts_with(PROVIDER) {
                err.message = format!("{}{}", self.provider, &err.message[PROVIDER.len()..]);
            }
        }
        if let Some(key) = &self.api_key {
            let key = key.expose_secret().trim();
            if key.len() >= 4 && err.message.contains(key) {
                err.message = err.message.replace(key, "<redacted>");
            }
        }
        err
    }

    fn headers_with(&self, extra: &[(String, String)]) -> Result<HeaderMap, LlmError> {
        let mut headers = self.headers.clone();
        for (name, value) in extra {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests;
