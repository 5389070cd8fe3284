//! The Gemini adapter (`gemini/` prefix, and the Gemini models of `vertex_ai/`): sans-IO
//! translation between our OpenAI-format types and Google's `generateContent` API. It builds
//! requests, parses responses, decodes the `streamGenerateContent?alt=sse` stream into OpenAI
//! chunks, translates embeddings and maps Google's error bodies; it never opens a socket.
//!
//! Upstream reference: <https://ai.google.dev/api/generate-content> (`GenerateContentRequest`,
//! `GenerateContentResponse`, `UsageMetadata`), <https://ai.google.dev/api/embeddings>
//! (`batchEmbedContents`), Vertex AI's `publishers/google/models/*:generateContent` (same body)
//! and `:predict` for text embeddings. LiteLLM's behaviour is
//! `litellm/llms/vertex_ai/gemini/transformation.py` and `vertex_and_google_ai_studio_gemini.py`.
//!
//! Translation, following LiteLLM:
//! - Google AI Studio: `POST {api_base}/v1beta/models/{model}:generateContent` (or
//!   `:streamGenerateContent?alt=sse`), key in the `x-goog-api-key` header (never `?key=`):
//!   deployment `api_key`, then `GEMINI_API_KEY`; `api_base` from the deployment, then
//!   `GEMINI_API_BASE`, then `https://generativelanguage.googleapis.com`. An `api_base` that
//!   already names the model (`.../models/{model}`, LiteLLM's custom-proxy form) is used as is;
//!   one ending in `/v1beta` gets `/models/{model}`. Vertex builds its own URL (`vertex_ai`).
//! - `system`/`developer` messages become `systemInstruction.parts`; `user` → role `user`,
//!   `assistant` → role `model` (text parts, then one `functionCall` part per tool call with the
//!   arguments parsed as JSON), `tool` → a `user` `functionResponse` part whose `name` is the
//!   one of the matching earlier tool call (a JSON-object result is sent as the response, any
//!   other result as `{"content": ...}`). Consecutive contents of the same role are merged.
//!   Images and files: `data:` URLs → `inlineData{mimeType,data}`, other URLs →
//!   `fileData{mimeType,fileUri}` (MIME type from `format`, else the file extension, else
//!   `image/jpeg`); `input_audio` → `inlineData` with `audio/{format}`.
//! - `generationConfig`: `temperature`, `top_p` → `topP`, `max_tokens`/`max_completion_tokens` →
//!   `maxOutputTokens`, `stop` → `stopSequences`, `n` → `candidateCount`, `presence_penalty`,
//!   `frequency_penalty`, `seed`, `logprobs` → `responseLogprobs`, `top_logprobs` → `logprobs`,
//!   `top_k` → `topK`; `response_format` `json_object` → `responseMimeType: application/json`,
//!   `json_schema` adds `responseSchema`; `reasoning_effort` → `thinkingConfig`
//!   (`thinkingBudget` 128/1024/2048/4096 for minimal/low/medium/high, 0 for `none`, with
//!   `includeThoughts`). Schemas lose the keywords Gemini's OpenAPI subset refuses (`$schema`,
//!   `additionalProperties`, `strict`); a function whose parameters are an object without
//!   properties is declared without `parameters`.
//! - `tools` → one `{"functionDeclarations": [...]}` entry (other tool objects, such as
//!   `{"googleSearch": {}}`, are forwarded); `tool_choice` `auto`/`required`/`none`/named →
//!   `toolConfig.functionCallingConfig` `AUTO`/`ANY`/`NONE`/`ANY` + `allowedFunctionNames`.
//! - Refused (a 400 naming them, or dropped with `drop_params`): `logit_bias`,
//!   `parallel_tool_calls: false`, `audio`, `prediction`, `web_search_options`, `verbosity`,
//!   `prompt_cache_key`, `safety_identifier`. `user` is not sent (Gemini has no such field).
//!   `safety_settings` → `safetySettings`, `cached_content` → `cachedContent`; other unknown
//!   fields are forwarded as they are, and deployment `litellm_params` fill in what the client
//!   did not set.
//! - Responses: each candidate is a choice; `text` parts → content, `thought: true` parts →
//!   `reasoning_content`, `functionCall` parts → `tool_calls` with generated `call_…` ids.
//!   Safety ratings and grounding metadata are kept on the response as LiteLLM names them
//!   (`vertex_ai_safety_ratings`, `vertex_ai_grounding_metadata`: one entry per candidate).
//!   `finishReason` `STOP` → `stop` (`tool_calls` when the candidate called a function),
//!   `MAX_TOKENS` → `length`, `SAFETY`/`RECITATION`/`BLOCKLIST`/`PROHIBITED_CONTENT`/`SPII`/
//!   `IMAGE_SAFETY` → `content_filter`; `MALFORMED_FUNCTION_CALL` is an `InternalServer` error
//!   (never an empty stop). A prompt blocked by `promptFeedback.blockReason` is one
//!   `content_filter` choice. Usage: `prompt_tokens` = `promptTokenCount`, `completion_tokens` =
//!   `candidatesTokenCount` + `thoughtsTokenCount` (unless the candidates count already includes
//!   them, i.e. prompt + candidates = total: LiteLLM's rule), `cachedContentTokenCount` →
//!   `prompt_tokens_details.cached_tokens`, `thoughtsTokenCount` →
//!   `completion_tokens_details.reasoning_tokens`.
//! - Streams: every SSE event is a `GenerateContentResponse`; its parts become deltas (a function
//!   call arrives whole, as one tool-call delta), a `finishReason` a finish chunk, and the last
//!   `usageMetadata` the final `choices: []` usage chunk (with `stream_options.include_usage`).
//!   A stream that ends without any `finishReason` is an `ApiConnection` error.
//! - Errors `{"error": {"code", "message", "status", "details"}}` map by `status`:
//!   `INVALID_ARGUMENT`/`FAILED_PRECONDITION`/`OUT_OF_RANGE` → BadRequest (ContextWindowExceeded
//!   for token-limit messages, Authentication for `API_KEY_INVALID`), `UNAUTHENTICATED` →
//!   Authentication, `PERMISSION_DENIED` → PermissionDenied, `NOT_FOUND` → NotFound,
//!   `RESOURCE_EXHAUSTED` → RateLimited, `UNAVAILABLE` → ServiceUnavailable,
//!   `DEADLINE_EXCEEDED` → Timeout, `INTERNAL` → InternalServer; then by HTTP status. A
//!   `google.rpc.RetryInfo` `retryDelay` is used as the retry-after when no header says so.
//! - Embeddings: Google AI Studio `:batchEmbedContents` (`requests[{model: "models/{m}",
//!   content: {parts: [{text}]}}]`, `dimensions` → `outputDimensionality`); Google reports no
//!   usage there, so `prompt_tokens` is estimated as ⌈chars/4⌉. Vertex uses `:predict`
//!   (`instances[{content}]`), whose `statistics.token_count` is exact.

