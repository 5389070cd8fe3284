//! Request tags through the proxy's HTTP surface (in-process, temp SQLite, `FakeOpenAi`
//! upstream, `FakeHttp` webhook receiver): tags from the body (`metadata.tags` and `tags`),
//! the `x-litellm-tags` header, the key and the team land in the spend logs, the tag
//! aggregates and the webhook payload, on chat (plain and streamed), embeddings and
//! `/v1/messages`; they never reach the upstream; `/tag/list`, `/tag/daily/activity`,
//! `/spend/tags`, `/spend/logs?tags=` and `/global/spend/report?group_by=tag` read them back,
//! and a non-admin key sees only its own tags.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;
use common::*;
use serde_json::{json, Value};

use litellm_test_support::fake_http::{FakeHttp, HttpScript};
use litellm_test_support::FakeOpenAi;

const MASTER: &str = "sk-test-master-tags";

fn config(upstream: &str, hook: &str) -> String {
    format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/upstream-model
      api_base: {upstream}
      api_key: sk-upstream
      input_cost_per_token: 0.001
      output_cost_per_token: 0.002
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {upstream}
      api_key: sk-upstream
      input_cost_per_token: 0.001
litellm_settings:
  callbacks: [generic_api]
callback_settings:
  generic_api:
    endpoint: {hook}
    flush_interval: 0.05
general_settings:
  master_key: {MASTER}
"#
    )
}

async fn post(p: &Proxy, key: &str, path: &str, body: Value, extra: &[(&str, &str)]) -> Resp {
    let bearer = format!("Bearer {key}");
    let mut headers = vec![("authorization", bearer.as_str())];
    headers.extend_from_slice(extra);
    p.post_raw(path, serde_json::to_vec(&body).unwrap(), &headers)
        .await
}

async fn get(p: &Proxy, key: &str, path: &str) -> Value {
    let bearer = format!("Bearer {key}");
    let r = p.get(path, &[("authorization", bearer.as_str())]).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.json()
}

fn ok(r: Resp) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// The `x-litellm-call-id` of an answer that must be 200.
fn ok_call_id(r: Resp) -> String {
    let id = r.header("x-litellm-call-id").unwrap().to_string();
    ok(r);
    id
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The webhook events received so far (each POST is a JSON array), waiting up to 10 s for `n`.
async fn hook_events(hook: &FakeHttp, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let events: Vec<Value> = hook
            .requests()
            .iter()
            .filter_map(|r| r.body.as_array().cloned())
            .flatten()
            .collect();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} webhook events arrived");
}

