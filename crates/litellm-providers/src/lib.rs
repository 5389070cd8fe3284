//! litellm-providers (layer 1): provider adapters and the one HTTP transport.
//!
//! Codemap: a provider is one folder, `src/<provider>/`, holding `mod.rs` (docs, the adapter
//! struct and its constructor, re-exports) and, as the provider needs them, `request.rs`
//! (request translation), `response.rs` (response translation), `stream.rs` (its
//! [`decoder::EventHandler`]), `embed.rs` (embeddings), `error.rs` (error mapping), `auth.rs`
//! (signing, tokens), `backend.rs` (its [`backend_common::HttpAdapter`] impl: the `ModelBackend`)
//! and `tests.rs` (unit tests). Shared pieces stay at the root.
//!
//! - [`resolve_provider`] and [`build_backend`]: the registry. `litellm_params.model` (plus
//!   `custom_llm_provider` and `mock_response`) picks a [`ProviderKind`]; one exhaustive `match`
//!   builds its `ModelBackend`.
//! - [`openai`]: the sans-IO OpenAI adapter and [`OpenAiBackend`]; also serves
//!   [`openai_compatible`] (`groq/`, `mistral/`, ... as data) and [`azure`] (Azure's URLs and
//!   `api-key`).
//! - [`anthropic`]: the sans-IO Anthropic Messages adapter and [`AnthropicBackend`]; in the same
//!   folder, the proxy side of `/v1/messages`: [`anthropic::ingress`] (also [`anthropic_ingress`]:
//!   Anthropic requests to OpenAI requests, responses and chunks back to Anthropic messages and
//!   events) and [`anthropic::native`] / [`anthropic::native_stream`] (also [`anthropic_native`]:
//!   native mode, bodies sent to an Anthropic-family upstream as they are).
//! - [`gemini`]: Google AI Studio `generateContent`; [`vertex_ai`]: Vertex AI URLs, the
//!   service-account OAuth2 [`vertex_ai::TokenSource`], Claude on Vertex.
//! - [`bedrock`]: Amazon Bedrock Converse (SigV4, its binary event stream, Titan/Cohere
//!   embeddings).
//! - [`cohere`]: Cohere v2 (`/v2/chat`, its event stream, `/v2/embed`).
//! - [`ollama`]: Ollama (`/api/generate` for `ollama/`, `/api/chat` for `ollama_chat/`, NDJSON
//!   streams, `/api/embed`).
//! - [`mock`]: the built-in mock provider (`mock/...` and `mock_response`).
//! - [`backend_common`]: the one `ModelBackend` skeleton ([`backend_common::HttpBackend`]) every
//!   HTTP provider instantiates by implementing [`backend_common::HttpAdapter`] (the stream
//!   decoder is its associated type), and [`backend_common::BearerSource`], the token source it
//!   asks before a call (Vertex AI's).
//! - [`decoder`]: [`decoder::EventDecoder`], the one stream decoder (SSE or NDJSON framing, or a
//!   provider's own, and the done flag) around a provider's [`decoder::EventHandler`].
//! - [`prices`]: the model price table and the cost of a call's usage; [`docs`]: generates
//!   `docs/providers.md`; [`params`]: `ProviderParams`.
//! - [`transport`]: the only code that sends HTTP requests (one pooled client per process).
//! - [`sse`]: the incremental Server-Sent Events parser; [`upstream`]: shared sans-IO helpers
//!   (the `UpstreamRequest`, headers); `adapter_common`: what every adapter's request building
//!   shares; `errors`: the `ErrorKind` of a status, context-window messages.
//!
//! To add a provider: create `src/<name>/` with the files above, add a variant to
//! [`ProviderKind`] and its arm in [`build_backend_with`] (the compiler lists every `match` to
//! complete), and declare its capabilities in [`docs`].
//!
//! Module dependencies have no cycles: shared helpers live in leaf modules (`errors`,
//! `adapter_common`, `upstream`, `decoder`), and the generic backend names no provider but
//! Anthropic's native-mode helpers.
//!
//! Architecture invariant: adapters translate bytes and never open sockets; only `transport`
//! sends requests. Credentials live in `SecretString`s and sensitive header values, and are
//! removed from upstream error messages.

