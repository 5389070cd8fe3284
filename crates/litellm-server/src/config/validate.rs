//! After the typed parse: merge `litellm_settings` into the effective router settings, lower
//! `drop_params` into the deployments, apply the environment fallbacks and the master key rules,
//! and check the rules serde cannot express (non-empty names, unique ids, alias targets).

use std::collections::{BTreeMap, HashMap, HashSet};

use secrecy::{ExposeSecret, SecretString};
use serde_yaml::Value;

use super::{ConfigError, GeneralSettings, ProxyConfig, RawConfig};

/// LiteLLM's published example master key: accepted, but anyone can guess it.
const PUBLIC_EXAMPLE_KEY: &str = "sk-1234";

/// Builds the final [`ProxyConfig`] from the typed sections (the caller fills in
/// `environment_variables`). `root` is the resolved YAML tree
/// (to tell which keys were actually written); `lookup` reads `environment_variables` then the
/// process environment.
pub(crate) fn finish(
    raw: RawConfig,
    root: &Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<ProxyConfig, ConfigError> {
    let RawConfig {
        mut model_list,
        mut router_settings,
        litellm_settings,
        general_settings,
        callback_settings,
    } = raw;
    warnings.extend(crate::callbacks::config_warnings(
        &litellm_settings,
        &callback_settings,
        lookup,
    ));

    // A value written in router_settings wins over the same value in litellm_settings.
    let written = |section: &str, key: &str| {
        root.get(section)
            .and_then(Value::as_mapping)
            .is_some_and(|m| m.contains_key(key))
    };
    if !written("router_settings", "num_retries") {
        if let Some(n) = litellm_settings.num_retries {
            router_settings.num_retries = n;
        }
    }
    if !written("router_settings", "timeout") {
        if let Some(t) = litellm_settings.request_timeout {
            if !(t.is_finite() && t > 0.0) {
                return Err(ConfigError::invalid(
                    "litellm_settings.request_timeout",
                    "must be a positive number of seconds",
                ));
            }
            router_settings.timeout = t;
        }
    }
    if !(router_settings.timeout.is_finite() && router_settings.timeout > 0.0) {
        return Err(ConfigError::invalid(
            "router_settings.timeout",
            "must be a positive number of seconds",
        ));
    }
    if let Some(code) = litellm_settings.budget_exceeded_status_code {
        if !(400..=599).contains(&code) {
            return Err(ConfigError::invalid(
                "litellm_settings.budget_exceeded_status_code",
                format!("{code} is not an HTTP error status (400-599)"),
            ));
        }
    }
    // LiteLLM also reads the fallback lists from litellm_settings.
    if !written("router_settings", "fallbacks") {
        if let Some(f) = litellm_settings.fallbacks.clone() {
            router_settings.fallbacks = f;
        }
    }
    if !written("router_settings", "context_window_fallbacks") {
        if let Some(f) = litellm_settings.context_window_fallbacks.clone() {
            router_settings.context_window_fallbacks = f;
        }
    }
    if !written("router_settings", "content_policy_fallbacks") {
        if let Some(f) = litellm_settings.content_policy_fallbacks.clone() {
            router_settings.content_policy_fallbacks = f;
        }
    }
    if !written("router_settings", "default_fallbacks") {
        if let Some(f) = litellm_settings.default_fallbacks.clone() {
            router_settings.default_fallbacks = f;
        }
    }
    litellm_router::RoutingStrategy::parse(
        &router_settings.routing_strategy,
        &router_settings.routing_strategy_args,
    )
    .map_err(|e| ConfigError::invalid("router_settings.routing_strategy", e.message))?;
    // Shared router state: REDIS_URL, or REDIS_HOST / REDIS_PORT / REDIS_PASSWORD, when the
    // file names no Redis.
    if router_settings.redis_connection_url().is_none() {
        if let Some(url) = lookup("REDIS_URL").filter(|u| !u.is_empty()) {
            router_settings.redis_url = Some(SecretString::from(url));
        } else if let Some(host) = lookup("REDIS_HOST").filter(|h| !h.is_empty()) {
            router_settings.redis_host = Some(host);
            if let Some(port) = lookup("REDIS_PORT").filter(|p| !p.is_empty()) {
                router_settings.redis_port = Some(port.parse().map_err(|_| {
                    ConfigError::invalid("REDIS_PORT", format!("`{port}` is not a port number"))
                })?);
            }
            router_settings.redis_password = lookup("REDIS_PASSWORD")
                .filter(|p| !p.is_empty())
                .map(SecretString::from);
        }
    }
    if litellm_settings.cache == Some(true) {
        let params = litellm_settings.cache_params.clone().unwrap_or_default();
        crate::cache::CacheSettings::from_params(&params)
            .map_err(|e| ConfigError::invalid("litellm_settings.cache_params", e))?;
        let redis = crate::cache::parse_kind(params.kind.as_deref())
            .map_err(|e| ConfigError::invalid("litellm_settings.cache_params.type", e))?;
        if redis
            && crate::cache::redis_url_from_params(&params).is_none()
            && router_settings.redis_connection_url().is_none()
        {
            warnings.push(
                "litellm_settings.cache_params: type redis but no Redis is configured (set host/port/password or url here, router_settings.redis_*, or REDIS_HOST / REDIS_URL); the response cache is off"
                    .to_string(),
            );
        }
    }

    // The global drop_params applies to every deployment that does not choose for itself.
    if let Some(drop) = litellm_settings.drop_params {
        for d in &mut model_list {
            d.litellm_params.provider.drop_params.get_or_insert(drop);
        }
    }

    check_deployments(&model_list)?;
    check_aliases(&model_list, &router_settings.model_group_alias)?;
    let general_settings = finish_general(general_settings, lookup, warnings)?;

    Ok(ProxyConfig {
        model_list,
        router_settings,
        litellm_settings,
        general_settings,
        environment_variables: BTreeMap::new(),
        callback_settings,
    })
}

/// Environment fallbacks and the master key rules.
fn finish_general(
    mut general: GeneralSettings,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<GeneralSettings, ConfigError> {
    let from_file = general
        .master_key
        .take()
        .filter(|k| !k.expose_secret().is_empty());
    let (master_key, source) = match from_file {
        Some(k) => (Some(k), "general_settings.master_key"),
        None => (
            lookup("LITELLM_MASTER_KEY")
                .filter(|k| !k.is_empty())
                .map(SecretString::from),
            "LITELLM_MASTER_KEY",
        ),
    };
    if let Some(key) = &master_key {
        let key = key.expose_secret();
        if !key.starts_with("sk-") {
            return Err(ConfigError::invalid(
                source,
                "the master key must start with `sk-` (LiteLLM rule)",
            ));
        }
        if key == PUBLIC_EXAMPLE_KEY {
            warnings.push(format!(
                "{source}: `{PUBLIC_EXAMPLE_KEY}` is LiteLLM's published example key and is \
                 publicly known: anyone who can reach this proxy can use it as admin. Set a \
                 long random key (e.g. sk-$(openssl rand -hex 24)) before exposing the proxy"
            ));
        }
    }
    general.master_key = master_key;

    general.database_url = general
        .database_url
        .filter(|u| !u.is_empty())
        .or_else(|| lookup("DATABASE_URL").filter(|u| !u.is_empty()));
    general.litellm_key_header_name = general
        .litellm_key_header_name
        .filter(|h| !h.trim().is_empty());
    for (name, value) in [
        ("max_request_size_mb", general.max_request_size_mb),
        ("proxy_batch_write_at", general.proxy_batch_write_at),
    ] {
        if let Some(v) = value {
            if !(v.is_finite() && v > 0.0) {
                return Err(ConfigError::invalid(
                    format!("general_settings.{name}"),
                    "must be a positive number",
                ));
            }
        }
    }
    Ok(general)
}

/// Every deployment names its group and its model; explicit ids are unique.
fn check_deployments(model_list: &[litellm_router::DeploymentConfig]) -> Result<(), ConfigError> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, d) in model_list.iter().enumerate() {
        if d.model_name.trim().is_empty() {
            return Err(ConfigError::invalid(
                format!("model_list[{i}].model_name"),
                "must not be empty",
            ));
        }
        if d.litellm_params.provider.model.trim().is_empty() {
            return Err(ConfigError::invalid(
                format!("model_list[{i}].litellm_params.model"),
                "must not be empty (a provider-prefixed model such as `openai/gpt-4o`)",
            ));
        }
        if let Some(id) = d.model_info.id.as_deref().filter(|s| !s.is_empty()) {
            if let Some(first) = ids.insert(id, i) {
                return Err(ConfigError::invalid(
                    format!("model_list[{i}].model_info.id"),
                    format!(
                        "duplicate deployment id `{id}` (also used by \
                         model_list[{first}].model_info.id); ids must be unique"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every `model_group_alias` points at a model group of `model_list`.
fn check_aliases(
    model_list: &[litellm_router::DeploymentConfig],
    aliases: &litellm_router::JsonMap,
) -> Result<(), ConfigError> {
    let groups: HashSet<&str> = model_list.iter().map(|d| d.model_name.as_str()).collect();
    for (alias, target) in aliases {
        let path = format!("router_settings.model_group_alias.{alias}");
        let group = match target {
            serde_json::Value::String(s) => s.as_str(),
            serde_json::Value::Object(o) => match o.get("model").and_then(|m| m.as_str()) {
                Some(s) => s,
                None => {
                    return Err(ConfigError::invalid(
                        format!("{path}.model"),
                        "missing: the object form is {model: <group>, hidden: <bool>}",
                    ))
                }
            },
            _ => {
                return Err(ConfigError::invalid(
                    path,
                    "expected a model group name or {model: <group>, hidden: <bool>}",
                ))
            }
        };
        if !groups.contains(group) {
            return Err(ConfigError::invalid(
                path,
                format!("no model group named `{group}` in model_list"),
            ));
        }
    }
    Ok(())
}
