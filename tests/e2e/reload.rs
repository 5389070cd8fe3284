//! Config reload through the real binary: `SIGHUP` swaps the model list while a stream started
//! before it completes; a broken file is refused with the error on stderr and the running
//! config stays; `POST /config/reload` does the same for the admin and answers 400 on a bad
//! file.

use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const MASTER: &str = "sk-e2e-reload-master";

fn sighup(p: &ProxyProcess) {
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(p.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn config(models: &str) -> String {
    format!("model_list:\n{models}general_settings:\n  master_key: {MASTER}\n")
}

async fn models(p: &ProxyProcess) -> Vec<String> {
    let body: Value = reqwest::Client::new()
        .get(p.url("/v1/models"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (up to 15 s) until `done` holds; the signal is handled asynchronously.
async fn eventually<F, Fut>(what: &str, p: &ProxyProcess, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} never happened:\n{}", p.stderr());
}

async fn reload(p: &ProxyProcess, key: Option<&str>) -> reqwest::Response {
    let mut r = reqwest::Client::new().post(p.url("/config/reload"));
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn sighup_reloads_the_config_without_dropping_a_stream() {
    let fake = FakeOpenAi::start().await;
    fake.set_default(Scripted::StreamStall {
        after_chunks: 1,
        pause: Duration::from_secs(2),
    });
    let a = config(&format!(
        "  - model_name: alpha\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {}\n      api_key: sk-upstream\n",
        fake.base_url()
    ));
    let mut p = ProxyProcess::start(&a, &[]).await;
    let file = p.dir.path().join("config.yaml");
    assert_eq!(models(&p).await, ["alpha"]);

    // A stream that stalls after its first chunk.
    let resp = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&json!({"model": "alpha", "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    let mut streamed = String::from_utf8_lossy(&first).into_owned();
    assert!(streamed.starts_with("data: "), "{streamed}");

    // Config B while the stream is stalled.
    std::fs::write(
        &file,
        config("  - model_name: beta\n    litellm_params:\n      model: mock/gpt-4o\n      mock_response: from beta\n"),
    )
    .unwrap();
    sighup(&p);
    eventually("the SIGHUP reload", &p, || async {
        models(&p).await == ["beta"]
    })
    .await;
    // The log line follows the swap by a moment.
    eventually("the reload log line", &p, || async {
        p.stderr().contains("config reloaded")
    })
    .await;

    // The stream started on config A completes.
    while let Some(bytes) = body.next().await {
        streamed.push_str(&String::from_utf8_lossy(&bytes.unwrap()));
    }
    assert!(streamed.trim_end().ends_with("data: [DONE]"), "{streamed}");
    assert!(!streamed.contains("\"error\""), "{streamed}");
    assert!(streamed.contains("\"content\""), "{streamed}");

    // The new model answers.
    let r: Value = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .bearer_auth(MASTER)
        .json(&json!({"model": "beta", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["choices"][0]["message"]["content"], "from beta");

    // A broken file: the error is logged, B stays, the process keeps running.
    std::fs::write(
        &file,
        "model_list:\n  - model_name: x\n    litellm_params:\n      rpm: fast\n",
    )
    .unwrap();
    sighup(&p);
    eventually("the failed reload's log line", &p, || async {
        p.stderr().contains("config reload failed")
    })
    .await;
    let stderr = p.stderr();
    assert!(stderr.contains("model_list[0].litellm_params"), "{stderr}");
    assert!(stderr.contains("config.yaml"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(p.child.try_wait().unwrap().is_none(), "the proxy exited");
    assert_eq!(models(&p).await, ["beta"]);
    assert!(!p.stderr().contains(MASTER), "the master key was logged");

    p.sigterm();
    assert!(p.wait_exit().await, "clean exit:\n{}", p.stderr());
}

#[tokio::test]
async fn post_config_reload_is_for_the_admin_and_rejects_a_bad_file() {
    let a = config("  - model_name: alpha\n    litellm_params:\n      model: mock/echo\n");
    let p = ProxyProcess::start(&a, &[]).await;
    let file = p.dir.path().join("config.yaml");
    std::fs::write(
        &file,
        format!(
            "{}litellm_settings:\n  budget_exceeded_status_code: 402\n",
            config("  - model_name: gamma\n    litellm_params:\n      model: mock/echo\n")
        ),
    )
    .unwrap();

    assert_eq!(reload(&p, None).await.status(), 401);
    assert_eq!(models(&p).await, ["alpha"]);

    let r = reload(&p, Some(MASTER)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "reloaded", "models": ["gamma"], "not_reloaded": ["litellm_settings"]})
    );
    assert_eq!(models(&p).await, ["gamma"]);

    std::fs::write(
        &file,
        config("  - model_name: x\n    litellm_params:\n      model: mock/echo\n      rpm: fast\n"),
    )
    .unwrap();
    let r = reload(&p, Some(MASTER)).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("model_list[0].litellm_params"),
        "{message}"
    );
    assert!(message.contains("config.yaml"), "{message}");
    assert_eq!(models(&p).await, ["gamma"]);
}
