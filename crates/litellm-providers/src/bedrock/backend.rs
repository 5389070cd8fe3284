//! The Bedrock `ModelBackend`: the sans-IO [`BedrockAdapter`] served by the shared
//! [`HttpBackend`]. The adapter builds and signs (SigV4) the Converse request; the backend sends
//! it, maps a non-success status through the adapter, and for streams feeds the binary event
//! stream through the [`BedrockStreamDecoder`] piece by piece as the network delivers it.
//! Embeddings go through InvokeModel (Titan: one request per input, sent a few at a time;
//! Cohere: one request).

use bytes::Bytes;
use http::HeaderMap;
use secrecy::SecretString;

use litellm_core::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, LlmError};

use super::BedrockStreamDecoder;
use crate::backend_common::{inherent_adapter_methods, HttpAdapter, HttpBackend};
use crate::bedrock::{BedrockAdapter, CallOptions, PROVIDER};
use crate::transport::Transport;
use crate::upstream::UpstreamRequest;

/// A Bedrock deployment.
pub type BedrockBackend = HttpBackend<BedrockAdapter>;

impl BedrockBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: BedrockAdapter, transport: Transport) -> Self {
        HttpBackend::with_tokens(adapter, None, transport)
    }
}

impl HttpAdapter for BedrockAdapter {
    type Options = CallOptions;
    type Decoder = BedrockStreamDecoder;
    type EmbedContext = EmbeddingRequest;

    inherent_adapter_methods!(build_chat_request);

    fn provider_name(&self) -> &'static str {
        PROVIDER
    }
    fn call_options(&self, req: &ChatRequest) -> CallOptions {
        CallOptions::of(req)
    }
    fn chat_response(&self, body: &[u8], options: CallOptions) -> Result<ChatResponse, LlmError> {
        self.parse_chat_response(body, options)
    }
    fn chunk_decoder(&self, options: CallOptions) -> BedrockStreamDecoder {
        self.stream_decoder(options)
    }
    fn embedding_requests(
        &self,
        req: EmbeddingRequest,
        extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Result<(Vec<UpstreamRequest>, EmbeddingRequest), LlmError> {
        let requests = self.build_embedding_requests(&req, extra_headers)?;
        Ok((requests, req))
    }
    fn embedding_response(
        &self,
        answers: &[(HeaderMap, Bytes)],
        req: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        self.parse_embedding_responses(&req, answers)
    }
}
