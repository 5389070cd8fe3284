//! `/health` (admin, real probes, `?model=`, background results feeding the router),
//! `/health/readiness` (database and Redis) and `/health/liveliness`.
#![allow(clippy::unwrap_used)]

mod common;

use common::Proxy;
use serde_json::{json, Value};

use litellm_test_support::{FakeOpenAi, Scripted};

const MASTER: &str = "sk-master-1234";

fn admin() -> [(&'static str, String); 1] {
    [("authorization", format!("Bearer {MASTER}"))]
}

async fn get_admin(p: &Proxy, path: &str) -> common::Resp {
    p.get_as(MASTER, path).await
}

/// Two chat deployments in group `gpt` (healthy `good`, failing `bad`, whose upstream key is
/// a secret) and one embedding deployment.
fn config(good: &str, bad: &str, extra: &str) -> String {
    format!(
        r#"model_list:
  - model_name: gpt
    litellm_params:
      model: openai/good-model
      api_base: {good}
      api_key: sk-good-upstream
    model_info:
      id: good
  - model_name: gpt
    litellm_params:
      model: openai/bad-model
      api_base: {bad}
      api_key: sk-very-secret-upstream
      timeout: 5
    model_info:
      id: bad
  - model_name: embed
    litellm_params:
      model: openai/embed-model
      api_base: {good}
      api_key: sk-good-upstream
    model_info:
      id: emb
      mode: embedding
general_settings:
  master_key: {MASTER}
{extra}"#
    )
}

fn models(list: &Value) -> Vec<String> {
    let mut m: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["model"].as_str().unwrap().to_string())
        .collect();
    m.sort();
    m
}

#[tokio::test]
async fn health_probes_every_deployment_and_hides_secrets() {
    let good = FakeOpenAi::start().await;
    let bad = FakeOpenAi::start().await;
    bad.set_default(Scripted::error(
        401,
        "Incorrect API key provided",
        "invalid_request_error",
        Some("invalid_api_key"),
    ));
    let p = Proxy::new(&config(&good.base_url(), &bad.base_url(), "")).await;
    let r = get_admin(&p, "/health").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["healthy_count"], 2, "{body}");
    assert_eq!(body["unhealthy_count"], 1);
    assert_eq!(
        models(&body["healthy_endpoints"]),
        ["openai/embed-model", "openai/good-model"]
    );
    let unhealthy = &body["unhealthy_endpoints"][0];
    assert_eq!(unhealthy["model"], "openai/bad-model");
    let error = unhealthy["error"].as_str().unwrap();
    assert!(error.contains("Incorrect API key"), "{error}");
    assert_eq!(unhealthy["api_base"], bad.base_url().as_str());
    assert!(!r.text.contains("sk-very-secret-upstream"), "{}", r.text);
    assert!(!r.text.contains("sk-good-upstream"));

    // The probes are minimal real calls: chat "ping" with max_tokens 1, and an embedding.
    let chat = bad.requests();
    assert_eq!(chat.len(), 1);
    assert!(
        chat[0].path.ends_with("/chat/completions"),
        "{}",
        chat[0].path
    );
    assert_eq!(chat[0].body["max_tokens"], 1);
    assert_eq!(chat[0].body["messages"][0]["content"], "ping");
    let paths: Vec<String> = good.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p.ends_with("/embeddings")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with("/chat/completions")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn health_checks_one_group_with_model() {
    let good = FakeOpenAi::start().await;
    let bad = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&good.base_url(), &bad.base_url(), "")).await;
    let r = get_admin(&p, "/health?model=embed").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["healthy_count"], 1);
    assert_eq!(models(&body["healthy_endpoints"]), ["openai/embed-model"]);
    assert_eq!(bad.request_count(), 0);

    let r = get_admin(&p, "/health?model=nope").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"]["param"], "model");
}

