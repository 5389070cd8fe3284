//! Azure OpenAI (`azure/` prefix): the OpenAI body and responses (the OpenAI adapter) with
//! Azure's URL layout and authentication. The model after `azure/` is the deployment name.
//!
//! Upstream reference: <https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference>.
//! Following LiteLLM (`litellm/llms/azure/`):
//! - Chat `POST {api_base}/openai/deployments/{deployment}/chat/completions?api-version={v}`,
//!   embeddings `.../embeddings?api-version={v}`, moderations and image generation
//!   `.../moderations` and `.../images/generations` with the same `api-version`. `api_base` from the deployment, then
//!   `AZURE_API_BASE` (required). A base already ending in `/openai` is not doubled.
//! - `api_version` from the deployment, then `AZURE_API_VERSION`, then
//!   [`DEFAULT_API_VERSION`] (LiteLLM's default).
//! - Auth: `api-key: <key>` with `api_key`, then `AZURE_OPENAI_API_KEY`, then `AZURE_API_KEY`;
//!   otherwise `Authorization: Bearer <token>` with `litellm_params.azure_ad_token`, then
//!   `AZURE_AD_TOKEN`. Neither is an error naming them. (Entra ID client-credential flows,
//!   `tenant_id`/`client_id`/`client_secret`, are not implemented.)
//! - Errors map as OpenAI's; Azure's content filter (`code: content_filter`, inner code
//!   `ResponsibleAIPolicyViolation`, or "content management policy" in the message) is
//!   `ContentPolicyViolation`.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use litellm_core::LlmError;

use crate::openai::{OpenAiAdapter, ParamRules};
use crate::params::ProviderParams;

/// The provider name reported in errors and spend records.
pub const PROVIDER: &str = "azure";

/// `api-version` when neither the deployment nor `AZURE_API_VERSION` sets one.
pub const DEFAULT_API_VERSION: &str = "2025-02-01-preview";

