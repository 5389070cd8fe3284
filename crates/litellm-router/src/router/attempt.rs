//! One attempt on one deployment: the call kinds the retry loop drives, their outputs, and the
//! upstream call itself with its timeout (for streams, until the first piece arrives, and then
//! between pieces, holding the in-flight slot until the stream is dropped).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};

use litellm_core::{
    CallContext, ChatRequest, ChatResponse, ChunkStream, EmbeddingRequest, EmbeddingResponse,
    ErrorKind, FamilyOutput, FamilyRequest, LlmError, NativeEventStream, NativeMessagesOutput,
    NativeMessagesRequest, UpstreamHeaders,
};

use super::registry::InFlight;
use super::Routing;
use crate::deployment::{secs_to_duration, Deployment};
use crate::observer::AttemptKind;
use crate::options::RequestOptions;

/// The call kinds the retry loop drives.
pub(super) enum Call {
    Chat(ChatRequest),
    Stream(ChatRequest),
    Embed(EmbeddingRequest),
    /// A native Anthropic Messages call (non-streaming or streaming, by its body).
    Native(NativeMessagesRequest),
    /// A JSON family call (rerank, moderations, image generation).
    Family(FamilyRequest),
}

impl Call {
    pub(super) fn is_stream(&self) -> bool {
        match self {
            Call::Stream(_) => true,
            Call::Native(r) => r.is_stream(),
            _ => false,
        }
    }

    pub(super) fn kind(&self) -> AttemptKind {
        match self {
            Call::Chat(_) => AttemptKind::Chat,
            Call::Stream(_) => AttemptKind::Stream,
            Call::Native(r) if r.is_stream() => AttemptKind::Stream,
            Call::Native(_) => AttemptKind::Chat,
            Call::Embed(_) => AttemptKind::Embedding,
            Call::Family(r) => AttemptKind::Family(r.family),
        }
    }

    /// The request's prompt size in tokens for `model` (see `tokens.rs`): exact for
    /// OpenAI-family models when `exact`, else estimated.
    pub(super) fn input_tokens(&self, model: &str, exact: bool) -> u64 {
        match self {
            Call::Chat(r) | Call::Stream(r) if exact => {
                crate::tokens::chat_prompt_tokens_for(model, r)
            }
            Call::Chat(r) | Call::Stream(r) => crate::tokens::chat_prompt_tokens(r),
            Call::Embed(r) => crate::tokens::embedding_input_tokens(&r.input),
            Call::Native(r) => r.input_tokens,
            // Family calls are not fitted to a context window.
            Call::Family(_) => 0,
        }
    }
}

pub(super) enum Output {
    Chat(Box<ChatResponse>),
    Stream(ChunkStream),
    Embed(Box<EmbeddingResponse>),
    Native(Box<NativeMessagesOutput>),
    NativeStream(NativeEventStream),
    Family(Box<FamilyOutput>),
}

