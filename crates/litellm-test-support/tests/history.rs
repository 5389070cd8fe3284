//! Tests of the fakes' conversation-history validation over real HTTP: a valid tool loop is
//! answered, a broken history gets the provider's status and error body, is still recorded,
//! and leaves the scripted answers for the next request.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use serde_json::{json, Value};

use litellm_test_support::{
    AnthropicScript, BedrockScript, FakeAnthropic, FakeBedrock, FakeGemini, FakeHttp, FakeOpenAi,
    GeminiScript, HttpScript, Scripted,
};

/// POSTs `body` with `headers`; returns the status, the headers we look at, and the JSON body.
async fn post(url: String, headers: &[(&str, &str)], body: Value) -> (u16, Option<String>, Value) {
    let mut req = reqwest::Client::new().post(url).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let error_type = r
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    (status, error_type, r.json().await.unwrap_or(Value::Null))
}

const ANTHROPIC_HEADERS: &[(&str, &str)] =
    &[("x-api-key", "sk-ant"), ("anthropic-version", "2023-06-01")];

fn anthropic_body(messages: Value) -> Value {
    json!({"model": "claude-x", "max_tokens": 10, "messages": messages})
}

#[tokio::test]
async fn anthropic_answers_a_tool_loop_and_refuses_a_lost_tool_use() {
    let fake = FakeAnthropic::start().await;
    fake.push(AnthropicScript::Reply {
        text: "scripted".into(),
        usage: None,
    });
    let url = format!("{}/v1/messages", fake.base_url());
    let broken = anthropic_body(json!([
        {"role": "user", "content": "weather?"},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
    ]));
    let (status, _, body) = post(url.clone(), ANTHROPIC_HEADERS, broken.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"type": "error", "error": {"type": "invalid_request_error", "message":
            "messages.1.content.0: unexpected `tool_use_id` found in `tool_result` blocks: \
             toolu_1. Each `tool_result` block must have a corresponding `tool_use` block in \
             the previous message."}, "request_id": "req_fake"})
    );
    let valid = anthropic_body(json!([
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
    ]));
    let (status, _, body) = post(url, ANTHROPIC_HEADERS, valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["content"][0]["text"], "scripted",
        "the refusal kept the script"
    );
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, broken, "a refused request is recorded");
}

#[tokio::test]
async fn anthropic_accepts_system_messages_only_under_their_beta() {
    let fake = FakeAnthropic::start().await;
    let url = format!("{}/v1/messages", fake.base_url());
    let body = anthropic_body(json!([
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "again"},
    ]));
    let (status, _, answer) = post(url.clone(), ANTHROPIC_HEADERS, body.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"]["message"],
        "messages.1.role: Input should be 'user' or 'assistant'"
    );
    let mut headers = ANTHROPIC_HEADERS.to_vec();
    headers.push(("anthropic-beta", "mid-conversation-system-2025-01-01"));
    let (status, _, answer) = post(url, &headers, body).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn openai_refuses_an_orphan_tool_message_with_its_param() {
    let fake = FakeOpenAi::start().await;
    fake.push(Scripted::reply("scripted"));
    let url = format!("{}/chat/completions", fake.base_url());
    let broken = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]});
    let (status, _, body) = post(url.clone(), &[], broken.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"message": "Invalid parameter: messages with role 'tool' must be a \
            response to a preceeding message with 'tool_calls'.",
            "type": "invalid_request_error", "param": "messages.[1].role", "code": null}})
    );
    let (status, _, body) = post(
        url.clone(),
        &[],
        json!({"model": "gpt-4o", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
                "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "user", "content": "where is the result?"},
        ]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "messages.[1].role");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("did not have response messages: call_1"));
    let valid = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
            "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]});
    let (status, _, body) = post(url, &[], valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "scripted");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(fake.requests()[0].body, broken);
}

