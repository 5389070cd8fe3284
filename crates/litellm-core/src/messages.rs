//! Native Anthropic Messages calls: the types of a `/v1/messages` request that travels to an
//! Anthropic-family deployment (Anthropic, Claude on Vertex AI) unchanged, and of its answer.
//! The body is the client's own JSON object; a backend changes only what the deployment must
//! set (its model, Vertex's `anthropic_version`) and answers with the upstream's body or its
//! event stream as received. Usage rides beside the raw answer, in our canonical [`Usage`], so
//! the server can bill it without reading the body again.

use std::pin::Pin;

use futures_core::Stream;

use crate::chat::ChatChunk;
use crate::error::LlmError;
use crate::usage::Usage;
use crate::JsonMap;
use crate::UpstreamHeaders;

/// A Messages request in Anthropic's own shape, for a backend that speaks it natively.
#[derive(Debug, Clone, Default)]
pub struct NativeMessagesRequest {
    /// The request body as the client sent it (`model` is the caller's name; the backend sends
    /// its own). Gateway-only fields (`fallbacks`, `num_retries`, `mock_response`, ...) are
    /// removed before it reaches a backend.
    pub body: JsonMap,
    /// Client headers forwarded upstream (`anthropic-beta`, `anthropic-version`), lower-case.
    pub forward_headers: Vec<(String, String)>,
    /// The prompt size estimate (tokens), for routing and pre-call checks.
    pub input_tokens: u64,
}

impl NativeMessagesRequest {
    /// Whether the client asked for an event stream.
    pub fn is_stream(&self) -> bool {
        self.body
            .get("stream")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}

/// A non-streaming native answer: the upstream's `message` body, unchanged.
#[derive(Debug, Clone)]
pub struct NativeMessagesOutput {
    pub body: serde_json::Value,
    /// The body's usage in our terms (`prompt_tokens` counts cache reads and writes).
    pub usage: Usage,
    /// The model the upstream reports.
    pub model: String,
    pub upstream_headers: UpstreamHeaders,
}

/// A piece of a native event stream: complete SSE events exactly as the upstream framed them
/// (`event:` / `data:` lines and the blank line), and the OpenAI chunks the same bytes decode to
/// (text, tool calls, the usage), which the gateway uses for accounting only.
#[derive(Debug, Clone, Default)]
pub struct NativeStreamPiece {
    pub sse: String,
    pub chunks: Vec<Result<ChatChunk, LlmError>>,
}

/// A native event stream; an error item is a transport failure mid-way (the upstream's own
/// `error` events arrive as pieces, with an error among their chunks).
pub type NativeEventStream =
    Pin<Box<dyn Stream<Item = Result<NativeStreamPiece, LlmError>> + Send>>;

/// A streaming native answer: the upstream accepted the request.
pub struct NativeMessagesStreamOutput {
    pub stream: NativeEventStream,
    pub upstream_headers: UpstreamHeaders,
}

crate::debug_fields!(NativeMessagesStreamOutput { upstream_headers });
