//! The `generic_api` webhook against an in-process receiver (StandardLoggingPayload-shaped
//! events for successes, streams, embeddings and failures; batching; retries with backoff;
//! overflow drops counted; the flush at shutdown; `turn_off_message_logging`); a caller without
//! a valid key sends no event. The JSON access log is `access_log.rs` (its own process: it
//! captures the log through a thread-local subscriber).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use common::{user_says, Proxy, Recorder};
use litellm_test_support::FakeOpenAi;

const MASTER: &str = "sk-master-hook-1234";
const UPSTREAM_KEY: &str = "sk-upstream-hook-secret";

#[derive(Default)]
struct Hooked {
    posts: Vec<(HeaderMap, String)>,
    /// Statuses to answer, in order (then 200).
    statuses: VecDeque<u16>,
}

/// A webhook receiver on 127.0.0.1 recording every POST to `/logs`.
type Receiver = Recorder<Hooked>;

async fn hook(State(s): State<Arc<Mutex<Hooked>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut s = s.lock().unwrap();
    s.posts
        .push((headers, String::from_utf8_lossy(&body).into_owned()));
    StatusCode::from_u16(s.statuses.pop_front().unwrap_or(200)).unwrap()
}

impl Receiver {
    async fn listen() -> Receiver {
        Recorder::start("/logs", hook).await
    }

    fn url(&self) -> String {
        format!("{}/logs", self.base_url())
    }

    fn posts(&self) -> Vec<(HeaderMap, String)> {
        self.state.lock().unwrap().posts.clone()
    }

    /// The events of every successful POST (JSON arrays), waiting up to 10 s for `n`.
    async fn events(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let events: Vec<Value> = self
                .posts()
                .iter()
                .flat_map(|(_, b)| {
                    serde_json::from_str::<Vec<Value>>(b).unwrap_or_else(|e| panic!("{e}: {b}"))
                })
                .collect();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} events arrived: {:?}", self.posts());
    }
}

fn config(upstream: &str, hook: &str, extra_settings: &str, hook_settings: &str) -> String {
    let mut hook_settings = hook_settings.to_string();
    if !hook_settings.contains("flush_interval") {
        hook_settings.push_str("    flush_interval: 0.05\n");
    }
    format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {upstream}\n      api_key: {UPSTREAM_KEY}\n      input_cost_per_token: 0.5\n      output_cost_per_token: 1.0\n    model_info:\n      id: dep-1\n  - model_name: embed\n    litellm_params:\n      model: openai/text-embedding-3-small\n      api_base: {upstream}\n      api_key: {UPSTREAM_KEY}\n    model_info:\n      id: dep-e\nlitellm_settings:\n  callbacks: [generic_api]\n{extra_settings}callback_settings:\n  generic_api:\n    endpoint: {hook}\n    headers:\n      Authorization: Bearer hook-token\n{hook_settings}general_settings:\n  master_key: {MASTER}\n"
    )
}

