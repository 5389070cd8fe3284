//! Vertex AI (`vertex_ai/` prefix): Google's models through the Gemini adapter at
//! `https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
//! (and `:streamGenerateContent?alt=sse`, `:predict` for embeddings), and Claude models
//! (`vertex_ai/claude-*`) through the Anthropic adapter at
//! `.../publishers/anthropic/models/{model}:rawPredict` (`:streamRawPredict`), with the Messages
//! body less `model` and with `anthropic_version: vertex-2023-10-16`.
//!
//! Settings (LiteLLM's names): `vertex_project` (else `VERTEXAI_PROJECT`, `VERTEX_PROJECT`,
//! `GOOGLE_CLOUD_PROJECT`, else the service account's `project_id`), `vertex_location` (else
//! `VERTEXAI_LOCATION`, `VERTEX_LOCATION`, else `us-central1`; `global` uses
//! `aiplatform.googleapis.com`), `api_base` replacing the host (or, when it already names
//! `.../models/{model}`, the whole model URL).
//!
//! Authentication: an OAuth2 access token for a service account, from `vertex_credentials` (the
//! JSON itself, as a string or a map, or a path to it), else the file named by
//! `GOOGLE_APPLICATION_CREDENTIALS`. The token is obtained by the JWT-bearer grant (RFC 7523):
//! an RS256-signed JWT (`iss` = `client_email`, `scope` = cloud-platform, `aud` = the token URL)
//! posted to the JSON's `token_uri` (so tests point it at a fake), and cached until five minutes
//! before it expires; concurrent calls wait for one exchange. The bearer token and the private
//! key never appear in errors or logs. No credentials at all is an authentication error at call
//! time, naming where credentials are read from.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use litellm_core::{ChatRequest, ChatResponse, ErrorKind, LlmError, ModelBackend};

use crate::anthropic::{AnthropicAdapter, AnthropicStreamDecoder, CallOptions as AnthropicOptions};
use crate::backend_common::{HttpAdapter, HttpBackend, NativeCall};
use crate::gemini::{GeminiAdapter, VERTEX_PROVIDER};
use crate::gemini_backend::{GeminiBackend, GoogleAuth};
use crate::params::ProviderParams;
use crate::transport::Transport;
use crate::upstream::{insert_header, truncate_chars, UpstreamRequest};

/// The OAuth2 scope requested for Vertex AI.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Google's token endpoint, when the service account names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The `anthropic_version` Vertex AI expects in a Claude body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// The default region.
pub const DEFAULT_LOCATION: &str = "us-central1";

/// How long before its expiry a cached token is replaced.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Lifetime of the signed assertion (Google's maximum).
const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// A Google service account key (the fields of the downloaded JSON that we use).
#[derive(Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub token_uri: String,
    pub project_id: Option<String>,
    pub private_key_id: Option<String>,
    key: jsonwebtoken::EncodingKey,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .field("private_key", &"[REDACTED]")
            .finish()
    }
}

fn credentials_error(message: impl Into<String>) -> LlmError {
    LlmError::bad_param("vertex_credentials", message).with_provider(VERTEX_PROVIDER)
}

