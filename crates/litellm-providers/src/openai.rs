//! The OpenAI adapter (`openai/` prefix, and bare model names): sans-IO translation between our
//! OpenAI-format types and OpenAI's HTTP API. It builds requests, parses responses, decodes the
//! SSE stream and maps error responses; it never opens a socket (the transport sends).
//!
//! Upstream reference: <https://platform.openai.com/docs/api-reference/chat> and
//! <https://platform.openai.com/docs/api-reference/embeddings>.
//!
//! Quirks handled, following LiteLLM:
//! - `api_base` defaults to `OPENAI_BASE_URL`, then `OPENAI_API_BASE`, then
//!   `https://api.openai.com/v1`; a trailing `/` is trimmed. The key defaults to `OPENAI_API_KEY`
//!   and the organization to `OPENAI_ORGANIZATION`. Without a key no `Authorization` is sent
//!   (local OpenAI-compatible servers).
//! - The body is the client's request with `model` replaced by the deployment's model. Fields we
//!   do not model are forwarded, except LiteLLM's own kwargs ([`is_internal_param`]) and
//!   `metadata` (a LiteLLM logging kwarg, as in `litellm.completion`). A client `extra_body`
//!   object is merged into the body (its keys win, as in the OpenAI SDK).
//! - Deployment `litellm_params` keys that are not LiteLLM's own (`temperature`, `max_tokens`,
//!   ...) fill in what the client did not set; a deployment `extra_body` map is merged the same
//!   way. For embeddings only `dimensions`, `encoding_format` and `user` are taken from the
//!   deployment (chat parameters would make OpenAI reject the call).
//! - Streams send `"stream": true` and keep the client's `stream_options`; non-streams drop
//!   `stream_options` (OpenAI rejects it without `stream`).
//! - Chunks are passed through intact, including a last chunk carrying both `choices` and
//!   `usage`. A `{"error": ...}` event mid-stream becomes an error item that ends the stream.
//! - Embeddings: `encoding_format` is forwarded as given; base64 vectors pass through untouched,
//!   and float vectors are encoded when the client asked for base64.
//! - Lenient parsing: a response or chunk missing `id`, `created` or `model` gets defaults (some
//!   OpenAI-compatible servers omit them) instead of failing the call. A chunk with an empty
//!   `id`, no choices and no usage (Azure's leading `prompt_filter_results` chunk) is skipped.
//! - The same adapter serves OpenAI-compatible providers (`openai_compatible.rs`: another
//!   provider name plus [`ParamRules`]) and Azure OpenAI (`azure.rs`: Azure's URLs and auth).

use std::collections::VecDeque;