pub(crate) mod adapter_common;
pub mod anthropic;
pub mod azure;
mod backend_calls;
pub mod backend_common;
pub mod bedrock;
pub mod cohere;
pub mod decoder;
mod deployment;
pub mod docs;
mod errors;
pub mod families;
pub mod gemini;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod openai_compatible;
pub mod params;
pub mod prices;
mod request_common;
mod response_common;
/// The OpenAI Responses API (`POST /v1/responses`) served over Chat Completions.
pub mod responses;
pub mod sse;
#[cfg(test)]
mod test_util;
/// OpenAI's legacy Completions API (`POST /v1/completions`) served over Chat Completions.
pub mod text_completion;
pub mod transport;
pub mod upstream;
pub mod vertex_ai;

/// Paths of the flat layout, kept for callers (these modules now live in `anthropic/`).
pub use anthropic::ingress as anthropic_ingress;
pub use anthropic::native as anthropic_native;
pub use anthropic::native_stream;

use std::sync::Arc;

pub use litellm_core::JsonMap;
use litellm_core::{ErrorKind, LlmError, ModelBackend};
pub use params::ProviderParams;

pub use anthropic::AnthropicAdapter;
pub use anthropic::AnthropicBackend;
pub use mock::MockBackend;
pub use openai::OpenAiBackend;
pub use openai::{is_internal_param, OpenAiAdapter};
pub use openai_compatible::CompatProvider;
pub use transport::Transport;
pub use upstream::UpstreamRequest;

/// Which provider a deployment uses. Adding a variant is a compile error in every `match` until
/// the provider is wired in completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// An OpenAI-compatible provider from the data table (`groq`, `mistral`, ...).
    OpenAiCompatible(&'static CompatProvider),
    /// OpenAI, and any OpenAI-compatible server reached through `api_base`.
    OpenAI,
    /// Anthropic's Messages API.
    Anthropic,
    /// Azure OpenAI.
    Azure,
    /// Amazon Bedrock's Converse API (SigV4).
    Bedrock,
    /// Google AI Studio's Gemini API (`generateContent`).
    Gemini,
    /// Google Vertex AI (Gemini models, and Claude through `rawPredict`).
    VertexAi,
    /// Cohere's v2 API (`/v2/chat`, `/v2/embed`); `cohere_chat/` is the same provider.
    Cohere,
    /// Ollama's `/api/generate` (a prompt built from the messages).
    Ollama,
    /// Ollama's `/api/chat`.
    OllamaChat,
    /// The built-in mock (no network).
    Mock,
}

impl ProviderKind {
    /// Every native provider, in registry order (see [`ProviderKind::all`] for the table ones).
    pub const ALL: &'static [ProviderKind] = &[
        ProviderKind::OpenAI,
        ProviderKind::Anthropic,
        ProviderKind::Azure,
        ProviderKind::Bedrock,
        ProviderKind::Gemini,
        ProviderKind::VertexAi,
        ProviderKind::Cohere,
        ProviderKind::Ollama,
        ProviderKind::OllamaChat,
        ProviderKind::Mock,
    ];

    /// Every provider: the native ones, then the OpenAI-compatible table in its order.
    pub fn all() -> Vec<ProviderKind> {
        let mut all = Self::ALL.to_vec();
        if let Ok(table) = openai_compatible::providers() {
            all.extend(table.iter().map(ProviderKind::OpenAiCompatible));
        }
        all
    }

    /// The LiteLLM prefix and provider name (`openai`, `mock`, `groq`).
    pub fn name(&self) -> &'static str {
        match self {
            ProviderKind::OpenAiCompatible(p) => p.prefix.as_str(),
            ProviderKind::OpenAI => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Azure => "azure",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Gemini => "gemini",
            ProviderKind::VertexAi => "vertex_ai",
            ProviderKind::Cohere => "cohere",
            ProviderKind::Ollama => "ollama",
            ProviderKind::OllamaChat => "ollama_chat",
            ProviderKind::Mock => "mock",
        }
    }

    /// The provider with this LiteLLM name (`cohere_chat` is an alias of `cohere`).
    pub fn from_name(name: &str) -> Option<ProviderKind> {
        if name == "cohere_chat" {
            return Some(ProviderKind::Cohere);
        }
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .or_else(|| openai_compatible::find(name).map(ProviderKind::OpenAiCompatible))
    }
}

