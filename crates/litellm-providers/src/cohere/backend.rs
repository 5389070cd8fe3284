//! The Cohere `ModelBackend` (`cohere/`): the sans-IO [`CohereAdapter`] served by the shared
//! [`HttpBackend`]. Chat and embeddings are one request each; streams are fed through the
//! [`CohereStreamDecoder`] piece by piece as the network delivers them.

use bytes::Bytes;
use http::HeaderMap;
use secrecy::SecretString;

use litellm_core::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, LlmError};

use crate::backend_common::{inherent_adapter_methods, single_answer, HttpAdapter, HttpBackend};
use crate::cohere::{CallOptions, CohereAdapter, CohereStreamDecoder, PROVIDER};
use crate::transport::Transport;
use crate::upstream::UpstreamRequest;

/// A Cohere deployment.
pub type CohereBackend = HttpBackend<CohereAdapter>;

impl CohereBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: CohereAdapter, transport: Transport) -> Self {
        HttpBackend::with_tokens(adapter, None, transport)
    }
}

impl HttpAdapter for CohereAdapter {
    type Options = CallOptions;
    type Decoder = CohereStreamDecoder;
    type EmbedContext = EmbeddingRequest;

    inherent_adapter_methods!(build_chat_request);

    fn provider_name(&self) -> &'static str {
        PROVIDER
    }
    fn call_options(&self, req: &ChatRequest) -> CallOptions {
        CallOptions::of(req)
    }
    fn chat_response(&self, body: &[u8], _options: CallOptions) -> Result<ChatResponse, LlmError> {
        self.parse_chat_response(body)
    }
    fn chunk_decoder(&self, options: CallOptions) -> CohereStreamDecoder {
        self.stream_decoder(options)
    }
    /// Stream error items are named `cohere` and otherwise passed on as the decoder made them.
    fn stream_error(&self, e: LlmError) -> LlmError {
        e.with_provider(PROVIDER)
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