use bytes::Bytes;
use http::header::{HeaderMap, CONTENT_TYPE};
use http::{HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use litellm_core::{
    unix_now, ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    EmbeddingVector, ErrorKind, JsonMap, LlmError,
};

use crate::adapter_common::{merge_extra_body, take_extra_body};
use crate::params::ProviderParams;
use crate::sse::{SseEvent, SseParser};
use crate::upstream::{
    insert_header, invalid_upstream_body, parse_retry_after, truncate_chars, UpstreamRequest,
};

/// The provider name reported in errors, headers and spend records.
pub const PROVIDER: &str = "openai";

/// OpenAI's public API base.
pub const DEFAULT_API_BASE: &str = "https://api.openai.com/v1";

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// `litellm_params` keys LiteLLM consumes itself and never sends to a provider.
const INTERNAL_PARAMS: &[&str] = &[
    // Routing, limits and reliability (the router's).
    "rpm",
    "tpm",
    "itpm",
    "otpm",
    "tpd",
    "rpd",
    "weight",
    "order",
    "max_parallel_requests",
    "timeout",
    "stream_timeout",
    "num_retries",
    "max_retries",
    "cooldown_time",
    "retry_policy",
    "allowed_fails",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "tags",
    "region_name",
    "base_model",
    "model_info",
    "model_name",
    "model_group",
    "deployment_id",
    // Credentials and endpoints (ours and other providers').
    "api_key",
    "api_base",
    "base_url",
    "api_version",
    "organization",
    "custom_llm_provider",
    "tenant_id",
    "client_id",
    "client_secret",
    "extra_headers",
    "headers",
    // LiteLLM behaviour switches and bookkeeping.
    "mock_response",
    "drop_params",
    "additional_drop_params",
    "use_in_pass_through",
    "merge_reasoning_content_in_choices",
    "configurable_clientside_auth_params",
    "metadata",
    "caching",
    "cache",
    "no-log",
    "no_log",
    "guardrails",
    "max_budget",
    "budget_duration",
    "proxy_server_request",
    "preset_cache_key",
    "thought_signature_in_tool_call_id",
    "health_check_model",
    "disable_background_health_check",
    "input_cost_per_second",
    "output_cost_per_second",
];

/// Prefixes of LiteLLM-internal keys (`litellm_credential_name`, `mock_delay`, `aws_region_name`,
/// `vertex_project`, `azure_ad_token`, `supports_vision`, ...).
const INTERNAL_PREFIXES: &[&str] = &[
    "litellm_",
    "mock_",
    "aws_",
    "vertex_",
    "azure_",
    "watsonx_",
    "supports_",
];

/// Whether a `litellm_params` key (or a client request field) is one LiteLLM consumes itself
/// (routing, pricing, credentials, logging) rather than a provider parameter to forward. Pricing
/// keys are recognised by `cost_per` or `_cost` anywhere in the name.
pub fn is_internal_param(key: &str) -> bool {
    INTERNAL_PARAMS.contains(&key)
        || INTERNAL_PREFIXES.iter().any(|p| key.starts_with(p))
        || key.contains("cost_per")
        || key.contains("_cost")
}

/// Body fields the adapter always sets itself; a deployment default never overrides them.
const STRUCTURAL_KEYS: &[&str] = &["model", "messages", "stream", "stream_options", "input"];

/// Deployment parameters an embeddings call may take from `litellm_params`.
const EMBEDDING_DEFAULT_KEYS: &[&str] = &["dimensions", "encoding_format", "user"];

/// One OpenAI deployment's translation state, built once from its `litellm_params`.
///
/// `Debug` never shows the key (it is a `SecretString`; the built `Authorization` header is
/// marked sensitive).
#[derive(Debug, Clone)]
pub struct OpenAiAdapter {
    api_base: String,
    model: String,
    chat_url: String,
    embeddings_url: String,
    /// Content type, auth, organization and the deployment's `extra_headers`.
    headers: HeaderMap,
    /// Deployment parameters filling in what the client did not set (chat).
    chat_defaults: JsonMap,
    /// The same for embeddings.
    embedding_defaults: JsonMap,
    api_key: Option<SecretString>,
    /// The provider name reported in errors and spend (`openai`, or an OpenAI-compatible
    /// provider's prefix such as `groq`).
    provider: &'static str,
    /// Parameter rules of an OpenAI-compatible provider (none for OpenAI itself).
    rules: Option<ParamRules>,
}

/// What an OpenAI-compatible provider does not accept, or names differently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamRules {
    /// Request fields the provider refuses: a 400 naming them, or dropped with `drop_params`.
    pub unsupported: Vec<String>,
    /// Request fields sent under another name (`max_completion_tokens` -> `max_tokens`); a rename
    /// never overwrites a field the request already has.
    pub renames: Vec<(String, String)>,
    /// The deployment's `drop_params`.
    pub drop_params: bool,
    /// The provider has no `/embeddings` endpoint: embedding calls are a 400 naming it.
    pub no_embeddings: bool,
}

impl OpenAiAdapter {
    /// The adapter for one deployment whose provider prefix has been stripped (`model`), reading
    /// defaults from the process environment.
    pub fn new(params: &ProviderParams, model: &str) -> Result<Self, LlmError> {
        Self::with_env(params, model, |name| std::env::var(name).ok())
    }

    /// As [`OpenAiAdapter::new`], with the environment given as a lookup function (tests pass
    /// an empty one so the host's `OPENAI_*` variables cannot change results).
    pub fn with_env(
        params: &ProviderParams,
        model: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let non_empty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
        let api_base = non_empty(params.api_base.clone())
            .or_else(|| non_empty(env("OPENAI_BASE_URL")))
            .or_else(|| non_empty(env("OPENAI_API_BASE")))
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let api_base = api_base.trim().trim_end_matches('/').to_string();
        let api_key = params
            .api_key
            .clone()
            .filter(|k| !k.expose_secret().is_empty())
            .or_else(|| non_empty(env("OPENAI_API_KEY")).map(SecretString::from));
        let organization = non_empty(params.organization.clone())
            .or_else(|| non_empty(env("OPENAI_ORGANIZATION")));

        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &api_key {
            let value = format!("Bearer {}", key.expose_secret().trim());
            insert_header(&mut headers, "authorization", &value, "api_key")?;
        }
        if let Some(org) = &organization {
            insert_header(&mut headers, "openai-organization", org, "organization")?;
        }
        for (name, value) in params.extra_headers.iter().flatten() {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }

        let mut chat_defaults = JsonMap::new();
        let mut embedding_defaults = JsonMap::new();
        for (key, value) in &params.extra {
            if key == "extra_body"
                || is_internal_param(key)
                || STRUCTURAL_KEYS.contains(&key.as_str())
            {
                continue;
            }
            chat_defaults.insert(key.clone(), value.clone());
            if EMBEDDING_DEFAULT_KEYS.contains(&key.as_str()) {
                embedding_defaults.insert(key.clone(), value.clone());
            }
        }
        if let Some(extra_body) = params.extra.get("extra_body") {
            let Value::Object(map) = extra_body else {
                return Err(LlmError::bad_param(
                    "extra_body",
                    "litellm_params.extra_body must be a JSON object",
                ));
            };
            for (key, value) in map {
                chat_defaults
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
                embedding_defaults
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
            }
        }

        Ok(OpenAiAdapter {
            chat_url: format!("{api_base}/chat/completions"),
            embeddings_url: format!("{api_base}/embeddings"),
            api_base,
            model: model.to_string(),
            headers,
            chat_defaults,
            embedding_defaults,
            api_key,
            provider: PROVIDER,
            rules: None,
        })
    }

