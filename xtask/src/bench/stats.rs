//! Measurement math for the bench: latency percentiles and process CPU time from `/proc`.

use std::process::Command;
use std::time::Duration;

/// The nearest-rank percentile `p` (0 < p <= 100) of ascending `sorted` samples.
///
/// Returns `None` for an empty slice. The nearest-rank value is always a real sample: the
/// smallest one with at least `p` percent of the samples at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // The rank is ceil(p/100 * n), clamped to 1..=n; the cast is exact for any realistic count.
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    let rank = rank.clamp(1, n);
    sorted.get(rank - 1).copied()
}

/// Summary of one measured phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Requests completed.
    pub requests: u64,
    /// Requests per second over the whole phase.
    pub rps: f64,
    /// Median latency in microseconds.
    pub p50_us: u64,
    /// 90th percentile latency in microseconds.
    pub p90_us: u64,
    /// 99th percentile latency in microseconds.
    pub p99_us: u64,
}

impl Summary {
    /// Summarises per-request latencies (microseconds, any order) measured over `elapsed`.
    pub fn from_latencies(mut latencies_us: Vec<u64>, elapsed: Duration) -> Self {
        latencies_us.sort_unstable();
        let requests = latencies_us.len() as u64;
        let secs = elapsed.as_secs_f64();
        Self {
            requests,
            rps: if secs > 0.0 {
                requests as f64 / secs
            } else {
                0.0
            },
            p50_us: percentile(&latencies_us, 50.0).unwrap_or(0),
            p90_us: percentile(&latencies_us, 90.0).unwrap_or(0),
            p99_us: percentile(&latencies_us, 99.0).unwrap_or(0),
        }
    }
}

/// User plus system CPU time, in clock ticks, from the text of `/proc/<pid>/stat`.
///
/// `utime` and `stime` are fields 14 and 15 (1-based). The second field, the command name, is in
/// parentheses and may itself contain spaces and `)`, so fields are counted after the last `)`:
/// the field right after it is field 3 (the state).
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// User plus system CPU time of process `pid` (all its threads), in clock ticks.
pub fn process_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat)
}

/// Clock ticks per second (`getconf CLK_TCK`, asked once); 100 when getconf is unavailable.
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse().ok())
        .filter(|ticks: &u64| *ticks > 0)
        .unwrap_or(100)
}

/// CPU microseconds per request from a tick delta over `requests` requests.
pub fn cpu_us_per_request(ticks: u64, ticks_per_second: u64, requests: u64) -> f64 {
    if requests == 0 || ticks_per_second == 0 {
        return 0.0;
    }
    ticks as f64 * 1_000_000.0 / ticks_per_second as f64 / requests as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), Some(50));
        assert_eq!(percentile(&samples, 90.0), Some(90));
        assert_eq!(percentile(&samples, 99.0), Some(99));
        assert_eq!(percentile(&samples, 100.0), Some(100));
        assert_eq!(percentile(&samples, 0.1), Some(1));
    }

    #[test]
    fn percentiles_of_small_and_empty_sets() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        // Four samples: the median by nearest rank is the 2nd, p90 and p99 the 4th.
        let four = [10, 20, 30, 40];
        assert_eq!(percentile(&four, 50.0), Some(20));
        assert_eq!(percentile(&four, 90.0), Some(40));
        // Ten samples: p90 is the 9th, p99 the 10th.
        let ten: Vec<u64> = (1..=10).map(|i| i * 100).collect();
        assert_eq!(percentile(&ten, 90.0), Some(900));
        assert_eq!(percentile(&ten, 99.0), Some(1000));
    }

    #[test]
    fn summary_sorts_and_computes_rps() {
        let latencies = vec![400, 100, 300, 200];
        let summary = Summary::from_latencies(latencies, Duration::from_millis(500));
        assert_eq!(summary.requests, 4);
        assert!((summary.rps - 8.0).abs() < 1e-9, "{}", summary.rps);
        assert_eq!(summary.p50_us, 200);
        assert_eq!(summary.p90_us, 400);
        assert_eq!(summary.p99_us, 400);
    }

    #[test]
    fn parses_utime_and_stime() {
        let stat = "4242 (litellm-rs) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    731 95 0 0 20 0 5 0 123456 123456789 2048 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(731 + 95));
    }

    #[test]
    fn parses_a_command_name_with_spaces_and_parens() {
        let stat = "77 (tokio (rt) worker) R 1 77 77 0 -1 0 0 0 0 0 12 3 0 0 20 0 1 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(15));
    }

    #[test]
    fn rejects_truncated_or_garbled_stat() {
        assert_eq!(parse_cpu_ticks("1 (x) S 1 2 3"), None);
        assert_eq!(parse_cpu_ticks("no parens here"), None);
        assert_eq!(
            parse_cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 3 0"),
            None
        );
    }

    #[test]
    fn reads_this_process() {
        let ticks = process_cpu_ticks(std::process::id());
        assert!(ticks.is_some(), "/proc/self/stat should parse");
    }

    #[test]
    fn converts_ticks_to_microseconds_per_request() {
        // 80 ticks at 100 Hz is 0.8 s of CPU; over 20,000 requests that is 40 µs each.
        assert!((cpu_us_per_request(80, 100, 20_000) - 40.0).abs() < 1e-9);
        assert_eq!(cpu_us_per_request(80, 100, 0), 0.0);
    }
}
