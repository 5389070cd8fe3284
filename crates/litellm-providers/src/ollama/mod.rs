//! The Ollama adapter (`ollama/` → `/api/generate`, `ollama_chat/` → `/api/chat`): sans-IO
//! translation between our OpenAI-format types and Ollama's native API. It builds requests,
//! parses responses, decodes Ollama's NDJSON streams into OpenAI chunks, translates `/api/embed`
//! and maps Ollama's error bodies; it never opens a socket.
//!
//! Upstream reference: Ollama's `docs/api.md` (`POST /api/generate`, `POST /api/chat`,
//! `POST /api/embed`, the `options` of a Modelfile's `PARAMETER`s, streamed objects ending with
//! `"done": true` and `done_reason`, `prompt_eval_count` / `eval_count`). LiteLLM's behaviour is
//! `litellm/llms/ollama/completion/transformation.py` (with `ollama_pt` for the prompt) and
//! `litellm/llms/ollama/chat/transformation.py`.
//!
//! Translation:
//! - `api_base` from the deployment, then `OLLAMA_API_BASE`, then `http://localhost:11434` (a
//!   base ending in `/api/chat`, `/api/generate` or `/api` is trimmed). An `api_key` (or
//!   `OLLAMA_API_KEY`) is sent as `Authorization: Bearer` (for Ollama behind a proxy or
//!   ollama.com); without one nothing is sent. `stream` is always sent (Ollama streams by
//!   default).
//! - `ollama_chat/`: messages keep their roles; text parts are joined, `image_url` data URLs (or
//!   bare base64) become `images` (http URLs are a 400: adapters never fetch); assistant tool
//!   calls become `tool_calls` with `function.arguments` as a JSON object and
//!   `reasoning_content` becomes `thinking`; tool results are `tool` messages with `tool_name`
//!   (the name of the matching earlier call). `tools` are sent as they are; `tool_choice` `auto`
//!   is the default, `none` sends no tools, `required` or a named function is refused.
//! - `ollama/`: one `prompt` built like LiteLLM's `ollama_pt`: consecutive user/tool messages as
//!   `### User:\n...\n\n`, system ones as `### System:\n...\n\n`, assistant ones as
//!   `### Assistant:\n...\n\n` (tool calls appended as `Tool Calls: <json>`), images in the
//!   top-level `images`. `tools` are refused (use `ollama_chat/`).
//! - `options`: `temperature`, `top_p`, `top_k`, `max_tokens`/`max_completion_tokens` →
//!   `num_predict`, `stop`, `seed`, `frequency_penalty`, `presence_penalty`, and Ollama's own
//!   (`num_ctx`, `repeat_penalty`, `mirostat`, `min_p`, ...) from the request or the deployment;
//!   a client `options` object is merged in. `response_format` `json_object` → `format: "json"`,
//!   `json_schema` → `format: <schema>`; `reasoning_effort` → `think` (`none` → `false`, a level
//!   as is for `gpt-oss` models, `true` otherwise); `keep_alive`, `think`, `format`, `raw`,
//!   `suffix`, `template`, `system` are top-level fields. Other unknown fields are forwarded.
//! - Refused (a 400 naming them, or dropped with `drop_params`): `logit_bias`, `logprobs`,
//!   `top_logprobs`, `n` > 1, `parallel_tool_calls: false`, `audio`, `prediction`,
//!   `web_search_options`, `modalities`. `user` and `metadata` are not sent.
//! - Responses: `message.content` (chat) or `response` (generate) → content (a leading
//!   `<think>...</think>` is split off into `reasoning_content`, as LiteLLM does), `thinking` →
//!   `reasoning_content`, `message.tool_calls` → `tool_calls` (arguments serialized to a JSON
//!   string, ids generated when Ollama gives none); `done_reason` `length` → `length`, anything
//!   else `stop` (`tool_calls` when the model called a tool). Usage: `prompt_eval_count` and
//!   `eval_count`; Ollama omits `prompt_eval_count` when the whole prompt came from its cache, and
//!   then the prompt is estimated (⌈chars/4⌉ per message, as the mock does).
//! - Streams: one JSON object per line; each becomes a delta (tool calls arrive whole), the
//!   `done: true` object the finish chunk and the usage (final `choices: []` chunk with
//!   `stream_options.include_usage`). An `{"error": ...}` line is an error item; a stream that
//!   ends before `done: true` is an `ApiConnection` error.
//! - Embeddings: `POST /api/embed` `{model, input: [...]}` (`dimensions`, `truncate`,
//!   `keep_alive`, `options` forwarded); `embeddings` → OpenAI vectors, `prompt_eval_count` → usage.
//! - Errors `{"error": "..."}` map by status (404 NotFound for a model that is not pulled, 400
//!   BadRequest, ContextWindowExceeded when the message says the input exceeds the context).

