//! The `litellm-rs` command line: parses LiteLLM-compatible flags, loads the config, sets up
//! logging and the tokio runtime, and runs the proxy until SIGINT or SIGTERM. Also the `check`
//! `openapi` and `healthcheck` subcommands.

mod check;
mod logging;
pub mod probe;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use litellm_server::{load_config, parse_config, LoadedConfig, ProxyConfig, ServeOptions};

pub use check::check;
pub use logging::{level_directives, LogFormat};

/// `litellm-rs`: an OpenAI-compatible LLM gateway that reads LiteLLM's config.yaml.
#[derive(Debug, Parser)]
#[command(
    name = "litellm-rs",
    version,
    about = "An OpenAI-compatible LLM gateway, a drop-in replacement for the LiteLLM proxy.",
    after_help = "Examples:\n  litellm-rs --config config/quickstart.yaml\n  litellm-rs --model openai/gpt-4o\n  litellm-rs check --config config.yaml"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// LiteLLM config.yaml to load.
    #[arg(
        long,
        short = 'c',
        env = "CONFIG_FILE_PATH",
        global = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 0.0.0.0 with a master key, 127.0.0.1 without].
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Port to listen on.
    #[arg(long, short = 'p', env = "PORT", default_value_t = 4000)]
    pub port: u16,

    /// Serve one model (e.g. `openai/gpt-4o`) without a config file; its public name is the
    /// model string itself.
    #[arg(long, short = 'm', value_name = "MODEL")]
    pub model: Option<String>,

    /// Upstream base URL for `--model`.
    #[arg(
        long = "api_base",
        visible_alias = "api-base",
        requires = "model",
        value_name = "URL"
    )]
    pub api_base: Option<String>,

    /// Log at debug level (LiteLLM's flag).
    #[arg(long = "detailed_debug", visible_alias = "detailed-debug")]
    pub detailed_debug: bool,

    /// Accepted for LiteLLM compatibility (info-level logging is already the default).
    #[arg(long, hide = true)]
    pub debug: bool,

    /// Log JSON lines instead of human-readable text.
    #[arg(long = "json-logs", visible_alias = "json_logs", env = "JSON_LOGS")]
    pub json_logs: bool,

    /// Accepted for LiteLLM compatibility and ignored: one process already uses every core.
    #[arg(
        long = "num_workers",
        visible_alias = "num-workers",
        env = "NUM_WORKERS",
        value_name = "N"
    )]
    pub num_workers: Option<u32>,
}

/// Subcommands; without one, `litellm-rs` runs the proxy.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a config file and print its model groups and warnings (never secrets).
    Check,
    /// Print the proxy's OpenAPI document (JSON) to stdout.
    Openapi,
    /// Probe a running proxy (for container HEALTHCHECKs): GET the URL, exit 0 on a 2xx answer.
    Healthcheck {
        /// URL to probe.
        #[arg(long, default_value = probe::DEFAULT_PROBE_URL)]
        url: String,
        /// Seconds to wait for the connection and the answer.
        #[arg(long, default_value_t = 5.0)]
        timeout: f64,
    },
}

/// Parses the arguments the way [`main`] does, telling a `--config` typed on the command line
/// apart from one that came from `CONFIG_FILE_PATH`.
pub fn parse_args<I, T>(args: I) -> Result<(Cli, bool), clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = Cli::command().try_get_matches_from(args)?;
    let config_on_command_line = matches.value_source("config") == Some(ValueSource::CommandLine);
    let cli = Cli::from_arg_matches(&matches)?;
    Ok((cli, config_on_command_line))
}

/// The entry point of the `litellm-rs` binary: runs and exits with the process's status.
pub fn main() {
    let code = run(std::env::args_os());
    std::process::exit(code);
}

/// Runs the command line `args` (program name first) and returns the exit status.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let (cli, config_on_command_line) = match parse_args(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Some(Command::Openapi) => {
            println!("{}", litellm_server::openapi_json());
            0
        }
        Some(Command::Healthcheck { url, timeout }) => {
            let timeout = std::time::Duration::from_secs_f64(timeout.clamp(0.1, 300.0));
            probe::run(&url, timeout, &mut std::io::stdout().lock())
        }
        Some(Command::Check) => {
            logging::init(LogFormat::from_flags(&cli, None));
            let Some(path) = cli.config.as_deref() else {
                fatal("check needs a config file: litellm-rs check --config FILE");
                return 1;
            };
            let mut out = std::io::stdout().lock();
            match check(path, &mut out) {
                Ok(()) => 0,
                Err(e) => {
                    fatal(&e);
                    1
                }
            }
        }
        None => run_proxy(cli, config_on_command_line),
    }
}

