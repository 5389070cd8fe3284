//! The skeleton every HTTP provider backend shares, written once: [`HttpAdapter`] is what a
//! sans-IO adapter offers (build a request, parse an answer, map an error status, scrub
//! credentials, decode a stream), and [`HttpBackend`] is the one `ModelBackend` joining any such
//! adapter to the [`Transport`]: the per-request `mock_response` short-circuit, an optional
//! bearer token from a [`BearerSource`] (Vertex AI's OAuth2 tokens), `send` / `send_streaming`, the status check (reading at most
//! [`MAX_ERROR_BODY`] of a failed stream's body), parsing, the passed-back upstream headers and
//! [`DecodedStream`], which feeds a streamed body through the adapter's [`ChunkDecoder`] as the
//! network delivers it. What really differs per provider (auth and signing, URLs, the wire
//! format) stays in the adapters and in each provider's `backend.rs` implementing the trait;
//! this module names no provider's decoder or token source.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use http::HeaderMap;
use secrecy::SecretString;

use litellm_core::{
    BoxFuture, CallContext, ChatChunk, ChatOutput, ChatRequest, ChatResponse, ChatStreamOutput,
    EmbeddingOutput, EmbeddingRequest, EmbeddingResponse, ErrorKind, Family, FamilyOutput,
    FamilyRequest, JsonMap, LlmError, ModelBackend, NativeMessagesOutput, NativeMessagesRequest,
    NativeMessagesStreamOutput,
};

use crate::backend_calls::boxed_backend_calls;
pub use crate::decoder::ChunkDecoder;
use crate::mock::{mock_chat_chunks, mock_chat_response, mock_error, request_mock_response};
use crate::transport::{read_body, ByteStream, Transport};
pub use crate::upstream::NativeCall;
use crate::upstream::{capture_headers, UpstreamRequest};

/// How much of an error body we read before mapping it.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// Embedding requests of one call in flight at once (Bedrock Titan sends one per input).
const EMBEDDING_CONCURRENCY: usize = 8;

/// Where a backend's bearer tokens come from (Vertex AI's service-account OAuth2 tokens): asked
/// before each call, cached by the source as it sees fit.
pub trait BearerSource: fmt::Debug + Send + Sync + 'static {
    /// A valid access token (`timeout`: the call's, for a token request the source sends).
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<SecretString, LlmError>>;
}

