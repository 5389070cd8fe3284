//! The binary in front of an OpenAI-compatible upstream (`FakeOpenAi`): what it forwards, what
//! it passes back, how it retries, and how upstream failures reach the client.

use std::time::Duration;

use litellm_test_support::{FakeOpenAi, Scripted};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

fn deployment(name: &str, api_base: &str, extra: &str) -> String {
    format!(
        "  - model_name: {name}\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {api_base}\n      api_key: os.environ/FAKE_UPSTREAM_KEY\n{extra}"
    )
}

async fn proxy(deployments: &[String], tail: &str) -> ProxyProcess {
    let config = format!("model_list:\n{}{tail}", deployments.join(""));
    ProxyProcess::start(&config, &[("FAKE_UPSTREAM_KEY", "sk-upstream-secret")]).await
}

fn sse(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn chat_is_forwarded_with_the_deployment_model_key_and_unknown_fields() {
    let fake = FakeOpenAi::start().await;
    let p = proxy(&[deployment("gpt", &fake.base_url(), "")], "").await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .bearer_auth("anything")
        .json(&json!({
            "model": "gpt",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}
            ],
            "temperature": 0.2,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "some_future_param": {"x": 1}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeOpenAi::DEFAULT_REPLY
    );
    // Upstream headers come back: rate-limit ones as-is, all under llm_provider-.
    assert!(h.contains_key("x-ratelimit-remaining-requests"), "{h:?}");
    assert!(h.contains_key("llm_provider-x-request-id"), "{h:?}");
    assert_eq!(
        h["x-litellm-model-api-base"].to_str().unwrap(),
        fake.base_url()
    );

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-upstream-secret")
    );
    assert_eq!(sent.body["model"], "upstream-model");
    assert_eq!(sent.body["some_future_param"], json!({"x": 1}));
    assert_eq!(sent.body["temperature"], 0.2);
    assert_eq!(sent.body["messages"][0]["role"], "developer");
    assert_eq!(sent.body["messages"][1]["content"][1]["type"], "image_url");
    assert_eq!(sent.body["tools"][0]["function"]["name"], "f");
    assert!(
        !p.stderr().contains("sk-upstream-secret"),
        "the upstream key must never be logged"
    );
}

