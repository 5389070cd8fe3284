//! `cargo xtask bench`: the proxy's overhead against a local fake upstream.
//!
//! For each scenario (chat and chat-stream, concurrency 1 and 64; `/v1/responses` at 64) the
//! load generator first hits the fake upstream directly, then a bare hyper pass-through in front of it (the reference
//! point), then the release proxy in front of it, and reports throughput, latency percentiles and
//! the CPU time per request of the pass-through and the proxy (from `/proc/<pid>/stat`). See
//! `docs/performance.md` for the methodology.

mod load;
mod passthrough;
mod proxy;
mod report;
mod stats;
mod upstream;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use self::load::Target;
use self::proxy::{Proxy, SharedChild};
use self::report::{Row, RunInfo, ServerResult};
use self::stats::Summary;
use self::upstream::Upstream;
use crate::{workspace, Result};

pub use self::passthrough::{run as run_passthrough, PassthroughArgs};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Measured requests per scenario (default: 5,000 at concurrency 1, 20,000 at 64).
    #[arg(long)]
    requests: Option<u64>,
    /// A ten times shorter run (500 / 2,000 requests, 50 warmup) for a quick look.
    #[arg(long)]
    quick: bool,
    /// Warmup requests before each measured phase (default: 200, or 50 with --quick).
    #[arg(long)]
    warmup: Option<u64>,
    /// Only measure the fake upstream directly (no proxy build or start, no pass-through).
    #[arg(long)]
    direct_only: bool,
    /// Do not measure the bare hyper pass-through (the reference point for the proxy's CPU).
    #[arg(long)]
    no_passthrough: bool,
    /// Do not run `cargo build --release -p litellm-rs` first.
    #[arg(long)]
    no_build: bool,
    /// Replace the results section of docs/performance.md.
    #[arg(long)]
    write_docs: bool,
    /// Abort (killing the proxy) when measuring takes longer than this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout: u64,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// A second proxy binary (e.g. the release build of an earlier commit) measured in the
    /// same run with the same config and load: the before/after of a change.
    #[arg(long)]
    baseline: Option<std::path::PathBuf>,
    /// Worker threads of the fake upstream's runtime.
    #[arg(long, default_value_t = 1)]
    upstream_threads: usize,
}

/// One scenario of the bench.
struct Scenario {
    name: &'static str,
    stream: bool,
    concurrency: usize,
    /// The proxy route it calls: `/v1/chat/completions`, or `/v1/responses` (translated to
    /// the same chat call upstream; its direct line is that chat call, and it has no
    /// pass-through line).
    responses: bool,
}

const SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "chat",
        stream: false,
        concurrency: 1,
        responses: false,
    },
    Scenario {
        name: "chat",
        stream: false,
        concurrency: 64,
        responses: false,
    },
    Scenario {
        name: "chat-stream",
        stream: true,
        concurrency: 1,
        responses: false,
    },
    Scenario {
        name: "chat-stream",
        stream: true,
        concurrency: 64,
        responses: false,
    },
    Scenario {
        name: "responses",
        stream: false,
        concurrency: 64,
        responses: true,
    },
];

impl BenchArgs {
    /// Measured requests for a scenario at `concurrency`.
    fn requests_for(&self, concurrency: usize) -> u64 {
        if let Some(requests) = self.requests {
            return requests.max(1);
        }
        let full = if concurrency <= 1 { 5_000 } else { 20_000 };
        if self.quick {
            full / 10
        } else {
            full
        }
    }

    /// Warmup requests before each measured phase.
    fn warmup(&self) -> u64 {
        self.warmup.unwrap_or(if self.quick { 50 } else { 200 })
    }

    /// The command line that reproduces this run.
    fn command_line(&self) -> String {
        let mut command = String::from("cargo xtask bench");
        if let Some(requests) = self.requests {
            command.push_str(&format!(" --requests {requests}"));
        }
        if self.quick {
            command.push_str(" --quick");
        }
        if let Some(warmup) = self.warmup {
            command.push_str(&format!(" --warmup {warmup}"));
        }
        if self.direct_only {
            command.push_str(" --direct-only");
        }
        if self.no_passthrough {
            command.push_str(" --no-passthrough");
        }
        if let Some(baseline) = &self.baseline {
            command.push_str(&format!(" --baseline {}", baseline.display()));
        }
        command
    }

    /// Whether to start and measure the pass-through.
    fn with_passthrough(&self) -> bool {
        !self.direct_only && !self.no_passthrough
    }
}

/// A realistic chat request body for `model`.
fn request_body(model: &str, stream: bool) -> Bytes {
    let mut body = serde_json::json!({
        "model": model,
        "messages": [
            { "role": "system", "content": "You are a helpful assistant." },
            { "role": "user", "content": "Write one sentence about benchmarks." }
        ],
        "temperature": 0.7,
        "max_tokens": 64
    });
    if stream {
        body["stream"] = serde_json::Value::Bool(true);
        body["stream_options"] = serde_json::json!({ "include_usage": true });
    }
    Bytes::from(body.to_string())
}