use http::header::HeaderMap;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use litellm_core::{ErrorKind, LlmError};

use self::request::STRUCTURAL_KEYS;
use crate::adapter_common::{
    deployment_headers, missing_key, resolve_api_base, resolve_api_key, with_call_headers,
    KeyHeader,
};
use crate::adapter_common::{env_constructors, Env};
use crate::deployment::{deployment_accessors, Deployment};
use crate::params::ProviderParams;

mod answer;
mod backend;
mod embed;
mod error;
mod request;
mod response;
mod stream;
mod wire;

pub use backend::GeminiBackend;
pub use backend::GoogleAuth;
pub use error::map_error;
pub use request::clean_schema;
pub use response::map_finish_reason;
pub use response::usage_from_metadata;
pub use stream::GeminiStreamDecoder;

/// The provider name of Google AI Studio deployments.
pub const PROVIDER: &str = "gemini";

/// The provider name of Vertex AI deployments.
pub const VERTEX_PROVIDER: &str = "vertex_ai";

/// Google AI Studio's public API base.
pub const DEFAULT_API_BASE: &str = "https://generativelanguage.googleapis.com";

/// What the response side needs to know about the request.
pub use crate::decoder::UsageOptions as CallOptions;

/// How embeddings are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingStyle {
    /// Google AI Studio's `:batchEmbedContents`.
    BatchEmbedContents,
    /// Vertex AI's `:predict` with `instances[{content}]`.
    Predict,
}

