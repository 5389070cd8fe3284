//! The `ModelBackend` seam: what the router calls and what every provider (HTTP adapters and the
//! built-in `mock`) implements. One backend serves one deployment: it already knows its model,
//! endpoint and credentials, so a call carries only the request and per-call options.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;

use crate::chat::{ChatChunk, ChatRequest, ChatResponse};
use crate::embeddings::{EmbeddingRequest, EmbeddingResponse};
use crate::error::{ErrorKind, LlmError};
use crate::family::{Family, FamilyOutput, FamilyRequest};
use crate::messages::{NativeMessagesOutput, NativeMessagesRequest, NativeMessagesStreamOutput};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Chat chunks as the upstream produces them. The stream ends after the last chunk; an error
/// item ends it early (the server then writes an in-band error event).
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<ChatChunk, LlmError>> + Send>>;

/// Response headers of the upstream worth passing back to the client (rate-limit headers and
/// the like), as lower-case name and value. Hop-by-hop and framing headers are not included.
pub type UpstreamHeaders = Vec<(String, String)>;

/// Per-call options decided above the backend (by the router or the server).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The whole call must finish within this (non-streaming calls).
    pub timeout: Option<Duration>,
    /// Extra headers to send upstream for this call only.
    pub extra_headers: Vec<(String, String)>,
}

/// A non-streaming chat result.
#[derive(Debug, Clone)]
pub struct ChatOutput {
    pub response: ChatResponse,
    pub upstream_headers: UpstreamHeaders,
}

/// A streaming chat result: the upstream has answered with a success status.
pub struct ChatStreamOutput {
    pub stream: ChunkStream,
    pub upstream_headers: UpstreamHeaders,
}

crate::debug_fields!(ChatStreamOutput { upstream_headers });

/// An embeddings result.
#[derive(Debug, Clone)]
pub struct EmbeddingOutput {
    pub response: EmbeddingResponse,
    pub upstream_headers: UpstreamHeaders,
}

/// One deployment's model, however it is reached.
///
/// Invariants: a backend never retries or falls back (the router does); it maps every failure to
/// an `LlmError` with the right `ErrorKind`; it never puts credentials in an error or a log.
pub trait ModelBackend: Send + Sync {
    /// The provider name (`openai`, `mock`, ...), for headers, logs and spend records.
    fn provider(&self) -> &str;

    /// The upstream base URL, if the backend has one (for `x-litellm-model-api-base`).
    fn api_base(&self) -> Option<&str>;

    /// A non-streaming chat completion. `req.model` is the caller's name; the backend sends its
    /// own configured model upstream.
    fn chat<'a>(
        &'a self,
        req: ChatRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<ChatOutput, LlmError>>;

    /// A streaming chat completion. Resolves once the upstream has accepted the request.
    fn chat_stream<'a>(
        &'a self,
        req: ChatRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<ChatStreamOutput, LlmError>>;

    /// Embeddings.
    fn embed<'a>(
        &'a self,
        req: EmbeddingRequest,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<EmbeddingOutput, LlmError>>;

    /// Whether this backend speaks Anthropic's Messages API natively (the `native_*` calls).
    fn native_messages_supported(&self) -> bool {
        false
    }

    /// A native Messages call: the client's body, sent unchanged but for what the deployment
    /// must set; the upstream's body back unchanged.
    fn native_messages<'a>(
        &'a self,
        _req: NativeMessagesRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<NativeMessagesOutput, LlmError>> {
        Box::pin(async move { Err(no_native(self.provider())) })
    }

    /// A streaming native Messages call: the upstream's events as it sends them.
    fn native_messages_stream<'a>(
        &'a self,
        _req: NativeMessagesRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<NativeMessagesStreamOutput, LlmError>> {
        Box::pin(async move { Err(no_native(self.provider())) })
    }

    /// The upstream's own token count of a Messages body (Anthropic's `count_tokens`).
    fn native_count_tokens<'a>(
        &'a self,
        _req: NativeMessagesRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<u64, LlmError>> {
        Box::pin(async move { Err(no_native(self.provider())) })
    }

    /// Whether this backend serves `family` (rerank, moderations, image generation).
    fn serves(&self, _family: Family) -> bool {
        false
    }

    /// A family call: the client's body, with the deployment's model; the upstream's answer in
    /// the family's shape.
    fn family<'a>(
        &'a self,
        req: FamilyRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<FamilyOutput, LlmError>> {
        Box::pin(async move { Err(not_served(self.provider(), req.family)) })
    }
}

/// The refusal of a family call by a backend that does not serve it: a 400 naming the provider
/// and the family.
pub fn not_served(provider: &str, family: Family) -> LlmError {
    LlmError::client(
        ErrorKind::BadRequest,
        format!(
            "{provider} deployments do not serve {} (see docs/endpoints.md for the providers that do)",
            family.label()
        ),
    )
    .with_provider(provider.to_string())
}

/// The refusal of a native call by a backend that has none.
fn no_native(provider: &str) -> LlmError {
    LlmError::client(
        ErrorKind::BadRequest,
        format!("{provider} deployments do not take native Anthropic Messages requests"),
    )
    .with_provider(provider.to_string())
}
