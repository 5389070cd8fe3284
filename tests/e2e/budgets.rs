//! Budgets through the real binary: two proxy processes on one PostgreSQL schema share budget
//! reservations, so concurrent calls spread over both replicas cannot overshoot a key's
//! `max_budget` by more than one call. PostgreSQL is `LITELLM_TEST_POSTGRES_URL` (default
//! `postgresql://postgres@127.0.0.1:5432/test`); the test makes its own schema with `psql` and
//! drops it afterwards.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{slow_upstream, ProxyProcess};

const MASTER: &str = "sk-e2e-master-budget-01";
/// USD per token, in and out: the upstream's 5 + 2 tokens cost $0.007 a call.
const PRICE: f64 = 0.001;
const CALL_COST: f64 = 7.0 * PRICE;
const BUDGET: f64 = 0.02;

fn pg_url() -> String {
    std::env::var("LITELLM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into())
}

fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .arg(pg_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-c", sql])
        .output()
        .expect("psql must be installed for the PostgreSQL e2e tests");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh PostgreSQL schema, dropped on drop.
struct Schema(String);

impl Schema {
    fn new() -> Schema {
        let name = format!(
            "e2e_budget_{}_{}",
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

#[tokio::test]
async fn two_replicas_on_one_postgres_share_one_budget() {
    let schema = Schema::new();
    let (upstream, _events) = slow_upstream(Duration::from_millis(150)).await;
    let cfg = format!(
        "model_list:\n  - model_name: slow\n    litellm_params:\n      model: openai/slow-model\n      \
         api_base: {upstream}\n      api_key: sk-upstream\n      input_cost_per_token: {PRICE}\n      \
         output_cost_per_token: {PRICE}\ngeneral_settings:\n  master_key: {MASTER}\n  \
         database_url: \"{}\"\n  proxy_batch_write_at: 0.05\n",
        schema.url()
    );
    let a = ProxyProcess::start(&cfg, &[]).await;
    let b = ProxyProcess::start(&cfg, &[]).await;
    let client = reqwest::Client::new();
    let key: Value = client
        .post(a.url("/key/generate"))
        .bearer_auth(MASTER)
        .json(&json!({"key_alias": "shared-budget", "max_budget": BUDGET}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = key["token_id"].as_str().unwrap().to_string();
    let key = key["key"].as_str().unwrap().to_string();

    // 40 calls at once, alternating replicas.
    let mut calls = Vec::new();
    for i in 0..40 {
        let url = if i % 2 == 0 {
            a.url("/v1/chat/completions")
        } else {
            b.url("/v1/chat/completions")
        };
        let key = key.clone();
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"model": "slow", "max_tokens": 2,
                    "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }));
    }
    let mut ok = 0;
    for c in calls {
        let (status, text) = c.await.unwrap();
        match status {
            200 => ok += 1,
            422 => assert!(text.contains("Key=shared-budget"), "{text}"),
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert!(ok >= 1, "the first call fits the budget");

    // Every admitted call's spend log lands, moving its cost from `reserved` to `spend`.
    let sql = format!(
        "SELECT spend, reserved FROM {}.verification_tokens WHERE token = '{token}'",
        schema.0
    );
    let mut settled = None;
    for _ in 0..200 {
        let row = psql(&sql);
        let (spend, reserved) = row.split_once('|').unwrap();
        let (spend, reserved): (f64, f64) = (spend.parse().unwrap(), reserved.parse().unwrap());
        if reserved.abs() < 1e-9 && (spend - ok as f64 * CALL_COST).abs() < 1e-9 {
            settled = Some(spend);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let spend = settled.unwrap_or_else(|| panic!("spend never settled: {}", psql(&sql)));
    assert!(
        spend <= BUDGET + CALL_COST + 1e-9,
        "two replicas spent {spend} ({ok} calls) on a {BUDGET} budget"
    );
    // Sequential calls, alternating replicas, go on until the shared budget is used; then both
    // replicas refuse the key.
    let call = |p: &ProxyProcess| {
        client
            .post(p.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&json!({"model": "slow", "max_tokens": 2,
                "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    let mut refused = false;
    for i in 0..10 {
        let status = call(if i % 2 == 0 { &a } else { &b })
            .await
            .unwrap()
            .status();
        if status == 422 {
            refused = true;
            break;
        }
        assert_eq!(status, 200);
    }
    assert!(refused, "the budget never stopped sequential calls");
    assert_eq!(call(&a).await.unwrap().status(), 422);
    assert_eq!(call(&b).await.unwrap().status(), 422);
}