    /// The same adapter reporting another provider name and applying its parameter rules (for
    /// OpenAI-compatible providers).
    pub fn with_provider(mut self, provider: &'static str, rules: ParamRules) -> Self {
        self.provider = provider;
        self.rules = Some(rules);
        self
    }

    /// Replaces the endpoints and the credential header (Azure's URL layout and `api-key`).
    /// `secret` is the credential, removed from error messages like the API key.
    pub(crate) fn set_endpoints_and_auth(
        &mut self,
        chat_url: String,
        embeddings_url: String,
        auth: Option<(&str, String)>,
        secret: Option<SecretString>,
    ) -> Result<(), LlmError> {
        self.chat_url = chat_url;
        self.embeddings_url = embeddings_url;
        if let Some((name, value)) = auth {
            insert_header(&mut self.headers, name, &value, "api_key")?;
        }
        self.api_key = secret;
        Ok(())
    }

    /// The provider name reported in errors and spend records.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The base URL requests go to (no trailing `/`).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The model sent upstream.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Removes the deployment's key from a message, should an upstream have echoed it, and
    /// names this adapter's provider on an upstream error.
    pub fn scrub(&self, mut err: LlmError) -> LlmError {
        if err.provider.is_some() && self.provider != PROVIDER {
            err.provider = Some(self.provider.to_string());
            if err.message.starts_with(PROVIDER) {
                err.message = format!("{}{}", self.provider, &err.message[PROVIDER.len()..]);
            }
        }
        if let Some(key) = &self.api_key {
            let key = key.expose_secret().trim();
            if key.len() >= 4 && err.message.contains(key) {
                err.message = err.message.replace(key, "<redacted>");
            }
        }
        err
    }

    fn headers_with(&self, extra: &[(String, String)]) -> Result<HeaderMap, LlmError> {
        let mut headers = self.headers.clone();
        for (name, value) in extra {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }
        Ok(headers)
    }

