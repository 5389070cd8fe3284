//! Budgets through the in-process proxy: 200 concurrent calls against a $0.01 key budget spend
//! at most $0.01 plus one call (on SQLite with in-memory reservations, on SQLite with database
//! reservations, and on PostgreSQL — a fresh schema per test via `psql`), end users
//! (`/customer/*`: blocked, budgets, rate limits via their budget, spend counters), `/budget/*`,
//! and the global `litellm_settings.max_budget`.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use common::{bearer, Proxy, Resp};

use litellm_test_support::{FakeOpenAi, Scripted};

const MASTER: &str = "sk-master-budgets";
/// $0.0001 a token in and out.
const PRICE: f64 = 0.0001;
/// What the fake upstream reports for every call: 5 prompt and 10 completion tokens.
const CALL_COST: f64 = 15.0 * PRICE;

fn pg_url() -> String {
    std::env::var("LITELLM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into())
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(pg_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql must be installed for the PostgreSQL tests");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where a test's database lives; removed on drop.
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Db {
    fn sqlite() -> Db {
        let dir = std::env::temp_dir().join(format!("litellm-rs-budgets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Db::Sqlite(dir)
    }

    fn postgres() -> Db {
        let schema = format!("srv_budget_{}", uuid::Uuid::new_v4().simple());
        psql(&format!("CREATE SCHEMA {schema}"));
        Db::Postgres(schema)
    }

    fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite://{}", dir.join("spend.db").display()),
            Db::Postgres(schema) => {
                let base = pg_url();
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}options[search_path]={schema}")
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match self {
            Db::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Db::Postgres(schema) => {
                let _ = Command::new("psql")
                    .arg(pg_url())
                    .args([
                        "-q",
                        "-c",
                        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                    ])
                    .output();
            }
        }
    }
}

async fn proxy(db: Db, fake: &FakeOpenAi, extra_general: &str, extra_litellm: &str) -> Proxy {
    let yaml = format!(
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      \
         api_base: {}\n      api_key: sk-fake\n      input_cost_per_token: {PRICE}\n      \
         output_cost_per_token: {PRICE}\ngeneral_settings:\n  master_key: {MASTER}\n{extra_general}\
         litellm_settings:\n  num_retries: 0\n{extra_litellm}",
        fake.base_url()
    );
    let url = db.url();
    Proxy::on_db(&yaml, &url, Duration::from_millis(20), db).await
}

impl Proxy {
    /// POSTs `body` to `path` with the master key; asserts the answer is 200 and returns it.
    async fn admin(&self, path: &str, body: Value) -> Value {
        self.admin_expect(path, body, StatusCode::OK).await.json()
    }

    /// POSTs `body` to `path` with the master key; asserts the answer's status is `status`.
    async fn admin_expect(&self, path: &str, body: Value, status: StatusCode) -> Resp {
        let r = self.post_as(MASTER, path, body).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        r
    }

    async fn chat_with(&self, key: &str, extra: Value, headers: &[(&str, &str)]) -> Resp {
        let mut body = json!({"model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let auth = bearer(key);
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.post_raw("/v1/chat/completions", body.to_string().into_bytes(), &all)
            .await
    }

    /// Waits until every queued spend record is written; their total spend.
    async fn total_logged(&self, n: usize) -> f64 {
        let rows = self.flushed_spend_logs(n).await;
        rows.iter().map(|r| r.spend).sum()
    }
}

async fn slow_fake() -> FakeOpenAi {
    let fake = FakeOpenAi::start().await;
    fake.set_recording(false);
    fake.set_default(Scripted::reply_with_usage("ok", 5, 10).delayed(Duration::from_millis(30)));
    fake
}

/// Fires 200 calls at once at a key with a $0.01 budget.
async fn two_hundred_concurrent_calls_cannot_overshoot(db: Db, extra_general: &str) {
    let fake = slow_fake().await;
    let on_postgres = matches!(db, Db::Postgres(_));
    let p = std::sync::Arc::new(proxy(db, &fake, extra_general, "").await);
    let key = p
        .new_key_as(MASTER, json!({"key_alias": "tight", "max_budget": 0.01}))
        .await;
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let p = p.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let r = p.chat_with(&key, json!({}), &[]).await;
            (r.status, r.text)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (status, text) = t.await.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(text.contains("budget_exceeded"), "{text}");
                assert!(text.contains("Key=tight"), "{text}");
            }
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert!(ok >= 1, "the first call fits the budget");
    let spent = p.total_logged(ok).await;
    assert!(
        (spent - ok as f64 * CALL_COST).abs() < 1e-9,
        "{spent} for {ok} calls"
    );
    assert!(
        spent <= 0.01 + CALL_COST + 1e-9,
        "spent {spent} on a $0.01 budget ({ok} calls admitted)"
    );
    // Sequentially, calls go on while spend is below the budget, then stop.
    let mut sequential = 0;
    loop {
        let r = p.chat_with(&key, json!({}), &[]).await;
        if r.status == StatusCode::UNPROCESSABLE_ENTITY {
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        sequential += 1;
        assert!(sequential < 10, "the budget never stopped sequential calls");
        p.total_logged(ok + sequential).await;
    }
    let spent = p.total_logged(ok + sequential).await;
    assert!(
        spent >= 0.01 - 1e-9,
        "stopped at {spent}: reservations were not released"
    );
    assert!(spent <= 0.01 + CALL_COST + 1e-9, "{spent}");
    // Every reservation was settled or released (a release runs in the background after the
    // answer, so it may land a moment later).
    let store = p.state.ledger.as_ref().unwrap().store();
    let token = litellm_auth::hash_token(&key);
    let usage = || store.budget_usage(litellm_auth::BudgetScope::Key, &token);
    let (mut spend, mut reserved) = usage().await.unwrap().unwrap();
    let releases = extra_general.contains("database") || on_postgres;
    for _ in 0..200 {
        if !releases || reserved.abs() < 1e-9 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        (spend, reserved) = usage().await.unwrap().unwrap();
    }
    assert!((spend - spent).abs() < 1e-9, "{spend} vs {spent}");
    if releases {
        assert!(reserved.abs() < 1e-9, "left reserved: {reserved}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_on_sqlite_memory_reservations_cannot_overshoot() {
    two_hundred_concurrent_calls_cannot_overshoot(Db::sqlite(), "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_on_sqlite_database_reservations_cannot_overshoot() {
    two_hundred_concurrent_calls_cannot_overshoot(
        Db::sqlite(),
        "  budget_reservations: database\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_on_postgres_cannot_overshoot() {
    two_hundred_concurrent_calls_cannot_overshoot(Db::postgres(), "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_users_are_blocked_budgeted_limited_and_counted() {
    let fake = slow_fake().await;
    let p = proxy(Db::sqlite(), &fake, "", "").await;
    let key = p.new_key_as(MASTER, json!({})).await;

    // A customer with its own budget ($0.002: room for one call) and 1 request a minute.
    let c = p
        .admin(
            "/customer/new",
            json!({"user_id": "acme", "alias": "Acme", "max_budget": 0.002, "rpm_limit": 5,
                   "allowed_model_region": "eu"}),
        )
        .await;
    assert_eq!(c["user_id"], "acme");
    assert_eq!(c["budget_id"], "budget-acme");
    assert_eq!(c["litellm_budget_table"]["max_budget"], 0.002);
    assert_eq!(c["allowed_model_region"], "eu");
    p.admin_expect(
        "/customer/new",
        json!({"user_id": "acme"}),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // First call admitted (spend 0 < 0.002), by the body's `user`.
    let r = p.chat_with(&key, json!({"user": "acme"}), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.total_logged(1).await;
    // Now spend 0.0015 < 0.002: one more, named by the header this time.
    let r = p
        .chat_with(&key, json!({}), &[("x-litellm-end-user-id", "acme")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.total_logged(2).await;
    let r = p.chat_with(&key, json!({"user": "acme"}), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("End User=acme"), "{}", r.text);
    let info = p
        .get_as(MASTER, "/customer/info?end_user_id=acme")
        .await
        .json();
    assert!(
        (info["spend"].as_f64().unwrap() - 2.0 * CALL_COST).abs() < 1e-9,
        "{info}"
    );

    // Raising the budget lets it through again; the rpm limit from the budget applies.
    p.admin(
        "/customer/update",
        json!({"user_id": "acme", "max_budget": 1.0, "rpm_limit": 3}),
    )
    .await;
    let r = p.chat_with(&key, json!({"user": "acme"}), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = p.chat_with(&key, json!({"user": "acme"}), &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.text.contains("end user acme"), "{}", r.text);

    // Blocked: 400, whoever's key; unblocked: served again (other end users unaffected).
    p.admin("/customer/block", json!({"user_ids": ["acme", "newco"]}))
        .await;
    let r = p.chat_with(&key, json!({"user": "acme"}), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.text
            .contains("User blocked from making LLM API Calls. User=acme"),
        "{}",
        r.text
    );
    let r = p.chat_with(&key, json!({"user": "newco"}), &[]).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "block creates unknown end users blocked"
    );
    let r = p
        .chat_with(&key, json!({"user": "someone-else"}), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.admin("/customer/unblock", json!({"user_ids": ["newco"]}))
        .await;
    let r = p.chat_with(&key, json!({"user": "newco"}), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Unknown end users get a row from their spend (LiteLLM's upsert).
    p.total_logged(5).await;
    let list = p.get_as(MASTER, "/customer/list").await.json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["user_id"].as_str())
        .collect();
    assert!(
        ids.contains(&"someone-else") && ids.contains(&"acme"),
        "{ids:?}"
    );
    let gone = p
        .admin("/customer/delete", json!({"user_ids": ["newco"]}))
        .await;
    assert_eq!(gone["deleted_customers"], json!(["newco"]));
    let r = p.get_as(MASTER, "/customer/info?end_user_id=newco").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    p.admin_expect(
        "/customer/new",
        json!({"user_id": "x", "max_budget": -1}),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_objects_are_managed_and_referenced_by_customers() {
    let fake = slow_fake().await;
    let p = proxy(Db::postgres(), &fake, "", "").await;
    let b = p
        .admin(
            "/budget/new",
            json!({"budget_id": "tiny", "max_budget": 0.0, "rpm_limit": 100, "budget_duration": "1d"}),
        )
        .await;
    assert_eq!(b["budget_id"], "tiny");
    assert!(
        b["budget_reset_at"].as_str().unwrap().contains("T00:00:00"),
        "{b}"
    );
    p.admin_expect(
        "/customer/new",
        json!({"user_id": "c1", "budget_id": "nope"}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    p.admin(
        "/customer/new",
        json!({"user_id": "c1", "budget_id": "tiny"}),
    )
    .await;
    let key = p.new_key_as(MASTER, json!({})).await;
    let r = p.chat_with(&key, json!({"user": "c1"}), &[]).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a $0 budget: {}",
        r.text
    );
    p.admin(
        "/budget/update",
        json!({"budget_id": "tiny", "max_budget": 5}),
    )
    .await;
    let r = p.chat_with(&key, json!({"user": "c1"}), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let info = p
        .admin("/budget/info", json!({"budgets": ["tiny", "nope"]}))
        .await;
    assert_eq!(info.as_array().unwrap().len(), 1);
    assert_eq!(info[0]["max_budget"], 5.0);
    let list = p.get_as(MASTER, "/budget/list").await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let del = p.admin("/budget/delete", json!({"id": "tiny"})).await;
    assert_eq!(del["deleted_budgets"], json!(["tiny"]));
    p.admin_expect(
        "/budget/delete",
        json!({"id": "tiny"}),
        StatusCode::NOT_FOUND,
    )
    .await;
    p.admin_expect(
        "/budget/new",
        json!({"budget_duration": "1x"}),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_max_budget_stops_every_key() {
    let fake = slow_fake().await;
    let p = proxy(Db::sqlite(), &fake, "", "  max_budget: 0.002\n").await;
    let a = p.new_key_as(MASTER, json!({})).await;
    let b = p.new_key_as(MASTER, json!({})).await;
    assert_eq!(p.chat_with(&a, json!({}), &[]).await.status, StatusCode::OK);
    p.total_logged(1).await;
    assert_eq!(p.chat_with(&b, json!({}), &[]).await.status, StatusCode::OK);
    p.total_logged(2).await;
    let r = p.chat_with(&a, json!({}), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("Global Proxy"), "{}", r.text);
}
