//! Virtual keys, users, teams and budgets through the proxy's HTTP surface (in-process, over a
//! temp SQLite database): the management routes with LiteLLM's bodies, and the request-time
//! checks (key exists, expiry, block, team block, model access, key/team/user budgets).
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use chrono::Utc;
use common::*;
use serde_json::{json, Value};

fn config() -> String {
    let models = [
        MOCK_GPT,
        &mock_entry("other", "other", "other", ""),
        &mock_entry("mock-embedding", "text-embedding", "", ""),
    ]
    .concat();
    config_yaml(&models, "", MASTER)
}

impl Proxy {
    async fn admin_post(&self, path: &str, body: Value) -> Resp {
        self.post_as(MASTER, path, body).await
    }

    /// [`Proxy::admin_post`] that must answer 200.
    async fn admin_ok(&self, path: &str, body: Value) -> Resp {
        let r = self.admin_post(path, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r
    }

    async fn admin_get(&self, path: &str) -> Resp {
        self.get_as(MASTER, path).await
    }

    /// Asserts the status of a chat by each `(key, model, status)`.
    async fn assert_chats(&self, cases: &[(&str, &str, StatusCode)]) {
        for &(key, model, status) in cases {
            let r = self.chat(key, model).await;
            assert_eq!(r.status, status, "{model}: {}", r.text);
        }
    }

    async fn new_key(&self, body: Value) -> String {
        self.new_key_as(MASTER, body).await
    }
}

fn error_type(r: &Resp) -> String {
    error_field(r, "type")
}

#[tokio::test]
async fn a_key_lives_through_generate_use_info_update_block_and_delete() {
    let p = Proxy::new(&config()).await;
    let r = p
        .admin_ok(
            "/key/generate",
            json!({"key_alias": "ci", "models": ["mock-gpt"], "max_budget": 10.0,
                   "metadata": {"app": "ci"}, "duration": "30d"}),
        )
        .await;
    let gen = r.json();
    let key = gen["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk-") && key.len() >= 40, "{key}");
    let hash = litellm_auth::hash_token(&key);
    assert_eq!(gen["token_id"], hash);
    assert_eq!(gen["key_name"], format!("sk-...{}", &key[key.len() - 4..]));
    assert_eq!(gen["key_alias"], "ci");
    assert_eq!(gen["models"], json!(["mock-gpt"]));
    assert_eq!(gen["max_budget"], 10.0);
    assert!(gen["expires"].as_str().is_some());

    // The key works, and the response says what it has spent.
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cost: f64 = r.parsed_header("x-litellm-response-cost");
    let spent: f64 = r.parsed_header("x-litellm-key-spend");
    assert!(cost > 0.0);
    assert!((spent - cost).abs() < 1e-12, "{spent} vs {cost}");
    assert_eq!(r.header("x-litellm-key-max-budget"), Some("10.0"));

    // Its spend record names the key by hash, with its alias.
    let rows = p.flushed_spend_logs(1).await;
    assert_eq!(rows[0].api_key_hash, hash);
    assert_eq!(rows[0].metadata["user_api_key_alias"], "ci");

    // Info by key and by hash; the hash itself is not in `info`.
    let r = p.admin_get(&format!("/key/info?key={key}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let info = r.json();
    assert_eq!(info["key"], key);
    assert_eq!(info["info"]["key_alias"], "ci");
    assert!(info["info"].get("token").is_none());
    assert!(
        (info["info"]["spend"].as_f64().unwrap() - cost).abs() < 1e-12,
        "{info}"
    );
    assert_eq!(
        p.admin_get(&format!("/key/info?key={hash}")).await.status,
        StatusCode::OK
    );
    // A key may read its own info without the master key.
    let own = p
        .get("/key/info", &[("authorization", &bearer(&key))])
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.json()["info"]["key_alias"], "ci");

    // Update: a new model list and alias; null clears the budget.
    let r = p
        .admin_ok(
            "/key/update",
            json!({"key": key, "models": ["other"], "key_alias": "ci-2", "max_budget": null}),
        )
        .await;
    assert_eq!(r.json()["models"], json!(["other"]));
    assert!(r.json()["max_budget"].is_null());
    p.assert_chats(&[
        (&key, "mock-gpt", StatusCode::UNAUTHORIZED),
        (&key, "other", StatusCode::OK),
    ])
    .await;

    // Block and unblock take effect at once on this replica.
    let r = p.admin_ok("/key/block", json!({"key": key})).await;
    assert_eq!(r.json()["blocked"], true);
    let r = p.chat(&key, "other").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("blocked"));
    p.admin_post("/key/unblock", json!({"key": hash})).await;
    assert_eq!(p.chat(&key, "other").await.status, StatusCode::OK);

