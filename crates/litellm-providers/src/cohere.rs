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
//!   `/v2/rerank` is not exposed (the proxy has no rerank route).

use std::collections::VecDeque;

use http::header::{HeaderMap, ACCEPT};
use http::{HeaderValue, Method};
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
    deployment_defaults, deployment_headers, forward_extra, merge_extra_body, missing_key,
    new_call_id, prepare, refuse_or_drop, resolve_api_base, resolve_api_key, scrub_key,
    serialize_body, stop_sequences, strip_first_suffix, unsupported_params, with_call_headers,
    KeyHeader, Prepared,
};
use crate::openai::{kind_for_status, looks_like_context_window};
use crate::params::ProviderParams;
use crate::sse::{SseEvent, SseParser};
use crate::upstream::{invalid_upstream_body, parse_retry_after, truncate_chars, UpstreamRequest};

/// The provider name.
pub const PROVIDER: &str = "cohere";

/// Cohere's public API base.
pub const DEFAULT_API_BASE: &str = "https://api.cohere.com";

/// The default `input_type` of embeddings (LiteLLM's).
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// Typed OpenAI parameters Cohere has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_TYPED: &[&str] = &[
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "n",
    "parallel_tool_calls",
    "reasoning_effort",
];

/// OpenAI request fields Cohere has no equivalent for: a 400 unless dropped.
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
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "response_format",
    "texts",
    "input",
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

/// One Cohere deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (a `SecretString`; the built header is marked sensitive).
#[derive(Debug, Clone)]
pub struct CohereAdapter {
    api_base: String,
    model: String,
    headers: HeaderMap,
    defaults: JsonMap,
    drop_params: bool,
    additional_drop_params: Vec<String>,
    api_key: Option<SecretString>,
}

impl CohereAdapter {
    /// The adapter for one deployment whose `cohere/` prefix has been stripped (`model`),
    /// reading defaults from the process environment.
    pub fn new(params: &ProviderParams, model: &str) -> Result<Self, LlmError> {
        Self::with_env(params, model, |name| std::env::var(name).ok())
    }

    /// As [`CohereAdapter::new`], with the environment given as a lookup function.
    pub fn with_env(
        params: &ProviderParams,
        model: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let api_base = strip_first_suffix(
            resolve_api_base(params, &env, &["COHERE_API_BASE"], DEFAULT_API_BASE),
            &["/v2/chat", "/v1/chat", "/v2/embed", "/v2", "/v1"],
        );
        let api_key = resolve_api_key(params, &env, &["COHERE_API_KEY", "CO_API_KEY"]);
        let headers = deployment_headers(
            params,
            &[("accept", "application/json")],
            api_key.as_ref().map(|k| (k, KeyHeader::Bearer)),
        )?;
        let (defaults, additional_drop_params) = deployment_defaults(params, STRUCTURAL_KEYS, &[])?;
        Ok(CohereAdapter {
            api_base,
            model: model.trim().to_string(),
            headers,
            defaults,
            drop_params: params.drop_params.unwrap_or(false),
            additional_drop_params,
            api_key,
        })
    }

