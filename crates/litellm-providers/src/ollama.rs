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

use std::collections::VecDeque;

use bytes::Bytes;
use http::header::HeaderMap;
use http::Method;
use secrecy::SecretString;
use serde_json::{json, Value};

use litellm_core::{
    unix_now, ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Content, ContentPart,
    Delta, Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage,
    EmbeddingVector, ErrorKind, FunctionCall, FunctionCallDelta, JsonMap, KnownContentPart,
    KnownResponseFormat, LlmError, Message, ResponseFormat, ResponseMessage, ToolCall,
    ToolCallDelta, ToolChoice, Usage,
};

use crate::adapter_common::{
    clear_unsupported, deployment_defaults, deployment_headers, find_unsupported, forward_extra,
    merge_extra_body, new_call_id, prepare, resolve_api_base, resolve_api_key, scrub_key,
    serialize_body, stop_sequences, strip_first_suffix, unsupported_params, with_call_headers,
    KeyHeader, Prepared,
};
use crate::cohere::arguments_string;
use crate::mock::estimate_prompt_tokens;
use crate::openai::{kind_for_status, looks_like_context_window};
use crate::params::ProviderParams;
use crate::upstream::{invalid_upstream_body, parse_retry_after, truncate_chars, UpstreamRequest};

/// The provider name of `/api/generate` deployments.
pub const PROVIDER: &str = "ollama";

/// The provider name of `/api/chat` deployments.
pub const CHAT_PROVIDER: &str = "ollama_chat";

/// A local Ollama server.
pub const DEFAULT_API_BASE: &str = "http://localhost:11434";

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// Typed OpenAI parameters Ollama has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_TYPED: &[&str] = &[
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "n",
    "parallel_tool_calls",
];

/// [`UNSUPPORTED_TYPED`] for `ollama/` (`/api/generate`, which has no tools).
const UNSUPPORTED_TYPED_GENERATE: &[&str] = &[
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "n",
    "parallel_tool_calls",
    "tools",
    "functions",
];

/// OpenAI request fields Ollama has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "prediction",
    "web_search_options",
    "modalities",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
];

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "prompt",
    "images",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "input",
];

/// Ollama's model options (Modelfile `PARAMETER`s), sent in `options`.
const OPTION_KEYS: &[&str] = &[
    "num_ctx",
    "num_keep",
    "num_batch",
    "num_gpu",
    "main_gpu",
    "num_thread",
    "num_gqa",
    "repeat_last_n",
    "repeat_penalty",
    "mirostat",
    "mirostat_eta",
    "mirostat_tau",
    "tfs_z",
    "typical_p",
    "min_p",
    "top_k",
    "penalize_newline",
    "use_mmap",
    "use_mlock",
    "numa",
    "low_vram",
    "vocab_only",
];

