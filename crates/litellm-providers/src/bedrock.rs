//! The Amazon Bedrock adapter (`bedrock/` prefix): sans-IO translation between our OpenAI-format
//! types and Bedrock's Converse API (`POST /model/{modelId}/converse` and `/converse-stream`),
//! plus Titan and Cohere embeddings through InvokeModel (`POST /model/{modelId}/invoke`). It
//! builds and signs requests, parses responses and maps error responses; it never opens a socket
//! (the transport sends). The binary event stream is decoded in [`crate::bedrock_stream`].
//!
//! Upstream reference: the Bedrock Runtime API reference (`Converse`, `ConverseStream`,
//! `InvokeModel`); LiteLLM's behaviour is `litellm/llms/bedrock/chat/converse_transformation.py`
//! and `litellm/llms/bedrock/embed/`.
//!
//! Translation, following LiteLLM:
//! - Model: `bedrock/<modelId>` or `bedrock/converse/<modelId>`; the id (a base model id, an
//!   inference profile such as `us.anthropic...`, or an ARN) is percent-encoded into the path.
//!   `bedrock/invoke/...` (provider-specific InvokeModel chat bodies) is refused.
//! - Endpoint: `api_base` (or `aws_bedrock_runtime_endpoint`, or `AWS_BEDROCK_RUNTIME_ENDPOINT`),
//!   else `https://bedrock-runtime.{region}.amazonaws.com`. Region: `aws_region_name`, then
//!   `AWS_REGION_NAME`, `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-west-2` (LiteLLM's default).
//! - Auth: `api_key` (a Bedrock API key) is sent as `Authorization: Bearer`; otherwise SigV4
//!   (service `bedrock`, signed with `aws-sigv4`) with `aws_access_key_id`,
//!   `aws_secret_access_key` and `aws_session_token` (`x-amz-security-token`), or the standard
//!   `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`; then
//!   `AWS_BEARER_TOKEN_BEDROCK`. Role assumption, profiles and web identity are refused.
//! - `system`/`developer` messages become `system` text blocks; other messages become content
//!   blocks, consecutive same-role messages merged. Images from base64 data URLs become
//!   `image {format, source.bytes}` (PDF and other documents `document`), `s3://` URLs an
//!   `s3Location` source; http(s) image URLs are a 400 (Bedrock does not fetch URLs). Assistant
//!   `tool_calls` become `toolUse` blocks, `tool` messages `toolResult` blocks in a user turn,
//!   `thinking_blocks` `reasoningContent` blocks. `cache_control` adds a `cachePoint` block.
//! - `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`, `stop` go to
//!   `inferenceConfig` (`maxTokens`, `temperature`, `topP`, `stopSequences`); `top_k` goes to
//!   `additionalModelRequestFields` (`inferenceConfig.topK` for Amazon Nova). `thinking` (or
//!   `reasoning_effort` on Claude models) goes to `additionalModelRequestFields.thinking`.
//!   `guardrailConfig`, `performanceConfig`, `promptVariables`, `requestMetadata` and
//!   `additionalModelResponseFieldPaths` are top-level; any other non-OpenAI field is sent in
//!   `additionalModelRequestFields`, as LiteLLM does.
//! - `tools` become `toolConfig.tools[].toolSpec {name, description, inputSchema.json}`;
//!   `tool_choice` `auto`/`required`/named become `{auto:{}}`/`{any:{}}`/`{tool:{name}}`; `none`
//!   is not supported by Bedrock (400, or dropped with `drop_params`). `response_format`
//!   `json_object`/`json_schema` adds a forced `json_tool_call` tool whose input comes back as
//!   the content.
//! - OpenAI parameters with no Converse equivalent (`n` > 1, penalties, `logit_bias`,
//!   `logprobs`, `seed`, `parallel_tool_calls: false`, ...) are a 400 naming them, or dropped
//!   with `drop_params`. `user` is ignored (Converse has no end-user field).
//! - Responses: `stopReason` `end_turn`/`stop_sequence` → `stop`, `max_tokens` → `length`,
//!   `tool_use` → `tool_calls`, `guardrail_intervened`/`content_filtered` → `content_filter`.
//!   Usage: `prompt_tokens` = `inputTokens` + `cacheReadInputTokens` + `cacheWriteInputTokens`
//!   (LiteLLM's count) with the cache counts in the details.
//! - Errors: `{"message"}` with the type in `x-amzn-errortype` (or `__type`): throttling →
//!   RateLimited, access denied / unrecognized client / bad signature / expired token →
//!   Authentication, validation → BadRequest (ContextWindowExceeded when the message says the
//!   input is too long), not found → NotFound, service unavailable / model not ready →
//!   ServiceUnavailable, model timeout → Timeout, internal and model errors → InternalServer.
//!   Secrets are scrubbed from every message.
//! - Embeddings: `amazon.titan-embed-*` gets one `{"inputText"}` request per input (`dimensions`
//!   on v2) and answers `{"embedding", "inputTextTokenCount"}`; `cohere.embed-*` gets
//!   `{"texts", "input_type": "search_document"}` and answers `{"embeddings"}` (usage from the
//!   `x-amzn-bedrock-input-token-count` header).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use litellm_core::{
    unix_now, ChatRequest, ChatResponse, Choice, Content, ContentPart, EmbeddingInput,
    EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, ErrorKind, JsonMap,
    KnownContentPart, KnownResponseFormat, LlmError, Message, PromptTokensDetails, ResponseFormat,
    ResponseMessage, ToolCall, ToolChoice, Usage,
};

use crate::adapter_common::{
    add_extra_headers, merge_extra_body, prepare, refuse_or_drop, serialize_body, stop_sequences,
    Prepared,
};
use crate::bedrock_stream::BedrockStreamDecoder;
use crate::openai::{is_internal_param, kind_for_status, looks_like_context_window};
use crate::params::ProviderParams;
use crate::upstream::{
    insert_header, invalid_upstream_body, parse_retry_after, truncate_chars, UpstreamRequest,
};

/// The provider name reported in errors, headers and spend records.
pub const PROVIDER: &str = "bedrock";

/// The region when none is configured (LiteLLM's default).
pub const DEFAULT_REGION: &str = "us-west-2";

/// The SigV4 signing name of the Bedrock Runtime API.
pub const SIGNING_SERVICE: &str = "bedrock";

/// The forced tool carrying `response_format` (LiteLLM's `RESPONSE_FORMAT_TOOL_NAME`).
pub const RESPONSE_FORMAT_TOOL_NAME: &str = "json_tool_call";

/// `maxTokens` margin above the thinking budget when thinking is on and no limit is set.
const THINKING_MAX_TOKENS_MARGIN: u64 = 256;

/// Longest non-JSON error body kept in an error message, in characters.
const MAX_ERROR_TEXT: usize = 1000;

/// Characters kept as is in a model id in the URL path (Python's `quote(id, safe="")`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Typed OpenAI parameters Converse has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_TYPED: &[&str] = &[
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "parallel_tool_calls",
];

/// Body fields a client `extra_body` never replaces.
const EXTRA_BODY_KEPT_KEYS: &[&str] = &["messages", "toolConfig", "system"];

