//! In-process tests of the Anthropic-format ingress (`POST /v1/messages`,
//! `/v1/messages/count_tokens`): served by the mock provider, by a fake OpenAI upstream
//! (translated mode) and by a fake Anthropic upstream (native mode, headers forwarded); auth
//! through `x-api-key`, errors in Anthropic's shape, event streams and spend records.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

use litellm_test_support::{AnthropicScript, FakeAnthropic, Scripted};

type Env = Upstreams;

/// The fakes and a proxy that also serves `mock-claude` from the mock provider.
async fn env() -> Env {
    Upstreams::start(&mock_entry(
        "mock-claude",
        "claude",
        "Hello from the mock",
        "",
    ))
    .await
}

impl Env {
    /// One user message, `content`, to `model`.
    async fn ask(&self, model: &str, max_tokens: u32, content: &str) -> Resp {
        let body = json!({"model": model, "max_tokens": max_tokens,
                          "messages": [{"role": "user", "content": content}]});
        self.messages(body, &[]).await
    }

    /// [`Env::ask`], streamed.
    async fn ask_stream(&self, model: &str, max_tokens: u32, content: &str) -> Resp {
        let body = json!({"model": model, "max_tokens": max_tokens, "stream": true,
                          "messages": [{"role": "user", "content": content}]});
        self.messages(body, &[]).await
    }

    async fn messages(&self, body: Value, extra: &[(&str, &str)]) -> Resp {
        let mut headers = vec![("x-api-key", MASTER), ("anthropic-version", "2023-06-01")];
        headers.extend_from_slice(extra);
        self.proxy
            .post_raw("/v1/messages", serde_json::to_vec(&body).unwrap(), &headers)
            .await
    }
}

/// The names of `events`, in order.
fn event_names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

/// The SSE events of an Anthropic stream as (event name, data).
/// The events of a stream answer that must be 200, checked: their names are `names` and the
/// message id in `message_start` is `id`.
fn stream_events(r: &Resp, names: &[&str], id: &str) -> Vec<(String, Value)> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ev = events(&r.text);
    assert_eq!(event_names(&ev), names);
    assert_eq!(ev[0].1["message"]["id"], id);
    ev
}

fn events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut name = String::new();
            let mut data = Value::Null;
            for line in e.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).unwrap();
                }
            }
            assert_eq!(data["type"], name.as_str(), "event name equals data.type");
            (name, data)
        })
        .collect()
}

