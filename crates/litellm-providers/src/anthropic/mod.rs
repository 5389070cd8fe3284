//! The Anthropic adapter (`anthropic/` prefix): sans-IO translation between our OpenAI-format
//! types and Anthropic's Messages API (`POST /v1/messages`). It builds requests, parses
//! responses, decodes the SSE event stream into OpenAI chunks and maps error responses; it never
//! opens a socket (the transport sends).
//!
//! Upstream reference: <https://docs.anthropic.com/en/api/messages> and
//! <https://docs.anthropic.com/en/docs/build-with-claude/streaming>; LiteLLM's behaviour is
//! `litellm/llms/anthropic/chat/transformation.py`.
//!
//! Translation, following LiteLLM:
//! - URL `{api_base}/v1/messages`; `api_base` from the deployment, then `ANTHROPIC_API_BASE`,
//!   then `ANTHROPIC_BASE_URL`, then `https://api.anthropic.com`. A base already ending in
//!   `/v1/messages` is used as is, one ending in `/v1` gets `/messages`. Headers `x-api-key`
//!   (deployment `api_key`, then `ANTHROPIC_API_KEY`), `anthropic-version: 2023-06-01`,
//!   `content-type: application/json`, then the deployment's and the call's `extra_headers`
//!   (`anthropic-beta` goes there). A native call from the proxy's `/v1/messages`
//!   ([`AnthropicAdapter::build_native_request`]) sends the client's body with this
//!   deployment's model, and the client's `anthropic-beta` (joined with the deployment's) and
//!   `anthropic-version` (see `anthropic_native`).
//! - `system`/`developer` messages are lifted to `system` (a list of text blocks, keeping
//!   `cache_control`); every other message becomes a list of content blocks and consecutive
//!   messages of the same role are merged. `tool` messages become user `tool_result` blocks,
//!   assistant `tool_calls` become `tool_use` blocks (arguments parsed as JSON), assistant
//!   `thinking_blocks` are sent back first. Images: `data:` URLs become base64 sources
//!   (`application/pdf` a `document` block), http(s) URLs become URL sources. `cache_control` on
//!   a part (or on a message: applied to its last block) is passed through.
//! - `max_tokens` (or `max_completion_tokens`) defaults to the model's `max_output_tokens` from
//!   the price table (LiteLLM sends its cost map's), 4096 for a model the table does not know;
//!   with thinking on and no limit set, to the thinking budget + 256. `stop` becomes `stop_sequences`, `user` becomes
//!   `metadata.user_id` (skipped when it looks like an e-mail or a phone number).
//! - `tools` become `{name, description, input_schema}` (tools already in Anthropic's shape, and
//!   non-function tools, are forwarded); `tool_choice` `auto`/`required`/`none`/named become
//!   `auto`/`any`/`none`/`tool`; `parallel_tool_calls: false` sets `disable_parallel_tool_use`.
//!   Legacy `functions`/`function_call` are mapped the same way.
//! - `response_format` `json_object`/`json_schema` adds a tool named `json_tool_call` with the
//!   schema as `input_schema`, forced through `tool_choice` (not when thinking is on: Anthropic
//!   refuses forced tools with thinking); its input comes back as the message content.
//! - `reasoning_effort` `minimal`/`low`/`medium`/`high` becomes `thinking` with a budget of
//!   1024/1024/2048/4096 tokens (1024 is Anthropic's minimum); `none` sends no thinking. A
//!   client `thinking` object wins. `thinking` blocks come back as `reasoning_content` (and as
//!   `thinking_blocks`, with their signatures, for the next turn).
//! - OpenAI parameters Anthropic has no equivalent for (`n` > 1, `presence_penalty`,
//!   `frequency_penalty`, `logit_bias`, `logprobs`, `top_logprobs`, `seed`, `audio`, ...) are a
//!   400 naming them, or dropped with `drop_params` (deployment or request).
//!   `additional_drop_params` always drops the listed keys. Other unknown fields (`top_k`,
//!   `thinking`, `service_tier`, ...) are forwarded, and deployment `litellm_params` fill in what
//!   the client did not set.
//! - Responses: `stop_reason` `end_turn`/`stop_sequence`/`pause_turn` → `stop`, `max_tokens` →
//!   `length`, `tool_use` → `tool_calls`, `refusal` → `content_filter`. Usage: `prompt_tokens` =
//!   `input_tokens` + `cache_read_input_tokens` + `cache_creation_input_tokens` (LiteLLM's
//!   count), with `prompt_tokens_details.cached_tokens` / `cache_creation_tokens` and the raw
//!   `cache_*_input_tokens` fields kept.
//! - Streams: `message_start` gives the role chunk, `text_delta` content, `input_json_delta`
//!   tool-call argument fragments (OpenAI `index` counts tool calls, not content blocks),
//!   `thinking_delta` `reasoning_content`, `message_delta` the `finish_reason` chunk, followed
//!   (with `stream_options.include_usage`) by a `choices: []` chunk with the usage; `ping` and
//!   unknown events are skipped, an `error` event becomes one error item that ends the stream.
//!   A stream that ends before any `stop_reason` is an `ApiConnection` error.
//! - Errors `{"type": "error", "error": {"type", "message"}}` map by Anthropic's error type, then
//!   by status: `invalid_request_error` → BadRequest (ContextWindowExceeded for "prompt is too
//!   long" and similar), `authentication_error` → Authentication, `permission_error` →
//!   PermissionDenied, `not_found_error` → NotFound, `rate_limit_error` → RateLimited,
//!   `api_error` → InternalServer, `overloaded_error` (529) → ServiceUnavailable,
//!   `timeout_error` → Timeout. The provider's message is kept; the key is never in it.
//! - Embeddings: Anthropic has none; a clear 400.