    /// The provider name.
    pub fn provider(&self) -> &'static str {
        PROVIDER
    }

    /// The base URL (no trailing `/`, no API version).
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
        if self.api_key.is_none() {
            return Err(missing_key(
                PROVIDER,
                "no API key for cohere: set litellm_params.api_key, COHERE_API_KEY or CO_API_KEY",
            ));
        }
        with_call_headers(&self.headers, extra_headers)
    }

    /// `POST {api_base}/v2/chat` for `req` (streaming when `stream`).
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        let mut headers = self.request_headers(extra_headers)?;
        if stream {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        let mut body = self.translate_request(req)?;
        if stream {
            body.insert("stream".into(), Value::Bool(true));
        }
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}/v2/chat", self.api_base),
            headers,
            body: serialize_body(&Value::Object(body))?,
        })
    }

    /// The v2 chat body for `req` (without `stream`).
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
        body.insert("model".into(), Value::String(self.model.clone()));
        body.insert(
            "messages".into(),
            Value::Array(translate_messages(std::mem::take(&mut req.messages))?),
        );

        let mut tools = Vec::new();
        let mut strict = false;
        for tool in req.tools.take().into_iter().flatten() {
            if tool.kind != "function" {
                return Err(LlmError::bad_param(
                    "tools",
                    format!("cohere supports only function tools, not {:?}", tool.kind),
                )
                .with_provider(PROVIDER));
            }
            let Some(f) = tool.function else {
                return Err(LlmError::bad_param(
                    "tools",
                    "a function tool needs a `function` object",
                ));
            };
            strict |= f.strict == Some(true);
            tools.push(function_tool(f.name, f.description, f.parameters));
        }
        for f in req.functions.take().into_iter().flatten() {
            tools.push(function_tool(f.name, f.description, f.parameters));
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
            if strict {
                body.insert("strict_tools".into(), Value::Bool(true));
            }
        }
        if let Some(choice) = req.tool_choice.take() {
            if let Some(mode) = tool_choice(choice, drop)? {
                body.insert("tool_choice".into(), Value::String(mode.into()));
            }
        }

        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            body.insert("p".into(), json!(p));
        }
        if let Some(k) = req.extra.remove("top_k").filter(|v| !v.is_null()) {
            body.insert("k".into(), k);
        }
        if let Some(n) = req.max_output_tokens() {
            body.insert("max_tokens".into(), json!(n));
        }
        if let Some(seqs) = stop_sequences(&req) {
            body.insert("stop_sequences".into(), seqs);
        }
        if let Some(seed) = req.seed {
            body.insert("seed".into(), json!(seed));
        }
        if let Some(p) = req.frequency_penalty {
            body.insert("frequency_penalty".into(), json!(p));
        }
        if let Some(p) = req.presence_penalty {
            body.insert("presence_penalty".into(), json!(p));
        }
        if let Some(format) = req.response_format.take() {
            match format {
                ResponseFormat::Known(KnownResponseFormat::Text) => {}
                ResponseFormat::Known(KnownResponseFormat::JsonObject) => {
                    body.insert("response_format".into(), json!({"type": "json_object"}));
                }
                ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
                    let mut f = json!({"type": "json_object"});
                    if let Some(schema) = json_schema.schema {
                        f["json_schema"] = schema;
                    }
                    body.insert("response_format".into(), f);
                }
                ResponseFormat::Other(v) => {
                    let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
                    return Err(LlmError::bad_param(
                        "response_format",
                        format!("response_format type {kind:?} is not supported for cohere"),
                    )
                    .with_provider(PROVIDER));
                }
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

    /// Refuses (or, with `drop`, removes) the OpenAI parameters Cohere cannot honour.
    fn check_unsupported(&self, req: &mut ChatRequest, drop: bool) -> Result<(), LlmError> {
        refuse_or_drop(PROVIDER, req, UNSUPPORTED_TYPED, UNSUPPORTED_EXTRA, drop)?;
        req.user = None;
        req.metadata = None;
        Ok(())
    }

    /// Parses a successful v2 chat response.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(PROVIDER, "response", &e, body))?;
        let Some(message) = value.get("message").filter(|m| m.is_object()) else {
            // `{"message": "<error text>"}`: an error body with a success status.
            return Err(error_from_value(None, &value, body));
        };
        let reason = value.get("finish_reason").and_then(Value::as_str);
        if let Some(err) = reason.and_then(finish_error) {
            return Err(err);
        }
        let mut text = String::new();
        let mut reasoning = String::new();
        if let Some(plan) = message.get("tool_plan").and_then(Value::as_str) {
            reasoning.push_str(plan);
        }
        for part in message
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match part.get("type").and_then(Value::as_str) {
                Some("thinking") => {
                    if let Some(t) = part.get("thinking").and_then(Value::as_str) {
                        reasoning.push_str(t);
                    }
                }
                _ => {
                    if let Some(t) = part.get("text").and_then(Value::as_str) {
                        text.push_str(t);
                    }
                }
            }
        }
        let tool_calls: Vec<ToolCall> = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
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
        let mut extra = JsonMap::new();
        if let Some(c) = message
            .get("citations")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        {
            extra.insert("citations".into(), c.clone());
        }
        let finish_reason = reason.map(|r| map_finish_reason(r, !tool_calls.is_empty()));
        Ok(ChatResponse {
            id: value
                .get("id")
                .and_then(Value::as_str)
                .map(|id| format!("chatcmpl-{id}"))
                .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())),
            object: "chat.completion".into(),
            created: unix_now(),
            model: self.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: (!text.is_empty()).then_some(text),
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: None,
                    reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                    extra,
                },
                finish_reason,
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage: Some(usage_from(value.get("usage"))),
            system_fingerprint: None,
            service_tier: None,
            extra: JsonMap::new(),
        })
    }

    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> CohereStreamDecoder {
        CohereStreamDecoder::new(&self.model, options)
    }

    /// `POST {api_base}/v2/embed` for `req`.
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
                    "cohere embeddings take text input, not token arrays",
                )
                .with_provider(PROVIDER));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let setting = |key: &str| {
            req.extra
                .get(key)
                .or_else(|| self.defaults.get(key))
                .filter(|v| !v.is_null())
                .cloned()
        };
        let mut body = json!({
            "model": self.model,
            "texts": texts,
            "input_type": setting("input_type").unwrap_or_else(|| json!(DEFAULT_INPUT_TYPE)),
            "embedding_types": ["float"],
        });
        if let Some(d) = req
            .dimensions
            .map(Value::from)
            .or_else(|| setting("dimensions"))
        {
            body["output_dimension"] = d;
        }
        if let Some(t) = setting("truncate") {
            body["truncate"] = t;
        }
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}/v2/embed", self.api_base),
            headers,
            body: serialize_body(&body)?,
        })
    }

    /// Parses a v2 embed answer into OpenAI's shape (`base64` when the request asked).
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(PROVIDER, "embeddings response", &e, body))?;
        let vectors = match value.get("embeddings") {
            Some(Value::Object(by_type)) => by_type.get("float").and_then(Value::as_array),
            // `embeddings_floats` (the v1 shape): a plain list.
            Some(Value::Array(list)) => Some(list),
            _ => None,
        };
        let Some(vectors) = vectors else {
            return Err(error_from_value(None, &value, body));
        };
        let wanted = req.input.len();
        if vectors.len() != wanted {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "cohere returned {} embeddings for {wanted} inputs",
                    vectors.len()
                ),
            )
            .with_provider(PROVIDER));
        }
        let mut data = Vec::with_capacity(vectors.len());
        for (i, v) in vectors.iter().enumerate() {
            let floats: Vec<f32> = serde_json::from_value(v.clone())
                .map_err(|e| invalid_upstream_body(PROVIDER, "embedding", &e, body))?;
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
            .pointer("/meta/billed_units/input_tokens")
            .and_then(Value::as_f64)
            .map(|t| t as u64)
            .unwrap_or(0);
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
        self.scrub(map_error(status, headers, body))
    }
}

