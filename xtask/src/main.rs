//! Project tasks for litellm-rs: `cargo xtask ci`, `cargo xtask tidy` and `cargo xtask bench`
//! (plus the hidden `bench-passthrough`, the bare hyper reverse proxy the bench measures).
//!
//! The alias in `.cargo/config.toml` makes `cargo xtask ...` run this binary. The tidy checks in
//! `tidy.rs` also run as ordinary `#[test]`s under `cargo test --workspace`.

mod bench;
mod ci;
mod tidy;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The error type of every task: a boxed error with a human-readable message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The result type of every task.
pub type Result<T> = std::result::Result<T, BoxError>;

/// Command-line interface of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project tasks for litellm-rs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The tasks `cargo xtask` knows.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run what CI runs: fmt check, clippy with -D warnings, then the README test command.
    Ci,
    /// Run the tidy checks (layering, module docs, no stubs, README commands, import circles,
    /// file sizes, confined crates) and list offenders.
    Tidy,
    /// Measure the proxy's overhead against a local fake upstream (see docs/performance.md).
    Bench(bench::BenchArgs),
    /// The bench's bare hyper pass-through proxy; `cargo xtask bench` starts it itself.
    #[command(hide = true)]
    BenchPassthrough(bench::PassthroughArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Ci => ci::run(),
        Command::Tidy => tidy::run(),
        Command::Bench(args) => bench::run(args),
        Command::BenchPassthrough(args) => bench::run_passthrough(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