    /// `POST {api_base}/chat/completions` for `req` (streaming or not), with per-call headers.
    pub fn build_chat_request(
        &self,
        mut req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        req.model.clone_from(&self.model);
        req.metadata = None;
        if stream {
            req.stream = Some(true);
        } else {
            req.stream = None;
            req.stream_options = None;
        }
        let client_extra_body = take_extra_body(&mut req.extra)?;
        let request_drop = req.extra.get("drop_params").and_then(Value::as_bool) == Some(true);
        req.extra.retain(|k, _| !is_internal_param(k));
        let body =
            if self.chat_defaults.is_empty() && client_extra_body.is_none() && self.rules.is_none()
            {
                // The common case: one serialization straight to bytes.
                serde_json::to_vec(&req)
            } else {
                let value = serde_json::to_value(&req).map_err(serialize_error)?;
                let mut value = merge_body(value, &self.chat_defaults, client_extra_body);
                if let Some(rules) = &self.rules {
                    self.apply_rules(rules, &mut value, request_drop)?;
                }
                serde_json::to_vec(&value)
            }
            .map_err(serialize_error)?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.chat_url.clone(),
            headers: self.headers_with(extra_headers)?,
            body: Bytes::from(body),
        })
    }

    /// Refuses or drops unsupported parameters and applies renames (OpenAI-compatible
    /// providers).
    fn apply_rules(
        &self,
        rules: &ParamRules,
        body: &mut Value,
        drop: bool,
    ) -> Result<(), LlmError> {
        let Value::Object(map) = body else {
            return Ok(());
        };
        let present: Vec<&str> = rules
            .unsupported
            .iter()
            .map(String::as_str)
            .filter(|k| map.get(*k).is_some_and(|v| !v.is_null()))
            // `n: 1` asks for nothing a provider could refuse.
            .filter(|k| !(*k == "n" && map.get("n").and_then(Value::as_u64) == Some(1)))
            .collect();
        if !present.is_empty() {
            if !(drop || rules.drop_params) {
                let mut e = LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "UnsupportedParamsError: {} does not support parameters: {}. To drop \
                         them, set drop_params: true (litellm_settings or the deployment's \
                         litellm_params) or pass \"drop_params\": true in the request",
                        self.provider,
                        present.join(", ")
                    ),
                );
                e.param = present.first().map(|p| p.to_string());
                return Err(e.with_provider(self.provider));
            }
            let present: Vec<String> = present.into_iter().map(str::to_string).collect();
            for key in present {
                map.remove(&key);
            }
        }
        for (from, to) in &rules.renames {
            if map.contains_key(to) {
                continue;
            }
            if let Some(v) = map.remove(from) {
                map.insert(to.clone(), v);
            }
        }
        Ok(())
    }

    /// `POST {api_base}/embeddings` for `req`, with per-call headers.
    pub fn build_embedding_request(
        &self,
        mut req: EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        if self.rules.as_ref().is_some_and(|r| r.no_embeddings) {
            let mut e = LlmError::client(
                ErrorKind::BadRequest,
                format!("{} does not offer an embeddings API", self.provider),
            )
            .with_provider(self.provider);
            e.param = Some("model".into());
            return Err(e);
        }
        req.model.clone_from(&self.model);
        let client_extra_body = take_extra_body(&mut req.extra)?;
        req.extra.retain(|k, _| !is_internal_param(k));
        let body = if self.embedding_defaults.is_empty() && client_extra_body.is_none() {
            serde_json::to_vec(&req)
        } else {
            let value = serde_json::to_value(&req).map_err(serialize_error)?;
            serde_json::to_vec(&merge_body(
                value,
                &self.embedding_defaults,
                client_extra_body,
            ))
        }
        .map_err(serialize_error)?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.embeddings_url.clone(),
            headers: self.headers_with(extra_headers)?,
            body: Bytes::from(body),
        })
    }

    /// Parses a successful chat completion body.
    pub fn parse_chat_response(&self, body: &[u8]) -> Result<ChatResponse, LlmError> {
        match serde_json::from_slice::<ChatResponse>(body) {
            Ok(resp) => Ok(resp),
            Err(first) => {
                let value: Value = serde_json::from_slice(body).map_err(|_| {
                    invalid_upstream_body(PROVIDER, "chat completion", &first, body)
                })?;
                if let Some(err) = error_in_body(&value) {
                    return Err(err);
                }
                let Value::Object(mut map) = value else {
                    return Err(invalid_upstream_body(
                        PROVIDER,
                        "chat completion",
                        &first,
                        body,
                    ));
                };
                fill_identity(&mut map, &self.model, None);
                serde_json::from_value(Value::Object(map))
                    .map_err(|e| invalid_upstream_body(PROVIDER, "chat completion", &e, body))
            }
        }
    }

    /// Parses a successful embeddings body; float vectors are base64-encoded when the client
    /// asked for base64 (`wants_base64`), base64 vectors are never decoded.
    pub fn parse_embedding_response(
        &self,
        body: &[u8],
        wants_base64: bool,
    ) -> Result<EmbeddingResponse, LlmError> {
        let mut resp: EmbeddingResponse = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                if let Some(err) = serde_json::from_slice::<Value>(body)
                    .ok()
                    .as_ref()
                    .and_then(error_in_body)
                {
                    return Err(err);
                }
                return Err(invalid_upstream_body(
                    PROVIDER,
                    "embeddings response",
                    &e,
                    body,
                ));
            }
        };
        if wants_base64 {
            for item in &mut resp.data {
                if matches!(item.embedding, EmbeddingVector::Float(_)) {
                    let v =
                        std::mem::replace(&mut item.embedding, EmbeddingVector::Float(Vec::new()));
                    item.embedding = v.into_base64();
                }
            }
        }
        Ok(resp)
    }

    /// A decoder for this deployment's chat stream.
    pub fn stream_decoder(&self) -> ChatStreamDecoder {
        ChatStreamDecoder::new(&self.model)
    }

    /// Maps an error response (see [`map_error`]), removing the key should it be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }
}

fn serialize_error(e: serde_json::Error) -> LlmError {
    LlmError::internal(format!("could not serialize the upstream request: {e}"))
}

/// Merges deployment defaults (only where absent) and the client's `extra_body` (overriding).
fn merge_body(value: Value, defaults: &JsonMap, client_extra_body: Option<JsonMap>) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    for (key, v) in defaults {
        if !map.contains_key(key) {
            map.insert(key.clone(), v.clone());
        }
    }
    merge_extra_body(&mut map, client_extra_body, STRUCTURAL_KEYS, &[]);
    Value::Object(map)
}

/// Fills `id`, `created` and `model` when an OpenAI-compatible server left them out.
fn fill_identity(map: &mut JsonMap, model: &str, id: Option<&str>) {
    if !map.get("id").is_some_and(Value::is_string) {
        let id = id
            .map(str::to_string)
            .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()));
        map.insert("id".into(), Value::String(id));
    }
    if !map.get("created").is_some_and(Value::is_u64) {
        map.insert("created".into(), Value::from(unix_now()));
    }
    if !map.get("model").is_some_and(Value::is_string) {
        map.insert("model".into(), Value::String(model.to_string()));
    }
}

