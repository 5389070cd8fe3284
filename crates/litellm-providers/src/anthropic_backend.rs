//! The Anthropic `ModelBackend`: glues the sans-IO [`AnthropicAdapter`] to the [`Transport`].
//! Builds the Messages request, sends it, maps a non-success status through the adapter, and for
//! streams feeds the body through the event decoder piece by piece as the network delivers it.
//! Embeddings are refused with a 400 (Anthropic has no embeddings API).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use litellm_core::{
    BoxFuture, CallContext, ChatChunk, ChatOutput, ChatRequest, ChatStreamOutput, EmbeddingOutput,
    EmbeddingRequest, ErrorKind, LlmError, ModelBackend,
};

use crate::anthropic::{AnthropicAdapter, AnthropicStreamDecoder, CallOptions, PROVIDER};
use crate::mock::{mock_chat_chunks, mock_chat_response, mock_error, request_mock_response};
use crate::transport::{read_body, ByteStream, Transport};
use crate::upstream::capture_headers;

/// How much of an error body we read before mapping it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An Anthropic deployment.
#[derive(Debug, Clone)]
pub struct AnthropicBackend {
    adapter: Arc<AnthropicAdapter>,
    transport: Transport,
}

impl AnthropicBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: AnthropicAdapter, transport: Transport) -> Self {
        AnthropicBackend {
            adapter: Arc::new(adapter),
            transport,
        }
    }

    /// The adapter (for inspection).
    pub fn adapter(&self) -> &AnthropicAdapter {
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
}

/// The upstream body mapped through the event decoder: each network read yields the chunks it
/// completes, in order; the stream ends at `message_stop` or after one error item.
struct DecodedStream {
    body: Option<ByteStream>,
    decoder: AnthropicStreamDecoder,
    pending: VecDeque<Result<ChatChunk, LlmError>>,
    adapter: Arc<AnthropicAdapter>,
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

impl ModelBackend for AnthropicBackend {
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
        _req: EmbeddingRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<EmbeddingOutput, LlmError>> {
        Box::pin(async {
            let mut e = LlmError::client(
                ErrorKind::BadRequest,
                "anthropic does not offer an embeddings API; use an embedding model of another \
                 provider (openai/, cohere/, gemini/, ...)",
            )
            .with_provider(PROVIDER);
            e.param = Some("model".into());
            Err(e)
        })
    }
}
