//! OpenAI-compatible providers as data: one table (`data/openai_compatible.json`, embedded in the
//! binary) lists, per LiteLLM prefix (`groq`, `mistral`, `together_ai`, ...), the default base
//! URL, the environment variables for the key and the base, and the parameters the provider
//! refuses or names differently. A model `groq/llama3-8b` is sent as `llama3-8b` to
//! `{base}/chat/completions` with `Authorization: Bearer $GROQ_API_KEY`, through the OpenAI
//! adapter ([`OpenAiAdapter::with_provider`]).
//!
//! The table can be extended or overridden without a rebuild: `LITELLM_RS_PROVIDERS_FILE` names
//! a JSON file in the same format whose entries replace the embedded ones with the same prefix
//! and add the others (read once, at the first lookup).
//!
//! Resolution, following LiteLLM's `_get_openai_compatible_provider_info`: `api_base` from the
//! deployment, then the first set `api_base_env` variable, then the table's default (a provider
//! without one, such as `hosted_vllm`, needs `api_base`); the key from the deployment, then the
//! first set `api_key_env` variable. Keyless local servers (`api_key_optional`) send no
//! `Authorization`; for the others a missing key is an error naming the variables.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use litellm_core::{ErrorKind, LlmError};

use crate::openai::{OpenAiAdapter, ParamRules};
use crate::params::ProviderParams;

/// The embedded table.
pub const EMBEDDED_TABLE: &str = include_str!("../../data/openai_compatible.json");

/// The environment variable naming an override file for the table.
pub const OVERRIDE_ENV: &str = "LITELLM_RS_PROVIDERS_FILE";

/// One OpenAI-compatible provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompatProvider {
    /// The LiteLLM prefix (`groq`).
    pub prefix: String,
    /// A human name for docs (`Groq`).
    pub name: String,
    /// The default base URL (ending before `/chat/completions`); `None` when the user must set
    /// `api_base`.
    #[serde(default)]
    pub api_base: Option<String>,
    /// Variables read for the base URL, first set wins.
    #[serde(default)]
    pub api_base_env: Vec<String>,
    /// Variables read for the key, first set wins.
    #[serde(default)]
    pub api_key_env: Vec<String>,
    /// Local servers that run without a key.
    #[serde(default)]
    pub api_key_optional: bool,
    /// OpenAI parameters the provider refuses (400 unless `drop_params`).
    #[serde(default)]
    pub unsupported_params: Vec<String>,
    /// OpenAI parameter -> the provider's name for it.
    #[serde(default)]
    pub param_renames: BTreeMap<String, String>,
    /// Whether the provider serves `/embeddings`.
    #[serde(default)]
    pub embeddings: bool,
    /// The JSON families it serves below its base (`rerank` in Cohere's format at `{base}/rerank`,
    /// `image_generation`, `moderation` in OpenAI's), by LiteLLM's `mode` names.
    #[serde(default)]
    pub families: Vec<String>,
}