/// Ollama's own top-level request fields.
const TOP_LEVEL_KEYS: &[&str] = &[
    "keep_alive",
    "think",
    "format",
    "raw",
    "suffix",
    "template",
    "system",
    "context",
];

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
    api_base: String,
    model: String,
    headers: HeaderMap,
    defaults: JsonMap,
    drop_params: bool,
    additional_drop_params: Vec<String>,
    api_key: Option<SecretString>,
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
        let (defaults, additional_drop_params) = deployment_defaults(params, STRUCTURAL_KEYS, &[])?;
        Ok(OllamaAdapter {
            mode,
            api_base,
            model: model.trim().to_string(),
            headers,
            defaults,
            drop_params: params.drop_params.unwrap_or(false),
            additional_drop_params,
            api_key,
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

    /// The base URL (no trailing `/`).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The model sent upstream.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Removes the deployment's key from a message, should an upstream have echoed it.
    pub fn scrub(&self, err: LlmError) -> LlmError {
        scrub_key(self.api_key.as_ref(), err)
    }

    fn request_headers(&self, extra_headers: &[(String, String)]) -> Result<HeaderMap, LlmError> {
        with_call_headers(&self.headers, extra_headers)
    }

    /// `POST {api_base}/api/chat` (or `/api/generate`) for `req`.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers)?;
        let mut body = self.translate_request(req)?;
        body.insert("stream".into(), Value::Bool(stream));
        let path = match self.mode {
            OllamaMode::Generate => "api/generate",
            OllamaMode::Chat => "api/chat",
        };
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}/{path}", self.api_base),
            headers,
            body: serialize_body(&Value::Object(body))?,
        })
    }

    /// The `/api/chat` or `/api/generate` body for `req` (without `stream`).
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        self.translate(req).map_err(|e| match e.provider {
            Some(_) => e,
            None => e.with_provider(self.provider()),
        })
    }

    fn translate(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        let provider = self.provider();
        let Prepared {
            mut req,
            extra_body: client_extra_body,
            drop,
        } = prepare(
            req,
            &self.defaults,
            &[],
            self.drop_params,
            &self.additional_drop_params,
        )?;
        self.check_unsupported(&mut req, drop)?;

        let mut body = JsonMap::new();
        body.insert("model".into(), Value::String(self.model.clone()));
        let messages = std::mem::take(&mut req.messages);
        match self.mode {
            OllamaMode::Chat => {
                body.insert("messages".into(), Value::Array(chat_messages(messages)?));
            }
            OllamaMode::Generate => {
                let (prompt, images) = generate_prompt(messages)?;
                body.insert("prompt".into(), Value::String(prompt));
                if !images.is_empty() {
                    body.insert("images".into(), json!(images));
                }
            }
        }

        let mut options = JsonMap::new();
        if let Some(t) = req.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            options.insert("top_p".into(), json!(p));
        }
        if let Some(n) = req.max_output_tokens() {
            options.insert("num_predict".into(), json!(n));
        }
        if let Some(seqs) = stop_sequences(&req) {
            options.insert("stop".into(), seqs);
        }
        if let Some(seed) = req.seed {
            options.insert("seed".into(), json!(seed));
        }
        if let Some(p) = req.frequency_penalty {
            options.insert("frequency_penalty".into(), json!(p));
        }
        if let Some(p) = req.presence_penalty {
            options.insert("presence_penalty".into(), json!(p));
        }
        for key in OPTION_KEYS {
            if let Some(v) = req.extra.remove(*key).filter(|v| !v.is_null()) {
                options.insert((*key).to_string(), v);
            }
        }
        match req.extra.remove("options") {
            None | Some(Value::Null) => {}
            Some(Value::Object(client)) => {
                for (k, v) in client {
                    options.entry(k).or_insert(v);
                }
            }
            Some(_) => {
                return Err(LlmError::bad_param(
                    "options",
                    "options must be a JSON object",
                ));
            }
        }
        if !options.is_empty() {
            body.insert("options".into(), Value::Object(options));
        }

        if let Some(format) = req.response_format.take() {
            match format {
                ResponseFormat::Known(KnownResponseFormat::Text) => {}
                ResponseFormat::Known(KnownResponseFormat::JsonObject) => {
                    body.insert("format".into(), json!("json"));
                }
                ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
                    body.insert(
                        "format".into(),
                        json_schema.schema.unwrap_or_else(|| json!("json")),
                    );
                }
                ResponseFormat::Other(v) => {
                    let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
                    return Err(LlmError::bad_param(
                        "response_format",
                        format!("response_format type {kind:?} is not supported for {provider}"),
                    )
                    .with_provider(provider));
                }
            }
        }
        if let Some(effort) = req.reasoning_effort.take() {
            let think = match effort.trim() {
                "none" | "disable" => json!(false),
                level if self.model.starts_with("gpt-oss") => json!(level),
                _ => json!(true),
            };
            body.insert("think".into(), think);
        }

        let send_tools = match req.tool_choice.take() {
            None => true,
            Some(ToolChoice::Mode(m)) if m == "auto" => true,
            Some(ToolChoice::Mode(m)) if m == "none" => false,
            Some(_) if drop => true,
            Some(ToolChoice::Mode(m)) if m != "required" && m != "any" => {
                return Err(LlmError::bad_param(
                    "tool_choice",
                    format!("tool_choice {m:?} is not one of none, auto, required"),
                ));
            }
            Some(_) => {
                let mut e = unsupported_params(provider, &["tool_choice"]);
                e.message = format!(
                    "{} (ollama cannot force a tool call; use tool_choice auto or none)",
                    e.message
                );
                return Err(e);
            }
        };
        let mut tools = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            if tool.kind != "function" {
                return Err(LlmError::bad_param(
                    "tools",
                    format!(
                        "{provider} supports only function tools, not {:?}",
                        tool.kind
                    ),
                )
                .with_provider(provider));
            }
            let Some(f) = tool.function else {
                return Err(LlmError::bad_param(
                    "tools",
                    "a function tool needs a `function` object",
                ));
            };
            tools.push(function_tool(f.name, f.description, f.parameters));
        }
        for f in req.functions.take().into_iter().flatten() {
            tools.push(function_tool(f.name, f.description, f.parameters));
        }
        req.function_call = None;
        if !tools.is_empty() && send_tools {
            body.insert("tools".into(), Value::Array(tools));
        }

        for key in TOP_LEVEL_KEYS {
            if let Some(v) = req.extra.remove(*key).filter(|v| !v.is_null()) {
                body.insert((*key).to_string(), v);
            }
        }
        forward_extra(
            &mut body,
            std::mem::take(&mut req.extra),
            STRUCTURAL_KEYS,
            true,
        );
        merge_extra_body(&mut body, client_extra_body, STRUCTURAL_KEYS, &[]);
        Ok(body)
    }

    /// Refuses (or, with `drop`, removes) the OpenAI parameters Ollama cannot honour.
    fn check_unsupported(&self, req: &mut ChatRequest, drop: bool) -> Result<(), LlmError> {
        let generate = self.mode == OllamaMode::Generate;
        let typed = if generate {
            UNSUPPORTED_TYPED_GENERATE
        } else {
            UNSUPPORTED_TYPED
        };
        if !drop {
            let found = find_unsupported(req, typed, UNSUPPORTED_EXTRA);
            if !found.is_empty() {
                let mut e = unsupported_params(self.provider(), &found);
                if generate && found.iter().any(|f| *f == "tools" || *f == "functions") {
                    e.message = format!(
                        "{} (ollama/ uses /api/generate, which has no tools: use ollama_chat/)",
                        e.message
                    );
                }
                return Err(e);
            }
        }
        clear_unsupported(req, typed, UNSUPPORTED_EXTRA);
        req.user = None;
        req.metadata = None;
        if generate {
            req.tool_choice = None;
        }
        Ok(())
    }

    /// Parses a successful (non-streamed) answer; `options` gives the prompt estimate used when
    /// Ollama omits `prompt_eval_count`.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(self.provider(), "response", &e, body))?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider(), None, &value, body));
        }
        let part = ResponsePart::of(self.mode, &value);
        let (mut reasoning, content) = split_think(part.content.as_deref().unwrap_or_default());
        if let Some(t) = part.thinking {
            reasoning = Some(t);
        }
        let tool_calls: Vec<ToolCall> = part
            .tool_calls
            .iter()
            .map(|c| ToolCall {
                id: c
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(new_call_id),
                kind: "function".into(),
                function: FunctionCall {
                    name: c
                        .pointer("/function/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    arguments: arguments_string(c.pointer("/function/arguments")),
                },
            })
            .collect();
        let finish = map_done_reason(
            value.get("done_reason").and_then(Value::as_str),
            !tool_calls.is_empty(),
        );
        Ok(ChatResponse {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            object: "chat.completion".into(),
            created: unix_now(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(&self.model)
                .to_string(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: (!content.is_empty() || tool_calls.is_empty()).then_some(content),
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: None,
                    reasoning_content: reasoning.filter(|r| !r.is_empty()),
                    extra: JsonMap::new(),
                },
                finish_reason: Some(finish),
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage: Some(usage_from(&value, options.prompt_estimate)),
            system_fingerprint: None,
            service_tier: None,
            extra: JsonMap::new(),
        })
    }

    /// A decoder for this deployment's NDJSON stream.
    pub fn stream_decoder(&self, options: CallOptions) -> OllamaStreamDecoder {
        OllamaStreamDecoder::new(self.provider(), self.mode, &self.model, options)
    }

    /// `POST {api_base}/api/embed` for `req`.
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers)?;
        let texts = match &req.input {
            EmbeddingInput::Text(_) | EmbeddingInput::Texts(_) => req.input.texts(),
            _ => {
                return Err(LlmError::bad_param(
                    "input",
                    format!(
                        "{} embeddings take text input, not token arrays",
                        self.provider()
                    ),
                )
                .with_provider(self.provider()));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let mut body = json!({ "model": self.model, "input": texts });
        if let Some(d) = req.dimensions {
            body["dimensions"] = json!(d);
        }
        for key in ["truncate", "keep_alive", "options", "dimensions"] {
            if body.get(key).is_some() {
                continue;
            }
            if let Some(v) = req
                .extra
                .get(key)
                .or_else(|| self.defaults.get(key))
                .filter(|v| !v.is_null())
            {
                body[key] = v.clone();
            }
        }
        let body = serde_json::to_vec(&body).map_err(|e| {
            LlmError::internal(format!("could not serialize the upstream request: {e}"))
        })?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}/api/embed", self.api_base),
            headers,
            body: Bytes::from(body),
        })
    }

    /// Parses an `/api/embed` answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let provider = self.provider();
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(provider, "embeddings response", &e, body))?;
        let Some(vectors) = value.get("embeddings").and_then(Value::as_array) else {
            return Err(error_from_value(provider, None, &value, body));
        };
        let wanted = req.input.len();
        if vectors.len() != wanted {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{provider} returned {} embeddings for {wanted} inputs",
                    vectors.len()
                ),
            )
            .with_provider(provider));
        }
        let mut data = Vec::with_capacity(vectors.len());
        for (i, v) in vectors.iter().enumerate() {
            let floats: Vec<f32> = serde_json::from_value(v.clone())
                .map_err(|e| invalid_upstream_body(provider, "embedding", &e, body))?;
            let mut embedding = EmbeddingVector::Float(floats);
            if req.wants_base64() {
                embedding = embedding.into_base64();
            }
            data.push(Embedding {
                object: "embedding".into(),
                index: i as u32,
                embedding,
            });
        }
        let prompt_tokens = value
            .get("prompt_eval_count")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| {
                req.input
                    .texts()
                    .iter()
                    .map(|t| (t.chars().count() as u64).div_ceil(4))
                    .sum()
            });
        Ok(EmbeddingResponse {
            object: "list".into(),
            data,
            model: self.model.clone(),
            usage: Some(EmbeddingUsage {
                prompt_tokens,
                total_tokens: prompt_tokens,
            }),
            extra: JsonMap::new(),
        })
    }

    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(self.provider(), status, headers, body))
    }
}