/// OpenAI request fields Converse has no equivalent for: a 400 unless dropped.
const UNSUPPORTED_EXTRA: &[&str] = &[
    "audio",
    "modalities",
    "prediction",
    "store",
    "prompt_cache_key",
    "safety_identifier",
    "verbosity",
    "web_search_options",
    "service_tier",
    "logprobs",
    "top_logprobs",
];

/// Converse request fields that sit at the top level of the body when a client sends them.
const TOP_LEVEL_FIELDS: &[&str] = &[
    "guardrailConfig",
    "performanceConfig",
    "promptVariables",
    "requestMetadata",
    "additionalModelResponseFieldPaths",
];

/// Client fields never forwarded (the adapter builds them, or they only steer LiteLLM).
const STRUCTURAL_KEYS: &[&str] = &[
    "model",
    "messages",
    "system",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "toolConfig",
    "extra_body",
];

/// `litellm_params` credential sources LiteLLM supports that litellm-rs does not.
const UNSUPPORTED_AUTH_PARAMS: &[&str] = &[
    "aws_role_name",
    "aws_session_name",
    "aws_profile_name",
    "aws_web_identity_token",
    "aws_sts_endpoint",
    "aws_external_id",
];

/// What the response side needs to know about the request: the same as for Anthropic (JSON mode
/// through the `json_tool_call` tool, and whether a final usage chunk was asked for).
pub use crate::anthropic::CallOptions;

/// How requests are authenticated. `Debug` never shows a secret (`Credentials` redacts the
/// secret key and the session token; the bearer key is a `SecretString`).
#[derive(Debug, Clone)]
enum Auth {
    SigV4(Credentials),
    Bearer(SecretString),
    Missing,
}

/// Which embeddings body a model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingFamily {
    /// `amazon.titan-embed-*`: one `{"inputText"}` request per input; `v2` takes `dimensions`.
    Titan { v2: bool },
    /// `cohere.embed-*`: one `{"texts", "input_type"}` request for all inputs.
    Cohere,
}

/// One Bedrock deployment's translation state, built once from its `litellm_params`.
#[derive(Debug, Clone)]
pub struct BedrockAdapter {
    model: String,
    region: String,
    endpoint: String,
    auth: Auth,
    headers: HeaderMap,
    defaults: JsonMap,
    drop_params: bool,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn param_str(params: &ProviderParams, key: &str) -> Result<Option<String>, LlmError> {
    match params.extra.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(non_empty(Some(s.clone()))),
        Some(_) => Err(LlmError::bad_param(
            key,
            format!("litellm_params.{key} must be a string"),
        )),
    }
}

/// The model id without a cross-region inference prefix or an ARN path (`us.anthropic.x` →
/// `anthropic.x`), for choosing model-family behaviour.
pub fn base_model(model: &str) -> &str {
    let model = model.rsplit('/').next().unwrap_or(model);
    const REGION_PREFIXES: &[&str] = &["us", "eu", "apac", "ap", "ca", "jp", "au", "global"];
    match model.split_once('.') {
        Some((prefix, rest)) if REGION_PREFIXES.contains(&prefix) || prefix == "us-gov" => rest,
        _ => model,
    }
}

impl BedrockAdapter {
    /// The adapter for one deployment whose `bedrock/` prefix has been stripped (`model`),
    /// reading defaults from the process environment.
    pub fn new(params: &ProviderParams, model: &str) -> Result<Self, LlmError> {
        Self::with_env(params, model, |name| std::env::var(name).ok())
    }

    /// As [`BedrockAdapter::new`], with the environment given as a lookup function.
    pub fn with_env(
        params: &ProviderParams,
        model: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let model = model.trim();
        let model = model.strip_prefix("converse/").unwrap_or(model);
        if model.starts_with("invoke/") {
            return Err(LlmError::bad_param(
                "model",
                format!(
                    "bedrock/{model}: the InvokeModel chat route is not supported by litellm-rs; \
                     use bedrock/<model id> (the Converse API)"
                ),
            ));
        }
        if model.is_empty() {
            return Err(LlmError::bad_param(
                "model",
                "bedrock/ needs a model id (e.g. bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0)",
            ));
        }
        for key in UNSUPPORTED_AUTH_PARAMS {
            if param_str(params, key)?.is_some() {
                return Err(LlmError::bad_param(
                    *key,
                    format!(
                        "litellm_params.{key} is not supported by litellm-rs; give \
                         aws_access_key_id/aws_secret_access_key (and aws_session_token) or api_key"
                    ),
                ));
            }
        }
        let region = param_str(params, "aws_region_name")?
            .or_else(|| non_empty(env("AWS_REGION_NAME")))
            .or_else(|| non_empty(env("AWS_REGION")))
            .or_else(|| non_empty(env("AWS_DEFAULT_REGION")))
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        let endpoint = non_empty(params.api_base.clone())
            .or(param_str(params, "aws_bedrock_runtime_endpoint")?)
            .or_else(|| non_empty(env("AWS_BEDROCK_RUNTIME_ENDPOINT")))
            .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"));
        let endpoint = endpoint.trim_end_matches('/').to_string();

        let access_key = param_str(params, "aws_access_key_id")?;
        let secret_key = param_str(params, "aws_secret_access_key")?;
        let session_token = param_str(params, "aws_session_token")?;
        let api_key = params
            .api_key
            .as_ref()
            .map(|k| k.expose_secret().trim().to_string())
            .filter(|k| !k.is_empty());
        let auth = match (api_key, access_key, secret_key) {
            (Some(key), _, _) => Auth::Bearer(SecretString::from(key)),
            (None, Some(id), Some(secret)) => Auth::SigV4(Credentials::new(
                id,
                secret,
                session_token,
                None,
                "litellm_params",
            )),
            (None, Some(_), None) => {
                return Err(LlmError::bad_param(
                    "aws_secret_access_key",
                    "litellm_params.aws_access_key_id is set but aws_secret_access_key is not",
                ));
            }
            (None, None, Some(_)) => {
                return Err(LlmError::bad_param(
                    "aws_access_key_id",
                    "litellm_params.aws_secret_access_key is set but aws_access_key_id is not",
                ));
            }
            (None, None, None) => match (
                non_empty(env("AWS_ACCESS_KEY_ID")),
                non_empty(env("AWS_SECRET_ACCESS_KEY")),
                non_empty(env("AWS_BEARER_TOKEN_BEDROCK")),
            ) {
                (Some(id), Some(secret), _) => Auth::SigV4(Credentials::new(
                    id,
                    secret,
                    non_empty(env("AWS_SESSION_TOKEN")),
                    None,
                    "environment",
                )),
                (_, _, Some(token)) => Auth::Bearer(SecretString::from(token)),
                _ => Auth::Missing,
            },
        };

        let mut headers = HeaderMap::new();
        add_extra_headers(&mut headers, params.extra_headers.iter().flatten())?;
        let mut defaults = JsonMap::new();
        for (key, value) in &params.extra {
            if is_internal_param(key) || STRUCTURAL_KEYS.contains(&key.as_str()) {
                continue;
            }
            defaults.insert(key.clone(), value.clone());
        }
        Ok(BedrockAdapter {
            model: model.to_string(),
            region,
            endpoint,
            auth,
            headers,
            defaults,
            drop_params: params.drop_params.unwrap_or(false),
        })
    }

    /// The model id sent in the path.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint requests go to (`https://bedrock-runtime.{region}.amazonaws.com` or
    /// `api_base`).
    pub fn api_base(&self) -> &str {
        &self.endpoint
    }