impl CompatProvider {
    /// The base URL for a deployment: `api_base`, then the env variables, then the default.
    pub fn resolve_api_base(
        &self,
        params: &ProviderParams,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<String, LlmError> {
        let non_empty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
        non_empty(params.api_base.clone())
            .or_else(|| self.api_base_env.iter().find_map(|k| non_empty(env(k))))
            .or_else(|| self.api_base.clone())
            .ok_or_else(|| {
                LlmError::bad_param(
                    "api_base",
                    format!(
                        "provider {:?} needs an api_base: set litellm_params.api_base{}",
                        self.prefix,
                        env_hint(&self.api_base_env)
                    ),
                )
            })
    }

    /// The key for a deployment: `api_key`, then the env variables.
    pub fn resolve_api_key(
        &self,
        params: &ProviderParams,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Option<SecretString> {
        params
            .api_key
            .clone()
            .filter(|k| !k.expose_secret().trim().is_empty())
            .or_else(|| {
                self.api_key_env
                    .iter()
                    .find_map(|k| env(k).filter(|v| !v.trim().is_empty()))
                    .map(SecretString::from)
            })
    }
}

fn env_hint(vars: &[String]) -> String {
    if vars.is_empty() {
        String::new()
    } else {
        format!(" or {}", vars.join(" / "))
    }
}

/// Parses a table (the embedded one or an override file).
pub fn parse_table(text: &str) -> Result<Vec<CompatProvider>, String> {
    let table: Vec<CompatProvider> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    for p in &table {
        if p.prefix.trim().is_empty() || p.prefix.contains('/') {
            return Err(format!("invalid provider prefix {:?}", p.prefix));
        }
        if let Some(bad) = p
            .families
            .iter()
            .find(|m| litellm_core::Family::from_mode(m).is_none())
        {
            return Err(format!(
                "provider {:?}: unknown family {bad:?} (rerank, moderation, image_generation)",
                p.prefix
            ));
        }
    }
    Ok(table)
}

fn load() -> Result<Vec<CompatProvider>, String> {
    let mut table = parse_table(EMBEDDED_TABLE).map_err(|e| format!("embedded table: {e}"))?;
    if let Some(path) = std::env::var_os(OVERRIDE_ENV).filter(|p| !p.is_empty()) {
        let shown = std::path::Path::new(&path).display().to_string();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {OVERRIDE_ENV} file {shown}: {e}"))?;
        let extra =
            parse_table(&text).map_err(|e| format!("invalid {OVERRIDE_ENV} file {shown}: {e}"))?;
        for entry in extra {
            match table.iter_mut().find(|p| p.prefix == entry.prefix) {
                Some(existing) => *existing = entry,
                None => table.push(entry),
            }
        }
    }
    Ok(table)
}

static TABLE: LazyLock<Result<Vec<CompatProvider>, String>> = LazyLock::new(load);

/// The providers of the table (embedded, plus the override file), in table order.
pub fn providers() -> Result<&'static [CompatProvider], LlmError> {
    match &*TABLE {
        Ok(table) => Ok(table.as_slice()),
        Err(e) => Err(LlmError::client(
            ErrorKind::BadRequest,
            format!("the OpenAI-compatible provider table is invalid: {e}"),
        )),
    }
}

/// The provider with this prefix, if the table has one.
pub fn find(prefix: &str) -> Option<&'static CompatProvider> {
    providers().ok()?.iter().find(|p| p.prefix == prefix)
}

/// The OpenAI adapter for a deployment of `provider` (prefix already stripped from `model`),
/// reading the provider's environment variables through `env` (never `OPENAI_*`).
pub fn adapter(
    provider: &'static CompatProvider,
    params: &ProviderParams,
    model: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<OpenAiAdapter, LlmError> {
    let api_base = provider.resolve_api_base(params, &env)?;
    let api_key = provider.resolve_api_key(params, &env);
    if api_key.is_none() && !provider.api_key_optional {
        let mut e = LlmError::bad_param(
            "api_key",
            format!(
                "provider {:?} needs an API key: set litellm_params.api_key{}",
                provider.prefix,
                env_hint(&provider.api_key_env)
            ),
        );
        e.provider = Some(provider.prefix.clone());
        return Err(e);
    }
    let mut resolved = params.clone();
    resolved.api_base = Some(api_base);
    resolved.api_key = api_key;
    let rules = ParamRules {
        unsupported: provider.unsupported_params.clone(),
        renames: provider
            .param_renames
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        drop_params: params.drop_params.unwrap_or(false),
        no_embeddings: !provider.embeddings,
    };
    let mut adapter = OpenAiAdapter::with_env(&resolved, model, |_| None)?
        .with_provider(provider.prefix.as_str(), rules);
    let base = adapter.api_base().to_string();
    adapter.set_family_urls(
        provider
            .families
            .iter()
            .filter_map(|m| litellm_core::Family::from_mode(m))
            .map(|f| (f, format!("{base}/{}", f.openai_path())))
            .collect(),
    );
    Ok(adapter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses_and_has_unique_prefixes() {
        let table = parse_table(EMBEDDED_TABLE).expect("embedded table");
        assert!(table.len() >= 22);
        let mut prefixes: Vec<&str> = table.iter().map(|p| p.prefix.as_str()).collect();
        prefixes.sort_unstable();
        let before = prefixes.len();
        prefixes.dedup();
        assert_eq!(prefixes.len(), before, "duplicate prefixes");
        for p in &table {
            assert!(
                !p.api_key_env.is_empty(),
                "{} names no key variable",
                p.prefix
            );
            assert!(
                p.api_base.is_some() || !p.api_base_env.is_empty(),
                "{} has no way to get a base URL",
                p.prefix
            );
            if let Some(base) = &p.api_base {
                assert!(
                    base.starts_with("https://") || base.starts_with("http://127.0.0.1"),
                    "{}: {base}",
                    p.prefix
                );
                assert!(!base.ends_with('/'), "{}: {base}", p.prefix);
            }
        }
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(parse_table("{").is_err());
        assert!(parse_table(r#"[{"prefix": "a/b", "name": "x"}]"#).is_err());
        let err = parse_table(r#"[{"prefix": "a", "name": "x", "families": ["audio"]}]"#);
        assert!(err
            .expect_err("unknown family")
            .contains("unknown family \"audio\""));
    }
}
