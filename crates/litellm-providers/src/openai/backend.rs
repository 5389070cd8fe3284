//! The OpenAI `ModelBackend` (also Azure and every OpenAI-compatible provider): the sans-IO
//! [`OpenAiAdapter`] served by the shared [`HttpBackend`], which builds the request, sends it,
//! maps a non-success status through the adapter, and for streams feeds the body through the
//! [`ChatStreamDecoder`] piece by piece as the network delivers it. Moderations, image
//! generation and (for the compatible hosts that have it) rerank go to the adapter's family URLs.

use bytes::Bytes;
use http::HeaderMap;
use secrecy::SecretString;

use litellm_core::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Family, FamilyRequest, LlmError,
};

use crate::backend_common::{inherent_adapter_methods, single_answer, HttpAdapter, HttpBackend};
use crate::openai::{ChatStreamDecoder, OpenAiAdapter};
use crate::transport::Transport;
use crate::upstream::UpstreamRequest;

/// An OpenAI (or OpenAI-compatible) deployment.
pub type OpenAiBackend = HttpBackend<OpenAiAdapter>;

impl OpenAiBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: OpenAiAdapter, transport: Transport) -> Self {
        HttpBackend::with_tokens(adapter, None, transport)
    }
}

impl HttpAdapter for OpenAiAdapter {
    type Options = ();
    type Decoder = ChatStreamDecoder;
    /// Whether the caller asked for base64 vectors.
    type EmbedContext = bool;

    inherent_adapter_methods!(build_chat_request);

    fn provider_name(&self) -> &'static str {
        self.provider()
    }
    fn call_options(&self, _req: &ChatRequest) {}
    fn chat_response(&self, body: &[u8], _options: ()) -> Result<ChatResponse, LlmError> {
        self.parse_chat_response(body)
    }
    fn chunk_decoder(&self, _options: ()) -> ChatStreamDecoder {
        self.stream_decoder()
    }
    fn embedding_requests(
        &self,
        req: EmbeddingRequest,
        extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Result<(Vec<UpstreamRequest>, bool), LlmError> {
        let wants_base64 = req.wants_base64();
        let upstream = self.build_embedding_request(req, extra_headers)?;
        Ok((vec![upstream], wants_base64))
    }
    fn embedding_response(
        &self,
        answers: &[(HeaderMap, Bytes)],
        wants_base64: bool,
    ) -> Result<EmbeddingResponse, LlmError> {
        self.parse_embedding_response(single_answer(answers), wants_base64)
    }
    fn serves_family(&self, family: Family) -> bool {
        self.family_url(family).is_some()
    }
    fn family_request(
        &self,
        req: &FamilyRequest,
        extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let url = self
            .family_url(req.family)
            .ok_or_else(|| litellm_core::backend::not_served(self.provider(), req.family))?;
        let body = crate::families::upstream_body(req, self.model());
        Ok(UpstreamRequest::post(
            url.to_string(),
            self.headers_with(extra_headers)?,
            crate::families::to_bytes(&body)?,
        ))
    }
}