    /// `{endpoint}/model/{id}/{action}` with the id percent-encoded.
    pub fn url(&self, action: &str) -> String {
        format!(
            "{}/model/{}/{action}",
            self.endpoint,
            utf8_percent_encode(&self.model, PATH_SEGMENT)
        )
    }

    /// Removes the deployment's secrets from a message, should an upstream have echoed one.
    pub fn scrub(&self, mut err: LlmError) -> LlmError {
        let secrets: Vec<String> = match &self.auth {
            Auth::SigV4(c) => std::iter::once(c.secret_access_key().to_string())
                .chain(c.session_token().map(str::to_string))
                .collect(),
            Auth::Bearer(k) => vec![k.expose_secret().to_string()],
            Auth::Missing => Vec::new(),
        };
        for secret in secrets {
            if secret.len() >= 4 && err.message.contains(&secret) {
                err.message = err.message.replace(&secret, "<redacted>");
            }
        }
        err
    }

    /// Adds the call's headers and the credentials (a bearer key, or a SigV4 signature over
    /// every header, the URL and the body at `now`).
    fn finish(
        &self,
        url: String,
        mut headers: HeaderMap,
        body: Bytes,
        extra_headers: &[(String, String)],
        now: SystemTime,
    ) -> Result<UpstreamRequest, LlmError> {
        add_extra_headers(&mut headers, extra_headers.iter().map(|(n, v)| (n, v)))?;
        match &self.auth {
            Auth::Bearer(key) => insert_header(
                &mut headers,
                "authorization",
                &format!("Bearer {}", key.expose_secret()),
                "api_key",
            )?,
            Auth::SigV4(creds) => {
                let signing_error = |what: &str| {
                    LlmError::internal(format!("could not sign the bedrock request: {what}"))
                        .with_provider(PROVIDER)
                };
                let identity: Identity = creds.clone().into();
                let params = v4::SigningParams::builder()
                    .identity(&identity)
                    .region(&self.region)
                    .name(SIGNING_SERVICE)
                    .time(now)
                    .settings(SigningSettings::default())
                    .build()
                    .map_err(|e| signing_error(&e.to_string()))?
                    .into();
                let pairs: Vec<(&str, &str)> = headers
                    .iter()
                    .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
                    .collect();
                let signable = SignableRequest::new(
                    "POST",
                    url.as_str(),
                    pairs.into_iter(),
                    SignableBody::Bytes(&body),
                )
                .map_err(|e| signing_error(&e.to_string()))?;
                let (instructions, _signature) = sign(signable, &params)
                    .map_err(|e| signing_error(&e.to_string()))?
                    .into_parts();
                let (signed, _query) = instructions.into_parts();
                let mut out = HeaderMap::new();
                for h in &signed {
                    insert_header(&mut out, h.name(), h.value(), "aws credentials")?;
                }
                headers.extend(out);
            }
            Auth::Missing => {
                return Err(LlmError::upstream(
                    ErrorKind::Authentication,
                    "no AWS credentials for bedrock: set litellm_params aws_access_key_id and \
                     aws_secret_access_key (or api_key), or AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY (or AWS_BEARER_TOKEN_BEDROCK)",
                )
                .with_provider(PROVIDER));
            }
        }
        Ok(UpstreamRequest {
            method: Method::POST,
            url,
            headers,
            body,
        })
    }

    fn json_headers(&self, accept: &'static str) -> HeaderMap {
        let mut headers = self.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        headers
    }

