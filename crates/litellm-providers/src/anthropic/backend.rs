//! The Anthropic `ModelBackend`: the sans-IO [`AnthropicAdapter`] served by the shared
//! [`HttpBackend`], which builds the Messages request, sends it, maps a non-success status
//! through the adapter, and for streams feeds the body through the [`AnthropicStreamDecoder`]
//! piece by piece as the network delivers it. Embeddings are refused with a 400 (Anthropic has no
//! embeddings API). Native `/v1/messages` calls send the client's body (`anthropic_native`).

use secrecy::SecretString;

use litellm_core::{ChatRequest, ChatResponse, JsonMap, LlmError};

use crate::anthropic::{AnthropicAdapter, AnthropicStreamDecoder, CallOptions, PROVIDER};
use crate::backend_common::{inherent_adapter_methods, HttpAdapter, HttpBackend, NativeCall};
use crate::transport::Transport;
use crate::upstream::UpstreamRequest;

/// An Anthropic deployment.
pub type AnthropicBackend = HttpBackend<AnthropicAdapter>;

impl AnthropicBackend {
    /// A backend sending through `transport`.
    pub fn new(adapter: AnthropicAdapter, transport: Transport) -> Self {
        HttpBackend::with_tokens(adapter, None, transport)
    }
}

impl HttpAdapter for AnthropicAdapter {
    type Options = CallOptions;
    type Decoder = AnthropicStreamDecoder;
    type EmbedContext = ();

    inherent_adapter_methods!(build_chat_request);

    fn provider_name(&self) -> &'static str {
        PROVIDER
    }
    fn call_options(&self, req: &ChatRequest) -> CallOptions {
        CallOptions::of(req)
    }
    fn chat_response(&self, body: &[u8], options: CallOptions) -> Result<ChatResponse, LlmError> {
        self.parse_chat_response(body, options)
    }
    fn chunk_decoder(&self, options: CallOptions) -> AnthropicStreamDecoder {
        self.stream_decoder(options)
    }
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
