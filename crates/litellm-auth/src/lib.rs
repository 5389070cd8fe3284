//! litellm-auth (L3): request credentials and the spend ledger.
//!
//! - [`MasterKey`] and [`hash_token`]: the proxy's master key, checked in constant time, and
//!   LiteLLM's `hash_token` (SHA-256 hex), the only form in which keys are ever stored.
//! - [`Store`]: one storage handle over SQLite (embedded, the default) or PostgreSQL (for
//!   replicas), with embedded per-dialect migrations. Later auth tables (virtual keys, users,
//!   teams, budgets) grow on this same handle.
//! - [`Ledger`]: the spend-log writer. The request path only queues a [`SpendRecord`]; a
//!   background task writes batches (multi-row INSERTs in one transaction) every
//!   `proxy_batch_write_at` or as soon as a batch fills, keeps records across write failures and
//!   drains everything on shutdown.

mod error;
mod ledger;
mod master_key;
mod spend;
mod store;

pub use error::AuthError;
pub use ledger::{Ledger, LedgerOptions};
pub use master_key::{hash_token, MasterKey};
pub use spend::{SpendLogFilter, SpendLogRow, SpendRecord};
pub use store::{Dialect, Store};
