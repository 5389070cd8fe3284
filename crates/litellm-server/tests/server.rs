//! In-process tests of the proxy's HTTP surface (axum `oneshot`): routes, auth, error bodies,
//! headers, streaming framing and usage handling, embeddings, and spend records — through the
//! mock provider and the fake OpenAI upstream.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const MOCK_CONFIG: &str = r#"
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: mock/gpt-4o
      mock_response: "Hello from the mock"
      input_cost_per_token: 0.001
      output_cost_per_token: 0.002
  - model_name: echo
    litellm_params:
      model: mock/echo
  - model_name: mock-embedding
    litellm_params:
      model: mock/text-embedding
  - model_name: limited
    litellm_params:
      model: mock/x
      mock_response: litellm.RateLimitError
      num_retries: 0
"#;

#[tokio::test]
async fn chat_through_the_mock_answers_with_litellm_headers() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p.ask("mock-gpt", "hi").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from the mock"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let usage = &body["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(r.header("x-litellm-model-group"), Some("mock-gpt"));
    assert_eq!(r.header("x-litellm-model-id").map(str::len), Some(32));
    assert_eq!(r.header("x-litellm-attempted-retries"), Some("0"));
    assert_eq!(r.header("x-litellm-attempted-fallbacks"), Some("0"));
    assert!(r.header("x-litellm-call-id").unwrap().len() >= 32);
    assert!(r.header("x-litellm-version").is_some());
    assert!(r.header("x-litellm-response-duration-ms").is_some());
    assert!(r.header("x-litellm-overhead-duration-ms").is_some());
    // Cost from the configured per-token prices.
    let expected = usage["prompt_tokens"].as_f64().unwrap() * 0.001
        + usage["completion_tokens"].as_f64().unwrap() * 0.002;
    let cost: f64 = r.parsed_header("x-litellm-response-cost");
    assert!((cost - expected).abs() < 1e-9, "{cost} vs {expected}");
}

#[tokio::test]
async fn every_chat_path_alias_works() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let msg = json!([{"role": "user", "content": "ping"}]);
    for path in ["/chat/completions", "/v1/chat/completions"] {
        let r = p
            .post(path, json!({"model": "echo", "messages": msg}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    for path in [
        "/engines/echo/chat/completions",
        "/openai/deployments/echo/chat/completions",
    ] {
        let r = p.post(path, json!({"messages": msg})).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.header("x-litellm-model-group"), Some("echo"));
    }
}

#[tokio::test]
async fn the_echo_mock_answers_with_the_prompt() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p.ask("echo", "what is 2+2?").await;
    let content = r.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.contains("what is 2+2?"), "{content}");
}

