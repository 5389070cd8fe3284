//! What the routing strategies weigh: latency samples and per-minute usage, recorded after each
//! successful attempt and read back as [`Stats`] when picking a deployment.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;

use super::attempt::{Call, Output, Pieces};
use super::registry::{ModelGroup, Samples};
use super::Routing;
use crate::strategy::{RoutingStrategy, Stats};

impl Routing {
    /// Bookkeeping after a successful attempt: latency samples, and for usage-based routing
    /// the tokens used this minute (for streams, once the usage chunk passes by).
    pub(super) fn on_success(
        &self,
        group: &Arc<ModelGroup>,
        index: usize,
        output: Output,
        elapsed: Duration,
    ) -> Output {
        let secs = elapsed.as_secs_f64();
        let tokens_key = self
            .inner
            .strategy
            .uses_usage()
            .then(|| usage_keys(&group.deployments[index].id).1);
        match output {
            Output::Chat(response) => {
                let usage = response.usage.as_ref();
                let completion = usage.map_or(0, |u| u.completion_tokens);
                self.record_latency(group, index, false, per_token(secs, completion));
                if let (Some(key), Some(u)) = (tokens_key, usage) {
                    self.spawn_tokens(key, u.total_tokens);
                }
                Output::Chat(response)
            }
            Output::Embed(response) => {
                self.record_latency(group, index, false, secs);
                if let (Some(key), Some(u)) = (tokens_key, response.usage.as_ref()) {
                    self.spawn_tokens(key, u.total_tokens);
                }
                Output::Embed(response)
            }
            Output::Family(output) => {
                self.record_latency(group, index, false, secs);
                if let (Some(key), Some(u)) = (tokens_key, output.usage.as_ref()) {
                    self.spawn_tokens(key, u.total_tokens);
                }
                Output::Family(output)
            }
            Output::Native(output) => {
                let completion = output.usage.completion_tokens;
                self.record_latency(group, index, false, per_token(secs, completion));
                if let Some(key) = tokens_key {
                    self.spawn_tokens(key, output.usage.total_tokens);
                }
                Output::Native(output)
            }
            Output::NativeStream(stream) => {
                self.record_latency(group, index, true, secs);
                Output::NativeStream(match tokens_key {
                    None => stream,
                    Some(key) => self.count_tokens(stream, key, |piece| {
                        let mut chunks = piece.chunks.iter().flatten();
                        chunks
                            .find_map(|c| c.usage.as_ref())
                            .map(|u| u.total_tokens)
                    }),
                })
            }
            Output::Stream(stream) => {
                // `attempt` resolved at the first chunk: `elapsed` is the time to first token.
                self.record_latency(group, index, true, secs);
                Output::Stream(match tokens_key {
                    None => stream,
                    Some(key) => self.count_tokens(stream, key, |chunk| {
                        chunk.usage.as_ref().map(|u| u.total_tokens)
                    }),
                })
            }
        }
    }

    /// `stream`, adding the total tokens of the first usage it reports (`usage_of` an item) to
    /// the per-minute token counter `key` as it passes by.
    fn count_tokens<T: Send + 'static>(
        &self,
        stream: Pieces<T>,
        key: String,
        usage_of: impl Fn(&T) -> Option<u64> + Send + 'static,
    ) -> Pieces<T> {
        let router = self.clone();
        let mut key = Some(key);
        Box::pin(stream.inspect(move |item| {
            if key.is_none() {
                return;
            }
            if let Some(tokens) = item.as_ref().ok().and_then(&usage_of) {
                if let Some(k) = key.take() {
                    router.spawn_tokens(k, tokens);
                }
            }
        }))
    }

    /// Adds `tokens` to a per-minute token counter off the request path.
    fn spawn_tokens(&self, key: String, tokens: u64) {
        if tokens == 0 {
            return;
        }
        let state = self.inner.state.clone();
        tokio::spawn(async move {
            state
                .incr(&key, tokens.min(i64::MAX as u64) as i64, USAGE_TTL)
                .await;
        });
    }

    pub(super) fn record_latency(&self, group: &ModelGroup, index: usize, stream: bool, secs: f64) {
        let RoutingStrategy::LatencyBased { max_samples, .. } = self.inner.strategy else {
            return;
        };
        let live = &group.live[index];
        let samples = if stream { &live.ttft } else { &live.latency };
        samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(secs, max_samples);
    }

    /// The stats the strategy reads, for the deployments at `indices`.
    pub(super) async fn stats(
        &self,
        group: &ModelGroup,
        indices: &[usize],
        call: &Call,
    ) -> Vec<Stats> {
        let mut stats: Vec<Stats> = indices
            .iter()
            .map(|&i| Stats {
                in_flight: group.live[i].in_flight.load(Ordering::Relaxed),
                ..Stats::default()
            })
            .collect();
        match &self.inner.strategy {
            RoutingStrategy::UsageBased => {
                let keys: Vec<String> = indices
                    .iter()
                    .flat_map(|&i| {
                        let (r, t) = usage_keys(&group.deployments[i].id);
                        [r, t]
                    })
                    .collect();
                let values = self.inner.state.get(&keys).await;
                for (s, pair) in stats.iter_mut().zip(values.chunks(2)) {
                    s.rpm_used = pair.first().copied().unwrap_or(0).max(0) as u64;
                    s.tpm_used = pair.get(1).copied().unwrap_or(0).max(0) as u64;
                }
            }
            RoutingStrategy::LatencyBased { ttl, .. } => {
                for (s, &i) in stats.iter_mut().zip(indices) {
                    let live = &group.live[i];
                    let read = |m: &Mutex<Samples>| {
                        m.lock().unwrap_or_else(|p| p.into_inner()).average(*ttl)
                    };
                    s.latency = if call.is_stream() {
                        read(&live.ttft).or_else(|| read(&live.latency))
                    } else {
                        read(&live.latency)
                    };
                }
            }
            _ => {}
        }
        stats
    }
}

/// How long per-minute usage counters live (two windows, so the previous minute's keys expire
/// on their own).
pub(super) const USAGE_TTL: Duration = Duration::from_secs(120);

/// The state keys of a deployment's requests and tokens in the current UTC minute.
pub(super) fn usage_keys(id: &str) -> (String, String) {
    let minute = litellm_core::unix_now() / 60;
    (
        format!("usage:{id}:rpm:{minute}"),
        format!("usage:{id}:tpm:{minute}"),
    )
}

/// Latency per output token when the response reports output tokens (LiteLLM's measure).
fn per_token(secs: f64, completion_tokens: u64) -> f64 {
    if completion_tokens > 0 {
        secs / completion_tokens as f64
    } else {
        secs
    }
}
