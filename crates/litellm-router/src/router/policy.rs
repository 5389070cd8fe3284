//! Retry settings: the backoff between retries on the same deployment set ([`Backoff`]), and
//! the per-error-kind retry counts of `retry_policy` / `model_group_retry_policy`.

use std::collections::HashMap;
use std::time::Duration;

use litellm_core::{ErrorKind, LlmError};

use crate::cooldown::{parse_policy, policy_classes};

/// Retry backoff, LiteLLM's `_time_to_sleep_before_retry`: no sleep when another deployment of
/// the group is untried; else the upstream's `retry-after` when within (0, 60] s; else
/// `initial * 2^attempt` clamped to `[retry_after_min, max]`, plus up to `jitter` of noise.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub jitter: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // LiteLLM's INITIAL_RETRY_DELAY, MAX_RETRY_DELAY and JITTER.
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
            jitter: Duration::from_millis(750),
        }
    }
}

impl Backoff {
    /// The sleep before retry number `attempt` (0-based) on the same deployment set.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, min: Duration) -> Duration {
        if let Some(ra) = retry_after.filter(|d| !d.is_zero() && *d <= Duration::from_secs(60)) {
            return ra.max(min);
        }
        let exp = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let base = exp.min(self.max).max(min);
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            use rand::Rng;
            self.jitter
                .mul_f64(rand::thread_rng().gen_range(0.0..1.0_f64))
        };
        base + jitter
    }
}

/// Per-kind retries from `retry_policy` (class -> retries) and its `DefaultRetries`.
#[derive(Debug, Default, Clone)]
pub(super) struct RetryPolicy {
    pub(super) by_class: HashMap<&'static str, u32>,
    pub(super) default: Option<u32>,
}

impl RetryPolicy {
    pub(super) fn parse(
        setting: &str,
        map: &std::collections::BTreeMap<String, u32>,
    ) -> Result<Self, LlmError> {
        Ok(RetryPolicy {
            by_class: parse_policy(setting, "Retries", map, &["DefaultRetries"])?,
            default: map.get("DefaultRetries").copied(),
        })
    }

    pub(super) fn for_kind(&self, kind: ErrorKind) -> Option<u32> {
        policy_classes(kind)
            .iter()
            .find_map(|c| self.by_class.get(c).copied())
            .or(self.default)
    }
}
