//! The Amazon Bedrock adapter (`bedrock/` prefix): sans-IO translation between our OpenAI-format
//! types and Bedrock's Converse API (`POST /model/{modelId}/converse` and `/converse-stream`),
//! plus Titan and Cohere embeddings through InvokeModel (`POST /model/{modelId}/invoke`). It
//! builds and signs requests, parses responses and maps error responses; it never opens a socket
//! (the transport sends). The binary event stream is decoded in `stream.rs` ([`BedrockStreamDecoder`]).
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

use aws_credential_types::Credentials;
use http::header::HeaderMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use litellm_core::{JsonMap, LlmError};

use self::auth::{Auth, UNSUPPORTED_AUTH_PARAMS};
use self::request::STRUCTURAL_KEYS;
use crate::adapter_common::{add_extra_headers, is_internal_param};
use crate::adapter_common::{env_constructors, Env};
use crate::params::ProviderParams;

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

/// Characters kept as is in a model id in the URL path (Python's `quote(id, safe="")`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What the response side needs to know about the request: the same as for Anthropic (JSON mode
/// through the `json_tool_call` tool, and whether a final usage chunk was asked for).
pub use crate::anthropic::CallOptions;

mod auth;
mod backend;
mod embed;
mod error;
mod request;
mod response;
mod stream;
mod tools;
mod wire;

pub use backend::BedrockBackend;
pub use error::map_error;
pub use response::map_stop_reason;
pub(crate) use response::str_field;
pub use stream::BedrockStreamDecoder;

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
    /// Claude models: `maxTokens` when the request sets none (see
    /// [`crate::anthropic::default_max_tokens`]); `None` for other models (Bedrock's default).
    claude_max_tokens: Option<u64>,
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
    env_constructors! {
        /// The adapter for one deployment whose `bedrock/` prefix has been stripped (`model`),
        /// reading defaults from the process environment.
    }

    fn from_env(params: &ProviderParams, model: &str, env: &Env<'_>) -> Result<Self, LlmError> {
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
        let base = base_model(model);
        let claude_max_tokens = (base.starts_with("anthropic.") || base.contains("claude"))
            .then(|| crate::anthropic::default_max_tokens(PROVIDER, model));
        Ok(BedrockAdapter {
            claude_max_tokens,
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
}

#[cfg(test)]
mod tests;
