//! The Gemini `ModelBackend` (`gemini/` and the Gemini models of `vertex_ai/`): glues the
//! sans-IO [`GeminiAdapter`] to the [`Transport`]. Google AI Studio authenticates with the
//! adapter's `x-goog-api-key`; Vertex AI with an OAuth2 bearer token from a [`TokenSource`]
//! (fetched, then cached, before the call). Streams are fed through the decoder piece by piece as
//! the network delivers them ([`DecodedStream`], shared with Claude on Vertex).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use secrecy::SecretString;

use litellm_core::{
    BoxFuture, CallContext, ChatChunk, ChatOutput, ChatRequest, ChatStreamOutput, EmbeddingOutput,
    EmbeddingRequest, LlmError, ModelBackend,
};

use crate::anthropic::AnthropicStreamDecoder;
use crate::gemini::{CallOptions, GeminiAdapter, GeminiStreamDecoder};
use crate::mock::{mock_chat_chunks, mock_chat_response, mock_error, request_mock_response};
use crate::transport::{read_body, ByteStream, Transport};
use crate::upstream::capture_headers;
use crate::vertex_ai::TokenSource;

/// How much of an error body we read before mapping it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// How a Gemini deployment authenticates.
#[derive(Debug, Clone)]
pub enum GoogleAuth {
    /// Google AI Studio: the adapter's `x-goog-api-key` header.
    ApiKey,
    /// Vertex AI: an OAuth2 access token for a service account.
    Vertex(Arc<TokenSource>),
}

/// A Gemini deployment (AI Studio or Vertex AI).
#[derive(Debug, Clone)]
pub struct GeminiBackend {
    adapter: Arc<GeminiAdapter>,
    auth: GoogleAuth,
    transport: Transport,
}

impl GeminiBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: GeminiAdapter, auth: GoogleAuth, transport: Transport) -> Self {
        GeminiBackend {
            adapter: Arc::new(adapter),
            auth,
            transport,
        }
    }

    /// The adapter (for inspection).
    pub fn adapter(&self) -> &GeminiAdapter {
        &self.adapter
    }

    async fn bearer(&self, ctx: &CallContext) -> Result<Option<SecretString>, LlmError> {
        match &self.auth {
            GoogleAuth::ApiKey => Ok(None),
            GoogleAuth::Vertex(tokens) => {
                tokens.token(&self.transport, ctx.timeout).await.map(Some)
            }
        }
    }

    fn provider_err(&self, e: LlmError) -> LlmError {
        self.adapter.scrub(e.with_provider(self.adapter.provider()))
    }

    async fn chat_impl(&self, req: ChatRequest, ctx: &CallContext) -> Result<ChatOutput, LlmError> {
        let provider = self.adapter.provider();
        if let Some(text) = request_mock_response(&req) {
            return match mock_error(text, provider) {
                Some(err) => Err(err),
                None => Ok(ChatOutput {
                    response: mock_chat_response(text.to_string(), self.adapter.model(), &req),
                    upstream_headers: Vec::new(),
                }),
            };
        }
        let bearer = self.bearer(ctx).await?;
        let upstream =
            self.adapter
                .build_chat_request(req, false, &ctx.extra_headers, bearer.as_ref())?;
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
        let provider = self.adapter.provider();
        if let Some(text) = request_mock_response(&req) {
            if let Some(err) = mock_error(text, provider) {
                return Err(err);
            }
            let chunks = mock_chat_chunks(text, self.adapter.model(), &req);
            return Ok(ChatStreamOutput {
                stream: Box::pin(futures::stream::iter(chunks.into_iter().map(Ok))),
                upstream_headers: Vec::new(),
            });
        }
        let options = CallOptions::of(&req);
        let bearer = self.bearer(ctx).await?;
        let upstream =
            self.adapter
                .build_chat_request(req, true, &ctx.extra_headers, bearer.as_ref())?;
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
                provider,
                Some(self.adapter.clone()),
            )),
        })
    }

    async fn embed_impl(
        &self,
        req: EmbeddingRequest,
        ctx: &CallContext,
    ) -> Result<EmbeddingOutput, LlmError> {
        let bearer = self.bearer(ctx).await?;
        let upstream =
            self.adapter
                .build_embedding_request(&req, &ctx.extra_headers, bearer.as_ref())?;
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

impl ModelBackend for GeminiBackend {
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

/// An incremental decoder of a provider's event stream into OpenAI chunks.
pub trait ChunkDecoder: Send + Unpin {
    /// Feeds the next bytes; completed chunks and errors are appended to `out`.
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>);
    /// The bytes have ended.
    fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>);
    /// Whether nothing more will be produced.
    fn is_done(&self) -> bool;
}

impl ChunkDecoder for GeminiStreamDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        GeminiStreamDecoder::feed(self, bytes, out);
    }
    fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        GeminiStreamDecoder::finish(self, out);
    }
    fn is_done(&self) -> bool {
        GeminiStreamDecoder::is_done(self)
    }
}

impl ChunkDecoder for AnthropicStreamDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        AnthropicStreamDecoder::feed(self, bytes, out);
    }
    fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        AnthropicStreamDecoder::finish(self, out);
    }
    fn is_done(&self) -> bool {
        AnthropicStreamDecoder::is_done(self)
    }
}

/// The upstream body mapped through a decoder: each network read yields the chunks it
/// completes, in order; the stream ends when the decoder is done or after one error item. Errors
/// carry `provider` (and have the deployment's key scrubbed when a Gemini adapter is given).
pub struct DecodedStream<D> {
    body: Option<ByteStream>,
    decoder: D,
    pending: VecDeque<Result<ChatChunk, LlmError>>,
    provider: &'static str,
    adapter: Option<Arc<GeminiAdapter>>,
}

impl<D: ChunkDecoder> DecodedStream<D> {
    /// Decodes `body` with `decoder`.
    pub fn new(
        body: ByteStream,
        decoder: D,
        provider: &'static str,
        adapter: Option<Arc<GeminiAdapter>>,
    ) -> Self {
        DecodedStream {
            body: Some(body),
            decoder,
            pending: VecDeque::new(),
            provider,
            adapter,
        }
    }

    fn finish_error(&self, mut e: LlmError) -> LlmError {
        e.provider = Some(self.provider.to_string());
        match &self.adapter {
            Some(a) => a.scrub(e),
            None => e,
        }
    }
}

impl<D: ChunkDecoder> Stream for DecodedStream<D> {
    type Item = Result<ChatChunk, LlmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item.map_err(|e| this.finish_error(e))));
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
                    this.pending.push_back(Err(err));
                }
                Poll::Ready(None) => {
                    this.body = None;
                    this.decoder.finish(&mut this.pending);
                }
            }
        }
    }
}