fn function_tool(name: String, description: Option<String>, parameters: Option<Value>) -> Value {
    let mut function = json!({ "name": name });
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        function["description"] = Value::String(d);
    }
    if let Some(p) = parameters.filter(|p| !p.is_null()) {
        function["parameters"] = p;
    }
    json!({"type": "function", "function": function})
}

/// An image part as the base64 Ollama takes: a data URL's payload or bare base64.
fn image_base64(url: &str, param: &str) -> Result<String, LlmError> {
    if let Some(rest) = url.strip_prefix("data:") {
        return match rest.split_once(";base64,") {
            Some((_, data)) if !data.is_empty() => Ok(data.to_string()),
            _ => Err(LlmError::bad_param(
                param,
                "a data URL must look like data:<media type>;base64,<data>",
            )),
        };
    }
    if url.contains("://") {
        return Err(LlmError::bad_param(
            param,
            format!(
                "ollama takes images as base64 data URLs; the URL {:?} is not fetched",
                truncate_chars(url, 60)
            ),
        ));
    }
    Ok(url.to_string())
}

/// The text (parts joined by newlines) and images of user content.
fn text_and_images(content: Content, param: &str) -> Result<(String, Vec<String>), LlmError> {
    match content {
        Content::Text(t) => Ok((t, Vec::new())),
        Content::Parts(parts) => {
            let mut texts = Vec::new();
            let mut images = Vec::new();
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => texts.push(t.text),
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        images.push(image_base64(&img.image_url.url, param)?);
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "ollama does not take audio input (input_audio parts)",
                        ));
                    }
                    ContentPart::Known(KnownContentPart::File(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "ollama does not take file parts",
                        ));
                    }
                    ContentPart::Other(v) => {
                        let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
                        return Err(LlmError::bad_param(
                            param,
                            format!("ollama does not take {kind:?} content parts"),
                        ));
                    }
                }
            }
            Ok((texts.join("\n"), images))
        }
    }
}

