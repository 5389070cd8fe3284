//! Picking a deployment of a group: not cooling down, healthy if possible, under its
//! `max_parallel_requests`, fitting the prompt (pre-call checks), untried if possible, in the
//! lowest `order` tier, chosen by the strategy (reserving its `rpm` under usage-based routing);
//! and the error when none can be picked.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use litellm_core::{ErrorKind, LlmError};

use super::attempt::Call;
use super::registry::{InFlight, ModelGroup};
use super::stats::{usage_keys, USAGE_TTL};
use super::Routing;
use crate::deployment::Deployment;

/// Why no deployment could be picked.
pub(super) enum NoPick {
    /// Every deployment is cooling down.
    CoolingDown,
    /// Every available deployment is at its `max_parallel_requests`.
    AtCapacity,
    /// Usage-based routing: every deployment is at its `rpm`/`tpm` this minute.
    OverLimits,
    /// Pre-call checks: the prompt fits no deployment's context window.
    ContextWindow { tokens: u64, largest: u64 },
}

impl Routing {
    /// The error for a group where no deployment could be picked. Each counts as an upstream
    /// failure, so fallbacks apply.
    pub(super) fn no_pick_error(&self, group: &ModelGroup, why: NoPick) -> LlmError {
        match why {
            NoPick::CoolingDown => self.all_cooling_down(group),
            NoPick::AtCapacity => LlmError::upstream(
                ErrorKind::RateLimited,
                format!(
                    "No deployments available for selected model, Try again in 1 seconds. Passed model={}. Every deployment is at its max_parallel_requests.",
                    group.name
                ),
            )
            .with_status(429)
            .with_retry_after(Some(Duration::from_secs(1))),
            NoPick::OverLimits => {
                let wait = Duration::from_secs(60 - (litellm_core::unix_now() % 60));
                LlmError::upstream(
                    ErrorKind::RateLimited,
                    format!(
                        "No deployments available for selected model, Try again in {} seconds. Passed model={}. Every deployment is at its rpm/tpm limit for this minute.",
                        wait.as_secs(),
                        group.name
                    ),
                )
                .with_status(429)
                .with_retry_after(Some(wait))
            }
            NoPick::ContextWindow { tokens, largest } => LlmError::upstream(
                ErrorKind::ContextWindowExceeded,
                format!(
                    "Context window exceeded: the prompt has about {tokens} tokens; the largest context window in model group {} is {largest} (enable_pre_call_checks).",
                    group.name
                ),
            )
            .with_status(400),
        }
    }