    /// `POST /model/{id}/converse` (or `/converse-stream`), signed now.
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
    ) -> Result<UpstreamRequest, LlmError> {
        self.build_chat_request_at(req, stream, extra_headers, SystemTime::now())
    }

    /// As [`BedrockAdapter::build_chat_request`], signed at `now` (tests fix the clock).
    pub fn build_chat_request_at(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        now: SystemTime,
    ) -> Result<UpstreamRequest, LlmError> {
        let body = serialize_body(&Value::Object(self.translate_request(req)?))?;
        let (action, accept) = if stream {
            ("converse-stream", "application/vnd.amazon.eventstream")
        } else {
            ("converse", "application/json")
        };
        self.finish(
            self.url(action),
            self.json_headers(accept),
            body,
            extra_headers,
            now,
        )
    }

    /// The Converse body for `req`.
    pub fn translate_request(&self, req: ChatRequest) -> Result<JsonMap, LlmError> {
        let Prepared {
            mut req,
            extra_body: client_extra_body,
            drop,
        } = prepare(req, &self.defaults, &[], self.drop_params, &[])?;
        refuse_or_drop(
            PROVIDER,
            &mut req,
            UNSUPPORTED_TYPED,
            UNSUPPORTED_EXTRA,
            drop,
        )?;
        req.user = None;
        let base = base_model(&self.model);
        let is_claude = base.starts_with("anthropic.") || base.contains("claude");

        let mut body = JsonMap::new();
        let (system, messages, has_tool_blocks) =
            translate_messages(std::mem::take(&mut req.messages))?;
        body.insert("messages".into(), Value::Array(messages));
        if !system.is_empty() {
            body.insert("system".into(), Value::Array(system));
        }

        let mut inference = JsonMap::new();
        let mut additional = JsonMap::new();
        if let Some(n) = req.max_output_tokens() {
            inference.insert("maxTokens".into(), json!(n));
        }
        if let Some(t) = req.temperature {
            inference.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            inference.insert("topP".into(), json!(p));
        }
        if let Some(seqs) = stop_sequences(&req) {
            inference.insert("stopSequences".into(), seqs);
        }
        let top_k = req
            .extra
            .remove("top_k")
            .or_else(|| req.extra.remove("topK"))
            .filter(|v| !v.is_null());
        if let Some(k) = top_k {
            if base.starts_with("amazon.nova") {
                inference.insert("topK".into(), k);
            } else {
                additional.insert("top_k".into(), k);
            }
        }

        // Thinking: a client `thinking` object wins over `reasoning_effort`.
        let thinking = match req.extra.remove("thinking") {
            Some(Value::Null) | None => match req.reasoning_effort.as_deref() {
                Some(effort) if is_claude => thinking_for_effort(effort)?,
                Some(effort) if !matches!(effort.trim(), "" | "none") && !drop => {
                    let mut e = LlmError::client(
                        ErrorKind::BadRequest,
                        format!(
                            "UnsupportedParamsError: bedrock model {} does not support \
                             reasoning_effort. To drop it, set drop_params: true",
                            self.model
                        ),
                    );
                    e.param = Some("reasoning_effort".into());
                    return Err(e.with_provider(PROVIDER));
                }
                _ => None,
            },
            Some(t) => Some(t),
        };
        let thinking_on = thinking
            .as_ref()
            .is_some_and(|t| t.get("type").and_then(Value::as_str) == Some("enabled"));
        if let Some(t) = thinking {
            if thinking_on && !inference.contains_key("maxTokens") {
                if let Some(budget) = t.get("budget_tokens").and_then(Value::as_u64) {
                    inference.insert(
                        "maxTokens".into(),
                        json!(budget + THINKING_MAX_TOKENS_MARGIN),
                    );
                }
            }
            additional.insert("thinking".into(), t);
        }

        // Tools, legacy functions, and the JSON-mode tool.
        let mut tools: Vec<Value> = Vec::new();
        for tool in req.tools.take().into_iter().flatten() {
            tools.extend(translate_tool(tool)?);
        }
        for f in req.functions.take().into_iter().flatten() {
            let cache = f.extra.get("cache_control").is_some_and(|c| !c.is_null());
            tools.push(tool_spec(f.name, f.description, f.parameters));
            if cache {
                tools.push(cache_point());
            }
        }
        let mut tool_choice = match req.tool_choice.take() {
            Some(choice) => translate_tool_choice(choice, drop)?,
            None => match req.function_call.take() {
                Some(Value::String(mode)) => translate_tool_choice(ToolChoice::Mode(mode), drop)?,
                Some(Value::Object(o)) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|name| json!({"tool": {"name": name}})),
                _ => None,
            },
        };
        if let Some(format) = req.response_format.take() {
            if let Some(tool) = response_format_tool(format)? {
                tools.push(tool);
                if !thinking_on {
                    tool_choice = Some(json!({"tool": {"name": RESPONSE_FORMAT_TOOL_NAME}}));
                }
            }
        }
        if !tools.is_empty() {
            let mut config = JsonMap::new();
            config.insert("tools".into(), Value::Array(tools));
            if let Some(choice) = tool_choice {
                config.insert("toolChoice".into(), choice);
            }
            body.insert("toolConfig".into(), Value::Object(config));
        } else if has_tool_blocks {
            return Err(LlmError::bad_param(
                "tools",
                "bedrock needs `tools` when the conversation holds tool calls or tool results; \
                 pass the tool definitions with the request",
            ));
        }

        // Everything else the client sent that we do not model.
        for (key, value) in std::mem::take(&mut req.extra) {
            if value.is_null() || is_internal_param(&key) || STRUCTURAL_KEYS.contains(&key.as_str())
            {
                continue;
            }
            match key.as_str() {
                k if TOP_LEVEL_FIELDS.contains(&k) => {
                    body.insert(key, value);
                }
                "additionalModelRequestFields" | "inferenceConfig" => {
                    let Value::Object(map) = value else {
                        return Err(LlmError::bad_param(
                            key.clone(),
                            format!("{key} must be a JSON object"),
                        ));
                    };
                    let target = if key == "inferenceConfig" {
                        &mut inference
                    } else {
                        &mut additional
                    };
                    for (k, v) in map {
                        target.entry(k).or_insert(v);
                    }
                }
                _ => {
                    additional.insert(key, value);
                }
            }
        }
        if !inference.is_empty() {
            body.insert("inferenceConfig".into(), Value::Object(inference));
        }
        if !additional.is_empty() {
            body.insert(
                "additionalModelRequestFields".into(),
                Value::Object(additional),
            );
        }
        merge_extra_body(&mut body, client_extra_body, EXTRA_BODY_KEPT_KEYS, &[]);
        Ok(body)
    }

    /// Parses a successful Converse response.
    pub fn parse_chat_response(
        &self,
        body: &[u8],
        options: CallOptions,
    ) -> Result<ChatResponse, LlmError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_upstream_body(PROVIDER, "converse response", &e, body))?;
        let Some(blocks) = value
            .pointer("/output/message/content")
            .and_then(Value::as_array)
        else {
            return Err(LlmError::upstream(
                ErrorKind::InternalServer,
                format!(
                    "{PROVIDER} returned a response without output.message.content: {}",
                    truncate_chars(&String::from_utf8_lossy(body), 300)
                ),
            )
            .with_provider(PROVIDER));
        };
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut thinking_blocks: Vec<Value> = Vec::new();
        let mut tool_calls: Vec<ToolCall> = Vec::new();
        for block in blocks {
            if let Some(t) = block.get("text").and_then(Value::as_str) {
                text.push_str(t);
            }
            if let Some(tool) = block.get("toolUse") {
                tool_calls.push(ToolCall {
                    id: str_field(tool, "toolUseId"),
                    kind: "function".into(),
                    function: litellm_core::FunctionCall {
                        name: str_field(tool, "name"),
                        arguments: tool
                            .get("input")
                            .map(Value::to_string)
                            .unwrap_or_else(|| "{}".into()),
                    },
                });
            }
            if let Some(r) = block.get("reasoningContent") {
                if let Some(rt) = r.get("reasoningText") {
                    let t = str_field(rt, "text");
                    reasoning.push_str(&t);
                    let mut b = json!({"type": "thinking", "thinking": t});
                    if let Some(sig) = rt.get("signature").and_then(Value::as_str) {
                        b["signature"] = json!(sig);
                    }
                    thinking_blocks.push(b);
                }
                if let Some(data) = r.get("redactedContent").and_then(Value::as_str) {
                    thinking_blocks.push(json!({"type": "redacted_thinking", "data": data}));
                }
            }
        }
        let stop_reason = value.get("stopReason").and_then(Value::as_str);
        let mut finish_reason = stop_reason.map(map_stop_reason);
        let mut content = (!text.is_empty()).then_some(text);
        if options.json_mode && tool_calls.len() == 1 {
            content = tool_calls.pop().map(|t| t.function.arguments);
            finish_reason = Some("stop".into());
        }
        let mut message_extra = JsonMap::new();
        if !thinking_blocks.is_empty() {
            message_extra.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
        }
        let usage = value.get("usage").map(|u| {
            let mut raw = RawUsage::default();
            raw.merge(u);
            raw.to_usage()
        });
        let mut extra = JsonMap::new();
        if let Some(trace) = value.get("trace").filter(|t| !t.is_null()) {
            extra.insert("trace".into(), trace.clone());
        }
        Ok(ChatResponse {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
            object: "chat.completion".into(),
            created: unix_now(),
            model: self.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content,
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    function_call: None,
                    refusal: None,
                    reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                    extra: message_extra,
                },
                finish_reason,
                logprobs: None,
                extra: JsonMap::new(),
            }],
            usage,
            system_fingerprint: None,
            service_tier: None,
            extra,
        })
    }

    /// A decoder for this deployment's event stream.
    pub fn stream_decoder(&self, options: CallOptions) -> BedrockStreamDecoder {
        BedrockStreamDecoder::new(&self.model, options)
    }

    /// Maps an error response (see [`map_error`]), removing secrets should they be echoed.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.scrub(map_error(status, headers, body))
    }

    /// The embeddings family of this deployment's model, or a 400 for a model without one.
    pub fn embedding_family(&self) -> Result<EmbeddingFamily, LlmError> {
        let base = base_model(&self.model);
        if base.starts_with("amazon.titan-embed") {
            return Ok(EmbeddingFamily::Titan {
                v2: base.starts_with("amazon.titan-embed-text-v2"),
            });
        }
        if base.starts_with("cohere.embed") {
            return Ok(EmbeddingFamily::Cohere);
        }
        let mut e = LlmError::client(
            ErrorKind::BadRequest,
            format!(
                "bedrock model {} has no embeddings support in litellm-rs; use an \
                 amazon.titan-embed-* or cohere.embed-* model",
                self.model
            ),
        );
        e.param = Some("model".into());
        Err(e.with_provider(PROVIDER))
    }

    /// The InvokeModel requests for an embeddings call (Titan: one per input; Cohere: one),
    /// signed now.
    pub fn build_embedding_requests(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
    ) -> Result<Vec<UpstreamRequest>, LlmError> {
        self.build_embedding_requests_at(req, extra_headers, SystemTime::now())
    }

    /// As [`BedrockAdapter::build_embedding_requests`], signed at `now`.
    pub fn build_embedding_requests_at(
        &self,
        req: &EmbeddingRequest,
        extra_headers: &[(String, String)],
        now: SystemTime,
    ) -> Result<Vec<UpstreamRequest>, LlmError> {
        let family = self.embedding_family()?;
        let texts: Vec<&str> = match &req.input {
            EmbeddingInput::Text(t) => vec![t.as_str()],
            EmbeddingInput::Texts(ts) => ts.iter().map(String::as_str).collect(),
            EmbeddingInput::Tokens(_) | EmbeddingInput::TokenBatches(_) => {
                return Err(LlmError::bad_param(
                    "input",
                    "bedrock embeddings take text input, not token ids",
                ));
            }
        };
        if texts.is_empty() {
            return Err(LlmError::bad_param("input", "input must not be empty"));
        }
        let drop = self.drop_params
            || req.extra.get("drop_params").and_then(Value::as_bool) == Some(true)
            || self.defaults.get("drop_params").and_then(Value::as_bool) == Some(true);
        let dimensions = req.dimensions.or_else(|| {
            self.defaults
                .get("dimensions")
                .and_then(Value::as_u64)
                .and_then(|d| u32::try_from(d).ok())
        });
        let extra_str = |key: &str| {
            req.extra
                .get(key)
                .or_else(|| self.defaults.get(key))
                .filter(|v| !v.is_null())
                .cloned()
        };
        let bodies: Vec<Value> = match family {
            EmbeddingFamily::Titan { v2 } => {
                if dimensions.is_some() && !v2 && !drop {
                    return Err(unsupported_embedding_param(&self.model, "dimensions"));
                }
                texts
                    .iter()
                    .map(|t| {
                        let mut b = json!({"inputText": t});
                        if v2 {
                            if let Some(d) = dimensions {
                                b["dimensions"] = json!(d);
                            }
                            if let Some(n) = extra_str("normalize") {
                                b["normalize"] = n;
                            }
                        }
                        b
                    })
                    .collect()
            }
            EmbeddingFamily::Cohere => {
                if dimensions.is_some() && !drop {
                    return Err(unsupported_embedding_param(&self.model, "dimensions"));
                }
                let mut b = json!({
                    "texts": texts,
                    "input_type": extra_str("input_type").unwrap_or_else(|| json!("search_document")),
                });
                if let Some(t) = extra_str("truncate") {
                    b["truncate"] = t;
                }
                vec![b]
            }
        };
        bodies
            .into_iter()
            .map(|b| {
                let body = serialize_body(&b)?;
                self.finish(
                    self.url("invoke"),
                    self.json_headers("application/json"),
                    body,
                    extra_headers,
                    now,
                )
            })
            .collect()
    }

    /// Joins the InvokeModel answers (`(headers, body)` in request order) into one OpenAI
    /// embeddings response.
    pub fn parse_embedding_responses(
        &self,
        req: &EmbeddingRequest,
        answers: &[(HeaderMap, Bytes)],
    ) -> Result<EmbeddingResponse, LlmError> {
        let family = self.embedding_family()?;
        let mut vectors: Vec<Vec<f32>> = Vec::new();
        let mut tokens: u64 = 0;
        for (headers, body) in answers {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| invalid_upstream_body(PROVIDER, "embeddings response", &e, body))?;
            let floats = |v: &Value| -> Option<Vec<f32>> {
                v.as_array()?
                    .iter()
                    .map(|x| x.as_f64().map(|f| f as f32))
                    .collect()
            };
            let bad = || {
                LlmError::upstream(
                    ErrorKind::InternalServer,
                    format!(
                        "{PROVIDER} returned an embeddings response without vectors: {}",
                        truncate_chars(&String::from_utf8_lossy(body), 300)
                    ),
                )
                .with_provider(PROVIDER)
            };
            match family {
                EmbeddingFamily::Titan { .. } => {
                    let v = value.get("embedding").and_then(floats).ok_or_else(bad)?;
                    vectors.push(v);
                    tokens += value
                        .get("inputTextTokenCount")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                }
                EmbeddingFamily::Cohere => {
                    // `embeddings` is a list of vectors, or `{"float": [...]}` with
                    // `embedding_types`.
                    let list = value.get("embeddings").map(|e| e.get("float").unwrap_or(e));
                    let list = list.and_then(Value::as_array).ok_or_else(bad)?;
                    for v in list {
                        vectors.push(floats(v).ok_or_else(bad)?);
                    }
                    tokens += headers
                        .get("x-amzn-bedrock-input-token-count")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .unwrap_or(0);
                }
            }
        }
        let base64 = req.wants_base64();
        let data = vectors
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let vector = EmbeddingVector::Float(v);
                litellm_core::Embedding {
                    object: "embedding".into(),
                    index: i as u32,
                    embedding: if base64 { vector.into_base64() } else { vector },
                }
            })
            .collect();
        Ok(EmbeddingResponse {
            object: "list".into(),
            data,
            model: self.model.clone(),
            usage: Some(EmbeddingUsage {
                prompt_tokens: tokens,
                total_tokens: tokens,
            }),
            extra: JsonMap::new(),
        })
    }
}

