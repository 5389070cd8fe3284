//! The Gemini adapter (`gemini/` prefix, and the Gemini models of `vertex_ai/`): sans-IO
//! translation between our OpenAI-format types and Google's `generateContent` API. It builds
//! requests, parses responses, decodes the `streamGenerateContent?alt=sse` stream into OpenAI
//! chunks, translates embeddings and maps Google's error bodies; it never opens a socket.
//!
//! Upstream reference: <https://ai.google.dev/api/generate-content> (`GenerateContentRequest`,
//! `GenerateContentResponse`, `UsageMetadata`), <https://ai.google.dev/api/embeddings>
//! (`batchEmbedContents`), Vertex AI's `publishers/google/models/*:generateContent` (same body)
//! and `:predict` for text embeddings. LiteLLM's behaviour is
//! `litellm/llms/vertex_ai/gemini/transformation.py` and `vertex_and_google_ai_studio_gemini.py`.
//!
//! Translation, following LiteLLM:
//! - Google AI Studio: `POST {api_base}/v1beta/models/{model}:generateContent` (or
//!   `:streamGenerateContent?alt=sse`), key in the `x-goog-api-key` header (never `?key=`):
//!   deployment `api_key`, then `GEMINI_API_KEY`; `api_base` from the deployment, then
//!   `GEMINI_API_BASE`, then `https://generativelanguage.googleapis.com`. An `api_base` that
//!   already names the model (`.../models/{model}`, LiteLLM's custom-proxy form) is used as is;
//!   one ending in `/v1beta` gets `/models/{model}`. Vertex builds its own URL (`vertex_ai`).
//! - `system`/`developer` messages become `systemInstruction.parts`; `user` → role `user`,
//!   `assistant` → role `model` (text parts, then one `functionCall` part per tool call with the
//!   arguments parsed as JSON), `tool` → a `user` `functionResponse` part whose `name` is the
//!   one of the matching earlier tool call (a JSON-object result is sent as the response, any
//!   other result as `{"content": ...}`). Consecutive contents of the same role are merged.
//!   Images and files: `data:` URLs → `inlineData{mimeType,data}`, other URLs →
//!   `fileData{mimeType,fileUri}` (MIME type from `format`, else the file extension, else
//!   `image/jpeg`); `input_audio` → `inlineData` with `audio/{format}`.
//! - `generationConfig`: `temperature`, `top_p` → `topP`, `max_tokens`/`max_completion_tokens` →
//!   `maxOutputTokens`, `stop` → `stopSequences`, `n` → `candidateCount`, `presence_penalty`,
//!   `frequency_penalty`, `seed`, `logprobs` → `responseLogprobs`, `top_logprobs` → `logprobs`,
//!   `top_k` → `topK`; `response_format` `json_object` → `responseMimeType: application/json`,
//!   `json_schema` adds `responseSchema`; `reasoning_effort` → `thinkingConfig`
//!   (`thinkingBudget` 128/1024/2048/4096 for minimal/low/medium/high, 0 for `none`, with
//!   `includeThoughts`). Schemas lose the keywords Gemini's OpenAPI subset refuses (`$schema`,
//!   `additionalProperties`, `strict`); a function whose parameters are an object without
//!   properties is declared without `parameters`.
//! - `tools` → one `{"functionDeclarations": [...]}` entry (other tool objects, such as
//!   `{"googleSearch": {}}`, are forwarded); `tool_choice` `auto`/`required`/`none`/named →
//!   `toolConfig.functionCallingConfig` `AUTO`/`ANY`/`NONE`/`ANY` + `allowedFunctionNames`.
//! - Refused (a 400 naming them, or dropped with `drop_params`): `logit_bias`,
//!   `parallel_tool_calls: false`, `audio`, `prediction`, `web_search_options`, `verbosity`,
//!   `prompt_cache_key`, `safety_identifier`. `user` is not sent (Gemini has no such field).
//!   `safety_settings` → `safetySettings`, `cached_content` → `cachedContent`; other unknown
//!   fields are forwarded as they are, and deployment `litellm_params` fill in what the client
//!   did not set.
//! - Responses: each candidate is a choice; `text` parts → content, `thought: true` parts →
//!   `reasoning_content`, `functionCall` parts → `tool_calls` with generated `call_…` ids.
//!   Safety ratings and grounding metadata are kept on the response as LiteLLM names them
//!   (`vertex_ai_safety_ratings`, `vertex_ai_grounding_metadata`: one entry per candidate).
//!   `finishReason` `STOP` → `stop` (`tool_calls` when the candidate called a function),
//!   `MAX_TOKENS` → `length`, `SAFETY`/`RECITATION`/`BLOCKLIST`/`PROHIBITED_CONTENT`/`SPII`/
//!   `IMAGE_SAFETY` → `content_filter`; `MALFORMED_FUNCTION_CALL` is an `InternalServer` error
//!   (never an empty stop). A prompt blocked by `promptFeedback.blockReason` is one
//!   `content_filter` choice. Usage: `prompt_tokens` = `promptTokenCount`, `completion_tokens` =
//!   `candidatesTokenCount` + `thoughtsTokenCount` (unless the candidates count already includes
//!   them, i.e. prompt + candidates = total: LiteLLM's rule), `cachedContentTokenCount` →
//!   `prompt_tokens_details.cached_tokens`, `thoughtsTokenCount` →
//!   `completion_tokens_details.reasoning_tokens`.
//! - Streams: every SSE event is a `GenerateContentResponse`; its parts become deltas (a function
//!   call arrives whole, as one tool-call delta), a `finishReason` a finish chunk, and the last
//!   `usageMetadata` the final `choices: []` usage chunk (with `stream_options.include_usage`).
//!   A stream that ends without any `finishReason` is an `ApiConnection` error.
//! - Errors `{"error": {"code", "message", "status", "details"}}` map by `status`:
//!   `INVALID_ARGUMENT`/`FAILED_PRECONDITION`/`OUT_OF_RANGE` → BadRequest (ContextWindowExceeded
//!   for token-limit messages, Authentication for `API_KEY_INVALID`), `UNAUTHENTICATED` →
//!   Authentication, `PERMISSION_DENIED` → PermissionDenied, `NOT_FOUND` → NotFound,
//!   `RESOURCE_EXHAUSTED` → RateLimited, `UNAVAILABLE` → ServiceUnavailable,
//!   `DEADLINE_EXCEEDED` → Timeout, `INTERNAL` → InternalServer; then by HTTP status. A
//!   `google.rpc.RetryInfo` `retryDelay` is used as the retry-after when no header says so.
//! - Embeddings: Google AI Studio `:batchEmbedContents` (`requests[{model: "models/{m}",
//!   content: {parts: [{text}]}}]`, `dimensions` → `outputDimensionality`); Google reports no
//!   usage there, so `prompt_tokens` is estimated as ⌈chars/4⌉. Vertex uses `:predict`
//!   (`instances[{content}]`), whose `statistics.token_count` is exact.

