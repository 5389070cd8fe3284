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

use serde_json::Value;

use litellm_core::{LlmError, ModelBackend};

use crate::gemini::{GeminiAdapter, VERTEX_PROVIDER};
use crate::gemini::{GeminiBackend, GoogleAuth};
use crate::params::ProviderParams;
use crate::transport::Transport;

mod auth;
mod claude;

pub use auth::parse_token_response;
pub use auth::ServiceAccount;
pub use auth::TokenSource;
pub use claude::VertexClaudeAdapter;
pub use claude::VertexClaudeBackend;

/// The OAuth2 scope requested for Vertex AI.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Google's token endpoint, when the service account names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The `anthropic_version` Vertex AI expects in a Claude body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// The default region.
pub const DEFAULT_LOCATION: &str = "us-central1";

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
    let model = crate::adapter_common::model_segment(VERTEX_PROVIDER, model)?;
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

#[cfg(test)]
mod tests;
