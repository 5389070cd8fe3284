//! Config reload: `SIGHUP` and `POST /config/reload` (admin) re-read config.yaml and swap the
//! router's model list and settings ([`litellm_router::Router::reload`]) without dropping
//! in-flight requests or streams. A file that does not load (bad YAML, a wrong type, an
//! unknown provider, an alias to a missing group, ...) is rejected with the loader's message,
//! naming the file and the path inside it, and the running config stays.
//!
//! Only the router is reloaded: `model_list`, `router_settings` (except the Redis connection)
//! and the `litellm_settings` keys the router reads (`num_retries`, `request_timeout`, the
//! fallback lists, `drop_params`). Everything else (`general_settings`: master key, database,
//! health checks, body limit; the rest of `litellm_settings`: cache, prices, budgets, logging;
//! `router_settings.redis_*`: the shared state store, rate limiter and cache connections;
//! `environment_variables`, which are exported to the process at start-up only, though
//! `os.environ/` references in the file resolve against the new values) keeps its start-up
//! value. A reload that changes one of those sections still applies the router part
//! and lists the changed sections in `not_reloaded` (and in the log).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Serialize;
use serde_yaml::Value;

use crate::config::{parse_config, ConfigError};
use crate::error::ApiError;
use crate::state::AppState;

/// `litellm_settings` keys the router reads (merged into `router_settings` or lowered into the
/// deployments by the loader): a change to them is applied by a reload.
const ROUTER_LITELLM_KEYS: &[&str] = &[
    "num_retries",
    "request_timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "drop_params",
];

/// What a successful reload did (the body of `POST /config/reload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Always `"reloaded"`.
    pub status: &'static str,
    /// The model names now served (as `/v1/models` lists them).
    pub models: Vec<String>,
    /// Sections that differ from the running config but were not applied (restart to apply).
    pub not_reloaded: Vec<String>,
}

/// Why a reload was refused. `Display` is the user-facing message: it names the file and the
/// path inside it, and never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The proxy was not started from a config file.
    #[error("no config file to reload: start the proxy with --config <file>")]
    NoConfigFile,
    /// The file does not load.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The file loads but the router refuses it (an unknown provider, strategy, ...).
    #[error("{path}: {message}")]
    Router { path: String, message: String },
}

/// The sections a reload does not apply, in their start-up form, keyed by their name in
/// `not_reloaded`.
type Sections = BTreeMap<&'static str, Value>;

/// Re-reads one config file on demand. Reloads are serialized.
#[derive(Debug)]
pub struct Reloader {
    path: PathBuf,
    /// The non-reloadable sections as the proxy started with them.
    startup: Sections,
    serial: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// A reloader for the config file at `path`, taking the sections a reload cannot change
    /// from the file as it is now (the proxy just started from it).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let startup = std::fs::read_to_string(&path)
            .map(|text| fixed_sections(&text))
            .unwrap_or_default();
        Reloader {
            path,
            startup,
            serial: tokio::sync::Mutex::new(()),
        }
    }

    /// The file this reloader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file again and swaps the router's model list and settings; on any error the
    /// running config stays. Also refreshes the per-deployment metrics for new deployments.
    pub async fn reload(&self, state: &AppState) -> Result<ReloadReport, ReloadError> {
        let _serial = self.serial.lock().await;
        let in_file = |e: ConfigError| ConfigError::InFile {
            path: self.path.clone(),
            source: Box::new(e),
        };
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|source| ConfigError::Read {
                path: self.path.clone(),
                source,
            })?;
        let loaded = parse_config(&text).map_err(in_file)?;
        for warning in &loaded.warnings {
            tracing::warn!("config: {warning}");
        }
        let config = loaded.config;
        let router = state.router.clone();
        // Building backends is synchronous work (credential files, clients): off the workers.
        tokio::task::spawn_blocking(move || {
            router.reload(config.model_list, config.router_settings)
        })
        .await
        .map_err(|e| ReloadError::Router {
            path: self.path.display().to_string(),
            message: format!("reload task failed: {e}"),
        })?
        .map_err(|e| ReloadError::Router {
            path: self.path.display().to_string(),
            message: e.message,
        })?;
        state.metrics.init_deployments(&state.router);

        let current = fixed_sections(&text);
        let not_reloaded: Vec<String> = current
            .keys()
            .chain(self.startup.keys())
            .filter(|k| current.get(*k) != self.startup.get(*k))
            .map(|k| k.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let models = state.router.model_names();
        tracing::info!(
            path = %self.path.display(),
            models = ?models,
            "config reloaded: model_list and router_settings swapped"
        );
        if !not_reloaded.is_empty() {
            tracing::warn!(
                sections = ?not_reloaded,
                "config reload: these sections changed but are not reloaded; restart to apply them"
            );
        }
        Ok(ReloadReport {
            status: "reloaded",
            models,
            not_reloaded,
        })
    }
}