impl ServiceAccount {
    /// Parses a service-account JSON document. Errors never quote the key.
    pub fn from_value(v: &Value) -> Result<ServiceAccount, LlmError> {
        if let Some(kind) = v.get("type").and_then(Value::as_str) {
            if kind != "service_account" {
                return Err(credentials_error(format!(
                    "vertex credentials of type {kind:?} are not supported; use a service \
                     account key (type \"service_account\")"
                )));
            }
        }
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let client_email = field("client_email").ok_or_else(|| {
            credentials_error("the vertex service account JSON has no client_email")
        })?;
        let pem = field("private_key").ok_or_else(|| {
            credentials_error("the vertex service account JSON has no private_key")
        })?;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
            credentials_error("the private_key of the vertex service account is not an RSA PEM key")
        })?;
        Ok(ServiceAccount {
            client_email,
            token_uri: field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string()),
            project_id: field("project_id"),
            private_key_id: field("private_key_id"),
            key,
        })
    }

    /// `vertex_credentials` as given in `litellm_params`: the JSON as a map or a string, or a
    /// path to the file.
    pub fn from_param(v: &Value) -> Result<ServiceAccount, LlmError> {
        match v {
            Value::Object(_) => Self::from_value(v),
            Value::String(s) if s.trim_start().starts_with('{') => {
                let parsed: Value = serde_json::from_str(s).map_err(|e| {
                    credentials_error(format!("vertex_credentials is not valid JSON: {e}"))
                })?;
                Self::from_value(&parsed)
            }
            Value::String(path) => Self::from_file(path.trim(), "vertex_credentials"),
            _ => Err(credentials_error(
                "vertex_credentials must be the service account JSON or a path to it",
            )),
        }
    }

    /// Reads the JSON file at `path`; `origin` names the setting for the error.
    pub fn from_file(path: &str, origin: &str) -> Result<ServiceAccount, LlmError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| credentials_error(format!("cannot read {origin} file {path:?}: {e}")))?;
        let parsed: Value = serde_json::from_str(&text).map_err(|e| {
            credentials_error(format!("{origin} file {path:?} is not valid JSON: {e}"))
        })?;
        Self::from_value(&parsed)
    }

    /// The signed JWT-bearer assertion, issued at `now` (seconds since the epoch).
    pub fn assertion(&self, now: u64) -> Result<String, LlmError> {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: u64,
            exp: u64,
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid.clone_from(&self.private_key_id);
        let claims = Claims {
            iss: &self.client_email,
            scope: SCOPE,
            aud: &self.token_uri,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        // The signing error is not quoted: it is about the key.
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| {
            LlmError::internal(
                "could not sign the vertex token request with the service account key",
            )
            .with_provider(VERTEX_PROVIDER)
        })
    }

    /// The token request: `POST {token_uri}` with the form-encoded JWT-bearer grant.
    pub fn token_request(&self, now: u64) -> Result<UpstreamRequest, LlmError> {
        let assertion = self.assertion(now)?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.token_uri.clone(),
            headers,
            body: Bytes::from(body),
        })
    }
}

/// Parses the token endpoint's answer: `(access_token, expires_in)`.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<(SecretString, u64), LlmError> {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        if let Some(token) = value
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let expires_in = value
                .get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(3600);
            return Ok((SecretString::from(token.to_string()), expires_in));
        }
    }
    let description = value
        .get("error_description")
        .or_else(|| value.get("error"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| truncate_chars(&String::from_utf8_lossy(body), 200));
    let kind = match status {
        200..=299 | 400 | 401 | 403 => ErrorKind::Authentication,
        429 => ErrorKind::RateLimited,
        s if s >= 500 => ErrorKind::ServiceUnavailable,
        _ => ErrorKind::Authentication,
    };
    let mut e = LlmError::upstream(
        kind,
        format!("could not get a Vertex AI access token (HTTP {status}): {description}"),
    )
    .with_provider(VERTEX_PROVIDER);
    e.status = Some(status);
    Err(e)
}