#[tokio::test]
async fn azure_chat_paths_of_the_generic_fake_are_checked_like_openai() {
    let fake = FakeHttp::start().await;
    fake.push(HttpScript::ok(json!({"ok": true})));
    let url = format!(
        "{}/openai/deployments/d/chat/completions?api-version=2024-10-21",
        fake.base_url()
    );
    let (status, _, body) = post(
        url.clone(),
        &[],
        json!({"messages": [{"role": "user", "content": "x"}, {"role": "assistant"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        json!({"message": "Invalid value for 'content': expected a string, got null.",
            "type": "invalid_request_error", "param": "messages.[1].content", "code": null})
    );
    let (status, _, body) = post(
        url,
        &[],
        json!({"messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"ok": true})));
    // Other paths are not chat requests: answered from the script queue (empty: 404).
    let (status, _, _) = post(format!("{}/hook", fake.base_url()), &[], json!({"role": 1})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn gemini_refuses_a_function_response_without_its_call() {
    let fake = FakeGemini::start().await;
    fake.push(GeminiScript::Reply {
        text: "scripted".into(),
        usage: None,
    });
    let url = format!(
        "{}/v1beta/models/gemini-2.0-flash:generateContent",
        fake.base_url()
    );
    let key = [("x-goog-api-key", "g-key")];
    let response = json!({"role": "user", "parts": [
        {"functionResponse": {"name": "w", "response": {"t": 1}}}]});
    let broken = json!({"contents": [{"role": "user", "parts": [{"text": "weather?"}]}, response]});
    let (status, _, body) = post(url.clone(), &key, broken).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
            "Please ensure that function response turn comes immediately after a function \
             call turn."}})
    );
    let (status, _, body) = post(
        url.clone(),
        &key,
        json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Please use a valid role: user, model."
    );
    let valid = json!({"contents": [
        {"role": "user", "parts": [{"text": "weather?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "w", "args": {}}}]},
        response,
    ]});
    let (status, _, body) = post(url, &key, valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["text"],
        "scripted"
    );
    assert_eq!(fake.model_requests().len(), 3);
}

#[tokio::test]
async fn bedrock_refuses_a_tool_use_without_its_result() {
    let fake = FakeBedrock::start().await;
    fake.push(BedrockScript::Reply {
        text: "scripted".into(),
        usage: None,
    });
    let url = format!("{}/model/anthropic.claude-x/converse", fake.base_url());
    let auth = [("authorization", "Bearer br-key")];
    let tool_use = json!({"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "tu_1", "name": "w", "input": {}}}]});
    let broken = json!({"toolConfig": {"tools": []}, "messages": [
        {"role": "user", "content": [{"text": "weather?"}]},
        tool_use,
        {"role": "user", "content": [{"text": "well?"}]},
    ]});
    let (status, error_type, body) = post(url.clone(), &auth, broken).await;
    assert_eq!(status, 400);
    assert!(error_type.unwrap().starts_with("ValidationException"));
    assert_eq!(
        body,
        json!({"message":
            "Expected toolResult blocks at messages.2.content for the following Ids: tu_1"})
    );
    let merged = json!({"messages": [
        {"role": "user", "content": [{"text": "a"}]},
        {"role": "user", "content": [{"text": "b"}]},
    ]});
    let (status, _, body) = post(url.clone(), &auth, merged).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "A conversation must alternate between user and assistant roles. Make sure the \
         conversation alternates between user and assistant roles and try again."
    );
    let valid = json!({"toolConfig": {"tools": []}, "messages": [
        {"role": "user", "content": [{"text": "weather?"}]},
        tool_use,
        {"role": "user", "content": [{"toolResult": {"toolUseId": "tu_1",
            "content": [{"text": "sunny"}]}}]},
    ]});
    let (status, _, body) = post(url, &auth, valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"]["message"]["content"][0]["text"], "scripted");
    assert_eq!(fake.requests().len(), 3);
}
