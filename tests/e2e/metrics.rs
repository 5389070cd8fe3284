//! Metrics and health through the real binary: `/metrics` behind the master key with LiteLLM's
//! names after real calls, background health checks that take a dead deployment out of
//! rotation and serve `/health`, and readiness with the database.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

const MASTER: &str = "sk-e2e-metrics-master-01";

fn config(dead_port: u16) -> String {
    format!(
        "model_list:\n  - model_name: g\n    litellm_params:\n      model: mock/gpt-4o\n      \
         mock_response: \"hi\"\n    model_info:\n      id: alive\n  - model_name: g\n    \
         litellm_params:\n      model: openai/gone\n      api_base: http://127.0.0.1:{dead_port}/v1\n      \
         api_key: sk-e2e-upstream-secret\n      timeout: 2\n    model_info:\n      id: dead\n\
         router_settings:\n  num_retries: 0\n  disable_cooldowns: true\n\
         general_settings:\n  master_key: {MASTER}\n  background_health_checks: true\n  \
         health_check_interval: 1\n"
    )
}

#[tokio::test]
async fn metrics_and_background_health_checks_work_through_the_binary() {
    let p = ProxyProcess::start(&config(free_port()), &[]).await;
    let c = reqwest::Client::new();

    let r = c.get(p.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // The first background round runs at startup; wait (bounded) until it has reported.
    let mut health = Value::Null;
    for _ in 0..100 {
        let r = c
            .get(p.url("/health"))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        health = r.json().await.unwrap();
        if health["unhealthy_count"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health["unhealthy_count"], 1, "{health}");
    assert_eq!(health["healthy_count"], 1, "{health}");
    assert_eq!(health["unhealthy_endpoints"][0]["model"], "openai/gone");
    assert!(!health.to_string().contains("sk-e2e-upstream-secret"));

    // The dead deployment is skipped while the live one is healthy.
    for _ in 0..5 {
        let r = c
            .post(p.url("/v1/chat/completions"))
            .bearer_auth(MASTER)
            .json(&json!({"model": "g", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-litellm-model-id"].to_str().unwrap(), "alive");
    }

    let r = c
        .get(p.url("/metrics"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let line = |prefix: &str, needle: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix) && l.contains(needle))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
    };
    assert_eq!(
        line(
            "litellm_proxy_total_requests_metric_total{",
            "status_code=\"200\""
        ),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        line(
            "litellm_deployment_success_responses_total{",
            "model_id=\"alive\""
        ),
        Some(5.0)
    );
    assert_eq!(
        line("litellm_deployment_state{", "model_id=\"alive\""),
        Some(0.0)
    );
    assert!(text.contains("# TYPE litellm_request_total_latency_metric histogram"));
    assert!(!text.contains(MASTER));

    let r = c.get(p.url("/health/readiness")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["db"], "connected");
    assert_eq!(body["redis"], "not configured");
}