fn unsupported_embedding_param(model: &str, param: &str) -> LlmError {
    let mut e = LlmError::client(
        ErrorKind::BadRequest,
        format!(
            "UnsupportedParamsError: bedrock model {model} does not support {param}. To drop it, \
             set drop_params: true"
        ),
    );
    e.param = Some(param.into());
    e.with_provider(PROVIDER)
}

pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `reasoning_effort` as an Anthropic `thinking` object (Claude on Bedrock).
fn thinking_for_effort(effort: &str) -> Result<Option<Value>, LlmError> {
    let budget = match effort.trim() {
        "" | "none" | "disable" => return Ok(None),
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            return Err(LlmError::bad_param(
                "reasoning_effort",
                format!(
                    "reasoning_effort {other:?} is not supported for bedrock; use none, minimal, \
                     low, medium or high"
                ),
            ));
        }
    };
    Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
}

fn cache_point() -> Value {
    json!({"cachePoint": {"type": "default"}})
}

fn has_cache_control(extra: &JsonMap) -> bool {
    extra.get("cache_control").is_some_and(|c| !c.is_null())
}

/// A `data:<media>;base64,<data>` URL split into media type and data.
fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    Some((if media.is_empty() { "image/png" } else { media }, data))
}

/// Bedrock's image format for a media type or file extension.
fn image_format(kind: &str) -> Option<&'static str> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "image/png" | "png" => "png",
        "image/jpeg" | "image/jpg" | "jpeg" | "jpg" => "jpeg",
        "image/gif" | "gif" => "gif",
        "image/webp" | "webp" => "webp",
        _ => return None,
    })
}

/// Bedrock's document format for a media type or file extension.
fn document_format(kind: &str) -> Option<&'static str> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "application/pdf" | "pdf" => "pdf",
        "text/csv" | "csv" => "csv",
        "application/msword" | "doc" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" | "docx" => {
            "docx"
        }
        "application/vnd.ms-excel" | "xls" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" | "xlsx" => "xlsx",
        "text/html" | "html" => "html",
        "text/plain" | "txt" => "txt",
        "text/markdown" | "md" => "md",
        _ => return None,
    })
}