use litellm_core::{ChatRequest, KnownResponseFormat, LlmError, ResponseFormat};

use self::request::STRUCTURAL_KEYS;
use crate::adapter_common::{deployment_headers, resolve_api_base, resolve_api_key, KeyHeader};
use crate::adapter_common::{env_constructors, Env};
use crate::deployment::{deployment_accessors, Deployment};
use crate::params::ProviderParams;

mod backend;
mod error;
pub mod ingress;
pub mod native;
pub mod native_stream;
mod request;
mod response;
mod stream;
mod wire;

pub use backend::AnthropicBackend;
pub use error::map_error;
pub use response::map_stop_reason;
pub use response::usage_of;
pub use stream::AnthropicStreamDecoder;

/// The provider name reported in errors, headers and spend records.
pub const PROVIDER: &str = "anthropic";

/// Anthropic's public API base.
pub const DEFAULT_API_BASE: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent with every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` when the request sets none and the price table does not know the model's
/// `max_output_tokens` (LiteLLM's `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS`).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The `max_tokens` a Claude model gets when the request sets none: its `max_output_tokens`
/// in the price table (64000 for Claude Sonnet 4), as LiteLLM sends from its cost map, else
/// [`DEFAULT_MAX_TOKENS`].
pub fn default_max_tokens(provider: &str, model: &str) -> u64 {
    crate::prices::table()
        .lookup(provider, model, false)
        .and_then(|p| p.max_output_tokens)
        .unwrap_or(DEFAULT_MAX_TOKENS)
}

/// Added to the thinking budget for `max_tokens` when thinking is on and no limit is set
/// (LiteLLM's `DEFAULT_MAX_TOKENS`).
pub const THINKING_MAX_TOKENS_MARGIN: u64 = 256;

/// The forced tool carrying `response_format` (LiteLLM's `RESPONSE_FORMAT_TOOL_NAME`).
pub const RESPONSE_FORMAT_TOOL_NAME: &str = "json_tool_call";

/// What the response side needs to know about the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// `response_format` was turned into the `json_tool_call` tool: its input is the content.
    pub json_mode: bool,
    /// The client asked for a final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
}

impl CallOptions {
    /// The options implied by a request.
    pub fn of(req: &ChatRequest) -> CallOptions {
        let json_mode = matches!(
            req.response_format,
            Some(ResponseFormat::Known(
                KnownResponseFormat::JsonObject | KnownResponseFormat::JsonSchema { .. }
            ))
        );
        CallOptions {
            json_mode,
            include_usage: req.wants_stream_usage(),
        }
    }
}

/// One Anthropic deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub struct AnthropicAdapter {
    deployment: Deployment,
    url: String,
    /// `max_tokens` when the request sets none: the model's `max_output_tokens` from the price
    /// table, else [`DEFAULT_MAX_TOKENS`].
    default_max_tokens: u64,
}

impl AnthropicAdapter {
    env_constructors! {
        /// The adapter for one deployment whose `anthropic/` prefix has been stripped (`model`),
        /// reading defaults from the process environment.
    }

    fn from_env(params: &ProviderParams, model: &str, env: &Env<'_>) -> Result<Self, LlmError> {
        let api_base = resolve_api_base(
            params,
            &env,
            &["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"],
            DEFAULT_API_BASE,
        );
        let url = if api_base.ends_with("/v1/messages") {
            api_base.clone()
        } else if api_base.ends_with("/v1") {
            format!("{api_base}/messages")
        } else {
            format!("{api_base}/v1/messages")
        };
        let api_key = resolve_api_key(params, &env, &["ANTHROPIC_API_KEY"]);
        let headers = deployment_headers(
            params,
            &[("anthropic-version", ANTHROPIC_VERSION)],
            api_key.as_ref().map(|k| (k, KeyHeader::Named("x-api-key"))),
        )?;
        Ok(AnthropicAdapter {
            deployment: Deployment::new(
                params,
                api_base,
                model.to_string(),
                headers,
                api_key,
                STRUCTURAL_KEYS,
                &["max_tokens", "stop_sequences"],
            )?,
            url,
            default_max_tokens: default_max_tokens(PROVIDER, model),
        })
    }

    deployment_accessors!();

    /// The Messages endpoint requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests;
