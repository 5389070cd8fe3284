//! Keys across replicas and on PostgreSQL, through the real binary. Each test gets its own
//! PostgreSQL schema (`LITELLM_TEST_POSTGRES_URL`, default
//! `postgresql://postgres@127.0.0.1:5432/test`, made and dropped with `psql`).
//!
//! - The key and budget checks of `keys.rs` (there on SQLite) on PostgreSQL: a key made with
//!   the master key works, is refused over its budget and when blocked, and all of it survives
//!   a restart.
//! - Two replicas on one database: a key created on A works on B, and a key blocked or deleted
//!   on A stops working on B within `general_settings.user_api_key_cache_ttl` (1 s here; the
//!   bound on cross-replica invalidation).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const MASTER: &str = "sk-e2e-master-replica-01";

fn pg_url() -> String {
    std::env::var("LITELLM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into())
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(pg_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql must be installed for the PostgreSQL e2e tests");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh PostgreSQL schema, dropped on drop.
struct Schema(String);

impl Schema {
    fn new() -> Schema {
        let name = format!(
            "e2e_rep_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        psql(&format!("CREATE SCHEMA {name}"));
        Schema(name)
    }

    fn url(&self) -> String {
        let base = pg_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options[search_path]={}", self.0)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(pg_url())
            .args([
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0),
            ])
            .output();
    }
}

fn config(db_url: &str, cache_ttl: Option<f64>) -> String {
    let ttl = cache_ttl
        .map(|t| format!("  user_api_key_cache_ttl: {t}\n"))
        .unwrap_or_default();
    format!(
        "model_list:\n  - model_name: priced\n    litellm_params:\n      model: mock/gpt-4o\n      \
         mock_response: \"hello\"\n      input_cost_per_token: 0.001\n      \
         output_cost_per_token: 0.002\ngeneral_settings:\n  master_key: {MASTER}\n  \
         database_url: \"{db_url}\"\n  proxy_batch_write_at: 0.05\n{ttl}"
    )
}

async fn post(
    c: &reqwest::Client,
    p: &ProxyProcess,
    path: &str,
    key: &str,
    body: Value,
) -> (u16, Value) {
    let r = c
        .post(p.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn chat(c: &reqwest::Client, p: &ProxyProcess, key: &str) -> (u16, Value) {
    post(
        c,
        p,
        "/v1/chat/completions",
        key,
        json!({"model": "priced", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
}

async fn new_key(c: &reqwest::Client, p: &ProxyProcess, body: Value) -> String {
    let (status, key) = post(c, p, "/key/generate", MASTER, body).await;
    assert_eq!(status, 200, "{key}");
    key["key"].as_str().unwrap().to_string()
}

/// Polls `/key/info` until the stored spend is positive (the batch writer runs every 50 ms).
async fn stored_spend(c: &reqwest::Client, p: &ProxyProcess, key: &str) -> f64 {
    for _ in 0..200 {
        let info: Value = c
            .get(p.url(&format!("/key/info?key={key}")))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let spend = info["info"]["spend"].as_f64().unwrap_or(0.0);
        if spend > 0.0 {
            return spend;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the key's spend was never written");
}

#[tokio::test]
async fn virtual_keys_budgets_and_blocks_work_on_postgres_and_survive_a_restart() {
    let schema = Schema::new();
    let cfg = config(&schema.url(), None);
    let c = reqwest::Client::new();
    let mut p = ProxyProcess::start(&cfg, &[]).await;

    let key = new_key(
        &c,
        &p,
        json!({"key_alias": "e2e-pg", "max_budget": 0.000001}),
    )
    .await;
    let blocked = new_key(&c, &p, json!({"blocked": true})).await;

    assert_eq!(post(&c, &p, "/key/generate", &key, json!({})).await.0, 403);
    assert_eq!(chat(&c, &p, "sk-not-a-real-key").await.0, 401);
    assert_eq!(chat(&c, &p, &blocked).await.0, 401);

    let (status, body) = chat(&c, &p, &key).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = chat(&c, &p, &key).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["type"], "budget_exceeded");
    let spend = stored_spend(&c, &p, &key).await;

    let logs: Value = c
        .get(p.url(&format!("/spend/logs?api_key={key}")))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");
    assert_eq!(logs[0]["spend"].as_f64().unwrap(), spend);
    let g: Value = c
        .get(p.url("/global/spend"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        g["spend"].as_f64().unwrap(),
        spend,
        "reports read PostgreSQL too"
    );

    p.sigterm();
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());
    let p = ProxyProcess::start(&cfg, &[]).await;
    assert_eq!(chat(&c, &p, &blocked).await.0, 401);
    assert_eq!(
        chat(&c, &p, &key).await.0,
        422,
        "still over budget after a restart"
    );
    let (status, _) = post(
        &c,
        &p,
        "/key/update",
        MASTER,
        json!({"key": key, "max_budget": 10.0}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(chat(&c, &p, &key).await.0, 200);
    assert!(!p.stderr().contains(&key), "the key is never logged");
}

/// Calls `key` on `p` until it is refused with 401, giving up after `limit`; returns the
/// refusal body.
async fn refused_within(
    c: &reqwest::Client,
    p: &ProxyProcess,
    key: &str,
    limit: Duration,
) -> Value {
    let start = Instant::now();
    loop {
        let (status, body) = chat(c, p, key).await;
        if status == 401 {
            return body;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            start.elapsed() < limit,
            "replica B still accepts the key {limit:?} after A changed it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn keys_made_blocked_and_deleted_on_one_replica_hold_on_the_other() {
    let schema = Schema::new();
    // A 1 s key cache: B sees A's changes within a second (plus a request's latency).
    let cfg = config(&schema.url(), Some(1.0));
    let c = reqwest::Client::new();
    let a = ProxyProcess::start(&cfg, &[]).await;
    let b = ProxyProcess::start(&cfg, &[]).await;

    // Made on A, works on B at once (a cache miss reads the database).
    let key = new_key(&c, &a, json!({"key_alias": "shared"})).await;
    let doomed = new_key(&c, &a, json!({})).await;
    assert_eq!(chat(&c, &b, &key).await.0, 200);
    assert_eq!(chat(&c, &b, &doomed).await.0, 200, "B now caches both keys");

    // Blocked on A: A refuses at once, B once its cache entry expires.
    let (status, body) = post(&c, &a, "/key/block", MASTER, json!({"key": key})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(chat(&c, &a, &key).await.0, 401);
    // The bound is the TTL; the limit leaves room for a slow machine, not a performance claim.
    let body = refused_within(&c, &b, &key, Duration::from_secs(10)).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("blocked"),
        "{body}"
    );

    // Unblocked on A: B accepts it again after its cache entry expires.
    let (status, _) = post(&c, &a, "/key/unblock", MASTER, json!({"key": key})).await;
    assert_eq!(status, 200);
    let start = Instant::now();
    while chat(&c, &b, &key).await.0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "B never saw the unblock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Deleted on A: gone on B within the TTL too.
    let (status, body) = post(&c, &a, "/key/delete", MASTER, json!({"keys": [doomed]})).await;
    assert_eq!(status, 200, "{body}");
    refused_within(&c, &b, &doomed, Duration::from_secs(10)).await;
    assert_eq!(chat(&c, &a, &doomed).await.0, 401);

    // A key made on B works on A as well.
    let from_b = new_key(&c, &b, json!({})).await;
    assert_eq!(chat(&c, &a, &from_b).await.0, 200);
}