fn parse_arguments(arguments: &str, id: &str, param: &str) -> Result<Value, LlmError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str::<Value>(arguments).map_err(|e| {
        LlmError::bad_param(
            param,
            format!("the arguments of tool call {id:?} are not valid JSON: {e}"),
        )
    })
}

/// The OpenAI messages as `/api/chat` messages.
fn chat_messages(messages: Vec<Message>) -> Result<Vec<Value>, LlmError> {
    let mut out = Vec::with_capacity(messages.len());
    // Tool-call id -> function name, from the assistant messages seen so far.
    let mut call_names: Vec<(String, String)> = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        match message {
            Message::System(m) | Message::Developer(m) => {
                out.push(json!({"role": "system", "content": m.content.text()}));
            }
            Message::User(m) => {
                let (text, images) = text_and_images(m.content, &param)?;
                let mut msg = json!({"role": "user", "content": text});
                if !images.is_empty() {
                    msg["images"] = json!(images);
                }
                out.push(msg);
            }
            Message::Assistant(m) => {
                let text = m.content.as_ref().map(Content::text).unwrap_or_default();
                let mut msg = json!({"role": "assistant", "content": text});
                if let Some(r) = m.reasoning_content.filter(|r| !r.is_empty()) {
                    msg["thinking"] = Value::String(r);
                }
                let mut calls = Vec::new();
                for c in m.tool_calls.into_iter().flatten() {
                    let args = parse_arguments(&c.function.arguments, &c.id, &param)?;
                    calls.push(json!({"function": {"name": c.function.name, "arguments": args}}));
                    call_names.push((c.id, c.function.name));
                }
                if let Some(f) = m.function_call {
                    let args = parse_arguments(&f.arguments, &f.name, &param)?;
                    calls.push(json!({"function": {"name": f.name, "arguments": args}}));
                }
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                out.push(msg);
            }
            Message::Tool(m) => {
                let mut msg = json!({"role": "tool", "content": m.content.text()});
                if let Some((_, name)) = call_names
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == m.tool_call_id)
                {
                    msg["tool_name"] = Value::String(name.clone());
                }
                out.push(msg);
            }
            Message::Function(m) => {
                out.push(json!({
                    "role": "tool",
                    "content": m.content.unwrap_or_default(),
                    "tool_name": m.name
                }));
            }
        }
    }
    Ok(out)
}

