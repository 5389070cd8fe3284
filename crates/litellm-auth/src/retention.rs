//! Spend-log retention: LiteLLM's `general_settings.maximum_spend_logs_retention_period`
//! (`"7d"`, `"30d"`, `"24h"`, ...) and `maximum_spend_logs_retention_interval` (how often the
//! cleanup runs, default daily).
//!
//! Each run deletes the spend logs that started before `now - period` in bounded batches
//! (`DELETE ... WHERE request_id IN (SELECT request_id ... LIMIT n)`), one short statement at a
//! time, so rows are never loaded into memory and no long lock is held. The daily aggregates
//! (`daily_spend`) and the key/user/team spend counters are kept, so reports and budgets are
//! unchanged by a cleanup. Replicas share the work through a lease row (`job_leases`, the one
//! the budget-reset job uses): each run, the replica that takes the lease (held for 90% of the
//! interval) runs the cleanup and the others skip it. Deleting is idempotent, so a run that
//! outlives its lease and overlaps another is harmless.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::duration::BudgetDuration;
use crate::error::AuthError;
use crate::store::Store;

/// Rows per DELETE statement by default.
pub const DEFAULT_BATCH: u32 = 1_000;

/// Default time between runs (LiteLLM runs the cleanup daily).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(86_400);

/// The name of the job (and of its lease).
pub const JOB_NAME: &str = "spend_logs_retention";

/// A configured retention policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Logs older than this are deleted.
    pub period: BudgetDuration,
    /// Time between runs.
    pub interval: Duration,
    /// Rows per DELETE statement (at least 1).
    pub batch: u32,
}

impl Retention {
    /// A policy from LiteLLM's settings: `period` is required, `interval` defaults to a day.
    /// Errors name the setting and the accepted forms.
    pub fn from_settings(period: &str, interval: Option<&str>) -> Result<Retention, String> {
        let period = BudgetDuration::parse(period)
            .map_err(|e| format!("maximum_spend_logs_retention_period: {e}"))?;
        let interval = match interval {
            None => DEFAULT_INTERVAL,
            Some(s) => match BudgetDuration::parse(s)
                .map_err(|e| format!("maximum_spend_logs_retention_interval: {e}"))?
            {
                BudgetDuration::Seconds(n) => Duration::from_secs(u64::try_from(n).unwrap_or(1)),
                BudgetDuration::Months(m) => Duration::from_secs(u64::from(m) * 30 * 86_400),
            },
        };
        Ok(Retention {
            period,
            interval,
            batch: DEFAULT_BATCH,
        })
    }

    /// The oldest start time kept at `now`.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.period.before(now)
    }

    /// Deletes every spend log older than the cutoff at `now`, batch by batch. Returns how
    /// many rows were deleted.
    pub async fn run_once(&self, store: &Store, now: DateTime<Utc>) -> Result<u64, AuthError> {
        let cutoff = self.cutoff(now);
        let batch = self.batch.max(1);
        let mut deleted = 0;
        loop {
            let n = store.delete_spend_logs_before(cutoff, batch).await?;
            deleted += n;
            if n < u64::from(batch) {
                return Ok(deleted);
            }
            // Let request-path writers in between batches.
            tokio::task::yield_now().await;
        }
    }

    /// One run if `holder` gets the job's lease at `now`: `None` when another replica holds it,
    /// else how many rows were deleted.
    pub async fn run_leased(
        &self,
        store: &Store,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, AuthError> {
        let ttl = self.interval.mul_f64(0.9).max(Duration::from_secs(1));
        let until = chrono::Duration::from_std(ttl)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(now);
        if !store.acquire_lease(JOB_NAME, holder, now, until).await? {
            return Ok(None);
        }
        self.run_once(store, now).await.map(Some)
    }

    /// Runs the cleanup now and then every `interval` on a background task (as `holder`, under
    /// the job's lease), until the task is aborted. Failures are logged and retried at the next
    /// interval.
    pub fn spawn(self, store: Store, holder: String) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.interval.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.run_leased(&store, &holder, Utc::now()).await {
                    Ok(None) => tracing::debug!("spend-log retention: another replica runs it"),
                    Ok(Some(0)) => tracing::debug!("spend-log retention: nothing to delete"),
                    Ok(Some(n)) => {
                        tracing::info!(deleted = n, "spend-log retention deleted old logs")
                    }
                    Err(e) => tracing::warn!(error = %e, "spend-log retention failed; will retry"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_like_litellm() {
        let r = Retention::from_settings("7d", None).expect("valid");
        assert_eq!(r.period, BudgetDuration::Seconds(7 * 86_400));
        assert_eq!(r.interval, DEFAULT_INTERVAL);
        let r = Retention::from_settings("24h", Some("60m")).expect("valid");
        assert_eq!(r.interval, Duration::from_secs(3_600));
        let e = Retention::from_settings("soon", None).expect_err("invalid");
        assert!(e.contains("maximum_spend_logs_retention_period"), "{e}");
        let e = Retention::from_settings("1d", Some("0s")).expect_err("invalid");
        assert!(e.contains("maximum_spend_logs_retention_interval"), "{e}");
    }

    #[test]
    fn cutoff_subtracts_the_period() {
        let now = DateTime::parse_from_rfc3339("2025-03-31T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let r = Retention::from_settings("30d", None).expect("valid");
        assert_eq!(r.cutoff(now).to_rfc3339(), "2025-03-01T12:00:00+00:00");
        let r = Retention::from_settings("1mo", None).expect("valid");
        assert_eq!(r.cutoff(now).to_rfc3339(), "2025-02-28T12:00:00+00:00");
    }
}