use http::header::HeaderMap;

use litellm_core::{ChatRequest, LlmError};

use self::request::STRUCTURAL_KEYS;
use crate::adapter_common::{
    deployment_headers, resolve_api_base, resolve_api_key, strip_first_suffix, KeyHeader,
};
use crate::deployment::{deployment_accessors, Deployment};
use crate::mock::estimate_prompt_tokens;
use crate::params::ProviderParams;

mod backend;
mod embed;
mod error;
mod request;
mod response;
mod stream;
mod wire;

pub use backend::OllamaBackend;
pub use error::map_error;
pub use response::map_done_reason;
pub use response::usage_from;
pub use stream::OllamaStreamDecoder;

/// The provider name of `/api/generate` deployments.
pub const PROVIDER: &str = "ollama";

/// The provider name of `/api/chat` deployments.
pub const CHAT_PROVIDER: &str = "ollama_chat";

/// A local Ollama server.
pub const DEFAULT_API_BASE: &str = "http://localhost:11434";

/// Which Ollama endpoint a deployment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OllamaMode {
    /// `ollama/`: `/api/generate` with a prompt built from the messages.
    Generate,
    /// `ollama_chat/`: `/api/chat` with the messages.
    Chat,
}

/// What the response side needs to know about the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// The client asked for a final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// The prompt-token estimate used when Ollama omits `prompt_eval_count`.
    pub prompt_estimate: u64,
}

impl CallOptions {
    /// The options implied by a request.
    pub fn of(req: &ChatRequest) -> CallOptions {
        CallOptions {
            include_usage: req.wants_stream_usage(),
            prompt_estimate: estimate_prompt_tokens(&req.messages),
        }
    }
}

/// One Ollama deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub struct OllamaAdapter {
    mode: OllamaMode,
    deployment: Deployment,
}

impl OllamaAdapter {
    /// The adapter for one deployment whose prefix has been stripped (`model`), reading defaults
    /// from the process environment.
    pub fn new(params: &ProviderParams, model: &str, mode: OllamaMode) -> Result<Self, LlmError> {
        Self::with_env(params, model, mode, |name| std::env::var(name).ok())
    }

    /// As [`OllamaAdapter::new`], with the environment given as a lookup function.
    pub fn with_env(
        params: &ProviderParams,
        model: &str,
        mode: OllamaMode,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let api_base = strip_first_suffix(
            resolve_api_base(params, &env, &["OLLAMA_API_BASE"], DEFAULT_API_BASE),
            &["/api/chat", "/api/generate", "/api/embed", "/api"],
        );
        let api_key = resolve_api_key(params, &env, &["OLLAMA_API_KEY"]);
        let headers = deployment_headers(
            params,
            &[],
            api_key.as_ref().map(|k| (k, KeyHeader::Bearer)),
        )?;
        Ok(OllamaAdapter {
            mode,
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

    /// The provider name (`ollama` or `ollama_chat`).
    pub fn provider(&self) -> &'static str {
        match self.mode {
            OllamaMode::Generate => PROVIDER,
            OllamaMode::Chat => CHAT_PROVIDER,
        }
    }

    /// The endpoint this deployment uses.
    pub fn mode(&self) -> OllamaMode {
        self.mode
    }

    deployment_accessors!();

    fn request_headers(&self, extra_headers: &[(String, String)]) -> Result<HeaderMap, LlmError> {
        self.deployment.call_headers(extra_headers)
    }
}

#[cfg(test)]
mod tests;
