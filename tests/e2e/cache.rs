//! The response cache through the real binary: `litellm_settings.cache: true` answers a repeated
//! request from memory (one upstream call, cost 0, same `x-litellm-cache-key`), the admin routes
//! answer, and the hit is counted in `/metrics`.

use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::json;

use crate::harness::ProxyProcess;

#[tokio::test]
async fn a_repeated_request_is_served_from_the_cache() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::reply_with_usage("from the upstream once", 12, 4));
    let config = format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-upstream
      api_base: {}
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
general_settings:
  master_key: sk-e2e-cache
litellm_settings:
  cache: true
  cache_params:
    type: local
    ttl: 60
"#,
        fake.base_url()
    );
    let p = ProxyProcess::start(&config, &[]).await;
    let client = reqwest::Client::new();
    let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "cache me"}]});
    let mut keys = Vec::new();
    let mut costs = Vec::new();
    for _ in 0..3 {
        let r = client
            .post(p.url("/v1/chat/completions"))
            .bearer_auth("sk-e2e-cache")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", p.stderr());
        let h = |n: &str| r.headers().get(n).unwrap().to_str().unwrap().to_string();
        keys.push(h("x-litellm-cache-key"));
        costs.push(h("x-litellm-response-cost"));
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "from the upstream once"
        );
    }
    assert_eq!(fake.request_count(), 1);
    assert!(
        keys.iter().all(|k| k == &keys[0] && k.len() == 64),
        "{keys:?}"
    );
    assert_ne!(costs[0], "0.0");
    assert_eq!(&costs[1..], ["0.0", "0.0"]);

    let r = client
        .get(p.url("/cache/ping"))
        .bearer_auth("sk-e2e-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let metrics = client
        .get(p.url("/metrics"))
        .bearer_auth("sk-e2e-cache")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hits: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("litellm_cache_hits_metric") && l.contains("model=\"gpt\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(hits, 2.0, "{metrics}");
}