/// Where the proxy's configuration comes from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Model {
        model: String,
        api_base: Option<String>,
    },
    Nothing,
}

/// Picks the configuration source. `--model` wins over a `CONFIG_FILE_PATH` from the
/// environment; `--model` together with `--config` on the command line is an error.
pub fn source(cli: &Cli, config_on_command_line: bool) -> Result<Source, String> {
    match (&cli.model, &cli.config) {
        (Some(_), Some(_)) if config_on_command_line => {
            Err("--config and --model cannot be used together".to_string())
        }
        (Some(model), _) => Ok(Source::Model {
            model: model.clone(),
            api_base: cli.api_base.clone(),
        }),
        (None, Some(path)) => Ok(Source::File(path.clone())),
        (None, None) => Ok(Source::Nothing),
    }
}

/// Loads the configuration for `source`. Without a file, the general settings still come from
/// the environment (`LITELLM_MASTER_KEY`, `DATABASE_URL`).
pub fn load(source: &Source) -> Result<LoadedConfig, String> {
    match source {
        Source::File(path) => load_config(path).map_err(|e| e.to_string()),
        Source::Model { model, api_base } => {
            let mut loaded = parse_config("").map_err(|e| e.to_string())?;
            loaded.config.model_list =
                ProxyConfig::single_model(model, api_base.as_deref()).model_list;
            Ok(loaded)
        }
        Source::Nothing => parse_config("").map_err(|e| e.to_string()),
    }
}

fn run_proxy(cli: Cli, config_on_command_line: bool) -> i32 {
    let source = match source(&cli, config_on_command_line) {
        Ok(s) => s,
        Err(e) => {
            fatal(&e);
            return 2;
        }
    };
    let loaded = load(&source);
    logging::init(LogFormat::from_flags(
        &cli,
        loaded.as_ref().ok().map(|l| &l.config),
    ));
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            fatal(&e);
            return 1;
        }
    };
    for warning in &loaded.warnings {
        tracing::warn!("config: {warning}");
    }
    if let Some(n) = cli.num_workers.filter(|n| *n > 1) {
        tracing::info!(
            "--num_workers {n} ignored: one litellm-rs process already uses every CPU core"
        );
    }
    match &source {
        Source::Nothing => tracing::warn!(
            "no --config or --model given: starting with no models. Try `litellm-rs --config \
             config/quickstart.yaml` (no API key needed) or `litellm-rs --model openai/gpt-4o`"
        ),
        Source::File(path) if loaded.config.model_list.is_empty() => tracing::warn!(
            "{} defines no models (model_list is empty): every model request will fail",
            path.display()
        ),
        _ => {}
    }
    if cli.config.is_some() && matches!(source, Source::Model { .. }) {
        tracing::info!("--model given: ignoring CONFIG_FILE_PATH");
    }

    export_environment_variables(&loaded.config);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            fatal(format!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    let config_path = match &source {
        Source::File(path) => Some(path.clone()),
        _ => None,
    };
    let opts = ServeOptions {
        config: loaded.config,
        host: cli.host,
        port: cli.port,
        config_path,
    };
    match runtime.block_on(litellm_server::serve(opts, shutdown_signal())) {
        Ok(()) => 0,
        Err(e) => {
            fatal(&e);
            1
        }
    }
}

/// Writes the config's `environment_variables` into the process environment, as LiteLLM does,
/// so providers that read credentials from the environment see them. Called before the runtime
/// starts, while the process has a single thread.
fn export_environment_variables(config: &ProxyConfig) {
    for (name, value) in &config.environment_variables {
        if !name.is_empty() && !name.contains('=') && !name.contains('\0') && !value.contains('\0')
        {
            std::env::set_var(name, value);
        }
    }
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM. A second signal during the drain exits
/// at once.
async fn shutdown_signal() {
    wait_for_signal().await;
    tokio::spawn(async {
        wait_for_signal().await;
        eprintln!("litellm-rs: second signal received; exiting without waiting for the drain");
        std::process::exit(130);
    });
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Prints a fatal error as one line on stderr.
fn fatal(e: impl std::fmt::Display) {
    let text = e.to_string().replace('\n', " ");
    eprintln!("litellm-rs: error: {text}");
}

#[cfg(test)]
mod tests;
