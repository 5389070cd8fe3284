//! The Ollama `ModelBackend` (`ollama/` and `ollama_chat/`): the sans-IO [`OllamaAdapter`] served
//! by the shared [`HttpBackend`]. Chat and embeddings are one request each; NDJSON streams are fed
//! through the [`OllamaStreamDecoder`] piece by piece as the network delivers them.
//!
//! [`HttpBackend`]: crate::backend_common::HttpBackend

use litellm_core::LlmError;

use crate::backend_common::{
    http_backend_type, inherent_adapter_methods, native_adapter_methods, single_embedding_methods,
};
use crate::ollama::{CallOptions, OllamaAdapter, OllamaStreamDecoder};

http_backend_type! {
    /// An Ollama deployment (`/api/generate` or `/api/chat`).
    OllamaBackend = OllamaAdapter {
        inherent_adapter_methods!(build_chat_request);
        native_adapter_methods!([], OllamaStreamDecoder, with_options);
        /// Stream error items are named `ollama` / `ollama_chat` and otherwise passed on as made.
        fn stream_error(&self, e: LlmError) -> LlmError {
            e.with_provider(self.provider())
        }
        single_embedding_methods!();
    }
}
