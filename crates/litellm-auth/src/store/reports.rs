//! Spend reports and retention on the [`Store`]: the grouped report query over the daily
//! aggregates and the bounded spend-log delete, each dispatched to the dialect's `reports_sql!`
//! statements (`reports_sql.rs`, expanded inside `sqlite.rs` and `postgres.rs`).

use chrono::{DateTime, Utc};

use super::{on_backend, postgres, sqlite, Backend, Store};
use crate::error::AuthError;
use crate::reports::{DailyQuery, DailySpendRow};

impl Store {
    /// Runs a report query over `daily_spend` (or `daily_tag_spend`, when it groups or filters
    /// by tag): the matching groups (at most `q.limit`, after
    /// `q.offset`) and, when `q.limit` is set, how many groups match in all (else the number
    /// returned).
    pub async fn daily_spend(
        &self,
        q: &DailyQuery,
    ) -> Result<(Vec<DailySpendRow>, u64), AuthError> {
        on_backend!(self, daily_spend(q))
    }

    /// Deletes at most `batch` spend logs that started before `cutoff` (one statement, rows
    /// never read into memory). Returns how many were deleted; fewer than `batch` means none
    /// older are left. Daily aggregates are not touched.
    pub async fn delete_spend_logs_before(
        &self,
        cutoff: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, AuthError> {
        on_backend!(
            self,
            delete_spend_logs_before(cutoff, i64::from(batch.max(1)))
        )
    }
}