    /// LiteLLM's answer when every deployment of a group is cooling down: a 429 with the time
    /// until the first one is back.
    fn all_cooling_down(&self, group: &ModelGroup) -> LlmError {
        // The caller just read the marks; the local mirror is current enough for the message.
        let wait = self
            .inner
            .state
            .local_marked(&group.cooldown_keys)
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::from_secs(1));
        LlmError::upstream(
            ErrorKind::RateLimited,
            format!(
                "No deployments available for selected model, Try again in {} seconds. Passed model={}. All deployments are cooling down after repeated failures.",
                wait.as_secs_f64().ceil() as u64,
                group.name
            ),
        )
        .with_status(429)
        .with_retry_after(Some(wait))
    }

    /// The in-flight cap of a deployment, if any.
    fn max_parallel(&self, d: &Deployment) -> Option<u64> {
        d.config
            .litellm_params
            .max_parallel_requests
            .or(self.inner.settings.default_max_parallel_requests)
            .map(u64::from)
    }

    /// Picks a deployment: not cooling down, under its `max_parallel_requests`, fitting the
    /// prompt (pre-call checks), untried if possible, in the lowest `order` tier, chosen by the
    /// strategy; under usage-based routing its `rpm` is reserved atomically. Returns its index
    /// and its in-flight slot.
    pub(super) async fn pick(
        &self,
        group: &Arc<ModelGroup>,
        tried: &[usize],
        input_tokens: u64,
        call: &Call,
    ) -> Result<(usize, InFlight), NoPick> {
        let marks = self.inner.cooldowns.remaining(&group.cooldown_keys).await;
        let mut available: Vec<usize> = (0..group.deployments.len())
            .filter(|&i| marks[i].is_none())
            .collect();
        if available.is_empty() {
            return Err(NoPick::CoolingDown);
        }
        if self.inner.common.any_unhealthy.load(Ordering::Acquire) {
            let unhealthy = self
                .inner
                .common
                .unhealthy
                .read()
                .unwrap_or_else(|p| p.into_inner());
            let healthy: Vec<usize> = available
                .iter()
                .copied()
                .filter(|&i| !unhealthy.contains(&group.deployments[i].id))
                .collect();
            if !healthy.is_empty() {
                available = healthy;
            }
        }
        available.retain(|&i| {
            self.max_parallel(&group.deployments[i])
                .is_none_or(|cap| group.live[i].in_flight.load(Ordering::Relaxed) < cap)
        });
        if available.is_empty() {
            return Err(NoPick::AtCapacity);
        }
        if self.inner.settings.enable_pre_call_checks {
            let windows: Vec<Option<u64>> = available
                .iter()
                .map(|&i| context_window(&group.deployments[i]))
                .collect();
            let fits: Vec<usize> = available
                .iter()
                .zip(&windows)
                .filter(|(_, w)| w.is_none_or(|w| input_tokens <= w))
                .map(|(i, _)| *i)
                .collect();
            if fits.is_empty() {
                let largest = windows.into_iter().flatten().max().unwrap_or(0);
                return Err(NoPick::ContextWindow {
                    tokens: input_tokens,
                    largest,
                });
            }
            available = fits;
        }
        let untried: Vec<usize> = available
            .iter()
            .copied()
            .filter(|i| !tried.contains(i))
            .collect();
        let pool = if untried.is_empty() {
            available
        } else {
            untried
        };
        let best_order = pool
            .iter()
            .map(|&i| group.deployments[i].order())
            .min()
            .ok_or(NoPick::CoolingDown)?;
        let mut tier: Vec<usize> = pool
            .into_iter()
            .filter(|&i| group.deployments[i].order() == best_order)
            .collect();
        let strategy = &self.inner.strategy;
        loop {
            let stats = self.stats(group, &tier, call).await;
            let refs: Vec<&Deployment> = tier
                .iter()
                .map(|&i| group.deployments[i].as_ref())
                .collect();
            let Some(j) = strategy.pick(&refs, &stats, input_tokens) else {
                return Err(if strategy.uses_usage() {
                    NoPick::OverLimits
                } else {
                    NoPick::AtCapacity
                });
            };
            let index = tier[j];
            let deployment = &group.deployments[index];
            if strategy.uses_usage() {
                if let Some(rpm) = deployment.config.litellm_params.rpm {
                    let (rpm_key, _) = usage_keys(&deployment.id);
                    let used = self.inner.state.incr(&rpm_key, 1, USAGE_TTL).await;
                    if used > rpm.min(i64::MAX as u64) as i64 {
                        // Another request (maybe on another replica) took the last slot.
                        self.inner.state.incr(&rpm_key, -1, USAGE_TTL).await;
                        tier.remove(j);
                        continue;
                    }
                }
            }
            let cap = self.max_parallel(deployment).unwrap_or(u64::MAX);
            let acquired = group.live[index]
                .in_flight
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < cap).then_some(n + 1)
                })
                .is_ok();
            if !acquired {
                tier.remove(j);
                continue;
            }
            return Ok((
                index,
                InFlight {
                    group: group.clone(),
                    index,
                },
            ));
        }
    }
}

/// A deployment's context window for pre-call checks: `model_info.max_input_tokens`, else
/// `model_info.max_tokens`, else the price table's `max_input_tokens`.
fn context_window(d: &Deployment) -> Option<u64> {
    let info = &d.config.model_info;
    info.max_input_tokens
        .or(info.max_tokens)
        .or_else(|| crate::strategy::price_entry(d).and_then(|e| e.context_window()))
}
