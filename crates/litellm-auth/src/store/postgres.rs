//! PostgreSQL dialect: connection setup, migrations and the spend-log SQL.
//!
//! Times are TIMESTAMPTZ (microsecond precision), `metadata` and `request_tags` are JSONB
//! (bound as text and cast, read back as text), token counts are BIGINT.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::{corrupt, to_i64, to_u64, ACQUIRE_TIMEOUT, SPEND_LOG_COLUMNS, SPEND_LOG_COLUMN_COUNT};
use crate::error::AuthError;
use crate::spend::{SpendLogFilter, SpendRecord};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// PostgreSQL's bind-parameter limit per statement (the wire protocol's 16-bit count).
const MAX_BINDS: usize = 65_535;

/// Rows per INSERT statement, so one statement stays under [`MAX_BINDS`].
const ROWS_PER_STATEMENT: usize = MAX_BINDS / SPEND_LOG_COLUMN_COUNT;

/// Connections in the pool.
const POOL_SIZE: u32 = 10;

/// Connects and applies the migrations.
pub(super) async fn connect(url: &str) -> Result<PgPool, AuthError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| AuthError::Database(e.to_string()))?;
    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| AuthError::Database(e.to_string()))?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| AuthError::Migration(e.to_string()))?;
    Ok(pool)
}

/// Inserts `records` in one transaction; returns rows inserted (already-stored ids skipped).
pub(super) async fn insert_spend_logs(
    pool: &PgPool,
    records: &[SpendRecord],
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut written = 0u64;
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("INSERT INTO spend_logs ({SPEND_LOG_COLUMNS}) "));
        qb.push_values(chunk, |mut row, r| {
            row.push_bind(r.request_id.as_str())
                .push_bind(r.call_type.as_str())
                .push_bind(r.api_key_hash.as_str())
                .push_bind(r.spend)
                .push_bind(to_i64(r.prompt_tokens))
                .push_bind(to_i64(r.completion_tokens))
                .push_bind(to_i64(r.total_tokens))
                .push_bind(r.start_time)
                .push_bind(r.end_time)
                .push_bind(r.completion_start_time)
                .push_bind(r.model.as_str())
                .push_bind(r.model_id.as_str())
                .push_bind(r.model_group.as_str())
                .push_bind(r.custom_llm_provider.as_str())
                .push_bind(r.api_base.as_str())
                .push_bind(r.user.as_deref())
                .push_bind(r.end_user.as_deref())
                .push_bind(r.team_id.as_deref())
                .push_bind(r.metadata.to_string())
                .push_unseparated("::jsonb")
                .push_bind(serde_json::Value::from(r.request_tags.clone()).to_string())
                .push_unseparated("::jsonb")
                .push_bind(r.cache_hit)
                .push_bind(r.status.as_str());
        });
        qb.push(" ON CONFLICT (request_id) DO NOTHING");
        written += qb.build().execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(usize::try_from(written).unwrap_or(usize::MAX))
}

/// The select list: the insert columns, with the JSONB ones read back as text.
const SELECT_COLUMNS: &str = "request_id, call_type, api_key_hash, spend, prompt_tokens, \
     completion_tokens, total_tokens, start_time, end_time, completion_start_time, model, \
     model_id, model_group, custom_llm_provider, api_base, \"user\", end_user, team_id, \
     metadata::text AS metadata, request_tags::text AS request_tags, cache_hit, status";

/// Reads spend-log rows matching `filter`, newest first.
pub(super) async fn spend_logs(
    pool: &PgPool,
    filter: &SpendLogFilter,
) -> Result<Vec<SpendRecord>, AuthError> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {SELECT_COLUMNS} FROM spend_logs WHERE TRUE"
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

fn decode(row: &PgRow) -> Result<SpendRecord, AuthError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(corrupt);
    let opt_text = |name: &str| row.try_get::<Option<String>, _>(name).map_err(corrupt);
    let int = |name: &str| row.try_get::<i64, _>(name).map(to_u64).map_err(corrupt);
    let time = |name: &str| row.try_get::<DateTime<Utc>, _>(name).map_err(corrupt);
    Ok(SpendRecord {
        request_id: text("request_id")?,
        call_type: text("call_type")?,
        api_key_hash: text("api_key_hash")?,
        spend: row.try_get("spend").map_err(corrupt)?,
        prompt_tokens: int("prompt_tokens")?,
        completion_tokens: int("completion_tokens")?,
        total_tokens: int("total_tokens")?,
        start_time: time("start_time")?,
        end_time: time("end_time")?,
        completion_start_time: row.try_get("completion_start_time").map_err(corrupt)?,
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