#[tokio::test]
async fn a_message_through_the_mock_is_an_anthropic_message() {
    let e = env().await;
    let r = e.ask("mock-claude", 100, "hi").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["type"], "message");
    assert_eq!(b["role"], "assistant");
    assert!(b["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(
        b["content"],
        json!([{"type": "text", "text": "Hello from the mock"}])
    );
    assert_eq!(b["stop_reason"], "end_turn");
    assert!(b["stop_sequence"].is_null());
    assert!(b["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert!(b["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(r.header("x-litellm-model-group"), Some("mock-claude"));
    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "anthropic_messages");
}

#[tokio::test]
async fn keys_are_checked_and_errors_have_anthropics_shape() {
    let e = env().await;
    let body = json!({"model": "mock-claude", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}]});
    let r = e
        .proxy
        .post_raw(
            "/v1/messages",
            serde_json::to_vec(&body).unwrap(),
            &[("x-api-key", "sk-wrong")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let b = r.json();
    assert_eq!(b["type"], "error");
    assert_eq!(b["error"]["type"], "authentication_error");
    assert!(!r.text.contains("sk-wrong"), "{}", r.text);

    let r = e
        .messages(
            json!({"model": "mock-claude", "messages": [{"role": "user", "content": "hi"}]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_tokens"));

    let r = e
        .messages(
            json!({"model": "mock-claude", "max_tokens": 5,
                   "messages": [{"role": "tool", "content": "x"}]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("role"));

    let r = e
        .proxy
        .post_raw(
            "/v1/messages",
            b"{not json".to_vec(),
            &[("x-api-key", MASTER)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["type"], "error");
}

#[tokio::test]
async fn an_openai_upstream_is_translated_both_ways() {
    let e = env().await;
    e.openai.push(weather_tool_call(
        "chatcmpl-up1",
        Some("Checking."),
        "call_1",
        (30, 9),
    ));
    let r = e
        .messages(
            json!({
                "model": "gpt", "max_tokens": 200, "system": "Be brief.",
                "stop_sequences": ["END"], "metadata": {"user_id": "u-1"},
                "tools": [{"name": "get_weather", "description": "Weather",
                           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
                "tool_choice": {"type": "any"},
                "messages": [{"role": "user", "content": "Weather in Paris?"}]
            }),
            &[("anthropic-beta", "tools-2024-04-04")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["id"], "msg_up1");
    assert_eq!(b["stop_reason"], "tool_use");
    assert_eq!(
        b["content"],
        json!([{"type": "text", "text": "Checking."},
               {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}])
    );
    assert_eq!(b["usage"]["input_tokens"], 30);
    assert_eq!(b["usage"]["output_tokens"], 9);

    let sent = &e.openai.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "system", "content": "Be brief."},
               {"role": "user", "content": "Weather in Paris?"}])
    );
    assert_eq!(sent.body["max_tokens"], 200);
    assert_eq!(sent.body["stop"], json!(["END"]));
    assert_eq!(sent.body["user"], "u-1");
    assert_eq!(sent.body["tool_choice"], "required");
    assert_eq!(sent.body["tools"][0]["function"]["name"], "get_weather");
    assert!(sent.header("anthropic-beta").is_none());
    assert!(sent.body.get("litellm_forward_headers").is_none());

    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!((rows[0].prompt_tokens, rows[0].completion_tokens), (30, 9));
    assert!((rows[0].spend - (30.0 * 0.5 + 9.0)).abs() < 1e-9);
}

#[tokio::test]
async fn a_stream_from_an_openai_upstream_is_anthropic_events_and_billed_once() {
    let e = env().await;
    e.openai.push(Scripted::StreamChunks(vec![
        json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": null}]}),
        json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model",
               "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]}),
        json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model",
               "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}}),
    ]));
    let r = e.ask_stream("gpt", 50, "hi").await;
    let ev = stream_events(
        &r,
        &[
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ],
        "msg_s",
    );
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        ev[2].1["delta"],
        json!({"type": "text_delta", "text": "Hel"})
    );
    assert_eq!(ev[5].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(ev[5].1["usage"]["input_tokens"], 11);
    assert_eq!(ev[5].1["usage"]["output_tokens"], 2);
    assert!(!r.text.contains("[DONE]"));
    assert_eq!(
        e.openai.requests()[0].body["stream_options"]["include_usage"],
        true
    );
    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].prompt_tokens, rows[0].completion_tokens), (11, 2));
    assert_eq!(rows[0].call_type, "anthropic_messages");
}

#[tokio::test]
async fn a_stream_failing_midway_ends_with_an_error_event() {
    let e = env().await;
    e.openai.push(Scripted::StreamError {
        after_chunks: 1,
        error: json!({"message": "upstream broke", "type": "server_error", "code": null}),
    });
    let r = e.ask_stream("gpt", 50, "hi").await;
    assert_eq!(r.status, StatusCode::OK);
    let ev = events(&r.text);
    let (name, data) = ev.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(data["type"], "error");
    assert!(data["error"]["message"]
        .as_str()
        .unwrap()
        .contains("upstream broke"));
    assert!(!ev.iter().any(|(n, _)| n == "message_stop"));
    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].status, "failure");
}

#[tokio::test]
async fn an_anthropic_upstream_gets_the_body_and_beta_headers_as_sent() {
    let e = env().await;
    let client = json!({
        "model": "claude", "max_tokens": 300,
        "system": [{"type": "text", "text": "Sys", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "top_k": 3,
        "tools": [{"name": "t", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hm", "signature": "sig"},
                {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done", "is_error": false}]},
            {"role": "system", "content": "Mid-conversation instructions."},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_2", "name": "t", "input": {"n": 2}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "again"}]}
        ]
    });
    let beta = "interleaved-thinking-2025-05-14,mid-conversation-system-2026-04-07";
    let r = e
        .messages(client.clone(), &[("anthropic-beta", beta)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["id"], "msg_fake01");
    assert_eq!(
        b["content"],
        json!([{"type": "text", "text": FakeAnthropic::DEFAULT_REPLY}])
    );
    let sent = &e.anthropic.requests()[0];
    assert_eq!(sent.header("anthropic-beta"), Some(beta));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-test"));
    // Identical but for the deployment's model (native mode sends the client's body).
    let mut expected = client;
    expected["model"] = json!("claude-sonnet-4-20250514");
    assert_eq!(sent.body, expected);
    // Billed from the upstream's usage.
    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "anthropic_messages");
    assert_eq!(rows[0].model_group, "claude");
    assert!(rows[0].prompt_tokens > 0 && rows[0].completion_tokens > 0);
}

#[tokio::test]
async fn an_anthropic_stream_comes_back_event_for_event() {
    let e = env().await;
    e.anthropic.push(AnthropicScript::Events(vec![
        json!({"type": "message_start", "message": {"id": "msg_S", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-20250514", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 40, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_x", "name": "t", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 7}}),
        json!({"type": "message_stop"}),
    ]));
    let r = e
        .messages(
            json!({"model": "claude", "max_tokens": 30, "stream": true,
                   "tools": [{"name": "t", "input_schema": {"type": "object"}}],
                   "messages": [{"role": "user", "content": "go"}]}),
            &[],
        )
        .await;
    let ev = stream_events(
        &r,
        &[
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ],
        "msg_S",
    );
    assert_eq!(
        ev[1].1["content_block"],
        json!({"type": "tool_use", "id": "toolu_x", "name": "t", "input": {}})
    );
    assert_eq!(ev[2].1["delta"]["partial_json"], "{\"a\": 1}");
    assert_eq!(ev[4].1["delta"]["stop_reason"], "tool_use");
    // The upstream's own usage, where it put it: input in `message_start`, output at the end.
    assert_eq!(ev[0].1["message"]["usage"]["input_tokens"], 40);
    assert_eq!(ev[4].1["usage"], json!({"output_tokens": 7}));
    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].prompt_tokens, rows[0].completion_tokens), (40, 7));
}

#[tokio::test]
async fn upstream_errors_keep_their_status_and_get_anthropic_types() {
    let e = env().await;
    e.anthropic.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    let r = e.ask("claude", 30, "go").await;
    assert_eq!(r.status.as_u16(), 529, "{}", r.text);
    assert_eq!(r.json()["error"]["type"], "overloaded_error");

    e.openai.push(Scripted::error(
        429,
        "Rate limit reached",
        "rate_limit_error",
        None,
    ));
    let r = e.ask("gpt", 30, "go").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.json()["error"]["type"], "rate_limit_error");

    let r = e.ask("no-such-model", 30, "go").await;
    assert_eq!(r.json()["type"], "error", "{}", r.text);
    assert!(r.status.is_client_error());
}

#[tokio::test]
async fn count_tokens_asks_an_anthropic_upstream_and_counts_itself_otherwise() {
    let e = env().await;
    let count = |body: Value| {
        e.proxy.post_raw(
            "/v1/messages/count_tokens",
            serde_json::to_vec(&body).unwrap(),
            &[
                ("x-api-key", MASTER),
                ("anthropic-beta", "token-counting-2024-11-01"),
            ],
        )
    };
    // Native: the upstream's own count, of the body as sent (less what count_tokens refuses).
    let body = json!({"model": "claude", "system": "abcd", "max_tokens": 5,
                      "messages": [{"role": "user", "content": "efgh ijkl"}]});
    let r = count(body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sent = e.anthropic.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/messages/count_tokens");
    assert_eq!(
        sent[0].header("anthropic-beta"),
        Some("token-counting-2024-11-01")
    );
    assert!(sent[0].body.get("max_tokens").is_none());
    assert_eq!(sent[0].body["model"], "claude-sonnet-4-20250514");
    // The fake's count (four characters a token over system and messages: 13 characters), not
    // ours (which adds per-message overhead).
    assert_eq!(r.json(), json!({"input_tokens": 4}));

    // Validated as /v1/messages validates: the same 400, nothing sent.
    let bad = json!({"model": "claude", "messages": [{"role": "tool", "content": "x"}]});
    let r = count(bad.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r2 = e
        .messages(
            bad.as_object()
                .cloned()
                .map(|mut m| {
                    m.insert("max_tokens".into(), json!(5));
                    Value::Object(m)
                })
                .unwrap(),
            &[],
        )
        .await;
    assert_eq!(r2.status, StatusCode::BAD_REQUEST, "{}", r2.text);
    assert_eq!(r.json()["error"]["message"], r2.json()["error"]["message"]);
    assert_eq!(e.anthropic.requests().len(), 1);

    // Translated (an OpenAI-family deployment): counted here, exactly, without an upstream call.
    let r = count(json!({"model": "gpt", "system": "abcd",
                         "messages": [{"role": "user", "content": "efgh"}]}))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json()["input_tokens"].as_u64().unwrap() > 0);
    assert!(e.openai.requests().is_empty());

    let r = e
        .proxy
        .post_raw(
            "/v1/messages/count_tokens",
            serde_json::to_vec(
                &json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
            )
            .unwrap(),
            &[("x-api-key", MASTER)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");

    let r = e
        .proxy
        .post_raw(
            "/v1/messages/count_tokens",
            serde_json::to_vec(&json!({"model": "claude", "messages": []})).unwrap(),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