/// Where a deployment's access tokens come from, and the cached one.
pub struct TokenSource {
    account: Option<ServiceAccount>,
    cache: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source for this service account (`None`: every call is an authentication error).
    pub fn new(account: Option<ServiceAccount>) -> TokenSource {
        TokenSource {
            account,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// The service account, if any.
    pub fn account(&self) -> Option<&ServiceAccount> {
        self.account.as_ref()
    }

    /// A valid access token: the cached one, or a new one from the token endpoint.
    pub async fn token(
        &self,
        transport: &Transport,
        timeout: Option<Duration>,
    ) -> Result<SecretString, LlmError> {
        let Some(account) = &self.account else {
            return Err(LlmError::upstream(
                ErrorKind::Authentication,
                "no Vertex AI credentials: set litellm_params.vertex_credentials (the service \
                 account JSON or a path to it) or GOOGLE_APPLICATION_CREDENTIALS",
            )
            .with_provider(VERTEX_PROVIDER));
        };
        let mut cache = self.cache.lock().await;
        if let Some((token, until)) = cache.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let req = account.token_request(now)?;
        let resp = transport
            .send(req, timeout)
            .await
            .map_err(|e| e.with_provider(VERTEX_PROVIDER))?;
        let (token, expires_in) = parse_token_response(resp.status, &resp.body)?;
        let lifetime = Duration::from_secs(expires_in);
        let keep = lifetime.checked_sub(REFRESH_MARGIN).unwrap_or(lifetime / 2);
        *cache = Some((token.clone(), Instant::now() + keep));
        Ok(token)
    }
}

/// A deployment's project, location and URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexTarget {
    pub project: String,
    pub location: String,
    /// The host base (`https://us-central1-aiplatform.googleapis.com`, or `api_base`).
    pub api_base: String,
    /// `.../publishers/{publisher}/models/{model}`.
    pub model_url: String,
}

fn param_str(params: &ProviderParams, key: &str) -> Option<String> {
    params
        .extra
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Resolves project, location and URL for `model` of `publisher` (`google` or `anthropic`).
pub fn target(
    params: &ProviderParams,
    model: &str,
    publisher: &str,
    account: Option<&ServiceAccount>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<VertexTarget, LlmError> {
    let from_env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
            .map(|v| v.trim().to_string())
    };
    let api_base = params
        .api_base
        .as_deref()
        .map(|b| b.trim().trim_end_matches('/').to_string())
        .filter(|b| !b.is_empty());
    let location = param_str(params, "vertex_location")
        .or_else(|| from_env(&["VERTEXAI_LOCATION", "VERTEX_LOCATION"]))
        .unwrap_or_else(|| DEFAULT_LOCATION.to_string());
    let project = param_str(params, "vertex_project")
        .or_else(|| from_env(&["VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"]))
        .or_else(|| account.and_then(|a| a.project_id.clone()));
    if let Some(base) = api_base.as_ref().filter(|b| b.contains("/models/")) {
        return Ok(VertexTarget {
            project: project.unwrap_or_default(),
            location,
            api_base: base.clone(),
            model_url: base.clone(),
        });
    }
    let Some(project) = project else {
        return Err(LlmError::bad_param(
            "vertex_project",
            "vertex_ai needs a project: set litellm_params.vertex_project or VERTEXAI_PROJECT \
             (or use a service account JSON with project_id)",
        )
        .with_provider(VERTEX_PROVIDER));
    };
    let host = match api_base {
        Some(b) => b,
        None if location == "global" => "https://aiplatform.googleapis.com".to_string(),
        None => format!("https://{location}-aiplatform.googleapis.com"),
    };
    let model_url = format!(
        "{host}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}"
    );
    Ok(VertexTarget {
        project,
        location,
        api_base: host,
        model_url,
    })
}

/// The service account of a deployment: `vertex_credentials`, else
/// `GOOGLE_APPLICATION_CREDENTIALS`, else none (calls then fail with an authentication error).
pub fn service_account(
    params: &ProviderParams,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ServiceAccount>, LlmError> {
    match params.extra.get("vertex_credentials") {
        Some(Value::Null) | None => {}
        Some(v) => return ServiceAccount::from_param(v).map(Some),
    }
    match env("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            ServiceAccount::from_file(path.trim(), "GOOGLE_APPLICATION_CREDENTIALS").map(Some)
        }
        None => Ok(None),
    }
}

/// Whether a Vertex model is one of Anthropic's (served through `rawPredict`).
pub fn is_claude(model: &str) -> bool {
    model.trim().to_ascii_lowercase().starts_with("claude")
}

/// Builds the backend of a `vertex_ai/` deployment.
pub fn backend(
    params: &ProviderParams,
    model: &str,
    transport: Transport,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn ModelBackend>, LlmError> {
    let model = model.trim();
    let account = service_account(params, env)?;
    if is_claude(model) {
        let target = target(params, model, "anthropic", account.as_ref(), env)?;
        let adapter = VertexClaudeAdapter::new(params, model, target)?;
        return Ok(Arc::new(VertexClaudeBackend::with_tokens(
            adapter,
            Some(Arc::new(TokenSource::new(account))),
            transport,
        )));
    }
    let target = target(params, model, "google", account.as_ref(), env)?;
    let adapter = GeminiAdapter::vertex(params, model, target.api_base, target.model_url)?;
    Ok(Arc::new(GeminiBackend::new(
        adapter,
        GoogleAuth::Vertex(Arc::new(TokenSource::new(account))),
        transport,
    )))
}

/// Claude on Vertex: the Anthropic translation with Vertex's URL, body and bearer token.
#[derive(Debug, Clone)]
pub struct VertexClaudeAdapter {
    anthropic: AnthropicAdapter,
    target: VertexTarget,
    headers: HeaderMap,
}

impl VertexClaudeAdapter {
    /// The adapter for `model` (e.g. `claude-sonnet-4-5@20250929`) at `target`.
    pub fn new(
        params: &ProviderParams,
        model: &str,
        target: VertexTarget,
    ) -> Result<VertexClaudeAdapter, LlmError> {
        let mut inner = params.clone();
        inner.api_base = None;
        inner.api_key = None;
        inner.extra_headers = None;
        let anthropic = AnthropicAdapter::with_env(&inner, model, |_| None)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in params.extra_headers.iter().flatten() {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }
        Ok(VertexClaudeAdapter {
            anthropic,
            target,
            headers,
        })
    }

    /// The Anthropic adapter used for the body and the answers.
    pub fn anthropic(&self) -> &AnthropicAdapter {
        &self.anthropic
    }

    /// The resolved project, location and URL.
    pub fn target(&self) -> &VertexTarget {
        &self.target
    }

    /// `POST .../publishers/anthropic/models/{model}:rawPredict` (or `:streamRawPredict`).
    pub fn build_chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: &SecretString,
    ) -> Result<UpstreamRequest, LlmError> {
        let mut body = self.anthropic.translate_request(req, stream)?;
        body.shift_remove("model");
        body.insert(
            "anthropic_version".into(),
            Value::String(VERTEX_ANTHROPIC_VERSION.into()),
        );
        let url = format!("{}:{}", self.target.model_url, predict_method(stream));
        self.request(url, body, &[], extra_headers, bearer)
    }

    /// A native Messages call (see `anthropic_native`): the client's body less `model`, with
    /// `anthropic_version: vertex-2023-10-16` unless the client set one, and the client's
    /// `anthropic-beta` header; `count_tokens` goes to the publisher's
    /// `count-tokens:rawPredict` with the model in the body.
    pub fn build_native_request(
        &self,
        body: litellm_core::JsonMap,
        call: NativeCall,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
        bearer: &SecretString,
    ) -> Result<UpstreamRequest, LlmError> {
        let model = self.anthropic.model();
        let (body, url) = match call {
            NativeCall::Messages { stream } => {
                let mut body = crate::anthropic_native::messages_body(body, model);
                body.shift_remove("model");
                body.entry("anthropic_version")
                    .or_insert_with(|| Value::String(VERTEX_ANTHROPIC_VERSION.into()));
                let url = format!("{}:{}", self.target.model_url, predict_method(stream));
                (body, url)
            }
            NativeCall::CountTokens => {
                let mut body = crate::anthropic_native::count_tokens_body(body, model);
                body.insert(
                    "anthropic_version".into(),
                    Value::String(VERTEX_ANTHROPIC_VERSION.into()),
                );
                let base = self
                    .target
                    .model_url
                    .rsplit_once('/')
                    .map_or(self.target.model_url.as_str(), |(b, _)| b);
                (body, format!("{base}/count-tokens:rawPredict"))
            }
        };
        let beta: Vec<(String, String)> = forward_headers
            .iter()
            .filter(|(k, _)| k == "anthropic-beta")
            .cloned()
            .collect();
        self.request(url, body, &beta, extra_headers, bearer)
    }

    fn request(
        &self,
        url: String,
        body: litellm_core::JsonMap,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
        bearer: &SecretString,
    ) -> Result<UpstreamRequest, LlmError> {
        let body = serde_json::to_vec(&Value::Object(body)).map_err(|e| {
            LlmError::internal(format!("could not serialize the upstream request: {e}"))
        })?;
        let mut headers = self.headers.clone();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", bearer.expose_secret()))
            .map_err(|_| {
                LlmError::upstream(
                    ErrorKind::Authentication,
                    "the OAuth2 access token is not a valid header value",
                )
                .with_provider(VERTEX_PROVIDER)
            })?;
        auth.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, auth);
        crate::anthropic_native::apply_forwarded_headers(&mut headers, forward_headers)?;
        for (name, value) in extra_headers {
            insert_header(&mut headers, name, value, "extra_headers")?;
        }
        Ok(UpstreamRequest {
            method: Method::POST,
            url,
            headers,
            body: Bytes::from(body),
        })
    }

    /// Maps an error answer with the Anthropic rules, falling back to Google's error body.
    pub fn map_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        let google = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("error")?.get("status").cloned())
            .is_some();
        let mut e = if google {
            crate::gemini::map_error(VERTEX_PROVIDER, status, headers, body)
        } else {
            self.anthropic.map_error(status, headers, body)
        };
        e.provider = Some(VERTEX_PROVIDER.to_string());
        e
    }
}

