//! In-process tests of OpenAI's Responses API on the proxy (`POST /v1/responses`, retrieve,
//! delete, `input_items`): translated to Chat Completions for a fake OpenAI upstream and for a
//! fake Anthropic upstream, JSON and event streams, tools, `previous_response_id` continuing a
//! stored conversation, responses scoped to the key that made them, and spend records.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

use litellm_test_support::{AnthropicScript, FakeOpenAi, Scripted};

async fn env() -> Upstreams {
    Upstreams::start("").await
}

impl Upstreams {
    /// `POST /v1/responses` with `body`, by the master key.
    async fn respond(&self, body: Value) -> Resp {
        self.proxy.post_as(MASTER, "/v1/responses", body).await
    }
}

/// The `data` JSON of each SSE event, with its `event:` name checked against its `type`.
fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let name = e
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_else(|| panic!("no event name in {e:?}"));
            let data = e.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["type"], name, "{e}");
            v
        })
        .collect()
}

#[tokio::test]
async fn a_text_answer_is_a_response_object_and_is_billed() {
    let e = env().await;
    e.openai.push(Scripted::Reply {
        content: "Hi there.".into(),
        usage: Some((12, 3)),
    });
    let r = e
        .respond(
            json!({"model": "gpt", "input": "Say hi", "instructions": "Be brief.",
                   "max_output_tokens": 50, "metadata": {"trace": "t1"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    let id = b["id"].as_str().unwrap();
    assert!(id.starts_with("resp_"), "{id}");
    assert_eq!(b["object"], "response");
    assert_eq!(b["status"], "completed");
    assert_eq!(b["instructions"], "Be brief.");
    assert_eq!(b["max_output_tokens"], 50);
    assert_eq!(b["output"].as_array().unwrap().len(), 1);
    let msg = &b["output"][0];
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["role"], "assistant");
    assert_eq!(msg["content"][0]["type"], "output_text");
    assert_eq!(msg["content"][0]["text"], "Hi there.");
    assert_eq!(b["usage"]["input_tokens"], 12);
    assert_eq!(b["usage"]["output_tokens"], 3);
    assert_eq!(b["usage"]["total_tokens"], 15);
    // 12 × 0.5 + 3 × 1.0
    assert_eq!(r.header("x-litellm-response-cost"), Some("9.0"));

    let sent = &e.openai.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}])
    );
    assert_eq!(sent.body["max_tokens"], 50);

    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "aresponses");
    assert!((rows[0].spend - 9.0).abs() < 1e-9, "{}", rows[0].spend);

    // Stored: retrieve and input_items answer with it.
    let got = e.proxy.get_as(MASTER, &format!("/v1/responses/{id}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json(), b);
    let items = e
        .proxy
        .get_as(MASTER, &format!("/v1/responses/{id}/input_items"))
        .await
        .json();
    assert_eq!(items["object"], "list");
    assert_eq!(items["data"][0]["content"][0]["text"], "Say hi");
    assert_eq!(items["first_id"], items["data"][0]["id"]);
}

#[tokio::test]
async fn tool_calls_round_trip_and_previous_response_id_continues_the_conversation() {
    let e = env().await;
    e.openai
        .push(weather_tool_call("chatcmpl-1", None, "call_7", (20, 5)));
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let first = e
        .respond(
            json!({"model": "gpt", "input": "Weather in Paris?", "tools": tools,
                   "tool_choice": "required"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let b = first.json();
    let call = &b["output"][0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["call_id"], "call_7");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], "{\"city\":\"Paris\"}");
    let sent = &e.openai.requests()[0];
    assert_eq!(sent.body["tools"][0]["type"], "function");
    assert_eq!(sent.body["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(sent.body["tool_choice"], "required");

    // The follow-up sends only the tool's output; the stored turns come first.
    let r = e.respond(json!({"model": "gpt", "previous_response_id": b["id"], "tools": tools,
                   "input": [{"type": "function_call_output", "call_id": "call_7", "output": "Sunny"}]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sent = &e.openai.requests()[1];
    let messages = sent.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(
        messages[0],
        json!({"role": "user", "content": "Weather in Paris?"})
    );
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["tool_calls"][0]["id"], "call_7");
    assert_eq!(
        messages[2],
        json!({"role": "tool", "tool_call_id": "call_7", "content": "Sunny"})
    );
}

#[tokio::test]
async fn a_stream_is_responses_events_ending_in_the_full_response() {
    let e = env().await;
    let r = e
        .respond(json!({"model": "gpt", "input": "Say hi", "stream": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let evs = events(&r.text);
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[..2], ["response.created", "response.in_progress"]);
    assert_eq!(kinds.last(), Some(&"response.completed"));
    assert!(kinds.contains(&"response.output_text.delta"), "{kinds:?}");
    for w in evs.windows(2) {
        assert!(w[0]["sequence_number"].as_u64() < w[1]["sequence_number"].as_u64());
    }
    let text: String = evs
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, FakeOpenAi::DEFAULT_REPLY);
    let done = &evs.last().unwrap()["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["output"][0]["content"][0]["text"],
        FakeOpenAi::DEFAULT_REPLY
    );
    assert!(done["usage"]["output_tokens"].as_u64().unwrap() > 0);
    // The upstream was asked for usage, so the stream is billed exactly.
    assert_eq!(
        e.openai.requests()[0].body["stream_options"]["include_usage"],
        true
    );
    let rows = e.proxy.flushed_spend_logs(1).await;
    assert_eq!(rows[0].call_type, "aresponses");
    assert!(rows[0].spend > 0.0);

    // The streamed response was stored too.
    let id = done["id"].as_str().unwrap();
    let got = e.proxy.get_as(MASTER, &format!("/v1/responses/{id}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(&got.json(), done);
}

#[tokio::test]
async fn an_anthropic_deployment_serves_responses_by_translation() {
    let e = env().await;
    e.anthropic.push(AnthropicScript::Reply {
        text: "Bonjour.".into(),
        usage: Some((9, 2)),
    });
    let r = e.respond(json!({"model": "claude", "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}],
                   "instructions": "Answer in French."})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let b = r.json();
    assert_eq!(b["output"][0]["content"][0]["text"], "Bonjour.");
    assert_eq!(b["usage"]["input_tokens"], 9);
    let sent = &e.anthropic.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(
        sent.body["system"],
        json!([{"type": "text", "text": "Answer in French."}])
    );
    assert_eq!(sent.body["messages"][0]["role"], "user");
}

#[tokio::test]
async fn responses_belong_to_the_key_that_made_them() {
    let e = env().await;
    let alice = e
        .proxy
        .new_key_as(MASTER, json!({"key_alias": "alice"}))
        .await;
    let bob = e
        .proxy
        .new_key_as(MASTER, json!({"key_alias": "bob"}))
        .await;
    let r = e
        .proxy
        .post_as(
            &alice,
            "/v1/responses",
            json!({"model": "gpt", "input": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let path = format!("/v1/responses/{id}");

    let other = e.proxy.get_as(&bob, &path).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    assert_eq!(
        other.json()["error"]["message"],
        format!("Response with id '{id}' not found.")
    );
    let cont = e
        .proxy
        .post_as(
            &bob,
            "/v1/responses",
            json!({"model": "gpt", "input": "more", "previous_response_id": id}),
        )
        .await;
    assert_eq!(cont.status, StatusCode::NOT_FOUND, "{}", cont.text);
    assert_eq!(
        e.openai.requests().len(),
        1,
        "nothing went upstream for bob"
    );

    assert_eq!(e.proxy.get_as(&alice, &path).await.status, StatusCode::OK);
    let req = axum::http::Request::delete(&path)
        .header("authorization", bearer(&alice))
        .body(axum::body::Body::empty())
        .unwrap();
    let del = e.proxy.send(req).await;
    assert_eq!(del.status, StatusCode::OK, "{}", del.text);
    assert_eq!(
        del.json(),
        json!({"id": id, "object": "response", "deleted": true})
    );
    assert_eq!(
        e.proxy.get_as(&alice, &path).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_requests_are_openai_errors_and_send_nothing() {
    let e = env().await;
    let cases = [
        (json!({"model": "gpt"}), "input"),
        (json!({"model": "gpt", "input": 5}), "input"),
        (
            json!({"model": "gpt", "input": "x", "tools": [{"type": "file_search"}]}),
            "file_search",
        ),
    ];
    for (body, needle) in cases {
        let r = e.proxy.post_as(MASTER, "/v1/responses", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    assert!(e.openai.requests().is_empty());
    let r = e
        .proxy
        .post("/v1/responses", json!({"model": "gpt", "input": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// A stored response lives in the key database: another replica on the same database (or this
/// proxy after a restart) retrieves it, continues it with `previous_response_id` and deletes
/// it, still only for the key that made it.
#[tokio::test]
async fn stored_responses_are_shared_through_the_database() {
    let openai = FakeOpenAi::start().await;
    let yaml = config_yaml(
        &gpt_entry(&openai.base_url(), PRICED_NO_RETRIES),
        "",
        MASTER,
    );
    let dir = std::env::temp_dir().join(format!("litellm-rs-resp-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("keys.db").display());
    let first = Proxy::on_db(&yaml, &url, std::time::Duration::from_secs(3600), ()).await;
    let key = first.new_key_as(MASTER, json!({})).await;
    let other = first.new_key_as(MASTER, json!({})).await;
    let r = first
        .post_as(
            &key,
            "/v1/responses",
            json!({"model": "gpt", "input": "Remember 42."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let made = r.json();
    let id = made["id"].as_str().unwrap().to_string();

    // A second proxy on the same database, with nothing in memory.
    let second = Proxy::on_db(&yaml, &url, std::time::Duration::from_secs(3600), ()).await;
    let path = format!("/v1/responses/{id}");
    let mut got = second.get_as(&key, &path).await;
    for _ in 0..200 {
        if got.status == StatusCode::OK {
            break;
        }
        // The first proxy writes the response in the background.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        got = second.get_as(&key, &path).await;
    }
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json(), made);
    let items = second.get_as(&key, &format!("{path}/input_items")).await;
    assert_eq!(
        items.json()["data"][0]["content"][0]["text"],
        "Remember 42."
    );
    assert_eq!(
        second.get_as(&other, &path).await.status,
        StatusCode::NOT_FOUND
    );

    let r = second
        .post_as(
            &key,
            "/v1/responses",
            json!({"model": "gpt", "input": "Which number?", "previous_response_id": id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sent = openai.requests().pop().unwrap();
    let history = sent.body["messages"].to_string();
    assert!(
        history.contains("Remember 42.") && history.contains("Which number?"),
        "{history}"
    );

    let deleted = second.delete_as(&key, &path).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        second.get_as(&key, &path).await.status,
        StatusCode::NOT_FOUND
    );
    let third = Proxy::on_db(&yaml, &url, std::time::Duration::from_secs(3600), ()).await;
    assert_eq!(
        third.get_as(&key, &path).await.status,
        StatusCode::NOT_FOUND
    );
    drop((first, second, third));
    let _ = std::fs::remove_dir_all(dir);
}
