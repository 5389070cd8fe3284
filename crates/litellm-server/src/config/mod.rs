//! Loading LiteLLM's `config.yaml`: `os.environ/NAME` resolution, path-aware errors, a warning
//! for every key we do not act on, the `router_settings` over `litellm_settings` merge, and the
//! master key rules. The result is plain typed config for the router and the server.
//!
//! The pipeline: YAML text -> `serde_yaml::Value` (syntax errors with line and column) ->
//! `null` entries dropped, `environment_variables` taken out, `os.environ/` resolved -> typed
//! structs through `serde_path_to_error` (error paths) and `serde_ignored` (unknown keys) ->
//! merging and validation.

mod env;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use serde_yaml::Value;

use litellm_router::ProviderParams;
use litellm_router::{DeploymentConfig, LitellmParams, RouterSettings};

use env::{fmt_path, Resolution, Seg};

/// The whole proxy configuration, as loaded from `config.yaml`.
#[derive(Clone, Default)]
pub struct ProxyConfig {
    /// The deployments; entries with the same `model_name` form a load-balanced model group.
    pub model_list: Vec<DeploymentConfig>,
    /// The effective router settings: `router_settings`, with `litellm_settings.num_retries`
    /// and `litellm_settings.request_timeout` filled in where `router_settings` does not set
    /// them.
    pub router_settings: RouterSettings,
    pub litellm_settings: LitellmSettings,
    pub general_settings: GeneralSettings,
    /// The file's `environment_variables` section (values already stringified).
    pub environment_variables: BTreeMap<String, String>,
    /// The top-level `callback_settings` section: per-callback settings by name.
    pub callback_settings: BTreeMap<String, crate::callbacks::CallbackSettings>,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The environment_variables section often holds credentials: show only the names.
        f.debug_struct("ProxyConfig")
            .field("model_list", &self.model_list)
            .field("router_settings", &self.router_settings)
            .field("litellm_settings", &self.litellm_settings)
            .field("general_settings", &self.general_settings)
            .field(
                "environment_variables",
                &self.environment_variables.keys().collect::<Vec<_>>(),
            )
            .field("callback_settings", &self.callback_settings)
            .finish()
    }
}

