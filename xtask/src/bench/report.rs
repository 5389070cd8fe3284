//! Rendering bench results as markdown and splicing them into `docs/performance.md`.

use std::fmt::Write as _;

use super::stats::Summary;
use crate::Result;

/// The marker that opens the generated results section in `docs/performance.md`.
pub const START_MARKER: &str = "<!-- bench:start -->";

/// The marker that closes the generated results section in `docs/performance.md`.
pub const END_MARKER: &str = "<!-- bench:end -->";

/// One scenario measured through a server in front of the upstream: the proxy or the bare hyper
/// pass-through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerResult {
    /// Latency and throughput through the server.
    pub summary: Summary,
    /// The server's CPU time (user + system) during the measured phase, in clock ticks.
    pub cpu_ticks: u64,
    /// The server's CPU time per request in microseconds.
    pub cpu_us_per_req: f64,
}

/// One scenario's results.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Scenario name, e.g. `chat` or `chat-stream`.
    pub scenario: &'static str,
    /// Concurrent in-flight requests.
    pub concurrency: usize,
    /// Whether the scenario streams.
    pub stream: bool,
    /// Hitting the fake upstream directly.
    pub direct: Summary,
    /// Going through the bare hyper pass-through (`None` with `--direct-only` or
    /// `--no-passthrough`).
    pub passthrough: Option<ServerResult>,
    /// Going through the proxy (`None` with `--direct-only`).
    pub proxy: Option<ServerResult>,
    /// Going through the `--baseline` proxy binary (`None` without it).
    pub baseline: Option<ServerResult>,
}

/// Facts about the run printed above the tables.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// When the run happened (UTC).
    pub date: String,
    /// The commit measured, if known.
    pub commit: String,
    /// CPU model and core count.
    pub machine: String,
    /// The command line that produced the report.
    pub command: String,
    /// Clock ticks per second used for the CPU column.
    pub ticks_per_second: u64,
}

const DASH: &str = "—";

/// The proxy's CPU per request as a multiple of the pass-through's, e.g. `4.2×`; a dash when
/// either is missing or the pass-through's is zero (too few clock ticks to tell).
fn cpu_ratio(row: &Row) -> String {
    match (&row.proxy, &row.passthrough) {
        (Some(proxy), Some(passthrough)) if passthrough.cpu_us_per_req > 0.0 => {
            format!("{:.1}×", proxy.cpu_us_per_req / passthrough.cpu_us_per_req)
        }
        _ => DASH.to_string(),
    }
}

/// Renders the summary table, the detail table and the run facts as markdown.
pub fn render(rows: &[Row], info: &RunInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured {} on {} at commit `{}` with `{}`.\n",
        info.date, info.machine, info.commit, info.command
    );
    out.push_str(
        "| scenario | concurrency | stream | direct rps | passthrough rps | proxy rps | direct p50 \
         | passthrough p50 | proxy p50 | added p50 | proxy p99 | passthrough CPU µs/req \
         | proxy CPU µs/req | proxy CPU vs passthrough |\n",
    );
    out.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let rps = |result: Option<&ServerResult>| {
        result.map_or_else(|| DASH.to_string(), |r| format!("{:.0}", r.summary.rps))
    };
    let p50 = |result: Option<&ServerResult>| {
        result.map_or_else(|| DASH.to_string(), |r| format!("{} µs", r.summary.p50_us))
    };
    let cpu = |result: Option<&ServerResult>| {
        result.map_or_else(|| DASH.to_string(), |r| format!("{:.1}", r.cpu_us_per_req))
    };
    for row in rows {
        let (passthrough, proxy) = (row.passthrough.as_ref(), row.proxy.as_ref());
        let added = proxy.map_or_else(
            || DASH.to_string(),
            |proxy| {
                format!(
                    "{:+} µs",
                    i128::from(proxy.summary.p50_us) - i128::from(row.direct.p50_us)
                )
            },
        );
        let proxy_p99 = proxy.map_or_else(
            || DASH.to_string(),
            |proxy| format!("{} µs", proxy.summary.p99_us),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {} | {} | {} µs | {} | {} | {added} | {proxy_p99} | {} | {} | {} |",
            row.scenario,
            row.concurrency,
            if row.stream { "yes" } else { "no" },
            row.direct.rps,
            rps(passthrough),
            rps(proxy),
            row.direct.p50_us,
            p50(passthrough),
            p50(proxy),
            cpu(passthrough),
            cpu(proxy),
            cpu_ratio(row),
        );
    }

    out.push_str(
        "\nDetails (latencies in µs; CPU ticks are the server's utime + stime, all threads, at ",
    );
    let _ = writeln!(out, "{} ticks/s):\n", info.ticks_per_second);
    out.push_str(
        "| target | scenario | concurrency | requests | rps | p50 | p90 | p99 | CPU ticks |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let mut line = |target: &str, summary: &Summary, ticks: String| {
            let _ = writeln!(
                out,
                "| {target} | {} | {} | {} | {:.0} | {} | {} | {} | {ticks} |",
                row.scenario,
                row.concurrency,
                summary.requests,
                summary.rps,
                summary.p50_us,
                summary.p90_us,
                summary.p99_us,
            );
        };
        line("direct", &row.direct, DASH.to_string());
        if let Some(passthrough) = &row.passthrough {
            line(
                "passthrough",
                &passthrough.summary,
                passthrough.cpu_ticks.to_string(),
            );
        }
        if let Some(proxy) = &row.proxy {
            line("proxy", &proxy.summary, proxy.cpu_ticks.to_string());
        }
        if let Some(baseline) = &row.baseline {
            line(
                "baseline",
                &baseline.summary,
                baseline.cpu_ticks.to_string(),
            );
        }
    }
    render_baseline(rows, &mut out);
    out
}