/// A tool call's arguments as the JSON string OpenAI carries (an object is serialized).
pub(crate) fn arguments_string(args: Option<&Value>) -> String {
    match args {
        None | Some(Value::Null) => "{}".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
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

/// `tool_choice` as Cohere's `REQUIRED`/`NONE` (`auto` is the default and sent as nothing).
fn tool_choice(choice: ToolChoice, drop: bool) -> Result<Option<&'static str>, LlmError> {
    match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => Ok(None),
            "required" | "any" => Ok(Some("REQUIRED")),
            "none" => Ok(Some("NONE")),
            other => Err(LlmError::bad_param(
                "tool_choice",
                format!("tool_choice {other:?} is not one of none, auto, required"),
            )),
        },
        ToolChoice::Named(_) | ToolChoice::Other(_) if drop => Ok(None),
        ToolChoice::Named(_) | ToolChoice::Other(_) => {
            let mut e = unsupported_params(PROVIDER, &["tool_choice"]);
            e.message = format!(
                "{} (cohere takes tool_choice none, auto or required, not a named function)",
                e.message
            );
            Err(e)
        }
    }
}

fn user_content(content: Content, param: &str) -> Result<Value, LlmError> {
    match content {
        Content::Text(t) => Ok(Value::String(t)),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        out.push(json!({"type": "text", "text": t.text}));
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => {
                        let mut image = json!({ "url": img.image_url.url });
                        if let Some(d) = img.image_url.detail {
                            image["detail"] = Value::String(d);
                        }
                        out.push(json!({"type": "image_url", "image_url": image}));
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "cohere does not take audio input (input_audio parts)",
                        )
                        .with_provider(PROVIDER));
                    }
                    ContentPart::Known(KnownContentPart::File(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "cohere does not take file parts; send documents with `documents`",
                        )
                        .with_provider(PROVIDER));
                    }
                    ContentPart::Other(v) => out.push(v),
                }
            }
            Ok(Value::Array(out))
        }
    }
}

