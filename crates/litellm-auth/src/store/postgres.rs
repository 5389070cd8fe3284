//! PostgreSQL dialect: connection setup, migrations, and how times and JSON are bound and
//! read (the statements themselves are shared: `shared.rs`, `budget_sql.rs`, `reports_sql.rs`).
//!
//! Times are TIMESTAMPTZ (microsecond precision), `metadata` and `request_tags` are JSONB
//! (bound as text and cast, read back as text), token counts are BIGINT.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row};

use super::entity::{Binder, Reader};
use super::{corrupt, migrated, ACQUIRE_TIMEOUT};
use crate::error::AuthError;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// PostgreSQL's bind-parameter limit per statement (the wire protocol's 16-bit count).
const MAX_BINDS: usize = 65_535;

/// Connections in the pool.
const POOL_SIZE: u32 = 10;

/// Connects and applies the migrations.
pub(super) async fn connect(url: &str) -> Result<PgPool, AuthError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| AuthError::Database(e.to_string()))?;
    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options);
    migrated(pool, &MIGRATOR).await
}

super::entity::dialect_types!(Postgres, PgPool, PgRow);

/// JSONB columns are read back as text.
const JSON_AS_TEXT: &str = "::text";

/// A spend log whose `request_tags` (a JSONB array) holds the bound tag.
const TAG_MATCH: (&str, &str) = (
    "spend_logs.request_tags @> jsonb_build_array(CAST(",
    " AS TEXT))",
);

/// Binds values the PostgreSQL way: times as TIMESTAMPTZ, JSON as text cast to JSONB.
impl Binder for Binds<'_, '_> {
    super::entity::common_binds!();
    fn time(&mut self, v: Option<DateTime<Utc>>) {
        self.0.push_bind(v);
    }
    fn json(&mut self, v: String) {
        self.0.push_bind(v);
        self.0.push_unseparated("::jsonb");
    }
}

/// Reads a PostgreSQL row.
impl Reader for RowReader<'_> {
    super::entity::common_reads!();
    fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>, AuthError> {
        self.0.try_get(col).map_err(corrupt)
    }
}

super::shared::shared_sql!();
super::budget_sql::budget_sql!();
super::reports_sql::reports_sql!();
