//! The OpenAI `ModelBackend`: glues the sans-IO [`OpenAiAdapter`] to the [`Transport`]. Builds
//! the request, sends it, maps a non-success status through the adapter, and for streams feeds
//! the body through the stream decoder piece by piece as the network delivers it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use litellm_core::{
    BoxFuture, CallContext, ChatChunk, ChatOutput, ChatRequest, ChatStreamOutput, EmbeddingOutput,
    EmbeddingRequest, LlmError, ModelBackend,
};

use crate::mock::{mock_chat_chunks, mock_chat_response, mock_error, request_mock_response};
use crate::openai::{ChatStreamDecoder, OpenAiAdapter, PROVIDER};
use crate::transport::{read_body, ByteStream, Transport};
use crate::upstream::capture_headers;

/// How much of an error body we read before mapping it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An OpenAI (or OpenAI-compatible) deployment.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    adapter: Arc<OpenAiAdapter>,
    transport: Transport,
}

impl OpenAiBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: OpenAiAdapter, transport: Transport) -> Self {
        OpenAiBackend {
            adapter: Arc::new(adapter),
            transport,
        }
    }

    /// The adapter (for inspection).
    pub fn adapter(&self) -> &OpenAiAdapter {
        &self.adapter
    }

    async fn chat_impl(&self, req: ChatRequest, ctx: &CallContext) -> Result<ChatOutput, LlmError> {
        if let Some(text) = request_mock_response(&req) {
            return match mock_error(text, self.adapter.provider()) {
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
            .map_err(|e| self.adapter.scrub(e.with_provider(PROVIDER)))?;
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
            if let Some(err) = mock_error(text, self.adapter.provider()) {
                return Err(err);
            }
            let chunks = mock_chat_chunks(text, self.adapter.model(), &req);
            return Ok(ChatStreamOutput {
                stream: Box::pin(futures::stream::iter(chunks.into_iter().map(Ok))),
                upstream_headers: Vec::new(),
            });
        }
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
                decoder: self.adapter.stream_decoder(),
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
        let wants_base64 = req.wants_base64();
        let upstream = self
            .adapter
            .build_embedding_request(req, &ctx.extra_headers)?;
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
            .parse_embedding_response(&resp.body, wants_base64)
            .map_err(|e| self.adapter.scrub(e))?;
        Ok(EmbeddingOutput {
            response,
            upstream_headers: capture_headers(&resp.headers),
        })
    }
}

/// The upstream body mapped through the stream decoder: each network read yields the chunks it
/// completes, in order; the stream ends at `[DONE]` or after one error item.
struct DecodedStream {
    /// `None` once the body is over (or abandoned after `[DONE]` or an error).
    body: Option<ByteStream>,
    decoder: ChatStreamDecoder,
    pending: VecDeque<Result<ChatChunk, LlmError>>,
    adapter: Arc<OpenAiAdapter>,
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
                // Drain what is already buffered (the end of the chunked body) so the
                // connection can go back to the pool, but never wait for more.
                while let Poll::Ready(Some(Ok(_))) = body.as_mut().poll_next(cx) {}
                this.body = None;
                return Poll::Ready(None);
            }
            match body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => this.decoder.feed(&bytes, &mut this.pending),
                Poll::Ready(Some(Err(err))) => {
                    this.body = None;
                    this.pending
                        .push_back(Err(this.adapter.scrub(err.with_provider(PROVIDER))));
                }
                Poll::Ready(None) => {
                    this.body = None;
                    this.decoder.finish(&mut this.pending);
                }
            }
        }
    }
}

impl ModelBackend for OpenAiBackend {
    fn provider(&self) -> &str {
        self.adapter.provider()
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
