//! The bench's load generator: `concurrency` tasks pulling request numbers from a shared counter,
//! each sending a request over one pooled HTTP/1.1 keep-alive client and reading the whole body.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use crate::Result;

/// What one load phase sends.
#[derive(Clone)]
pub struct Target {
    /// Full URL of the chat completions route.
    pub url: String,
    /// The JSON request body.
    pub body: Bytes,
    /// Whether the body asks for a stream (the response must then end with `data: [DONE]`).
    pub stream: bool,
}

/// The outcome of one phase: per-request latencies and the phase's wall time.
pub struct PhaseResult {
    /// Latency of every request in microseconds, from send to the last body byte.
    pub latencies_us: Vec<u64>,
    /// Wall time from the first request to the last response.
    pub elapsed: Duration,
}

/// Builds the pooled client: HTTP/1.1 only, keep-alive, no proxy from the environment.
pub fn client(concurrency: usize) -> Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(30))
        .build()?;
    Ok(client)
}

/// Sends one request and reads the whole response; returns an error for anything but a 200
/// with the expected body shape.
async fn one_request(client: &reqwest::Client, target: &Target) -> Result<()> {
    let response = client
        .post(&target.url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-bench-client"),
        )
        .body(target.body.clone())
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        return Err(format!("{} answered {status}: {text}", target.url).into());
    }
    let expected: &[u8] = if target.stream { b"data: [DONE]" } else { b"}" };
    if !body.trim_ascii_end().ends_with(expected) {
        let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        return Err(format!("{} answered an unexpected body: {text}", target.url).into());
    }
    Ok(())
}

/// Runs `total` requests against `target` with `concurrency` concurrent tasks.
///
/// Stops at the first failed request and returns its error: numbers with errors mixed in would
/// not mean anything.
pub async fn run_phase(
    client: &reqwest::Client,
    target: &Target,
    total: u64,
    concurrency: usize,
) -> Result<PhaseResult> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let next = Arc::clone(&next);
        let client = client.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let sent = Instant::now();
                if let Err(err) = one_request(&client, &target).await {
                    // Make the other tasks stop pulling work.
                    next.store(total, Ordering::Relaxed);
                    return Err(err);
                }
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                latencies.push(micros);
            }
            Ok::<_, crate::BoxError>(latencies)
        }));
    }
    let mut latencies_us = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok(latencies)) => latencies_us.extend(latencies),
            Ok(Err(err)) => {
                first_error.get_or_insert(err);
            }
            Err(join) => {
                first_error.get_or_insert_with(|| format!("load task failed: {join}").into());
            }
        }
    }
    let elapsed = started.elapsed();
    match first_error {
        Some(err) => Err(err),
        None => Ok(PhaseResult {
            latencies_us,
            elapsed,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Reason: a panic is the desired failure mode in tests.
mod tests {
    use super::*;
    use crate::bench::upstream::Upstream;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn runs_exactly_the_requested_count_against_the_fake_upstream() {
        let upstream = Upstream::start(1).unwrap();
        let url = format!("http://{}/v1/chat/completions", upstream.addr());
        let rt = runtime();
        let client = client(4).unwrap();
        for stream in [false, true] {
            let body = if stream {
                r#"{"model":"m","messages":[],"stream":true}"#
            } else {
                r#"{"model":"m","messages":[]}"#
            };
            let target = Target {
                url: url.clone(),
                body: Bytes::from_static(body.as_bytes()),
                stream,
            };
            let result = rt.block_on(run_phase(&client, &target, 37, 4)).unwrap();
            assert_eq!(result.latencies_us.len(), 37, "stream={stream}");
        }
    }

    #[test]
    fn a_failing_target_is_an_error() {
        let upstream = Upstream::start(1).unwrap();
        let target = Target {
            url: format!("http://{}/v1/embeddings", upstream.addr()),
            body: Bytes::from_static(b"{}"),
            stream: false,
        };
        let rt = runtime();
        let err = rt
            .block_on(run_phase(&client(2).unwrap(), &target, 10, 2))
            .err()
            .expect("a 404 must fail the phase");
        assert!(err.to_string().contains("404"), "{err}");
    }

    #[test]
    fn a_non_stream_body_for_a_stream_target_is_an_error() {
        let upstream = Upstream::start(1).unwrap();
        // The body does not ask for a stream, so the upstream answers JSON without `[DONE]`.
        let target = Target {
            url: format!("http://{}/v1/chat/completions", upstream.addr()),
            body: Bytes::from_static(br#"{"model":"m","messages":[]}"#),
            stream: true,
        };
        let rt = runtime();
        let err = rt
            .block_on(run_phase(&client(1).unwrap(), &target, 3, 1))
            .err()
            .expect("a body without [DONE] must fail a stream phase");
        assert!(err.to_string().contains("unexpected body"), "{err}");
    }
}
