//! Virtual keys end to end through the real binary on its SQLite database: a key made with the
//! master key works, is refused once over its budget, is refused when blocked, and survives a
//! restart (keys and spend counters live in the database, not in the process).

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

const MASTER: &str = "sk-e2e-master-key-0001";

fn config(db: &std::path::Path) -> String {
    format!(
        "model_list:\n  - model_name: priced\n    litellm_params:\n      model: mock/gpt-4o\n      \
         mock_response: \"hello\"\n      input_cost_per_token: 0.001\n      \
         output_cost_per_token: 0.002\ngeneral_settings:\n  master_key: {MASTER}\n  \
         database_url: sqlite://{}\n  proxy_batch_write_at: 0.05\n",
        db.display()
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
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the key's spend was never written");
}

#[tokio::test]
async fn virtual_keys_budgets_and_blocks_work_through_the_binary_and_survive_a_restart() {
    let data = TempDir::new();
    let db = data.path().join("keys.db");
    let c = reqwest::Client::new();
    let mut p = ProxyProcess::start(&config(&db), &[]).await;

    let (status, key) = post(
        &c,
        &p,
        "/key/generate",
        MASTER,
        json!({"key_alias": "e2e", "max_budget": 0.000001}),
    )
    .await;
    assert_eq!(status, 200, "{key}");
    let key = key["key"].as_str().unwrap().to_string();
    let (status, blocked) = post(&c, &p, "/key/generate", MASTER, json!({"blocked": true})).await;
    assert_eq!(status, 200);
    let blocked = blocked["key"].as_str().unwrap().to_string();

    // Non-admin keys cannot manage keys; unknown keys cannot call.
    assert_eq!(post(&c, &p, "/key/generate", &key, json!({})).await.0, 403);
    assert_eq!(chat(&c, &p, "sk-not-a-real-key").await.0, 401);
    assert_eq!(chat(&c, &p, &blocked).await.0, 401);

    let r = c
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({"model": "priced", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-litellm-key-spend").is_some());
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

    // Restart on the same database: the key, its spend and the block are all still there.
    p.sigterm();
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());
    let p = ProxyProcess::start(&config(&db), &[]).await;
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
