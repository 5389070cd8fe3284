//! The Gemini `ModelBackend` (`gemini/` and the Gemini models of `vertex_ai/`): the sans-IO
//! [`GeminiAdapter`] served by the shared [`HttpBackend`]. Google AI Studio authenticates with the
//! adapter's `x-goog-api-key`; Vertex AI with an OAuth2 bearer token from a [`BearerSource`] (Vertex AI's `TokenSource`)
//! (fetched, then cached, before the call). Streams are fed through the [`GeminiStreamDecoder`]
//! piece by piece as the network delivers them.

use std::sync::Arc;

use litellm_core::LlmError;

use crate::backend_common::{
    inherent_adapter_methods, native_adapter_methods, single_embedding_methods, BearerSource,
    HttpAdapter, HttpBackend,
};
use crate::gemini::{CallOptions, GeminiAdapter, GeminiStreamDecoder};
use crate::transport::Transport;

/// How a Gemini deployment authenticates.
#[derive(Debug, Clone)]
pub enum GoogleAuth {
    /// Google AI Studio: the adapter's `x-goog-api-key` header.
    ApiKey,
    /// Vertex AI: an OAuth2 access token for a service account.
    Vertex(Arc<dyn BearerSource>),
}

/// A Gemini deployment (AI Studio or Vertex AI).
pub type GeminiBackend = HttpBackend<GeminiAdapter>;

impl GeminiBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: GeminiAdapter, auth: GoogleAuth, transport: Transport) -> Self {
        let tokens = match auth {
            GoogleAuth::ApiKey => None,
            GoogleAuth::Vertex(tokens) => Some(tokens),
        };
        HttpBackend::with_tokens(adapter, tokens, transport)
    }
}

impl HttpAdapter for GeminiAdapter {
    inherent_adapter_methods!(build_chat_request, bearer);
    native_adapter_methods!([], GeminiStreamDecoder);
    /// Stream error items are named `gemini` / `vertex_ai`, and scrubbed.
    fn stream_error(&self, e: LlmError) -> LlmError {
        self.scrub(e.with_provider(self.provider()))
    }
    single_embedding_methods!(bearer);
}
