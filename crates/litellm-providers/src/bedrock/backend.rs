//! The Bedrock `ModelBackend`: the sans-IO [`BedrockAdapter`] served by the shared
//! [`HttpBackend`]. The adapter builds and signs (SigV4) the Converse request; the backend sends
//! it, maps a non-success status through the adapter, and for streams feeds the binary event
//! stream through the [`BedrockStreamDecoder`] piece by piece as the network delivers it.
//! Embeddings go through InvokeModel (Titan: one request per input, sent a few at a time;
//! Cohere: one request).
//!
//! [`HttpBackend`]: crate::backend_common::HttpBackend

use bytes::Bytes;
use http::HeaderMap;
use secrecy::SecretString;

use litellm_core::{EmbeddingRequest, EmbeddingResponse, LlmError};

use super::BedrockStreamDecoder;
use crate::backend_common::{http_backend_type, inherent_adapter_methods, native_adapter_methods};
use crate::bedrock::{BedrockAdapter, CallOptions, PROVIDER};
use crate::upstream::UpstreamRequest;

http_backend_type! {
    /// A Bedrock deployment.
    BedrockBackend = BedrockAdapter {
        type EmbedContext = EmbeddingRequest;

        inherent_adapter_methods!(build_chat_request);
        native_adapter_methods!([PROVIDER], BedrockStreamDecoder, with_options);
        fn embedding_requests(
            &self,
            req: EmbeddingRequest,
            extra_headers: &[(String, String)],
            _bearer: Option<&SecretString>,
        ) -> Result<(Vec<UpstreamRequest>, EmbeddingRequest), LlmError> {
            let requests = self.build_embedding_requests(&req, extra_headers)?;
            Ok((requests, req))
        }
        fn embedding_response(
            &self,
            answers: &[(HeaderMap, Bytes)],
            req: EmbeddingRequest,
        ) -> Result<EmbeddingResponse, LlmError> {
            self.parse_embedding_responses(&req, answers)
        }
    }
}