#[tokio::test]
async fn health_is_for_admins_only() {
    let good = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&good.base_url(), &good.base_url(), "")).await;
    assert_eq!(p.get("/health", &[]).await.status, 401);
    let [(k, v)] = admin();
    let r = p
        .post_raw(
            "/key/generate",
            serde_json::to_vec(&json!({})).unwrap(),
            &[(k, &v)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let key = format!("Bearer {}", r.json()["key"].as_str().unwrap());
    let r = p.get("/health", &[("authorization", &key)]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(good.request_count(), 0, "no probe for a refused caller");
}

#[tokio::test]
async fn background_checks_feed_the_router_and_serve_health() {
    let good = FakeOpenAi::start().await;
    let bad = FakeOpenAi::start().await;
    bad.set_default(Scripted::error(500, "down", "server_error", None));
    let yaml = config(
        &good.base_url(),
        &bad.base_url(),
        "  background_health_checks: true\n  health_check_interval: 60\n",
    );
    let loaded = litellm_server::parse_config(&yaml).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let p = Proxy::new(&yaml).await;
    litellm_server::service::health::background_round(&p.state).await;
    assert_eq!(p.state.router.unhealthy_deployments(), ["bad"]);
    bad.clear_requests();

    // The unhealthy deployment is skipped while its group has a healthy one.
    for _ in 0..8 {
        let r = p.chat(MASTER, "gpt").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-litellm-model-id"), Some("good"));
    }
    assert!(bad.requests().is_empty());

    // /health answers the background results without probing again.
    let before = good.requests().len();
    let r = get_admin(&p, "/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["unhealthy_count"], 1);
    assert_eq!(good.requests().len(), before);

    // A later round that finds it healthy puts it back.
    bad.set_default(Scripted::reply("ok"));
    litellm_server::service::health::background_round(&p.state).await;
    assert!(p.state.router.unhealthy_deployments().is_empty());
}

#[tokio::test]
async fn an_unhealthy_deployment_is_still_used_when_it_is_the_only_one() {
    let bad = FakeOpenAi::start().await;
    let p = Proxy::new(&format!(
        "model_list:\n  - model_name: solo\n    litellm_params:\n      model: openai/m\n      api_base: {}\n      api_key: sk-x\n    model_info:\n      id: solo-1\ngeneral_settings:\n  master_key: {MASTER}\n",
        bad.base_url()
    ))
    .await;
    p.state.router.set_unhealthy(["solo-1".to_string()]);
    let r = p.chat(MASTER, "solo").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn readiness_reports_the_database_and_redis() {
    let good = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&good.base_url(), &good.base_url(), "")).await;
    let r = p.get("/health/readiness", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["db"], "connected");
    assert_eq!(body["redis"], "not configured");
    assert!(body["litellm_version"].is_string());
    assert!(body["success_callbacks"].is_array());
    assert!(body.get("cache").is_some());

    // Redis that answers, and Redis that does not.
    for (url, expected) in [
        ("redis://127.0.0.1:6379", "connected"),
        ("redis://127.0.0.1:1", "disconnected"),
    ] {
        let yaml = config(
            &good.base_url(),
            &good.base_url(),
            &format!("router_settings:\n  redis_url: {url}\n  redis_timeout: 1\n"),
        );
        let p = Proxy::new(&yaml).await;
        let r = p.get("/health/readiness", &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["redis"], expected, "{url}");
    }
}

#[tokio::test]
async fn liveliness_is_a_constant_answer() {
    let good = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&good.base_url(), &good.base_url(), "")).await;
    for path in ["/health/liveliness", "/health/liveness"] {
        let r = p.get(path, &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json(), json!("I'm alive!"));
    }
    assert_eq!(good.request_count(), 0);
}

#[tokio::test]
async fn readiness_shows_the_database_error_to_admins_only() {
    let good = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&good.base_url(), &good.base_url(), "")).await;
    p.ledger.store().close().await;
    let r = p.get("/health/readiness", &[]).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json()["db"], "disconnected");
    let r = p.get_as(MASTER, "/health/readiness").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let db = r.json()["db"].as_str().unwrap().to_string();
    assert!(db.starts_with("disconnected: "), "{db}");
}

/// A deployment's credentials never show, whatever their shape: a credential given as a
/// mapping, `headers`, and `user:pass@` in `api_base` stay out of `/health`, `/model/info`,
/// `x-litellm-model-api-base` and the spend log.
#[tokio::test]
async fn credentials_of_any_shape_never_show() {
    let fake = FakeOpenAi::start().await;
    let base = fake
        .base_url()
        .replace("http://", "http://user:hunter2-pass@");
    let yaml = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/good-model\n      \
         api_base: {base}\n      api_key: sk-upstream-1\n      headers:\n        X-Tenant-Secret: \
         hdr-secret-2\n      vertex_credentials:\n        type: service_account\n        \
         private_key: pk-secret-3\ngeneral_settings:\n  master_key: {MASTER}\n"
    );
    let p = Proxy::new(&yaml).await;
    let r = p.chat(MASTER, "gpt").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shown_base = r.header("x-litellm-model-api-base").unwrap().to_string();
    let health = get_admin(&p, "/health").await.text;
    let info = get_admin(&p, "/model/info").await.text;
    let rows = p.flushed_spend_logs(1).await;
    for (what, text) in [
        ("header", shown_base.as_str()),
        ("/health", health.as_str()),
        ("/model/info", info.as_str()),
        ("spend log", rows[0].api_base.as_str()),
    ] {
        for secret in [
            "hunter2-pass",
            "hdr-secret-2",
            "pk-secret-3",
            "sk-upstream-1",
        ] {
            assert!(!text.contains(secret), "{what} shows {secret}: {text}");
        }
    }
    assert!(health.contains("good-model"), "{health}");
    assert!(shown_base.starts_with("http://127.0.0.1:"), "{shown_base}");
}
