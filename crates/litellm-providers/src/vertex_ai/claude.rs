//! Claude on Vertex AI: the Anthropic translation with Vertex's `rawPredict` /
//! `streamRawPredict` URLs, body (`anthropic_version`, no `model`) and bearer token.

use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use litellm_core::{ChatRequest, ChatResponse, ErrorKind, LlmError};

use super::{VertexTarget, VERTEX_ANTHROPIC_VERSION};
use crate::adapter_common::serialize_body;
use crate::anthropic::{AnthropicAdapter, AnthropicStreamDecoder, CallOptions as AnthropicOptions};
use crate::backend_common::{HttpAdapter, HttpBackend, NativeCall};
use crate::gemini::VERTEX_PROVIDER;
use crate::params::ProviderParams;
use crate::upstream::{insert_header, UpstreamRequest};

/// Claude on Vertex: the Anthropic translation with Vertex's URL, body and bearer token.
#[derive(Debug, Clone)]
pub struct VertexClaudeAdapter {
    pub(super) anthropic: AnthropicAdapter,
    pub(super) target: VertexTarget,
    pub(super) headers: HeaderMap,
}

impl VertexClaudeAdapter {
    /// The adapter for `model` (e.g. `claude-sonnet-4-5@20250929`) at `target`.
    pub fn new(
        params: &ProviderParams,
        model: &str,
        target: VertexTarget,
    ) -> Result<VertexClaudeAdapter, LlmError> {
        let mut inner = params.clone();
        inner.api_base = None;
        inner.api_key = None;
        inner.extra_headers = None;
        let anthropic = AnthropicAdapter::with_env(&inner, model, |_| None)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in params.extra_headers.iter().flatten() {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }
        Ok(VertexClaudeAdapter {
            anthropic,
            target,
            headers,
        })
    }

    /// The Anthropic adapter used for the body and the answers.
    pub fn anthropic(&self) -> &AnthropicAdapter {
        &self.anthropic
    }

    /// The resolved project, location and URL.
    pub fn target(&self) -> &VertexTarget {
        &self.target
    }

    /// `POST .../publishers/anthropic/models/{model}:rawPredict` (or `:streamRawPredict`).
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: &SecretString,
    ) -> Result<UpstreamRequest, LlmError> {
        let mut body = self.anthropic.translate_request(req, stream)?;
        body.shift_remove("model");
        body.insert(
            "anthropic_version".into(),
            Value::String(VERTEX_ANTHROPIC_VERSION.into()),
        );
        let url = format!("{}:{}", self.target.model_url, predict_method(stream));
        self.request(url, body, &[], extra_headers, bearer)
    }

    /// A native Messages call (see `anthropic_native`): the client's body less `model`, with
    /// `anthropic_version: vertex-2023-10-16` unless the client set one, and the client's
    /// `anthropic-beta` header; `count_tokens` goes to the publisher's
    /// `count-tokens:rawPredict` with the model in the body.
    pub fn build_native_request(
        &self,
        body: litellm_core::JsonMap,
        call: NativeCall,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
        bearer: &SecretString,
    ) -> Result<UpstreamRequest, LlmError> {
        let model = self.anthropic.model();
        let (body, url) = match call {
            NativeCall::Messages { stream } => {
                let mut body = crate::anthropic_native::messages_body(body, model);
                body.shift_remove("model");
                body.entry("anthropic_version")
                    .or_insert_with(|| Value::String(VERTEX_ANTHROPIC_VERSION.into()));
                let url = format!("{}:{}", self.target.model_url, predict_method(stream));
                (body, url)
            }
            NativeCall::CountTokens => {
                let mut body = crate::anthropic_native::count_tokens_body(body, model);
                body.insert(
                    "anthropic_version".into(),
                    Value::String(VERTEX_ANTHROPIC_VERSION.into()),
                );
                let base = self
                    .target
                    .model_url
                    .rsplit_once('/')
                    .map_or(self.target.model_url.as_str(), |(b, _)| b);
                (body, format!("{base}/count-tokens:rawPredict"))
            }
        };
        let beta: Vec<(String, String)> = forward_headers
            .iter()
            .filter(|(k, _)| k == "anthropic-beta")
            .cloned()
            .collect();
        self.request(url, body, &beta, extra_headers, bearer)
    }

    pub(super) fn request(
        &self,
        url: String,
        body: litellm_core::JsonMap,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
        bearer: &SecretString,
    ) -> Result<UpstreamRequest, LlmError> {
        let body = serialize_body(&Value::Object(body))?;
        let mut headers = self.headers.clone();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", bearer.expose_secret()))
            .map_err(|_| {
                LlmError::upstream(
                    ErrorKind::Authentication,
                    "the OAuth2 access token is not a valid header value",
                )
                .with_provider(VERTEX_PROVIDER)
            })?;
        auth.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, auth);
        crate::anthropic_native::apply_forwarded_headers(&mut headers, forward_headers)?;
        for (name, value) in extra_headers {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }
        Ok(UpstreamRequest::post(url, headers, body))
    }

    /// Maps an error answer with the Anthropic rules, falling back to Google's error body.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        let google = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("error")?.get("status").cloned())
            .is_some();
        let mut e = if google {
            crate::gemini::map_error(VERTEX_PROVIDER, status, headers, body)
        } else {
            self.anthropic.map_error(status, headers, body)
        };
        e.provider = Some(VERTEX_PROVIDER.to_string());
        e
    }
}