#[tokio::test]
async fn stream_usage_is_hidden_unless_asked_even_when_it_rides_on_the_last_choice_chunk() {
    let fake = FakeOpenAi::start().await;
    let chunk = |content: Option<&str>, finish: Option<&str>, usage: Option<Value>| {
        let mut c = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1,
            "model": "upstream-model",
            "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]});
        if let Some(t) = content {
            c["choices"][0]["delta"]["content"] = json!(t);
        }
        if let Some(u) = usage {
            c["usage"] = u;
        }
        c
    };
    let usage = json!({"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13});
    let chunks = vec![
        chunk(Some("Hel"), None, None),
        chunk(Some("lo"), Some("stop"), Some(usage.clone())),
    ];
    fake.push(Scripted::StreamChunks(chunks.clone()));
    fake.push(Scripted::StreamChunks(chunks));
    let p = proxy(&[deployment("gpt", &fake.base_url(), "")], "").await;
    let client = reqwest::Client::new();
    let ask = |include: bool| {
        let mut body = json!({"model": "gpt", "stream": true,
            "messages": [{"role": "user", "content": "hi"}]});
        if include {
            body["stream_options"] = json!({"include_usage": true});
        }
        client
            .post(p.url("/v1/chat/completions"))
            .json(&body)
            .send()
    };

    let text = ask(false).await.unwrap().text().await.unwrap();
    let events = sse(&text);
    assert_eq!(events.len(), 3, "{text}");
    let last: Value = serde_json::from_str(&events[1]).unwrap();
    assert_eq!(last["choices"][0]["delta"]["content"], "lo", "choices kept");
    assert!(last.get("usage").is_none(), "usage stripped: {last}");
    // The proxy asked the upstream for usage anyway, for billing.
    assert_eq!(
        fake.requests()[0].body["stream_options"]["include_usage"],
        true
    );

    let text = ask(true).await.unwrap().text().await.unwrap();
    let last: Value = serde_json::from_str(&sse(&text)[1]).unwrap();
    assert_eq!(last["usage"], usage);
}

#[tokio::test]
async fn embeddings_pass_base64_through_and_floats_when_asked() {
    let fake = FakeOpenAi::start().await;
    let p = proxy(&[deployment("emb", &fake.base_url(), "")], "").await;
    let client = reqwest::Client::new();
    let b64: Value = client
        .post(p.url("/v1/embeddings"))
        .json(&json!({"model": "emb", "input": ["a", "b"], "encoding_format": "base64"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(b64["data"][1]["embedding"].is_string(), "{b64}");
    assert_eq!(fake.requests()[0].body["encoding_format"], "base64");
    let floats: Value = client
        .post(p.url("/embeddings"))
        .json(&json!({"model": "emb", "input": "a"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(floats["data"][0]["embedding"].as_array().unwrap().len(), 8);
    assert!(floats["usage"]["prompt_tokens"].as_u64().is_some());
}

#[tokio::test]
async fn a_rate_limited_deployment_is_retried_on_the_next_one() {
    let a = FakeOpenAi::start().await;
    let b = FakeOpenAi::start().await;
    a.push(
        Scripted::error(429, "slow down", "rate_limit_error", None)
            .with_header("retry-after", "30"),
    );
    let p = proxy(
        &[
            deployment("gpt", &a.base_url(), "      order: 1\n"),
            deployment("gpt", &b.base_url(), "      order: 2\n"),
        ],
        "",
    )
    .await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-attempted-retries"], "1");
    assert_eq!(a.request_count(), 1);
    assert_eq!(b.request_count(), 1);
}

#[tokio::test]
async fn upstream_failures_map_to_litellm_statuses_after_retries() {
    let fake = FakeOpenAi::start().await;
    let p = proxy(
        &[
            deployment("slow", &fake.base_url(), "      timeout: 0.3\n"),
            deployment("limited", &fake.base_url(), ""),
            deployment("gone", &fake.base_url(), ""),
        ],
        "router_settings:\n  num_retries: 0\n",
    )
    .await;
    let client = reqwest::Client::new();
    let call = |model: &'static str| {
        client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };

    fake.push(Scripted::delay(Duration::from_secs(5)));
    let r = call("slow").await.unwrap();
    assert_eq!(r.status(), 408);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "408");

    fake.push(
        Scripted::error(429, "Rate limit reached", "rate_limit_error", None)
            .with_header("retry-after", "7"),
    );
    let r = call("limited").await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Rate limit reached"));

    fake.push(Scripted::error(502, "bad gateway", "server_error", None));
    let r = call("gone").await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(!r.text().await.unwrap().contains("sk-upstream-secret"));
}

#[tokio::test]
async fn a_stream_cut_after_it_started_ends_with_an_in_band_error() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamCut { after_chunks: 2 });
    let p = proxy(&[deployment("gpt", &fake.base_url(), "")], "").await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "gpt", "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the stream had started");
    let events = sse(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let err: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert!(err["error"]["message"].is_string(), "{err}");
    assert_eq!(events.len(), 4, "2 chunks, the error, [DONE]: {events:?}");
}

#[tokio::test]
async fn a_failing_group_falls_back_to_the_configured_group() {
    let primary = FakeOpenAi::start().await;
    let backup = FakeOpenAi::start().await;
    primary.set_default(Scripted::error(503, "overloaded", "server_error", None));
    let p = proxy(
        &[
            deployment("primary", &primary.base_url(), ""),
            deployment("backup", &backup.base_url(), ""),
        ],
        "router_settings:\n  num_retries: 1\n  fallbacks:\n    - primary: [backup]\n",
    )
    .await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "primary", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-model-group"], "backup");
    assert_eq!(r.headers()["x-litellm-attempted-fallbacks"], "1");
    assert_eq!(
        primary.request_count(),
        2,
        "1 attempt + 1 retry before falling back"
    );
    assert_eq!(backup.request_count(), 1);
    assert!(
        !p.stderr().contains("fallbacks: not supported"),
        "router_settings.fallbacks is supported now:\n{}",
        p.stderr()
    );
}

#[tokio::test]
async fn a_failing_deployment_is_cooled_down_and_gets_no_traffic() {
    let bad = FakeOpenAi::start().await;
    let good = FakeOpenAi::start().await;
    bad.set_default(Scripted::error(500, "boom", "server_error", None));
    let p = proxy(
        &[
            deployment("gpt", &bad.base_url(), "      order: 1\n"),
            deployment("gpt", &good.base_url(), "      order: 2\n"),
        ],
        "router_settings:\n  num_retries: 1\n  allowed_fails: 0\n  cooldown_time: 60\n",
    )
    .await;
    let client = reqwest::Client::new();
    for i in 0..6 {
        let r = client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "request {i}");
    }
    assert_eq!(
        bad.request_count(),
        1,
        "cooled down after its first failure"
    );
    assert_eq!(good.request_count(), 6);
}