use std::collections::VecDeque;

use http::header::HeaderMap;
use http::{HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use litellm_core::{
    unix_now, ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, CompletionTokensDetails,
    Content, ContentPart, Delta, Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse,
    EmbeddingUsage, EmbeddingVector, ErrorKind, FunctionCall, FunctionCallDelta, JsonMap,
    KnownContentPart, KnownResponseFormat, LlmError, Message, PromptTokensDetails, ResponseFormat,
    ResponseMessage, ToolCall, ToolCallDelta, ToolChoice, Usage,
};

use crate::adapter_common::{
    deployment_defaults, deployment_headers, forward_extra, merge_extra_body, missing_key,
    new_call_id, prepare, refuse_or_drop, resolve_api_base, resolve_api_key, scrub_key,
    serialize_body, stop_sequences, with_call_headers, KeyHeader, Prepared,
};
use crate::openai::{kind_for_status, looks_like_context_window};
use crate::params::ProviderParams;
use crate::sse::{SseEvent, SseParser};
use crate::upstream::{invalid_upstream_body, parse_retry_after, truncate_chars, UpstreamRequest};

/// The provider name of Google AI Studio deployments.
pub const PROVIDER: &str = "gemini";

/// The provider name of Vertex AI deployments.
pub const VERTEX_PROVIDER: &str = "vertex_ai";

/// Google AI Studio's public API base.
pub const DEFAULT_API_BASE: &str = "https://generativelanguage.googleapis.com";

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// OpenAI request fields Gemini has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "prediction",
    "web_search_options",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
];

/// Body fields the adapter builds itself; client extras and deployment defaults never set them.
const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "contents",
    "systemInstruction",
    "generationConfig",
    "tools",
    "toolConfig",
    "tool_choice",
];

/// Client fields with a Gemini name of their own at the top level of the body.
const TOP_LEVEL_RENAMES: &[(&str, &str)] = &[
    ("safety_settings", "safetySettings"),
    ("cached_content", "cachedContent"),
];

/// Client fields that belong in `generationConfig`, with their Gemini names.
const GENERATION_CONFIG_RENAMES: &[(&str, &str)] = &[
    ("top_k", "topK"),
    ("topK", "topK"),
    ("response_modalities", "responseModalities"),
    ("responseModalities", "responseModalities"),
    ("media_resolution", "mediaResolution"),
];

/// What the response side needs to know about the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// The client asked for a final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
}

impl CallOptions {
    /// The options implied by a request.
    pub fn of(req: &ChatRequest) -> CallOptions {
        CallOptions {
            include_usage: req.wants_stream_usage(),
        }
    }
}

/// How embeddings are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingStyle {
    /// Google AI Studio's `:batchEmbedContents`.
    BatchEmbedContents,
    /// Vertex AI's `:predict` with `instances[{content}]`.
    Predict,
}

/// One Gemini deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub struct GeminiAdapter {
    provider: &'static str,
    api_base: String,
    model: String,
    /// `.../models/{model}`: the method (`:generateContent`, ...) is appended.
    model_url: String,
    headers: HeaderMap,
    defaults: JsonMap,
    drop_params: bool,
    additional_drop_params: Vec<String>,
    api_key: Option<SecretString>,
    embedding_style: EmbeddingStyle,
}

impl GeminiAdapter {
    /// The Google AI Studio adapter for one deployment whose `gemini/` prefix has been stripped
    /// (`model`), reading defaults from the process environment.
    pub fn new(params: &ProviderParams, model: &str) -> Result<Self, LlmError> {
        Self::with_env(params, model, |name| std::env::var(name).ok())
    }

    /// As [`GeminiAdapter::new`], with the environment given as a lookup function.
    pub fn with_env(
        params: &ProviderParams,
        model: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let model = model.trim().trim_start_matches("models/").to_string();
        let api_base = resolve_api_base(params, &env, &["GEMINI_API_BASE"], DEFAULT_API_BASE);
        let model_url = if api_base.contains("/models/") {
            api_base.clone()
        } else if api_base.ends_with("/v1beta") || api_base.ends_with("/v1") {
            format!("{api_base}/models/{model}")
        } else {
            format!("{api_base}/v1beta/models/{model}")
        };
        let api_key = resolve_api_key(params, &env, &["GEMINI_API_KEY"]);
        let headers = deployment_headers(
            params,
            &[],
            api_key
                .as_ref()
                .map(|k| (k, KeyHeader::Named("x-goog-api-key"))),
        )?;
        let mut adapter = Self::base(params, PROVIDER, model, api_base, model_url, headers)?;
        adapter.api_key = api_key;
        Ok(adapter)
    }

    /// A Vertex AI adapter: `model_url` is the full `.../publishers/google/models/{model}`;
    /// the bearer token is given per request.
    pub fn vertex(
        params: &ProviderParams,
        model: &str,
        api_base: String,
        model_url: String,
    ) -> Result<Self, LlmError> {
        let headers = deployment_headers(params, &[], None)?;
        let mut adapter = Self::base(
            params,
            VERTEX_PROVIDER,
            model.to_string(),
            api_base,
            model_url,
            headers,
        )?;
        adapter.embedding_style = EmbeddingStyle::Predict;
        Ok(adapter)
    }

    fn base(
        params: &ProviderParams,
        provider: &'static str,
        model: String,
        api_base: String,
        model_url: String,
        headers: HeaderMap,
    ) -> Result<Self, LlmError> {
        let (defaults, additional_drop_params) = deployment_defaults(params, STRUCTURAL_KEYS, &[])?;
        Ok(GeminiAdapter {
            provider,
            api_base,
            model,
            model_url,
            headers,
            defaults,
            drop_params: params.drop_params.unwrap_or(false),
            additional_drop_params,
            api_key: None,
            embedding_style: EmbeddingStyle::BatchEmbedContents,
        })
    }