/// A Responses API request body for `model`, asking what [`request_body`] asks.
fn responses_body(model: &str) -> Bytes {
    let body = serde_json::json!({
        "model": model,
        "instructions": "You are a helpful assistant.",
        "input": "Write one sentence about benchmarks.",
        "temperature": 0.7,
        "max_output_tokens": 64,
        "store": false
    });
    Bytes::from(body.to_string())
}

/// Kills the servers and exits the process when the bench runs longer than `timeout`.
fn start_watchdog(timeout: Duration, children: Vec<SharedChild>) {
    let spawned = std::thread::Builder::new()
        .name("bench-watchdog".to_string())
        .spawn(move || {
            std::thread::sleep(timeout);
            eprintln!(
                "error: the bench exceeded its {}s timeout; killing the proxy and the pass-through",
                timeout.as_secs()
            );
            for child in &children {
                proxy::kill(child);
            }
            std::process::exit(2);
        });
    if let Err(err) = spawned {
        eprintln!("warning: no bench watchdog ({err})");
    }
}

/// Builds the release proxy binary.
fn build_proxy(root: &Path) -> Result<()> {
    println!("==> cargo build --release -p litellm-rs");
    let status = Command::new(workspace::cargo())
        .args(["build", "--release", "-p", "litellm-rs"])
        .current_dir(root)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build --release -p litellm-rs failed ({status})").into())
    }
}

/// Runs a warmup and a measured phase; returns the measured summary.
fn measure(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    target: &Target,
    warmup: u64,
    requests: u64,
    concurrency: usize,
    before_measuring: impl FnOnce(),
) -> Result<Summary> {
    if warmup > 0 {
        rt.block_on(load::run_phase(client, target, warmup, concurrency))?;
    }
    before_measuring();
    let phase = rt.block_on(load::run_phase(client, target, requests, concurrency))?;
    Ok(Summary::from_latencies(phase.latencies_us, phase.elapsed))
}

/// Runs a warmup and a measured phase against `server`, reading its CPU time around the measured
/// phase.
#[allow(clippy::too_many_arguments)] // Reason: the phase's knobs, all plain values.
fn measure_server(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    server: &Proxy,
    body: Bytes,
    scenario: &Scenario,
    warmup: u64,
    requests: u64,
    ticks_per_second: u64,
) -> Result<ServerResult> {
    let path = if scenario.responses {
        "/v1/responses"
    } else {
        "/v1/chat/completions"
    };
    let target = Target {
        url: format!("{}{path}", server.base_url()),
        body,
        stream: scenario.stream,
    };
    let pid = server.pid();
    let mut ticks_before = None;
    let summary = measure(
        rt,
        client,
        &target,
        warmup,
        requests,
        scenario.concurrency,
        || ticks_before = stats::process_cpu_ticks(pid),
    )
    .map_err(|err| format!("{err}\n{} output:\n{}", server.name(), server.output()))?;
    let ticks_after = stats::process_cpu_ticks(pid);
    let (Some(before), Some(after)) = (ticks_before, ticks_after) else {
        return Err(format!("cannot read /proc/{pid}/stat of the {}", server.name()).into());
    };
    let cpu_ticks = after.saturating_sub(before);
    Ok(ServerResult {
        summary,
        cpu_ticks,
        cpu_us_per_req: stats::cpu_us_per_request(cpu_ticks, ticks_per_second, summary.requests),
    })
}

/// Waits until the freshly spawned `server` is ready (dropping it, and so killing it, if not).
fn start_server(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    server: Proxy,
) -> Result<Proxy> {
    rt.block_on(server.wait_ready(client, Duration::from_secs(30)))?;
    println!(
        "==> {} ready at {} (pid {})",
        server.name(),
        server.base_url(),
        server.pid()
    );
    Ok(server)
}

/// Prints one measured line of a server.
fn print_server(label: &str, name: &str, result: &ServerResult) {
    println!(
        "    {label:<36} {name:>11}: {:>7.0} rps, p50 {:>6} µs, p99 {:>6} µs, CPU {:.1} µs/req",
        result.summary.rps, result.summary.p50_us, result.summary.p99_us, result.cpu_us_per_req
    );
}

/// Set in the environment of the optimised re-run so it does not re-run itself again.
const REEXEC_ENV: &str = "XTASK_BENCH_OPTIMIZED";

