//! The Ollama `ModelBackend` (`ollama/` and `ollama_chat/`): the sans-IO [`OllamaAdapter`] served
//! by the shared [`HttpBackend`]. Chat and embeddings are one request each; NDJSON streams are fed
//! through the [`OllamaStreamDecoder`] piece by piece as the network delivers them.

use bytes::Bytes;
use http::HeaderMap;
use secrecy::SecretString;

use litellm_core::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, LlmError};

use crate::backend_common::{inherent_adapter_methods, single_answer, HttpAdapter, HttpBackend};
use crate::ollama::{CallOptions, OllamaAdapter, OllamaStreamDecoder};
use crate::transport::Transport;
use crate::upstream::UpstreamRequest;

/// An Ollama deployment (`/api/generate` or `/api/chat`).
pub type OllamaBackend = HttpBackend<OllamaAdapter>;

impl OllamaBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: OllamaAdapter, transport: Transport) -> Self {
        HttpBackend::with_tokens(adapter, None, transport)
    }
}

impl HttpAdapter for OllamaAdapter {
    type Options = CallOptions;
    type Decoder = OllamaStreamDecoder;
    type EmbedContext = EmbeddingRequest;

    inherent_adapter_methods!(build_chat_request);

    fn provider_name(&self) -> &'static str {
        self.provider()
    }
    fn call_options(&self, req: &ChatRequest) -> CallOptions {
        CallOptions::of(req)
    }
    fn chat_response(&self, body: &[u8], options: CallOptions) -> Result<ChatResponse, LlmError> {
        self.parse_chat_response(body, options)
    }
    fn chunk_decoder(&self, options: CallOptions) -> OllamaStreamDecoder {
        self.stream_decoder(options)
    }
    /// Stream error items are named `ollama` / `ollama_chat` and otherwise passed on as made.
    fn stream_error(&self, e: LlmError) -> LlmError {
        e.with_provider(self.provider())
    }
    fn embedding_requests(
        &self,
        req: EmbeddingRequest,
        extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Result<(Vec<UpstreamRequest>, EmbeddingRequest), LlmError> {
        let upstream = self.build_embedding_request(&req, extra_headers)?;
        Ok((vec![upstream], req))
    }
    fn embedding_response(
        &self,
        answers: &[(HeaderMap, Bytes)],
        req: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        self.parse_embedding_response(single_answer(answers), &req)
    }
}
