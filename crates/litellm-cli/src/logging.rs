//! Logging setup: human-readable or JSON lines on stderr, with the level taken from
//! `--detailed_debug`, `LITELLM_LOG` (LiteLLM's DEBUG|INFO|WARNING|ERROR) or `RUST_LOG`.

use std::io::IsTerminal;

use litellm_server::ProxyConfig;
use tracing_subscriber::EnvFilter;

use crate::Cli;

/// The crates whose debug output `--detailed_debug` turns on (dependencies stay at info).
const OUR_CRATES: &[&str] = &[
    "litellm_rs",
    "litellm_cli",
    "litellm_server",
    "litellm_auth",
    "litellm_router",
    "litellm_providers",
    "litellm_core",
];

/// How to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogFormat {
    /// JSON lines instead of text.
    pub json: bool,
    /// Debug level for our crates, whatever the environment says.
    pub debug: bool,
}

impl LogFormat {
    /// From the flags (`--json-logs`/`JSON_LOGS`, `--detailed_debug`) and, when loaded, the
    /// config (`litellm_settings.json_logs`, `litellm_settings.set_verbose`).
    pub fn from_flags(cli: &Cli, config: Option<&ProxyConfig>) -> Self {
        let settings = config.map(|c| &c.litellm_settings);
        LogFormat {
            json: cli.json_logs || settings.and_then(|s| s.json_logs).unwrap_or(false),
            debug: cli.detailed_debug || settings.and_then(|s| s.set_verbose).unwrap_or(false),
        }
    }
}

/// The `tracing` filter directives: debug for our crates when `debug`; else `LITELLM_LOG`
/// (a LiteLLM level name, or directives); else `RUST_LOG`; else `info`.
pub fn level_directives(debug: bool, litellm_log: Option<&str>, rust_log: Option<&str>) -> String {
    let ours_at_debug = || {
        let mut d = String::from("info");
        for c in OUR_CRATES {
            d.push_str(&format!(",{c}=debug"));
        }
        d
    };
    if debug {
        return ours_at_debug();
    }
    if let Some(level) = litellm_log.map(str::trim).filter(|l| !l.is_empty()) {
        return match level.to_ascii_uppercase().as_str() {
            "DEBUG" => ours_at_debug(),
            "INFO" => "info".to_string(),
            "WARNING" | "WARN" => "warn".to_string(),
            "ERROR" | "CRITICAL" => "error".to_string(),
            _ => level.to_string(),
        };
    }
    match rust_log.map(str::trim).filter(|l| !l.is_empty()) {
        Some(directives) => directives.to_string(),
        None => "info".to_string(),
    }
}

/// Installs the global subscriber (a second call keeps the first one).
pub(crate) fn init(format: LogFormat) {
    let directives = level_directives(
        format.debug,
        std::env::var("LITELLM_LOG").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let (filter, bad_filter) = match EnvFilter::try_new(&directives) {
        Ok(f) => (f, false),
        Err(_) => (EnvFilter::new("info"), true),
    };
    // Colours only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let installed = if format.json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
    if installed.is_ok() && bad_filter {
        tracing::warn!("invalid log level `{directives}` (LITELLM_LOG/RUST_LOG); using info");
    }
}