/// LiteLLM provider prefixes that litellm-rs does not implement yet. A model with one of these
/// prefixes is an error naming the provider (rather than being sent to OpenAI), unless the
/// deployment sets `mock_response`.
const NOT_YET_SUPPORTED: &[&str] = &[
    "azure_ai",
    "azure_text",
    "openai_like",
    "replicate",
    "sagemaker",
    "text-completion-openai",
    "vertex_ai_beta",
    "watsonx",
];

/// How a `model` string resolved, before deciding whether that is an error.
enum Resolved {
    Known(ProviderKind, String),
    /// A LiteLLM provider we do not implement: its name and the model.
    NotYetSupported(String, String),
}

fn resolve(params: &ProviderParams) -> Result<Resolved, LlmError> {
    let model = params.model.trim();
    if model.is_empty() {
        return Err(LlmError::bad_param(
            "model",
            "litellm_params.model is required",
        ));
    }
    if let Some(provider) = params
        .custom_llm_provider
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let rest = model
            .strip_prefix(provider)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(model);
        return match ProviderKind::from_name(provider) {
            Some(kind) => Ok(Resolved::Known(kind, rest.to_string())),
            None if NOT_YET_SUPPORTED.contains(&provider) => Ok(Resolved::NotYetSupported(
                provider.to_string(),
                rest.to_string(),
            )),
            None => Err(unknown_provider(provider, model, "custom_llm_provider")),
        };
    }
    let Some((prefix, rest)) = model.split_once('/') else {
        return Ok(Resolved::Known(ProviderKind::OpenAI, model.to_string()));
    };
    if let Some(kind) = ProviderKind::from_name(prefix) {
        if rest.is_empty() {
            return Err(LlmError::bad_param(
                "model",
                format!("model {model:?} names the provider but no model after '/'"),
            ));
        }
        return Ok(Resolved::Known(kind, rest.to_string()));
    }
    if NOT_YET_SUPPORTED.contains(&prefix) {
        return Ok(Resolved::NotYetSupported(
            prefix.to_string(),
            rest.to_string(),
        ));
    }
    if params
        .api_base
        .as_deref()
        .is_some_and(|b| !b.trim().is_empty())
    {
        // An OpenAI-compatible server whose model names contain slashes (`meta-llama/...`).
        return Ok(Resolved::Known(ProviderKind::OpenAI, model.to_string()));
    }
    Err(unknown_provider(prefix, model, "model"))
}

fn unknown_provider(provider: &str, model: &str, param: &str) -> LlmError {
    let supported: Vec<&str> = ProviderKind::all().iter().map(ProviderKind::name).collect();
    let mut e = LlmError::client(
        ErrorKind::BadRequest,
        format!(
            "unknown provider {provider:?} in model {model:?}; supported providers: {} \
             (set api_base to send it to an OpenAI-compatible server)",
            supported.join(", ")
        ),
    );
    e.param = Some(param.to_string());
    e
}

