//! litellm-core (layer 0): the OpenAI wire types every other crate speaks, the canonical
//! `Usage`, the `ErrorKind` taxonomy the router acts on, and the `ModelBackend` seam between
//! providers and the router.
//!
//! Architecture invariant: this crate does no IO and knows no async runtime. It depends only on
//! serde, thiserror, futures-core (for the `Stream` trait) and utoipa (schema derives).

pub mod backend;
pub mod chat;
pub mod embeddings;
pub mod error;
pub mod family;
mod macros;
pub mod messages;
pub mod models;
pub mod usage;

pub use backend::{
    BoxFuture, CallContext, ChatOutput, ChatStreamOutput, ChunkStream, EmbeddingOutput,
    ModelBackend, UpstreamHeaders,
};
pub use chat::*;
pub use embeddings::*;
pub use error::{ErrorKind, ErrorSource, LlmError};
pub use family::{Family, FamilyOutput, FamilyRequest, Units};
pub use messages::{
    NativeEventStream, NativeMessagesOutput, NativeMessagesRequest, NativeMessagesStreamOutput,
    NativeStreamPiece,
};
pub use models::{ModelList, ModelObject};
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Usage};

/// A JSON object with its keys in insertion order; used for fields we forward untouched.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Seconds since the Unix epoch, as OpenAI's `created` fields carry them.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