#[tokio::test]
async fn tags_are_recorded_aggregated_and_never_forwarded() {
    let fake = FakeOpenAi::start().await;
    let hook = FakeHttp::start().await;
    for _ in 0..20 {
        hook.push(HttpScript::ok(json!({"ok": true})));
    }
    let p = Proxy::new(&config(
        &fake.base_url(),
        &format!("{}/logs", hook.base_url()),
    ))
    .await;

    ok(post(
        &p,
        MASTER,
        "/team/new",
        json!({"team_id": "search", "tags": ["team-tag"]}),
        &[],
    )
    .await);
    let team = get(&p, MASTER, "/team/info?team_id=search").await;
    assert_eq!(
        team["team_info"]["metadata"]["tags"],
        json!(["team-tag"]),
        "{team}"
    );
    let key = ok(post(
        &p,
        MASTER,
        "/key/generate",
        json!({"team_id": "search", "tags": ["key-tag"], "metadata": {"tags": ["key-meta"]}}),
        &[],
    )
    .await)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let other = ok(post(&p, MASTER, "/key/generate", json!({}), &[]).await)["key"]
        .as_str()
        .unwrap()
        .to_string();

    // Chat: body metadata.tags, body tags and the header, plus the key's and the team's.
    let chat = post(
        &p,
        &key,
        "/v1/chat/completions",
        json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}],
               "metadata": {"tags": ["meta-tag"], "trace": "t1"}, "tags": ["body-tag"]}),
        &[("x-litellm-tags", "hdr-1, hdr-2")],
    )
    .await;
    let chat_id = chat.header("x-litellm-call-id").unwrap().to_string();
    let chat_cost: f64 = chat.parsed_header("x-litellm-response-cost");
    assert!(chat_cost > 0.0);
    ok(chat);
    // A stream with the header only.
    let stream = post(
        &p,
        &key,
        "/v1/chat/completions",
        json!({"model": "gpt", "stream": true, "messages": [{"role": "user", "content": "s"}]}),
        &[("x-litellm-tags", "stream-tag")],
    )
    .await;
    assert_eq!(stream.status, StatusCode::OK, "{}", stream.text);
    let stream_id = stream.header("x-litellm-call-id").unwrap().to_string();
    // Embeddings and /v1/messages with metadata.tags, and the untagged key: no tags at all.
    let mut ids = Vec::new();
    for (caller, path, body) in [
        (
            &key,
            "/v1/embeddings",
            json!({"model": "embed", "input": "vec", "metadata": {"tags": ["emb-tag"]}}),
        ),
        (
            &key,
            "/v1/messages",
            json!({"model": "gpt", "max_tokens": 16, "messages": [{"role": "user", "content": "m"}],
               "metadata": {"user_id": "u-1", "tags": ["msg-tag"]}}),
        ),
        (
            &other,
            "/v1/chat/completions",
            json!({"model": "gpt", "messages": [{"role": "user", "content": "plain"}]}),
        ),
    ] {
        ids.push(ok_call_id(post(&p, caller, path, body, &[]).await));
    }
    let [emb_id, msg_id, plain_id]: [String; 3] = ids.try_into().unwrap();

    // Bad client tags: a 400 naming the field, nothing sent upstream.
    let sent = fake.requests().len();
    for (body, param) in [
        (
            json!({"model": "gpt", "messages": [{"role": "user", "content": "x"}], "tags": "prod"}),
            "tags",
        ),
        (
            json!({"model": "gpt", "messages": [{"role": "user", "content": "x"}], "metadata": {"tags": [1]}}),
            "metadata.tags",
        ),
    ] {
        let r = post(&p, &key, "/v1/chat/completions", body, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.json()["error"]["param"], param);
    }
    assert_eq!(
        fake.requests().len(),
        sent,
        "refused calls reach no upstream"
    );

    // Never forwarded: no tags, no metadata, no tag header upstream.
    let upstream = fake.requests();
    assert_eq!(upstream.len(), 5, "{upstream:#?}");
    for r in &upstream {
        let body = r.body.as_object().unwrap();
        assert!(!body.contains_key("tags"), "{body:?}");
        assert!(!body.contains_key("metadata"), "{body:?}");
        assert!(r.header("x-litellm-tags").is_none());
        assert!(!r.body.to_string().contains("-tag"), "{}", r.body);
    }

    // Spend logs.
    let rows = p.flushed_spend_logs(5).await;
    let tags_of = |id: &str| -> BTreeSet<String> {
        rows.iter()
            .find(|r| r.request_id == id)
            .unwrap_or_else(|| panic!("no spend log for {id}"))
            .request_tags
            .iter()
            .cloned()
            .collect()
    };
    let own = ["key-tag", "key-meta", "team-tag"];
    let with_own = |extra: &[&str]| strings(&[extra, &own[..]].concat());
    assert_eq!(
        tags_of(&chat_id),
        with_own(&["meta-tag", "body-tag", "hdr-1", "hdr-2"])
    );
    assert_eq!(tags_of(&stream_id), with_own(&["stream-tag"]));
    assert_eq!(tags_of(&emb_id), with_own(&["emb-tag"]));
    assert_eq!(tags_of(&msg_id), with_own(&["msg-tag"]));
    assert_eq!(tags_of(&plain_id), strings(&[]));
    let chat_row = rows.iter().find(|r| r.request_id == chat_id).unwrap();
    assert_eq!(
        chat_row.request_tags[..4],
        ["meta-tag", "body-tag", "hdr-1", "hdr-2"],
        "request tags first, in order"
    );
    let key_spend: f64 = rows
        .iter()
        .filter(|r| r.request_id != plain_id)
        .map(|r| r.spend)
        .sum();

    // /spend/logs?tags= (any of them) and the log's JSON.
    let logs = get(&p, MASTER, "/spend/logs?tags=hdr-2,stream-tag").await;
    let ids: BTreeSet<String> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, strings(&[&chat_id, &stream_id]));
    let one = get(&p, MASTER, &format!("/spend/logs?request_id={emb_id}")).await;
    assert_eq!(set(&one[0]["request_tags"]), with_own(&["emb-tag"]));

    // /tag/list: every tag with its spend, highest first.
    let list = get(&p, MASTER, "/tag/list").await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        with_own(&[
            "meta-tag",
            "body-tag",
            "hdr-1",
            "hdr-2",
            "stream-tag",
            "emb-tag",
            "msg-tag"
        ])
    );
    let entry = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    let key_tag = entry("key-tag");
    assert!(
        (key_tag["spend"].as_f64().unwrap() - key_spend).abs() < 1e-9,
        "{key_tag} vs {key_spend}"
    );
    assert_eq!(key_tag["api_requests"], 4);
    assert!(key_tag["models"].is_null());
    let today = Utc::now().date_naive().to_string();
    assert_eq!(key_tag["created_at"], format!("{today}T00:00:00+00:00"));
    assert!((entry("hdr-1")["spend"].as_f64().unwrap() - chat_cost).abs() < 1e-9);
    assert_eq!(
        strings(&names[..3]),
        strings(&own),
        "highest spend first (the key's and team's tags are on every call): {names:?}"
    );

    // /tag/daily/activity for one tag.
    let act = get(
        &p,
        MASTER,
        &format!("/tag/daily/activity?start_date={today}&end_date={today}&tags=hdr-1"),
    )
    .await;
    let day = &act["results"][0];
    assert_eq!(day["date"], today.as_str());
    assert!(
        (day["metrics"]["spend"].as_f64().unwrap() - chat_cost).abs() < 1e-9,
        "{act}"
    );
    assert_eq!(day["metrics"]["api_requests"], 1);
    assert_eq!(
        day["breakdown"]["entities"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["hdr-1"]
    );
    assert_eq!(
        day["breakdown"]["model_groups"]["gpt"]["metrics"]["api_requests"], 1,
        "{act}"
    );
    assert!((act["metadata"]["total_spend"].as_f64().unwrap() - chat_cost).abs() < 1e-9);
    let missing = p
        .get(
            "/tag/daily/activity",
            &[("authorization", &format!("Bearer {MASTER}"))],
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::BAD_REQUEST,
        "dates are required"
    );

    // /spend/tags and the report grouped by tag.
    let spend_tags = get(&p, MASTER, "/spend/tags").await;
    let emb_row = spend_tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["individual_request_tag"] == "emb-tag")
        .unwrap();
    assert_eq!(emb_row["log_count"], 1);
    let report = get(
        &p,
        MASTER,
        &format!("/global/spend/report?start_date={today}&end_date={today}&group_by=tag"),
    )
    .await;
    let tags = report[0]["tags"].as_array().unwrap();
    assert!(
        tags.iter()
            .any(|t| t["tag"] == "msg-tag" && t["total_spend"].as_f64().unwrap() > 0.0),
        "{report}"
    );

    // A non-admin key sees only its own tags.
    assert_eq!(get(&p, &other, "/tag/list").await, json!([]));
    let mine = get(&p, &key, "/tag/list").await;
    assert_eq!(mine.as_array().unwrap().len(), 10);

    // The webhook payload carries them too.
    let events = hook_events(&hook, 7).await;
    let event = events.iter().find(|e| e["id"] == chat_id.as_str()).unwrap();
    assert_eq!(
        set(&event["request_tags"]),
        with_own(&["meta-tag", "body-tag", "hdr-1", "hdr-2"])
    );
    let event = events
        .iter()
        .find(|e| e["id"] == plain_id.as_str())
        .unwrap();
    assert_eq!(event["request_tags"], json!([]));
}