    /// The provider name (`gemini` or `vertex_ai`).
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The base URL (no trailing `/`).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The model sent upstream.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The URL of a method of the model: `generateContent`, `streamGenerateContent?alt=sse`, ...
    pub fn url(&self, method: &str) -> String {
        format!("{}:{method}", self.model_url)
    }

    /// Removes the deployment's key from a message, should an upstream have echoed it.
    pub fn scrub(&self, err: LlmError) -> LlmError {
        scrub_key(self.api_key.as_ref(), err)
    }

    fn request_headers(
        &self,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<HeaderMap, LlmError> {
        if self.provider == PROVIDER && self.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for gemini: set litellm_params.api_key or GEMINI_API_KEY",
            ));
        }
        let mut headers = self.headers.clone();
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| {
                    LlmError::upstream(
                        ErrorKind::Authentication,
                        "the OAuth2 access token is not a valid header value",
                    )
                    .with_provider(self.provider)
                })?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        with_call_headers(&headers, extra_headers)
    }

    /// `POST {model_url}:generateContent` (or `:streamGenerateContent?alt=sse`) for `req`, with
    /// per-call headers and, for Vertex, the OAuth2 access token.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers, bearer)?;
        let body = serialize_body(&Value::Object(self.translate_request(req)?))?;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.url(method),
            headers,
            body,
        })
    }

    /// The `GenerateContentRequest` body for `req`.
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
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
        let (system, contents) = translate_messages(std::mem::take(&mut req.messages))?;
        body.insert("contents".into(), Value::Array(contents));
        if !system.is_empty() {
            body.insert("systemInstruction".into(), json!({ "parts": system }));
        }

        let mut config = JsonMap::new();
        if let Some(t) = req.temperature {
            config.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            config.insert("topP".into(), json!(p));
        }
        if let Some(n) = req.max_output_tokens() {
            config.insert("maxOutputTokens".into(), json!(n));
        }
        if let Some(seqs) = stop_sequences(&req) {
            config.insert("stopSequences".into(), seqs);
        }
        if let Some(n) = req.n {
            config.insert("candidateCount".into(), json!(n));
        }
        if let Some(p) = req.presence_penalty {
            config.insert("presencePenalty".into(), json!(p));
        }
        if let Some(p) = req.frequency_penalty {
            config.insert("frequencyPenalty".into(), json!(p));
        }
        if let Some(seed) = req.seed {
            config.insert("seed".into(), json!(seed));
        }
        if let Some(lp) = req.logprobs {
            config.insert("responseLogprobs".into(), json!(lp));
        }
        if let Some(n) = req.top_logprobs {
            config.insert("logprobs".into(), json!(n));
        }
        if let Some(format) = req.response_format.take() {
            match format {
                ResponseFormat::Known(KnownResponseFormat::Text) => {}
                ResponseFormat::Known(KnownResponseFormat::JsonObject) => {
                    config.insert("responseMimeType".into(), json!("application/json"));
                }
                ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
                    config.insert("responseMimeType".into(), json!("application/json"));
                    if let Some(mut schema) = json_schema.schema {
                        clean_schema(&mut schema);
                        config.insert("responseSchema".into(), schema);
                    }
                }
                ResponseFormat::Other(v) => {
                    let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
                    return Err(LlmError::bad_param(
                        "response_format",
                        format!("response_format type {kind:?} is not supported for gemini"),
                    )
                    .with_provider(self.provider));
                }
            }
        }
        if let Some(thinking) = thinking_config(req.reasoning_effort.as_deref(), self.provider)? {
            config.insert("thinkingConfig".into(), thinking);
        }
        for (from, to) in GENERATION_CONFIG_RENAMES {
            if let Some(v) = req.extra.remove(*from) {
                if !v.is_null() {
                    config.insert((*to).to_string(), v);
                }
            }
        }
        if let Some(Value::Object(client_config)) = req.extra.remove("generationConfig") {
            for (k, v) in client_config {
                config.entry(k).or_insert(v);
            }
        }
        if !config.is_empty() {
            body.insert("generationConfig".into(), Value::Object(config));
        }

        // Tools and tool choice.
        let mut declarations: Vec<Value> = Vec::new();
        let mut other_tools: Vec<Value> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            if tool.kind == "function" {
                let Some(f) = tool.function else {
                    return Err(LlmError::bad_param(
                        "tools",
                        "a function tool needs a `function` object",
                    ));
                };
                declarations.push(function_declaration(f.name, f.description, f.parameters));
            } else {
                let mut map = tool.extra;
                if tool.kind.is_empty() || map.is_empty() {
                    map.insert(tool.kind.clone(), json!({}));
                }
                other_tools.push(Value::Object(map));
            }
        }
        for f in req.functions.take().into_iter().flatten() {
            declarations.push(function_declaration(f.name, f.description, f.parameters));
        }
        let mut tools = Vec::new();
        if !declarations.is_empty() {
            tools.push(json!({ "functionDeclarations": declarations }));
        }
        tools.extend(other_tools);
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        let choice = match req.tool_choice.take() {
            Some(c) => Some(c),
            None => match req.function_call.take() {
                Some(Value::String(mode)) => Some(ToolChoice::Mode(mode)),
                Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(|name| {
                    ToolChoice::Named(litellm_core::NamedToolChoice {
                        kind: "function".into(),
                        function: litellm_core::FunctionName {
                            name: name.to_string(),
                        },
                    })
                }),
                _ => None,
            },
        };
        if let Some(choice) = choice {
            body.insert("toolConfig".into(), tool_config(choice)?);
        }

        // Everything else the client sent that we do not model is forwarded.
        for (from, to) in TOP_LEVEL_RENAMES {
            if let Some(v) = req.extra.remove(*from) {
                if !v.is_null() {
                    body.insert((*to).to_string(), v);
                }
            }
        }
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
            &["generationConfig"],
        );
        Ok(body)
    }

    /// Refuses (or, with `drop`, removes) the OpenAI parameters Gemini cannot honour.
    fn check_unsupported(&self, req: &mut ChatRequest, drop: bool) -> Result<(), LlmError> {
        refuse_or_drop(
            self.provider,
            req,
            &["logit_bias", "parallel_tool_calls"],
            UNSUPPORTED_EXTRA,
            drop,
        )?;
        req.user = None;
        req.metadata = None;
        Ok(())
    }

    /// Parses a successful `GenerateContentResponse`.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(self.provider, "response", &e, body))?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider, None, &value, body));
        }
        let mut choices = Vec::new();
        let mut grounding = Vec::new();
        let mut safety = Vec::new();
        let candidates = value
            .get("candidates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, candidate) in candidates.iter().enumerate() {
            let index = candidate
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64) as u32;
            let reason = candidate.get("finishReason").and_then(Value::as_str);
            if reason == Some("MALFORMED_FUNCTION_CALL") {
                return Err(malformed_function_call(self.provider, candidate));
            }
            let parts = candidate_parts(candidate);
            let mut text = String::new();
            let mut reasoning = String::new();
            let mut tool_calls = Vec::new();
            for part in parts {
                if let Some(call) = part.get("functionCall") {
                    tool_calls.push(ToolCall {
                        id: new_call_id(),
                        kind: "function".into(),
                        function: FunctionCall {
                            name: str_field(call, "name"),
                            arguments: call
                                .get("args")
                                .filter(|a| !a.is_null())
                                .map(Value::to_string)
                                .unwrap_or_else(|| "{}".into()),
                        },
                    });
                } else if let Some(t) = part.get("text").and_then(Value::as_str) {
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        reasoning.push_str(t);
                    } else {
                        text.push_str(t);
                    }
                }
            }
            let finish_reason = reason.map(|r| map_finish_reason(r, !tool_calls.is_empty()));
            if let Some(g) = candidate.get("groundingMetadata") {
                grounding.push(g.clone());
            }
            if let Some(s) = candidate.get("safetyRatings") {
                safety.push(s.clone());
            }
            choices.push(Choice {
                index,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: (!text.is_empty()).then_some(text),
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: None,
                    reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                    extra: JsonMap::new(),
                },
                finish_reason,
                logprobs: None,
                extra: JsonMap::new(),
            });
        }
        if choices.is_empty() {
            // No candidate at all: the prompt was blocked (`promptFeedback.blockReason`).
            let blocked = value
                .get("promptFeedback")
                .and_then(|f| f.get("blockReason"))
                .is_some();
            if !blocked {
                return Err(LlmError::upstream(
                    ErrorKind::InternalServer,
                    format!(
                        "{} returned no candidates: {}",
                        self.provider,
                        truncate_chars(&String::from_utf8_lossy(body), 300)
                    ),
                )
                .with_provider(self.provider));
            }
            choices.push(Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: None,
                    tool_calls: None,
                    function_call: None,
                    refusal: None,
                    reasoning_content: None,
                    extra: JsonMap::new(),
                },
                finish_reason: Some("content_filter".into()),
                logprobs: None,
                extra: JsonMap::new(),
            });
        }
        let usage = value.get("usageMetadata").map(usage_from_metadata);
        // LiteLLM's names for Google's per-candidate metadata, kept on the response.
        let mut extra = JsonMap::new();
        if !grounding.is_empty() {
            extra.insert(
                "vertex_ai_grounding_metadata".into(),
                Value::Array(grounding),
            );
        }
        if !safety.is_empty() {
            extra.insert("vertex_ai_safety_ratings".into(), Value::Array(safety));
        }
        Ok(ChatResponse {
            id: value
                .get("responseId")
                .and_then(Value::as_str)
                .map(|id| format!("chatcmpl-{id}"))
                .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())),
            object: "chat.completion".into(),
            created: unix_now(),
            model: value
                .get("modelVersion")
                .and_then(Value::as_str)
                .unwrap_or(&self.model)
                .to_string(),
            choices,
            usage,
            system_fingerprint: None,
            service_tier: None,
            extra,
        })
    }

    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> GeminiStreamDecoder {
        GeminiStreamDecoder::new(self.provider, &self.model, options)
    }

    /// The embeddings request: `:batchEmbedContents` (AI Studio) or `:predict` (Vertex).
    pub fn build_embedding_request(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let headers = self.request_headers(extra_headers, bearer)?;
        let texts = match &req.input {
            EmbeddingInput::Text(_) | EmbeddingInput::Texts(_) => req.input.texts(),
            _ => {
                return Err(LlmError::bad_param(
                    "input",
                    format!(
                        "{} embeddings take text input, not token arrays",
                        self.provider
                    ),
                )
                .with_provider(self.provider));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let dimensions = req
            .dimensions
            .map(Value::from)
            .or_else(|| self.defaults.get("dimensions").cloned());
        let task_type = req
            .extra
            .get("task_type")
            .or_else(|| req.extra.get("taskType"))
            .or_else(|| self.defaults.get("task_type"))
            .cloned();
        let (method, body) = match self.embedding_style {
            EmbeddingStyle::BatchEmbedContents => {
                let requests: Vec<Value> = texts
                    .iter()
                    .map(|t| {
                        let mut r = json!({
                            "model": format!("models/{}", self.model),
                            "content": {"parts": [{"text": t}]}
                        });
                        if let Some(d) = &dimensions {
                            r["outputDimensionality"] = d.clone();
                        }
                        if let Some(tt) = &task_type {
                            r["taskType"] = tt.clone();
                        }
                        r
                    })
                    .collect();
                ("batchEmbedContents", json!({ "requests": requests }))
            }
            EmbeddingStyle::Predict => {
                let instances: Vec<Value> = texts
                    .iter()
                    .map(|t| {
                        let mut i = json!({ "content": t });
                        if let Some(tt) = &task_type {
                            i["task_type"] = tt.clone();
                        }
                        i
                    })
                    .collect();
                let mut body = json!({ "instances": instances });
                if let Some(d) = &dimensions {
                    body["parameters"] = json!({ "outputDimensionality": d });
                }
                ("predict", body)
            }
        };
        let body = serialize_body(&body)?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.url(method),
            headers,
            body,
        })
    }

    /// Parses an embeddings answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(self.provider, "embeddings response", &e, body))?;
        if value.get("error").is_some() {
            return Err(error_from_value(self.provider, None, &value, body));
        }
        let vectors: Vec<&Value> = match self.embedding_style {
            EmbeddingStyle::BatchEmbedContents => value
                .get("embeddings")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|e| e.get("values")).collect())
                .unwrap_or_default(),
            EmbeddingStyle::Predict => value
                .get("predictions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.get("embeddings").and_then(|e| e.get("values")))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let wanted = req.input.len();
        if vectors.len() != wanted {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{} returned {} embeddings for {wanted} inputs",
                    self.provider,
                    vectors.len()
                ),
            )
            .with_provider(self.provider));
        }
        let mut data = Vec::with_capacity(vectors.len());
        for (i, v) in vectors.into_iter().enumerate() {
            let floats: Vec<f32> = serde_json::from_value(v.clone())
                .map_err(|e| invalid_upstream_body(self.provider, "embedding", &e, body))?;
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
        let prompt_tokens = match self.embedding_style {
            EmbeddingStyle::Predict => value
                .get("predictions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| {
                            p.pointer("/embeddings/statistics/token_count")
                                .and_then(Value::as_f64)
                        })
                        .map(|t| t as u64)
                        .sum()
                })
                .unwrap_or(0),
            EmbeddingStyle::BatchEmbedContents => req
                .input
                .texts()
                .iter()
                .map(|t| (t.chars().count() as u64).div_ceil(4))
                .sum(),
        };
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
        self.scrub(map_error(self.provider, status, headers, body))
    }
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn candidate_parts(candidate: &Value) -> Vec<Value> {
    candidate
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn malformed_function_call(provider: &str, candidate: &Value) -> LlmError {
    let detail = candidate
        .get("finishMessage")
        .and_then(Value::as_str)
        .map(|m| format!(": {}", truncate_chars(m, 300)))
        .unwrap_or_default();
    LlmError::upstream(
        ErrorKind::InternalServer,
        format!(
            "{provider} finished with MALFORMED_FUNCTION_CALL: the model produced a function call \
             that could not be parsed{detail}"
        ),
    )
    .with_provider(provider)
}

/// `reasoning_effort` as a `thinkingConfig` (LiteLLM's budgets).
fn thinking_config(effort: Option<&str>, provider: &str) -> Result<Option<Value>, LlmError> {
    let budget = match effort.map(str::trim) {
        None | Some("") => return Ok(None),
        Some("none") | Some("disable") => return Ok(Some(json!({"thinkingBudget": 0}))),
        Some("minimal") => 128,
        Some("low") => 1024,
        Some("medium") => 2048,
        Some("high") => 4096,
        Some(other) => {
            return Err(LlmError::bad_param(
                "reasoning_effort",
                format!(
                    "reasoning_effort {other:?} is not supported for {provider}; use none, \
                     minimal, low, medium or high"
                ),
            ));
        }
    };
    Ok(Some(
        json!({"thinkingBudget": budget, "includeThoughts": true}),
    ))
}

/// Removes the JSON-Schema keywords Gemini's OpenAPI schema subset refuses, recursively.
pub fn clean_schema(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            for key in ["$schema", "additionalProperties", "strict", "$id"] {
                map.shift_remove(key);
            }
            for (_, v) in map.iter_mut() {
                clean_schema(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean_schema),
        _ => {}
    }
}

fn function_declaration(
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
) -> Value {
    let mut decl = json!({ "name": name });
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        decl["description"] = Value::String(d);
    }
    if let Some(mut params) = parameters {
        clean_schema(&mut params);
        let empty_object = params.get("type").and_then(Value::as_str) == Some("object")
            && params
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(|p| p.is_empty());
        if !empty_object && !params.is_null() {
            decl["parameters"] = params;
        }
    }
    decl
}

