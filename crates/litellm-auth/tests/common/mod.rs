//! Shared harness for the auth tests: each test body runs against a fresh SQLite file and a
//! fresh PostgreSQL schema (in `LITELLM_TEST_POSTGRES_URL`, default
//! `postgresql://postgres@127.0.0.1:5432/test`), removed afterwards. PostgreSQL being
//! unreachable fails the tests; they never skip.
#![allow(dead_code, clippy::unwrap_used)] // Not every test file uses every helper.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
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

/// A successful `acompletion` spend log by `key` at `when`, of 10 prompt and 5 completion
/// tokens and empty metadata; tests fill in the rest with struct-update syntax.
pub fn spend_call(id: &str, when: DateTime<Utc>, key: &str, spend: f64) -> SpendRecord {
    SpendRecord {
        request_id: id.to_string(),
        call_type: "acompletion".to_string(),
        api_key_hash: key.to_string(),
        spend,
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        start_time: when,
        end_time: when,
        metadata: json!({}),
        status: "success".to_string(),
        ..SpendRecord::default()
    }
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
        match self.dialect {
            Dialect::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url)
                    .await
                    .expect("sqlite admin connection");
                sqlx::raw_sql(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
            Dialect::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url)
                    .await
                    .expect("postgres admin connection");
                sqlx::raw_sql(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
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
