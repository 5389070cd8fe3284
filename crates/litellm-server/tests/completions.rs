//! In-process tests of the legacy Completions API (`POST /v1/completions`) served through chat
//! completions: the prompt as one user message upstream, `text_completion` answers and chunks,
//! `echo`, the Azure-style path, refusals with nothing sent upstream, and the spend record.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

use litellm_test_support::{FakeOpenAi, Scripted};

async fn env() -> (FakeOpenAi, Proxy) {
    openai_proxy(PRICED_NO_RETRIES).await
}

#[tokio::test]
async fn a_prompt_is_answered_as_a_text_completion_and_billed() {
    let (openai, proxy) = env().await;
    openai.push(Scripted::Reply {
        content: " is a test.".into(),
        usage: Some((5, 4)),
    });
    let r = proxy
        .post_as(
            MASTER,
            "/v1/completions",
            json!({"model": "gpt", "prompt": "This", "max_tokens": 16, "echo": true,
                   "temperature": 0, "stop": ["\n"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["object"], "text_completion");
    assert!(b["id"].as_str().unwrap().starts_with("cmpl-"), "{b}");
    assert_eq!(b["choices"][0]["text"], "This is a test.");
    assert_eq!(b["choices"][0]["index"], 0);
    assert_eq!(b["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        b["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9})
    );
    // 5 × 0.5 + 4 × 1.0
    assert_eq!(r.header("x-litellm-response-cost"), Some("6.5"));

    let sent = &openai.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": "This"}])
    );
    assert_eq!(sent.body["max_tokens"], 16);
    assert_eq!(sent.body["stop"], json!(["\n"]));
    assert!(sent.body.get("echo").is_none() && sent.body.get("prompt").is_none());

    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "atext_completion");
    assert!((rows[0].spend - 6.5).abs() < 1e-9);
}

#[tokio::test]
async fn a_stream_is_text_completion_chunks_then_done() {
    let (openai, proxy) = env().await;
    let r = proxy
        .post_as(
            MASTER,
            "/openai/deployments/gpt/completions",
            json!({"prompt": ["Say hi"], "stream": true, "stream_options": {"include_usage": true}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = sse_events(&r.text);
    assert_eq!(
        events.last().map(String::as_str),
        Some("[DONE]"),
        "{events:?}"
    );
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"].get(0))
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, FakeOpenAi::DEFAULT_REPLY);
    assert!(
        chunks.last().unwrap()["usage"]["total_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(openai.requests()[0].body["model"], "upstream-model");
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "atext_completion");
}

#[tokio::test]
async fn prompts_a_chat_model_cannot_take_are_400s_naming_the_problem() {
    let (openai, proxy) = env().await;
    for (body, needle) in [
        (json!({"model": "gpt"}), "prompt"),
        (
            json!({"model": "gpt", "prompt": ["a", "b"]}),
            "several prompts",
        ),
        (json!({"model": "gpt", "prompt": [[1, 2, 3]]}), "token-id"),
        (
            json!({"model": "gpt", "prompt": "a", "suffix": "b"}),
            "suffix",
        ),
    ] {
        let r = proxy.post_as(MASTER, "/v1/completions", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    assert!(openai.requests().is_empty());
}