async fn new_key(p: &Proxy, alias: &str) -> String {
    let r = post(p, "/team/new", MASTER, json!({"team_id": "team-a"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    p.new_key_as(MASTER, json!({"key_alias": alias, "team_id": "team-a"}))
        .await
}

/// A fake upstream, a hook receiver and a proxy over both: [`config`] with `extra_settings`
/// and `hook_settings`.
async fn start(extra_settings: &str, hook_settings: &str) -> (FakeOpenAi, Receiver, Proxy) {
    let fake = FakeOpenAi::start().await;
    let hook = Receiver::listen().await;
    let p = Proxy::new(&config(
        &fake.base_url(),
        &hook.url(),
        extra_settings,
        hook_settings,
    ))
    .await;
    (fake, hook, p)
}

async fn post(p: &Proxy, path: &str, key: &str, body: Value) -> common::Resp {
    p.post_as(key, path, body).await
}

/// A chat of one user message, `content`, to `gpt` by `key`, which must be answered (200).
async fn answered(p: &Proxy, key: &str, content: &str) -> common::Resp {
    let r = post(p, "/v1/chat/completions", key, user_says("gpt", content)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

#[tokio::test]
async fn every_request_sends_one_standard_logging_payload() {
    let (fake, hook, p) = start("", "").await;
    let key = new_key(&p, "hook-bot").await;

    let ok = answered(&p, &key, "hello hook").await;
    let call_id = ok.header("x-litellm-call-id").unwrap().to_string();
    let streamed = post(
        &p,
        "/v1/chat/completions",
        &key,
        json!({"model": "gpt", "stream": true, "messages": [{"role": "user", "content": "s"}]}),
    )
    .await;
    assert_eq!(streamed.status, 200);
    let emb = post(
        &p,
        "/v1/embeddings",
        &key,
        json!({"model": "embed", "input": "vec"}),
    )
    .await;
    assert_eq!(emb.status, 200, "{}", emb.text);
    let bad = post(
        &p,
        "/v1/chat/completions",
        &key,
        json!({"model": "gpt", "messages": []}),
    )
    .await;
    assert_eq!(bad.status, 400);

    let events = hook.events(4).await;
    assert_eq!(events.len(), 4, "{events:#?}");
    let hash = litellm_auth::hash_token(&key);
    let chat = events.iter().find(|e| e["id"] == call_id.as_str()).unwrap();
    assert_eq!(chat["call_type"], "acompletion");
    assert_eq!(chat["status"], "success");
    assert_eq!(chat["stream"], false);
    assert_eq!(chat["model_group"], "gpt");
    assert_eq!(chat["model_id"], "dep-1");
    assert_eq!(chat["custom_llm_provider"], "openai");
    assert_eq!(chat["api_base"], fake.base_url());
    assert!(chat["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        chat["total_tokens"].as_u64().unwrap(),
        chat["prompt_tokens"].as_u64().unwrap() + chat["completion_tokens"].as_u64().unwrap()
    );
    assert!(chat["response_cost"].as_f64().unwrap() > 0.0);
    assert!(chat["startTime"].as_f64().unwrap() <= chat["endTime"].as_f64().unwrap());
    assert!(chat["completionStartTime"].is_number());
    assert_eq!(chat["metadata"]["user_api_key_hash"], hash);
    assert_eq!(chat["metadata"]["user_api_key_alias"], "hook-bot");
    assert_eq!(chat["metadata"]["user_api_key_team_id"], "team-a");
    assert_eq!(chat["cache_hit"], false);
    assert!(chat["error_str"].is_null());
    assert_eq!(chat["messages"][0]["content"], "hello hook");
    assert!(chat["response"]["choices"][0]["message"]["content"].is_string());

    let stream = events.iter().find(|e| e["stream"] == true).unwrap();
    assert_eq!(stream["status"], "success");
    assert!(stream["completion_tokens"].as_u64().unwrap() > 0);
    let embedding = events
        .iter()
        .find(|e| e["call_type"] == "aembedding")
        .unwrap();
    assert_eq!(embedding["model_id"], "dep-e");
    assert_eq!(embedding["messages"], "vec");
    let failure = events.iter().find(|e| e["status"] == "failure").unwrap();
    assert_eq!(failure["call_type"], "acompletion");
    assert!(failure["error_str"].as_str().unwrap().contains("messages"));
    assert_eq!(failure["error_information"]["error_code"], "400");
    assert_eq!(
        failure["error_information"]["error_class"],
        "BadRequestError"
    );
    assert_eq!(failure["metadata"]["user_api_key_alias"], "hook-bot");

    for (headers, body) in hook.posts() {
        assert_eq!(headers["authorization"], "Bearer hook-token");
        assert_eq!(headers["content-type"], "application/json");
        for secret in [key.as_str(), MASTER, UPSTREAM_KEY] {
            assert!(!body.contains(secret), "an event leaks a key: {body}");
        }
    }
    assert_eq!(p.state.callbacks.dropped_events(), 0);
}

#[tokio::test]
async fn turn_off_message_logging_keeps_contents_out_of_events() {
    let (_fake, hook, p) = start("  turn_off_message_logging: true\n", "").await;
    answered(&p, MASTER, "confidential words").await;
    let events = hook.events(1).await;
    assert!(events[0]["messages"].is_null());
    assert!(events[0]["response"].is_null());
    assert!(!hook.posts()[0].1.contains("confidential words"));
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_batches_respect_event_types() {
    let (_fake, hook, p) = start(
        "",
        "    event_types: [llm_api_success]\n    batch_size: 2\n    flush_interval: 3600\n",
    )
    .await;
    hook.state.lock().unwrap().statuses.extend([503, 500]);
    for _ in 0..2 {
        answered(&p, MASTER, "x").await;
    }
    // A failure is not an llm_api_success event: never sent.
    let r = post(
        &p,
        "/v1/chat/completions",
        "sk-wrong-key-000",
        json!({"model": "gpt"}),
    )
    .await;
    assert_eq!(r.status, 401);
    // Both events travel in one batch; the first two deliveries fail and are retried.
    for _ in 0..200 {
        if hook.posts().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p.state.callbacks.shutdown().await;
    let posts = hook.posts();
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert_eq!(posts[0].1, posts[2].1, "the same batch is retried");
    let events: Vec<Value> = serde_json::from_str(&posts[2].1).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["status"] == "success"));
    assert_eq!(p.state.callbacks.dropped_events(), 0);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_and_shutdown_flushes_the_rest() {
    let (_fake, hook, p) = start("", "    max_queue_size: 2\n    flush_interval: 3600\n").await;
    // Emitted back to back on this (single-threaded) runtime: the sender task cannot run in
    // between, so the queue of two overflows by three.
    for i in 0..5 {
        let call = litellm_server::callbacks::CallRecord {
            request_id: format!("synthetic-{i}"),
            call_type: "acompletion".into(),
            ..Default::default()
        };
        p.state.callbacks.emit(call, None);
    }
    assert_eq!(p.state.callbacks.dropped_events(), 3);
    // The flush interval is an hour: only the shutdown flush sends the two queued events.
    p.state.callbacks.shutdown().await;
    let events = hook.events(2).await;
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["synthetic-0", "synthetic-1"]);
}

#[tokio::test]
async fn a_caller_without_a_valid_key_sends_no_event() {
    let (_fake, hook, p) = start("", "").await;
    let r = post(
        &p,
        "/v1/chat/completions",
        "sk-not-a-key-4242",
        user_says("gpt", "spam the webhook"),
    )
    .await;
    assert_eq!(r.status, 401);
    answered(&p, MASTER, "a real call").await;
    // Wait for the real call's event, then flush whatever else was queued.
    hook.events(1).await;
    p.state.callbacks.shutdown().await;
    let events: Vec<Value> = hook
        .posts()
        .iter()
        .flat_map(|(_, b)| serde_json::from_str::<Vec<Value>>(b).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["status"], "success");
    assert!(!serde_json::to_string(&events)
        .unwrap()
        .contains("spam the webhook"));
}