fn tool_config(choice: ToolChoice) -> Result<Value, LlmError> {
    let config = match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => json!({"mode": "AUTO"}),
            "required" | "any" => json!({"mode": "ANY"}),
            "none" => json!({"mode": "NONE"}),
            other => {
                return Err(LlmError::bad_param(
                    "tool_choice",
                    format!("tool_choice {other:?} is not one of none, auto, required"),
                ));
            }
        },
        ToolChoice::Named(named) => {
            json!({"mode": "ANY", "allowedFunctionNames": [named.function.name]})
        }
        ToolChoice::Other(v) => {
            if let Some(config) = v.get("functionCallingConfig") {
                return Ok(json!({ "functionCallingConfig": config }));
            }
            return Err(LlmError::bad_param(
                "tool_choice",
                "tool_choice must be none, auto, required or {\"type\": \"function\", \
                 \"function\": {\"name\": ...}}",
            ));
        }
    };
    Ok(json!({ "functionCallingConfig": config }))
}

/// A `data:<media>;base64,<data>` URL split into media type and data.
fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((if media.is_empty() { "image/png" } else { media }, data))
}

/// The MIME type of a file URL by its extension.
fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "mov" => "video/mov",
        "txt" => "text/plain",
        _ => return None,
    })
}

fn media_part(url: &str, format: Option<&str>, param: &str) -> Result<Value, LlmError> {
    if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "a data URL must look like data:<media type>;base64,<data>",
            ));
        };
        return Ok(json!({"inlineData": {"mimeType": format.unwrap_or(media), "data": data}}));
    }
    if url.contains("://") {
        let mime = format
            .or_else(|| mime_from_url(url))
            .unwrap_or("image/jpeg");
        return Ok(json!({"fileData": {"mimeType": mime, "fileUri": url}}));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "unsupported image URL {:?}: use an http(s) or gs:// URL or a base64 data URL",
            truncate_chars(url, 60)
        ),
    ))
}