/// Re-runs `cargo xtask bench` as an optimised build: an unoptimised load generator and fake
/// upstream would be slower than the proxy they measure.
fn rerun_optimized(root: &Path) -> Result<()> {
    println!("==> the bench needs an optimised xtask: cargo run --release -p xtask -- bench ...");
    let status = Command::new(workspace::cargo())
        .args(["run", "--release", "--quiet", "--package", "xtask", "--"])
        .args(std::env::args_os().skip(1))
        .env(REEXEC_ENV, "1")
        .current_dir(root)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the optimised bench failed ({status})").into())
    }
}

/// Runs the bench.
pub fn run(args: BenchArgs) -> Result<()> {
    let root = workspace::root();
    if cfg!(debug_assertions) && std::env::var_os(REEXEC_ENV).is_none() {
        return rerun_optimized(&root);
    }
    let metadata = workspace::metadata(&root)?;
    let target_dir = workspace::target_dir(&metadata, &root);
    let bench_dir = target_dir.join("bench");
    fs::create_dir_all(&bench_dir)?;
    let binary = target_dir.join("release").join("litellm-rs");

    if !args.direct_only {
        if !args.no_build {
            build_proxy(&root)?;
        }
        for binary in std::iter::once(&binary).chain(args.baseline.as_ref()) {
            if !binary.exists() {
                return Err(format!("{} does not exist; build it first", binary.display()).into());
            }
        }
    }

    let proxy_child: SharedChild = Arc::new(Mutex::new(None));
    let passthrough_child: SharedChild = Arc::new(Mutex::new(None));
    let baseline_child: SharedChild = Arc::new(Mutex::new(None));
    start_watchdog(
        Duration::from_secs(args.timeout),
        vec![
            Arc::clone(&proxy_child),
            Arc::clone(&passthrough_child),
            Arc::clone(&baseline_child),
        ],
    );

    let upstream = Upstream::start(args.upstream_threads)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let max_concurrency = SCENARIOS.iter().map(|s| s.concurrency).max().unwrap_or(1);
    let client = load::client(max_concurrency)?;

    let passthrough = if args.with_passthrough() {
        // The pass-through is this very binary (the optimised xtask), in its own process.
        let xtask = std::env::current_exe()
            .map_err(|err| format!("cannot locate the xtask binary: {err}"))?;
        Some(start_server(
            &rt,
            &client,
            Proxy::spawn_passthrough(
                &xtask,
                &bench_dir.join("passthrough"),
                upstream.addr().port(),
                &passthrough_child,
            )?,
        )?)
    } else {
        None
    };
    let proxy = if args.direct_only {
        None
    } else {
        Some(start_server(
            &rt,
            &client,
            Proxy::spawn(
                &binary,
                &bench_dir.join("run"),
                upstream.addr().port(),
                &proxy_child,
            )?,
        )?)
    };

    let baseline = match args.baseline.as_ref().filter(|_| !args.direct_only) {
        Some(binary) => Some(start_server(
            &rt,
            &client,
            Proxy::spawn_baseline(
                binary,
                &bench_dir.join("baseline"),
                upstream.addr().port(),
                &baseline_child,
            )?,
        )?),
        None => None,
    };

    let ticks_per_second = stats::clock_ticks_per_second();
    let direct_url = format!("http://{}/v1/chat/completions", upstream.addr());
    let mut rows = Vec::with_capacity(SCENARIOS.len());
    for scenario in &SCENARIOS {
        let requests = args.requests_for(scenario.concurrency);
        let label = format!(
            "{} c={} ({} requests)",
            scenario.name, scenario.concurrency, requests
        );
        let direct_target = Target {
            url: direct_url.clone(),
            body: request_body("bench-model", scenario.stream),
            stream: scenario.stream,
        };
        let direct = measure(
            &rt,
            &client,
            &direct_target,
            args.warmup(),
            requests,
            scenario.concurrency,
            || {},
        )
        .map_err(|err| format!("{label} direct: {err}"))?;
        println!(
            "    {label:<36} {:>11}: {:>7.0} rps, p50 {:>6} µs, p99 {:>6} µs",
            "direct", direct.rps, direct.p50_us, direct.p99_us
        );

        // The pass-through forwards the body untouched, so it asks for the upstream's model; the
        // proxy maps its deployment `bench` to the same upstream model.
        let run_server = |server: &Option<Proxy>, model: &str| -> Result<Option<ServerResult>> {
            let Some(server) = server else {
                return Ok(None);
            };
            let body = if scenario.responses {
                responses_body(model)
            } else {
                request_body(model, scenario.stream)
            };
            let result = measure_server(
                &rt,
                &client,
                server,
                body,
                scenario,
                args.warmup(),
                requests,
                ticks_per_second,
            )
            .map_err(|err| format!("{label} {}: {err}", server.name()))?;
            print_server(&label, server.name(), &result);
            Ok(Some(result))
        };
        let passthrough_result = if scenario.responses {
            None
        } else {
            run_server(&passthrough, "bench-model")?
        };
        let proxy_result = run_server(&proxy, "bench")?;
        // A baseline binary may predate `/v1/responses`.
        let baseline_result = if scenario.responses {
            None
        } else {
            run_server(&baseline, "bench")?
        };
        rows.push(Row {
            scenario: scenario.name,
            concurrency: scenario.concurrency,
            stream: scenario.stream,
            direct,
            passthrough: passthrough_result,
            proxy: proxy_result,
            baseline: baseline_result,
        });
    }
    drop(baseline);
    drop(proxy);
    drop(passthrough);
    drop(upstream);

    let info = RunInfo {
        date: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        commit: command_output("git", &["rev-parse", "--short", "HEAD"]),
        machine: machine_description(),
        command: args.command_line(),
        ticks_per_second,
    };
    let markdown = report::render(&rows, &info);
    println!("\n{markdown}");
    let report_path = bench_dir.join("report.md");
    fs::write(&report_path, &markdown)?;
    println!("==> wrote {}", report_path.display());
    if args.write_docs {
        let docs_path = root.join("docs").join("performance.md");
        let doc = fs::read_to_string(&docs_path)
            .map_err(|err| format!("cannot read {}: {err}", docs_path.display()))?;
        let spliced = report::splice(&doc, &markdown)
            .map_err(|err| format!("{}: {err}", docs_path.display()))?;
        fs::write(&docs_path, spliced)?;
        println!("==> updated {}", docs_path.display());
    }
    Ok(())
}