/// The before/after table of a run with `--baseline`: the proxy against the baseline binary,
/// measured in the same run (nothing when no row has a baseline).
fn render_baseline(rows: &[Row], out: &mut String) {
    if rows.iter().all(|row| row.baseline.is_none()) {
        return;
    }
    out.push_str(
        "\nBefore/after (`--baseline` is the before, this build the after):\n\n\
         | scenario | concurrency | baseline rps | proxy rps | baseline p50 | proxy p50 \
         | baseline CPU µs/req | proxy CPU µs/req | CPU change |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let (Some(before), Some(after)) = (&row.baseline, &row.proxy) else {
            continue;
        };
        let change = if before.cpu_us_per_req > 0.0 {
            format!(
                "{:+.1}%",
                (after.cpu_us_per_req / before.cpu_us_per_req - 1.0) * 100.0
            )
        } else {
            DASH.to_string()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.0} | {} µs | {} µs | {:.1} | {:.1} | {change} |",
            row.scenario,
            row.concurrency,
            before.summary.rps,
            after.summary.rps,
            before.summary.p50_us,
            after.summary.p50_us,
            before.cpu_us_per_req,
            after.cpu_us_per_req,
        );
    }
}

/// Replaces the text between `START_MARKER` and `END_MARKER` in `doc` with `content`.
pub fn splice(doc: &str, content: &str) -> Result<String> {
    let start = doc
        .find(START_MARKER)
        .ok_or_else(|| format!("`{START_MARKER}` not found"))?
        + START_MARKER.len();
    let end = doc[start..]
        .find(END_MARKER)
        .ok_or_else(|| format!("`{END_MARKER}` not found after `{START_MARKER}`"))?
        + start;
    Ok(format!(
        "{}\n\n{}\n\n{}",
        &doc[..start],
        content.trim_end(),
        &doc[end..]
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;

    fn summary(rps: f64, p50: u64, p99: u64) -> Summary {
        Summary {
            requests: 1000,
            rps,
            p50_us: p50,
            p90_us: p50 + 10,
            p99_us: p99,
        }
    }

    fn served(summary: Summary, cpu_ticks: u64, cpu_us_per_req: f64) -> Option<ServerResult> {
        Some(ServerResult {
            summary,
            cpu_ticks,
            cpu_us_per_req,
        })
    }

    #[test]
    fn renders_added_latency_cpu_and_the_ratio_to_the_passthrough() {
        let rows = [
            Row {
                scenario: "chat",
                concurrency: 64,
                stream: false,
                direct: summary(20_000.4, 300, 900),
                passthrough: served(summary(15_000.0, 400, 1_000), 30, 9.6),
                proxy: served(summary(9_000.0, 520, 1_400), 80, 40.04),
                baseline: None,
            },
            Row {
                scenario: "chat-stream",
                concurrency: 1,
                stream: true,
                direct: summary(5_000.0, 190, 250),
                passthrough: None,
                proxy: None,
                baseline: None,
            },
        ];
        let text = render(&rows, &RunInfo::default());
        assert!(
            text.contains(
                "| chat | 64 | no | 20000 | 15000 | 9000 | 300 µs | 400 µs | 520 µs | +220 µs \
                 | 1400 µs | 9.6 | 40.0 | 4.2× |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| chat-stream | 1 | yes | 5000 | — | — | 190 µs | — | — | — | — | — | — | — |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| passthrough | chat | 64 | 1000 | 15000 | 400 | 410 | 1000 | 30 |"),
            "{text}"
        );
        assert!(
            text.contains("| proxy | chat | 64 | 1000 | 9000 | 520 | 530 | 1400 | 80 |"),
            "{text}"
        );
        assert!(
            !text.contains("| passthrough | chat-stream"),
            "no detail line for a target that did not run: {text}"
        );
    }

    #[test]
    fn the_ratio_needs_both_servers_and_a_nonzero_passthrough() {
        let row = |passthrough: Option<ServerResult>, proxy: Option<ServerResult>| Row {
            scenario: "chat",
            concurrency: 1,
            stream: false,
            direct: summary(1.0, 300, 300),
            passthrough,
            proxy,
            baseline: None,
        };
        let some = served(summary(1.0, 300, 300), 10, 20.0);
        let zero = served(summary(1.0, 300, 300), 0, 0.0);
        let proxy = served(summary(1.0, 300, 300), 30, 50.0);
        assert_eq!(cpu_ratio(&row(some, proxy)), "2.5×");
        assert_eq!(cpu_ratio(&row(zero, proxy)), "—");
        assert_eq!(cpu_ratio(&row(None, proxy)), "—");
        assert_eq!(cpu_ratio(&row(some, None)), "—");
        // Without a proxy the pass-through's own columns still render.
        let text = render(&[row(some, None)], &RunInfo::default());
        assert!(
            text.contains(
                "| chat | 1 | no | 1 | 1 | — | 300 µs | 300 µs | — | — | — | 20.0 | — | — |"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_faster_proxy_shows_a_negative_added_latency() {
        let rows = [Row {
            scenario: "chat",
            concurrency: 1,
            stream: false,
            direct: summary(1.0, 300, 300),
            passthrough: None,
            proxy: served(summary(1.0, 290, 300), 0, 0.0),
            baseline: None,
        }];
        assert!(render(&rows, &RunInfo::default()).contains("| -10 µs |"));
    }

    #[test]
    fn a_baseline_run_adds_the_before_after_table() {
        let row = |baseline: Option<ServerResult>| Row {
            scenario: "chat",
            concurrency: 64,
            stream: false,
            direct: summary(1.0, 300, 300),
            passthrough: None,
            proxy: served(summary(9_000.0, 520, 1_400), 80, 40.0),
            baseline,
        };
        let text = render(
            &[row(served(summary(8_000.0, 600, 1_500), 100, 50.0))],
            &RunInfo::default(),
        );
        assert!(
            text.contains("| chat | 64 | 8000 | 9000 | 600 µs | 520 µs | 50.0 | 40.0 | -20.0% |"),
            "{text}"
        );
        assert!(
            text.contains("| baseline | chat | 64 | 1000 | 8000 | 600 | 610 | 1500 | 100 |"),
            "{text}"
        );
        let without = render(&[row(None)], &RunInfo::default());
        assert!(!without.contains("Before/after"), "{without}");
    }

    #[test]
    fn splices_between_the_markers_only() {
        let doc = "# Perf\nintro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\noutro\n";
        let out = splice(doc, "new table\n").unwrap();
        assert_eq!(
            out,
            "# Perf\nintro\n<!-- bench:start -->\n\nnew table\n\n<!-- bench:end -->\noutro\n"
        );
        // Splicing again replaces the previous result instead of appending.
        assert_eq!(splice(&out, "new table").unwrap(), out);
    }

    #[test]
    fn splice_requires_both_markers_in_order() {
        assert!(splice("no markers", "x").is_err());
        assert!(splice("<!-- bench:end --> <!-- bench:start -->", "x").is_err());
        assert!(splice("<!-- bench:start --> only", "x").is_err());
    }
}
