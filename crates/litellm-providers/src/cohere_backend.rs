//! The Cohere `ModelBackend` (`cohere/`): glues the sans-IO [`CohereAdapter`] to the
//! [`Transport`]. Chat and embeddings are one request each; streams are fed through the
//! [`CohereStreamDecoder`] piece by piece as the network delivers them (the shared
//! [`DecodedStream`]).

use std::collections::VecDeque;
use std::sync::Arc;

use litellm_core::{
    BoxFuture, CallContext, ChatChunk, ChatOutput, ChatRequest, ChatStreamOutput, EmbeddingOutput,
    EmbeddingRequest, LlmError, ModelBackend,
};

use crate::cohere::{CallOptions, CohereAdapter, CohereStreamDecoder, PROVIDER};
use crate::gemini_backend::{ChunkDecoder, DecodedStream};
use crate::mock::{mock_chat_chunks, mock_chat_response, mock_error, request_mock_response};
use crate::transport::{read_body, Transport};
use crate::upstream::capture_headers;

/// How much of an error body we read before mapping it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A Cohere deployment.
#[derive(Debug, Clone)]
pub struct CohereBackend {
    adapter: Arc<CohereAdapter>,
    transport: Transport,
}

impl CohereBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: CohereAdapter, transport: Transport) -> Self {
        CohereBackend {
            adapter: Arc::new(adapter),
            transport,
        }
    }

    /// The adapter (for inspection).
    pub fn adapter(&self) -> &CohereAdapter {
        &self.adapter
    }

    fn provider_err(&self, e: LlmError) -> LlmError {
        self.adapter.scrub(e.with_provider(PROVIDER))
    }

    async fn chat_impl(&self, req: ChatRequest, ctx: &CallContext) -> Result<ChatOutput, LlmError> {
        if let Some(text) = request_mock_response(&req) {
            return match mock_error(text, PROVIDER) {
                Some(err) => Err(err),
                None => Ok(ChatOutput {
                    response: mock_chat_response(text.to_string(), self.adapter.model(), &req),
                    upstream_headers: Vec::new(),
                }),
            };
        }
        let upstream = self
            .adapter
            .build_chat_request(req, false, &ctx.extra_headers)?;
        let resp = self
            .transport
            .send(upstream, ctx.timeout)
            .await
            .map_err(|e| self.provider_err(e))?;
        if !(200..300).contains(&resp.status) {
            return Err(self
                .adapter
                .map_error(resp.status, &resp.headers, &resp.body));
        }
        let response = self
            .adapter
            .parse_chat_response(&resp.body)
            .map_err(|e| self.adapter.scrub(e))?;
        Ok(ChatOutput {
            response,
            upstream_headers: capture_headers(&resp.headers),
        })
    }

    async fn chat_stream_impl(
        &self,
        req: ChatRequest,
        ctx: &CallContext,
    ) -> Result<ChatStreamOutput, LlmError> {
        if let Some(text) = request_mock_response(&req) {
            if let Some(err) = mock_error(text, PROVIDER) {
                return Err(err);
            }
            let chunks = mock_chat_chunks(text, self.adapter.model(), &req);
            return Ok(ChatStreamOutput {
                stream: Box::pin(futures::stream::iter(chunks.into_iter().map(Ok))),
                upstream_headers: Vec::new(),
            });
        }
        let options = CallOptions::of(&req);
        let upstream = self
            .adapter
            .build_chat_request(req, true, &ctx.extra_headers)?;
        let resp = self
            .transport
            .send_streaming(upstream, ctx.timeout)
            .await
            .map_err(|e| self.provider_err(e))?;
        if !(200..300).contains(&resp.status) {
            let body = read_body(resp.body, ctx.timeout, MAX_ERROR_BODY).await;
            return Err(self.adapter.map_error(resp.status, &resp.headers, &body));
        }
        Ok(ChatStreamOutput {
            upstream_headers: capture_headers(&resp.headers),
            stream: Box::pin(DecodedStream::new(
                resp.body,
                self.adapter.stream_decoder(options),
                PROVIDER,
                None,
            )),
        })
    }

    async fn embed_impl(
        &self,
        req: EmbeddingRequest,
        ctx: &CallContext,
    ) -> Result<EmbeddingOutput, LlmError> {
        let upstream = self
            .adapter
            .build_embedding_request(&req, &ctx.extra_headers)?;
        let resp = self
            .transport
            .send(upstream, ctx.timeout)
            .await
            .map_err(|e| self.provider_err(e))?;
        if !(200..300).contains(&resp.status) {
            return Err(self
                .adapter
                .map_error(resp.status, &resp.headers, &resp.body));
        }
        let response = self
            .adapter
            .parse_embedding_response(&resp.body, &req)
            .map_err(|e| self.adapter.scrub(e))?;
        Ok(EmbeddingOutput {
            response,
            upstream_headers: capture_headers(&resp.headers),
        })
    }
}

impl ModelBackend for CohereBackend {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn api_base(&self) -> Option<&str> {
        Some(self.adapter.api_base())
    }

    fn chat<'a>(
        &'a self,
        req: ChatRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<ChatOutput, LlmError>> {
        Box::pin(self.chat_impl(req, ctx))
    }

    fn chat_stream<'a>(
        &'a self,
        req: ChatRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<ChatStreamOutput, LlmError>> {
        Box::pin(self.chat_stream_impl(req, ctx))
    }

    fn embed<'a>(
        &'a self,
        req: EmbeddingRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<EmbeddingOutput, LlmError>> {
        Box::pin(self.embed_impl(req, ctx))
    }
}

impl ChunkDecoder for CohereStreamDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        CohereStreamDecoder::feed(self, bytes, out);
    }
    fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        CohereStreamDecoder::finish(self, out);
    }
    fn is_done(&self) -> bool {
        CohereStreamDecoder::is_done(self)
    }
}
