//! Tests of `FakeOpenAi` over real HTTP: its default answers, scripting, recording and 404s.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use serde_json::{json, Value};

use litellm_test_support::{FakeOpenAi, Scripted};

/// `POST /chat/completions` with `body`.
async fn post_chat(fake: &FakeOpenAi, body: Value) -> reqwest::Response {
    post(fake, "/chat/completions", body).await
}

async fn post(fake: &FakeOpenAi, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", fake.base_url()))
        .header("authorization", "Bearer sk-test")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A chat completion without messages (the fake answers it like any other).
async fn post_empty_chat(fake: &FakeOpenAi) -> reqwest::Response {
    post_chat(fake, json!({"model": "m", "messages": []})).await
}

fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn default_chat_answer_is_openai_shaped_with_headers() {
    let fake = FakeOpenAi::start().await;
    let r = post_chat(
        &fake,
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit-requests"], "10000");
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeOpenAi::DEFAULT_REPLY
    );
    // 3 + (4 + ⌈2/4⌉) prompt tokens.
    assert_eq!(body["usage"]["prompt_tokens"], 8);

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(reqs[0].body["messages"][0]["content"], "hi");
}

#[tokio::test]
async fn default_stream_has_usage_only_when_asked_and_ends_with_done() {
    let fake = FakeOpenAi::start().await;
    let r = post_chat(
        &fake,
        json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events = sse_data(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(usage_chunk["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(chunks[..chunks.len() - 1]
        .iter()
        .all(|c| c["usage"].is_null()));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, FakeOpenAi::DEFAULT_REPLY);

    let r = post_chat(&fake, json!({"model": "m", "stream": true, "messages": []})).await;
    let events = sse_data(&r.text().await.unwrap());
    assert!(events[..events.len() - 1]
        .iter()
        .all(|e| serde_json::from_str::<Value>(e)
            .unwrap()
            .get("usage")
            .is_none()));
}

#[tokio::test]
async fn scripts_are_used_in_order_then_the_default() {
    let fake = FakeOpenAi::start().await;
    fake.push(
        Scripted::error(429, "slow down", "rate_limit_error", None).with_header("retry-after", "3"),
    );
    fake.push(Scripted::reply_with_usage("second", 1, 2));
    let body = json!({"model": "m", "messages": []});
    let r = post_chat(&fake, body.clone()).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["message"], "slow down");
    let r: Value = post_chat(&fake, body.clone()).await.json().await.unwrap();
    assert_eq!(r["choices"][0]["message"]["content"], "second");
    assert_eq!(r["usage"]["total_tokens"], 3);
    fake.set_default(Scripted::reply("new default"));
    let r: Value = post_chat(&fake, body).await.json().await.unwrap();
    assert_eq!(r["choices"][0]["message"]["content"], "new default");
}

#[tokio::test]
async fn embeddings_models_and_unknown_paths() {
    let fake = FakeOpenAi::start().await;
    let r: Value = post(
        &fake,
        "/embeddings",
        json!({"model": "e", "input": ["a", "b"], "dimensions": 4}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(r["data"].as_array().unwrap().len(), 2);
    assert_eq!(r["data"][1]["index"], 1);
    assert_eq!(r["data"][0]["embedding"].as_array().unwrap().len(), 4);
    let r: Value = post(
        &fake,
        "/embeddings",
        json!({"model": "e", "input": "a", "encoding_format": "base64"}),
    )
    .await
    .json()
    .await
    .unwrap();
    // 8 floats are 32 bytes, 44 base64 characters.
    assert_eq!(r["data"][0]["embedding"].as_str().unwrap().len(), 44);

    let r = reqwest::get(format!("{}/models", fake.base_url()))
        .await
        .unwrap();
    let models: Value = r.json().await.unwrap();
    assert_eq!(models["object"], "list");
    assert!(!models["data"].as_array().unwrap().is_empty());

    let r = post(&fake, "/nope", json!({})).await;
    assert_eq!(r.status(), 404);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn recording_can_be_turned_off_while_counting_continues() {
    let fake = FakeOpenAi::start().await;
    fake.set_recording(false);
    post_empty_chat(&fake).await;
    assert!(fake.requests().is_empty());
    assert_eq!(fake.request_count(), 1);
    fake.set_recording(true);
    post_empty_chat(&fake).await;
    assert_eq!(fake.requests().len(), 1);
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_cut_stream_is_seen_as_an_error_by_the_client() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamCut { after_chunks: 1 });
    let r = post_chat(&fake, json!({"model": "m", "stream": true, "messages": []})).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.is_err(), "the body must end abnormally");
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let fake = FakeOpenAi::start().await;
    let url = format!("{}/models", fake.base_url());
    drop(fake);
    // Shutdown is asynchronous: poll until connections are refused (bounded, never timed).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut refused = false;
    for _ in 0..200 {
        if client.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the fake kept serving after drop");
}
