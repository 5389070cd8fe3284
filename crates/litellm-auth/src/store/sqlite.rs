//! SQLite dialect: connection setup, migrations and the spend-log SQL.
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
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::{corrupt, to_i64, to_u64, ACQUIRE_TIMEOUT, SPEND_LOG_COLUMNS, SPEND_LOG_COLUMN_COUNT};
use crate::error::AuthError;
use crate::spend::{SpendLogFilter, SpendRecord};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite's bind-parameter limit (`SQLITE_MAX_VARIABLE_NUMBER`, 32766 since 3.32; sqlx bundles
/// a newer SQLite).
const MAX_BINDS: usize = 32_766;

/// Rows per INSERT statement, so one statement stays under [`MAX_BINDS`].
const ROWS_PER_STATEMENT: usize = MAX_BINDS / SPEND_LOG_COLUMN_COUNT;

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
    let pool = pool
        .connect_with(options)
        .await
        .map_err(|e| AuthError::Database(e.to_string()))?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| AuthError::Migration(e.to_string()))?;
    Ok(pool)
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

/// Inserts `records` in one transaction; returns rows inserted (already-stored ids skipped).
pub(super) async fn insert_spend_logs(
    pool: &SqlitePool,
    records: &[SpendRecord],
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut written = 0u64;
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("INSERT INTO spend_logs ({SPEND_LOG_COLUMNS}) "));
        qb.push_values(chunk, |mut row, r| {
            row.push_bind(r.request_id.as_str())
                .push_bind(r.call_type.as_str())
                .push_bind(r.api_key_hash.as_str())
                .push_bind(r.spend)
                .push_bind(to_i64(r.prompt_tokens))
                .push_bind(to_i64(r.completion_tokens))
                .push_bind(to_i64(r.total_tokens))
                .push_bind(format_time(&r.start_time))
                .push_bind(format_time(&r.end_time))
                .push_bind(r.completion_start_time.as_ref().map(format_time))
                .push_bind(r.model.as_str())
                .push_bind(r.model_id.as_str())
                .push_bind(r.model_group.as_str())
                .push_bind(r.custom_llm_provider.as_str())
                .push_bind(r.api_base.as_str())
                .push_bind(r.user.as_deref())
                .push_bind(r.end_user.as_deref())
                .push_bind(r.team_id.as_deref())
                .push_bind(r.metadata.to_string())
                .push_bind(serde_json::Value::from(r.request_tags.clone()).to_string())
                .push_bind(r.cache_hit)
                .push_bind(r.status.as_str());
        });
        qb.push(" ON CONFLICT (request_id) DO NOTHING");
        written += qb.build().execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(usize::try_from(written).unwrap_or(usize::MAX))
}

/// Reads spend-log rows matching `filter`, newest first.
pub(super) async fn spend_logs(
    pool: &SqlitePool,
    filter: &SpendLogFilter,
) -> Result<Vec<SpendRecord>, AuthError> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {SPEND_LOG_COLUMNS} FROM spend_logs WHERE 1 = 1"
    ));
    if let Some(v) = &filter.api_key_hash {
        qb.push(" AND api_key_hash = ").push_bind(v.as_str());
    }
    if let Some(v) = &filter.model_group {
        qb.push(" AND model_group = ").push_bind(v.as_str());
    }
    if let Some(v) = &filter.request_id {
        qb.push(" AND request_id = ").push_bind(v.as_str());
    }
    qb.push(" ORDER BY start_time DESC, request_id DESC");
    if let Some(limit) = filter.limit {
        qb.push(" LIMIT ").push_bind(i64::from(limit));
    }
    let rows = qb
        .build()
        .fetch_all(pool)
        .await
        .map_err(|e| AuthError::Database(e.to_string()))?;
    rows.iter().map(decode).collect()
}

fn decode(row: &SqliteRow) -> Result<SpendRecord, AuthError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(corrupt);
    let opt_text = |name: &str| row.try_get::<Option<String>, _>(name).map_err(corrupt);
    let int = |name: &str| row.try_get::<i64, _>(name).map(to_u64).map_err(corrupt);
    Ok(SpendRecord {
        request_id: text("request_id")?,
        call_type: text("call_type")?,
        api_key_hash: text("api_key_hash")?,
        spend: row.try_get("spend").map_err(corrupt)?,
        prompt_tokens: int("prompt_tokens")?,
        completion_tokens: int("completion_tokens")?,
        total_tokens: int("total_tokens")?,
        start_time: parse_time(&text("start_time")?)?,
        end_time: parse_time(&text("end_time")?)?,
        completion_start_time: opt_text("completion_start_time")?
            .as_deref()
            .map(parse_time)
            .transpose()?,
        model: text("model")?,
        model_id: text("model_id")?,
        model_group: text("model_group")?,
        custom_llm_provider: text("custom_llm_provider")?,
        api_base: text("api_base")?,
        user: opt_text("user")?,
        end_user: opt_text("end_user")?,
        team_id: opt_text("team_id")?,
        metadata: serde_json::from_str(&text("metadata")?).map_err(corrupt)?,
        request_tags: serde_json::from_str(&text("request_tags")?).map_err(corrupt)?,
        cache_hit: row.try_get("cache_hit").map_err(corrupt)?,
        status: text("status")?,
    })
}

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