/// Vertex's method for a Claude call.
fn predict_method(stream: bool) -> &'static str {
    if stream {
        "streamRawPredict"
    } else {
        "rawPredict"
    }
}

/// The error for a Claude call made without a token (the backend always has a token source).
fn no_token() -> LlmError {
    LlmError::upstream(
        ErrorKind::Authentication,
        "no Vertex AI access token for the Claude request",
    )
    .with_provider(VERTEX_PROVIDER)
}

/// A `vertex_ai/claude-*` deployment: the shared [`HttpBackend`] with a token source.
pub type VertexClaudeBackend = HttpBackend<VertexClaudeAdapter>;

impl HttpAdapter for VertexClaudeAdapter {
    type Options = AnthropicOptions;
    type Decoder = AnthropicStreamDecoder;
    type EmbedContext = ();

    fn provider_name(&self) -> &'static str {
        VERTEX_PROVIDER
    }
    fn upstream_model(&self) -> &str {
        self.anthropic.model()
    }
    fn upstream_base(&self) -> &str {
        &self.target.api_base
    }
    fn call_options(&self, req: &ChatRequest) -> AnthropicOptions {
        AnthropicOptions::of(req)
    }
    fn chat_request(
        &self,
        req: ChatRequest,
        stream: bool,
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Result<UpstreamRequest, LlmError> {
        let bearer = bearer.ok_or_else(no_token)?;
        self.build_chat_request(req, stream, extra_headers, bearer)
    }
    fn speaks_native_messages(&self) -> bool {
        true
    }
    fn native_request(
        &self,
        body: litellm_core::JsonMap,
        call: NativeCall,
        forward_headers: &[(String, String)],
        extra_headers: &[(String, String)],
        bearer: Option<&SecretString>,
    ) -> Option<Result<UpstreamRequest, LlmError>> {
        Some(bearer.ok_or_else(no_token).and_then(|bearer| {
            self.build_native_request(body, call, forward_headers, extra_headers, bearer)
        }))
    }
    fn chat_response(
        &self,
        body: &[u8],
        options: AnthropicOptions,
    ) -> Result<ChatResponse, LlmError> {
        self.anthropic.parse_chat_response(body, options)
    }
    fn chunk_decoder(&self, options: AnthropicOptions) -> AnthropicStreamDecoder {
        self.anthropic.stream_decoder(options)
    }
    fn status_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> LlmError {
        self.map_error(status, headers, body)
    }
    /// Only names `vertex_ai`: the deployment has no API key of its own to remove.
    fn scrub_error(&self, e: LlmError) -> LlmError {
        e.with_provider(VERTEX_PROVIDER)
    }
    /// Claude on Vertex has never answered a request's `mock_response` locally.
    fn honours_mock_response(&self) -> bool {
        false
    }
    fn embeddings_refusal(&self) -> Option<&'static str> {
        Some(
            "Claude models on Vertex AI have no embeddings; use a Vertex embedding model \
             (vertex_ai/text-embedding-005, ...)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> ProviderParams {
        serde_json::from_value(v).expect("params")
    }

    #[test]
    fn urls_follow_project_location_and_api_base() {
        let none = |_: &str| None;
        let p = params(json!({"model": "vertex_ai/gemini-2.0-flash", "vertex_project": "p1"}));
        let t = target(&p, "gemini-2.0-flash", "google", None, &none).expect("target");
        assert_eq!(
            t.model_url,
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash"
        );
        let p = params(json!({"model": "vertex_ai/m", "vertex_project": "p1",
            "vertex_location": "global"}));
        let t = target(&p, "m", "anthropic", None, &none).expect("target");
        assert_eq!(
            t.model_url,
            "https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/m"
        );
        let env = |k: &str| match k {
            "VERTEXAI_PROJECT" => Some("envp".to_string()),
            "VERTEXAI_LOCATION" => Some("europe-west4".to_string()),
            _ => None,
        };
        let p = params(json!({"model": "vertex_ai/m", "api_base": "http://127.0.0.1:9/"}));
        let t = target(&p, "m", "google", None, &env).expect("target");
        assert_eq!(
            t.model_url,
            "http://127.0.0.1:9/v1/projects/envp/locations/europe-west4/publishers/google/models/m"
        );
        let p = params(json!({"model": "vertex_ai/m"}));
        let e = target(&p, "m", "google", None, &none).expect_err("no project");
        assert_eq!(e.param.as_deref(), Some("vertex_project"));
    }

    #[test]
    fn bad_credentials_are_named_without_quoting_the_key() {
        let e = ServiceAccount::from_param(&json!(
            "{\"type\": \"service_account\", \"client_email\": \"a@b\", \"private_key\": \"not-a-key-secret\"}"
        ))
        .expect_err("bad key");
        assert!(!e.message.contains("not-a-key-secret"), "{}", e.message);
        assert_eq!(e.param.as_deref(), Some("vertex_credentials"));
        let e = ServiceAccount::from_param(&json!("/nonexistent/sa.json")).expect_err("no file");
        assert!(e.message.contains("/nonexistent/sa.json"), "{}", e.message);
        let e = ServiceAccount::from_value(&json!({"type": "authorized_user"}))
            .expect_err("wrong type");
        assert!(e.message.contains("authorized_user"), "{}", e.message);
    }

    #[test]
    fn token_responses_parse_and_failures_are_auth_errors() {
        let (t, exp) = parse_token_response(200, br#"{"access_token":"ya29.x","expires_in":120}"#)
            .expect("token");
        assert_eq!((t.expose_secret(), exp), ("ya29.x", 120));
        let e = parse_token_response(
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        )
        .expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert!(
            e.message.contains("Invalid JWT Signature."),
            "{}",
            e.message
        );
        assert_eq!(
            parse_token_response(503, b"").expect_err("down").kind,
            ErrorKind::ServiceUnavailable
        );
    }

    #[test]
    fn claude_models_are_recognised() {
        assert!(is_claude("claude-sonnet-4-5@20250929"));
        assert!(!is_claude("gemini-2.0-flash"));
    }
}
