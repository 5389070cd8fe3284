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
//! - `max_tokens` (or `max_completion_tokens`) defaults to 4096; with thinking on and no limit
//!   set, to the thinking budget + 256. `stop` becomes `stop_sequences`, `user` becomes
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

use std::collections::{HashMap, VecDeque};

use http::header::HeaderMap;
use http::Method;
use secrecy::SecretString;
use serde_json::{json, Value};

use litellm_core::{
    unix_now, ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Content, ContentPart,
    Delta, ErrorKind, FunctionCall, FunctionCallDelta, JsonMap, KnownContentPart,
    KnownResponseFormat, LlmError, Message, PromptTokensDetails, ResponseFormat, ResponseMessage,
    ToolCall, ToolCallDelta, ToolChoice, Usage,
};

use crate::adapter_common::{
    deployment_defaults, deployment_headers, forward_extra, merge_extra_body, missing_key, prepare,
    refuse_or_drop, resolve_api_base, resolve_api_key, scrub_key, serialize_body,
    with_call_headers, KeyHeader, Prepared,
};
use crate::openai::{kind_for_status, looks_like_context_window};
use crate::params::ProviderParams;
use crate::sse::{SseEvent, SseParser};
use crate::upstream::{invalid_upstream_body, parse_retry_after, truncate_chars, UpstreamRequest};

/// The provider name reported in errors, headers and spend records.
pub const PROVIDER: &str = "anthropic";

