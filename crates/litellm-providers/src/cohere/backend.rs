//! The Cohere `ModelBackend` (`cohere/`): the sans-IO [`CohereAdapter`] served by the shared
//! [`HttpBackend`]. Chat and embeddings are one request each; streams are fed through the
//! [`CohereStreamDecoder`] piece by piece as the network delivers them.
//!
//! [`HttpBackend`]: crate::backend_common::HttpBackend

use litellm_core::LlmError;

use crate::backend_common::{
    http_backend_type, inherent_adapter_methods, native_adapter_methods, single_embedding_methods,
};
use crate::cohere::{CallOptions, CohereAdapter, CohereStreamDecoder, PROVIDER};

http_backend_type! {
    /// A Cohere deployment.
    CohereBackend = CohereAdapter {
        inherent_adapter_methods!(build_chat_request);
        native_adapter_methods!([PROVIDER], CohereStreamDecoder);
        /// Stream error items are named `cohere` and otherwise passed on as the decoder made them.
        fn stream_error(&self, e: LlmError) -> LlmError {
            e.with_provider(PROVIDER)
        }
        single_embedding_methods!();
    }
}