/// An image or document block from a data URL or an `s3://` URI. `docs` counts documents so
/// each gets a distinct name (Bedrock requires one).
fn media_block(url: &str, param: &str, docs: &mut usize) -> Result<Value, LlmError> {
    let (kind, source) = if url.starts_with("data:") {
        let Some((media, data)) = parse_data_url(url) else {
            return Err(LlmError::bad_param(
                param,
                "an image data URL must look like data:<media type>;base64,<data>",
            ));
        };
        (media.to_string(), json!({"bytes": data}))
    } else if url.starts_with("s3://") {
        let ext = url
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        (ext, json!({"s3Location": {"uri": url}}))
    } else if url.starts_with("http://") || url.starts_with("https://") {
        return Err(LlmError::bad_param(
            param,
            "bedrock does not fetch image URLs; send the image as a base64 data URL \
             (data:image/png;base64,...) or an s3:// URI",
        ));
    } else {
        return Err(LlmError::bad_param(
            param,
            format!(
                "unsupported image URL {:?}: use a base64 data URL or an s3:// URI",
                truncate_chars(url, 60)
            ),
        ));
    };
    if let Some(format) = image_format(&kind) {
        return Ok(json!({"image": {"format": format, "source": source}}));
    }
    if let Some(format) = document_format(&kind) {
        *docs += 1;
        return Ok(json!({"document": {
            "format": format, "name": format!("Document {}", *docs), "source": source
        }}));
    }
    Err(LlmError::bad_param(
        param,
        format!(
            "media type {:?} is not supported by bedrock (images: png, jpeg, gif, webp; \
             documents: pdf, csv, doc, docx, xls, xlsx, html, txt, md)",
            truncate_chars(&kind, 60)
        ),
    ))
}

/// User-side content (user messages and tool results) as Converse blocks.
fn content_blocks(content: Content, param: &str, docs: &mut usize) -> Result<Vec<Value>, LlmError> {
    match content {
        Content::Text(text) => Ok(if text.is_empty() {
            Vec::new()
        } else {
            vec![json!({"text": text})]
        }),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                let (block, cache) = match part {
                    ContentPart::Known(KnownContentPart::Text(t)) => {
                        if t.text.is_empty() {
                            continue;
                        }
                        (json!({"text": t.text}), has_cache_control(&t.extra))
                    }
                    ContentPart::Known(KnownContentPart::ImageUrl(img)) => (
                        media_block(&img.image_url.url, param, docs)?,
                        has_cache_control(&img.extra),
                    ),
                    ContentPart::Known(KnownContentPart::File(f)) => {
                        let Some(data) = &f.file.file_data else {
                            return Err(LlmError::bad_param(
                                param,
                                "bedrock needs file parts as file_data (a base64 data URL); \
                                 file_id is not supported",
                            ));
                        };
                        (media_block(data, param, docs)?, has_cache_control(&f.extra))
                    }
                    ContentPart::Known(KnownContentPart::InputAudio(_)) => {
                        return Err(LlmError::bad_param(
                            param,
                            "bedrock does not support input_audio content",
                        ));
                    }
                    // A block already in Converse's shape (`{"text"}`, `{"image"}`, ...: no
                    // `type` key) is forwarded; an unknown OpenAI part type is refused.
                    ContentPart::Other(v) => match v.get("type").and_then(Value::as_str) {
                        None if v.is_object() => (v, false),
                        kind => {
                            return Err(LlmError::bad_param(
                                param,
                                format!(
                                    "content part type {:?} is not supported by bedrock",
                                    kind.unwrap_or("?")
                                ),
                            ));
                        }
                    },
                };
                out.push(block);
                if cache {
                    out.push(cache_point());
                }
            }
            Ok(out)
        }
    }
}

/// The text of a system message as system blocks.
fn system_blocks(content: Content, extra: &JsonMap) -> Vec<Value> {
    let mut blocks = Vec::new();
    match content {
        Content::Text(t) if t.is_empty() => {}
        Content::Text(t) => blocks.push(json!({"text": t})),
        Content::Parts(parts) => {
            for p in parts {
                match p {
                    ContentPart::Known(KnownContentPart::Text(t)) if !t.text.is_empty() => {
                        blocks.push(json!({"text": t.text}));
                        if has_cache_control(&t.extra) {
                            blocks.push(cache_point());
                        }
                    }
                    ContentPart::Other(v) => {
                        if let Some(t) = v.get("text").and_then(Value::as_str) {
                            if !t.is_empty() {
                                blocks.push(json!({"text": t}));
                                if v.get("cache_control").is_some_and(|c| !c.is_null()) {
                                    blocks.push(cache_point());
                                }
                            }
                        }
                    }
                    ContentPart::Known(_) => {}
                }
            }
        }
    }
    if has_cache_control(extra) && !blocks.is_empty() {
        blocks.push(cache_point());
    }
    blocks
}