/// LiteLLM's `ollama_pt`: the messages as one prompt, and the images of the user turns.
fn generate_prompt(messages: Vec<Message>) -> Result<(String, Vec<String>), LlmError> {
    enum Turn {
        User,
        System,
        Assistant,
    }
    let mut prompt = String::new();
    let mut images = Vec::new();
    let mut current: Option<(Turn, String)> = None;
    let flush = |prompt: &mut String, turn: Option<(Turn, String)>| {
        if let Some((turn, text)) = turn {
            if !text.is_empty() {
                let head = match turn {
                    Turn::User => "User",
                    Turn::System => "System",
                    Turn::Assistant => "Assistant",
                };
                prompt.push_str(&format!("### {head}:\n{text}\n\n"));
            }
        }
    };
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (turn, text) = match message {
            Message::User(m) => {
                let (text, imgs) = text_and_images(m.content, &param)?;
                images.extend(imgs);
                (Turn::User, text)
            }
            Message::Tool(m) => (Turn::User, m.content.text()),
            Message::Function(m) => (Turn::User, m.content.unwrap_or_default()),
            Message::System(m) | Message::Developer(m) => (Turn::System, m.content.text()),
            Message::Assistant(m) => {
                let mut text = m.content.as_ref().map(Content::text).unwrap_or_default();
                let mut calls = Vec::new();
                for c in m.tool_calls.into_iter().flatten() {
                    let args = parse_arguments(&c.function.arguments, &c.id, &param)?;
                    calls.push(json!({"id": c.id, "type": "function",
                        "function": {"name": c.function.name, "arguments": args}}));
                }
                if !calls.is_empty() {
                    let pretty = serde_json::to_string_pretty(&calls).map_err(|e| {
                        LlmError::internal(format!("could not serialize tool calls: {e}"))
                    })?;
                    text.push_str(&format!("Tool Calls: {pretty}"));
                }
                (Turn::Assistant, text)
            }
        };
        match &mut current {
            Some((t, acc)) if std::mem::discriminant(t) == std::mem::discriminant(&turn) => {
                acc.push_str(&text);
            }
            _ => {
                flush(&mut prompt, current.take());
                current = Some((turn, text));
            }
        }
    }
    flush(&mut prompt, current.take());
    Ok((prompt, images))
}