/// One Gemini deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub struct GeminiAdapter {
    provider: &'static str,
    deployment: Deployment,
    /// `.../models/{model}`: the method (`:generateContent`, ...) is appended.
    model_url: String,
    embedding_style: EmbeddingStyle,
}

impl GeminiAdapter {
    env_constructors! {
        /// The Google AI Studio adapter for one deployment whose `gemini/` prefix has been stripped
        /// (`model`), reading defaults from the process environment.
    }

    fn from_env(params: &ProviderParams, model: &str, env: &Env<'_>) -> Result<Self, LlmError> {
        let model = model.trim().trim_start_matches("models/").to_string();
        let api_base = resolve_api_base(params, &env, &["GEMINI_API_BASE"], DEFAULT_API_BASE);
        let model_url = if api_base.contains("/models/") {
            api_base.clone()
        } else {
            let segment = crate::adapter_common::model_segment(PROVIDER, &model)?;
            if api_base.ends_with("/v1beta") || api_base.ends_with("/v1") {
                format!("{api_base}/models/{segment}")
            } else {
                format!("{api_base}/v1beta/models/{segment}")
            }
        };
        let api_key = resolve_api_key(params, &env, &["GEMINI_API_KEY"]);
        let headers = deployment_headers(
            params,
            &[],
            api_key
                .as_ref()
                .map(|k| (k, KeyHeader::Named("x-goog-api-key"))),
        )?;
        Self::base(
            params, PROVIDER, model, api_base, model_url, headers, api_key,
        )
    }

    /// A Vertex AI adapter: `model_url` is the full `.../publishers/google/models/{model}`;
    /// the bearer token is given per request.
    pub fn vertex(
        params: &ProviderParams,
        model: &str,
        api_base: String,
        model_url: String,
    ) -> Result<Self, LlmError> {
        let headers = deployment_headers(params, &[], None)?;
        let mut adapter = Self::base(
            params,
            VERTEX_PROVIDER,
            model.to_string(),
            api_base,
            model_url,
            headers,
            None,
        )?;
        adapter.embedding_style = EmbeddingStyle::Predict;
        Ok(adapter)
    }

    fn base(
        params: &ProviderParams,
        provider: &'static str,
        model: String,
        api_base: String,
        model_url: String,
        headers: HeaderMap,
        api_key: Option<SecretString>,
    ) -> Result<Self, LlmError> {
        Ok(GeminiAdapter {
            provider,
            deployment: Deployment::new(
                params,
                api_base,
                model,
                headers,
                api_key,
                STRUCTURAL_KEYS,
                &[],
            )?,
            model_url,
            embedding_style: EmbeddingStyle::BatchEmbedContents,
        })
    }

    /// The provider name (`gemini` or `vertex_ai`).
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    deployment_accessors!();

    /// The URL of a method of the model: `generateContent`, `streamGenerateContent?alt=sse`, ...
    pub fn url(&self, method: &str) -> String {
        format!("{}:{method}", self.model_url)
    }

    fn request_headers(
        &self,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<HeaderMap, LlmError> {
        if self.provider == PROVIDER && self.deployment.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for gemini: set litellm_params.api_key or GEMINI_API_KEY",
            ));
        }
        let mut headers = self.deployment.headers.clone();
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| {
                    LlmError::upstream(
                        ErrorKind::Authentication,
                        "the OAuth2 access token is not a valid header value",
                    )
                    .with_provider(self.provider)
                })?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        with_call_headers(&headers, extra_headers)
    }
}

#[cfg(test)]
mod tests;