/// Splits the OpenAI messages into Converse's `system` blocks and alternating messages, and
/// says whether any message holds a tool call or result (Converse then requires `toolConfig`).
fn translate_messages(messages: Vec<Message>) -> Result<(Vec<Value>, Vec<Value>, bool), LlmError> {
    let mut system: Vec<Value> = Vec::new();
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    let mut has_tool_blocks = false;
    let mut docs = 0usize;
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, mut blocks, cache) = match message {
            Message::System(m) | Message::Developer(m) => {
                system.extend(system_blocks(m.content, &m.extra));
                continue;
            }
            Message::User(m) => {
                let cache = has_cache_control(&m.extra);
                ("user", content_blocks(m.content, &param, &mut docs)?, cache)
            }
            Message::Assistant(m) => {
                let cache = has_cache_control(&m.extra);
                let mut blocks = Vec::new();
                if let Some(Value::Array(thinking)) = m.extra.get("thinking_blocks") {
                    for t in thinking {
                        match t.get("type").and_then(Value::as_str) {
                            Some("thinking") => {
                                let mut rt = json!({"text": str_field(t, "thinking")});
                                if let Some(sig) = t.get("signature").and_then(Value::as_str) {
                                    rt["signature"] = json!(sig);
                                }
                                blocks.push(json!({"reasoningContent": {"reasoningText": rt}}));
                            }
                            Some("redacted_thinking") => blocks.push(json!({
                                "reasoningContent": {"redactedContent": str_field(t, "data")}
                            })),
                            _ => {}
                        }
                    }
                }
                match m.content {
                    Some(Content::Text(t)) if !t.is_empty() => {
                        blocks.push(json!({"text": t}));
                    }
                    Some(Content::Parts(parts)) => {
                        for part in parts {
                            match part {
                                ContentPart::Known(KnownContentPart::Text(t)) => {
                                    if !t.text.is_empty() {
                                        blocks.push(json!({"text": t.text}));
                                    }
                                }
                                ContentPart::Other(v) if v.get("type").is_none() => blocks.push(v),
                                _ => {
                                    return Err(LlmError::bad_param(
                                        param,
                                        "assistant messages may only hold text for bedrock",
                                    ));
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
                    .map(|f| (format!("tooluse_{}", f.name), f));
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
                    has_tool_blocks = true;
                    blocks.push(json!({
                        "toolUse": {"toolUseId": id, "name": function.name, "input": input}
                    }));
                }
                ("assistant", blocks, cache)
            }
            Message::Tool(m) => {
                let cache = has_cache_control(&m.extra);
                let content = match m.content {
                    Content::Text(t) => vec![json!({"text": t})],
                    parts => content_blocks(parts, &param, &mut docs)?,
                };
                has_tool_blocks = true;
                (
                    "user",
                    vec![json!({
                        "toolResult": {"toolUseId": m.tool_call_id, "content": content}
                    })],
                    cache,
                )
            }
            Message::Function(m) => {
                has_tool_blocks = true;
                (
                    "user",
                    vec![json!({"toolResult": {
                        "toolUseId": format!("tooluse_{}", m.name),
                        "content": [{"text": m.content.unwrap_or_default()}]
                    }})],
                    false,
                )
            }
        };
        if blocks.is_empty() {
            continue;
        }
        if cache {
            blocks.push(cache_point());
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
    Ok((system, messages, has_tool_blocks))
}

/// A `toolSpec` (Converse requires a description: the name stands in, as LiteLLM does).
fn tool_spec(name: String, description: Option<String>, parameters: Option<Value>) -> Value {
    let mut schema = parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    if let Value::Object(s) = &mut schema {
        s.entry("type").or_insert_with(|| json!("object"));
    }
    let description = description
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| name.clone());
    json!({"toolSpec": {"name": name, "description": description, "inputSchema": {"json": schema}}})
}

fn translate_tool(tool: litellm_core::Tool) -> Result<Vec<Value>, LlmError> {
    let cache = has_cache_control(&tool.extra);
    let spec = if tool.kind == "function" {
        match tool.function {
            Some(f) => {
                let cache_f = has_cache_control(&f.extra);
                let mut out = vec![tool_spec(f.name, f.description, f.parameters)];
                if cache || cache_f {
                    out.push(cache_point());
                }
                return Ok(out);
            }
            None if tool.extra.contains_key("toolSpec") => {
                // Already in Converse's shape.
                let mut map = tool.extra;
                map.remove("type");
                Value::Object(map)
            }
            None => {
                return Err(LlmError::bad_param(
                    "tools",
                    "a function tool needs a `function` object",
                ));
            }
        }
    } else {
        return Err(LlmError::bad_param(
            "tools",
            format!(
                "tool type {:?} is not supported by bedrock; use function tools",
                tool.kind
            ),
        ));
    };
    let mut out = vec![spec];
    if cache {
        out.push(cache_point());
    }
    Ok(out)
}

fn translate_tool_choice(choice: ToolChoice, drop: bool) -> Result<Option<Value>, LlmError> {
    Ok(Some(match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => json!({"auto": {}}),
            "required" | "any" => json!({"any": {}}),
            "none" if drop => return Ok(None),
            "none" => {
                let mut e = LlmError::client(
                    ErrorKind::BadRequest,
                    "UnsupportedParamsError: bedrock does not support tool_choice=\"none\". To \
                     drop it, set drop_params: true (or leave out the tools)",
                );
                e.param = Some("tool_choice".into());
                return Err(e.with_provider(PROVIDER));
            }
            other => {
                return Err(LlmError::bad_param(
                    "tool_choice",
                    format!("tool_choice {other:?} is not one of none, auto, required"),
                ));
            }
        },
        ToolChoice::Named(named) => json!({"tool": {"name": named.function.name}}),
        ToolChoice::Other(v) => v,
    }))
}

/// The `json_tool_call` tool for a `response_format`, `None` for `text`.
fn response_format_tool(format: ResponseFormat) -> Result<Option<Value>, LlmError> {
    let (schema, description) = match format {
        ResponseFormat::Known(KnownResponseFormat::Text) => return Ok(None),
        ResponseFormat::Known(KnownResponseFormat::JsonObject) => (None, None),
        ResponseFormat::Known(KnownResponseFormat::JsonSchema { json_schema }) => {
            (json_schema.schema, json_schema.description)
        }
        ResponseFormat::Other(v) => {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("?");
            return Err(LlmError::bad_param(
                "response_format",
                format!("response_format type {kind:?} is not supported for bedrock"),
            ));
        }
    };
    let schema = match schema {
        Some(Value::Object(s)) => Some(Value::Object(s)),
        _ => Some(json!({"type": "object", "additionalProperties": true, "properties": {}})),
    };
    Ok(Some(tool_spec(
        RESPONSE_FORMAT_TOOL_NAME.to_string(),
        description,
        schema,
    )))
}

/// Bedrock's `stopReason` as an OpenAI `finish_reason`.
pub fn map_stop_reason(reason: &str) -> String {
    match reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => other,
    }
    .to_string()
}

/// Bedrock's token counts, as reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RawUsage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
}

impl RawUsage {
    /// Takes every count present in a Converse `usage` object.
    pub(crate) fn merge(&mut self, u: &Value) {
        let get = |k: &str| u.get(k).and_then(Value::as_u64);
        if let Some(v) = get("inputTokens") {
            self.input = v;
        }
        if let Some(v) = get("outputTokens") {
            self.output = v;
        }
        if let Some(v) = get("cacheReadInputTokens") {
            self.cache_read = v;
        }
        if let Some(v) = get("cacheWriteInputTokens") {
            self.cache_write = v;
        }
    }

    /// Our usage: cached and cache-written tokens count as prompt tokens (as LiteLLM does).
    pub(crate) fn to_usage(self) -> Usage {
        let prompt = self.input + self.cache_read + self.cache_write;
        let mut usage = Usage::new(prompt, self.output);
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(self.cache_read),
            cache_creation_tokens: Some(self.cache_write),
            audio_tokens: None,
            extra: JsonMap::new(),
        });
        usage.extra.insert(
            "cache_creation_input_tokens".into(),
            Value::from(self.cache_write),
        );
        usage.extra.insert(
            "cache_read_input_tokens".into(),
            Value::from(self.cache_read),
        );
        usage
    }
}

/// The kind of an AWS error type (`ThrottlingException`, or the stream's `throttlingException`).
fn kind_for_error_type(kind: &str) -> Option<ErrorKind> {
    let k = kind.to_ascii_lowercase();
    Some(match k.as_str() {
        "throttlingexception" | "toomanyrequestsexception" | "servicequotaexceededexception" => {
            ErrorKind::RateLimited
        }
        "accessdeniedexception"
        | "unrecognizedclientexception"
        | "invalidsignatureexception"
        | "incompletesignatureexception"
        | "expiredtokenexception"
        | "missingauthenticationtokenexception"
        | "invalidclienttokenid"
        | "unauthorizedexception"
        | "signaturedoesnotmatch" => ErrorKind::Authentication,
        "validationexception" | "serializationexception" => ErrorKind::BadRequest,
        "resourcenotfoundexception" => ErrorKind::NotFound,
        "serviceunavailableexception" | "modelnotreadyexception" => ErrorKind::ServiceUnavailable,
        "modeltimeoutexception" => ErrorKind::Timeout,
        "internalserverexception"
        | "internalfailure"
        | "modelerrorexception"
        | "modelstreamerrorexception" => ErrorKind::InternalServer,
        _ => return None,
    })
}

/// Whether a validation message says the prompt does not fit.
fn says_too_long(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    looks_like_context_window(message)
        || m.contains("too long")
        || m.contains("too many input tokens")
        || m.contains("context length")
}

