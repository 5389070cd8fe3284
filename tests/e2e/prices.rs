//! Prices through the real binary: a LiteLLM-format cost map from `LITELLM_MODEL_COST_MAP` and
//! one from `litellm_settings.model_cost_map_path` are merged over the built-in table; calls
//! are billed at those prices (header and spend logs) and `/model/info` shows them; a bad map
//! stops the proxy at start-up with a message naming the file.

use std::process::Command;
use std::time::Duration;

use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

use crate::harness::*;

fn config(base: &str, cost_map: &std::path::Path) -> String {
    format!(
        "model_list:\n\
         \x20 - model_name: private\n    litellm_params:\n      model: openai/my-private-model\n      \
         api_base: {base}\n      api_key: sk-upstream\n\
         \x20 - model_name: mini\n    litellm_params:\n      model: openai/gpt-4o-mini\n      \
         api_base: {base}\n      api_key: sk-upstream\n\
         litellm_settings:\n  model_cost_map_path: {}\n\
         general_settings:\n  proxy_batch_write_at: 0.05\n",
        cost_map.display()
    )
}

async fn chat(c: &reqwest::Client, p: &ProxyProcess, model: &str) -> f64 {
    let r = c
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-litellm-response-cost"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn assert_usd(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= expected * 1e-9,
        "{actual} != {expected}"
    );
}

#[tokio::test]
async fn cost_maps_from_the_environment_and_the_config_are_billed() {
    let files = TempDir::new();
    let env_map = files.path().join("env-prices.json");
    std::fs::write(
        &env_map,
        json!({
            "sample_spec": {"max_tokens": "LEGACY parameter"},
            "my-private-model": {"input_cost_per_token": 0.001, "output_cost_per_token": 0.002,
                                 "max_input_tokens": 4096, "litellm_provider": "openai", "mode": "chat"},
            "gpt-4o-mini": {"input_cost_per_token": 0.5}
        })
        .to_string(),
    )
    .unwrap();
    // The config's map is merged last: its gpt-4o-mini input price wins over the env map's.
    let cfg_map = files.path().join("cfg-prices.json");
    std::fs::write(
        &cfg_map,
        r#"{"gpt-4o-mini": {"input_cost_per_token": 0.00001}}"#,
    )
    .unwrap();

    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::reply_with_usage("a", 10, 5));
    fake.push(Scripted::reply_with_usage("b", 100, 10));
    let env_path = env_map.to_str().unwrap();
    let p = ProxyProcess::start(
        &config(&fake.base_url(), &cfg_map),
        &[("LITELLM_MODEL_COST_MAP", env_path)],
    )
    .await;
    let c = reqwest::Client::new();

    // 10 × $0.001 + 5 × $0.002
    assert_usd(chat(&c, &p, "private").await, 0.02);
    // 100 × $0.00001 (config map) + 10 × $0.0000006 (built-in output price)
    assert_usd(chat(&c, &p, "mini").await, 0.001006);

    // Both calls are in the spend logs at those costs.
    let mut logs = Value::Null;
    for _ in 0..200 {
        logs = c
            .get(p.url("/spend/logs"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if logs.as_array().is_some_and(|a| a.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let rows = logs.as_array().expect("spend logs");
    assert_eq!(rows.len(), 2, "{logs}");
    let spend_of = |group: &str| {
        rows.iter()
            .find(|r| r["model_group"] == group)
            .and_then(|r| r["spend"].as_f64())
            .unwrap_or_else(|| panic!("no row for {group}: {logs}"))
    };
    assert_usd(spend_of("private"), 0.02);
    assert_usd(spend_of("mini"), 0.001006);

    // /model/info serves the merged entries.
    let info: Value = c
        .get(p.url("/model/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let private = &info["data"][0]["model_info"];
    assert_eq!(private["input_cost_per_token"], 0.001);
    assert_eq!(private["max_input_tokens"], 4096);
    let mini = &info["data"][1]["model_info"];
    assert_eq!(mini["input_cost_per_token"], 0.00001);
    assert_eq!(mini["max_input_tokens"], 128000);
}

#[test]
fn a_bad_cost_map_stops_the_proxy_naming_the_file() {
    let dir = TempDir::new();
    let bad = dir.path().join("broken-prices.json");
    std::fs::write(&bad, r#"{"gpt-4o": {"input_cost_per_token": "cheap"}}"#).unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: mock/m\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .args(["--config", cfg.to_str().unwrap(), "--port"])
        .arg(free_port().to_string())
        .current_dir(dir.path())
        .env_remove("LITELLM_MASTER_KEY")
        .env_remove("DATABASE_URL")
        .env("LITELLM_MODEL_COST_MAP", &bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken-prices.json"), "{stderr}");
    assert!(stderr.contains("LITELLM_MODEL_COST_MAP"), "{stderr}");
    assert!(stderr.contains("input_cost_per_token"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
