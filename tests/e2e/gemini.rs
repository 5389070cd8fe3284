//! The binary in front of Google upstreams (`FakeGemini`): an OpenAI request to a `gemini/`
//! deployment goes out as a `generateContent` request with the key in `x-goog-api-key` (body
//! and headers checked at the upstream) and comes back in OpenAI's format, streamed or not, with
//! exact usage; tools round-trip, embeddings use `batchEmbedContents`, Google errors reach the
//! client with the right status; a `vertex_ai/` deployment gets its bearer token from the fake
//! token endpoint with the test service account.

use litellm_test_support::{FakeGemini, GeminiScript};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

const KEY: &str = "AIza-e2e-secret";

async fn proxy(fake: &FakeGemini) -> ProxyProcess {
    let config = format!(
        "model_list:\n  - model_name: gemini\n    litellm_params:\n      model: gemini/gemini-2.0-flash\n      api_base: {base}\n      api_key: os.environ/E2E_GEMINI_KEY\n  - model_name: gemini-embed\n    litellm_params:\n      model: gemini/text-embedding-004\n      api_base: {base}\n  - model_name: vertex\n    litellm_params:\n      model: vertex_ai/gemini-2.0-flash\n      api_base: {base}\n      vertex_location: us-east1\n      vertex_credentials: os.environ/E2E_VERTEX_SA\nrouter_settings:\n  num_retries: 0\n",
        base = fake.base_url()
    );
    ProxyProcess::start(
        &config,
        &[
            ("E2E_GEMINI_KEY", KEY),
            ("GEMINI_API_KEY", "AIza-from-env"),
            ("E2E_VERTEX_SA", &fake.service_account_json()),
        ],
    )
    .await
}

fn sse(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn chat_is_translated_to_generate_content_and_back() {
    let fake = FakeGemini::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({
            "model": "gemini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]}
            ],
            "stop": "END",
            "temperature": 0.2,
            "max_tokens": 100,
            "response_format": {"type": "json_object"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-model-group"], "gemini");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        FakeGemini::DEFAULT_REPLY
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 9);
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert!(sent.header("authorization").is_none());
    assert_eq!(
        sent.body,
        json!({
            "contents": [{"role": "user", "parts": [
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
            ]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"temperature": 0.2, "maxOutputTokens": 100,
                "stopSequences": ["END"], "responseMimeType": "application/json"}
        })
    );
    assert!(
        !p.stderr().contains(KEY),
        "the upstream key must never be logged"
    );
}

#[tokio::test]
async fn a_stream_is_translated_with_usage_in_the_last_chunk() {
    let fake = FakeGemini::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "gemini", "stream": true,
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
    assert_eq!(content, FakeGemini::DEFAULT_REPLY);
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "stop"));
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["completion_tokens"], 9, "{text}");
    assert_eq!(
        fake.requests()[0].path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    );
}

#[tokio::test]
async fn tool_calls_round_trip_as_function_calls() {
    let fake = FakeGemini::start().await;
    fake.push(GeminiScript::Json(json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "lookup", "args": {"q": "rust"}}}
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 7,
            "totalTokenCount": 27, "cachedContentTokenCount": 5},
        "modelVersion": "gemini-2.0-flash"
    })));
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "gemini", "messages": [
            {"role": "user", "content": "search rust"},
            {"role": "assistant", "tool_calls": [{"id": "call_0", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "nothing"}
        ], "tools": [{"type": "function", "function": {"name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}},
                "additionalProperties": false}}}],
           "tool_choice": {"type": "function", "function": {"name": "lookup"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["function"]["name"], "lookup");
    assert_eq!(call["function"]["arguments"], "{\"q\":\"rust\"}");
    assert_eq!(body["usage"]["prompt_tokens"], 20);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 5);

    let sent = &fake.requests()[0].body;
    assert_eq!(
        sent["contents"],
        json!([
            {"role": "user", "parts": [{"text": "search rust"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "x"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "lookup",
                "response": {"content": "nothing"}}}]}
        ])
    );
    assert_eq!(
        sent["tools"],
        json!([{"functionDeclarations": [{"name": "lookup", "parameters":
            {"type": "object", "properties": {"q": {"type": "string"}}}}]}])
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["lookup"]}})
    );
}

#[tokio::test]
async fn embeddings_use_batch_embed_contents() {
    let fake = FakeGemini::start().await;
    let p = proxy(&fake).await;
    let r = reqwest::Client::new()
        .post(p.url("/v1/embeddings"))
        .json(&json!({"model": "gemini-embed", "input": ["one", "two"], "dimensions": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][1]["index"], 1);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 3);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.path,
        "/v1beta/models/text-embedding-004:batchEmbedContents"
    );
    // No key in the config: GEMINI_API_KEY from the environment.
    assert_eq!(sent.header("x-goog-api-key"), Some("AIza-from-env"));
    assert_eq!(
        sent.body["requests"][1],
        json!({"model": "models/text-embedding-004", "content": {"parts": [{"text": "two"}]},
            "outputDimensionality": 3})
    );
}

#[tokio::test]
async fn google_errors_map_to_the_right_status() {
    let fake = FakeGemini::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    let call = || {
        client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "gemini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };

    fake.push(GeminiScript::error(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 429);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Resource has been exhausted"),
        "{e}"
    );

    fake.push(GeminiScript::error(
        400,
        "INVALID_ARGUMENT",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
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

    fake.push(GeminiScript::error(
        400,
        "INVALID_ARGUMENT",
        &format!("API key not valid: {KEY}"),
    ));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.text().await.unwrap().contains(KEY));

    // A finish Gemini marks as malformed is an error, never an empty answer.
    fake.push(GeminiScript::Json(
        json!({"candidates": [{"content": {"parts": [{"text": ""}]},
        "finishReason": "MALFORMED_FUNCTION_CALL", "index": 0}]}),
    ));
    let r = call().await.unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    assert!(r.text().await.unwrap().contains("MALFORMED_FUNCTION_CALL"));

    // An OpenAI parameter Gemini cannot honour is a 400 naming it, before any upstream call.
    let before = fake.requests().len();
    let r = client
        .post(p.url("/v1/chat/completions"))
        .json(&json!({"model": "gemini", "logit_bias": {"1": 5},
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("logit_bias"));
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn vertex_uses_a_service_account_token_from_the_token_endpoint() {
    let fake = FakeGemini::start().await;
    let p = proxy(&fake).await;
    let client = reqwest::Client::new();
    for stream in [false, true] {
        let r = client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "vertex", "stream": stream,
                "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(text.contains("Gemini"), "{text}");
    }
    assert_eq!(fake.token_requests().len(), 1, "the token is cached");
    let models = fake.model_requests();
    assert_eq!(
        models[0].path,
        "/v1/projects/fake-project/locations/us-east1/publishers/google/models/gemini-2.0-flash:generateContent"
    );
    assert!(models[1].path.ends_with(":streamGenerateContent?alt=sse"));
    let token = &fake.issued_tokens()[0];
    for m in &models {
        assert_eq!(
            m.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
    }
    let logs = p.stderr();
    assert!(
        !logs.contains(token.as_str()),
        "the token must never be logged"
    );
    assert!(
        !logs.contains("PRIVATE KEY"),
        "the key must never be logged"
    );
}