/// The OpenAI messages as v2 chat messages.
fn translate_messages(messages: Vec<Message>) -> Result<Vec<Value>, LlmError> {
    let mut out = Vec::with_capacity(messages.len());
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        match message {
            Message::System(m) | Message::Developer(m) => {
                out.push(json!({"role": "system", "content": m.content.text()}));
            }
            Message::User(m) => {
                out.push(json!({"role": "user", "content": user_content(m.content, &param)?}));
            }
            Message::Assistant(m) => {
                let text = m.content.as_ref().map(Content::text).unwrap_or_default();
                let mut msg = json!({"role": "assistant"});
                let calls: Vec<Value> = m
                    .tool_calls
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        json!({"id": c.id, "type": "function", "function": {
                            "name": c.function.name,
                            "arguments": if c.function.arguments.trim().is_empty() {
                                "{}".to_string()
                            } else {
                                c.function.arguments
                            }
                        }})
                    })
                    .collect();
                if calls.is_empty() && text.is_empty() {
                    continue;
                }
                if !text.is_empty() {
                    msg["content"] = Value::String(text);
                }
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                out.push(msg);
            }
            Message::Tool(m) => {
                out.push(json!({
                    "role": "tool",
                    "tool_call_id": m.tool_call_id,
                    "content": m.content.text()
                }));
            }
            Message::Function(_) => {
                return Err(LlmError::bad_param(
                    param,
                    "legacy function messages are not supported by cohere; send tool messages \
                     with tool_call_id",
                )
                .with_provider(PROVIDER));
            }
        }
    }
    Ok(out)
}

/// A Cohere `finish_reason` that is a failure, as its error.
fn finish_error(reason: &str) -> Option<LlmError> {
    let (kind, text) = match reason {
        "ERROR" => (
            ErrorKind::InternalServer,
            "cohere finished with ERROR: the generation failed",
        ),
        "TIMEOUT" => (
            ErrorKind::Timeout,
            "cohere finished with TIMEOUT: the generation timed out",
        ),
        "ERROR_LIMIT" => (
            ErrorKind::ContextWindowExceeded,
            "cohere finished with ERROR_LIMIT: the prompt and output exceed the context window",
        ),
        _ => return None,
    };
    Some(LlmError::upstream(kind, text).with_provider(PROVIDER))
}

/// Cohere's `finish_reason` as an OpenAI `finish_reason`.
pub fn map_finish_reason(reason: &str, called_tools: bool) -> String {
    match reason {
        "MAX_TOKENS" => "length",
        "TOOL_CALL" => "tool_calls",
        "ERROR_TOXIC" => "content_filter",
        _ if called_tools => "tool_calls",
        _ => "stop",
    }
    .to_string()
}