/// Vertex's method for a Claude call.
pub(super) fn predict_method(stream: bool) -> &'static str {
    if stream {
        "streamRawPredict"
    } else {
        "rawPredict"
    }
}

/// The error for a Claude call made without a token (the backend always has a token source).
pub(super) fn no_token() -> LlmError {
    LlmError::upstream(
        ErrorKind::Authentication,
        "no Vertex AI access token for the Claude request",
    )
    .with_provider(VERTEX_PROVIDER)
}

/// A `vertex_ai/claude-*` deployment: the shared [`HttpBackend`] with a token source.
pub type VertexClaudeBackend = HttpBackend<VertexClaudeAdapter>;

impl HttpAdapter for VertexClaudeAdapter {
    type Options = AnthropicOptions;
    type Decoder = AnthropicStreamDecoder;
    type EmbedContext = ();

    fn provider_name(&self) -> &'static str {
        VERTEX_PROVIDER
    }
    fn upstream_model(&self) -> &str {
        self.anthropic.model()
    }
    fn upstream_base(&self) -> &str {
        &self.target.api_base
    }
    fn call_options(&self, req: &ChatRequest) -> AnthropicOptions {
        AnthropicOptions::of(req)
    }
    fn chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let bearer = bearer.ok_or_else(no_token)?;
        self.build_chat_request(req, stream, extra_headers, bearer)
    }
    fn speaks_native_messages(&self) -> bool {
        true
    }
    fn native_request(
        &self,
        body: litellm_core::JsonMap,
        call: NativeCall,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Option<Result<UpstreamRequest, LlmError>> {
        Some(bearer.ok_or_else(no_token).and_then(|bearer| {
            self.build_native_request(body, call, forward_headers, extra_headers, bearer)
        }))
    }
    fn chat_response(
        &self,
        body: &[u8],
        options: AnthropicOptions,
    ) -> Result<ChatResponse, LlmError> {
        self.anthropic.parse_chat_response(body, options)
    }
    fn chunk_decoder(&self, options: AnthropicOptions) -> AnthropicStreamDecoder {
        self.anthropic.stream_decoder(options)
    }
    fn status_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.map_error(status, headers, body)
    }
    /// Only names `vertex_ai`: the deployment has no API key of its own to remove.
    fn scrub_error(&self, e: LlmError) -> LlmError {
        e.with_provider(VERTEX_PROVIDER)
    }
    /// Claude on Vertex has never answered a request's `mock_response` locally.
    fn honours_mock_response(&self) -> bool {
        false
    }
    fn embeddings_refusal(&self) -> Option<&'static str> {
        Some(
            "Claude models on Vertex AI have no embeddings; use a Vertex embedding model \
             (vertex_ai/text-embedding-005, ...)",
        )
    }
}