/// The parts of an answer (or a streamed object) that carry output.
struct ResponsePart {
    content: Option<String>,
    thinking: Option<String>,
    tool_calls: Vec<Value>,
}

impl ResponsePart {
    fn of(mode: OllamaMode, value: &Value) -> ResponsePart {
        let src = match mode {
            OllamaMode::Chat => value.get("message").unwrap_or(&Value::Null),
            OllamaMode::Generate => value,
        };
        let text_key = match mode {
            OllamaMode::Chat => "content",
            OllamaMode::Generate => "response",
        };
        ResponsePart {
            content: src
                .get(text_key)
                .and_then(Value::as_str)
                .map(str::to_string),
            thinking: src
                .get("thinking")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            tool_calls: src
                .get("tool_calls")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// A leading `<think>...</think>` block split off the content (LiteLLM's
/// `_parse_content_for_reasoning`).
fn split_think(content: &str) -> (Option<String>, String) {
    let trimmed = content.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<think>") {
        if let Some((reasoning, after)) = rest.split_once("</think>") {
            return (Some(reasoning.to_string()), after.trim_start().to_string());
        }
    }
    (None, content.to_string())
}

/// Ollama's `done_reason` as an OpenAI `finish_reason`.
pub fn map_done_reason(reason: Option<&str>, called_tools: bool) -> String {
    match reason {
        Some("length") => "length",
        _ if called_tools => "tool_calls",
        _ => "stop",
    }
    .to_string()
}

/// Usage from a final object: `prompt_eval_count` (else the estimate) and `eval_count`.
pub fn usage_from(value: &Value, prompt_estimate: u64) -> Usage {
    let prompt = value
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(prompt_estimate);
    let completion = value.get("eval_count").and_then(Value::as_u64).unwrap_or(0);
    Usage::new(prompt, completion)
}

fn looks_like_ollama_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("exceeds the context length")
        || m.contains("input length exceeds")
}

fn error_from_value(provider: &str, status: Option<u16>, value: &Value, raw: &[u8]) -> LlmError {
    let message = value
        .get("error")
        .and_then(|e| match e {
            Value::String(s) => Some(s.clone()),
            other => other
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            let text = String::from_utf8_lossy(raw);
            let t = text.trim();
            (!t.is_empty()).then(|| truncate_chars(t, MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{provider} returned HTTP {s} with an empty body"),
            None => format!("{provider} reported an error"),
        });
    let mut kind = match status {
        Some(s) => kind_for_status(s),
        None => ErrorKind::InternalServer,
    };
    if matches!(kind, ErrorKind::BadRequest | ErrorKind::InternalServer)
        && looks_like_ollama_context_window(&message)
    {
        kind = ErrorKind::ContextWindowExceeded;
    } else if status.is_none() && message.contains("not found") {
        kind = ErrorKind::NotFound;
    }
    let mut e = LlmError::upstream(kind, message).with_provider(provider);
    e.status = status;
    e
}

/// Maps an Ollama error response (`{"error": "..."}`) to an `LlmError` by status, keeping the
/// upstream message (a non-JSON body is used as text, truncated) and the `retry-after`.
pub fn map_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let value = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    error_from_value(provider, Some(status), &value, body)
        .with_retry_after(parse_retry_after(headers))
}

/// Turns Ollama's NDJSON stream into OpenAI chunks, incrementally: feed bytes as they arrive,
/// collect the chunks (and at most one error) they complete.
#[derive(Debug)]
pub struct OllamaStreamDecoder {
    provider: &'static str,
    mode: OllamaMode,
    buf: Vec<u8>,
    model: String,
    id: String,
    created: u64,
    options: CallOptions,
    started: bool,
    tool_calls: u32,
    done: bool,
}

impl OllamaStreamDecoder {
    /// A decoder; `model` is used until an object names its `model`.
    pub fn new(
        provider: &'static str,
        mode: OllamaMode,
        model: &str,
        options: CallOptions,
    ) -> Self {
        OllamaStreamDecoder {
            provider,
            mode,
            buf: Vec::new(),
            model: model.to_string(),
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            created: unix_now(),
            options,
            started: false,
            tool_calls: 0,
            done: false,
        }
    }

    /// Whether the stream is over (`done: true` seen, the body ended, or an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds the next bytes; completed chunks and errors are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            self.line(&line, out);
            if self.done {
                self.buf.clear();
                return;
            }
        }
    }

