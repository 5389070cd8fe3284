//! Rate limits through the real binary: two proxy processes sharing one PostgreSQL schema (for
//! keys) and one Redis (127.0.0.1:6379, or `LITELLM_TEST_REDIS_URL`) enforce one key
//! `rpm_limit` between them; with Redis unreachable a proxy keeps serving and enforces its
//! limits locally. PostgreSQL is `LITELLM_TEST_POSTGRES_URL` (default
//! `postgresql://postgres@127.0.0.1:5432/test`); each test makes its own schema with `psql` and
//! drops it afterwards.

use std::process::Command;

use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const MASTER: &str = "sk-e2e-master-rl-0001";

/// A one-hour window, so a run straddling a window boundary is all but impossible (and is
/// detected and repeated if it happens).
const WINDOW_SECS: u64 = 3600;

fn redis_url() -> String {
    std::env::var("LITELLM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

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
            "e2e_rl_{}_{}",
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

/// Deletes the Redis counters of one key (by hash) when dropped.
struct RedisKeys(String);

impl Drop for RedisKeys {
    fn drop(&mut self) {
        for suffix in ["window", "inflight"] {
            let _ = Command::new("redis-cli")
                .args(["-u", &redis_url(), "DEL"])
                .arg(format!(
                    "litellm_rs:ratelimit:{{api_key:{}}}:{suffix}",
                    self.0
                ))
                .output();
        }
    }
}

fn config(database_url: &str, redis: &str) -> String {
    format!(
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: mock/gpt-4o\n      \
         mock_response: \"hi there\"\ngeneral_settings:\n  master_key: {MASTER}\n  \
         database_url: \"{database_url}\"\n  proxy_batch_write_at: 0.05\nrouter_settings:\n  \
         redis_url: {redis}\n  redis_timeout: 0.5\n"
    )
}

async fn start(cfg: &str) -> ProxyProcess {
    let window = WINDOW_SECS.to_string();
    ProxyProcess::start(cfg, &[("LITELLM_RATE_LIMIT_WINDOW_SIZE", &window)]).await
}

async fn generate(p: &ProxyProcess, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(p.url("/key/generate"))
        .bearer_auth(MASTER)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn chat(p: &ProxyProcess, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

fn window_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / WINDOW_SECS
}

#[tokio::test]
async fn two_replicas_on_one_postgres_and_one_redis_enforce_one_key_rpm_limit() {
    let schema = Schema::new();
    let cfg = config(&schema.url(), &redis_url());
    let a = start(&cfg).await;
    let b = start(&cfg).await;

    let mut enforced = false;
    for attempt in 0..3 {
        let key = generate(
            &a,
            json!({"key_alias": format!("shared-{attempt}"), "rpm_limit": 3}),
        )
        .await;
        let _cleanup = RedisKeys(key["token_id"].as_str().unwrap().to_string());
        let key = key["key"].as_str().unwrap().to_string();
        let window = window_now();
        let mut responses = Vec::new();
        for p in [&a, &b, &a, &b, &a] {
            responses.push(chat(p, &key).await);
        }
        if window_now() != window {
            continue;
        }
        let codes: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            codes,
            vec![200, 200, 200, 429, 429],
            "one limit across both replicas, not one each"
        );
        assert_eq!(
            responses[2].headers()["x-ratelimit-remaining-requests"],
            "0"
        );
        let retry: u64 = responses[3].headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=WINDOW_SECS).contains(&retry), "{retry}");
        let body: Value = responses.pop().unwrap().json().await.unwrap();
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("(key_alias shared-{attempt}): rpm_limit 3")),
            "{msg}"
        );
        assert_eq!(body["error"]["type"], "rate_limit_error");
        enforced = true;
        break;
    }
    assert!(enforced, "every run crossed a window boundary");
    assert!(
        !a.stderr().contains("Redis is unavailable")
            && !b.stderr().contains("Redis is unavailable"),
        "Redis was reachable:\n{}",
        a.stderr()
    );
}

#[tokio::test]
async fn with_redis_unreachable_requests_are_served_and_limited_locally() {
    let data = crate::harness::TempDir::new();
    let db = format!("sqlite://{}", data.path().join("rl.db").display());
    let p = start(&config(&db, "redis://127.0.0.1:1")).await;
    let mut enforced = false;
    for attempt in 0..3 {
        let key = generate(
            &p,
            json!({"key_alias": format!("local-{attempt}"), "rpm_limit": 2}),
        )
        .await;
        let key = key["key"].as_str().unwrap().to_string();
        let window = window_now();
        let mut codes = Vec::new();
        for _ in 0..3 {
            codes.push(chat(&p, &key).await.status().as_u16());
        }
        if window_now() != window {
            continue;
        }
        assert_eq!(codes, vec![200, 200, 429]);
        enforced = true;
        break;
    }
    assert!(enforced, "every run crossed a window boundary");
    let stderr = p.stderr();
    assert_eq!(
        stderr
            .matches("Redis is unavailable for rate limits")
            .count(),
        1,
        "warned exactly once:\n{stderr}"
    );
}
