//! SQLite dialect: connection setup, migrations, and how times and JSON are bound and read
//! (the statements themselves are shared: `shared.rs`, `budget_sql.rs`, `reports_sql.rs`).
//!
//! Times are stored as TEXT in fixed-width RFC 3339 UTC with microseconds
//! (`2025-01-31T12:00:00.123456Z`): lexical order is time order, so the `(…, start_time)`
//! indexes serve range scans, and SQLite's date functions understand the format.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool};

use super::entity::{Binder, Reader};
use super::{corrupt, migrated, ACQUIRE_TIMEOUT};
use crate::error::AuthError;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite's bind-parameter limit (`SQLITE_MAX_VARIABLE_NUMBER`, 32766 since 3.32; sqlx bundles
/// a newer SQLite).
const MAX_BINDS: usize = 32_766;

/// Connections in the pool: one writer at a time in WAL mode, a few concurrent readers.
const POOL_SIZE: u32 = 4;

/// How often a connect that found the file locked is tried, and the pause between tries.
const BUSY_ATTEMPTS: u32 = 50;
const BUSY_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Opens (creating if missing) the database file and applies the migrations.
///
/// Several processes opening one fresh file at once (replicas, or a restart overlapping the old
/// process) race to switch it to WAL mode and to migrate it; a loser sees `SQLITE_BUSY` (which
/// `busy_timeout` does not cover there) or the other's migration. Such a connect is tried again
/// for up to five seconds.
pub(super) async fn connect(url: &str) -> Result<SqlitePool, AuthError> {
    let mut attempt = 1;
    loop {
        match connect_once(url).await {
            Err(e) if attempt < BUSY_ATTEMPTS && is_busy(&e) => {
                attempt += 1;
                tokio::time::sleep(BUSY_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// Whether an error comes from losing a race with another opener of the same file: SQLite's
/// "database is locked" / "busy", or a migration another process applied first (sqlx takes no
/// migration lock on SQLite; the losing transaction rolled back whole, so trying again is safe
/// and then finds the migration applied).
fn is_busy(e: &AuthError) -> bool {
    let msg = match e {
        AuthError::Database(m) | AuthError::Migration(m) => m,
        _ => return false,
    };
    msg.contains("database is locked")
        || msg.contains("database is busy")
        || msg.contains("(code: 5)")
        || msg.contains("UNIQUE constraint failed: _sqlx_migrations")
        // An `ALTER TABLE … ADD COLUMN` another process applied (and committed) first.
        || (matches!(e, AuthError::Migration(_)) && msg.contains("duplicate column name"))
}

async fn connect_once(url: &str) -> Result<SqlitePool, AuthError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| AuthError::Database(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut pool = SqlitePoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT);
    if in_memory {
        // An in-memory database lives only as long as one connection to it stays open.
        pool = pool
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    migrated(pool.connect_with(options), &MIGRATOR).await
}

/// Formats a time the way this dialect stores it.
fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored time.
fn parse_time(s: &str) -> Result<DateTime<Utc>, AuthError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(format!("timestamp {s:?}: {e}")))
}

super::entity::dialect_types!(Sqlite, SqlitePool, SqliteRow);

/// JSON columns are TEXT already.
const JSON_AS_TEXT: &str = "";

/// A spend log whose `request_tags` (a JSON array in TEXT) holds the bound tag.
const TAG_MATCH: (&str, &str) = (
    "EXISTS (SELECT 1 FROM json_each(spend_logs.request_tags) WHERE json_each.value = ",
    ")",
);

/// Binds values the SQLite way: times as fixed-width RFC 3339 text, JSON as text.
impl Binder for Binds<'_, '_> {
    super::entity::common_binds!();
    fn time(&mut self, v: Option<DateTime<Utc>>) {
        self.0.push_bind(v.as_ref().map(format_time));
    }
    fn json(&mut self, v: String) {
        self.0.push_bind(v);
    }
}

/// Reads a SQLite row.
impl Reader for RowReader<'_> {
    super::entity::common_reads!();
    fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>, AuthError> {
        self.text(col)?.as_deref().map(parse_time).transpose()
    }
}

super::shared::shared_sql!();
super::budget_sql::budget_sql!();
super::reports_sql::reports_sql!();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_fixed_width_and_sort_as_text() {
        let early = DateTime::parse_from_rfc3339("2025-01-31T09:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc);
        let late = DateTime::parse_from_rfc3339("2025-01-31T10:00:00.5Z")
            .expect("valid time")
            .with_timezone(&Utc);
        let (a, b) = (format_time(&early), format_time(&late));
        assert_eq!(a, "2025-01-31T09:00:00.000000Z");
        assert_eq!(a.len(), b.len());
        assert!(a < b);
        assert_eq!(parse_time(&b).expect("parses"), late);
    }
}
