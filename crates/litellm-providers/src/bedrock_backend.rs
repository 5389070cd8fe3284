//! The Bedrock `ModelBackend`: glues the sans-IO [`BedrockAdapter`] to the [`Transport`].
//! Builds and signs the Converse request, sends it, maps a non-success status through the
//! adapter, and for streams feeds the binary event stream through the decoder piece by piece as
//! the network delivers it. Embeddings go through InvokeModel (Titan: one request per input,
//! sent a few at a time; Cohere: one request).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use http::HeaderMap;

use litellm_core::{
    BoxFuture, CallContext, ChatChunk, ChatOutput, ChatRequest, ChatStreamOutput, EmbeddingOutput,
    EmbeddingRequest, LlmError, ModelBackend,
};

use crate::bedrock::{BedrockAdapter, CallOptions, PROVIDER};
use crate::bedrock_stream::BedrockStreamDecoder;
use crate::mock::{mock_chat_chunks, mock_chat_response, mock_error, request_mock_response};
use crate::transport::{read_body, ByteStream, Transport};
use crate::upstream::capture_headers;

/// How much of an error body we read before mapping it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Titan embedding requests in flight at once for one call.
const EMBEDDING_CONCURRENCY: usize = 8;

/// A Bedrock deployment.
#[derive(Debug, Clone)]
pub struct BedrockBackend {
    adapter: Arc<BedrockAdapter>,
    transport: Transport,
}

impl BedrockBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: BedrockAdapter, transport: Transport) -> Self {
        BedrockBackend {
            adapter: Arc::new(adapter),
            transport,
        }
    }

    /// The adapter (for inspection).
    pub fn adapter(&self) -> &BedrockAdapter {
        &self.adapter
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
        let options = CallOptions::of(&req);
        let upstream = self
            .adapter
            .build_chat_request(req, false, &ctx.extra_headers)?;
        let resp = self
            .transport
            .send(upstream, ctx.timeout)
            .await
            .map_err(|e| self.adapter.scrub(e.with_provider(PROVIDER)))?;
        if !(200..300).contains(&resp.status) {
            return Err(self
                .adapter
                .map_error(resp.status, &resp.headers, &resp.body));
        }
        let response = self
            .adapter
            .parse_chat_response(&resp.body, options)
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
            .map_err(|e| self.adapter.scrub(e.with_provider(PROVIDER)))?;
        if !(200..300).contains(&resp.status) {
            let body = read_body(resp.body, ctx.timeout, MAX_ERROR_BODY).await;
            return Err(self.adapter.map_error(resp.status, &resp.headers, &body));
        }
        Ok(ChatStreamOutput {
            upstream_headers: capture_headers(&resp.headers),
            stream: Box::pin(DecodedStream {
                body: Some(resp.body),
                decoder: self.adapter.stream_decoder(options),
                pending: VecDeque::new(),
                adapter: self.adapter.clone(),
            }),
        })
    }

    async fn embed_impl(
        &self,
        req: EmbeddingRequest,
        ctx: &CallContext,
    ) -> Result<EmbeddingOutput, LlmError> {
        let requests = self
            .adapter
            .build_embedding_requests(&req, &ctx.extra_headers)?;
        let answers: Vec<(HeaderMap, Bytes)> = futures::stream::iter(requests)
            .map(|upstream| async move {
                let resp = self
                    .transport
                    .send(upstream, ctx.timeout)
                    .await
                    .map_err(|e| self.adapter.scrub(e.with_provider(PROVIDER)))?;
                if !(200..300).contains(&resp.status) {
                    return Err(self
                        .adapter
                        .map_error(resp.status, &resp.headers, &resp.body));
                }
                Ok((resp.headers, resp.body))
            })
            .buffered(EMBEDDING_CONCURRENCY)
            .try_collect()
            .await?;
        let upstream_headers = answers
            .last()
            .map(|(h, _)| capture_headers(h))
            .unwrap_or_default();
        let response = self
            .adapter
            .parse_embedding_responses(&req, &answers)
            .map_err(|e| self.adapter.scrub(e))?;
        Ok(EmbeddingOutput {
            response,
            upstream_headers,
        })
    }
}

/// The upstream body mapped through the event-stream decoder: each network read yields the
/// chunks it completes, in order; the stream ends after `metadata` or after one error item.
struct DecodedStream {
    body: Option<ByteStream>,
    decoder: BedrockStreamDecoder,
    pending: VecDeque<Result<ChatChunk, LlmError>>,
    adapter: Arc<BedrockAdapter>,
}

impl Stream for DecodedStream {
    type Item = Result<ChatChunk, LlmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item.map_err(|e| this.adapter.scrub(e))));
            }
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            if this.decoder.is_done() {
                // Drain what is already buffered so the connection can go back to the pool,
                // but never wait for more.
                while let Poll::Ready(Some(Ok(_))) = body.as_mut().poll_next(cx) {}
                this.body = None;
                return Poll::Ready(None);
            }
            match body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => this.decoder.feed(&bytes, &mut this.pending),
                Poll::Ready(Some(Err(err))) => {
                    this.body = None;
                    this.pending.push_back(Err(err.with_provider(PROVIDER)));
                }
                Poll::Ready(None) => {
                    this.body = None;
                    this.decoder.finish(&mut this.pending);
                }
            }
        }
    }
}

impl ModelBackend for BedrockBackend {
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