/// What a sans-IO adapter offers [`HttpBackend`]. The adapter builds requests and reads answers;
/// it never sends anything.
pub trait HttpAdapter: fmt::Debug + Send + Sync + 'static {
    /// What a call remembers of its request for reading the answer (`()` when nothing).
    type Options: Send;
    /// The stream decoder.
    type Decoder: ChunkDecoder;
    /// What an embeddings call remembers of its request for reading the answers.
    type EmbedContext: Send;

    /// The provider name (`ModelBackend::provider`, mock errors, transport errors).
    fn provider_name(&self) -> &'static str;
    /// The upstream model (named by mock responses).
    fn upstream_model(&self) -> &str;
    /// The upstream base URL (`ModelBackend::api_base`).
    fn upstream_base(&self) -> &str;
    /// Reads the call options off the request before it is consumed.
    fn call_options(&self, req: &ChatRequest) -> Self::Options;
    /// The chat request (`bearer`: the OAuth2 token, for backends built with a token source).
    fn chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError>;
    /// Parses a successful chat answer.
    fn chat_response(&self, body: &[u8], options: Self::Options) -> Result<ChatResponse, LlmError>;
    /// A decoder for a streamed answer.
    fn chunk_decoder(&self, options: Self::Options) -> Self::Decoder;
    /// Maps a non-success answer.
    fn status_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError;
    /// Removes credentials from an error (and names this adapter's provider where it does).
    fn scrub_error(&self, e: LlmError) -> LlmError;

    /// A transport failure: of a request, or of a stream's body mid-way.
    fn transport_error(&self, e: LlmError) -> LlmError {
        self.scrub_error(e.with_provider(self.provider_name()))
    }

    /// An error item of a stream, as it is handed to the caller.
    fn stream_error(&self, e: LlmError) -> LlmError {
        self.scrub_error(e)
    }

    /// Whether a request's `mock_response` is answered without calling the upstream.
    fn honours_mock_response(&self) -> bool {
        true
    }

    /// `Some(advice)` when the deployment has no embeddings: every embeddings call is then a 400
    /// naming `model`, with this message, before anything else happens.
    fn embeddings_refusal(&self) -> Option<&'static str> {
        None
    }

    /// The embeddings request(s), answered in this order.
    fn embedding_requests(
        &self,
        _req: EmbeddingRequest,
        _extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Result<(Vec<UpstreamRequest>, Self::EmbedContext), LlmError> {
        Err(no_embeddings(self))
    }

    /// The upstream request of a native Anthropic Messages call (`count` for `count_tokens`),
    /// for the adapters that speak Messages (`anthropic/`, Claude on Vertex AI); `None` for
    /// every other adapter (the default).
    fn native_request(
        &self,
        _body: JsonMap,
        _call: NativeCall,
        _forward_headers: &[(String, String)],
        _extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Option<Result<UpstreamRequest, LlmError>> {
        None
    }

    /// Whether [`HttpAdapter::native_request`] is implemented.
    fn speaks_native_messages(&self) -> bool {
        false
    }

    /// Whether the adapter serves a JSON endpoint family (see `families.rs`).
    fn serves_family(&self, _family: Family) -> bool {
        false
    }

    /// The upstream request of a family call (only for the families it serves).
    fn family_request(
        &self,
        req: &FamilyRequest,
        _extra_headers: &[(String, String)],
        _bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        Err(litellm_core::backend::not_served(
            self.provider_name(),
            req.family,
        ))
    }

    /// Reads a family call's successful answer.
    fn family_response(&self, req: &FamilyRequest, body: &[u8]) -> Result<FamilyOutput, LlmError> {
        crate::families::answer(req, body, self.provider_name())
    }

    /// Parses the successful answers of [`HttpAdapter::embedding_requests`], in order.
    fn embedding_response(
        &self,
        _answers: &[(HeaderMap, Bytes)],
        _context: Self::EmbedContext,
    ) -> Result<EmbeddingResponse, LlmError> {
        Err(no_embeddings(self))
    }
}

/// The [`HttpAdapter`] methods that forward to an adapter's usual inherent API unchanged
/// (`model`, `api_base`, `map_error`, `scrub`), written inside an `impl HttpAdapter`; with
/// `build_chat_request`, also `chat_request` (`bearer`: handing the adapter the bearer token).
macro_rules! inherent_adapter_methods {
    () => {
        fn upstream_model(&self) -> &str {
            self.model()
        }
        fn upstream_base(&self) -> &str {
            self.api_base()
        }
        fn status_error(
            &self,
            status: u16,
            headers: &http::HeaderMap,
            body: &[u8],
        ) -> litellm_core::LlmError {
            self.map_error(status, headers, body)
        }
        fn scrub_error(&self, e: litellm_core::LlmError) -> litellm_core::LlmError {
            self.scrub(e)
        }
    };
    (build_chat_request) => {
        $crate::backend_common::inherent_adapter_methods!();
        fn chat_request(
            &self,
            req: litellm_core::ChatRequest,
            stream: bool,
            extra_headers: &[(String, String)],
            _bearer: Option<&secrecy::SecretString>,
        ) -> Result<$crate::upstream::UpstreamRequest, litellm_core::LlmError> {
            self.build_chat_request(req, stream, extra_headers)
        }
    };
    (build_chat_request, bearer) => {
        $crate::backend_common::inherent_adapter_methods!();
        fn chat_request(
            &self,
            req: litellm_core::ChatRequest,
            stream: bool,
            extra_headers: &[(String, String)],
            bearer: Option<&secrecy::SecretString>,
        ) -> Result<$crate::upstream::UpstreamRequest, litellm_core::LlmError> {
            self.build_chat_request(req, stream, extra_headers, bearer)
        }
    };
}
pub(crate) use inherent_adapter_methods;

/// A deployment type served by [`HttpBackend`] without bearer tokens, with its `new` (and, given
/// in braces, the adapter's [`HttpAdapter`] items).
macro_rules! http_backend_type {
    ($(#[$doc:meta])* $name:ident = $adapter:ty { $($items:tt)* }) => {
        $crate::backend_common::http_backend_type!($(#[$doc])* $name = $adapter);

        impl $crate::backend_common::HttpAdapter for $adapter {
            $($items)*
        }
    };
    ($(#[$doc:meta])* $name:ident = $adapter:ty) => {
        $(#[$doc])*
        pub type $name = $crate::backend_common::HttpBackend<$adapter>;

        impl $name {
            /// A backend sending through `transport`.
            pub fn new(adapter: $adapter, transport: $crate::transport::Transport) -> Self {
                $crate::backend_common::HttpBackend::with_tokens(adapter, None, transport)
            }
        }
    };
}
pub(crate) use http_backend_type;

/// The [`HttpAdapter`] items a native-format adapter forwards to its inherent methods: the
/// `Options` (its `CallOptions`) and `Decoder` types, the provider name (`[PROVIDER]`, or `[]` for the adapter's `provider()`), the per-call
/// `CallOptions`, the response parser (given the options with `with_options`) and the stream
/// decoder.
macro_rules! native_adapter_methods {
    ([$($provider:expr)?], $decoder:ty, with_options) => {
        $crate::backend_common::native_adapter_methods!(@common [$($provider)?], $decoder);
        fn chat_response(
            &self,
            body: &[u8],
            options: CallOptions,
        ) -> Result<litellm_core::ChatResponse, litellm_core::LlmError> {
            self.parse_chat_response(body, options)
        }
    };
    ([$($provider:expr)?], $decoder:ty) => {
        $crate::backend_common::native_adapter_methods!(@common [$($provider)?], $decoder);
        fn chat_response(
            &self,
            body: &[u8],
            _options: CallOptions,
        ) -> Result<litellm_core::ChatResponse, litellm_core::LlmError> {
            self.parse_chat_response(body)
        }
    };
    (@name []) => {
        fn provider_name(&self) -> &'static str {
            self.provider()
        }
    };
    (@name [$provider:expr]) => {
        fn provider_name(&self) -> &'static str {
            $provider
        }
    };
    (@common [$($provider:expr)?], $decoder:ty) => {
        type Options = CallOptions;
        type Decoder = $decoder;
        $crate::backend_common::native_adapter_methods!(@name [$($provider)?]);
        fn call_options(&self, req: &litellm_core::ChatRequest) -> CallOptions {
            CallOptions::of(req)
        }
        fn chunk_decoder(&self, options: CallOptions) -> $decoder {
            self.stream_decoder(options)
        }
    };
}
pub(crate) use native_adapter_methods;

/// The [`HttpAdapter`] embedding items of an adapter that embeds all inputs in one request, with
/// the request as `EmbedContext` (`bearer`: its request builder takes the bearer token).
macro_rules! single_embedding_methods {
    ($($bearer:ident)?) => {
        $crate::backend_common::single_embedding_methods!(@response);
        fn embedding_requests(
            &self,
            req: litellm_core::EmbeddingRequest,
            extra_headers: &[(String, String)],
            bearer: Option<&secrecy::SecretString>,
        ) -> Result<
            (Vec<$crate::upstream::UpstreamRequest>, litellm_core::EmbeddingRequest),
            litellm_core::LlmError,
        > {
            let upstream = $crate::backend_common::single_embedding_methods!(
                @build self, req, extra_headers, bearer $(, $bearer)?
            )?;
            Ok((vec![upstream], req))
        }
    };
    (@build $this:ident, $req:ident, $headers:ident, $token:ident) => {{
        let _ = $token;
        $this.build_embedding_request(&$req, $headers)
    }};
    (@build $this:ident, $req:ident, $headers:ident, $token:ident, bearer) => {
        $this.build_embedding_request(&$req, $headers, $token)
    };
    (@response) => {
        type EmbedContext = litellm_core::EmbeddingRequest;
        fn embedding_response(
            &self,
            answers: &[(http::HeaderMap, bytes::Bytes)],
            req: litellm_core::EmbeddingRequest,
        ) -> Result<litellm_core::EmbeddingResponse, litellm_core::LlmError> {
            self.parse_embedding_response($crate::backend_common::single_answer(answers), &req)
        }
    };
}
pub(crate) use single_embedding_methods;

/// The 400 of an adapter without embeddings.
fn no_embeddings<A: HttpAdapter + ?Sized>(adapter: &A) -> LlmError {
    let message = adapter
        .embeddings_refusal()
        .unwrap_or("this provider offers no embeddings API");
    let mut e =
        LlmError::client(ErrorKind::BadRequest, message).with_provider(adapter.provider_name());
    e.param = Some("model".into());
    e
}

/// The body of the only answer of a one-request embeddings call.
pub fn single_answer(answers: &[(HeaderMap, Bytes)]) -> &[u8] {
    answers
        .last()
        .map(|(_, body)| &body[..])
        .unwrap_or_default()
}

/// A deployment of any [`HttpAdapter`], sending through the shared transport.
pub struct HttpBackend<A> {
    adapter: Arc<A>,
    tokens: Option<Arc<dyn BearerSource>>,
    transport: Transport,
}

impl<A> Clone for HttpBackend<A> {
    fn clone(&self) -> Self {
        HttpBackend {
            adapter: self.adapter.clone(),
            tokens: self.tokens.clone(),
            transport: self.transport.clone(),
        }
    }
}

impl<A: fmt::Debug> fmt::Debug for HttpBackend<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBackend")
            .field("adapter", &self.adapter)
            .field("tokens", &self.tokens)
            .field("transport", &self.transport)
            .finish()
    }
}

impl<A: HttpAdapter> HttpBackend<A> {
    /// A backend sending through `transport`; with `tokens`, each call first gets an OAuth2
    /// access token (cached by the source) and hands it to the adapter.
    pub fn with_tokens(
        adapter: A,
        tokens: Option<Arc<dyn BearerSource>>,
        transport: Transport,
    ) -> Self {
        HttpBackend {
            adapter: Arc::new(adapter),
            tokens,
            transport,
        }
    }

    /// The adapter (for inspection).
    pub fn adapter(&self) -> &A {
        &self.adapter
    }

    async fn bearer(&self, ctx: &CallContext) -> Result<Option<SecretString>, LlmError> {
        match &self.tokens {
            None => Ok(None),
            Some(tokens) => tokens.token(&self.transport, ctx.timeout).await.map(Some),
        }
    }

    /// The request's `mock_response`, when the adapter answers it locally.
    fn mock<'r>(&self, req: &'r ChatRequest) -> Option<&'r str> {
        request_mock_response(req).filter(|_| self.adapter.honours_mock_response())
    }

    /// Sends `upstream` and reads the whole answer; a non-success status is mapped.
    async fn send(
        &self,
        upstream: UpstreamRequest,
        ctx: &CallContext,
    ) -> Result<(HeaderMap, Bytes), LlmError> {
        let resp = self
            .transport
            .send(upstream, ctx.timeout)
            .await
            .map_err(|e| self.adapter.transport_error(e))?;
        if !(200..300).contains(&resp.status) {
            return Err(self
                .adapter
                .status_error(resp.status, &resp.headers, &resp.body));
        }
        Ok((resp.headers, resp.body))
    }

    /// Sends `upstream` for a streamed answer; a non-success status is mapped (reading at most
    /// [`MAX_ERROR_BODY`] of its body).
    async fn send_streaming(
        &self,
        upstream: UpstreamRequest,
        ctx: &CallContext,
    ) -> Result<crate::transport::StreamingResponse, LlmError> {
        let resp = self
            .transport
            .send_streaming(upstream, ctx.timeout)
            .await
            .map_err(|e| self.adapter.transport_error(e))?;
        if !(200..300).contains(&resp.status) {
            let body = read_body(resp.body, ctx.timeout, MAX_ERROR_BODY).await;
            return Err(self.adapter.status_error(resp.status, &resp.headers, &body));
        }
        Ok(resp)
    }

    async fn chat_impl(&self, req: ChatRequest, ctx: &CallContext) -> Result<ChatOutput, LlmError> {
        if let Some(text) = self.mock(&req) {
            return match mock_error(text, self.adapter.provider_name()) {
                Some(err) => Err(err),
                None => Ok(ChatOutput {
                    response: mock_chat_response(
                        text.to_string(),
                        self.adapter.upstream_model(),
                        &req,
                    ),
                    upstream_headers: Vec::new(),
                }),
            };
        }
        let options = self.adapter.call_options(&req);
        let bearer = self.bearer(ctx).await?;
        let upstream =
            self.adapter
                .chat_request(req, false, &ctx.extra_headers, bearer.as_ref())?;
        let (headers, body) = self.send(upstream, ctx).await?;
        let response = self
            .adapter
            .chat_response(&body, options)
            .map_err(|e| self.adapter.scrub_error(e))?;
        Ok(ChatOutput {
            response,
            upstream_headers: capture_headers(&headers),
        })
    }

    async fn chat_stream_impl(
        &self,
        req: ChatRequest,
        ctx: &CallContext,
    ) -> Result<ChatStreamOutput, LlmError> {
        if let Some(text) = self.mock(&req) {
            if let Some(err) = mock_error(text, self.adapter.provider_name()) {
                return Err(err);
            }
            let chunks = mock_chat_chunks(text, self.adapter.upstream_model(), &req);
            return Ok(ChatStreamOutput {
                stream: Box::pin(futures::stream::iter(chunks.into_iter().map(Ok))),
                upstream_headers: Vec::new(),
            });
        }
        let options = self.adapter.call_options(&req);
        let bearer = self.bearer(ctx).await?;
        let upstream = self
            .adapter
            .chat_request(req, true, &ctx.extra_headers, bearer.as_ref())?;
        let resp = self.send_streaming(upstream, ctx).await?;
        Ok(ChatStreamOutput {
            upstream_headers: capture_headers(&resp.headers),
            stream: Box::pin(DecodedStream {
                body: Some(resp.body),
                decoder: self.adapter.chunk_decoder(options),
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
        if self.adapter.embeddings_refusal().is_some() {
            return Err(no_embeddings(&*self.adapter));
        }
        let bearer = self.bearer(ctx).await?;
        let (requests, context) =
            self.adapter
                .embedding_requests(req, &ctx.extra_headers, bearer.as_ref())?;
        let answers: Vec<(HeaderMap, Bytes)> = futures::stream::iter(requests)
            .map(|upstream| self.send(upstream, ctx))
            .buffered(EMBEDDING_CONCURRENCY)
            .try_collect()
            .await?;
        let upstream_headers = answers
            .last()
            .map(|(h, _)| capture_headers(h))
            .unwrap_or_default();
        let response = self
            .adapter
            .embedding_response(&answers, context)
            .map_err(|e| self.adapter.scrub_error(e))?;
        Ok(EmbeddingOutput {
            response,
            upstream_headers,
        })
    }
}

/// Native Messages calls (see `anthropic_native`).
impl<A: HttpAdapter> HttpBackend<A> {
    async fn native_upstream(
        &self,
        req: NativeMessagesRequest,
        call: NativeCall,
        ctx: &CallContext,
    ) -> Result<UpstreamRequest, LlmError> {
        let bearer = self.bearer(ctx).await?;
        self.adapter
            .native_request(
                req.body,
                call,
                &req.forward_headers,
                &ctx.extra_headers,
                bearer.as_ref(),
            )
            .unwrap_or_else(|| {
                Err(LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "{} deployments do not take native Anthropic Messages requests",
                        self.adapter.provider_name()
                    ),
                ))
            })
    }

    async fn native_impl(
        &self,
        req: NativeMessagesRequest,
        ctx: &CallContext,
    ) -> Result<NativeMessagesOutput, LlmError> {
        let upstream = self
            .native_upstream(req, NativeCall::Messages { stream: false }, ctx)
            .await?;
        let (headers, body) = self.send(upstream, ctx).await?;
        let (body, usage, model) = crate::anthropic::native::message_usage(&body)
            .map_err(|e| self.adapter.scrub_error(e))?;
        Ok(NativeMessagesOutput {
            body,
            usage,
            model,
            upstream_headers: capture_headers(&headers),
        })
    }

    async fn native_stream_impl(
        &self,
        req: NativeMessagesRequest,
        ctx: &CallContext,
    ) -> Result<NativeMessagesStreamOutput, LlmError> {
        let upstream = self
            .native_upstream(req, NativeCall::Messages { stream: true }, ctx)
            .await?;
        let resp = self.send_streaming(upstream, ctx).await?;
        let adapter = self.adapter.clone();
        let model = self.adapter.upstream_model().to_string();
        Ok(NativeMessagesStreamOutput {
            upstream_headers: capture_headers(&resp.headers),
            stream: crate::anthropic::native_stream::native_events(resp.body, &model, move |e| {
                adapter.stream_error(e)
            }),
        })
    }

    async fn native_count_impl(
        &self,
        req: NativeMessagesRequest,
        ctx: &CallContext,
    ) -> Result<u64, LlmError> {
        let upstream = self
            .native_upstream(req, NativeCall::CountTokens, ctx)
            .await?;
        let (_, body) = self.send(upstream, ctx).await?;
        crate::anthropic::native::counted_tokens(&body).map_err(|e| self.adapter.scrub_error(e))
    }
}

/// JSON family calls (`families.rs`).
impl<A: HttpAdapter> HttpBackend<A> {
    async fn family_impl(
        &self,
        req: FamilyRequest,
        ctx: &CallContext,
    ) -> Result<FamilyOutput, LlmError> {
        let adapter = self.adapter();
        if !adapter.serves_family(req.family) {
            let e = litellm_core::backend::not_served(adapter.provider_name(), req.family);
            return Err(e);
        }
        let bearer = self.bearer(ctx).await?;
        let upstream = self
            .adapter()
            .family_request(&req, &ctx.extra_headers, bearer.as_ref())?;
        let (headers, body) = self.send(upstream, ctx).await?;
        let mut out = self
            .adapter()
            .family_response(&req, &body)
            .map_err(|e| self.adapter().scrub_error(e))?;
        out.upstream_headers = capture_headers(&headers);
        Ok(out)
    }
}

impl<A: HttpAdapter> ModelBackend for HttpBackend<A> {
    fn provider(&self) -> &str {
        self.adapter.provider_name()
    }

    fn api_base(&self) -> Option<&str> {
        Some(self.adapter.upstream_base())
    }

    fn native_messages_supported(&self) -> bool {
        self.adapter.speaks_native_messages()
    }

    fn serves(&self, family: Family) -> bool {
        self.adapter.serves_family(family)
    }

    boxed_backend_calls! {
        async chat(ChatRequest) -> ChatOutput = chat_impl;
        async chat_stream(ChatRequest) -> ChatStreamOutput = chat_stream_impl;
        async embed(EmbeddingRequest) -> EmbeddingOutput = embed_impl;
        async native_messages(NativeMessagesRequest) -> NativeMessagesOutput = native_impl;
        async native_messages_stream(NativeMessagesRequest) -> NativeMessagesStreamOutput
            = native_stream_impl;
        async native_count_tokens(NativeMessagesRequest) -> u64 = native_count_impl;
        async family(FamilyRequest) -> FamilyOutput = family_impl;
    }
}

/// The upstream body mapped through the adapter's decoder: each network read yields the chunks
/// it completes, in order; the stream ends when the decoder is done or after one error item.
/// A body failure becomes [`HttpAdapter::transport_error`]; every error item passes through
/// [`HttpAdapter::stream_error`].
pub struct DecodedStream<A: HttpAdapter> {
    /// `None` once the body is over (or abandoned after the end event or an error).
    body: Option<ByteStream>,
    decoder: A::Decoder,
    pending: VecDeque<Result<ChatChunk, LlmError>>,
    adapter: Arc<A>,
}

impl<A: HttpAdapter> Stream for DecodedStream<A> {
    type Item = Result<ChatChunk, LlmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item.map_err(|e| this.adapter.stream_error(e))));
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
                        .push_back(Err(this.adapter.transport_error(err)));
                }
                Poll::Ready(None) => {
                    this.body = None;
                    this.decoder.finish(&mut this.pending);
                }
            }
        }
    }
}
