//! The Anthropic `ModelBackend`: the sans-IO [`AnthropicAdapter`] served by the shared
//! [`HttpBackend`], which builds the Messages request, sends it, maps a non-success status
//! through the adapter, and for streams feeds the body through the [`AnthropicStreamDecoder`]
//! piece by piece as the network delivers it. Embeddings are refused with a 400 (Anthropic has no
//! embeddings API). Native `/v1/messages` calls send the client's body (`anthropic_native`).
//!
//! [`HttpBackend`]: crate::backend_common::HttpBackend

use secrecy::SecretString;

use litellm_core::{JsonMap, LlmError};

use crate::anthropic::{AnthropicAdapter, AnthropicStreamDecoder, CallOptions, PROVIDER};
use crate::backend_common::{
    http_backend_type, inherent_adapter_methods, native_adapter_methods, NativeCall,
};
use crate::upstream::UpstreamRequest;

http_backend_type! {
    /// An Anthropic deployment.
    AnthropicBackend = AnthropicAdapter {
        type EmbedContext = ();

        inherent_adapter_methods!(build_chat_request);
        native_adapter_methods!([PROVIDER], AnthropicStreamDecoder, with_options);
        fn speaks_native_messages(&self) -> bool {
            true
        }
        fn native_request(
            &self,
            body: JsonMap,
            call: NativeCall,
            forward_headers: &[(String, String)],
            extra_headers: &[(String, String)],
            _bearer: Option<&SecretString>,
        ) -> Option<Result<UpstreamRequest, LlmError>> {
            Some(self.build_native_request(body, call, forward_headers, extra_headers))
        }
        fn embeddings_refusal(&self) -> Option<&'static str> {
            Some(
                "anthropic does not offer an embeddings API; use an embedding model of another \
                 provider (openai/, cohere/, gemini/, ...)",
            )
        }
    }
}