/// The parts of an OpenAI-style error body.
#[derive(Debug, Default)]
struct ErrorBody {
    message: Option<String>,
    kind: Option<String>,
    code: Option<String>,
    param: Option<String>,
}

fn value_to_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Reads `{"error": {"message", "type", "param", "code"}}`, `{"error": "text"}`,
/// `{"message": ...}` or FastAPI's `{"detail": ...}`.
fn extract_error(v: &Value) -> Option<ErrorBody> {
    let obj = v.as_object()?;
    match obj.get("error") {
        Some(Value::Object(e)) => Some(ErrorBody {
            message: e.get("message").and_then(value_to_text),
            kind: e.get("type").and_then(value_to_text),
            code: e.get("code").and_then(value_to_text),
            param: e.get("param").and_then(value_to_text),
        }),
        Some(Value::String(s)) => Some(ErrorBody {
            message: Some(s.clone()),
            ..Default::default()
        }),
        _ => {
            let message = obj
                .get("message")
                .or_else(|| obj.get("detail"))
                .and_then(value_to_text)?;
            Some(ErrorBody {
                message: Some(message),
                kind: obj.get("type").and_then(value_to_text),
                code: obj.get("code").and_then(value_to_text),
                param: obj.get("param").and_then(value_to_text),
            })
        }
    }
}

/// An error object inside a 200 body or a stream event (`{"error": ...}` only).
fn error_in_body(v: &Value) -> Option<LlmError> {
    v.get("error").filter(|e| !e.is_null())?;
    let body = extract_error(v)?;
    Some(error_from_parts(None, body, None))
}

fn is_context_window(code: Option<&str>, message: &str) -> bool {
    code == Some("context_length_exceeded") || looks_like_context_window(message)
}

/// Whether an error message says the prompt does not fit the context window.
pub(crate) fn looks_like_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "maximum context length",
        "context_length_exceeded",
        "context length exceeded",
        "context window",
        "prompt is too long",
        "input is too long",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

fn is_content_policy(code: Option<&str>, kind: Option<&str>, message: &str) -> bool {
    const CODES: &[&str] = &[
        "content_policy_violation",
        "content_filter",
        "ResponsibleAIPolicyViolation",
    ];
    code.is_some_and(|c| CODES.contains(&c))
        || kind.is_some_and(|k| CODES.contains(&k))
        // Azure OpenAI's wording when its content filter refuses a prompt.
        || message.contains("content management policy")
}

/// The error kind of an HTTP status alone (shared by the HTTP adapters).
pub(crate) fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::BadRequest,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        409 | 503 | 529 => ErrorKind::ServiceUnavailable,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::InternalServer,
        400..=499 => ErrorKind::BadRequest,
        _ => ErrorKind::InternalServer,
    }
}

/// The kind of an error that came without an HTTP status (mid-stream), from its type and code.
fn kind_for_type(kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    if let Some(status) = code.and_then(|c| c.parse::<u16>().ok()) {
        return kind_for_status(status);
    }
    let any = |names: &[&str]| names.iter().any(|n| kind == Some(*n) || code == Some(*n));
    if any(&[
        "rate_limit_exceeded",
        "rate_limit_error",
        "insufficient_quota",
        "tokens",
        "requests",
    ]) {
        ErrorKind::RateLimited
    } else if any(&["invalid_request_error", "invalid_value", "invalid_type"]) {
        ErrorKind::BadRequest
    } else if any(&["authentication_error", "invalid_api_key"]) {
        ErrorKind::Authentication
    } else if any(&[
        "overloaded_error",
        "service_unavailable",
        "server_overloaded",
    ]) {
        ErrorKind::ServiceUnavailable
    } else if any(&["timeout", "timeout_error"]) {
        ErrorKind::Timeout
    } else {
        ErrorKind::InternalServer
    }
}

fn error_from_parts(status: Option<u16>, body: ErrorBody, raw: Option<&[u8]>) -> LlmError {
    let message = body
        .message
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            raw.map(|b| String::from_utf8_lossy(b))
                .filter(|t| !t.trim().is_empty())
                .map(|t| truncate_chars(t.trim(), MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{PROVIDER} returned HTTP {s} with an empty body"),
            None => format!("{PROVIDER} reported an error"),
        });
    let code = body.code.as_deref();
    let kind = if matches!(status, None | Some(400)) && is_context_window(code, &message) {
        ErrorKind::ContextWindowExceeded
    } else if matches!(status, None | Some(400))
        && is_content_policy(code, body.kind.as_deref(), &message)
    {
        ErrorKind::ContentPolicyViolation
    } else {
        match status {
            Some(s) => kind_for_status(s),
            None => kind_for_type(body.kind.as_deref(), code),
        }
    };
    let mut err = LlmError::upstream(kind, message).with_provider(PROVIDER);
    err.status = status;
    err.param = body.param;
    err
}

