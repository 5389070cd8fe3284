//! The Cohere adapter (`cohere/` and `cohere_chat/` prefixes): sans-IO translation between our
//! OpenAI-format types and Cohere's v2 API. It builds `/v2/chat` and `/v2/embed` requests, parses
//! responses, decodes the v2 chat event stream into OpenAI chunks and maps Cohere's error bodies;
//! it never opens a socket. It also holds the small helpers the Ollama adapter shares (deployment
//! defaults, `drop_params`, the `UnsupportedParamsError` message).
//!
//! Upstream reference: <https://docs.cohere.com/reference/chat> (v2 request, `message.content`,
//! `tool_calls`, `finish_reason`, `usage.billed_units` / `usage.tokens`),
//! <https://docs.cohere.com/docs/streaming> (`message-start`, `content-start`, `content-delta`,
//! `content-end`, `tool-plan-delta`, `tool-call-start`/`-delta`/`-end`, `citation-*`,
//! `message-end`) and <https://docs.cohere.com/reference/embed>. LiteLLM's behaviour is
//! `litellm/llms/cohere/chat/v2_transformation.py` and `litellm/llms/cohere/embed/`.
//!
//! Translation:
//! - `POST {api_base}/v2/chat` with `Authorization: Bearer <key>`: deployment `api_key`, then
//!   `COHERE_API_KEY`, then `CO_API_KEY`; `api_base` from the deployment, then `COHERE_API_BASE`,
//!   then `https://api.cohere.com` (a base already ending in `/v2/chat`, `/v2`, `/v1/chat` or
//!   `/v1` is trimmed to the host part). Streams send `"stream": true`.
//! - Messages keep their roles (`system`/`developer` → `system`, `user`, `assistant`, `tool`):
//!   user content is a string or `text`/`image_url` parts (other known parts are a 400 naming the
//!   message); assistant messages carry `tool_calls` as they are (arguments stay a JSON string);
//!   tool messages carry `tool_call_id` and their text. Legacy `function` messages are a 400.
//! - `tools` are OpenAI-shaped function tools (a function's `strict` is lifted to the body's
//!   `strict_tools`); `tool_choice` `required`/`none` → `REQUIRED`/`NONE`, `auto` → omitted, a
//!   named function → 400 (Cohere cannot force one function).
//! - `temperature`, `top_p` → `p`, `top_k` → `k`, `max_tokens`/`max_completion_tokens` →
//!   `max_tokens`, `stop` → `stop_sequences`, `seed`, `frequency_penalty`, `presence_penalty`;
//!   `response_format` `json_object` → `{"type": "json_object"}`, `json_schema` →
//!   `{"type": "json_object", "json_schema": <schema>}`.
//! - Refused (a 400 naming them, or dropped with `drop_params`): `logit_bias`, `logprobs`,
//!   `top_logprobs`, `n` > 1, `parallel_tool_calls: false`, `reasoning_effort`, `audio`,
//!   `prediction`, `web_search_options`, `modalities`. `user` and `metadata` are not sent; other
//!   unknown fields (`documents`, `citation_options`, `safety_mode`, `thinking`, ...) are
//!   forwarded, and deployment `litellm_params` fill in what the client did not set.
//! - Responses: `message.content[].text` joined → content, `thinking` parts and `tool_plan` →
//!   `reasoning_content`, `message.tool_calls` → `tool_calls`, `message.citations` kept on the
//!   message as `citations`. `finish_reason` `COMPLETE`/`STOP_SEQUENCE` → `stop`, `MAX_TOKENS` →
//!   `length`, `TOOL_CALL` → `tool_calls`, `ERROR_TOXIC` → `content_filter`; `ERROR` is an
//!   `InternalServer` error, `TIMEOUT` a `Timeout` error and `ERROR_LIMIT` a
//!   `ContextWindowExceeded` error (never an empty stop). Usage: `usage.tokens` (LiteLLM's
//!   choice), else `usage.billed_units`, `input_tokens`/`output_tokens`.
//! - Streams: SSE events named by their `type`; `message-start` gives the role chunk, text
//!   deltas become content, thinking and tool-plan deltas `reasoning_content`, a `tool-call-start`
//!   opens a tool call (id and name) whose `tool-call-delta`s append arguments, and
//!   `message-end` carries the finish reason and usage (the final `choices: []` chunk with
//!   `stream_options.include_usage`). A stream that ends without `message-end` is an
//!   `ApiConnection` error.
//! - Embeddings: `POST {api_base}/v2/embed` with `texts`, `input_type` (`search_document` unless
//!   the request or deployment sets `input_type`), `embedding_types: ["float"]`, `dimensions` →
//!   `output_dimension`, `truncate` forwarded; the answer's `embeddings.float` become OpenAI
//!   vectors (base64 when asked) and `meta.billed_units.input_tokens` the usage.
//! - Errors `{"message": ...}` map by status: 400/422 BadRequest (ContextWindowExceeded for
//!   "too many tokens"), 401 and 498 Authentication, 403 PermissionDenied, 404 NotFound, 429
//!   RateLimited, 499 ApiConnection, 500 InternalServer, 503 ServiceUnavailable, 504 Timeout.
//! - Rerank: `POST {api_base}/v2/rerank` with `query`, `documents` (strings: an object
//!   document's `text`), `top_n`, `max_tokens_per_doc`; v2 has no `return_documents`, so the
//!   documents are added back to the results when the client asked for them (as LiteLLM does).
//!   `meta.billed_units.search_units` is what the call bills (`input_cost_per_query`).