/// Our usage from Cohere's `usage`: `tokens` (what the model processed, LiteLLM's choice), else
/// `billed_units`.
pub fn usage_from(usage: Option<&Value>) -> Usage {
    let counts = |key: &str| {
        let v = usage?.get(key)?;
        let get = |k: &str| v.get(k).and_then(Value::as_f64).map(|t| t as u64);
        match (get("input_tokens"), get("output_tokens")) {
            (None, None) => None,
            (i, o) => Some((i.unwrap_or(0), o.unwrap_or(0))),
        }
    };
    let (input, output) = counts("tokens")
        .or_else(|| counts("billed_units"))
        .unwrap_or((0, 0));
    Usage::new(input, output)
}

fn message_of(value: &Value, raw: &[u8], status: Option<u16>) -> String {
    value
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| value.get("error").and_then(Value::as_str))
        .or_else(|| value.pointer("/error/message").and_then(Value::as_str))
        .map(str::to_string)
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            let text = String::from_utf8_lossy(raw);
            let t = text.trim();
            (!t.is_empty()).then(|| truncate_chars(t, MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{PROVIDER} returned HTTP {s} with an empty body"),
            None => format!("{PROVIDER} reported an error"),
        })
}

fn looks_like_cohere_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("too many tokens")
        || m.contains("exceeds the context")
}

fn error_from_value(status: Option<u16>, value: &Value, raw: &[u8]) -> LlmError {
    let message = message_of(value, raw, status);
    let mut kind = match status {
        Some(401 | 498) => ErrorKind::Authentication,
        Some(499) => ErrorKind::ApiConnection,
        Some(s) => kind_for_status(s),
        None => ErrorKind::InternalServer,
    };
    if matches!(kind, ErrorKind::BadRequest) && looks_like_cohere_context_window(&message) {
        kind = ErrorKind::ContextWindowExceeded;
    }
    let mut e = LlmError::upstream(kind, message).with_provider(PROVIDER);
    e.status = status;
    e
}

/// Maps a Cohere error response (`{"message": ...}`) to an `LlmError` by status (see the module
/// docs), keeping the upstream message (a non-JSON body is used as text, truncated) and the
/// `retry-after`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let value = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    error_from_value(Some(status), &value, body).with_retry_after(parse_retry_after(headers))
}

/// Turns Cohere's v2 chat event stream into OpenAI chunks, incrementally: feed bytes as they
/// arrive, collect the chunks (and at most one error) they complete.
#[derive(Debug)]
pub struct CohereStreamDecoder {
    sse: SseParser,
    events: Vec<SseEvent>,
    model: String,
    id: String,
    created: u64,
    options: CallOptions,
    started: bool,
    /// Tool calls opened so far (the next call's OpenAI index).
    tool_calls: u32,
    done: bool,
}

impl CohereStreamDecoder {
    /// A decoder for a stream of `model`.
    pub fn new(model: &str, options: CallOptions) -> Self {
        CohereStreamDecoder {
            sse: SseParser::new(),
            events: Vec::new(),
            model: model.to_string(),
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            created: unix_now(),
            options,
            started: false,
            tool_calls: 0,
            done: false,
        }
    }

    /// Whether the stream is over (`message-end` seen, the body ended, or an error).
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

    /// The bytes have ended: flushes a last unterminated event, or reports a stream cut before
    /// `message-end`.
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
        out.push_back(Err(LlmError::upstream(
            ErrorKind::ApiConnection,
            "the cohere stream ended before message-end",
        )
        .with_provider(PROVIDER)));
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

