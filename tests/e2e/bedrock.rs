//! The binary in front of an Amazon Bedrock upstream (`FakeBedrock`): an OpenAI request goes out
//! as a SigV4-signed Converse request (credentials from `litellm_params`), the answer comes back
//! in OpenAI's format, the binary event stream is translated chunk by chunk with usage, tool
//! calls round-trip, Titan embeddings work, and Bedrock errors reach the client with the right
//! status while the AWS secrets never appear in responses or logs.

use litellm_test_support::{BedrockScript, FakeBedrock};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const SECRET: &str = "e2e-bedrock-secret-access-key";
const TOKEN: &str = "e2e-bedrock-session-token";

async fn proxy(fake: &FakeBedrock) -> ProxyProcess {
    let config = format!(
        "model_list:\n  - model_name: claude\n    litellm_params:\n      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0\n      api_base: {base}\n      aws_access_key_id: AKIDE2ETEST\n      aws_secret_access_key: os.environ/E2E_AWS_SECRET\n      aws_session_token: os.environ/E2E_AWS_TOKEN\n      aws_region_name: eu-west-3\n  - model_name: titan\n    litellm_params:\n      model: bedrock/amazon.titan-embed-text-v2:0\n      api_base: {base}\n      aws_access_key_id: AKIDE2ETEST\n      aws_secret_access_key: os.environ/E2E_AWS_SECRET\n      aws_region_name: eu-west-3\nrouter_settings:\n  num_retries: 0\n",
        base = fake.base_url()
    );
    ProxyProcess::start(
        &config,
        &[("E2E_AWS_SECRET", SECRET), ("E2E_AWS_TOKEN", TOKEN)],
    )
    .await
}

fn sse(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn chat_is_signed_and_translated_to_converse_and_back() {
    let fake = FakeBedrock::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({
            "model": "claude",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]}
            ],
            "max_tokens": 100,
            "temperature": 0.2,
            "stop": "END"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeBedrock::DEFAULT_REPLY
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );

    let sent = &fake.requests()[0];
    assert_eq!(
        sent.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    let auth = sent.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDE2ETEST/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-3/bedrock/aws4_request"), "{auth}");
    assert!(sent.header("x-amz-date").is_some());
    assert_eq!(sent.header("x-amz-security-token"), Some(TOKEN));
    assert_eq!(
        sent.body,
        json!({
            "messages": [{"role": "user", "content": [
                {"text": "What is this?"},
                {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}
            ]}],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 100, "temperature": 0.2, "stopSequences": ["END"]}
        })
    );
    let logs = p.stderr();
    assert!(!logs.contains(SECRET) && !logs.contains(TOKEN), "{logs}");
}

#[tokio::test]
async fn a_stream_is_decoded_frame_by_frame_with_usage() {
    let fake = FakeBedrock::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "claude", "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "stream please"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events = sse(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, FakeBedrock::DEFAULT_REPLY);
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "stop"));
    let usage = &chunks.last().unwrap()["usage"];
    assert!(usage["completion_tokens"].as_u64().unwrap() > 0, "{text}");
    assert!(fake.requests()[0].path.ends_with("/converse-stream"));
}

#[tokio::test]
async fn tool_calls_round_trip_as_tool_use_and_tool_result() {
    let fake = FakeBedrock::start().await;
    fake.push(BedrockScript::Json(json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "tooluse_9", "name": "lookup", "input": {"q": "rust"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 20, "outputTokens": 7, "totalTokens": 127,
            "cacheReadInputTokens": 100}
    })));
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "claude", "messages": [
            {"role": "user", "content": "search rust"},
            {"role": "assistant", "tool_calls": [{"id": "tooluse_0", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}]},
            {"role": "tool", "tool_call_id": "tooluse_0", "content": "nothing"}
        ], "tools": [{"type": "function", "function": {"name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
        "tool_choice": "required"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["tool_calls"][0]["id"], "tooluse_9");
    assert_eq!(
        choice["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"q\":\"rust\"}"
    );
    assert_eq!(body["usage"]["prompt_tokens"], 120);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 100);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.body["messages"][1]["content"][0],
        json!({"toolUse": {"toolUseId": "tooluse_0", "name": "lookup", "input": {"q": "x"}}})
    );
    assert_eq!(
        sent.body["messages"][2],
        json!({"role": "user", "content": [
            {"toolResult": {"toolUseId": "tooluse_0", "content": [{"text": "nothing"}]}}]})
    );
    assert_eq!(sent.body["toolConfig"]["toolChoice"], json!({"any": {}}));
    assert_eq!(
        sent.body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "lookup"
    );
}

#[tokio::test]
async fn titan_embeddings_are_served_through_invoke_model() {
    let fake = FakeBedrock::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/embeddings"))
        .json(&json!({"model": "titan", "input": ["hello", "world!"], "dimensions": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][1]["index"], 1);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 4);
    assert_eq!(body["usage"]["prompt_tokens"], 2 + 2);
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec!["/model/amazon.titan-embed-text-v2%3A0/invoke".to_string(); 2]
    );
}

#[tokio::test]
async fn bedrock_errors_map_to_the_right_status() {
    let fake = FakeBedrock::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let call = || {
        client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "claude", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };

    fake.push(BedrockScript::error(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 429);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Too many requests"),
        "{e}"
    );

    fake.push(BedrockScript::error(
        400,
        "ValidationException",
        "Input is too long for requested model.",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ContextWindowExceeded"),
        "{e}"
    );

    fake.push(BedrockScript::error(
        403,
        "UnrecognizedClientException",
        &format!("The security token {TOKEN} included in the request is invalid."),
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 401);
    let text = r.text().await.unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(SECRET), "{text}");

    // An http image URL is refused before any upstream call.
    let before = fake.requests().len();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(
            &json!({"model": "claude", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(fake.requests().len(), before);
    let logs = p.stderr();
    assert!(!logs.contains(SECRET) && !logs.contains(TOKEN), "{logs}");
}