/// User-side content as Gemini parts.
fn content_parts(content: Content, param: &str) -> Result<Vec<Value>, LlmError> {
    match content {
        Content::Text(text) => Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![json!({ "text": text })]
        }),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if !t.text.is_empty() {
                            out.push(json!({ "text": t.text }));
                        }
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        let format = img.image_url.extra.get("format").and_then(Value::as_str);
                        out.push(media_part(&img.image_url.url, format, param)?);
                    }
                    ContentPart::Known(KnownContentPart::File(f)) => {
                        let format = f.file.extra.get("format").and_then(Value::as_str);
                        if let Some(data) = &f.file.file_data {
                            out.push(media_part(data, format, param)?);
                        } else if let Some(id) = &f.file.file_id {
                            let mime = format
                                .or_else(|| mime_from_url(id))
                                .unwrap_or("application/pdf");
                            out.push(json!({"fileData": {"mimeType": mime, "fileUri": id}}));
                        } else {
                            return Err(LlmError::bad_param(
                                param,
                                "a file part needs file_data or file_id",
                            ));
                        }
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(a)) => {
                        out.push(json!({"inlineData": {
                            "mimeType": format!("audio/{}", a.input_audio.format),
                            "data": a.input_audio.data
                        }}));
                    }
                    // A part already in Gemini's shape (or one we do not know): forwarded.
                    ContentPart::Other(v) => out.push(v),
                }
            }
            Ok(out)
        }
    }
}