/// Splits the deployment's model into provider and model: `openai/gpt-4o` is
/// `(OpenAI, "gpt-4o")`, `mock/x` is `(Mock, "x")`, a bare `gpt-4o` is `(OpenAI, "gpt-4o")`.
/// `custom_llm_provider` overrides the prefix (and is stripped from the model when repeated
/// there). Only the first `/` splits: `openai/meta-llama/Llama-3` is OpenAI model
/// `meta-llama/Llama-3`. An unknown prefix (`foo/bar`) is the OpenAI model `foo/bar` when
/// `api_base` is set, and an error naming `foo` otherwise. A LiteLLM provider not implemented yet
/// (`sagemaker/...`) is an error naming it.
pub fn resolve_provider(params: &ProviderParams) -> Result<(ProviderKind, String), LlmError> {
    match resolve(params)? {
        Resolved::Known(kind, model) => Ok((kind, model)),
        Resolved::NotYetSupported(provider, model) => {
            let mut e = LlmError::client(
                ErrorKind::BadRequest,
                format!(
                    "provider {provider:?} (model {model:?}) is not supported by litellm-rs yet; \
                     use openai/<model> with api_base for an OpenAI-compatible endpoint"
                ),
            );
            e.param = Some("model".into());
            Err(e)
        }
    }
}

/// Builds the backend for one deployment. HTTP backends share the process-wide pooled client
/// ([`Transport::shared`]).
///
/// With `mock_response` set, the deployment answers locally whatever its provider (LiteLLM's
/// behaviour); its `provider()` is still the provider named by the model (`openai` for
/// `openai/gpt-4o`, `anthropic` for `anthropic/claude-...`), as LiteLLM reports it.
pub fn build_backend(params: &ProviderParams) -> Result<Arc<dyn ModelBackend>, LlmError> {
    let transport = if params.mock_response.is_some() {
        None
    } else {
        Some(Transport::shared()?)
    };
    build_backend_with(params, transport)
}

