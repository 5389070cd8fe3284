//! `POST /config/reload` in process: the router's model list and settings are swapped, a stream
//! started before the reload completes, a bad file answers 400 naming the path inside it and
//! leaves the running config, changed sections that are not reloaded are listed, per-deployment
//! metrics cover new deployments, and only the admin may reload.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::StreamExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{Proxy, Resp};
use litellm_server::reload::Reloader;
use litellm_test_support::{FakeOpenAi, Scripted};

const MASTER: &str = "sk-reload-master";

const CONFIG_A: &str =
    "model_list:\n  - model_name: alpha\n    litellm_params:\n      model: mock/echo\n";

const CONFIG_B: &str = "model_list:\n  - model_name: beta\n    litellm_params:\n      model: mock/gpt-4o\n      mock_response: from beta\n    model_info:\n      id: beta-1\nrouter_settings:\n  num_retries: 1\n";

/// A proxy started from a config file, with the reloader the server installs.
struct Reloadable {
    proxy: Proxy,
    file: PathBuf,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Reloadable {
    async fn start(yaml: &str) -> Reloadable {
        let dir = std::env::temp_dir().join(format!("litellm-rs-reload-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.yaml");
        std::fs::write(&file, yaml).unwrap();
        let mut proxy = Proxy::new(yaml).await;
        proxy.app = proxy
            .app
            .clone()
            .layer(axum::Extension(Arc::new(Reloader::new(&file))));
        Reloadable {
            proxy,
            file,
            _dir: TempDir(dir),
        }
    }

    fn write(&self, yaml: &str) {
        std::fs::write(&self.file, yaml).unwrap();
    }

    async fn reload(&self, key: Option<&str>) -> Resp {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.proxy
            .post_raw("/config/reload", Vec::new(), &headers)
            .await
    }

    async fn models(&self, key: Option<&str>) -> Vec<String> {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let r = self.proxy.get("/v1/models", &headers).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn a_reload_swaps_the_models_and_router_settings() {
    let p = Reloadable::start(CONFIG_A).await;
    assert_eq!(p.models(None).await, ["alpha"]);
    p.write(CONFIG_B);
    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"status": "reloaded", "models": ["beta"], "not_reloaded": []})
    );
    assert_eq!(p.models(None).await, ["beta"]);
    assert_eq!(p.proxy.state.router.settings().num_retries, 1);

    let r = p.proxy.post("/v1/chat/completions", chat("beta")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["choices"][0]["message"]["content"], "from beta");
    assert_eq!(r.header("x-litellm-model-id"), Some("beta-1"));
    let r = p.proxy.post("/v1/chat/completions", chat("alpha")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // The new deployment has its per-deployment gauge.
    let m = p.proxy.get("/metrics", &[]).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert!(
        m.text
            .lines()
            .any(|l| l.starts_with("litellm_deployment_state") && l.contains("beta-1")),
        "{}",
        m.text
    );
}

#[tokio::test]
async fn a_bad_file_answers_400_naming_the_field_and_keeps_the_running_config() {
    let p = Reloadable::start(CONFIG_A).await;
    let cases = [
        (
            "model_list:\n  - model_name: x\n    litellm_params:\n      model: mock/echo\n      rpm: fast\n",
            "model_list[0].litellm_params",
        ),
        ("model_list: [unclosed\n", "invalid YAML"),
        (
            "model_list:\n  - model_name: x\n    litellm_params:\n      model: nosuchprovider/some-model\n",
            "model_list[0]",
        ),
        (
            "model_list:\n  - model_name: x\n    litellm_params:\n      model: mock/echo\nrouter_settings:\n  routing_strategy: fastest-please\n",
            "fastest-please",
        ),
    ];
    for (yaml, expected) in cases {
        p.write(yaml);
        let r = p.reload(None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{yaml}: {}", r.text);
        let body = r.json();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
        assert!(message.contains("config.yaml"), "names the file: {message}");
        assert_eq!(p.models(None).await, ["alpha"]);
    }
    // A missing file too.
    std::fs::remove_file(&p.file).unwrap();
    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("cannot read config file"), "{}", r.text);
    let r = p.proxy.post("/v1/chat/completions", chat("alpha")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn changed_sections_that_are_not_reloaded_are_listed() {
    let start = format!(
        "{CONFIG_A}litellm_settings:\n  num_retries: 0\n  budget_exceeded_status_code: 422\ngeneral_settings:\n  max_request_size_mb: 8\n"
    );
    let p = Reloadable::start(&start).await;
    // The router's litellm_settings keys are reloaded: not listed.
    p.write(&format!(
        "{CONFIG_A}litellm_settings:\n  num_retries: 3\n  budget_exceeded_status_code: 422\ngeneral_settings:\n  max_request_size_mb: 8\n"
    ));
    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["not_reloaded"], json!([]));
    assert_eq!(p.proxy.state.router.settings().num_retries, 3);

    p.write(&format!(
        "{CONFIG_B}litellm_settings:\n  num_retries: 3\n  budget_exceeded_status_code: 402\ngeneral_settings:\n  max_request_size_mb: 16\nenvironment_variables:\n  SOME_FLAG: \"1\"\n"
    ));
    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["not_reloaded"],
        json!([
            "environment_variables",
            "general_settings",
            "litellm_settings"
        ])
    );
    // The router part was applied all the same.
    assert_eq!(p.models(None).await, ["beta"]);

    // A Redis change in router_settings is not applied either.
    p.write(&format!(
        "{CONFIG_A}litellm_settings:\n  num_retries: 0\n  budget_exceeded_status_code: 422\ngeneral_settings:\n  max_request_size_mb: 8\nrouter_settings:\n  redis_host: 127.0.0.1\n"
    ));
    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["not_reloaded"], json!(["router_settings.redis"]));
    assert_eq!(p.proxy.state.router.state_kind(), "memory");
}

#[tokio::test]
async fn only_the_admin_may_reload() {
    let with_key = |body: &str| format!("{body}general_settings:\n  master_key: {MASTER}\n");
    let p = Reloadable::start(&with_key(CONFIG_A)).await;
    p.write(&with_key(CONFIG_B));

    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = p.reload(Some("sk-wrong")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(!r.text.contains(MASTER));

    // A virtual key that is not a proxy admin's.
    let r = p
        .proxy
        .post_raw(
            "/key/generate",
            serde_json::to_vec(&json!({"key_alias": "app"})).unwrap(),
            &[("authorization", &format!("Bearer {MASTER}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = r.json()["key"].as_str().unwrap().to_string();
    let r = p.reload(Some(&key)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(p.models(Some(MASTER)).await, ["alpha"]);

    let r = p.reload(Some(MASTER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(p.models(Some(MASTER)).await, ["beta"]);
}

#[tokio::test]
async fn without_a_config_file_reload_is_refused() {
    let p = Proxy::new(CONFIG_A).await;
    let r = p.post_raw("/config/reload", Vec::new(), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("--config"), "{}", r.text);
}

#[tokio::test]
async fn a_stream_started_before_a_reload_completes() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamStall {
        after_chunks: 1,
        pause: Duration::from_millis(300),
    });
    let a = format!(
        "model_list:\n  - model_name: alpha\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {}\n      api_key: sk-upstream\n",
        fake.base_url()
    );
    let p = Reloadable::start(&a).await;
    let req = Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::to_vec(&json!({"model": "alpha", "stream": true,
                "messages": [{"role": "user", "content": "hi"}]}))
            .unwrap(),
        ))
        .unwrap();
    let resp = p.proxy.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body().into_data_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "), "{first:?}");

    p.write(CONFIG_B);
    let r = p.reload(None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(p.models(None).await, ["beta"]);

    let mut rest = String::from_utf8_lossy(&first).into_owned();
    while let Some(bytes) = body.next().await {
        rest.push_str(&String::from_utf8_lossy(&bytes.unwrap()));
    }
    assert!(rest.trim_end().ends_with("data: [DONE]"), "{rest}");
    assert!(!rest.contains("\"error\""), "{rest}");
    assert_eq!(fake.request_count(), 1);
}