impl ProxyConfig {
    /// The configuration of `litellm-rs --model <model> [--api_base <url>]`: one deployment
    /// whose public name is the model string itself, as LiteLLM does. Credentials come from the
    /// provider's standard environment variables. Everything else is at its default; this
    /// function reads no environment (see [`parse_config`] for the general settings).
    pub fn single_model(model: &str, api_base: Option<&str>) -> ProxyConfig {
        ProxyConfig {
            model_list: vec![DeploymentConfig {
                model_name: model.to_string(),
                litellm_params: LitellmParams {
                    provider: ProviderParams {
                        model: model.to_string(),
                        api_base: api_base.map(str::to_string),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                model_info: Default::default(),
            }],
            ..Default::default()
        }
    }
}

/// `litellm_settings`: the module-level LiteLLM settings this proxy reads. Every other key of
/// the section is reported as a warning.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LitellmSettings {
    /// Drop OpenAI params a provider does not support instead of failing. Lowered into every
    /// deployment's `litellm_params.drop_params` that does not set its own.
    pub drop_params: Option<bool>,
    /// Retries; used when `router_settings.num_retries` is not set.
    pub num_retries: Option<u32>,
    /// Seconds per call; used when `router_settings.timeout` is not set.
    pub request_timeout: Option<f64>,
    /// Log as JSON lines (the CLI reads it).
    pub json_logs: Option<bool>,
    /// LiteLLM's debug switch: the CLI logs at debug level when it is true.
    pub set_verbose: Option<bool>,
    /// Add the response cost to the usage chunk of streamed responses (`usage.cost`).
    pub include_cost_in_streaming_usage: Option<bool>,
    /// Fallback lists; used when `router_settings` does not set the same list.
    pub fallbacks: Option<Vec<litellm_router::FallbackMap>>,
    pub context_window_fallbacks: Option<Vec<litellm_router::FallbackMap>>,
    pub content_policy_fallbacks: Option<Vec<litellm_router::FallbackMap>>,
    pub default_fallbacks: Option<Vec<String>>,
    /// HTTP status of a `budget_exceeded` error (default 422, as LiteLLM 1.109).
    pub budget_exceeded_status_code: Option<u16>,
    /// The proxy-wide budget in USD (reported by `/global/spend` as `max_budget`).
    pub max_budget: Option<f64>,
    /// The timezone budget resets align to (`1d` resets at local midnight; default UTC).
    pub timezone: Option<String>,
    /// A price map in LiteLLM's `model_prices_and_context_window.json` format, merged over the
    /// built-in price table at start-up (after `LITELLM_MODEL_COST_MAP`).
    pub model_cost_map_path: Option<PathBuf>,
    /// Whether `GET /metrics` needs a valid key (default true; LiteLLM's setting lives here).
    pub require_auth_for_metrics_endpoint: Option<bool>,
    /// The response cache switch (`cache: true`) and its parameters.
    pub cache: Option<bool>,
    pub cache_params: Option<CacheParams>,
    /// Logging callbacks (`otel`, `generic_api`, or a `callback_settings` name), on success
    /// and failure; `success_callback` / `failure_callback` for one kind of event only.
    pub callbacks: Option<Vec<String>>,
    pub success_callback: Option<Vec<String>>,
    pub failure_callback: Option<Vec<String>>,
    /// Keep message contents out of every callback (webhook events, trace spans, debug logs).
    pub turn_off_message_logging: Option<bool>,
}

/// `general_settings`: the proxy server's own settings.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct GeneralSettings {
    /// The admin key (must start with `sk-`); from `LITELLM_MASTER_KEY` when the file has none.
    /// `None` means every request is accepted.
    pub master_key: Option<SecretString>,
    /// From `DATABASE_URL` when the file has none; `None` lets the server pick its default.
    pub database_url: Option<String>,
    /// Request body limit in MiB (server default 32).
    pub max_request_size_mb: Option<f64>,
    /// Seconds between spend-log batch writes (default 10).
    pub proxy_batch_write_at: Option<f64>,
    pub disable_spend_logs: bool,
    /// Keep serving keys this replica has cached while the database is down.
    pub allow_requests_on_db_unavailable: bool,
    /// Add a usage chunk to every stream, even without `stream_options.include_usage`.
    pub always_include_stream_usage: bool,
    /// An extra header that carries the API key (besides `Authorization`).
    pub litellm_key_header_name: Option<String>,
    /// As `litellm_settings.require_auth_for_metrics_endpoint` (either place is read).
    pub require_auth_for_metrics_endpoint: Option<bool>,
    /// Probe every deployment in the background every `health_check_interval` seconds; the
    /// results serve `GET /health` and unhealthy deployments are skipped by the router.
    pub background_health_checks: bool,
    /// Seconds between background health checks (default 300).
    pub health_check_interval: Option<f64>,
    /// Delete spend logs older than this (`"7d"`, `"30d"`, `"24h"`); daily aggregates are kept.
    pub maximum_spend_logs_retention_period: Option<String>,
    /// How often the retention cleanup runs (default `"1d"`).
    pub maximum_spend_logs_retention_interval: Option<String>,
    /// Seconds this replica caches keys, users and teams (default 60): the longest another
    /// replica's update, block or delete takes to reach this one.
    pub user_api_key_cache_ttl: Option<f64>,
    /// Where budget reservations live: `database` (shared by replicas; the default on
    /// PostgreSQL) or `memory` (this replica only; the default on SQLite).
    pub budget_reservations: Option<String>,
    /// Seconds between budget-reset passes: a pass runs every `min_time` plus up to
    /// `max_time - min_time` of jitter (LiteLLM's names; defaults 597 and 605).
    pub proxy_budget_rescheduler_min_time: Option<f64>,
    pub proxy_budget_rescheduler_max_time: Option<f64>,
}

impl fmt::Debug for GeneralSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneralSettings")
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url_password),
            )
            .field("max_request_size_mb", &self.max_request_size_mb)
            .field("proxy_batch_write_at", &self.proxy_batch_write_at)
            .field("disable_spend_logs", &self.disable_spend_logs)
            .field(
                "always_include_stream_usage",
                &self.always_include_stream_usage,
            )
            .field("litellm_key_header_name", &self.litellm_key_header_name)
            .finish()
    }
}

/// A URL with the password of its user info (`scheme://user:password@host`) masked.
pub fn redact_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let user_info = &authority[..at];
    let Some(colon) = user_info.find(':') else {
        return url.to_string();
    };
    format!(
        "{}://{}:***{}",
        &url[..scheme_end],
        &user_info[..colon],
        &rest[at..]
    )
}

/// A loaded configuration and the warnings to show the operator.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: ProxyConfig,
    /// One line per problem that did not stop the load, each naming its path.
    pub warnings: Vec<String>,
}