    fn push_delta(&mut self, mut delta: Delta, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if !self.started {
            self.started = true;
            delta.role = Some("assistant".into());
        }
        out.push_back(Ok(self.chunk(delta, None)));
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
                let err = invalid_upstream_body(PROVIDER, "stream event", &e, data.as_bytes());
                return self.fail(err, out);
            }
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default()
            .to_string();
        let message = value.pointer("/delta/message");
        match kind.as_str() {
            "message-start" => {
                if let Some(id) = value.get("id").and_then(Value::as_str) {
                    self.id = format!("chatcmpl-{id}");
                }
                self.push_delta(
                    Delta {
                        content: Some(String::new()),
                        ..Default::default()
                    },
                    out,
                );
            }
            "content-delta" => {
                let content = message.and_then(|m| m.get("content"));
                let text = content.and_then(|c| c.get("text")).and_then(Value::as_str);
                let thinking = content
                    .and_then(|c| c.get("thinking"))
                    .and_then(Value::as_str);
                let delta = Delta {
                    content: text.map(str::to_string),
                    reasoning_content: thinking.map(str::to_string),
                    ..Default::default()
                };
                if delta.content.is_some() || delta.reasoning_content.is_some() {
                    self.push_delta(delta, out);
                }
            }
            "tool-plan-delta" => {
                if let Some(plan) = message
                    .and_then(|m| m.get("tool_plan"))
                    .and_then(Value::as_str)
                {
                    let delta = Delta {
                        reasoning_content: Some(plan.to_string()),
                        ..Default::default()
                    };
                    self.push_delta(delta, out);
                }
            }
            "tool-call-start" => {
                let call = message.and_then(|m| m.get("tool_calls"));
                let index = self.tool_calls;
                self.tool_calls += 1;
                let id = call
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(new_call_id);
                let name = call
                    .and_then(|c| c.pointer("/function/name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let args = call
                    .and_then(|c| c.pointer("/function/arguments"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let delta = Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index,
                        id: Some(id),
                        kind: Some("function".into()),
                        function: Some(FunctionCallDelta {
                            name: Some(name.to_string()),
                            arguments: Some(args.to_string()),
                        }),
                    }]),
                    ..Default::default()
                };
                self.push_delta(delta, out);
            }
            "tool-call-delta" => {
                let args = message
                    .and_then(|m| m.pointer("/tool_calls/function/arguments"))
                    .and_then(Value::as_str);
                if let Some(args) = args.filter(|a| !a.is_empty()) {
                    let delta = Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index: self.tool_calls.saturating_sub(1),
                            id: None,
                            kind: None,
                            function: Some(FunctionCallDelta {
                                name: None,
                                arguments: Some(args.to_string()),
                            }),
                        }]),
                        ..Default::default()
                    };
                    self.push_delta(delta, out);
                }
            }
            "message-end" => {
                let delta = value.get("delta");
                let reason = delta
                    .and_then(|d| d.get("finish_reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("COMPLETE");
                if let Some(err) = finish_error(reason) {
                    return self.fail(err, out);
                }
                let finish = map_finish_reason(reason, self.tool_calls > 0);
                if !self.started {
                    self.push_delta(
                        Delta {
                            content: Some(String::new()),
                            ..Default::default()
                        },
                        out,
                    );
                }
                out.push_back(Ok(self.chunk(Delta::default(), Some(finish))));
                if self.options.include_usage {
                    let mut c = ChatChunk::new(self.id.clone(), self.created, self.model.clone());
                    c.usage = Some(usage_from(delta.and_then(|d| d.get("usage"))));
                    out.push_back(Ok(c));
                }
                self.done = true;
            }
            _ if value.get("message").is_some() && value.get("delta").is_none() => {
                // An error object in the stream (`{"message": ...}`).
                let err = error_from_value(None, &value, data.as_bytes());
                self.fail(err, out);
            }
            // content-start, content-end, tool-call-end, citation-start/end, debug.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> CohereAdapter {
        let params: ProviderParams = serde_json::from_value(
            json!({"model": "cohere/command-r", "api_key": "co-test-key-123"}),
        )
        .expect("params");
        CohereAdapter::with_env(&params, "command-r", |_| None).expect("adapter")
    }

    #[test]
    fn api_bases_are_trimmed_to_the_host() {
        for (base, url) in [
            (None, "https://api.cohere.com/v2/chat"),
            (Some("http://h:1/"), "http://h:1/v2/chat"),
            (Some("http://h:1/v2/chat"), "http://h:1/v2/chat"),
            (Some("http://h:1/v1"), "http://h:1/v2/chat"),
        ] {
            let params = ProviderParams {
                model: "cohere/m".into(),
                api_base: base.map(str::to_string),
                api_key: Some(SecretString::from("k-1234")),
                ..Default::default()
            };
            let a = CohereAdapter::with_env(&params, "m", |_| None).expect("adapter");
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
            assert_eq!(req.url, url);
        }
    }

    #[test]
    fn the_key_comes_from_the_environment_in_order() {
        let params = ProviderParams {
            model: "cohere/m".into(),
            ..Default::default()
        };
        let env = |k: &str| (k == "CO_API_KEY").then(|| "co-env".to_string());
        let a = CohereAdapter::with_env(&params, "m", env).expect("adapter");
        let h = a.headers.get("authorization").expect("auth");
        assert!(h.is_sensitive());
        assert_eq!(h.as_bytes(), b"Bearer co-env");
        let a = CohereAdapter::with_env(&params, "m", |_| None).expect("adapter");
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
        assert!(e.message.contains("COHERE_API_KEY"), "{}", e.message);
    }

    #[test]
    fn finish_reasons_and_usage_map() {
        assert_eq!(map_finish_reason("COMPLETE", false), "stop");
        assert_eq!(map_finish_reason("STOP_SEQUENCE", false), "stop");
        assert_eq!(map_finish_reason("MAX_TOKENS", true), "length");
        assert_eq!(map_finish_reason("TOOL_CALL", false), "tool_calls");
        assert_eq!(map_finish_reason("ERROR_TOXIC", false), "content_filter");
        assert_eq!(
            finish_error("ERROR").expect("error").kind,
            ErrorKind::InternalServer
        );
        let u = usage_from(Some(
            &json!({"billed_units": {"input_tokens": 5, "output_tokens": 7},
            "tokens": {"input_tokens": 70, "output_tokens": 7}}),
        ));
        assert_eq!((u.prompt_tokens, u.completion_tokens), (70, 7));
        let u = usage_from(Some(
            &json!({"billed_units": {"input_tokens": 5.0, "output_tokens": 7.0}}),
        ));
        assert_eq!((u.prompt_tokens, u.total_tokens), (5, 12));
    }

    #[test]
    fn errors_map_by_status_and_message() {
        let h = HeaderMap::new();
        let cases: &[(u16, &str, ErrorKind)] = &[
            (
                400,
                "invalid request: message must not be empty",
                ErrorKind::BadRequest,
            ),
            (
                400,
                "too many tokens: total number of tokens in the prompt cannot exceed 128000",
                ErrorKind::ContextWindowExceeded,
            ),
            (401, "invalid api token", ErrorKind::Authentication),
            (498, "invalid api token", ErrorKind::Authentication),
            (404, "model not found", ErrorKind::NotFound),
            (429, "You are using a Trial key", ErrorKind::RateLimited),
            (500, "internal server error", ErrorKind::InternalServer),
            (503, "unavailable", ErrorKind::ServiceUnavailable),
        ];
        for (status, m, kind) in cases {
            let body = serde_json::to_vec(&json!({"id": "x", "message": m})).expect("json");
            let e = map_error(*status, &h, &body);
            assert_eq!(e.kind, *kind, "{status} {m}");
            assert_eq!(e.message, *m);
            assert_eq!(e.status, Some(*status));
        }
        let e = adapter().map_error(401, &h, br#"{"message": "bad key co-test-key-123"}"#);
        assert_eq!(e.message, "bad key <redacted>");
    }

    #[test]
    fn a_cut_stream_is_an_error() {
        let mut d = adapter().stream_decoder(CallOptions::default());
        let mut out = VecDeque::new();
        d.feed(
            b"event: message-start\ndata: {\"id\":\"a\",\"type\":\"message-start\"}\n\n",
            &mut out,
        );
        d.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1].as_ref().expect_err("cut").kind,
            ErrorKind::ApiConnection
        );
    }
}