fn text_parts(content: Content) -> Vec<Value> {
    let text = content.text();
    if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({ "text": text })]
    }
}

/// Splits the OpenAI messages into `systemInstruction` parts and `contents`.
fn translate_messages(messages: Vec<Message>) -> Result<(Vec<Value>, Vec<Value>), LlmError> {
    let mut system: Vec<Value> = Vec::new();
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    // Tool-call id -> function name, from the assistant messages seen so far.
    let mut call_names: Vec<(String, String)> = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, parts) = match message {
            Message::System(m) | Message::Developer(m) => {
                system.extend(text_parts(m.content));
                continue;
            }
            Message::User(m) => ("user", content_parts(m.content, &param)?),
            Message::Assistant(m) => {
                let mut parts = match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => vec![json!({ "text": t })],
                    Some(c @ Content::Parts(_)) => text_parts(c),
                    _ => Vec::new(),
                };
                let calls = m
                    .tool_calls
                    .into_iter()
                    .flatten()
                    .map(|c| (c.id, c.function))
                    .chain(m.function_call.map(|f| (f.name.clone(), f)));
                for (id, function) in calls {
                    let args = if function.arguments.trim().is_empty() {
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
                    parts.push(json!({"functionCall": {"name": function.name, "args": args}}));
                    call_names.push((id, function.name));
                }
                ("model", parts)
            }
            Message::Tool(m) => {
                let Some(name) = call_names
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == m.tool_call_id)
                    .map(|(_, name)| name.clone())
                else {
                    return Err(LlmError::bad_param(
                        param,
                        format!(
                            "tool message for tool_call_id {:?} has no matching tool call in an \
                             earlier assistant message (gemini needs the function name)",
                            m.tool_call_id
                        ),
                    ));
                };
                let text = m.content.text();
                ("user", vec![function_response(&name, &text)])
            }
            Message::Function(m) => {
                let text = m.content.unwrap_or_default();
                ("user", vec![function_response(&m.name, &text)])
            }
        };
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last_role, last_parts)) if *last_role == role => last_parts.extend(parts),
            _ => out.push((role, parts)),
        }
    }
    if out.is_empty() && !system.is_empty() {
        // Gemini needs at least one content: a system-only prompt is sent as the user turn.
        out.push(("user", std::mem::take(&mut system)));
    }
    let contents = out
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    Ok((system, contents))
}

fn function_response(name: &str, text: &str) -> Value {
    let response = match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "content": text }),
    };
    json!({"functionResponse": {"name": name, "response": response}})
}

/// Gemini's `finishReason` as an OpenAI `finish_reason`.
pub fn map_finish_reason(reason: &str, called_tools: bool) -> String {
    let mapped = match reason {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ => "stop",
    };
    if called_tools && mapped == "stop" {
        "tool_calls".into()
    } else {
        mapped.into()
    }
}

/// Our usage from Gemini's `usageMetadata` (see the module docs for the rules).
pub fn usage_from_metadata(m: &Value) -> Usage {
    let get = |k: &str| m.get(k).and_then(Value::as_u64);
    let prompt = get("promptTokenCount").unwrap_or(0);
    let candidates = get("candidatesTokenCount").unwrap_or(0);
    let thoughts = get("thoughtsTokenCount");
    let inclusive = get("totalTokenCount").is_some_and(|total| prompt + candidates == total);
    let completion = candidates + if inclusive { 0 } else { thoughts.unwrap_or(0) };
    let mut usage = Usage::new(prompt, completion);
    if let Some(cached) = get("cachedContentTokenCount") {
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(cached),
            cache_creation_tokens: None,
            audio_tokens: None,
            extra: JsonMap::new(),
        });
    }
    if let Some(t) = thoughts {
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(t),
            ..Default::default()
        });
    }
    usage
}

/// The kind for a Google RPC `status` string.
fn kind_for_google_status(status: &str) -> Option<ErrorKind> {
    Some(match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::BadRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "UNAVAILABLE" | "ABORTED" => ErrorKind::ServiceUnavailable,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => ErrorKind::InternalServer,
        "CANCELLED" => ErrorKind::ApiConnection,
        _ => return None,
    })
}

fn looks_like_gemini_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("exceeds the maximum number of tokens")
        || m.contains("input token count") && m.contains("exceeds")
        || m.contains("prompt is too long")
}

/// `google.rpc.RetryInfo.retryDelay` (`"17s"`, `"1.5s"`) from an error's details.
fn retry_delay(details: Option<&Value>) -> Option<std::time::Duration> {
    details?.as_array()?.iter().find_map(|d| {
        let t = d.get("@type").and_then(Value::as_str)?;
        if !t.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        let raw = d.get("retryDelay").and_then(Value::as_str)?;
        let secs: f64 = raw.trim().strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| std::time::Duration::from_secs_f64(secs))
    })
}

fn has_reason(details: Option<&Value>, reason: &str) -> bool {
    details.and_then(Value::as_array).is_some_and(|a| {
        a.iter()
            .any(|d| d.get("reason").and_then(Value::as_str) == Some(reason))
    })
}

