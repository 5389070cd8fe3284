//! Budget resets on `budget_duration`: the background job that resets budgets when they are due.
//! When a budget next resets ([`next_reset`], calendar-aligned in [`set_timezone`]'s zone) and
//! [`ResetCounts`] live in `schedule.rs`, the leaf the records and the store share; they are
//! re-exported here.
//!
//! [`ResetJob`] runs `Store::reset_budgets` every `interval` on the one replica that holds the
//! `budget_reset` lease row (`INSERT ... ON CONFLICT DO UPDATE ... WHERE expired or mine`, the
//! same statement on both dialects); a lease outlives a crashed holder by at most its TTL.

use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

pub use crate::schedule::{next_reset, next_reset_in, set_timezone, timezone, ResetCounts};
use crate::store::Store;

/// The name of the reset job's lease row.
pub const RESET_LEASE: &str = "budget_reset";

/// The background budget-reset job of one replica.
#[derive(Debug, Clone)]
pub struct ResetJob {
    pub store: Store,
    /// This replica's lease holder name (unique per process).
    pub holder: String,
    /// Time between passes (LiteLLM's `proxy_budget_rescheduler_min_time`..`max_time`; we run
    /// every `interval`, jittered by up to `jitter`).
    pub interval: Duration,
    pub jitter: Duration,
    /// This replica's key cache, cleared after a pass that reset something (other replicas see
    /// the reset when their entries expire).
    pub cache: Option<crate::KeyCache>,
}

impl ResetJob {
    /// One pass: takes (or renews) the lease and, if held, resets every budget due at `now`.
    /// Returns `None` when another replica holds the lease.
    pub async fn run_once(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<ResetCounts>, crate::AuthError> {
        let ttl = self.interval.saturating_mul(3).max(Duration::from_secs(5));
        let ttl = ChronoDuration::from_std(ttl).unwrap_or(ChronoDuration::seconds(60));
        if !self
            .store
            .acquire_lease(RESET_LEASE, &self.holder, now, now + ttl)
            .await?
        {
            return Ok(None);
        }
        let counts = self.store.reset_budgets(now).await?;
        if counts.total() > 0 {
            if let Some(c) = &self.cache {
                c.clear();
            }
        }
        Ok(Some(counts))
    }

    /// Runs passes until `stop` resolves. Errors are logged, never fatal.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let wait = self.interval + jitter_up_to(self.jitter);
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(wait) => {}
            }
            match self.run_once(Utc::now()).await {
                Ok(Some(c)) if c.total() > 0 => tracing::info!(
                    keys = c.keys,
                    users = c.users,
                    teams = c.teams,
                    budgets = c.budgets,
                    end_users = c.end_users,
                    "budgets reset"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "budget reset pass failed; retrying later"),
            }
        }
    }
}

fn jitter_up_to(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let ms = max.as_millis().min(u128::from(u64::MAX)) as u64;
    Duration::from_millis(rand::random::<u64>() % (ms + 1))
}