/// An error from its AWS type (if known), message and status (`None` mid-stream).
pub(crate) fn error_from_parts(
    status: Option<u16>,
    error_type: Option<&str>,
    message: Option<String>,
    raw: &[u8],
) -> LlmError {
    let message = message
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            let text = String::from_utf8_lossy(raw);
            let t = text.trim();
            (!t.is_empty()).then(|| truncate_chars(t, MAX_ERROR_TEXT))
        })
        .unwrap_or_else(|| match status {
            Some(s) => format!("{PROVIDER} returned HTTP {s} with an empty body"),
            None => format!("{PROVIDER} reported an error"),
        });
    let by_type = error_type.and_then(kind_for_error_type);
    let mut kind = match (by_type, status) {
        (Some(k), _) => k,
        (None, Some(s)) => kind_for_status(s),
        (None, None) => ErrorKind::InternalServer,
    };
    if kind == ErrorKind::BadRequest && says_too_long(&message) {
        kind = ErrorKind::ContextWindowExceeded;
    }
    let message = match error_type {
        Some(t) if !t.is_empty() && !message.starts_with(t) => format!("{t}: {message}"),
        _ => message,
    };
    let mut err = LlmError::upstream(kind, message).with_provider(PROVIDER);
    err.status = status;
    err
}

/// The AWS error type from `x-amzn-errortype` (`ThrottlingException:http://...` → the name) or
/// a body's `__type` (`com.amazon.coral.service#UnrecognizedClientException` → the name).
fn error_type(headers: &HeaderMap, body: Option<&Value>) -> Option<String> {
    let from_header = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).trim().to_string());
    let from_body = || {
        body.and_then(|b| b.get("__type").or_else(|| b.get("code")))
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
    };
    from_header.filter(|t| !t.is_empty()).or_else(from_body)
}

/// Maps a Bedrock error response to an `LlmError`, by the AWS error type first and the status
/// otherwise (see the module docs), keeping the upstream message and `retry-after`.
pub fn map_error(status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let kind = error_type(headers, parsed.as_ref());
    let message = parsed.as_ref().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    error_from_parts(Some(status), kind.as_deref(), message, body)
        .with_retry_after(parse_retry_after(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(extra: Value) -> ProviderParams {
        let mut v = json!({"model": "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"});
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        serde_json::from_value(v).expect("params")
    }

    #[test]
    fn urls_encode_the_model_id_and_honour_the_endpoint() {
        let a = BedrockAdapter::with_env(
            &params(json!({"aws_region_name": "eu-west-1"})),
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            |_| None,
        )
        .expect("adapter");
        assert_eq!(
            a.url("converse"),
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/\
             anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
        );
        let a = BedrockAdapter::with_env(
            &params(json!({"api_base": "http://127.0.0.1:9/"})),
            "converse/arn:aws:bedrock:us-east-1:1:inference-profile/us.x",
            |k| (k == "AWS_REGION").then(|| "ap-south-1".to_string()),
        )
        .expect("adapter");
        assert_eq!(a.region(), "ap-south-1");
        assert_eq!(
            a.url("converse-stream"),
            "http://127.0.0.1:9/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream"
        );
        assert!(BedrockAdapter::with_env(&params(json!({})), "invoke/x", |_| None).is_err());
        assert_eq!(base_model("us.anthropic.claude-x"), "anthropic.claude-x");
        assert_eq!(base_model("amazon.nova-pro-v1:0"), "amazon.nova-pro-v1:0");
    }

    #[test]
    fn credentials_come_from_params_then_the_environment() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIDENV".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("env-secret-value".to_string()),
            _ => None,
        };
        let a = BedrockAdapter::with_env(&params(json!({})), "m", env).expect("adapter");
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
            .expect("signed");
        let auth = req.headers["authorization"].to_str().expect("ascii");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDENV/"),
            "{auth}"
        );
        assert!(req.headers["authorization"].is_sensitive());
        assert!(!format!("{a:?}").contains("env-secret-value"));

        let e =
            BedrockAdapter::with_env(&params(json!({"aws_access_key_id": "AKID"})), "m", |_| None)
                .expect_err("half credentials");
        assert_eq!(e.param.as_deref(), Some("aws_secret_access_key"));
        let e = BedrockAdapter::with_env(
            &params(json!({"aws_role_name": "arn:aws:iam::1:role/x"})),
            "m",
            |_| None,
        )
        .expect_err("roles");
        assert_eq!(e.param.as_deref(), Some("aws_role_name"));

        let a = BedrockAdapter::with_env(&params(json!({})), "m", |_| None).expect("adapter");
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
            .expect_err("no credentials");
        assert_eq!(e.kind, ErrorKind::Authentication);
    }

    #[test]
    fn echoed_secrets_are_scrubbed() {
        let a = BedrockAdapter::with_env(
            &params(
                json!({"aws_access_key_id": "AKID", "aws_secret_access_key": "very-secret",
                "aws_session_token": "session-tok"}),
            ),
            "m",
            |_| None,
        )
        .expect("adapter");
        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("UnrecognizedClientException:http://internal"),
        );
        let e = a.map_error(
            403,
            &h,
            br#"{"message":"bad key very-secret and session-tok"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert_eq!(
            e.message,
            "UnrecognizedClientException: bad key <redacted> and <redacted>"
        );
    }

    #[test]
    fn error_types_map_to_kinds() {
        let h = HeaderMap::new();
        let cases: &[(&str, &str, ErrorKind)] = &[
            ("ThrottlingException", "slow", ErrorKind::RateLimited),
            ("throttlingException", "slow", ErrorKind::RateLimited),
            ("AccessDeniedException", "no", ErrorKind::Authentication),
            ("ValidationException", "bad", ErrorKind::BadRequest),
            (
                "ValidationException",
                "Input is too long for requested model.",
                ErrorKind::ContextWindowExceeded,
            ),
            ("ResourceNotFoundException", "x", ErrorKind::NotFound),
            ("ModelNotReadyException", "x", ErrorKind::ServiceUnavailable),
            (
                "ServiceUnavailableException",
                "x",
                ErrorKind::ServiceUnavailable,
            ),
            ("ModelTimeoutException", "x", ErrorKind::Timeout),
            ("InternalServerException", "x", ErrorKind::InternalServer),
        ];
        for (t, m, kind) in cases {
            let e = error_from_parts(Some(400), Some(t), Some(m.to_string()), b"");
            assert_eq!(e.kind, *kind, "{t}");
        }
        let body =
            br#"{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"expired"}"#;
        assert_eq!(map_error(403, &h, body).kind, ErrorKind::Authentication);
        assert_eq!(map_error(503, &h, b"").kind, ErrorKind::ServiceUnavailable);
    }

    #[test]
    fn stop_reasons_map_to_finish_reasons() {
        assert_eq!(map_stop_reason("end_turn"), "stop");
        assert_eq!(map_stop_reason("stop_sequence"), "stop");
        assert_eq!(map_stop_reason("max_tokens"), "length");
        assert_eq!(map_stop_reason("tool_use"), "tool_calls");
        assert_eq!(map_stop_reason("guardrail_intervened"), "content_filter");
        assert_eq!(map_stop_reason("content_filtered"), "content_filter");
    }
}