/// The trimmed stdout of a command, or `unknown` when it fails.
fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(workspace::root())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// CPU model and core count, e.g. `2 cores (AMD EPYC 7B13)`.
fn machine_description() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{cores} cores ({model})")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn parse(args: &[&str]) -> BenchArgs {
        Cli::parse_from(std::iter::once("bench").chain(args.iter().copied())).bench
    }

    #[test]
    fn request_counts_follow_the_flags() {
        let full = parse(&[]);
        assert_eq!(
            (full.requests_for(1), full.requests_for(64)),
            (5_000, 20_000)
        );
        assert_eq!(full.warmup(), 200);
        let quick = parse(&["--quick"]);
        assert_eq!(
            (quick.requests_for(1), quick.requests_for(64)),
            (500, 2_000)
        );
        assert_eq!(quick.warmup(), 50);
        let fixed = parse(&["--requests", "500", "--warmup", "0"]);
        assert_eq!((fixed.requests_for(1), fixed.requests_for(64)), (500, 500));
        assert_eq!(fixed.warmup(), 0);
        assert_eq!(
            fixed.command_line(),
            "cargo xtask bench --requests 500 --warmup 0"
        );
    }

    #[test]
    fn passthrough_flags() {
        let default = parse(&[]);
        assert!(default.with_passthrough());
        let direct = parse(&["--direct-only"]);
        assert!(
            !direct.with_passthrough(),
            "--direct-only measures nothing else"
        );
        let without = parse(&["--quick", "--no-passthrough"]);
        assert!(!without.with_passthrough());
        assert_eq!(
            without.command_line(),
            "cargo xtask bench --quick --no-passthrough"
        );
    }

    #[test]
    fn the_spawned_passthrough_command_line_is_the_hidden_subcommand() {
        let argv = std::iter::once("xtask".to_string()).chain(proxy::passthrough_args(8081, 9090));
        let cli = crate::Cli::try_parse_from(argv).unwrap();
        let crate::Command::BenchPassthrough(passthrough) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(passthrough.upstream, "http://127.0.0.1:8081");
        assert_eq!(passthrough.port, 9090);
        let (_, authority) = passthrough::parse_upstream(&passthrough.upstream).unwrap();
        assert_eq!(authority.port_u16(), Some(8081));
    }

    #[test]
    fn request_bodies_ask_for_usage_when_streaming() {
        let plain: serde_json::Value =
            serde_json::from_slice(&request_body("bench", false)).unwrap();
        assert_eq!(plain["model"], "bench");
        assert!(plain.get("stream").is_none());
        let body = request_body("bench", true);
        assert!(upstream::wants_stream(&body));
        let streamed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(streamed["stream_options"]["include_usage"], true);
    }

    #[test]
    fn direct_scenarios_run_end_to_end_in_process() {
        let upstream = Upstream::start(1).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = load::client(8).unwrap();
        for stream in [false, true] {
            let target = Target {
                url: format!("http://{}/v1/chat/completions", upstream.addr()),
                body: request_body("bench-model", stream),
                stream,
            };
            let mut hooked = false;
            let summary = measure(&rt, &client, &target, 5, 50, 8, || hooked = true).unwrap();
            assert!(hooked, "the hook runs between warmup and measurement");
            assert_eq!(summary.requests, 50);
            assert!(summary.p50_us <= summary.p90_us && summary.p90_us <= summary.p99_us);
        }
    }
}
