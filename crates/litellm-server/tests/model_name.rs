//! Every family's answer names the model the client asked for (the model group, or the key's
//! alias for it), not the upstream's model id, as LiteLLM answers; streams included. The
//! upstream's model stays in `x-litellm-model-id`'s deployment and the spend log's `model`.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn answers_name_the_requested_model_and_spend_logs_the_upstream_one() {
    let (_openai, proxy) = openai_proxy(PRICED_NO_RETRIES).await;
    let cases: [(&str, Value); 6] = [
        ("/v1/chat/completions", hi("gpt")),
        ("/v1/embeddings", json!({"model": "gpt", "input": "x"})),
        ("/v1/completions", json!({"model": "gpt", "prompt": "x"})),
        ("/v1/responses", json!({"model": "gpt", "input": "x"})),
        (
            "/v1/messages",
            json!({"model": "gpt", "max_tokens": 10,
                   "messages": [{"role": "user", "content": "x"}]}),
        ),
        ("/v1/moderations", json!({"model": "gpt", "input": "x"})),
    ];
    for (path, body) in &cases {
        let r = proxy.post_as(MASTER, path, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.json()["model"], "gpt", "{path}: {}", r.text);
    }
    let rows = proxy.flushed_spend_logs(cases.len()).await;
    for row in &rows {
        assert!(
            row.model.starts_with("upstream-model"),
            "{}: {}",
            row.call_type,
            row.model
        );
    }
}

#[tokio::test]
async fn streamed_chunks_and_events_name_the_requested_model() {
    let (_openai, proxy) = openai_proxy(PRICED_NO_RETRIES).await;
    let r = proxy
        .post_as(
            MASTER,
            "/v1/chat/completions",
            json!({"model": "gpt", "stream": true,
                   "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let chunks = chat_chunks(&r);
    assert!(!chunks.is_empty(), "{}", r.text);
    assert!(chunks.iter().all(|c| c["model"] == "gpt"), "{}", r.text);

    let r = proxy
        .post_as(
            MASTER,
            "/v1/completions",
            json!({"model": "gpt", "prompt": "hi", "stream": true}),
        )
        .await;
    let events = sse_events(&r.text);
    let chunks: Vec<Value> = events
        .iter()
        .filter(|e| e.as_str() != "[DONE]")
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(!chunks.is_empty(), "{}", r.text);
    assert!(chunks.iter().all(|c| c["model"] == "gpt"), "{}", r.text);

    let r = proxy
        .post_as(
            MASTER,
            "/v1/messages",
            json!({"model": "gpt", "max_tokens": 10, "stream": true,
                   "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert!(
        r.text.contains(r#""model":"gpt""#) && !r.text.contains("upstream-model"),
        "{}",
        r.text
    );
    let rows = proxy.flushed_spend_logs(3).await;
    assert!(rows.iter().all(|r| r.model == "upstream-model"), "{rows:?}");
}

#[tokio::test]
async fn a_key_alias_is_answered_under_the_alias() {
    let (_openai, proxy) = openai_proxy(PRICED_NO_RETRIES).await;
    let key = proxy
        .new_key_as(MASTER, json!({"aliases": {"my-gpt": "gpt"}}))
        .await;
    let r = proxy
        .post_as(&key, "/v1/chat/completions", hi("my-gpt"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["model"], "my-gpt");
}
