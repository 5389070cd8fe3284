//! The Cohere `ModelBackend` (`cohere/`): the sans-IO [`CohereAdapter`] served by the shared
//! [`HttpBackend`]. Chat and embeddings are one request each; streams are fed through the
//! [`CohereStreamDecoder`] piece by piece as the network delivers them. Rerank goes to
//! `/v2/rerank` in Cohere's own format (`families.rs`).
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
        fn serves_family(&self, family: litellm_core::Family) -> bool {
            family == litellm_core::Family::Rerank
        }
        fn family_request(
            &self,
            req: &litellm_core::FamilyRequest,
            extra_headers: &[(String, String)],
            _bearer: Option<&secrecy::SecretString>,
        ) -> Result<crate::upstream::UpstreamRequest, LlmError> {
            self.build_rerank_request(req, extra_headers)
        }
        fn family_response(
            &self,
            req: &litellm_core::FamilyRequest,
            body: &[u8],
        ) -> Result<litellm_core::FamilyOutput, LlmError> {
            let mut out = crate::families::answer(req, body, PROVIDER)?;
            crate::families::cohere_rerank_answer(req, &mut out);
            Ok(out)
        }
    }
}