/// Why a configuration could not be loaded. `Display` is a user-facing message that names the
/// file and the path inside it; it never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The text is not valid YAML (the message carries the line and column).
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// A value is missing, of the wrong type, or breaks a rule.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// An error inside a named file.
    #[error("{}: {source}", path.display())]
    InFile {
        path: PathBuf,
        source: Box<ConfigError>,
    },
}

impl ConfigError {
    fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Reads and parses the config file at `path` (environment from the process).
pub fn load_config(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_config(&text).map_err(|e| ConfigError::InFile {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

/// Parses config.yaml text, resolving `os.environ/NAME` from the file's
/// `environment_variables` section and then the process environment.
pub fn parse_config(yaml: &str) -> Result<LoadedConfig, ConfigError> {
    parse_config_with_env(yaml, &|name| std::env::var(name).ok())
}

/// [`parse_config`] with an explicit process environment (tests use a map instead of the
/// real, shared environment).
pub fn parse_config_with_env(
    yaml: &str,
    process_env: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadedConfig, ConfigError> {
    let mut root: Value = if yaml.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml::from_str(yaml).map_err(|e| ConfigError::Yaml(e.to_string()))?
    };
    root.apply_merge()
        .map_err(|e| ConfigError::Yaml(e.to_string()))?;
    env::strip_nulls(&mut root);
    let mut map = match root {
        Value::Null => serde_yaml::Mapping::new(),
        Value::Mapping(m) => m,
        other => {
            return Err(ConfigError::invalid(
                "config",
                format!(
                    "expected a mapping of sections (model_list, router_settings, \
                     litellm_settings, general_settings, ...), found {}",
                    kind_of(&other)
                ),
            ))
        }
    };

    let mut warnings = Vec::new();
    let environment_variables =
        env::take_environment_variables(&mut map, process_env, &mut warnings)
            .map_err(|m| ConfigError::invalid("environment_variables", m))?;
    let lookup = |name: &str| {
        environment_variables
            .get(name)
            .cloned()
            .or_else(|| process_env(name))
    };

    let mut root = Value::Mapping(map);
    let mut resolution = Resolution::default();
    env::resolve_env(&mut root, &lookup, &mut resolution);

    let mut secrets: Vec<String> = resolution
        .resolved
        .iter()
        .map(|r| r.value.clone())
        .collect();
    secrets.extend(
        environment_variables
            .iter()
            .filter(|(name, _)| env::is_secret_key(name))
            .map(|(_, v)| v.clone()),
    );
    env::collect_secrets(&root, false, &mut secrets);
    // Longer secrets first, so that a secret containing a shorter one is redacted whole.
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();

    let (raw, ignored) = deserialize(&mut root, &resolution, &secrets)?;
    warnings.extend(missing_variable_warnings(&root, &resolution, &ignored));
    warnings.extend(ignored.iter().map(|p| ignored_warning(p)));

    let config = validate::finish(raw, &root, &lookup, &mut warnings)?;
    let config = ProxyConfig {
        environment_variables,
        ..config
    };
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    Ok(LoadedConfig { config, warnings })
}

/// The typed sections, before merging and validation.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawConfig {
    pub model_list: Vec<DeploymentConfig>,
    pub router_settings: RouterSettings,
    pub litellm_settings: LitellmSettings,
    pub general_settings: GeneralSettings,
    pub callback_settings: BTreeMap<String, crate::callbacks::CallbackSettings>,
}

/// Deserializes the typed sections, collecting the paths of ignored keys. A type error at a
/// value that came from the environment (always a string) is retried once with the value read
/// as a YAML scalar, so `rpm: os.environ/RPM` works when `RPM=100`.
fn deserialize(
    root: &mut Value,
    resolution: &Resolution,
    secrets: &[String],
) -> Result<(RawConfig, Vec<Vec<Seg>>), ConfigError> {
    let mut coerced: Vec<String> = Vec::new();
    loop {
        let err = match deserialize_once(root) {
            Ok(ok) => return Ok(ok),
            Err(err) => err,
        };
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        if message.starts_with("invalid type: string") && !coerced.contains(&path) {
            let resolved = resolution
                .resolved
                .iter()
                .find(|r| fmt_path(&r.path) == path);
            if let Some(r) = resolved {
                if let Ok(scalar @ (Value::Number(_) | Value::Bool(_))) =
                    serde_yaml::from_str::<Value>(&r.value)
                {
                    if let Some(slot) = env::value_at_mut(root, &r.path) {
                        *slot = scalar;
                        coerced.push(path);
                        continue;
                    }
                }
            }
        }
        return Err(type_error(path, &message, secrets));
    }
}

/// One typed pass over `root`, with the paths of the keys it did not read.
fn deserialize_once(
    root: &Value,
) -> Result<(RawConfig, Vec<Vec<Seg>>), serde_path_to_error::Error<serde_yaml::Error>> {
    let mut ignored = Vec::new();
    let mut on_ignored = |p: serde_ignored::Path<'_>| {
        let mut segs = Vec::new();
        collect_ignored_path(&p, &mut segs);
        ignored.push(segs);
    };
    let de = serde_ignored::Deserializer::new(root, &mut on_ignored);
    let raw = serde_path_to_error::deserialize::<_, RawConfig>(de)?;
    Ok((raw, ignored))
}

/// Warnings for `os.environ/` variables that are not set, except where the value sits in a
/// key we ignore anyway: under an ignored key the variable does not matter, and a key that
/// would itself be ignored gets the "not supported yet" warning instead.
fn missing_variable_warnings(
    root: &Value,
    resolution: &Resolution,
    ignored: &[Vec<Seg>],
) -> Vec<String> {
    let mut out = Vec::new();
    for m in &resolution.missing {
        if ignored.iter().any(|ig| m.path.starts_with(ig)) {
            continue;
        }
        // Probe: put the key back (as null) and see whether the typed pass reads it.
        let mut probe = root.clone();
        if env::insert_null_at(&mut probe, &m.path) {
            if let Ok((_, probe_ignored)) = deserialize_once(&probe) {
                if probe_ignored.contains(&m.path) {
                    out.push(ignored_warning(&m.path));
                    continue;
                }
            }
        }
        out.push(m.warning());
    }
    out
}

/// A deserialization error with its path; a missing field names the field in the path.
fn type_error(path: String, message: &str, secrets: &[String]) -> ConfigError {
    let mut path = if path == "." { String::new() } else { path };
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
    }
    if path.is_empty() {
        path = "config".to_string();
    }
    ConfigError::invalid(path, env::redact(message, secrets))
}

/// The LiteLLM top-level sections (for telling "not supported yet" from "unknown").
const LITELLM_SECTIONS: &[&str] = &[
    "model_list",
    "router_settings",
    "litellm_settings",
    "general_settings",
    "environment_variables",
    "callback_settings",
    "credential_list",
    "guardrails",
    "mcp_servers",
    "search_tools",
    "assistant_settings",
    "vector_store_registry",
    "prompts",
];

/// The warning for a key the typed config does not read.
fn ignored_warning(segs: &[Seg]) -> String {
    let text = fmt_path(segs);
    match segs {
        [Seg::Key(section)] if !LITELLM_SECTIONS.contains(&section.as_str()) => {
            format!("{text}: unknown section (not a LiteLLM config section); ignored")
        }
        [Seg::Key(_)] => format!("{text}: section not supported yet; ignored"),
        _ => format!("{text}: not supported yet; ignored"),
    }
}

fn collect_ignored_path(path: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path as P;
    match path {
        P::Root => {}
        P::Seq { parent, index } => {
            collect_ignored_path(parent, out);
            out.push(Seg::Index(*index));
        }
        P::Map { parent, key } => {
            collect_ignored_path(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            collect_ignored_path(parent, out)
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// `litellm_settings.cache_params`, in LiteLLM's names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CacheParams {
    /// `local` (default; also LiteLLM's `in-memory`/`memory`) or `redis`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Seconds a response stays cached (default 600).
    pub ttl: Option<f64>,
    /// Prefix of every key (`namespace:hash`).
    pub namespace: Option<String>,
    /// `default_on` (default) or `default_off` (only requests with `cache: {use-cache: true}`).
    pub mode: Option<String>,
    /// Call types to cache (default all: `completion`, `acompletion`, `embedding`, `aembedding`).
    pub supported_call_types: Option<Vec<String>>,
    /// Redis connection; when absent, the router's Redis settings (or `REDIS_*` variables).
    pub host: Option<String>,
    pub port: Option<u16>,
    pub password: Option<SecretString>,
    pub url: Option<SecretString>,
    /// In-memory bounds.
    pub max_size_in_memory: Option<u64>,
    pub max_size_bytes: Option<u64>,
    pub max_size_per_item: Option<usize>,
}
