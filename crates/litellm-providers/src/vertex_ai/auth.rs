//! Vertex AI authentication: the service account, its signed JWT assertion, the OAuth2 token
//! exchange and the cached [`TokenSource`] (the generic backend's [`BearerSource`]).

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use secrecy::SecretString;
use serde_json::Value;

use litellm_core::BoxFuture;
use litellm_core::{debug_fields, ErrorKind, LlmError};

use super::{DEFAULT_TOKEN_URI, SCOPE};
use crate::backend_common::BearerSource;
use crate::gemini::VERTEX_PROVIDER;
use crate::transport::Transport;
use crate::upstream::{truncate_chars, UpstreamRequest};

/// How long before its expiry a cached token is replaced.
pub(super) const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Lifetime of the signed assertion (Google's maximum).
pub(super) const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// A Google service account key (the fields of the downloaded JSON that we use).
#[derive(Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub token_uri: String,
    pub project_id: Option<String>,
    pub private_key_id: Option<String>,
    pub(super) key: jsonwebtoken::EncodingKey,
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

pub(super) fn credentials_error(message: impl Into<String>) -> LlmError {
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
        Ok(UpstreamRequest::post(
            self.token_uri.clone(),
            headers,
            Bytes::from(body),
        ))
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
    pub(super) account: Option<ServiceAccount>,
    pub(super) cache: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

debug_fields!(TokenSource { account });

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

impl BearerSource for TokenSource {
    fn token<'a>(
        &'a self,
        transport: &'a Transport,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<SecretString, LlmError>> {
        Box::pin(TokenSource::token(self, transport, timeout))
    }
}
