//! litellm-auth (L3): request credentials and the spend ledger.
//!
//! - [`MasterKey`] and [`hash_token`]: the proxy's master key, checked in constant time, and
//!   LiteLLM's `hash_token` (SHA-256 hex), the only form in which keys are ever stored.
//! - [`Store`]: one storage handle over SQLite (embedded, the default) or PostgreSQL (for
//!   replicas), with embedded per-dialect migrations: spend logs, virtual keys
//!   ([`KeyRecord`]), users ([`UserRecord`]) and teams ([`TeamRecord`]).
//! - [`generate_key`] (`sk-` + 256 random bits) and [`KeyCache`], the per-replica cache that
//!   keeps the database off the request path; [`KeyPatch`]/[`UserPatch`]/[`TeamPatch`], the
//!   management bodies, and [`BudgetDuration`] (`30s`, `1h`, `7d`, `1mo`).
//! - [`Ledger`]: the spend-log writer. The request path only queues a [`SpendRecord`]; a
//!   background task writes batches (multi-row INSERTs in one transaction) every
//!   `proxy_batch_write_at` or as soon as a batch fills, keeps records across write failures and
//!   drains everything on shutdown. The same transaction adds each row's spend to its key's,
//!   user's and team's counters; the key cache sees the spend as soon as it is queued.
//! - [`budget`]: budget reservations (in the database, shared by replicas, or in memory);
//!   [`EndUserRecord`]/[`BudgetRecord`], LiteLLM's end users and budget objects; [`reset`]:
//!   calendar-aligned `budget_reset_at` and the lease-guarded reset job.
//! - [`RateLimiter`] (`ratelimit`): `rpm_limit`, `tpm_limit` and `max_parallel_requests` per
//!   key, user, team, end user and key+model, in memory or on Redis (one Lua script per check).

pub mod budget;
mod customers;
mod duration;
mod error;
mod keys;
mod ledger;
mod master_key;
pub mod ratelimit;
mod records;
pub mod reports;
pub mod reset;
pub mod retention;
mod schedule;
mod spend;
mod store;

pub use budget::{BudgetExceeded, BudgetLimit, BudgetScope, LocalBudgets};
pub use customers::{BudgetPatch, BudgetRecord, CustomerPatch, EndUserRecord};
pub use duration::{deadline_after, BudgetDuration};
pub use error::AuthError;
pub use keys::{abbreviate_key, generate_key, Cached, KeyCache};
pub use ledger::{Ledger, LedgerOptions};
pub use master_key::{hash_token, MasterKey};
pub use ratelimit::{
    Descriptor, LimitKind, LimitStatus, Limits, Permit, RateLimitOptions, RateLimited, RateLimiter,
    Scope,
};
pub use records::{
    check_members, KeyPatch, KeyRecord, LimitsPatch, Patch, PatchError, TeamMember, TeamPatch,
    TeamRecord, UserPatch, UserRecord, USER_ROLES,
};
pub use reports::{DailyFilter, DailyMetrics, DailyOrder, DailyQuery, DailySpendRow, Dimension};
pub use retention::Retention;
pub use spend::{SpendLogFilter, SpendLogRow, SpendRecord};
pub use store::{Dialect, KeyColumn, KeyFilter, Page, ResponseRecord, SpendOf, Store};