    // Delete: the key stops working and is gone.
    let r = p.admin_ok("/key/delete", json!({"keys": [key]})).await;
    assert_eq!(r.json()["deleted_keys"], json!([key]));
    let r = p.chat(&key, "other").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        !r.text.contains(&key),
        "the key is never echoed: {}",
        r.text
    );
    assert_eq!(
        p.admin_get(&format!("/key/info?key={key}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        p.admin_post("/key/delete", json!({"keys": [key]}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn keys_are_deleted_by_alias_and_aliases_are_unique() {
    let p = Proxy::new(&config()).await;
    let key = p.new_key(json!({"key_alias": "one"})).await;
    let r = p
        .admin_post("/key/generate", json!({"key_alias": "one"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("one"));
    p.admin_ok("/key/delete", json!({"key_aliases": ["one"]}))
        .await;
    assert_eq!(
        p.chat(&key, "mock-gpt").await.status,
        StatusCode::UNAUTHORIZED
    );
    // A custom key value must look like a key.
    let r = p
        .admin_post("/key/generate", json!({"key": "not-a-key"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "key");
    let custom = p.new_key(json!({"key": "sk-my-custom-key-1"})).await;
    assert_eq!(custom, "sk-my-custom-key-1");
    assert_eq!(p.chat(&custom, "mock-gpt").await.status, StatusCode::OK);
}

#[tokio::test]
async fn management_routes_need_the_master_key() {
    let p = Proxy::new(&config()).await;
    let key = p.new_key(json!({})).await;
    let r = p.post("/key/generate", json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "401");
    let r = p
        .post_raw(
            "/key/generate",
            b"{}".to_vec(),
            &[("authorization", &bearer(&key))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "403");
    // (`/spend/logs` answers any key with its own logs: tests/reports.rs.)
    for path in ["/key/list", "/user/list", "/team/list"] {
        let r = p.get(path, &[("authorization", &bearer(&key))]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            p.get(path, &[]).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    // Another key's info is not visible to a virtual key.
    let other = p.new_key(json!({})).await;
    let r = p
        .get(
            &format!("/key/info?key={other}"),
            &[("authorization", &bearer(&key))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bad bodies name the problem.
    let r = p
        .admin_post("/key/generate", json!({"duration": "forever"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "duration");
    let r = p
        .admin_post("/key/generate", json!({"max_budget": -1}))
        .await;
    assert_eq!(r.json()["error"]["param"], "max_budget");
    let r = p.admin_post("/key/update", json!({"models": []})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "key");
    let r = p.admin_post("/key/update", json!({"key": "sk-nope"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unknown_key_is_refused_and_the_master_key_still_works() {
    let p = Proxy::new(&config()).await;
    let r = p.chat("sk-unknown-key-abcd", "mock-gpt").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_type(&r), "auth_error");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sk-...abcd"));
    assert!(!r.text.contains("sk-unknown-key-abcd"));
    // Again (now from the cache of unknown keys): still refused.
    assert_eq!(
        p.chat("sk-unknown-key-abcd", "mock-gpt").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = p.chat(MASTER, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("x-litellm-key-spend").is_none(),
        "no key-state headers for the master key"
    );
}

#[tokio::test]
async fn key_and_team_model_lists_restrict_models_and_aliases_map_them() {
    let p = Proxy::new(&config()).await;
    p.admin_ok(
        "/team/new",
        json!({"team_id": "t1", "models": ["mock-gpt"]}),
    )
    .await;
    let team_key = p.new_key(json!({"team_id": "t1"})).await;
    assert_eq!(p.chat(&team_key, "mock-gpt").await.status, StatusCode::OK);
    let r = p.chat(&team_key, "other").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_type(&r), "team_model_access_denied");
    assert_eq!(r.json()["error"]["param"], "model");

    let key = p
        .new_key(json!({"models": ["other"], "aliases": {"my-model": "other"}}))
        .await;
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_type(&r), "key_model_access_denied");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("key not allowed to access model"));
    let r = p.chat(&key, "other").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // An unknown team id is refused at generation.
    let r = p
        .admin_post("/key/generate", json!({"team_id": "nope"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "team_id");
    // Embeddings are checked too.
    let body = json!({"model": "mock-embedding", "input": "x"});
    let r = p
        .post_raw(
            "/v1/embeddings",
            serde_json::to_vec(&body).unwrap(),
            &[("authorization", &bearer(&team_key))],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_key_over_its_budget_is_refused_with_budget_exceeded() {
    let p = Proxy::new(&config()).await;
    let key = p
        .new_key(json!({"max_budget": 0.000001, "key_alias": "tiny"}))
        .await;
    // The first call is within budget (nothing spent yet) and spends more than the budget.
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(error_type(&r), "budget_exceeded");
    assert_eq!(r.json()["error"]["code"], "422");
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("Budget has been exceeded! Key=tiny"), "{msg}");
    // The spend is in the database once written, and raising the budget lets it through.
    p.ledger.flush().await.unwrap();
    let info = p.admin_get(&format!("/key/info?key={key}")).await.json();
    assert!(info["info"]["spend"].as_f64().unwrap() > 0.000001);
    p.admin_post("/key/update", json!({"key": key, "max_budget": 100.0}))
        .await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
    // Resetting spend through /key/update works as in LiteLLM.
    let r = p
        .admin_post(
            "/key/update",
            json!({"key": key, "spend": 0.0, "max_budget": 0.000001}),
        )
        .await;
    assert_eq!(r.json()["spend"], 0.0);
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_budget_exceeded_status_is_configurable() {
    let p = Proxy::new(&format!(
        "{}litellm_settings:\n  budget_exceeded_status_code: 400\n",
        config()
    ))
    .await;
    let key = p.new_key(json!({"max_budget": 0.000001})).await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(error_type(&r), "budget_exceeded");
}

#[tokio::test]
async fn team_and_user_budgets_apply_to_their_keys() {
    let p = Proxy::new(&config()).await;
    p.admin_post(
        "/team/new",
        json!({"team_id": "small", "max_budget": 0.000001}),
    )
    .await;
    let key = p.new_key(json!({"team_id": "small"})).await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Team=small"));
    // Another key of the same team is over the same budget.
    let key2 = p.new_key(json!({"team_id": "small"})).await;
    assert_eq!(
        p.chat(&key2, "mock-gpt").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let r = p
        .admin_ok(
            "/user/new",
            json!({"user_id": "alice", "user_email": "a@example.com", "max_budget": 0.000001}),
        )
        .await;
    let user = r.json();
    assert_eq!(user["user_id"], "alice");
    assert_eq!(user["user_role"], "internal_user");
    let user_key = user["key"].as_str().unwrap().to_string();
    assert_eq!(p.chat(&user_key, "mock-gpt").await.status, StatusCode::OK);
    let r = p.chat(&user_key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("User=alice"));

    // Counters are the sums of the logs once written.
    let rows = p.flushed_spend_logs(2).await;
    let team_sum: f64 = rows
        .iter()
        .filter(|r| r.team_id.as_deref() == Some("small"))
        .map(|r| r.spend)
        .sum();
    let info = p.admin_get("/team/info?team_id=small").await.json();
    assert!(
        (info["team_info"]["spend"].as_f64().unwrap() - team_sum).abs() < 1e-12,
        "{info}"
    );
    assert_eq!(info["keys"].as_array().unwrap().len(), 2);
    let info = p.admin_get("/user/info?user_id=alice").await.json();
    assert!(info["user_info"]["spend"].as_f64().unwrap() > 0.0);
    assert_eq!(info["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let p = Proxy::new(&config()).await;
    let key = p.new_key(json!({"duration": "1h"})).await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
    // Move the expiry into the past directly in the store (no sleeping in tests).
    let store = p.ledger.store();
    let hash = litellm_auth::hash_token(&key);
    let mut rec = store.key(&hash).await.unwrap().unwrap();
    rec.expires = Some(Utc::now() - chrono::Duration::seconds(1));
    store.update_key(&hash, &rec).await.unwrap();
    p.ledger.key_cache().invalidate_key(&hash);
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(error_type(&r), "expired_key");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Expired Key"));
    assert!(
        !r.text.contains(&key),
        "LiteLLM echoes the key here (#18731); we do not"
    );
    // Extending it with a new duration revives it.
    p.admin_post("/key/update", json!({"key": key, "duration": "1d"}))
        .await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_blocked_team_blocks_its_keys() {
    let p = Proxy::new(&config()).await;
    let r = p
        .admin_ok(
            "/team/new",
            json!({"team_alias": "Core", "members_with_roles": [{"role": "admin", "user_id": "bob"}]}),
        )
        .await;
    let team = r.json();
    let team_id = team["team_id"].as_str().unwrap().to_string();
    assert_eq!(team["team_alias"], "Core");
    assert_eq!(team["members_with_roles"][0]["user_id"], "bob");
    // The member exists as a user that belongs to the team.
    let bob = p.admin_get("/user/info?user_id=bob").await.json();
    assert_eq!(bob["user_info"]["teams"], json!([team_id]));

    let key = p.new_key(json!({"team_id": team_id})).await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);
    let r = p
        .admin_post("/team/block", json!({"team_id": team_id}))
        .await;
    assert_eq!(r.json()["blocked"], true);
    let r = p.chat(&key, "mock-gpt").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is blocked"));
    p.admin_post("/team/unblock", json!({"team_id": team_id}))
        .await;
    assert_eq!(p.chat(&key, "mock-gpt").await.status, StatusCode::OK);

    // Members: add by email (a user is created), refuse duplicates, remove.
    let r = p
        .admin_ok(
            "/team/member_add",
            json!({"team_id": team_id, "member": {"role": "user", "user_email": "c@example.com"}}),
        )
        .await;
    assert_eq!(r.json()["members_with_roles"].as_array().unwrap().len(), 2);
    let new_user = r.json()["updated_users"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = p
        .admin_post(
            "/team/member_add",
            json!({"team_id": team_id, "member": [{"role": "user", "user_id": "bob"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = p
        .admin_ok(
            "/team/member_delete",
            json!({"team_id": team_id, "user_id": "bob"}),
        )
        .await;
    assert_eq!(r.json()["members_with_roles"][0]["user_id"], new_user);
    assert_eq!(
        p.admin_get("/user/info?user_id=bob").await.json()["user_info"]["teams"],
        json!([])
    );
    let teams = p
        .admin_get(&format!("/team/list?user_id={new_user}"))
        .await
        .json();
    assert_eq!(teams.as_array().unwrap().len(), 1);

    // Update, then delete: the team's keys go with it.
    let r = p
        .admin_post(
            "/team/update",
            json!({"team_id": team_id, "max_budget": 5.0}),
        )
        .await;
    assert_eq!(r.json()["data"]["max_budget"], 5.0);
    p.admin_ok("/team/delete", json!({"team_ids": [team_id]}))
        .await;
    assert_eq!(
        p.chat(&key, "mock-gpt").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        p.admin_get(&format!("/team/info?team_id={team_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn key_and_user_lists_are_paginated() {
    let p = Proxy::new(&config()).await;
    let mut hashes = Vec::new();
    for i in 0..5 {
        let key = p
            .new_key(json!({"user_id": if i < 3 { "u1" } else { "u2" }}))
            .await;
        hashes.push(litellm_auth::hash_token(&key));
    }
    let r = p.admin_get("/key/list?page=1&size=2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page1 = r.json();
    assert_eq!(page1["total_count"], 5);
    assert_eq!(page1["current_page"], 1);
    assert_eq!(page1["total_pages"], 3);
    let mut listed = Vec::new();
    for n in 1..=3 {
        let v = p
            .admin_get(&format!("/key/list?page={n}&size=2"))
            .await
            .json();
        assert_eq!(
            v["keys"].as_array().unwrap().len(),
            if n < 3 { 2 } else { 1 }
        );
        listed.extend(
            v["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_string()),
        );
    }
    let mut sorted = listed.clone();
    sorted.sort();
    let mut expected = hashes.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every key once, as hashes");
    let r = p
        .admin_get("/key/list?user_id=u1&return_full_object=true")
        .await
        .json();
    assert_eq!(r["total_count"], 3);
    assert_eq!(r["keys"][0]["user_id"], "u1");
    assert_eq!(
        p.admin_get("/key/list?size=0").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        p.admin_get("/key/list?size=101").await.json()["error"]["param"],
        "size"
    );

    for i in 0..3 {
        let r = p
            .admin_post(
                "/user/new",
                json!({"user_id": format!("user-{i}"), "auto_create_key": false}),
            )
            .await;
        assert!(r.json().get("key").is_none());
    }
    let r = p.admin_get("/user/list?page=2&page_size=2").await.json();
    assert_eq!(r["total"], 3);
    assert_eq!(r["users"].as_array().unwrap().len(), 1);
    assert_eq!(r["total_pages"], 2);
    let r = p
        .admin_post(
            "/user/update",
            json!({"user_id": "user-0", "user_role": "proxy_admin"}),
        )
        .await;
    assert_eq!(r.json()["data"]["user_role"], "proxy_admin");
    let r = p
        .admin_post("/user/delete", json!({"user_ids": ["user-0", "user-1"]}))
        .await;
    assert_eq!(r.json()["deleted_users"].as_array().unwrap().len(), 2);
    assert_eq!(p.admin_get("/user/list").await.json()["total"], 1);
}

#[tokio::test]
async fn a_regenerated_key_replaces_the_old_one_and_keeps_its_spend() {
    let p = Proxy::new(&config()).await;
    let old = p
        .new_key(json!({"key_alias": "rot", "models": ["mock-gpt"]}))
        .await;
    assert_eq!(p.chat(&old, "mock-gpt").await.status, StatusCode::OK);
    p.ledger.flush().await.unwrap();
    let r = p
        .admin_ok(
            &format!("/key/{old}/regenerate"),
            json!({"max_budget": 3.0}),
        )
        .await;
    let new = r.json()["key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(r.json()["key_alias"], "rot");
    assert_eq!(r.json()["max_budget"], 3.0);
    assert!(
        r.json()["spend"].as_f64().unwrap() > 0.0,
        "spend follows the key"
    );
    p.assert_chats(&[
        (&old, "mock-gpt", StatusCode::UNAUTHORIZED),
        (&new, "mock-gpt", StatusCode::OK),
    ])
    .await;
    let r = p.admin_ok("/key/regenerate", json!({"key": new})).await;
    let newer = r.json()["key"].as_str().unwrap().to_string();
    p.assert_chats(&[
        (&new, "mock-gpt", StatusCode::UNAUTHORIZED),
        (&newer, "mock-gpt", StatusCode::OK),
    ])
    .await;
}

#[tokio::test]
async fn spend_logs_are_filtered_by_key_user_team_and_date() {
    let p = Proxy::new(&config()).await;
    p.admin_post("/team/new", json!({"team_id": "t"})).await;
    let a = p.new_key(json!({"user_id": "ua", "team_id": "t"})).await;
    let b = p.new_key(json!({"user_id": "ub"})).await;
    for k in [&a, &a, &b] {
        assert_eq!(p.chat(k, "mock-gpt").await.status, StatusCode::OK);
    }
    p.flushed_spend_logs(3).await;
    let get = |q: String| {
        let p = &p;
        async move {
            let r = p.admin_get(&format!("/spend/logs{q}")).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
            r.json().as_array().unwrap().clone()
        }
    };
    assert_eq!(get(String::new()).await.len(), 3);
    let by_key = get(format!("?api_key={a}")).await;
    assert_eq!(by_key.len(), 2);
    assert_eq!(by_key[0]["api_key"], litellm_auth::hash_token(&a));
    assert!(by_key[0]["startTime"].is_string());
    assert_eq!(get("?user_id=ub".into()).await.len(), 1);
    assert_eq!(get("?team_id=t".into()).await.len(), 2);
    let today = Utc::now().format("%Y-%m-%d");
    assert_eq!(
        get(format!("?start_date={today}&end_date={today}"))
            .await
            .len(),
        3
    );
    assert_eq!(get("?end_date=2000-01-01".into()).await.len(), 0);
    assert_eq!(get("?limit=1".into()).await.len(), 1);
    let r = p.admin_get("/spend/logs?start_date=yesterday").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "start_date");
}

#[tokio::test]
async fn without_a_master_key_the_proxy_is_open_but_stored_keys_are_still_checked() {
    let open = r#"
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: mock/gpt-4o
      mock_response: "hi"
"#;
    let p = Proxy::new(open).await;
    // Anyone may call, with any key or none.
    assert_eq!(
        p.chat("sk-anything", "mock-gpt").await.status,
        StatusCode::OK
    );
    // Management works without a key, and a stored, blocked key is refused.
    let r = p.post("/key/generate", json!({"blocked": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = r.json()["key"].as_str().unwrap().to_string();
    assert_eq!(
        p.chat(&key, "mock-gpt").await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// A proxy whose key cache expires after 50 ms, with or without
/// `allow_requests_on_db_unavailable`; returns the app, the ledger and a fresh key.
async fn short_cache_proxy(allow: bool) -> (axum::Router, litellm_auth::Ledger, String) {
    use tower::ServiceExt;
    let yaml = format!("{}  allow_requests_on_db_unavailable: {allow}\n", config());
    let config = litellm_server::parse_config(&yaml).unwrap().config;
    let router = litellm_router::Router::with_settings(
        config.model_list.clone(),
        config.router_settings.clone(),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("litellm-rs-stale-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = litellm_auth::Ledger::connect(
        &format!("sqlite://{}", dir.join("k.db").display()),
        litellm_auth::LedgerOptions {
            key_cache_ttl: std::time::Duration::from_millis(50),
            ..litellm_auth::LedgerOptions::default()
        },
    )
    .await
    .unwrap();
    let state = litellm_server::AppState::new(&config, router, Some(ledger.clone()));
    let app = litellm_server::app(state);
    let req = axum::http::Request::post("/key/generate")
        .header("authorization", bearer(MASTER))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let key = serde_json::from_slice::<Value>(&bytes).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    (app, ledger, key)
}

async fn chat_status(app: &axum::Router, key: &str) -> StatusCode {
    use tower::ServiceExt;
    let req = axum::http::Request::post("/v1/chat/completions")
        .header("authorization", bearer(key))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]})
                .to_string(),
        ))
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn with_allow_requests_on_db_unavailable_cached_keys_survive_a_database_outage() {
    for allow in [true, false] {
        let (app, ledger, key) = short_cache_proxy(allow).await;
        assert_eq!(chat_status(&app, &key).await, StatusCode::OK);
        // The cached entry expires, then the database goes away.
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
        ledger.store().close().await;
        let status = chat_status(&app, &key).await;
        if allow {
            assert_eq!(status, StatusCode::OK, "a seen key keeps working");
            // A key this replica never saw cannot be verified.
            assert_eq!(
                chat_status(&app, "sk-never-seen-0000").await,
                StatusCode::SERVICE_UNAVAILABLE
            );
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        }
    }
}