use http::header::HeaderMap;

use litellm_core::LlmError;

use self::request::STRUCTURAL_KEYS;
use crate::adapter_common::{
    deployment_headers, missing_key, resolve_api_base, resolve_api_key, strip_first_suffix,
    KeyHeader,
};
use crate::adapter_common::{env_constructors, Env};
use crate::deployment::{deployment_accessors, Deployment};
use crate::params::ProviderParams;

mod backend;
mod embed;
mod error;
mod request;
mod response;
mod stream;
mod wire;

pub use backend::CohereBackend;
pub use error::map_error;
pub use response::map_finish_reason;
pub use response::usage_from;
pub use stream::CohereStreamDecoder;

/// The provider name.
pub const PROVIDER: &str = "cohere";

/// Cohere's public API base.
pub const DEFAULT_API_BASE: &str = "https://api.cohere.com";

/// The default `input_type` of embeddings (LiteLLM's).
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

/// What the response side needs to know about the request.
pub use crate::decoder::UsageOptions as CallOptions;

/// One Cohere deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub struct CohereAdapter {
    deployment: Deployment,
}

impl CohereAdapter {
    env_constructors! {
        /// The adapter for one deployment whose `cohere/` prefix has been stripped (`model`),
        /// reading defaults from the process environment.
    }

    fn from_env(params: &ProviderParams, model: &str, env: &Env<'_>) -> Result<Self, LlmError> {
        let api_base = strip_first_suffix(
            resolve_api_base(params, &env, &["COHERE_API_BASE"], DEFAULT_API_BASE),
            &[
                "/v2/chat",
                "/v1/chat",
                "/v2/embed",
                "/v2/rerank",
                "/v2",
                "/v1",
            ],
        );
        let api_key = resolve_api_key(params, &env, &["COHERE_API_KEY", "CO_API_KEY"]);
        let headers = deployment_headers(
            params,
            &[("accept", "application/json")],
            api_key.as_ref().map(|k| (k, KeyHeader::Bearer)),
        )?;
        Ok(CohereAdapter {
            deployment: Deployment::new(
                params,
                api_base,
                model.trim().to_string(),
                headers,
                api_key,
                STRUCTURAL_KEYS,
                &[],
            )?,
        })
    }

    /// The provider name.
    pub fn provider(&self) -> &'static str {
        PROVIDER
    }

    deployment_accessors!();

    fn request_headers(&self, extra_headers: &[(String, String)]) -> Result<HeaderMap, LlmError> {
        if self.deployment.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for cohere: set litellm_params.api_key, COHERE_API_KEY or CO_API_KEY",
            ));
        }
        self.deployment.call_headers(extra_headers)
    }

    /// The `/v2/rerank` request of a rerank call.
    pub fn build_rerank_request(
        &self,
        req: &litellm_core::FamilyRequest,
        extra_headers: &[(String, String)],
    ) -> Result<crate::upstream::UpstreamRequest, LlmError> {
        let body = crate::families::cohere_rerank_body(req, self.model());
        Ok(crate::upstream::UpstreamRequest::post(
            format!("{}/v2/rerank", self.api_base()),
            self.request_headers(extra_headers)?,
            crate::families::to_bytes(&body)?,
        ))
    }
}

#[cfg(test)]
mod tests;