/// Anthropic's public API base.
pub const DEFAULT_API_BASE: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent with every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` when the request sets none (LiteLLM's `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS`).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Added to the thinking budget for `max_tokens` when thinking is on and no limit is set
/// (LiteLLM's `DEFAULT_MAX_TOKENS`).
pub const THINKING_MAX_TOKENS_MARGIN: u64 = 256;

/// The forced tool carrying `response_format` (LiteLLM's `RESPONSE_FORMAT_TOOL_NAME`).
pub const RESPONSE_FORMAT_TOOL_NAME: &str = "json_tool_call";

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// Typed OpenAI parameters Anthropic has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_TYPED: &[&str] = &[
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
];

/// OpenAI request fields that Anthropic has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "modalities",
    "prediction",
    "store",
    "prompt_cache_key",
    "safety_identifier",
    "verbosity",
    "web_search_options",
    "logprobs",
    "top_logprobs",
];

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "system",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "stop_sequences",
    "max_tokens",
];

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
    api_base: String,
    model: String,
    url: String,
    headers: HeaderMap,
    defaults: JsonMap,
    drop_params: bool,
    additional_drop_params: Vec<String>,
    api_key: Option<SecretString>,
}

impl AnthropicAdapter {
    /// The adapter for one deployment whose `anthropic/` prefix has been stripped (`model`),
    /// reading defaults from the process environment.
    pub fn new(params: &ProviderParams, model: &str) -> Result<Self, LlmError> {
        Self::with_env(params, model, |name| std::env::var(name).ok())
    }

    /// As [`AnthropicAdapter::new`], with the environment given as a lookup function.
    pub fn with_env(
        params: &ProviderParams,
        model: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
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
        let (defaults, additional_drop_params) =
            deployment_defaults(params, STRUCTURAL_KEYS, &["max_tokens", "stop_sequences"])?;

        Ok(AnthropicAdapter {
            api_base,
            model: model.to_string(),
            url,
            headers,
            defaults,
            drop_params: params.drop_params.unwrap_or(false),
            additional_drop_params,
            api_key,
        })
    }

    /// The base URL (no trailing `/`).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The Messages endpoint requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The model sent upstream.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Removes the deployment's key from a message, should an upstream have echoed it.
    pub fn scrub(&self, err: LlmError) -> LlmError {
        scrub_key(self.api_key.as_ref(), err)
    }

    /// `POST {api_base}/v1/messages` for `req` (streaming or not), with per-call headers.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        if self.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for anthropic: set litellm_params.api_key or ANTHROPIC_API_KEY",
            ));
        }
        let body = serialize_body(&Value::Object(self.translate_request(req, stream)?))?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.url.clone(),
            headers: with_call_headers(&self.headers, extra_headers)?,
            body,
        })
    }

    /// `POST {api_base}/v1/messages` (or `.../count_tokens`) for a client's own Messages body
    /// (native mode, see `anthropic_native`): the body with this deployment's model, the
    /// client's `anthropic-beta` / `anthropic-version` over the deployment's headers.
    pub fn build_native_request(
        &self,
        body: JsonMap,
        call: crate::backend_common::NativeCall,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        if self.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for anthropic: set litellm_params.api_key or ANTHROPIC_API_KEY",
            ));
        }
        let (body, url) = match call {
            crate::backend_common::NativeCall::Messages { .. } => (
                crate::anthropic_native::messages_body(body, &self.model),
                self.url.clone(),
            ),
            crate::backend_common::NativeCall::CountTokens => (
                crate::anthropic_native::count_tokens_body(body, &self.model),
                format!("{}/count_tokens", self.url),
            ),
        };
        let mut headers = self.headers.clone();
        crate::anthropic_native::apply_forwarded_headers(&mut headers, forward_headers)?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url,
            headers: with_call_headers(&headers, extra_headers)?,
            body: serialize_body(&Value::Object(body))?,
        })
    }

    /// The Anthropic Messages body for `req`.
    pub fn translate_request(&self, req: ChatRequest, stream: bool) -> Result<JsonMap, LlmError> {
        let Prepared {
            mut req,
            extra_body: client_extra_body,
            drop,
        } = prepare(
            req,
            &self.defaults,
            &[("stop_sequences", "stop")],
            self.drop_params,
            &self.additional_drop_params,
        )?;
        refuse_or_drop(
            PROVIDER,
            &mut req,
            UNSUPPORTED_TYPED,
            UNSUPPORTED_EXTRA,
            drop,
        )?;

        let mut body = JsonMap::new();
        body.insert("model".into(), Value::String(self.model.clone()));

        let (system, messages) = translate_messages(std::mem::take(&mut req.messages))?;
        body.insert("messages".into(), Value::Array(messages));
        if !system.is_empty() {
            body.insert("system".into(), Value::Array(system));
        }

        // Thinking: a client `thinking` object wins over `reasoning_effort`.
        let thinking = match req.extra.remove("thinking") {
            Some(Value::Null) | None => thinking_for_effort(req.reasoning_effort.as_deref())?,
            Some(t) => Some(t),
        };
        let thinking_on = thinking
            .as_ref()
            .is_some_and(|t| t.get("type").and_then(Value::as_str) == Some("enabled"));
        let max_tokens = match req.max_output_tokens() {
            Some(n) => u64::from(n),
            None => match thinking
                .as_ref()
                .and_then(|t| t.get("budget_tokens"))
                .and_then(Value::as_u64)
                .filter(|_| thinking_on)
            {
                Some(budget) => budget + THINKING_MAX_TOKENS_MARGIN,
                None => DEFAULT_MAX_TOKENS,
            },
        };
        body.insert("max_tokens".into(), Value::from(max_tokens));
        if let Some(t) = thinking {
            body.insert("thinking".into(), t);
        }

        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            body.insert("top_p".into(), json!(p));
        }
        if let Some(stop) = &req.stop {
            let seqs: Vec<String> = stop
                .to_vec()
                .into_iter()
                .filter(|s| !(drop && s.trim().is_empty()))
                .collect();
            if !seqs.is_empty() {
                body.insert("stop_sequences".into(), json!(seqs));
            }
        }
        if let Some(user) = req.user.as_deref().filter(|u| valid_user_id(u)) {
            body.insert("metadata".into(), json!({ "user_id": user }));
        }
        if stream {
            body.insert("stream".into(), Value::Bool(true));
        }

        // Tools, legacy functions, and the JSON-mode tool.
        let mut tools: Vec<Value> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            tools.push(translate_tool(tool)?);
        }
        for f in req.functions.take().into_iter().flatten() {
            tools.push(function_tool(f.name, f.description, f.parameters, &f.extra));
        }
        let mut tool_choice = match req.tool_choice.take() {
            Some(choice) => translate_tool_choice(choice)?,
            None => match req.function_call.take() {
                Some(Value::String(mode)) => translate_tool_choice(ToolChoice::Mode(mode))?,
                Some(Value::Object(o)) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|name| json!({"type": "tool", "name": name})),
                _ => None,
            },
        };
        if let Some(format) = req.response_format.take() {
            if let Some(tool) = response_format_tool(format)? {
                tools.push(tool);
                if !thinking_on {
                    tool_choice = Some(json!({"type": "tool", "name": RESPONSE_FORMAT_TOOL_NAME}));
                }
            }
        }
        if let Some(parallel) = req.parallel_tool_calls {
            match &mut tool_choice {
                Some(Value::Object(c)) => {
                    if c.get("type").and_then(Value::as_str) != Some("none") {
                        c.insert("disable_parallel_tool_use".into(), Value::Bool(!parallel));
                    }
                }
                Some(_) => {}
                None => {
                    if !tools.is_empty() {
                        tool_choice = Some(json!({
                            "type": "auto",
                            "disable_parallel_tool_use": !parallel
                        }));
                    }
                }
            }
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        if let Some(choice) = tool_choice {
            body.insert("tool_choice".into(), choice);
        }

        // Everything else the client sent that we do not model is forwarded.
        forward_extra(
            &mut body,
            std::mem::take(&mut req.extra),
            STRUCTURAL_KEYS,
            false,
        );
        merge_extra_body(
            &mut body,
            client_extra_body,
            STRUCTURAL_KEYS,
            &["max_tokens"],
        );
        Ok(body)
    }

    /// Parses a successful Messages response.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(PROVIDER, "message", &e, body))?;
        if value.get("type").and_then(Value::as_str) == Some("error")
            || value.get("error").is_some()
        {
            return Err(error_from_value(None, &value, body));
        }
        let Some(blocks) = value.get("content").and_then(Value::as_array) else {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{PROVIDER} returned a message without `content`: {}",
                    truncate_chars(&String::from_utf8_lossy(body), 300)
                ),
            )
            .with_provider(PROVIDER));
        };
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut thinking_blocks: Vec<Value> = Vec::new();
        let mut tool_calls: Vec<ToolCall> = Vec::new();
        let mut citations: Vec<Value> = Vec::new();
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    text.push_str(block.get("text").and_then(Value::as_str).unwrap_or(""));
                    if let Some(c) = block.get("citations").filter(|c| !c.is_null()) {
                        citations.push(c.clone());
                    }
                }
                Some("tool_use") => tool_calls.push(ToolCall {
                    id: str_field(block, "id"),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: str_field(block, "name"),
                        arguments: block
                            .get("input")
                            .map(Value::to_string)
                            .unwrap_or_else(|| "{}".into()),
                    },
                }),
                Some("thinking") => {
                    reasoning.push_str(block.get("thinking").and_then(Value::as_str).unwrap_or(""));
                    thinking_blocks.push(block.clone());
                }
                Some("redacted_thinking") => thinking_blocks.push(block.clone()),
                _ => {}
            }
        }
        let stop_reason = value.get("stop_reason").and_then(Value::as_str);
        let mut finish_reason = stop_reason.map(map_stop_reason);
        let mut content = (!text.is_empty()).then_some(text);
        if options.json_mode
            && tool_calls.len() == 1
            && tool_calls[0].function.name == RESPONSE_FORMAT_TOOL_NAME
        {
            content = tool_calls.pop().map(|t| t.function.arguments);
            finish_reason = Some("stop".into());
        }
        let mut extra = JsonMap::new();
        if !thinking_blocks.is_empty() {
            extra.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
        }
        if !citations.is_empty() {
            extra.insert(
                "provider_specific_fields".into(),
                json!({ "citations": citations }),
            );
        }
        let message = ResponseMessage {
            role: "assistant".into(),
            content,
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            function_call: None,
            refusal: None,
            reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
            extra,
        };
        let usage = value.get("usage").map(|u| {
            let mut raw = RawUsage::default();
            raw.merge(u);
            raw.to_usage()
        });
        Ok(ChatResponse {
            id: value
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())),
            object: "chat.completion".into(),
            created: unix_now(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(&self.model)
                .to_string(),
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason,
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage,
            system_fingerprint: None,
            service_tier: None,
            extra: JsonMap::new(),
        })
    }

    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> AnthropicStreamDecoder {
        AnthropicStreamDecoder::new(&self.model, options)
    }

    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// LiteLLM's `_valid_user_id`: Anthropic refuses e-mail addresses and phone numbers.
fn valid_user_id(user: &str) -> bool {
    let u = user.trim();
    if u.is_empty() {
        return false;
    }
    let looks_like_email = u
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    let digits = u.chars().filter(char::is_ascii_digit).count();
    let looks_like_phone = digits >= 7
        && u.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '(' | ')' | '-'));
    !looks_like_email && !looks_like_phone
}

/// `reasoning_effort` as a `thinking` object.
fn thinking_for_effort(effort: Option<&str>) -> Result<Option<Value>, LlmError> {
    let budget = match effort.map(str::trim) {
        None | Some("") | Some("none") | Some("disable") => return Ok(None),
        Some("minimal") | Some("low") => 1024,
        Some("medium") => 2048,
        Some("high") => 4096,
        Some(other) => {
            return Err(LlmError::bad_param(
                "reasoning_effort",
                format!(
                    "reasoning_effort {other:?} is not supported for anthropic; use none, \
                     minimal, low, medium or high"
                ),
            ))
        }
    };
    Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
}

/// A message-level `cache_control` (LiteLLM lets clients set it on the message).
fn message_cache_control(extra: &JsonMap) -> Option<Value> {
    extra.get("cache_control").filter(|v| !v.is_null()).cloned()
}

fn put_cache_control(blocks: &mut [Value], cache: Option<Value>) {
    if let (Some(cache), Some(Value::Object(last))) = (cache, blocks.last_mut()) {
        last.insert("cache_control".into(), cache);
    }
}

/// The `cache_control` of a content part's extra fields, copied onto the block.
fn with_part_cache(mut block: Value, extra: &JsonMap) -> Value {
    if let (Some(cache), Value::Object(b)) = (extra.get("cache_control"), &mut block) {
        if !cache.is_null() {
            b.insert("cache_control".into(), cache.clone());
        }
    }
    block
}

/// A `data:<media>;base64,<data>` URL split into media type and data.
fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((if media.is_empty() { "image/png" } else { media }, data))
}

fn image_block(url: &str, param: &str) -> Result<Value, LlmError> {
    if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "an image data URL must look like data:<media type>;base64,<data>",
            ));
        };
        let kind = if media == "application/pdf" {
            "document"
        } else {
            "image"
        };
        return Ok(json!({
            "type": kind,
            "source": {"type": "base64", "media_type": media, "data": data}
        }));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        let kind = if url.to_ascii_lowercase().ends_with(".pdf") {
            "document"
        } else {
            "image"
        };
        return Ok(json!({"type": kind, "source": {"type": "url", "url": url}}));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "unsupported image URL {:?}: use an http(s) URL or a base64 data URL",
            truncate_chars(url, 60)
        ),
    ))
}

/// User-side content (user messages and tool results) as Anthropic blocks.
fn content_blocks(content: Content, param: &str) -> Result<Vec<Value>, LlmError> {
    match content {
        Content::Text(text) => Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![json!({"type": "text", "text": text})]
        }),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if !t.text.is_empty() {
                            out.push(with_part_cache(
                                json!({"type": "text", "text": t.text}),
                                &t.extra,
                            ));
                        }
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        out.push(with_part_cache(
                            image_block(&img.image_url.url, param)?,
                            &img.extra,
                        ));
                    }
                    ContentPart::Known(KnownContentPart::File(f)) => {
                        let block = if let Some(data) = &f.file.file_data {
                            image_block(data, param)?
                        } else if let Some(id) = &f.file.file_id {
                            json!({"type": "document", "source": {"type": "file", "file_id": id}})
                        } else {
                            return Err(LlmError::bad_param(
                                param,
                                "a file part needs file_data or file_id",
                            ));
                        };
                        out.push(with_part_cache(block, &f.extra));
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "anthropic does not support input_audio content",
                        ))
                    }
                    // A block already in Anthropic's shape (or one we do not know): forwarded.
                    ContentPart::Other(v) => out.push(v),
                }
            }
            Ok(out)
        }
    }
}

/// The text of a system message as text blocks.
fn system_blocks(content: Content, extra: &JsonMap) -> Vec<Value> {
    let mut blocks = match content {
        Content::Text(t) if t.is_empty() => Vec::new(),
        Content::Text(t) => vec![json!({"type": "text", "text": t})],
        Content::Parts(parts) => parts
            .into_iter()
            .filter_map(|p| match p {
                ContentPart::Known(KnownContentPart::Text(t)) if !t.text.is_empty() => Some(
                    with_part_cache(json!({"type": "text", "text": t.text}), &t.extra),
                ),
                ContentPart::Known(_) => None,
                ContentPart::Other(v) => v
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        let mut b = json!({"type": "text", "text": t});
                        if let Some(c) = v.get("cache_control") {
                            b["cache_control"] = c.clone();
                        }
                        b
                    }),
            })
            .collect(),
    };
    put_cache_control(&mut blocks, message_cache_control(extra));
    blocks
}

/// Splits the OpenAI messages into Anthropic's `system` blocks and alternating messages.
fn translate_messages(messages: Vec<Message>) -> Result<(Vec<Value>, Vec<Value>), LlmError> {
    let mut system: Vec<Value> = Vec::new();
    // (role, blocks), merged when the role repeats.
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, blocks) = match message {
            Message::System(m) | Message::Developer(m) => {
                system.extend(system_blocks(m.content, &m.extra));
                continue;
            }
            Message::User(m) => {
                let cache = message_cache_control(&m.extra);
                let mut blocks = content_blocks(m.content, &param)?;
                put_cache_control(&mut blocks, cache);
                ("user", blocks)
            }
            Message::Assistant(m) => {
                let cache = message_cache_control(&m.extra);
                let mut blocks = Vec::new();
                if let Some(Value::Array(thinking)) = m.extra.get("thinking_blocks") {
                    blocks.extend(thinking.iter().cloned());
                }
                match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => {
                        blocks.push(json!({"type": "text", "text": t}));
                    }
                    Some(Content::Parts(parts)) => {
                        for part in parts {
                            match part {
                                ContentPart::Known(KnownContentPart::Text(t)) => {
                                    if !t.text.is_empty() {
                                        blocks.push(with_part_cache(
                                            json!({"type": "text", "text": t.text}),
                                            &t.extra,
                                        ));
                                    }
                                }
                                ContentPart::Other(v) => blocks.push(v),
                                ContentPart::Known(_) => {
                                    return Err(LlmError::bad_param(
                                        param,
                                        "assistant messages may only hold text for anthropic",
                                    ))
                                }
                            }
                        }
                    }
                    _ => {}
                }
                let calls = m
                    .tool_calls
                    .into_iter()
                    .flatten()
                    .map(|c| (c.id, c.function));
                let legacy = m
                    .function_call
                    .into_iter()
                    .map(|f| (format!("toolu_{}", f.name), f));
                for (id, function) in calls.chain(legacy) {
                    let input = if function.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str::<Value>(&function.arguments).map_err(|e| {
                            LlmError::bad_param(
                                param.clone(),
                                format!(
                                    "the arguments of tool call {id:?} are not valid JSON: {e}"
                                ),
                            )
                        })?
                    };
                    blocks.push(json!({
                        "type": "tool_use", "id": id, "name": function.name, "input": input
                    }));
                }
                put_cache_control(&mut blocks, cache);
                ("assistant", blocks)
            }
            Message::Tool(m) => {
                let cache = message_cache_control(&m.extra);
                let content = match m.content {
                    Content::Text(t) => Value::String(t),
                    parts => Value::Array(content_blocks(parts, &param)?),
                };
                let mut block = json!({
                    "type": "tool_result", "tool_use_id": m.tool_call_id, "content": content
                });
                if let Some(c) = cache {
                    block["cache_control"] = c;
                }
                ("user", vec![block])
            }
            Message::Function(m) => {
                let block = json!({
                    "type": "tool_result",
                    "tool_use_id": format!("toolu_{}", m.name),
                    "content": m.content.unwrap_or_default(),
                });
                ("user", vec![block])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last_role, last_blocks)) if *last_role == role => last_blocks.extend(blocks),
            _ => out.push((role, blocks)),
        }
    }
    let messages = out
        .into_iter()
        .map(|(role, blocks)| json!({"role": role, "content": blocks}))
        .collect();
    Ok((system, messages))
}

fn function_tool(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
    extra: &JsonMap,
) -> Value {
    let mut schema = parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    if let Value::Object(s) = &mut schema {
        s.entry("type").or_insert_with(|| json!("object"));
    }
    let mut tool = json!({"name": name, "input_schema": schema});
    if let Some(d) = description {
        tool["description"] = Value::String(d);
    }
    if let Some(c) = extra.get("cache_control").filter(|c| !c.is_null()) {
        tool["cache_control"] = c.clone();
    }
    tool
}

fn translate_tool(tool: litellm_core::Tool) -> Result<Value, LlmError> {
    if tool.kind == "function" {
        if let Some(f) = tool.function {
            let mut extra = f.extra.clone();
            if let Some(c) = tool.extra.get("cache_control") {
                extra.insert("cache_control".into(), c.clone());
            }
            return Ok(function_tool(f.name, f.description, f.parameters, &extra));
        }
        if tool.extra.contains_key("input_schema") {
            // Already in Anthropic's shape (`{"name", "input_schema"}` with a type).
            let mut map = tool.extra;
            map.remove("type");
            return Ok(Value::Object(map));
        }
        return Err(LlmError::bad_param(
            "tools",
            "a function tool needs a `function` object",
        ));
    }
    // Anthropic's own tool types (`web_search_20250305`, `bash_20250124`, ...) pass through.
    serde_json::to_value(tool)
        .map_err(|e| LlmError::internal(format!("could not serialize a tool: {e}")))
}

fn translate_tool_choice(choice: ToolChoice) -> Result<Option<Value>, LlmError> {
    Ok(Some(match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => json!({"type": "auto"}),
            "required" | "any" => json!({"type": "any"}),
            "none" => json!({"type": "none"}),
            other => {
                return Err(LlmError::bad_param(
                    "tool_choice",
                    format!("tool_choice {other:?} is not one of none, auto, required"),
                ))
            }
        },
        ToolChoice::Named(named) => json!({"type": "tool", "name": named.function.name}),
        ToolChoice::Other(v) => v,
    }))
}

/// The `json_tool_call` tool for a `response_format`, `None` for `text`.
fn response_format_tool(format: ResponseFormat) -> Result<Option<Value>, LlmError> {
    let schema = match format {
        ResponseFormat::Known(KnownResponseFormat::Text) => return Ok(None),
        ResponseFormat::Known(KnownResponseFormat::JsonObject) => None,
        ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
            json_schema.schema
        }
        ResponseFormat::Other(v) => {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
            return Err(LlmError::bad_param(
                "response_format",
                format!("response_format type {kind:?} is not supported for anthropic"),
            ));
        }
    };
    let input_schema = match schema {
        Some(Value::Object(mut s)) => {
            s.entry("type").or_insert_with(|| json!("object"));
            Value::Object(s)
        }
        _ => json!({"type": "object", "additionalProperties": true, "properties": {}}),
    };
    Ok(Some(json!({
        "name": RESPONSE_FORMAT_TOOL_NAME,
        "input_schema": input_schema
    })))
}

/// Anthropic's `stop_reason` as an OpenAI `finish_reason`.
pub fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
    .to_string()
}

/// Anthropic's token counts, as reported (a stream reports them in two events).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RawUsage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
}

impl RawUsage {
    /// Takes every count present (and not null) in an Anthropic `usage` object.
    fn merge(&mut self, u: &Value) {
        let get = |k: &str| u.get(k).and_then(Value::as_u64);
        if let Some(v) = get("input_tokens") {
            self.input = v;
        }
        if let Some(v) = get("output_tokens") {
            self.output = v;
        }
        if let Some(v) = get("cache_read_input_tokens") {
            self.cache_read = v;
        }
        if let Some(v) = get("cache_creation_input_tokens") {
            self.cache_creation = v;
        }
    }

    /// Our usage: cached and cache-written tokens count as prompt tokens (as LiteLLM does).
    fn to_usage(self) -> Usage {
        let prompt = self.input + self.cache_read + self.cache_creation;
        let mut usage = Usage::new(prompt, self.output);
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(self.cache_read),
            cache_creation_tokens: Some(self.cache_creation),
            audio_tokens: None,
            extra: JsonMap::new(),
        });
        usage.extra.insert(
            "cache_creation_input_tokens".into(),
            Value::from(self.cache_creation),
        );
        usage.extra.insert(
            "cache_read_input_tokens".into(),
            Value::from(self.cache_read),
        );
        usage
    }
}

/// An Anthropic `usage` object in our terms (see [`RawUsage::to_usage`]).
pub fn usage_of(u: &Value) -> Usage {
    let mut raw = RawUsage::default();
    raw.merge(u);
    raw.to_usage()
}

/// The kind of an Anthropic error type (`error.type`).
fn kind_for_error_type(kind: &str) -> Option<ErrorKind> {
    Some(match kind {
        "invalid_request_error" | "request_too_large" | "billing_error" => ErrorKind::BadRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimited,
        "api_error" => ErrorKind::InternalServer,
        "overloaded_error" => ErrorKind::ServiceUnavailable,
        "timeout_error" => ErrorKind::Timeout,
        _ => return None,
    })
}

/// An error from a parsed body: `{"type": "error", "error": {"type", "message"}}` (or any
/// `{"error": ...}` / `{"message": ...}` shape a proxy in between may send).
fn error_from_value(status: Option<u16>, value: &Value, raw: &[u8]) -> LlmError {
    let err = value.get("error");
    let kind_name = err
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = err
        .and_then(|e| match e {
            Value::String(s) => Some(s.clone()),
            other => other
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
        .or_else(|| {
            value
                .get("message")
                .or_else(|| value.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|m| !m.trim().is_empty());
    error_from_parts(status, kind_name.as_deref(), message, raw)
}

fn error_from_parts(
    status: Option<u16>,
    kind_name: Option<&str>,
    message: Option<String>,
    raw: &[u8],
) -> LlmError {
    let message = message
        .or_else(|| {
            let text = String::from_utf8_lossy(raw);
            let t = text.trim();
            (!t.is_empty()).then(|| truncate_chars(t, MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{PROVIDER} returned HTTP {s} with an empty body"),
            None => format!("{PROVIDER} reported an error"),
        });
    let by_type = kind_name.and_then(kind_for_error_type);
    let mut kind = match (by_type, status) {
        (Some(k), _) => k,
        (None, Some(s)) => kind_for_status(s),
        (None, None) => ErrorKind::InternalServer,
    };
    let client_side = matches!(status, None | Some(400 | 413)) || status.is_some_and(|s| s < 500);
    if matches!(kind, ErrorKind::BadRequest) && client_side && looks_like_context_window(&message) {
        kind = ErrorKind::ContextWindowExceeded;
    }
    let mut err = LlmError::upstream(kind, message).with_provider(PROVIDER);
    err.status = status;
    err
}

/// Maps an Anthropic error response to an `LlmError`, by Anthropic's error type first and the
/// status otherwise (see the module docs), keeping the upstream message (a non-JSON body is used
/// as text, truncated) and `retry-after`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let err = match serde_json::from_slice::<Value>(body) {
        Ok(v) => error_from_value(Some(status), &v, body),
        Err(_) => error_from_parts(Some(status), None, None, body),
    };
    err.with_retry_after(parse_retry_after(headers))
}

/// What a content block of the stream is, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    /// A tool call, with its OpenAI tool-call index.
    Tool(u32),
    /// The `json_tool_call` tool in JSON mode: its input is streamed as content.
    JsonTool,
    Thinking,
    Other,
}

/// Turns Anthropic's SSE event stream into OpenAI chunks, incrementally: feed bytes as they
/// arrive, collect the chunks (and at most one error) they complete.
#[derive(Debug)]
pub struct AnthropicStreamDecoder {
    sse: SseParser,
    events: Vec<SseEvent>,
    model: String,
    id: String,
    created: u64,
    options: CallOptions,
    usage: RawUsage,
    blocks: HashMap<u64, Block>,
    next_tool_index: u32,
    done: bool,
    saw_finish: bool,
}

impl AnthropicStreamDecoder {
    /// A decoder; `model` is used until `message_start` names the upstream model.
    pub fn new(model: &str, options: CallOptions) -> Self {
        AnthropicStreamDecoder {
            sse: SseParser::new(),
            events: Vec::new(),
            model: model.to_string(),
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            created: unix_now(),
            options,
            usage: RawUsage::default(),
            blocks: HashMap::new(),
            next_tool_index: 0,
            done: false,
            saw_finish: false,
        }
    }

    /// Whether the stream is over (`message_stop` seen or an error emitted).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds the next bytes; completed chunks and errors are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        self.sse.push(bytes, &mut self.events);
        self.drain(out);
    }

    /// The bytes have ended: flushes a last unterminated event, and reports a cut stream.
    pub fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        self.sse.finish(&mut self.events);
        self.drain(out);
        if !self.done && !self.saw_finish {
            out.push_back(Err(LlmError::upstream(
                ErrorKind::ApiConnection,
                "the anthropic stream ended before message_stop",
            )
            .with_provider(PROVIDER)));
        }
        self.done = true;
    }

    fn drain(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        let mut events = std::mem::take(&mut self.events);
        for ev in events.drain(..) {
            if self.done {
                break;
            }
            self.decode(ev, out);
        }
        self.events = events;
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        let mut c = ChatChunk::new(self.id.clone(), self.created, self.model.clone());
        c.choices.push(ChunkChoice {
            index: 0,
            delta,
            finish_reason,
            logprobs: None,
            extra: JsonMap::new(),
        });
        c
    }

    fn fail(&mut self, err: LlmError, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        self.done = true;
        out.push_back(Err(err));
    }

    fn decode(&mut self, ev: SseEvent, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        let data = ev.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return;
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                let err = if ev.event.as_deref() == Some("error") {
                    error_from_parts(None, None, None, data.as_bytes())
                } else {
                    invalid_upstream_body(PROVIDER, "stream event", &e, data.as_bytes())
                };
                return self.fail(err, out);
            }
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                let message = value.get("message");
                if let Some(id) = message.and_then(|m| m.get("id")).and_then(Value::as_str) {
                    self.id = id.to_string();
                }
                if let Some(m) = message.and_then(|m| m.get("model")).and_then(Value::as_str) {
                    self.model = m.to_string();
                }
                if let Some(u) = message.and_then(|m| m.get("usage")) {
                    self.usage.merge(u);
                }
                let delta = Delta {
                    role: Some("assistant".into()),
                    content: Some(String::new()),
                    ..Default::default()
                };
                out.push_back(Ok(self.chunk(delta, None)));
            }
            "content_block_start" => {
                let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                let block = value.get("content_block").cloned().unwrap_or(Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        self.blocks.insert(index, Block::Text);
                        let text = str_field(&block, "text");
                        if !text.is_empty() {
                            let delta = Delta {
                                content: Some(text),
                                ..Default::default()
                            };
                            out.push_back(Ok(self.chunk(delta, None)));
                        }
                    }
                    Some("tool_use") => {
                        let name = str_field(&block, "name");
                        if self.options.json_mode && name == RESPONSE_FORMAT_TOOL_NAME {
                            self.blocks.insert(index, Block::JsonTool);
                            return;
                        }
                        let tool_index = self.next_tool_index;
                        self.next_tool_index += 1;
                        self.blocks.insert(index, Block::Tool(tool_index));
                        let delta = Delta {
                            tool_calls: Some(vec![ToolCallDelta {
                                index: tool_index,
                                id: Some(str_field(&block, "id")),
                                kind: Some("function".into()),
                                function: Some(FunctionCallDelta {
                                    name: Some(name),
                                    arguments: Some(String::new()),
                                }),
                            }]),
                            ..Default::default()
                        };
                        out.push_back(Ok(self.chunk(delta, None)));
                    }
                    Some("thinking") => {
                        self.blocks.insert(index, Block::Thinking);
                    }
                    Some("redacted_thinking") => {
                        self.blocks.insert(index, Block::Other);
                        let mut delta = Delta::default();
                        delta
                            .extra
                            .insert("thinking_blocks".into(), Value::Array(vec![block]));
                        out.push_back(Ok(self.chunk(delta, None)));
                    }
                    _ => {
                        self.blocks.insert(index, Block::Other);
                    }
                }
            }
            "content_block_delta" => {
                let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                let block = self.blocks.get(&index).copied().unwrap_or(Block::Other);
                let d = value.get("delta").cloned().unwrap_or(Value::Null);
                let delta = match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let text = str_field(&d, "text");
                        if text.is_empty() {
                            return;
                        }
                        Delta {
                            content: Some(text),
                            ..Default::default()
                        }
                    }
                    Some("input_json_delta") => {
                        let partial = str_field(&d, "partial_json");
                        if partial.is_empty() {
                            return;
                        }
                        match block {
                            Block::JsonTool => Delta {
                                content: Some(partial),
                                ..Default::default()
                            },
                            Block::Tool(tool_index) => Delta {
                                tool_calls: Some(vec![ToolCallDelta {
                                    index: tool_index,
                                    id: None,
                                    kind: None,
                                    function: Some(FunctionCallDelta {
                                        name: None,
                                        arguments: Some(partial),
                                    }),
                                }]),
                                ..Default::default()
                            },
                            _ => return,
                        }
                    }
                    Some("thinking_delta") => {
                        let thinking = str_field(&d, "thinking");
                        let mut delta = Delta {
                            reasoning_content: Some(thinking.clone()),
                            ..Default::default()
                        };
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "thinking", "thinking": thinking}]),
                        );
                        delta
                    }
                    Some("signature_delta") => {
                        let mut delta = Delta::default();
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{
                                "type": "thinking",
                                "thinking": "",
                                "signature": str_field(&d, "signature")
                            }]),
                        );
                        delta
                    }
                    _ => return,
                };
                out.push_back(Ok(self.chunk(delta, None)));
            }
            "message_delta" => {
                if let Some(u) = value.get("usage") {
                    self.usage.merge(u);
                }
                let reason = value
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str);
                if let Some(reason) = reason {
                    let mut finish = map_stop_reason(reason);
                    if self.options.json_mode && finish == "tool_calls" && self.next_tool_index == 0
                    {
                        finish = "stop".into();
                    }
                    self.saw_finish = true;
                    out.push_back(Ok(self.chunk(Delta::default(), Some(finish))));
                    if self.options.include_usage {
                        let mut c =
                            ChatChunk::new(self.id.clone(), self.created, self.model.clone());
                        c.usage = Some(self.usage.to_usage());
                        out.push_back(Ok(c));
                    }
                }
            }
            "message_stop" => {
                if !self.saw_finish {
                    // No stop_reason was ever sent: end the message as a plain stop.
                    self.saw_finish = true;
                    out.push_back(Ok(self.chunk(Delta::default(), Some("stop".into()))));
                    if self.options.include_usage {
                        let mut c =
                            ChatChunk::new(self.id.clone(), self.created, self.model.clone());
                        c.usage = Some(self.usage.to_usage());
                        out.push_back(Ok(c));
                    }
                }
                self.done = true;
            }
            "error" => {
                let err = error_from_value(None, &value, data.as_bytes());
                self.fail(err, out);
            }
            // `ping`, `content_block_stop` and event types added later carry nothing for us.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> AnthropicAdapter {
        let params = ProviderParams {
            model: "anthropic/claude-x".into(),
            api_key: Some(SecretString::from("sk-ant-test-key")),
            ..Default::default()
        };
        AnthropicAdapter::with_env(&params, "claude-x", |_| None).expect("adapter")
    }

    #[test]
    fn base_urls_get_the_messages_path_once() {
        for (base, url) in [
            (None, "https://api.anthropic.com/v1/messages"),
            (Some("http://h:1/"), "http://h:1/v1/messages"),
            (Some("http://h:1/v1"), "http://h:1/v1/messages"),
            (Some("http://h:1/v1/messages"), "http://h:1/v1/messages"),
        ] {
            let params = ProviderParams {
                model: "anthropic/m".into(),
                api_base: base.map(str::to_string),
                ..Default::default()
            };
            let a = AnthropicAdapter::with_env(&params, "m", |_| None).expect("adapter");
            assert_eq!(a.url(), url);
        }
        let params = ProviderParams {
            model: "anthropic/m".into(),
            ..Default::default()
        };
        let env = |k: &str| match k {
            "ANTHROPIC_BASE_URL" => Some("http://env-base".to_string()),
            "ANTHROPIC_API_KEY" => Some("sk-ant-env".to_string()),
            _ => None,
        };
        let a = AnthropicAdapter::with_env(&params, "m", env).expect("adapter");
        assert_eq!(a.url(), "http://env-base/v1/messages");
        let req = a
            .build_chat_request(
                ChatRequest {
                    model: "m".into(),
                    messages: vec![Message::user("hi")],
                    ..Default::default()
                },
                false,
                &[],
            )
            .expect("request");
        assert_eq!(
            req.headers.get("x-api-key").map(|v| v.as_bytes()),
            Some(&b"sk-ant-env"[..])
        );
    }

    #[test]
    fn a_missing_key_is_an_authentication_error_at_call_time() {
        let params = ProviderParams {
            model: "anthropic/m".into(),
            ..Default::default()
        };
        let a = AnthropicAdapter::with_env(&params, "m", |_| None).expect("adapter");
        let e = a
            .build_chat_request(
                ChatRequest {
                    model: "m".into(),
                    messages: vec![Message::user("hi")],
                    ..Default::default()
                },
                false,
                &[],
            )
            .expect_err("no key");
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert!(e.message.contains("ANTHROPIC_API_KEY"), "{}", e.message);
    }

    #[test]
    fn unsupported_params_are_refused_or_dropped() {
        let a = adapter();
        let req = ChatRequest {
            model: "m".into(),
            messages: vec![Message::user("hi")],
            presence_penalty: Some(0.5),
            seed: Some(1),
            ..Default::default()
        };
        let e = a
            .translate_request(req.clone(), false)
            .expect_err("refused");
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(
            e.message.contains("presence_penalty") && e.message.contains("seed"),
            "{}",
            e.message
        );
        assert_eq!(e.param.as_deref(), Some("presence_penalty"));
        let mut dropping = req;
        dropping
            .extra
            .insert("drop_params".into(), Value::Bool(true));
        let body = a.translate_request(dropping, false).expect("dropped");
        assert!(!body.contains_key("presence_penalty") && !body.contains_key("seed"));
        assert!(!body.contains_key("drop_params"));
    }

    #[test]
    fn user_ids_that_look_personal_are_not_sent() {
        assert!(valid_user_id("user-123"));
        assert!(!valid_user_id("a@b.com"));
        assert!(!valid_user_id("+1 (555) 123-4567"));
        assert!(!valid_user_id(""));
    }

    #[test]
    fn deployment_defaults_fill_what_the_client_left_out() {
        let params: ProviderParams = serde_json::from_value(json!({
            "model": "anthropic/claude-x",
            "api_key": "sk-ant-x",
            "max_tokens": 100,
            "temperature": 0.1,
            "top_k": 5,
            "rpm": 10
        }))
        .expect("params");
        let a = AnthropicAdapter::with_env(&params, "claude-x", |_| None).expect("adapter");
        let body = a
            .translate_request(
                ChatRequest {
                    model: "m".into(),
                    messages: vec![Message::user("hi")],
                    temperature: Some(0.9),
                    ..Default::default()
                },
                false,
            )
            .expect("body");
        assert_eq!(body["max_tokens"], 100);
        assert_eq!(body["temperature"], 0.9);
        assert_eq!(body["top_k"], 5);
        assert!(!body.contains_key("rpm"));
    }

    #[test]
    fn stop_reasons_map_to_finish_reasons() {
        assert_eq!(map_stop_reason("end_turn"), "stop");
        assert_eq!(map_stop_reason("stop_sequence"), "stop");
        assert_eq!(map_stop_reason("max_tokens"), "length");
        assert_eq!(map_stop_reason("tool_use"), "tool_calls");
        assert_eq!(map_stop_reason("refusal"), "content_filter");
    }

    #[test]
    fn error_kinds_follow_type_then_status() {
        let h = HeaderMap::new();
        let body = |t: &str, m: &str| {
            serde_json::to_vec(&json!({"type": "error", "error": {"type": t, "message": m}}))
                .expect("json")
        };
        let cases: &[(u16, &str, &str, ErrorKind)] = &[
            (400, "invalid_request_error", "bad", ErrorKind::BadRequest),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
                ErrorKind::ContextWindowExceeded,
            ),
            (401, "authentication_error", "x", ErrorKind::Authentication),
            (403, "permission_error", "x", ErrorKind::PermissionDenied),
            (404, "not_found_error", "x", ErrorKind::NotFound),
            (413, "request_too_large", "x", ErrorKind::BadRequest),
            (429, "rate_limit_error", "x", ErrorKind::RateLimited),
            (500, "api_error", "x", ErrorKind::InternalServer),
            (
                529,
                "overloaded_error",
                "Overloaded",
                ErrorKind::ServiceUnavailable,
            ),
            (504, "timeout_error", "x", ErrorKind::Timeout),
            (502, "", "", ErrorKind::InternalServer),
        ];
        for (status, t, m, kind) in cases {
            let e = map_error(*status, &h, &body(t, m));
            assert_eq!(e.kind, *kind, "{status} {t}");
            assert_eq!(e.status, Some(*status));
            assert_eq!(e.provider.as_deref(), Some(PROVIDER));
        }
        assert_eq!(map_error(503, &h, b"").kind, ErrorKind::ServiceUnavailable);
        assert_eq!(
            map_error(529, &h, b"upstream busy").message,
            "upstream busy"
        );
    }

    #[test]
    fn an_echoed_key_is_scrubbed() {
        let e = adapter().map_error(
            401,
            &HeaderMap::new(),
            br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-test-key"}}"#,
        );
        assert_eq!(e.message, "invalid x-api-key <redacted>");
    }

    #[test]
    fn a_cut_stream_is_an_error_and_a_finished_one_is_not() {
        let a = adapter();
        let mut d = a.stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n", &mut out);
        d.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1].as_ref().expect_err("cut").kind,
            ErrorKind::ApiConnection
        );

        let mut d = a.stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(b"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n", &mut out);
        d.finish(&mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].is_ok());
    }
}