/// Maps an OpenAI (or OpenAI-compatible) error response to an `LlmError`, by status and by the
/// error body's `code`: 400 `context_length_exceeded` (or a "maximum context length" message) is
/// `ContextWindowExceeded`, 400 `content_policy_violation`/`content_filter` is
/// `ContentPolicyViolation`; otherwise 400/422 BadRequest, 401 Authentication, 403
/// PermissionDenied, 404 NotFound, 408/504 Timeout, 409/503/529 ServiceUnavailable, 429
/// RateLimited (`insufficient_quota` included), other 5xx InternalServer, other 4xx BadRequest.
/// The upstream message is kept (a non-JSON body is used as text, truncated), with `status`,
/// `param`, `provider` and `retry_after` (`retry-after-ms` or `retry-after`) set.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .as_ref()
        .and_then(extract_error)
        .unwrap_or_default();
    error_from_parts(Some(status), parsed, Some(body)).with_retry_after(parse_retry_after(headers))
}

/// Turns an OpenAI SSE stream into chunks, incrementally: feed bytes as they arrive, collect the
/// chunks (and at most one error) they complete.
///
/// Ends at `data: [DONE]`. An `{"error": ...}` event yields one error item and ends the stream.
/// If the bytes end before `[DONE]` (see [`ChatStreamDecoder::finish`]) and no chunk carried a
/// `finish_reason`, that is an `ApiConnection` error: the stream was cut.
#[derive(Debug)]
pub struct ChatStreamDecoder {
    sse: SseParser,
    events: Vec<SseEvent>,
    model: String,
    /// The id given to chunks that lack one, the same for the whole stream.
    fallback_id: Option<String>,
    done: bool,
    saw_finish: bool,
}

impl ChatStreamDecoder {
    /// A decoder; `model` fills chunks that omit theirs.
    pub fn new(model: &str) -> Self {
        ChatStreamDecoder {
            sse: SseParser::new(),
            events: Vec::new(),
            model: model.to_string(),
            fallback_id: None,
            done: false,
            saw_finish: false,
        }
    }

