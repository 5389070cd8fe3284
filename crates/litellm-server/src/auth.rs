//! Request authentication: where a key is read from (LiteLLM's `SpecialHeaders`) and the
//! master-key check. Virtual keys arrive with the auth-and-ledger issue; until then the master
//! key is the only credential, and without one the proxy is open (bound to loopback only).

use axum::http::HeaderMap;

use litellm_auth::{hash_token, MasterKey};

use crate::error::ApiError;

/// Headers a key may come in, in LiteLLM's order of precedence.
const KEY_HEADERS: [&str; 5] = [
    "api-key",
    "x-api-key",
    "x-litellm-api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
];

/// Who is calling, as far as auth could tell.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// SHA-256 hex of the presented key ("" when none), for spend logs. Never the key itself.
    pub key_hash: String,
}

/// The proxy's authenticator.
#[derive(Debug, Clone)]
pub struct Auth {
    master_key: Option<MasterKey>,
    custom_header: Option<String>,
}

impl Auth {
    /// An authenticator with an optional master key and `litellm_key_header_name`.
    pub fn new(master_key: Option<MasterKey>, custom_header: Option<String>) -> Self {
        Auth {
            master_key,
            custom_header: custom_header.map(|h| h.to_ascii_lowercase()),
        }
    }

    /// Whether a master key is set.
    pub fn has_master_key(&self) -> bool {
        self.master_key.is_some()
    }

    /// Reads the presented key from the request headers.
    pub fn presented_key<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        if let Some(name) = &self.custom_header {
            if let Some(v) = headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
                return Some(strip_bearer(v));
            }
        }
        if let Some(v) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            return Some(strip_bearer(v));
        }
        KEY_HEADERS
            .iter()
            .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
            .map(strip_bearer)
    }

    /// Checks the request's key. With a master key set, the key must match it.
    pub fn check(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let presented = self.presented_key(headers).filter(|k| !k.is_empty());
        match (&self.master_key, presented) {
            (None, key) => Ok(Caller {
                key_hash: key.map(hash_token).unwrap_or_default(),
            }),
            (Some(_), None) => Err(ApiError::unauthorized(
                "Authentication Error, No api key passed in. Pass it as `Authorization: Bearer <key>`.",
            )),
            (Some(master), Some(key)) if master.verify(key) => Ok(Caller {
                key_hash: master.hash().to_string(),
            }),
            (Some(_), Some(_)) => Err(ApiError::unauthorized(
                "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...; the key is not valid.",
            )),
        }
    }
}

fn strip_bearer(v: &str) -> &str {
    let v = v.trim();
    match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => v[7..].trim(),
        _ => v,
    }
}