impl Routing {
    pub(super) async fn attempt(
        &self,
        deployment: &Deployment,
        call: &Call,
        slot: InFlight,
        request: &RequestOptions,
    ) -> Result<(Output, UpstreamHeaders), LlmError> {
        let settings = &self.inner.settings;
        let timeout = deployment
            .timeout()
            .or_else(|| secs_to_duration(settings.timeout))
            .unwrap_or(Duration::from_secs(600));
        let timeout = request.timeout.map_or(timeout, |t| t.min(timeout));
        let ctx = CallContext {
            timeout: Some(timeout),
            extra_headers: request.extra_headers.clone(),
        };
        let provider = deployment.backend.provider().to_string();
        let timed_out = |d: Duration| {
            LlmError::upstream(
                ErrorKind::Timeout,
                format!(
                    "Request timed out after {:.1} s (model={})",
                    d.as_secs_f64(),
                    deployment.model()
                ),
            )
            .with_status(408)
            .with_provider(provider.clone())
        };
        // Streams: the wait for the first piece (the call included) has its own bound, and so
        // has every wait for the next piece.
        let first_timeout = deployment
            .stream_timeout()
            .or_else(|| settings.stream_timeout.and_then(secs_to_duration))
            .unwrap_or(timeout);
        let idle_error = |d: Duration| {
            LlmError::upstream(
                ErrorKind::Timeout,
                format!(
                    "The stream sent nothing for {:.1} s (stream_timeout; model={})",
                    d.as_secs_f64(),
                    deployment.model()
                ),
            )
            .with_status(408)
            .with_provider(provider.clone())
        };
        match call {
            Call::Chat(req) => {
                let fut = deployment.backend.chat(req.clone(), &ctx);
                let out = within(timeout, fut, &timed_out).await?;
                drop(slot);
                Ok((Output::Chat(Box::new(out.response)), out.upstream_headers))
            }
            Call::Embed(req) => {
                let fut = deployment.backend.embed(req.clone(), &ctx);
                let out = within(timeout, fut, &timed_out).await?;
                drop(slot);
                Ok((Output::Embed(Box::new(out.response)), out.upstream_headers))
            }
            Call::Family(req) => {
                let fut = deployment.backend.family(req.clone(), &ctx);
                let out = within(timeout, fut, &timed_out).await?;
                drop(slot);
                let headers = out.upstream_headers.clone();
                Ok((Output::Family(Box::new(out)), headers))
            }
            Call::Native(req) if !req.is_stream() => {
                let fut = deployment.backend.native_messages(req.clone(), &ctx);
                let out = within(timeout, fut, &timed_out).await?;
                drop(slot);
                let headers = out.upstream_headers.clone();
                Ok((Output::Native(Box::new(out)), headers))
            }
            Call::Native(req) => {
                let started = first_item(async {
                    let out = deployment
                        .backend
                        .native_messages_stream(req.clone(), &ctx)
                        .await?;
                    Ok((out.stream, out.upstream_headers))
                });
                let (first, rest, headers) = within(first_timeout, started, &timed_out).await?;
                let first = match first {
                    // An `error` event before anything else (overloaded, ...) fails the attempt.
                    Some(Ok(piece))
                        if piece.chunks.first().is_some_and(Result::is_err)
                            && !piece.chunks.iter().any(Result::is_ok) =>
                    {
                        return Err(piece
                            .chunks
                            .into_iter()
                            .find_map(Result::err)
                            .unwrap_or_else(|| LlmError::internal("stream failed")));
                    }
                    first => first,
                };
                let rest = IdleBounded::boxed(rest, first_timeout, idle_error(first_timeout));
                Ok((Output::NativeStream(resume(first, rest, slot)?), headers))
            }
            Call::Stream(req) => {
                let started = first_item(async {
                    let out = deployment.backend.chat_stream(req.clone(), &ctx).await?;
                    Ok((out.stream, out.upstream_headers))
                });
                let (first, rest, headers) = within(first_timeout, started, &timed_out).await?;
                let rest = IdleBounded::boxed(rest, first_timeout, idle_error(first_timeout));
                Ok((Output::Stream(resume(first, rest, slot)?), headers))
            }
        }
    }
}

/// A boxed stream of `T` or errors (a chat [`ChunkStream`], a [`NativeEventStream`]).
pub(super) type Pieces<T> = Pin<Box<dyn Stream<Item = Result<T, LlmError>> + Send>>;

/// A stream that ends with `error` when the next item takes longer than `idle` (one timer,
/// reset at each item).
pub(super) struct IdleBounded<T> {
    inner: Pieces<T>,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    error: Option<LlmError>,
}

impl<T: Send + 'static> IdleBounded<T> {
    pub(super) fn boxed(inner: Pieces<T>, idle: Duration, error: LlmError) -> Pieces<T> {
        Box::pin(IdleBounded {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            error: Some(error),
        })
    }
}

impl<T> Stream for IdleBounded<T> {
    type Item = Result<T, LlmError>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let Some(_) = self.error else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = self.inner.as_mut().poll_next(cx) {
            if item.is_none() {
                // Ended: never poll the inner stream again.
                self.error = None;
            } else {
                let deadline = tokio::time::Instant::now() + self.idle;
                self.timer.as_mut().reset(deadline);
            }
            return Poll::Ready(item);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(self.error.take().map(Err)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// `fut`, failed with `timed_out(limit)` when it takes longer than `limit`.
async fn within<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, LlmError>>,
    timed_out: impl Fn(Duration) -> LlmError,
) -> Result<T, LlmError> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| timed_out(limit))?
}

/// Starts a stream (`started`: the stream and its upstream headers) and waits for its first
/// item; returns that item (`None`: the stream ended empty), the rest and the headers.
async fn first_item<T>(
    started: impl Future<Output = Result<(Pieces<T>, UpstreamHeaders), LlmError>>,
) -> Result<(Option<Result<T, LlmError>>, Pieces<T>, UpstreamHeaders), LlmError> {
    let (mut stream, headers) = started.await?;
    let first = stream.next().await;
    Ok((first, stream, headers))
}

/// The stream again from its first item. A failure before the first item is an ordinary failed
/// attempt; the in-flight slot is held until the stream is dropped.
fn resume<T: Send + 'static>(
    first: Option<Result<T, LlmError>>,
    rest: Pieces<T>,
    slot: InFlight,
) -> Result<Pieces<T>, LlmError> {
    Ok(match first {
        Some(Err(e)) => return Err(e),
        Some(Ok(item)) => Box::pin(futures::stream::once(async { Ok(item) }).chain(rest).map(
            move |item| {
                let _held = &slot;
                item
            },
        )),
        None => Box::pin(futures::stream::empty()),
    })
}