/// As [`build_backend`], sending through the given transport (`None` is only valid for
/// deployments that never send: `mock/...` or `mock_response`).
pub fn build_backend_with(
    params: &ProviderParams,
    transport: Option<Transport>,
) -> Result<Arc<dyn ModelBackend>, LlmError> {
    let resolved = resolve(params)?;
    if let Some(response) = &params.mock_response {
        let (provider, model) = match &resolved {
            Resolved::Known(kind, model) => (kind.name().to_string(), model.clone()),
            Resolved::NotYetSupported(name, model) => (name.clone(), model.clone()),
        };
        return Ok(Arc::new(MockBackend::new(
            provider,
            model,
            params.api_base.clone(),
            Some(response.clone()),
        )));
    }
    let (kind, model) = resolve_provider(params)?;
    // Taken after the adapter is built: a bad deployment is reported before a transport failure.
    let transport = move || transport.map_or_else(Transport::shared, Ok);
    match kind {
        ProviderKind::OpenAI => {
            let adapter = OpenAiAdapter::new(params, &model)?;
            Ok(Arc::new(OpenAiBackend::new(adapter, transport()?)))
        }
        ProviderKind::Anthropic => {
            let adapter = AnthropicAdapter::new(params, &model)?;
            Ok(Arc::new(AnthropicBackend::new(adapter, transport()?)))
        }
        ProviderKind::Azure => {
            let adapter = azure::adapter(params, &model, |k| std::env::var(k).ok())?;
            Ok(Arc::new(OpenAiBackend::new(adapter, transport()?)))
        }
        ProviderKind::Bedrock => {
            let adapter = bedrock::BedrockAdapter::new(params, &model)?;
            Ok(Arc::new(bedrock::BedrockBackend::new(
                adapter,
                transport()?,
            )))
        }
        ProviderKind::OpenAiCompatible(provider) => {
            let adapter =
                openai_compatible::adapter(provider, params, &model, |k| std::env::var(k).ok())?;
            Ok(Arc::new(OpenAiBackend::new(adapter, transport()?)))
        }
        ProviderKind::Gemini => {
            let adapter = gemini::GeminiAdapter::new(params, &model)?;
            Ok(Arc::new(gemini::GeminiBackend::new(
                adapter,
                gemini::GoogleAuth::ApiKey,
                transport()?,
            )))
        }
        ProviderKind::VertexAi => {
            vertex_ai::backend(params, &model, transport()?, &|k| std::env::var(k).ok())
        }
        ProviderKind::Cohere => {
            let adapter = cohere::CohereAdapter::new(params, &model)?;
            Ok(Arc::new(cohere::CohereBackend::new(adapter, transport()?)))
        }
        ProviderKind::Ollama | ProviderKind::OllamaChat => {
            let mode = if kind == ProviderKind::Ollama {
                ollama::OllamaMode::Generate
            } else {
                ollama::OllamaMode::Chat
            };
            let adapter = ollama::OllamaAdapter::new(params, &model, mode)?;
            Ok(Arc::new(ollama::OllamaBackend::new(adapter, transport()?)))
        }
        ProviderKind::Mock => Ok(Arc::new(MockBackend::new(
            kind.name(),
            model,
            params.api_base.clone(),
            None,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(model: &str) -> ProviderParams {
        ProviderParams {
            model: model.into(),
            ..Default::default()
        }
    }

    fn resolved(p: &ProviderParams) -> Result<(&'static str, String), ErrorKind> {
        resolve_provider(p)
            .map(|(k, m)| (k.name(), m))
            .map_err(|e| e.kind)
    }

    #[test]
    fn prefixes_split_on_the_first_slash() {
        assert_eq!(
            resolved(&params("openai/gpt-4o")),
            Ok(("openai", "gpt-4o".into()))
        );
        assert_eq!(resolved(&params("mock/x")), Ok(("mock", "x".into())));
        assert_eq!(resolved(&params("gpt-4o")), Ok(("openai", "gpt-4o".into())));
        assert_eq!(
            resolved(&params("openai/meta-llama/Llama-3")),
            Ok(("openai", "meta-llama/Llama-3".into()))
        );
    }

    #[test]
    fn unknown_prefixes_need_an_api_base() {
        let e = resolve_provider(&params("foo/bar")).expect_err("unknown provider");
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("\"foo\""), "{}", e.message);
        let mut p = params("foo/bar");
        p.api_base = Some("http://localhost:8000/v1".into());
        assert_eq!(resolved(&p), Ok(("openai", "foo/bar".into())));
    }

    #[test]
    fn custom_llm_provider_overrides_the_prefix() {
        let mut p = params("gpt-4o");
        p.custom_llm_provider = Some("mock".into());
        assert_eq!(resolved(&p), Ok(("mock", "gpt-4o".into())));
        let mut p = params("openai/gpt-4o");
        p.custom_llm_provider = Some("openai".into());
        assert_eq!(resolved(&p), Ok(("openai", "gpt-4o".into())));
        let mut p = params("gpt-4o");
        p.custom_llm_provider = Some("nope".into());
        assert_eq!(resolved(&p), Err(ErrorKind::BadRequest));
    }

    #[test]
    fn providers_not_yet_supported_are_named_even_with_api_base() {
        let mut p = params("sagemaker/my-endpoint");
        p.api_base = Some("http://x".into());
        let e = resolve_provider(&p).expect_err("not supported");
        assert!(e.message.contains("sagemaker"), "{}", e.message);
        assert!(resolve_provider(&params("")).is_err());
        assert!(resolve_provider(&params("openai/")).is_err());
    }

    #[test]
    fn mock_response_works_on_any_provider_and_reports_it() {
        let mut p = params("anthropic/claude-3-5-sonnet");
        p.mock_response = Some("hi".into());
        let b = build_backend(&p).expect("mock backend");
        assert_eq!(b.provider(), "anthropic");
        let mut p = params("openai/gpt-4o");
        p.mock_response = Some("hi".into());
        assert_eq!(
            build_backend(&p).expect("mock backend").provider(),
            "openai"
        );
        assert_eq!(
            build_backend(&params("mock/x")).expect("mock").provider(),
            "mock"
        );
    }

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in ProviderKind::all() {
            assert_eq!(ProviderKind::from_name(kind.name()), Some(kind));
        }
    }
}