    /// The bytes have ended: decodes a last line without a newline, or reports a stream cut
    /// before `done: true`.
    pub fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        let rest = std::mem::take(&mut self.buf);
        self.line(&rest, out);
        if self.done {
            return;
        }
        self.done = true;
        out.push_back(Err(LlmError::upstream(
            ErrorKind::ApiConnection,
            format!("the {} stream ended before done: true", self.provider),
        )
        .with_provider(self.provider)));
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

    fn line(&mut self, line: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.done = true;
                out.push_back(Err(invalid_upstream_body(
                    self.provider,
                    "stream line",
                    &e,
                    text.as_bytes(),
                )));
                return;
            }
        };
        if value.get("error").is_some() {
            self.done = true;
            out.push_back(Err(error_from_value(
                self.provider,
                None,
                &value,
                text.as_bytes(),
            )));
            return;
        }
        if let Some(m) = value.get("model").and_then(Value::as_str) {
            self.model = m.to_string();
        }
        let part = ResponsePart::of(self.mode, &value);
        let mut delta = Delta {
            content: part.content.filter(|c| !c.is_empty()),
            reasoning_content: part.thinking,
            ..Default::default()
        };
        if !part.tool_calls.is_empty() {
            let mut calls = Vec::new();
            for c in &part.tool_calls {
                calls.push(ToolCallDelta {
                    index: self.tool_calls,
                    id: Some(
                        c.get("id")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(new_call_id),
                    ),
                    kind: Some("function".into()),
                    function: Some(FunctionCallDelta {
                        name: Some(
                            c.pointer("/function/name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                        ),
                        arguments: Some(arguments_string(c.pointer("/function/arguments"))),
                    }),
                });
                self.tool_calls += 1;
            }
            delta.tool_calls = Some(calls);
        }
        let has_delta = delta.content.is_some()
            || delta.reasoning_content.is_some()
            || delta.tool_calls.is_some();
        let done = value.get("done").and_then(Value::as_bool) == Some(true);
        if !self.started && (has_delta || done) {
            self.started = true;
            delta.role = Some("assistant".into());
            if delta.content.is_none() && delta.tool_calls.is_none() {
                delta.content = Some(String::new());
            }
        }
        if delta.role.is_some() || has_delta {
            out.push_back(Ok(self.chunk(delta, None)));
        }
        if done {
            let reason = map_done_reason(
                value.get("done_reason").and_then(Value::as_str),
                self.tool_calls > 0,
            );
            out.push_back(Ok(self.chunk(Delta::default(), Some(reason))));
            if self.options.include_usage {
                let mut c = ChatChunk::new(self.id.clone(), self.created, self.model.clone());
                c.usage = Some(usage_from(&value, self.options.prompt_estimate));
                out.push_back(Ok(c));
            }
            self.done = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(mode: OllamaMode) -> OllamaAdapter {
        let params = ProviderParams {
            model: "ollama/llama3".into(),
            ..Default::default()
        };
        OllamaAdapter::with_env(&params, "llama3", mode, |_| None).expect("adapter")
    }

    #[test]
    fn the_prompt_is_built_like_litellm() {
        let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Bye"},
            {"role": "user", "content": [{"type": "text", "text": " now"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]}
        ]}))
        .expect("request");
        let (prompt, images) = generate_prompt(req.messages).expect("prompt");
        assert_eq!(
            prompt,
            "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\nHello\n\n### User:\nBye now\n\n"
        );
        assert_eq!(images, vec!["QUJD".to_string()]);
    }

    #[test]
    fn http_images_and_generate_tools_are_refused() {
        let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}
        ]}))
        .expect("request");
        let e = adapter(OllamaMode::Chat)
            .translate_request(req)
            .expect_err("http image");
        assert_eq!(e.param.as_deref(), Some("messages[0]"));
        let req: ChatRequest = serde_json::from_value(json!({"model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]}))
        .expect("request");
        let e = adapter(OllamaMode::Generate)
            .translate_request(req)
            .expect_err("tools");
        assert_eq!(e.param.as_deref(), Some("tools"));
        assert!(e.message.contains("ollama_chat/"), "{}", e.message);
    }

    #[test]
    fn think_blocks_split_and_done_reasons_map() {
        assert_eq!(
            split_think("<think>hmm</think>\n\nAnswer"),
            (Some("hmm".into()), "Answer".into())
        );
        assert_eq!(split_think("plain"), (None, "plain".into()));
        assert_eq!(map_done_reason(Some("length"), true), "length");
        assert_eq!(map_done_reason(Some("stop"), true), "tool_calls");
        assert_eq!(map_done_reason(None, false), "stop");
    }

    #[test]
    fn a_cut_stream_and_an_error_line_are_errors() {
        let a = adapter(OllamaMode::Chat);
        let mut d = a.stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(
            b"{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n",
            &mut out,
        );
        d.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1].as_ref().expect_err("cut").kind,
            ErrorKind::ApiConnection
        );
        let mut d = a.stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(b"{\"error\":\"model \\\"x\\\" not found\"}\n", &mut out);
        assert_eq!(
            out[0].as_ref().expect_err("error").kind,
            ErrorKind::NotFound
        );
        assert!(d.is_done());
    }

    #[test]
    fn errors_map_by_status() {
        let h = HeaderMap::new();
        let e = map_error(
            CHAT_PROVIDER,
            404,
            &h,
            br#"{"error":"model \"nope\" not found, try pulling it first"}"#,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("try pulling"), "{}", e.message);
        let e = map_error(
            CHAT_PROVIDER,
            400,
            &h,
            br#"{"error":"the input length exceeds the context length"}"#,
        );
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
        let e = map_error(CHAT_PROVIDER, 500, &h, b"boom");
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::InternalServer, "boom")
        );
    }
}
