//! Spend reports through the proxy's HTTP surface (in-process, temp SQLite): `/global/spend`,
//! `/global/spend/report` (each `group_by`), `/global/spend/keys|models`,
//! `/user/daily/activity`, `/team/daily/activity` and `/spend/logs` filters and pages, with
//! LiteLLM's bodies; the admin sees everything and any other key only its own spend.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use chrono::Utc;
use common::*;
use serde_json::{json, Value};

fn config() -> String {
    let other = mock_entry(
        "other",
        "other",
        "other answer",
        "      input_cost_per_token: 0.01\n      output_cost_per_token: 0.02\n",
    );
    let models = format!("{MOCK_GPT}{other}");
    config_yaml(&models, "litellm_settings:\n  max_budget: 100.0\n", MASTER)
}

struct World {
    p: Proxy,
    /// Alice's key (user alice, team research).
    alice: String,
    /// An unowned key, no team.
    bob: String,
    alice_spend: f64,
    bob_spend: f64,
}

impl World {
    async fn get(&self, key: &str, path: &str) -> Resp {
        self.p.get_as(key, path).await
    }

    /// Asserts that `GET path` answers `key` with `metadata.total_spend` equal to `spend`.
    async fn assert_total_spend(&self, key: &str, path: &str, spend: f64) {
        let r = self.get(key, path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let total = r.json()["metadata"]["total_spend"].as_f64().unwrap();
        assert!(
            close(total, spend),
            "{path}: {total} vs {spend}: {}",
            r.text
        );
    }

    async fn admin(&self, path: &str) -> Value {
        let r = self.get(MASTER, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        r.json()
    }
}

async fn post(p: &Proxy, key: &str, path: &str, body: Value) -> Resp {
    p.post_as(key, path, body).await
}

async fn chat(p: &Proxy, key: &str, model: &str) -> f64 {
    let r = p.chat(key, model).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.parsed_header("x-litellm-response-cost")
}

async fn world() -> World {
    let p = Proxy::new(&config()).await;
    let ok = |r: Resp| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()
    };
    ok(post(&p, MASTER, "/user/new", json!({"user_id": "alice"})).await);
    ok(post(
        &p,
        MASTER,
        "/team/new",
        json!({"team_id": "research", "team_alias": "Research"}),
    )
    .await);
    let alice = ok(post(
        &p,
        MASTER,
        "/key/generate",
        json!({"user_id": "alice", "team_id": "research", "key_alias": "alice-key"}),
    )
    .await)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = ok(post(&p, MASTER, "/key/generate", json!({"key_alias": "bob-key"})).await)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let alice_spend = chat(&p, &alice, "mock-gpt").await + chat(&p, &alice, "other").await;
    let bob_spend = chat(&p, &bob, "mock-gpt").await;
    p.flushed_spend_logs(3).await;
    World {
        p,
        alice,
        bob,
        alice_spend,
        bob_spend,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

#[tokio::test]
async fn global_spend_and_the_report_in_every_grouping() {
    let w = world().await;
    let total = w.alice_spend + w.bob_spend;
    let g = w.admin("/global/spend").await;
    assert!(close(g["spend"].as_f64().unwrap(), total), "{g}");
    assert_eq!(g["max_budget"], 100.0);

    let d = today();
    let range = format!("start_date={d}&end_date={d}");
    let teams = w.admin(&format!("/global/spend/report?{range}")).await;
    assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
    assert_eq!(teams[0]["group_by_day"], format!("{d}T00:00:00+00:00"));
    let list = teams[0]["teams"].as_array().unwrap();
    let research = list.iter().find(|t| t["team_name"] == "Research").unwrap();
    assert!(close(
        research["total_spend"].as_f64().unwrap(),
        w.alice_spend
    ));
    assert_eq!(
        research["metadata"].as_array().unwrap().len(),
        2,
        "two models"
    );
    assert!(list.iter().any(|t| t["team_name"] == "Unassigned Team"));

    let keys = w
        .admin(&format!("/global/spend/report?{range}&group_by=api_key"))
        .await;
    let sum: f64 = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["total_cost"].as_f64().unwrap())
        .sum();
    assert!(close(sum, total), "{keys}");
    let alice_hash = litellm_auth::hash_token(&w.alice);
    let alice_row = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["api_key"] == alice_hash)
        .unwrap();
    assert_eq!(alice_row["model_details"].as_array().unwrap().len(), 2);
    assert!(alice_row["total_input_tokens"].as_i64().unwrap() > 0);

    let one_key = w
        .admin(&format!(
            "/global/spend/report?{range}&group_by=api_key&api_key={}",
            w.bob
        ))
        .await;
    assert_eq!(
        one_key.as_array().unwrap().len(),
        1,
        "api_key takes a plain key too"
    );

    let models = w
        .admin(&format!("/global/spend/report?{range}&group_by=model"))
        .await;
    assert_eq!(models.as_array().unwrap().len(), 2);
    let providers = w
        .admin(&format!("/global/spend/report?{range}&group_by=provider"))
        .await;
    assert!(
        close(providers[0]["total_cost"].as_f64().unwrap(), total),
        "{providers}"
    );
    let customers = w
        .admin(&format!("/global/spend/report?{range}&group_by=customer"))
        .await;
    assert!(customers[0]["customers"].is_array(), "{customers}");

    for bad in [
        "/global/spend/report".to_string(),
        format!("/global/spend/report?start_date={d}"),
        format!("/global/spend/report?{range}&group_by=planet"),
        format!("/global/spend/report?start_date=tomorrow&end_date={d}"),
    ] {
        let r = w.get(MASTER, &bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert!(r.json()["error"]["param"].is_string(), "{}", r.text);
    }

    let top = w.admin("/global/spend/keys?limit=1").await;
    assert_eq!(top.as_array().unwrap().len(), 1);
    let expect = if w.alice_spend > w.bob_spend {
        "alice-key"
    } else {
        "bob-key"
    };
    assert_eq!(top[0]["key_alias"], expect, "{top}");
    let models = w.admin("/global/spend/models").await;
    assert_eq!(models.as_array().unwrap().len(), 2, "{models}");
}

#[tokio::test]
async fn daily_activity_has_litellms_shape_and_pages() {
    let w = world().await;
    let d = today();
    let a = w
        .admin(&format!("/user/daily/activity?start_date={d}&end_date={d}"))
        .await;
    let meta = &a["metadata"];
    assert!(
        close(
            meta["total_spend"].as_f64().unwrap(),
            w.alice_spend + w.bob_spend
        ),
        "{a}"
    );
    assert_eq!(meta["total_api_requests"], 3);
    assert_eq!(meta["total_successful_requests"], 3);
    assert_eq!(meta["page"], 1);
    assert_eq!(meta["has_more"], false);
    let day = &a["results"][0];
    assert_eq!(day["date"], d);
    assert_eq!(day["metrics"]["api_requests"], 3);
    let hash = litellm_auth::hash_token(&w.alice);
    assert_eq!(
        day["breakdown"]["api_keys"][&hash]["metadata"]["key_alias"],
        "alice-key"
    );
    assert_eq!(day["breakdown"]["models"].as_object().unwrap().len(), 2);
    assert_eq!(
        day["breakdown"]["entities"]["alice"]["metrics"]["api_requests"],
        2
    );
    assert!(
        day["breakdown"]["providers"]
            .as_object()
            .unwrap()
            .contains_key("mock"),
        "{day}"
    );

    let paged = w
        .admin(&format!(
            "/user/daily/activity?start_date={d}&end_date={d}&page_size=1&page=2"
        ))
        .await;
    assert_eq!(paged["metadata"]["total_pages"], 3);
    assert_eq!(paged["metadata"]["has_more"], true);
    assert_eq!(paged["results"][0]["metrics"]["api_requests"], 1);

    let model = w
        .admin(&format!(
            "/user/daily/activity?start_date={d}&end_date={d}&model=other"
        ))
        .await;
    assert_eq!(model["metadata"]["total_api_requests"], 1);

    let team = w
        .admin(&format!(
            "/team/daily/activity?start_date={d}&end_date={d}&team_ids=research"
        ))
        .await;
    assert!(
        close(
            team["metadata"]["total_spend"].as_f64().unwrap(),
            w.alice_spend
        ),
        "{team}"
    );
    assert_eq!(
        team["results"][0]["breakdown"]["entities"]["research"]["metrics"]["api_requests"],
        2
    );

    let r = w.get(MASTER, "/user/daily/activity").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

#[tokio::test]
async fn a_key_sees_only_its_own_spend() {
    let w = world().await;
    let d = today();
    let range = format!("start_date={d}&end_date={d}");

    let user_activity = format!("/user/daily/activity?{range}");
    w.assert_total_spend(&w.alice, &user_activity, w.alice_spend)
        .await;
    w.assert_total_spend(&w.bob, &user_activity, w.bob_spend)
        .await;

    let r = w.get(&w.bob, "/global/spend").await;
    assert!(
        close(r.json()["spend"].as_f64().unwrap(), w.bob_spend),
        "{}",
        r.text
    );
    let r = w
        .get(
            &w.bob,
            &format!("/global/spend/report?{range}&group_by=api_key"),
        )
        .await;
    assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.text);

    let team_activity = format!("/team/daily/activity?{range}");
    w.assert_total_spend(&w.alice, &team_activity, w.alice_spend)
        .await;

    for (key, path) in [
        (
            &w.bob,
            format!("/user/daily/activity?{range}&user_id=alice"),
        ),
        (&w.bob, format!("/team/daily/activity?{range}")),
        (
            &w.alice,
            format!("/global/spend/report?{range}&team_id=other-team"),
        ),
        (&w.bob, format!("/spend/logs?api_key={}", w.alice)),
    ] {
        let r = w.get(key, &path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert!(!r.text.contains(&w.alice[3..]), "no key in the error");
    }

    // /spend/logs: a key reads only its own rows; the admin filters and pages.
    let r = w.get(&w.bob, "/spend/logs").await;
    assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.text);
    let all = w.admin("/spend/logs").await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let other = w.admin("/spend/logs?model=other").await;
    assert_eq!(other.as_array().unwrap().len(), 1);
    assert_eq!(other[0]["model_group"], "other");
    let p1 = w.admin("/spend/logs?limit=2&page=1").await;
    let p2 = w.admin("/spend/logs?limit=2&page=2").await;
    assert_eq!(
        (p1.as_array().unwrap().len(), p2.as_array().unwrap().len()),
        (2, 1)
    );
    assert_ne!(p1[0]["request_id"], p2[0]["request_id"]);
    let team = w.admin("/spend/logs?team_id=research&user_id=alice").await;
    assert_eq!(team.as_array().unwrap().len(), 2);
}
