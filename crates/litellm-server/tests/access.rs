//! Model and route access control through the proxy's HTTP surface (in-process, temp
//! SQLite): access groups from `model_info.access_groups`, `all-team-models`, a key's
//! `allowed_routes` on every route, and `/v1/models` and `/model/info` listing only what the
//! key may use.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

fn config() -> String {
    let models = r#"  - model_name: gpt-beta
    litellm_params:
      model: mock/gpt-4o
      mock_response: "beta"
    model_info:
      access_groups: ["beta-models"]
  - model_name: claude-beta
    litellm_params:
      model: mock/claude
      mock_response: "beta too"
    model_info:
      access_groups: ["beta-models", "claude-models"]
  - model_name: stable
    litellm_params:
      model: mock/stable
      mock_response: "stable"
"#;
    config_yaml(models, "", MASTER)
}

async fn call(p: &Proxy, key: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
    match (method, body) {
        ("GET", _) => p.get_as(key, path).await,
        (_, b) => p.post_as(key, path, b.unwrap_or_else(|| json!({}))).await,
    }
}

async fn chat(p: &Proxy, key: &str, model: &str) -> Resp {
    p.chat(key, model).await
}

async fn new_key(p: &Proxy, body: Value) -> String {
    p.new_key_as(MASTER, body).await
}

/// What `GET /v1/models` (ids) and `GET /model/info` (model names) list for `key`, sorted.
async fn listed(p: &Proxy, key: &str) -> (Vec<String>, Vec<String>) {
    (
        sorted_field(p, key, "/v1/models", "id").await,
        sorted_field(p, key, "/model/info", "model_name").await,
    )
}

/// `field` of every item of the `data` array `GET path` answers `key`, sorted.
async fn sorted_field(p: &Proxy, key: &str, path: &str, field: &str) -> Vec<String> {
    let r = call(p, key, "GET", path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut values: Vec<String> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[field].as_str().unwrap().to_string())
        .collect();
    values.sort();
    values
}

#[tokio::test]
async fn access_groups_grant_every_model_in_them() {
    let p = Proxy::new(&config()).await;
    let beta = new_key(&p, json!({"models": ["beta-models"]})).await;
    assert_eq!(chat(&p, &beta, "gpt-beta").await.status, StatusCode::OK);
    assert_eq!(chat(&p, &beta, "claude-beta").await.status, StatusCode::OK);
    let r = chat(&p, &beta, "stable").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.json()["error"]["type"], "key_model_access_denied");

    let (models, info) = listed(&p, &beta).await;
    assert_eq!(models, ["claude-beta", "gpt-beta"]);
    assert_eq!(info, ["claude-beta", "gpt-beta"]);

    let mixed = new_key(&p, json!({"models": ["claude-models", "stable"]})).await;
    assert_eq!(listed(&p, &mixed).await.0, ["claude-beta", "stable"]);
    assert_eq!(
        chat(&p, &mixed, "gpt-beta").await.status,
        StatusCode::UNAUTHORIZED
    );

    let everything = new_key(&p, json!({})).await;
    assert_eq!(
        listed(&p, &everything).await.0,
        ["claude-beta", "gpt-beta", "stable"]
    );
    assert_eq!(listed(&p, MASTER).await.0.len(), 3);
}

#[tokio::test]
async fn team_models_limit_keys_and_all_team_models_follows_the_team() {
    let p = Proxy::new(&config()).await;
    let r = call(
        &p,
        MASTER,
        "POST",
        "/team/new",
        Some(json!({"team_id": "t", "models": ["beta-models"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let k = new_key(&p, json!({"team_id": "t", "models": ["all-team-models"]})).await;
    assert_eq!(listed(&p, &k).await.0, ["claude-beta", "gpt-beta"]);
    assert_eq!(chat(&p, &k, "gpt-beta").await.status, StatusCode::OK);
    let r = chat(&p, &k, "stable").await;
    assert_eq!(
        r.json()["error"]["type"],
        "team_model_access_denied",
        "{}",
        r.text
    );

    // A key's own list is narrowed by its team's.
    let k = new_key(
        &p,
        json!({"team_id": "t", "models": ["gpt-beta", "stable"]}),
    )
    .await;
    assert_eq!(listed(&p, &k).await.0, ["gpt-beta"]);
}

#[tokio::test]
async fn allowed_routes_are_enforced_on_every_route() {
    let p = Proxy::new(&config()).await;
    let llm = new_key(&p, json!({"allowed_routes": ["llm_api_routes"]})).await;
    assert_eq!(chat(&p, &llm, "stable").await.status, StatusCode::OK);
    assert_eq!(
        call(&p, &llm, "GET", "/v1/models", None).await.status,
        StatusCode::OK
    );
    for (method, path) in [
        ("GET", "/key/info"),
        ("GET", "/spend/logs"),
        ("GET", "/model/info"),
        ("POST", "/key/generate"),
    ] {
        let r = call(&p, &llm, method, path, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert_eq!(r.json()["error"]["type"], "auth_error");
        assert!(r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(path));
        assert!(!r.text.contains(&llm[3..]), "the key is not echoed");
    }
    assert_eq!(
        call(&p, &llm, "GET", "/health/liveliness", None)
            .await
            .status,
        StatusCode::OK,
        "public routes stay open"
    );

    let one = new_key(
        &p,
        json!({"allowed_routes": ["/v1/chat/completions", "info_routes"]}),
    )
    .await;
    assert_eq!(chat(&p, &one, "stable").await.status, StatusCode::OK);
    assert_eq!(
        call(&p, &one, "GET", "/model/info", None).await.status,
        StatusCode::OK
    );
    let r = call(
        &p,
        &one,
        "POST",
        "/chat/completions",
        Some(json!({"model": "stable", "messages": [{"role": "user", "content": "hi"}]})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only the listed path: {}",
        r.text
    );
    let r = call(
        &p,
        &one,
        "POST",
        "/v1/embeddings",
        Some(json!({"model": "stable", "input": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // The master key is never limited; a key without allowed_routes may call anything.
    assert_eq!(
        call(&p, MASTER, "GET", "/spend/logs", None).await.status,
        StatusCode::OK
    );
    let open = new_key(&p, json!({})).await;
    assert_eq!(chat(&p, &open, "stable").await.status, StatusCode::OK);

    // An update takes effect at once on this replica (the cache is invalidated).
    let r = call(
        &p,
        MASTER,
        "POST",
        "/key/update",
        Some(json!({"key": open, "allowed_routes": ["info_routes"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        chat(&p, &open, "stable").await.status,
        StatusCode::FORBIDDEN
    );
}