/// The parts of the file a reload does not apply: `general_settings`, `litellm_settings`
/// without the router's keys, `environment_variables`, and the `redis_*` keys of
/// `router_settings`. Text that is not YAML has none (the loader reports it).
fn fixed_sections(text: &str) -> Sections {
    let mut root: Value = serde_yaml::from_str(text).unwrap_or(Value::Null);
    if root.apply_merge().is_err() {
        return Sections::new();
    }
    let Value::Mapping(map) = root else {
        return Sections::new();
    };
    let mut out = Sections::new();
    let section = |name: &str| map.get(name).filter(|v| !v.is_null()).cloned();
    for name in ["general_settings", "environment_variables"] {
        if let Some(v) = section(name) {
            out.insert(name, v);
        }
    }
    if let Some(Value::Mapping(mut m)) = section("litellm_settings") {
        for k in ROUTER_LITELLM_KEYS {
            m.remove(*k);
        }
        if !m.is_empty() {
            out.insert("litellm_settings", Value::Mapping(m));
        }
    }
    if let Some(Value::Mapping(m)) = section("router_settings") {
        let redis: serde_yaml::Mapping = m
            .into_iter()
            .filter(|(k, _)| k.as_str().is_some_and(|k| k.starts_with("redis_")))
            .collect();
        if !redis.is_empty() {
            out.insert("router_settings.redis", Value::Mapping(redis));
        }
    }
    out
}

/// `POST /config/reload` (admin: the master key or a `proxy_admin` user's key): reloads the
/// config file. 200 with a [`ReloadReport`]; 400 with the loader's message when the file does
/// not load (the running config stays).
pub async fn reload_config(
    State(state): State<AppState>,
    reloader: Option<Extension<Arc<Reloader>>>,
    caller: Result<crate::pipeline::Authed, ApiError>,
) -> Result<Json<ReloadReport>, ApiError> {
    state.auth.require_admin_caller(caller?.0)?;
    let result = match reloader {
        Some(Extension(r)) => r.reload(&state).await,
        None => Err(ReloadError::NoConfigFile),
    };
    result.map(Json).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("Config reload failed; the running config stays. {e}"),
        )
    })
}

/// Listens for `SIGHUP` until `shutdown`, reloading on each one (failures are logged and the
/// running config stays). The handler is installed before this returns, so a `SIGHUP` sent
/// once the server answers is never the default "terminate". Without a config file, `SIGHUP`
/// is logged and ignored.
#[cfg(unix)]
pub fn spawn_sighup_listener(
    state: AppState,
    reloader: Option<Arc<Reloader>>,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                got = hangups.recv() => if got.is_none() { return },
            }
            let Some(reloader) = &reloader else {
                tracing::warn!("SIGHUP ignored: {}", ReloadError::NoConfigFile);
                continue;
            };
            tracing::info!(path = %reloader.path().display(), "SIGHUP: reloading the config");
            if let Err(e) = reloader.reload(&state).await {
                tracing::error!("config reload failed; the running config stays: {e}");
            }
        }
    });
    Ok(())
}