    /// Whether the stream is over (`[DONE]` seen or an error emitted): later bytes are ignored.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds the next bytes; completed chunks and errors are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        self.sse.push(bytes, &mut self.events);
        self.drain_events(out);
    }

    /// The bytes have ended: flushes a last unterminated event, and reports a cut stream.
    pub fn finish(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        if self.done {
            return;
        }
        self.sse.finish(&mut self.events);
        self.drain_events(out);
        if !self.done && !self.saw_finish {
            self.done = true;
            out.push_back(Err(LlmError::upstream(
                ErrorKind::ApiConnection,
                "the upstream stream ended before [DONE]",
            )
            .with_provider(PROVIDER)));
        }
        self.done = true;
    }

    fn drain_events(&mut self, out: &mut VecDeque<Result<ChatChunk, LlmError>>) {
        let mut events = std::mem::take(&mut self.events);
        for ev in events.drain(..) {
            if self.done {
                break;
            }
            if let Some(item) = self.decode_event(ev) {
                if item.is_err() {
                    self.done = true;
                }
                out.push_back(item);
            }
        }
        // Keep the allocation.
        self.events = events;
    }

    fn decode_event(&mut self, ev: SseEvent) -> Option<Result<ChatChunk, LlmError>> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return None;
        }
        if data.is_empty() {
            return None;
        }
        let is_error_event = ev.event.as_deref() == Some("error");
        // Fast path: a well-formed chunk. A raw `"error"` (a key, or an error finish reason)
        // takes the careful path.
        if !is_error_event && !data.contains("\"error\"") {
            if let Ok(chunk) = serde_json::from_str::<ChatChunk>(data) {
                // Azure opens its streams with a `prompt_filter_results` chunk that has no id,
                // no choices and no usage: nothing for the client (LiteLLM drops it too).
                if chunk.id.is_empty() && chunk.choices.is_empty() && chunk.usage.is_none() {
                    return None;
                }
                self.note(&chunk);
                return Some(Ok(chunk));
            }
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                if is_error_event {
                    let message = truncate_chars(data, MAX_ERROR_TEXT);
                    return Some(Err(error_from_parts(
                        None,
                        ErrorBody {
                            message: Some(message),
                            ..Default::default()
                        },
                        None,
                    )));
                }
                return Some(Err(invalid_upstream_body(
                    PROVIDER,
                    "stream chunk",
                    &e,
                    data.as_bytes(),
                )));
            }
        };
        if let Some(err) = error_in_body(&value) {
            return Some(Err(err));
        }
        if is_error_event {
            let body = extract_error(&value).unwrap_or_else(|| ErrorBody {
                message: Some(truncate_chars(data, MAX_ERROR_TEXT)),
                ..Default::default()
            });
            return Some(Err(error_from_parts(None, body, None)));
        }
        let Value::Object(mut map) = value else {
            return Some(Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{PROVIDER} sent a stream event that is not a JSON object: {}",
                    truncate_chars(data, 300)
                ),
            )
            .with_provider(PROVIDER)));
        };
        let id = self
            .fallback_id
            .get_or_insert_with(|| format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()))
            .clone();
        fill_identity(&mut map, &self.model, Some(&id));
        match serde_json::from_value::<ChatChunk>(Value::Object(map)) {
            Ok(chunk) => {
                self.note(&chunk);
                Some(Ok(chunk))
            }
            Err(e) => Some(Err(invalid_upstream_body(
                PROVIDER,
                "stream chunk",
                &e,
                data.as_bytes(),
            ))),
        }
    }

    fn note(&mut self, chunk: &ChatChunk) {
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.saw_finish = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_params_are_recognised() {
        for key in [
            "rpm",
            "input_cost_per_token",
            "output_cost_per_token_batches",
            "cache_read_input_token_cost",
            "litellm_credential_name",
            "use_in_pass_through",
            "merge_reasoning_content_in_choices",
            "configurable_clientside_auth_params",
            "mock_delay",
            "aws_region_name",
            "metadata",
            "model_info",
        ] {
            assert!(is_internal_param(key), "{key} should be internal");
        }
        for key in [
            "temperature",
            "max_tokens",
            "top_k",
            "seed",
            "user",
            "reasoning_effort",
        ] {
            assert!(!is_internal_param(key), "{key} should be forwarded");
        }
    }

    #[test]
    fn error_kinds_follow_status_and_code() {
        let h = HeaderMap::new();
        let cases: &[(u16, &str, ErrorKind)] = &[
            (
                400,
                r#"{"error":{"message":"bad","code":null}}"#,
                ErrorKind::BadRequest,
            ),
            (
                400,
                r#"{"error":{"message":"x","code":"context_length_exceeded"}}"#,
                ErrorKind::ContextWindowExceeded,
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens"}}"#,
                ErrorKind::ContextWindowExceeded,
            ),
            (
                400,
                r#"{"error":{"message":"no","code":"content_policy_violation"}}"#,
                ErrorKind::ContentPolicyViolation,
            ),
            (
                400,
                r#"{"error":{"message":"no","code":"content_filter"}}"#,
                ErrorKind::ContentPolicyViolation,
            ),
            (401, "{}", ErrorKind::Authentication),
            (403, "", ErrorKind::PermissionDenied),
            (404, "", ErrorKind::NotFound),
            (408, "", ErrorKind::Timeout),
            (409, "", ErrorKind::ServiceUnavailable),
            (413, "", ErrorKind::BadRequest),
            (422, "", ErrorKind::BadRequest),
            (
                429,
                r#"{"error":{"message":"quota","code":"insufficient_quota"}}"#,
                ErrorKind::RateLimited,
            ),
            (500, "", ErrorKind::InternalServer),
            (502, "", ErrorKind::InternalServer),
            (503, "", ErrorKind::ServiceUnavailable),
            (504, "", ErrorKind::Timeout),
            (507, "", ErrorKind::InternalServer),
            (529, "", ErrorKind::ServiceUnavailable),
            // A context-length message on a 5xx is still a server error.
            (
                500,
                r#"{"error":{"message":"maximum context length"}}"#,
                ErrorKind::InternalServer,
            ),
        ];
        for (status, body, kind) in cases {
            let e = map_error(*status, &h, body.as_bytes());
            assert_eq!(e.kind, *kind, "{status} {body}");
            assert_eq!(e.status, Some(*status));
            assert_eq!(e.provider.as_deref(), Some(PROVIDER));
        }
    }

    #[test]
    fn error_messages_come_from_the_body_in_any_common_shape() {
        let h = HeaderMap::new();
        let msg = |status, body: &str| map_error(status, &h, body.as_bytes()).message;
        assert_eq!(msg(400, r#"{"error":{"message":"m1","param":"x"}}"#), "m1");
        assert_eq!(msg(400, r#"{"error":"m2"}"#), "m2");
        assert_eq!(msg(400, r#"{"detail":"m3"}"#), "m3");
        assert_eq!(
            msg(502, "<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
        assert_eq!(msg(502, ""), "openai returned HTTP 502 with an empty body");
        let long = "x".repeat(5000);
        assert_eq!(msg(500, &long).chars().count(), MAX_ERROR_TEXT + 1);
        assert_eq!(
            map_error(400, &h, br#"{"error":{"message":"m","param":"messages"}}"#)
                .param
                .as_deref(),
            Some("messages")
        );
    }

    #[test]
    fn scrub_removes_an_echoed_key() {
        let params = ProviderParams {
            model: "gpt-4o".into(),
            api_key: Some(SecretString::from("sk-live-abcdef")),
            ..Default::default()
        };
        let a = OpenAiAdapter::with_env(&params, "gpt-4o", |_| None).expect("adapter");
        let e = a.map_error(
            401,
            &HeaderMap::new(),
            br#"{"error":{"message":"Incorrect API key provided: sk-live-abcdef."}}"#,
        );
        assert_eq!(e.message, "Incorrect API key provided: <redacted>.");
    }

    #[test]
    fn environment_fills_base_key_and_organization() {
        let params = ProviderParams {
            model: "gpt-4o".into(),
            ..Default::default()
        };
        let env = |name: &str| match name {
            "OPENAI_API_BASE" => Some("http://env-base/v1/".to_string()),
            "OPENAI_API_KEY" => Some("sk-env".to_string()),
            "OPENAI_ORGANIZATION" => Some("org-env".to_string()),
            _ => None,
        };
        let a = OpenAiAdapter::with_env(&params, "gpt-4o", env).expect("adapter");
        assert_eq!(a.api_base(), "http://env-base/v1");
        let req = a
            .build_chat_request(
                ChatRequest {
                    model: "x".into(),
                    messages: vec![litellm_core::Message::user("hi")],
                    ..Default::default()
                },
                false,
                &[],
            )
            .expect("request");
        assert_eq!(req.url, "http://env-base/v1/chat/completions");
        assert_eq!(
            req.headers.get("authorization").map(|v| v.as_bytes()),
            Some(&b"Bearer sk-env"[..])
        );
        assert_eq!(
            req.headers.get("openai-organization").map(|v| v.as_bytes()),
            Some(&b"org-env"[..])
        );

        // Without a key anywhere, no Authorization header is sent.
        let a = OpenAiAdapter::with_env(&params, "gpt-4o", |_| None).expect("adapter");
        assert_eq!(a.api_base(), DEFAULT_API_BASE);
        let req = a
            .build_embedding_request(
                EmbeddingRequest {
                    model: "x".into(),
                    input: litellm_core::EmbeddingInput::Text("a".into()),
                    encoding_format: None,
                    dimensions: None,
                    user: None,
                    extra: JsonMap::new(),
                },
                &[("X-Trace".to_string(), "t1".to_string())],
            )
            .expect("request");
        assert!(req.headers.get("authorization").is_none());
        assert_eq!(
            req.headers.get("x-trace").map(|v| v.as_bytes()),
            Some(&b"t1"[..])
        );
    }

    fn decode_all(bytes: &[u8]) -> Vec<Result<ChatChunk, LlmError>> {
        let mut d = ChatStreamDecoder::new("m");
        let mut out = VecDeque::new();
        d.feed(bytes, &mut out);
        d.finish(&mut out);
        out.into_iter().collect()
    }

    #[test]
    fn a_stream_cut_before_done_and_finish_is_an_error() {
        let out = decode_all(
            b"data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n",
        );
        assert_eq!(out.len(), 2);
        assert!(out[0].is_ok());
        let err = out[1].as_ref().expect_err("cut");
        assert_eq!(err.kind, ErrorKind::ApiConnection);
    }

    #[test]
    fn a_finished_stream_without_done_is_accepted() {
        let out = decode_all(
            b"data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        );
        assert_eq!(out.len(), 1);
        assert!(out[0].is_ok());
    }

    #[test]
    fn nothing_after_done_or_an_error_is_emitted() {
        let out = decode_all(b"data: [DONE]\n\ndata: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[]}\n\n");
        assert!(out.is_empty());
        let out = decode_all(
            b"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\ndata: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[]}\n\n",
        );
        assert_eq!(out.len(), 1);
        let err = out[0].as_ref().expect_err("error event");
        assert_eq!(err.kind, ErrorKind::InternalServer);
        assert_eq!(err.message, "overloaded");
        assert_eq!(err.status, None);
    }

    #[test]
    fn chunks_missing_identity_get_one_stable_id() {
        let out = decode_all(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
        );
        let chunks: Vec<ChatChunk> = out.into_iter().map(|r| r.expect("chunk")).collect();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].id, chunks[1].id);
        assert!(chunks[0].id.starts_with("chatcmpl-"));
        assert_eq!(chunks[0].model, "m");
    }

    #[test]
    fn an_error_finish_reason_is_still_a_chunk() {
        let out = decode_all(
            b"data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"error\"}]}\n\ndata: [DONE]\n\n",
        );
        assert_eq!(out.len(), 1);
        let chunk = out[0].as_ref().expect("chunk");
        assert_eq!(chunk.choices[0].finish_reason.as_deref(), Some("error"));
    }
}