/// An error from a parsed body: `{"error": {"code", "message", "status", "details"}}`, also as
/// the one element of an array (as `streamGenerateContent` without SSE answers).
fn error_from_value(provider: &str, status: Option<u16>, value: &Value, raw: &[u8]) -> LlmError {
    let value = match value {
        Value::Array(items) if items.len() == 1 => &items[0],
        v => v,
    };
    let err = value.get("error");
    let google_status = err
        .and_then(|e| e.get("status"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let details = err.and_then(|e| e.get("details"));
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
                .and_then(Value::as_str)
                .map(str::to_string)
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
    let code = err
        .and_then(|e| e.get("code"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let status = status.or(code);
    let mut kind = match (
        google_status.as_deref().and_then(kind_for_google_status),
        status,
    ) {
        (Some(k), _) => k,
        (None, Some(s)) => kind_for_status(s),
        (None, None) => ErrorKind::InternalServer,
    };
    if kind == ErrorKind::BadRequest {
        if has_reason(details, "API_KEY_INVALID") || message.contains("API key not valid") {
            kind = ErrorKind::Authentication;
        } else if looks_like_gemini_context_window(&message) {
            kind = ErrorKind::ContextWindowExceeded;
        }
    }
    let mut e = LlmError::upstream(kind, message).with_provider(provider);
    e.status = status;
    e.with_retry_after(retry_delay(details))
}

/// Maps a Google error response to an `LlmError`, by Google's `status` first and the HTTP status
/// otherwise (see the module docs), keeping the upstream message (a non-JSON body is used as
/// text, truncated) and the retry delay (`retry-after`, else `RetryInfo`).
pub fn map_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let err = match serde_json::from_slice::<Value>(body) {
        Ok(v) => error_from_value(provider, Some(status), &v, body),
        Err(_) => error_from_value(provider, Some(status), &Value::Null, body),
    };
    match parse_retry_after(headers) {
        Some(d) => err.with_retry_after(Some(d)),
        None => err,
    }
}

/// Per-candidate state of a stream.
#[derive(Debug, Default, Clone)]
struct CandidateState {
    started: bool,
    tool_calls: u32,
    finished: bool,
}

/// Turns Gemini's SSE stream into OpenAI chunks, incrementally: feed bytes as they arrive,
/// collect the chunks (and at most one error) they complete.
#[derive(Debug)]
pub struct GeminiStreamDecoder {
    provider: &'static str,
    sse: SseParser,
    events: Vec<SseEvent>,
    model: String,
    id: String,
    created: u64,
    options: CallOptions,
    usage: Option<Usage>,
    candidates: Vec<CandidateState>,
    saw_finish: bool,
    done: bool,
}

impl GeminiStreamDecoder {
    /// A decoder; `model` is used until an event names the `modelVersion`.
    pub fn new(provider: &'static str, model: &str, options: CallOptions) -> Self {
        GeminiStreamDecoder {
            provider,
            sse: SseParser::new(),
            events: Vec::new(),
            model: model.to_string(),
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            created: unix_now(),
            options,
            usage: None,
            candidates: Vec::new(),
            saw_finish: false,
            done: false,
        }
    }

    /// Whether the stream is over (the body ended or an error was emitted).
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

    /// The bytes have ended: flushes a last unterminated event, then emits the usage chunk, or
    /// reports a stream cut before any `finishReason`.
    pub fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        self.sse.finish(&mut self.events);
        self.drain(out);
        if self.done {
            return;
        }
        self.done = true;
        if !self.saw_finish {
            out.push_back(Err(LlmError::upstream(
                ErrorKind::ApiConnection,
                format!("the {} stream ended before any finishReason", self.provider),
            )
            .with_provider(self.provider)));
            return;
        }
        if self.options.include_usage {
            let mut c = ChatChunk::new(self.id.clone(), self.created, self.model.clone());
            c.usage = Some(self.usage.clone().unwrap_or_default());
            out.push_back(Ok(c));
        }
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

    fn chunk(&self, index: u32, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        let mut c = ChatChunk::new(self.id.clone(), self.created, self.model.clone());
        c.choices.push(ChunkChoice {
            index,
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
                let err = invalid_upstream_body(self.provider, "stream event", &e, data.as_bytes());
                return self.fail(err, out);
            }
        };
        if value.get("error").is_some() {
            let err = error_from_value(self.provider, None, &value, data.as_bytes());
            return self.fail(err, out);
        }
        if let Some(m) = value.get("modelVersion").and_then(Value::as_str) {
            self.model = m.to_string();
        }
        if let Some(id) = value.get("responseId").and_then(Value::as_str) {
            if !self.candidates.iter().any(|c| c.started) {
                self.id = format!("chatcmpl-{id}");
            }
        }
        if let Some(m) = value.get("usageMetadata") {
            self.usage = Some(usage_from_metadata(m));
        }
        let candidates = value
            .get("candidates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if candidates.is_empty() {
            if value
                .get("promptFeedback")
                .and_then(|f| f.get("blockReason"))
                .is_some()
            {
                self.saw_finish = true;
                let delta = Delta {
                    role: Some("assistant".into()),
                    ..Default::default()
                };
                out.push_back(Ok(self.chunk(0, delta, Some("content_filter".into()))));
            }
            return;
        }
        for (i, candidate) in candidates.iter().enumerate() {
            let index = candidate
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64) as usize;
            if self.candidates.len() <= index {
                self.candidates.resize(index + 1, CandidateState::default());
            }
            let reason = candidate.get("finishReason").and_then(Value::as_str);
            if reason == Some("MALFORMED_FUNCTION_CALL") {
                let err = malformed_function_call(self.provider, candidate);
                return self.fail(err, out);
            }
            let mut delta = Delta::default();
            let mut text = String::new();
            let mut reasoning = String::new();
            let mut calls = Vec::new();
            for part in candidate_parts(candidate) {
                if let Some(call) = part.get("functionCall") {
                    let state = &mut self.candidates[index];
                    calls.push(ToolCallDelta {
                        index: state.tool_calls,
                        id: Some(new_call_id()),
                        kind: Some("function".into()),
                        function: Some(FunctionCallDelta {
                            name: Some(str_field(call, "name")),
                            arguments: Some(
                                call.get("args")
                                    .filter(|a| !a.is_null())
                                    .map(Value::to_string)
                                    .unwrap_or_else(|| "{}".into()),
                            ),
                        }),
                    });
                    state.tool_calls += 1;
                } else if let Some(t) = part.get("text").and_then(Value::as_str) {
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        reasoning.push_str(t);
                    } else {
                        text.push_str(t);
                    }
                }
            }
            if !text.is_empty() {
                delta.content = Some(text);
            }
            if !reasoning.is_empty() {
                delta.reasoning_content = Some(reasoning);
            }
            if !calls.is_empty() {
                delta.tool_calls = Some(calls);
            }
            let has_delta = delta.content.is_some()
                || delta.reasoning_content.is_some()
                || delta.tool_calls.is_some();
            let state = &mut self.candidates[index];
            if !state.started && (has_delta || reason.is_some()) {
                state.started = true;
                delta.role = Some("assistant".into());
                if delta.content.is_none() && delta.tool_calls.is_none() {
                    delta.content = Some(String::new());
                }
            }
            let called_tools = state.tool_calls > 0;
            let finish = match reason {
                Some(r) if !state.finished => {
                    state.finished = true;
                    Some(map_finish_reason(r, called_tools))
                }
                _ => None,
            };
            if delta.role.is_some() || has_delta {
                out.push_back(Ok(self.chunk(index as u32, delta, None)));
            }
            if let Some(finish) = finish {
                self.saw_finish = true;
                out.push_back(Ok(self.chunk(index as u32, Delta::default(), Some(finish))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(json: Value) -> ProviderParams {
        serde_json::from_value(json).expect("params")
    }

    fn adapter() -> GeminiAdapter {
        GeminiAdapter::with_env(
            &params(json!({"model": "gemini/gemini-2.0-flash", "api_key": "AIza-test-key"})),
            "gemini-2.0-flash",
            |_| None,
        )
        .expect("adapter")
    }

    #[test]
    fn base_urls_name_the_model_once() {
        for (base, url) in [
            (
                None,
                "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent",
            ),
            (
                Some("http://h:1/"),
                "http://h:1/v1beta/models/m:generateContent",
            ),
            (
                Some("http://h:1/v1beta"),
                "http://h:1/v1beta/models/m:generateContent",
            ),
            (
                Some("http://h:1/proxy/v1beta/models/m"),
                "http://h:1/proxy/v1beta/models/m:generateContent",
            ),
        ] {
            let mut p = params(json!({"model": "gemini/m"}));
            p.api_base = base.map(str::to_string);
            let a = GeminiAdapter::with_env(&p, "m", |_| None).expect("adapter");
            assert_eq!(a.url("generateContent"), url);
        }
    }

    #[test]
    fn the_key_goes_in_a_sensitive_header_never_the_url() {
        let env = |k: &str| (k == "GEMINI_API_KEY").then(|| "AIza-env".to_string());
        let a = GeminiAdapter::with_env(&params(json!({"model": "gemini/m"})), "m", env)
            .expect("adapter");
        let req = a
            .build_chat_request(
                ChatRequest {
                    model: "m".into(),
                    messages: vec![Message::user("hi")],
                    ..Default::default()
                },
                true,
                &[],
                None,
            )
            .expect("request");
        assert!(req.url.ends_with(":streamGenerateContent?alt=sse"));
        assert!(!req.url.contains("key="));
        let h = req.headers.get("x-goog-api-key").expect("key header");
        assert!(h.is_sensitive());
        assert_eq!(h.as_bytes(), b"AIza-env");

        let a = GeminiAdapter::with_env(&params(json!({"model": "gemini/m"})), "m", |_| None)
            .expect("adapter");
        let e = a
            .build_chat_request(
                ChatRequest {
                    model: "m".into(),
                    messages: vec![Message::user("hi")],
                    ..Default::default()
                },
                false,
                &[],
                None,
            )
            .expect_err("no key");
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert!(e.message.contains("GEMINI_API_KEY"), "{}", e.message);
    }

    #[test]
    fn finish_reasons_map() {
        assert_eq!(map_finish_reason("STOP", false), "stop");
        assert_eq!(map_finish_reason("STOP", true), "tool_calls");
        assert_eq!(map_finish_reason("MAX_TOKENS", true), "length");
        for r in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
        ] {
            assert_eq!(map_finish_reason(r, false), "content_filter");
        }
        assert_eq!(map_finish_reason("OTHER", false), "stop");
    }

    #[test]
    fn usage_adds_thoughts_unless_already_included() {
        let u = usage_from_metadata(&json!({"promptTokenCount": 10, "candidatesTokenCount": 5,
            "thoughtsTokenCount": 7, "totalTokenCount": 22, "cachedContentTokenCount": 4}));
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (10, 12, 22)
        );
        assert_eq!(u.cached_tokens(), 4);
        assert_eq!(u.reasoning_tokens(), 7);
        let u = usage_from_metadata(&json!({"promptTokenCount": 10, "candidatesTokenCount": 12,
            "thoughtsTokenCount": 7, "totalTokenCount": 22}));
        assert_eq!((u.completion_tokens, u.reasoning_tokens()), (12, 7));
    }

    #[test]
    fn errors_map_by_google_status() {
        let h = HeaderMap::new();
        let body = |code: u16, status: &str, m: &str| {
            serde_json::to_vec(&json!({"error": {"code": code, "message": m, "status": status}}))
                .expect("json")
        };
        let cases: &[(u16, &str, &str, ErrorKind)] = &[
            (400, "INVALID_ARGUMENT", "bad", ErrorKind::BadRequest),
            (
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
                ErrorKind::ContextWindowExceeded,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                ErrorKind::Authentication,
            ),
            (401, "UNAUTHENTICATED", "x", ErrorKind::Authentication),
            (403, "PERMISSION_DENIED", "x", ErrorKind::PermissionDenied),
            (404, "NOT_FOUND", "x", ErrorKind::NotFound),
            (429, "RESOURCE_EXHAUSTED", "x", ErrorKind::RateLimited),
            (500, "INTERNAL", "x", ErrorKind::InternalServer),
            (503, "UNAVAILABLE", "x", ErrorKind::ServiceUnavailable),
            (504, "DEADLINE_EXCEEDED", "x", ErrorKind::Timeout),
        ];
        for (status, s, m, kind) in cases {
            let e = map_error(PROVIDER, *status, &h, &body(*status, s, m));
            assert_eq!(e.kind, *kind, "{status} {s} {m}");
            assert_eq!(e.status, Some(*status));
            assert_eq!(e.provider.as_deref(), Some(PROVIDER));
        }
        let e = map_error(PROVIDER, 502, &h, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorKind::InternalServer);
        assert_eq!(e.message, "<html>bad gateway</html>");
        let arr = br#"[{"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]}}]"#;
        let e = map_error(PROVIDER, 429, &h, arr);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(17)));
    }

    #[test]
    fn an_echoed_key_is_scrubbed() {
        let e = adapter().map_error(
            400,
            &HeaderMap::new(),
            br#"{"error":{"code":400,"message":"bad key AIza-test-key","status":"INVALID_ARGUMENT"}}"#,
        );
        assert_eq!(e.message, "bad key <redacted>");
    }

    #[test]
    fn a_tool_result_without_its_call_is_a_clear_400() {
        let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "tool", "tool_call_id": "nope", "content": "x"}
        ]}))
        .expect("request");
        let e = adapter().translate_request(req).expect_err("no call");
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(e.param.as_deref(), Some("messages[1]"));
    }

    #[test]
    fn a_cut_stream_is_an_error_and_a_finished_one_is_not() {
        let a = adapter();
        let mut d = a.stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"index\":0}]}\r\n\r\n", &mut out);
        d.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1].as_ref().expect_err("cut").kind,
            ErrorKind::ApiConnection
        );
        let mut d = a.stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\",\"index\":0}]}\n\n", &mut out);
        d.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(Result::is_ok));
    }
}
