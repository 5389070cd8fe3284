//! The JSON access log (`litellm_rs::access`): one line per request, the 401 of a bad key
//! included, with the call's facts and no key, secret or message in any line. Its own test
//! binary: it captures the log through a thread-local tracing subscriber, which tests running
//! beside it on other threads could race.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use common::{user_says, Proxy};
use litellm_test_support::FakeOpenAi;

const MASTER: &str = "sk-master-log-1234";
const UPSTREAM_KEY: &str = "sk-upstream-log-secret";

fn config(upstream: &str) -> String {
    format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      \
         api_base: {upstream}\n      api_key: {UPSTREAM_KEY}\n      input_cost_per_token: 0.5\n      \
         output_cost_per_token: 1.0\n    model_info:\n      id: dep-1\ngeneral_settings:\n  \
         master_key: {MASTER}\n"
    )
}

/// A `MakeWriter` collecting log output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_json_access_log_has_one_line_per_request_and_no_secret() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_max_level(tracing::Level::INFO)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeOpenAi::start().await;
    let p = Proxy::new(&config(&fake.base_url())).await;
    let key = p.new_key_as(MASTER, json!({"key_alias": "log-bot"})).await;
    let r = p
        .post_as(&key, "/v1/chat/completions", user_says("gpt", "log-me-not"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let call_id = r.header("x-litellm-call-id").unwrap().to_string();
    let r = p
        .post_as(
            "sk-bogus-key-555",
            "/v1/chat/completions",
            json!({"model": "gpt"}),
        )
        .await;
    assert_eq!(r.status, 401);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let access: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "litellm_rs::access")
        .collect();
    assert_eq!(access.len(), 2, "{text}");
    let ok = &access[0];
    assert_eq!(ok["level"], "INFO");
    assert_eq!(ok["request_id"], call_id.as_str());
    assert_eq!(ok["status_code"], 200);
    assert_eq!(ok["status"], "success");
    assert_eq!(ok["key_alias"], "log-bot");
    assert_eq!(ok["key_hash"], &litellm_auth::hash_token(&key)[..12]);
    assert_eq!(ok["requested_model"], "gpt");
    assert_eq!(ok["model_group"], "gpt");
    assert_eq!(ok["deployment_id"], "dep-1");
    assert!(ok["latency_ms"].is_u64());
    assert!(ok["cost"].as_f64().unwrap() > 0.0);
    assert!(ok["total_tokens"].as_u64().unwrap() > 0);
    let failed = &access[1];
    assert_eq!(failed["status_code"], 401);
    assert_eq!(failed["status"], "failure");
    assert!(failed["error"].is_string());
    for secret in [
        key.as_str(),
        MASTER,
        UPSTREAM_KEY,
        "sk-bogus-key-555",
        "log-me-not",
    ] {
        assert!(!text.contains(secret), "a log line shows {secret}:\n{text}");
    }
}