/// The adapter for an Azure deployment (`model` is the deployment name), reading defaults
/// through `env`.
pub fn adapter(
    params: &ProviderParams,
    deployment: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<OpenAiAdapter, LlmError> {
    let non_empty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
    let api_base = non_empty(params.api_base.clone())
        .or_else(|| non_empty(env("AZURE_API_BASE")))
        .ok_or_else(|| {
            LlmError::bad_param(
                "api_base",
                "azure needs an api_base (https://<resource>.openai.azure.com): set \
                 litellm_params.api_base or AZURE_API_BASE",
            )
        })?;
    let api_base = api_base.trim().trim_end_matches('/').to_string();
    let root = api_base
        .strip_suffix("/openai")
        .unwrap_or(&api_base)
        .to_string();
    let api_version = non_empty(params.api_version.clone())
        .or_else(|| non_empty(env("AZURE_API_VERSION")))
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    if api_version.contains(['&', '#', ' ', '?']) {
        return Err(LlmError::bad_param(
            "api_version",
            format!("invalid api_version {api_version:?}"),
        ));
    }
    crate::adapter_common::model_segment(PROVIDER, deployment)?;
    let key = params
        .api_key
        .clone()
        .filter(|k| !k.expose_secret().trim().is_empty())
        .or_else(|| non_empty(env("AZURE_OPENAI_API_KEY")).map(SecretString::from))
        .or_else(|| non_empty(env("AZURE_API_KEY")).map(SecretString::from));
    let ad_token = match params.extra.get("azure_ad_token") {
        Some(Value::String(t)) if !t.trim().is_empty() => Some(SecretString::from(t.clone())),
        _ => non_empty(env("AZURE_AD_TOKEN")).map(SecretString::from),
    };
    let (auth, secret) = match (key, ad_token) {
        (Some(key), _) => (
            ("api-key", key.expose_secret().trim().to_string()),
            key.clone(),
        ),
        (None, Some(token)) => (
            (
                "authorization",
                format!("Bearer {}", token.expose_secret().trim()),
            ),
            token.clone(),
        ),
        (None, None) => {
            let mut e = LlmError::bad_param(
                "api_key",
                "azure needs a credential: set litellm_params.api_key (or AZURE_OPENAI_API_KEY / \
                 AZURE_API_KEY) or litellm_params.azure_ad_token (or AZURE_AD_TOKEN)",
            );
            e.provider = Some(PROVIDER.into());
            return Err(e);
        }
    };

    let mut resolved = params.clone();
    resolved.api_base = Some(api_base.clone());
    resolved.api_key = None;
    resolved.organization = None;
    let drop_params = params.drop_params.unwrap_or(false);
    let mut adapter = OpenAiAdapter::with_env(&resolved, deployment, |_| None)?.with_provider(
        PROVIDER,
        ParamRules {
            drop_params,
            ..Default::default()
        },
    );
    let prefix = format!("{root}/openai/deployments/{deployment}");
    adapter.set_endpoints_and_auth(
        format!("{prefix}/chat/completions?api-version={api_version}"),
        format!("{prefix}/embeddings?api-version={api_version}"),
        Some((auth.0, auth.1)),
        Some(secret),
    )?;
    adapter.set_family_urls(
        [
            litellm_core::Family::Moderation,
            litellm_core::Family::ImageGeneration,
        ]
        .into_iter()
        .map(|f| {
            (
                f,
                format!("{prefix}/{}?api-version={api_version}", f.openai_path()),
            )
        })
        .collect(),
    );
    Ok(adapter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use litellm_core::{ChatRequest, ErrorKind, Message};

    /// The deployment `azure/{name}` with this base and key, nothing else set.
    fn azure_params(name: &str, api_base: Option<&str>, api_key: Option<&str>) -> ProviderParams {
        ProviderParams {
            model: format!("azure/{name}"),
            api_base: api_base.map(str::to_string),
            api_key: api_key.map(SecretString::from),
            ..Default::default()
        }
    }

    fn chat() -> ChatRequest {
        ChatRequest {
            model: "g".into(),
            messages: vec![Message::user("hi")],
            ..Default::default()
        }
    }

    #[test]
    fn urls_version_and_key_come_from_params_then_env() {
        let base = "https://res.openai.azure.com/";
        let params = ProviderParams {
            api_version: Some("2024-10-21".into()),
            ..azure_params("gpt4o-prod", Some(base), Some("az-key"))
        };
        let a = adapter(&params, "gpt4o-prod", |_| None).expect("adapter");
        let req = a.build_chat_request(chat(), false, &[]).expect("req");
        assert_eq!(
            req.url,
            "https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            req.headers.get("api-key").map(|v| v.as_bytes()),
            Some(&b"az-key"[..])
        );
        assert!(req.headers.get("authorization").is_none());

        let params = azure_params("d", None, None);
        let env = |k: &str| match k {
            "AZURE_API_BASE" => Some("https://env.openai.azure.com/openai".to_string()),
            "AZURE_AD_TOKEN" => Some("ey.token".to_string()),
            _ => None,
        };
        let a = adapter(&params, "d", env).expect("adapter");
        let req = a
            .build_embedding_request(
                litellm_core::EmbeddingRequest::new(
                    "x",
                    litellm_core::EmbeddingInput::Text("a".into()),
                ),
                &[],
            )
            .expect("req");
        assert_eq!(
            req.url,
            format!(
                "https://env.openai.azure.com/openai/deployments/d/embeddings?api-version={DEFAULT_API_VERSION}"
            )
        );
        assert_eq!(
            req.headers.get("authorization").map(|v| v.as_bytes()),
            Some(&b"Bearer ey.token"[..])
        );
    }

    #[test]
    fn missing_base_or_credential_is_an_error_naming_them() {
        let params = azure_params("d", None, None);
        let e = adapter(&params, "d", |_| None).expect_err("no base");
        assert!(e.message.contains("AZURE_API_BASE"), "{}", e.message);
        let e = adapter(&params, "d", |k| {
            (k == "AZURE_API_BASE").then(|| "https://x".to_string())
        })
        .expect_err("no key");
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("AZURE_API_KEY"), "{}", e.message);
    }

    #[test]
    fn content_filter_errors_are_content_policy_violations_named_azure() {
        let params = azure_params("d", Some("https://x"), Some("az-secret-key"));
        let a = adapter(&params, "d", |_| None).expect("adapter");
        let body = br#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#;
        let e = a.map_error(400, &http::HeaderMap::new(), body);
        assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
        assert_eq!(e.provider.as_deref(), Some("azure"));
        let e = a.map_error(
            401,
            &http::HeaderMap::new(),
            br#"{"error":{"code":"401","message":"Access denied due to invalid subscription key az-secret-key"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert!(!e.message.contains("az-secret-key"), "{}", e.message);
    }
}
