//! End-to-end tests of the real `litellm-rs` binary: the quickstart through the mock provider,
//! an OpenAI-compatible upstream, graceful shutdown that loses no spend record, client
//! disconnects that cancel the upstream call, and the CLI's subcommands and bind rules.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod anthropic;
mod bedrock;
mod budgets;
mod cache;
mod callbacks;
mod claude_code;
mod clients;
mod codex;
mod cohere;
mod deploy;
mod durability;
mod gemini;
mod harness;
mod keys;
mod messages;
mod metrics;
mod ollama;
mod openai_compat;
mod otel;
mod prices;
mod providers;
mod ratelimits;
mod reload;
mod replicas;
mod routing;
mod tags;

use std::process::Command;
use std::time::Duration;

use harness::*;
use serde_json::{json, Value};

fn quickstart() -> String {
    std::fs::read_to_string(repo().join("config/quickstart.yaml")).unwrap()
}

fn sse_payloads(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn quickstart_answers_chat_and_streams_through_the_mock() {
    let p = ProxyProcess::start(&quickstart(), &[]).await;
    let client = reqwest::Client::new();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "mock-gpt", "messages": [{"role": "user", "content": "Hello!"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-litellm-model-group"].to_str().unwrap(),
        "mock-gpt"
    );
    let body: Value = r.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("litellm-rs"), "{content}");

    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "echo", "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "stream this"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events = sse_payloads(&text);
    assert_eq!(events.last().unwrap(), "[DONE]");
    let usage_chunk: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert!(usage_chunk["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let streamed: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(streamed.contains("stream this"), "{streamed}");

    let models: Value = client
        .get(p.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(models["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "mock-gpt"));
    // The embedded default keeps spend in a SQLite file in the working directory.
    assert!(p.dir.path().join("litellm-rs.db").exists());
    assert!(
        p.stderr().contains("master key"),
        "no master key must be warned about"
    );
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_and_flushes_their_spend() {
    let (upstream, mut events) = slow_upstream(Duration::from_millis(1500)).await;
    let config = format!(
        "model_list:\n  - model_name: slow\n    litellm_params:\n      model: openai/slow-model\n      api_base: {upstream}\n      api_key: sk-upstream\ngeneral_settings:\n  proxy_batch_write_at: 3600\n"
    );
    let mut p = ProxyProcess::start(&config, &[]).await;
    let url = p.url("/v1/chat/completions");
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({"model": "slow", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap()
    });
    // Signal once the request reached the upstream, which answers only 1.5 s later: the
    // signal lands while the request is in flight.
    assert!(matches!(events.recv().await, Some(UpstreamEvent::Received)));
    p.sigterm();
    let resp = in_flight.await.unwrap();
    assert_eq!(resp.status(), 200, "the in-flight request completes");
    let call_id = resp.headers()["x-litellm-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(matches!(events.recv().await, Some(UpstreamEvent::Answered)));
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());

    // The flush interval was an hour: only the shutdown flush can have written this row.
    let db = format!("sqlite://{}", p.dir.path().join("litellm-rs.db").display());
    let ledger = litellm_auth::Ledger::connect(&db, litellm_auth::LedgerOptions::default())
        .await
        .unwrap();
    let rows = ledger
        .spend_logs(litellm_auth::SpendLogFilter::default())
        .await
        .unwrap();
    let row = rows
        .iter()
        .find(|r| r.request_id == call_id)
        .unwrap_or_else(|| panic!("no spend row for {call_id}: {rows:?}"));
    assert_eq!(row.total_tokens, 7);
    assert_eq!(row.model_group, "slow");
    ledger.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_disconnect_cancels_the_upstream_call() {
    let (upstream, mut events) = slow_upstream(Duration::from_secs(20)).await;
    let config = format!(
        "model_list:\n  - model_name: slow\n    litellm_params:\n      model: openai/slow-model\n      api_base: {upstream}\n      api_key: sk-upstream\n"
    );
    let p = ProxyProcess::start(&config, &[]).await;
    let err = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .timeout(Duration::from_millis(500))
        .json(&json!({"model": "slow", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(matches!(events.recv().await, Some(UpstreamEvent::Received)));
    // The upstream sees the proxy hang up long before its 20 s answer would be due.
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("the upstream call was not cancelled");
    assert!(matches!(event, Some(UpstreamEvent::HungUp)), "{event:?}");
}

#[test]
fn without_a_master_key_a_public_address_is_refused() {
    let dir = TempDir::new();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, quickstart()).unwrap();
    let out = Command::new(binary())
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--host",
            "0.0.0.0",
            "--port",
        ])
        .arg(free_port().to_string())
        .current_dir(dir.path())
        .env_remove("LITELLM_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bad_config_exits_non_zero_naming_the_path() {
    let dir = TempDir::new();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "model_list:\n  - model_name: x\n    litellm_params:\n      rpm: fast\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .args(["--config", cfg.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("model_list[0].litellm_params"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_prints_the_model_groups_without_secrets() {
    let dir = TempDir::new();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-very-secret-123\n  - model_name: echo\n    litellm_params:\n      model: mock/echo\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .args(["check", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("gpt-4o") && stdout.contains("echo"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("sk-very-secret-123") && !stderr.contains("sk-very-secret-123"),
        "check printed a secret"
    );
}

#[test]
fn openapi_prints_the_committed_document() {
    let out = Command::new(binary()).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("docs/openapi.json")).unwrap())
            .unwrap();
    assert_eq!(printed, committed);
}
