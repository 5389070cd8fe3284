//! Shared harness for the auth tests: each test body runs against a fresh SQLite file and a
//! fresh PostgreSQL schema (in `LITELLM_TEST_POSTGRES_URL`, default
//! `postgresql://postgres@127.0.0.1:5432/test`), removed afterwards. PostgreSQL being
//! unreachable fails the tests; they never skip.
#![allow(dead_code, clippy::unwrap_used)] // Not every test file uses every helper.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use sqlx::Connection;

use litellm_auth::{Dialect, Ledger, LedgerOptions, SpendRecord, Store};

pub const DEFAULT_PG_URL: &str = "postgresql://postgres@127.0.0.1:5432/test";

/// An upper bound for a whole test body, so a deadlock fails instead of hanging CI.
pub const TEST_DEADLINE: Duration = Duration::from_secs(120);

/// A long flush interval: with it, only `flush`, a full batch or `shutdown` write anything.
pub const NEVER: Duration = Duration::from_secs(3600);

pub fn pg_base_url() -> String {
    std::env::var("LITELLM_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// Now, at the microseconds stored times keep (so a read-back compares equal).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A successful `acompletion` spend log by `key` (its hash) at `when`, of no tokens and empty
/// metadata; tests fill in the rest with struct-update syntax.
pub fn spend_log(id: &str, when: DateTime<Utc>, key: &str, spend: f64) -> SpendRecord {
    SpendRecord {
        request_id: id.to_string(),
        call_type: "acompletion".to_string(),
        api_key_hash: key.to_string(),
        spend,
        start_time: when,
        end_time: when,
        metadata: json!({}),
        status: "success".to_string(),
        ..SpendRecord::default()
    }
}

/// A [`spend_log`] of 10 prompt and 5 completion tokens.
pub fn spend_call(id: &str, when: DateTime<Utc>, key: &str, spend: f64) -> SpendRecord {
    SpendRecord {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        ..spend_log(id, when, key, spend)
    }
}

/// Inserts `all[..split]`, then retries the last of them (changed by `change`) in one batch
/// with the rest, `all[split..]`. Returns how many rows the retried batch inserted.
pub async fn insert_with_a_retry(
    store: &Store,
    all: &[SpendRecord],
    split: usize,
    change: impl FnOnce(&mut SpendRecord),
) -> usize {
    store.insert_spend_logs(&all[..split]).await.unwrap();
    let mut retry = vec![all[split - 1].clone()];
    change(&mut retry[0]);
    retry.extend_from_slice(&all[split..]);
    store.insert_spend_logs(&retry).await.unwrap()
}

/// One test's private database: a SQLite file or a PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub dialect: Dialect,
    pub url: String,
}

impl TestDb {
    /// A store on this database (migrations applied).
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .expect("store connects to the test database")
    }

    pub async fn ledger(&self, opts: LedgerOptions) -> Ledger {
        Ledger::connect(&self.url, opts)
            .await
            .expect("ledger connects to the test database")
    }

    /// Runs SQL on a connection of its own, outside any ledger's pool.
    pub async fn exec(&self, sql: &str) {
        /// Runs `sql` on a pool of type `$pool` of its own, then closes it.
        macro_rules! on_own_pool {
            ($pool:ty) => {{
                let pool = <$pool>::connect(&self.url)
                    .await
                    .unwrap_or_else(|e| panic!("{} admin connection: {e}", self.dialect.as_str()));
                sqlx::raw_sql(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }};
        }
        match self.dialect {
            Dialect::Sqlite => on_own_pool!(sqlx::SqlitePool),
            Dialect::Postgres => on_own_pool!(sqlx::PgPool),
        }
    }
}

/// Runs `body` against a fresh database of `dialect` and removes the database afterwards,
/// whether the body passed or panicked.
pub async fn with_db<F, Fut>(dialect: Dialect, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let id = uuid::Uuid::new_v4().simple().to_string();
    let outcome = match dialect {
        Dialect::Sqlite => {
            let dir = std::env::temp_dir().join(format!("litellm-auth-test-{id}"));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            let url = format!("sqlite://{}", dir.join("ledger.db").display());
            let outcome = run_body(body(TestDb { dialect, url })).await;
            let _ = std::fs::remove_dir_all(&dir);
            outcome
        }
        Dialect::Postgres => {
            let base = pg_base_url();
            let mut admin = sqlx::PgConnection::connect(&base)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL (LITELLM_TEST_POSTGRES_URL) is unreachable; these tests never \
                     skip: {e}"
                    )
                });
            let schema = format!("t_{id}");
            sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut admin)
                .await
                .expect("create test schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options[search_path]={schema}");
            let outcome = run_body(body(TestDb { dialect, url })).await;
            sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut admin)
                .await
                .expect("drop test schema");
            outcome
        }
    };
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs a test body on its own task so a panic can be caught, cleaned up after and re-raised.
pub async fn run_body(
    fut: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    match tokio::time::timeout(TEST_DEADLINE, tokio::spawn(fut)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(join)) if join.is_panic() => Err(join.into_panic()),
        Ok(Err(join)) => Err(Box::new(format!("test task failed: {join}"))),
        Err(_) => Err(Box::new("test body exceeded its deadline".to_string())),
    }
}

/// Defines each test once and runs it for both dialects (`<name>::sqlite`, `<name>::postgres`).
macro_rules! both_dialects {
    ($( $(#[$meta:meta])* async fn $name:ident($db:ident) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                with_db(Dialect::Sqlite, |$db: TestDb| async move $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                with_db(Dialect::Postgres, |$db: TestDb| async move $body).await
            }
        }
    )*};
}