#[tokio::test]
async fn streams_are_sse_with_done_and_usage_only_when_asked() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let body = json!({"model": "mock-gpt", "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    let r = p.post("/v1/chat/completions", body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let chunks = chat_chunks(&r);
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "usage must not leak into a stream that did not ask for it"
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(streamed_text(&chunks), "Hello from the mock");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );

    let mut with_usage = body;
    with_usage["stream_options"] = json!({"include_usage": true});
    let r = p.post("/v1/chat/completions", with_usage).await;
    let events = sse_events(&r.text);
    let last: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["completion_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn error_bodies_are_openai_shaped_with_string_codes() {
    let p = Proxy::new(MOCK_CONFIG).await;
    /// (case, body, status, param, message excerpt)
    type Case = (
        &'static str,
        Vec<u8>,
        StatusCode,
        Option<&'static str>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "malformed json",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
            None,
            "Invalid JSON",
        ),
        (
            "empty body",
            b"".to_vec(),
            StatusCode::BAD_REQUEST,
            None,
            "empty",
        ),
        (
            "missing model",
            br#"{"messages":[{"role":"user","content":"x"}]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            Some("model"),
            "model",
        ),
        (
            "missing messages",
            br#"{"model":"echo"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            Some("messages"),
            "messages",
        ),
        (
            "empty messages",
            br#"{"model":"echo","messages":[]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            Some("messages"),
            "at least one",
        ),
        (
            "unknown model",
            br#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            Some("model"),
            "model=nope",
        ),
        (
            "bad role",
            br#"{"model":"echo","messages":[{"role":"wizard","content":"x"}]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            None,
            "wizard",
        ),
        (
            "upstream rate limit after retries",
            br#"{"model":"limited","messages":[{"role":"user","content":"x"}]}"#.to_vec(),
            StatusCode::TOO_MANY_REQUESTS,
            None,
            "RateLimitError",
        ),
    ];
    for (name, body, status, param, needle) in cases {
        let r = p.post_raw("/v1/chat/completions", body, &[]).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        let e = &r.json()["error"];
        assert_eq!(e["code"], json!(status.as_u16().to_string()), "{name}");
        assert!(e["type"].is_string(), "{name}");
        assert_eq!(e["param"].as_str(), param, "{name}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(needle),
            "{name}: {e}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_openai_shaped() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p.get("/v1/nothing-here", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "404");
    // A served route with another method: 405 with a body, not axum's empty one.
    let r = p.get("/v1/chat/completions", &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "405");
    assert_eq!(e["type"], "invalid_request_error");
    assert_eq!(
        e["message"],
        "Method GET is not allowed on /v1/chat/completions"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let config = format!("{MOCK_CONFIG}\ngeneral_settings:\n  max_request_size_mb: 0.001\n");
    let p = Proxy::new(&config).await;
    let big = "x".repeat(4000);
    let r = p.ask("echo", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "413");
}

#[tokio::test]
async fn with_a_master_key_every_key_header_is_accepted_and_others_refused() {
    let config = format!("{MOCK_CONFIG}\ngeneral_settings:\n  master_key: sk-test-master-0123\n");
    let p = Proxy::new(&config).await;
    let body = br#"{"model":"echo","messages":[{"role":"user","content":"x"}]}"#.to_vec();
    for (h, v) in [
        ("authorization", "Bearer sk-test-master-0123"),
        ("authorization", "bearer sk-test-master-0123"),
        ("api-key", "sk-test-master-0123"),
        ("x-api-key", "sk-test-master-0123"),
        ("x-litellm-api-key", "sk-test-master-0123"),
    ] {
        let r = p
            .post_raw("/v1/chat/completions", body.clone(), &[(h, v)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{h}: {}", r.text);
    }
    for headers in [
        vec![],
        vec![("authorization", "Bearer sk-wrong")],
        vec![("authorization", "Bearer sk-test-master-012")],
        vec![("x-api-key", "")],
    ] {
        let r = p
            .post_raw("/v1/chat/completions", body.clone(), &headers)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(r.json()["error"]["code"], "401");
        assert!(
            !r.text.contains("sk-wrong"),
            "the presented key must not be echoed: {}",
            r.text
        );
    }
    // Models and embeddings are behind auth too; health is not.
    assert_eq!(
        p.get("/v1/models", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        p.get("/health/liveliness", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(p.get("/health/liveness", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn models_lists_exactly_the_configured_groups() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p.get("/v1/models", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["object"], "list");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["mock-gpt", "echo", "mock-embedding", "limited"]);
    assert!(body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["object"] == "model"));
    assert_eq!(p.get("/models", &[]).await.json(), body);
}

#[tokio::test]
async fn embeddings_in_float_and_base64() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p
        .post(
            "/v1/embeddings",
            json!({"model": "mock-embedding", "input": ["a", "b"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let v = body["data"][0]["embedding"].as_array().unwrap().clone();
    assert!(!v.is_empty());

    let r = p
        .post(
            "/v1/embeddings",
            json!({"model": "mock-embedding", "input": ["a", "b"], "encoding_format": "base64"}),
        )
        .await;
    let b64 = r.json()["data"][0]["embedding"]
        .as_str()
        .unwrap()
        .to_string();
    let floats = decode_f32_base64(&b64);
    assert_eq!(floats.len(), v.len());
    for (f, j) in floats.iter().zip(&v) {
        assert!((*f as f64 - j.as_f64().unwrap()).abs() < 1e-6);
    }

    let r = p
        .post(
            "/v1/embeddings",
            json!({"model": "mock-embedding", "input": "a", "encoding_format": "int8"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "encoding_format");
}

#[tokio::test]
async fn readiness_reports_the_database() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p.get("/health/readiness", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["db"], "connected");
    assert_eq!(r.json()["status"], "healthy");
}

#[tokio::test]
async fn spend_records_are_written_for_calls_and_streams() {
    let p = Proxy::new(MOCK_CONFIG).await;
    let r = p
        .post(
            "/v1/chat/completions",
            json!({"model": "mock-gpt", "user": "alice",
                   "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let call_id = r.header("x-litellm-call-id").unwrap().to_string();
    let usage = r.json()["usage"].clone();
    let r = p
        .post(
            "/v1/chat/completions",
            json!({"model": "mock-gpt", "stream": true,
                   "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let stream_id = r.header("x-litellm-call-id").unwrap().to_string();
    // The stream's record is queued when its body finishes.
    let rows = p.flushed_spend_logs(2).await;
    let row = rows.iter().find(|r| r.request_id == call_id).unwrap();
    assert_eq!(row.model_group, "mock-gpt");
    assert_eq!(row.call_type, "acompletion");
    assert_eq!(row.user.as_deref(), Some("alice"));
    assert_eq!(row.prompt_tokens, usage["prompt_tokens"].as_u64().unwrap());
    assert_eq!(
        row.completion_tokens,
        usage["completion_tokens"].as_u64().unwrap()
    );
    assert!(row.spend > 0.0);
    let srow = rows.iter().find(|r| r.request_id == stream_id).unwrap();
    assert_eq!(
        srow.completion_tokens, row.completion_tokens,
        "a stream is billed from the upstream usage even though the client did not ask for it"
    );
    assert!(srow.completion_start_time.is_some());
}

#[tokio::test]
async fn the_committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let current = litellm_server::openapi_json();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var("UPDATE_EXPECT").as_deref() == Ok("1") {
        std::fs::write(&path, format!("{current}\n")).unwrap();
        return;
    }
    assert!(
        committed.trim_end() == current.trim_end(),
        "docs/openapi.json is stale: run `UPDATE_EXPECT=1 cargo test -p litellm-server --test server` or `cargo run -- openapi > docs/openapi.json`"
    );
    let doc: Value = serde_json::from_str(&current).unwrap();
    for path in [
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/models",
        "/health/liveliness",
        "/health/readiness",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    // The spec is served too, and the docs page loads it.
    let p = Proxy::new(MOCK_CONFIG).await;
    assert_eq!(p.get("/openapi.json", &[]).await.json(), doc);
    let page = p.get("/docs", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/openapi.json"));
}

#[test]
fn without_a_master_key_only_loopback_may_be_bound() {
    use litellm_server::choose_host;
    assert_eq!(choose_host(None, false).unwrap(), "127.0.0.1");
    assert_eq!(choose_host(None, true).unwrap(), "0.0.0.0");
    assert_eq!(choose_host(Some("::1"), false).unwrap(), "::1");
    assert_eq!(choose_host(Some("localhost"), false).unwrap(), "localhost");
    let err = choose_host(Some("0.0.0.0"), false).unwrap_err().to_string();
    assert!(err.contains("master key"), "{err}");
    assert!(choose_host(Some("10.1.2.3"), false).is_err());
    assert_eq!(choose_host(Some("0.0.0.0"), true).unwrap(), "0.0.0.0");
}

fn fake_config(base: &str) -> String {
    format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      api_base: {base}\n      api_key: sk-test\n      input_cost_per_token: 0.5\n      output_cost_per_token: 1.0\n"
    )
}

#[tokio::test]
async fn a_stream_is_billed_from_usage_on_its_last_choice_chunk() {
    use litellm_test_support::{FakeOpenAi, Scripted};
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamChunks(vec![
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": null}]}),
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model",
               "choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}}),
    ]));
    let p = Proxy::new(&fake_config(&fake.base_url())).await;
    let r = p
        .post(
            "/v1/chat/completions",
            json!({"model": "gpt", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert!(
        !r.text.contains("\"usage\""),
        "usage not asked for: {}",
        r.text
    );
    let rows = p.flushed_spend_logs(1).await;
    assert_eq!((rows[0].prompt_tokens, rows[0].completion_tokens), (11, 2));
    assert!(
        (rows[0].spend - (11.0 * 0.5 + 2.0)).abs() < 1e-9,
        "{}",
        rows[0].spend
    );
    assert_eq!(rows[0].model, "upstream-model");
    assert_eq!(rows[0].custom_llm_provider, "openai");
}

#[tokio::test]
async fn a_stream_is_forwarded_as_it_arrives_and_billed_once_when_abandoned() {
    use futures::StreamExt;
    use litellm_test_support::{FakeOpenAi, Scripted};
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::StreamStall {
        after_chunks: 2,
        pause: std::time::Duration::from_secs(30),
    });
    let p = Proxy::new(&fake_config(&fake.base_url())).await;
    let req = axum::http::Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"model": "gpt", "stream": true,
                   "messages": [{"role": "user", "content": "a prompt of some length"}]})
            .to_string(),
        ))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(p.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body().into_data_stream();
    // The upstream stalls for 30 s after two chunks: a proxy that buffered the stream would not
    // deliver this first event within 10 s.
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
        .await
        .expect("the first chunk was not forwarded while the upstream was still streaming")
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b"data: "));
    drop(body); // The client goes away mid-stream.
    let rows = p.flushed_spend_logs(1).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].prompt_tokens > 0, "billed from an estimate, not $0");
    assert!(rows[0].spend > 0.0);
    assert_eq!(rows[0].metadata["usage_estimated"], true);
}

#[tokio::test]
async fn include_cost_in_streaming_usage_adds_the_cost_to_the_usage_chunk() {
    let config =
        format!("{MOCK_CONFIG}litellm_settings:\n  include_cost_in_streaming_usage: true\n");
    let p = Proxy::new(&config).await;
    let body = json!({"model": "mock-gpt", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}]});
    let r = p.post("/v1/chat/completions", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let usage = sse_events(&r.text)
        .iter()
        .filter(|e| e.as_str() != "[DONE]")
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .find_map(|c| c.get("usage").filter(|u| !u.is_null()).cloned())
        .expect("a usage chunk");
    let expected = usage["prompt_tokens"].as_f64().unwrap() * 0.001
        + usage["completion_tokens"].as_f64().unwrap() * 0.002;
    let cost = usage["cost"].as_f64().expect("usage.cost");
    assert!(
        expected > 0.0 && (cost - expected).abs() < 1e-12,
        "{cost} vs {expected}"
    );

    // Off by default.
    let p = Proxy::new(MOCK_CONFIG).await;
    let body = json!({"model": "mock-gpt", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}]});
    let r = p.post("/v1/chat/completions", body).await;
    assert!(!r.text.contains("\"cost\""), "{}", r.text);
}

/// What OpenAI itself refuses is a 400 naming the field, with nothing sent upstream.
#[tokio::test]
async fn bad_input_is_refused_before_the_upstream() {
    let (openai, proxy) = common::openai_proxy(common::PRICED_NO_RETRIES).await;
    let user = |content: serde_json::Value| serde_json::json!({"model": "gpt", "messages": [{"role": "user", "content": content}]});
    let cases = [
        (
            "/v1/chat/completions",
            user(serde_json::json!([{"text": "hi"}])),
            "messages.[0].content.[0].type",
        ),
        (
            "/v1/chat/completions",
            user(serde_json::json!([{"type": "text", "text": 1}])),
            "messages.[0].content.[0].text",
        ),
        (
            "/v1/chat/completions",
            serde_json::json!({"model": "gpt", "messages": [{"role": "user", "content": "x"}],
                               "tools": [{"type": "function"}]}),
            "tools.[0].function",
        ),
        (
            "/v1/chat/completions",
            serde_json::json!({"model": "gpt", "messages": [{"role": "user", "content": "x"}],
                               "logit_bias": {"7": "up"}}),
            "logit_bias.7",
        ),
        (
            "/v1/embeddings",
            serde_json::json!({"model": "gpt", "input": ""}),
            "input",
        ),
        (
            "/v1/embeddings",
            serde_json::json!({"model": "gpt", "input": ["a", ""]}),
            "input",
        ),
    ];
    for (path, body, param) in cases {
        let r = proxy.post_as(common::MASTER, path, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.json()["error"]["param"], param, "{body}");
    }
    assert_eq!(openai.request_count(), 0);
}

/// Absurd usage numbers from an upstream saturate instead of overflowing (no panic, a served
/// call, a spend record).
#[tokio::test]
async fn absurd_upstream_usage_saturates() {
    let up = common::Upstreams::start("").await;
    up.anthropic
        .push(litellm_test_support::AnthropicScript::Json(json!({
            "id": "msg_x", "type": "message", "role": "assistant", "model": "claude",
            "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": u64::MAX, "cache_read_input_tokens": 10, "output_tokens": 5}
        })));
    let r = up
        .proxy
        .post_as(common::MASTER, "/v1/chat/completions", hi("claude"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["usage"]["prompt_tokens"], u64::MAX);
    assert_eq!(r.json()["usage"]["total_tokens"], u64::MAX);
    let rows = up.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].completion_tokens, 5);
}

/// A stream that goes quiet for longer than `stream_timeout` between chunks is ended with a
/// timeout error event (not left hanging), and its call is billed.
#[tokio::test]
async fn a_stalled_stream_ends_after_stream_timeout() {
    let (fake, proxy) =
        common::openai_proxy("      stream_timeout: 0.3\n      num_retries: 0\n").await;
    fake.push(litellm_test_support::Scripted::StreamStall {
        after_chunks: 2,
        pause: std::time::Duration::from_secs(20),
    });
    let body = json!({"model": "gpt", "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]});
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        proxy.post_as(common::MASTER, "/v1/chat/completions", body),
    )
    .await
    .expect("the stalled stream was never ended");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = sse_events(&r.text);
    let last_data = events
        .iter()
        .rev()
        .find(|e| e.as_str() != "[DONE]")
        .unwrap();
    assert!(last_data.contains("stream sent nothing"), "{events:?}");
    let rows = proxy.flushed_spend_logs(1).await;
    assert_eq!(rows.len(), 1);
}
