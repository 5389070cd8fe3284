//! LiteLLM's request headers that steer one call, on the inference routes: `x-litellm-timeout`
//! (seconds per attempt), `x-litellm-num-retries`, `x-litellm-customer-id` (the end user), and
//! the body's `timeout`, and the spend-log annotations `x-litellm-session-id` and
//! `x-litellm-spend-logs-metadata`; none of them reaches the upstream.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use serde_json::json;

use litellm_test_support::{FakeOpenAi, Scripted};

async fn env() -> (FakeOpenAi, Proxy) {
    openai_proxy("      num_retries: 0\n      timeout: 30\n").await
}

async fn chat_with(proxy: &Proxy, headers: &[(&str, &str)]) -> Resp {
    let auth = bearer(MASTER);
    let mut all = vec![("authorization", auth.as_str())];
    all.extend_from_slice(headers);
    proxy
        .post_raw(
            "/v1/chat/completions",
            serde_json::to_vec(&hi("gpt")).unwrap(),
            &all,
        )
        .await
}

#[tokio::test]
async fn x_litellm_num_retries_retries_a_call_the_config_would_not() {
    let (openai, proxy) = env().await;
    let failure = || Scripted::error(500, "boom", "server_error", None);
    openai.push(failure());
    let r = chat_with(&proxy, &[]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(openai.requests().len(), 1);

    openai.push(failure());
    openai.push(failure());
    let r = chat_with(&proxy, &[("x-litellm-num-retries", "2")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(openai.requests().len(), 4, "two failures, then the answer");
    assert!(openai
        .requests()
        .iter()
        .all(|q| q.header("x-litellm-num-retries").is_none()));
}

#[tokio::test]
async fn x_litellm_timeout_and_the_body_timeout_bound_the_attempt() {
    let (openai, proxy) = env().await;
    let slow = || Scripted::delay(Duration::from_secs(5));
    openai.push(slow());
    let t0 = Instant::now();
    let r = chat_with(&proxy, &[("x-litellm-timeout", "0.2")]).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.text);
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());

    openai.push(slow());
    let t0 = Instant::now();
    let r = proxy
        .post_as(
            MASTER,
            "/v1/chat/completions",
            json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "timeout": 0.2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.text);
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert!(openai.requests()[1].body.get("timeout").is_none());
}

#[tokio::test]
async fn x_litellm_customer_id_names_the_end_user() {
    let (_openai, proxy) = env().await;
    let r = chat_with(&proxy, &[("x-litellm-customer-id", "cust-42")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].end_user.as_deref(), Some("cust-42"));
}

#[tokio::test]
async fn session_id_and_spend_logs_metadata_annotate_the_spend_log() {
    let (openai, proxy) = env().await;
    let r = chat_with(
        &proxy,
        &[
            ("x-litellm-session-id", "sess-42"),
            (
                "x-litellm-spend-logs-metadata",
                r#"{"team": "search", "run": 7}"#,
            ),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].metadata["session_id"], "sess-42");
    assert_eq!(
        rows[0].metadata["spend_logs_metadata"],
        json!({"team": "search", "run": 7})
    );
    let sent = &openai.requests()[0];
    assert!(sent.header("x-litellm-session-id").is_none());
    assert!(sent.body.get("metadata").is_none(), "{}", sent.body);

    // A header that is not a JSON object is refused before anything is sent.
    for bad in ["not json", "[1, 2]"] {
        let r = chat_with(&proxy, &[("x-litellm-spend-logs-metadata", bad)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert!(
            error_field(&r, "message")
                .contains("x-litellm-spend-logs-metadata must be a JSON object"),
            "{}",
            r.text
        );
    }
    assert_eq!(openai.requests().len(), 1);
}
