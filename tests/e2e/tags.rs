//! Request tags end to end through the real binary on its SQLite database, with a `FakeOpenAi`
//! upstream: tags from the body, the `x-litellm-tags` header, the key and its team are written
//! to the spend logs and the daily tag aggregates by the background batch writer, read back
//! through `/tag/list`, `/tag/daily/activity` and `/spend/logs?tags=`, and never sent upstream.

use std::collections::BTreeSet;
use std::time::Duration;

use litellm_test_support::FakeOpenAi;
use serde_json::{json, Value};

use crate::harness::*;

const MASTER: &str = "sk-e2e-master-tags-0001";

fn config(upstream: &str, db: &std::path::Path) -> String {
    format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      \
         api_base: {upstream}\n      api_key: sk-upstream\n      input_cost_per_token: 0.001\n      \
         output_cost_per_token: 0.002\ngeneral_settings:\n  master_key: {MASTER}\n  \
         database_url: sqlite://{}\n  proxy_batch_write_at: 0.05\n",
        db.display()
    )
}

async fn get(c: &reqwest::Client, p: &ProxyProcess, path: &str) -> Value {
    let r = c.get(p.url(path)).bearer_auth(MASTER).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

fn names(v: &Value, field: &str) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t[field].as_str().unwrap().to_string())
        .collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn tags_reach_the_spend_logs_and_tag_reports_but_not_the_upstream() {
    let fake = FakeOpenAi::start().await;
    let dir = TempDir::new();
    let p = ProxyProcess::start(&config(&fake.base_url(), &dir.path().join("tags.db")), &[]).await;
    let c = reqwest::Client::new();
    let admin_post = |path: &'static str, body: Value| {
        let c = c.clone();
        let url = p.url(path);
        async move {
            let r = c
                .post(url)
                .bearer_auth(MASTER)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    admin_post(
        "/team/new",
        json!({"team_id": "search", "tags": ["team:search"]}),
    )
    .await;
    let key = admin_post(
        "/key/generate",
        json!({"team_id": "search", "tags": ["app:bot"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_string();

    let r = c
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .header("x-litellm-tags", "env:prod, job:42")
        .json(
            &json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}],
                      "metadata": {"tags": ["feature:chat"]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let chat_id = r.headers()["x-litellm-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    let chat_cost: f64 = r.headers()["x-litellm-response-cost"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let r = c
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(
            &json!({"model": "gpt", "stream": true, "tags": ["feature:stream"],
                      "messages": [{"role": "user", "content": "stream"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stream_id = r.headers()["x-litellm-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    r.text().await.unwrap();

    // The batch writer runs every 50 ms: wait for both calls under the key's tag.
    let mut list = Value::Null;
    for _ in 0..200 {
        list = get(&c, &p, "/tag/list").await;
        let requests = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "app:bot")
            .map_or(0, |t| t["api_requests"].as_i64().unwrap());
        if requests == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        names(&list, "name"),
        strings(&[
            "feature:chat",
            "env:prod",
            "job:42",
            "app:bot",
            "team:search",
            "feature:stream"
        ]),
        "{list}"
    );

    let logs = get(&c, &p, "/spend/logs?tags=job:42").await;
    assert_eq!(names(&logs, "request_id"), strings(&[&chat_id]));
    assert_eq!(
        logs[0]["request_tags"],
        json!([
            "feature:chat",
            "env:prod",
            "job:42",
            "app:bot",
            "team:search"
        ])
    );
    let logs = get(&c, &p, "/spend/logs?tags=feature:stream").await;
    assert_eq!(names(&logs, "request_id"), strings(&[&stream_id]));

    // The UTC day the call was recorded on (its start time, RFC 3339).
    let today = logs[0]["startTime"].as_str().unwrap()[..10].to_string();
    let act = get(
        &c,
        &p,
        &format!("/tag/daily/activity?start_date={today}&end_date={today}&tags=env:prod"),
    )
    .await;
    let spend = act["metadata"]["total_spend"].as_f64().unwrap();
    assert!((spend - chat_cost).abs() < 1e-9, "{act}");
    assert!(
        act["results"][0]["breakdown"]["entities"]["env:prod"].is_object(),
        "{act}"
    );

    let upstream = fake.requests();
    assert_eq!(upstream.len(), 2);
    for r in &upstream {
        assert!(
            r.body.get("tags").is_none() && r.body.get("metadata").is_none(),
            "{}",
            r.body
        );
        assert!(r.header("x-litellm-tags").is_none());
    }
}
