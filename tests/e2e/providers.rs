//! The binary in front of table-driven OpenAI-compatible providers (`groq/`, `mistral/`) and
//! Azure OpenAI: the provider's base URL override, its key from its own environment variable,
//! parameter renames, Azure's deployment URL, `api-version` and `api-key` header, and Azure's
//! content-filter error as a 400 content-policy violation.

use litellm_test_support::{FakeHttp, FakeOpenAi, HttpScript};
use serde_json::{json, Value};

use crate::harness::ProxyProcess;

#[tokio::test]
async fn table_providers_use_their_own_key_variable_and_renames() {
    let fake = FakeOpenAi::start().await;
    let config = format!(
        "model_list:\n  - model_name: fast\n    litellm_params:\n      model: groq/llama3-8b\n      api_base: {base}\n  - model_name: mistral\n    litellm_params:\n      model: mistral/mistral-small-latest\n      api_base: {base}\n      api_key: os.environ/MY_MISTRAL_KEY\n",
        base = fake.base_url()
    );
    let p = ProxyProcess::start(
        &config,
        &[
            ("GROQ_API_KEY", "gsk-e2e-secret"),
            ("MY_MISTRAL_KEY", "mistral-e2e-secret"),
            ("OPENAI_API_KEY", "sk-openai-must-not-leak"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    for model in ["fast", "mistral"] {
        let r = client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": model, "max_completion_tokens": 20,
                "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{model}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["choices"][0]["message"]["content"],
            FakeOpenAi::DEFAULT_REPLY
        );
    }
    let sent = fake.requests();
    assert_eq!(sent[0].path, "/v1/chat/completions");
    assert_eq!(
        sent[0].header("authorization"),
        Some("Bearer gsk-e2e-secret")
    );
    assert_eq!(sent[0].body["model"], "llama3-8b");
    assert_eq!(sent[0].body["max_completion_tokens"], 20);
    assert_eq!(
        sent[1].header("authorization"),
        Some("Bearer mistral-e2e-secret")
    );
    assert_eq!(sent[1].body["model"], "mistral-small-latest");
    assert_eq!(sent[1].body["max_tokens"], 20);
    assert!(sent[1].body.get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn azure_uses_the_deployment_url_version_and_api_key() {
    let fake = FakeHttp::start().await;
    fake.push(HttpScript::ok(json!({
        "id": "chatcmpl-az", "object": "chat.completion", "created": 1730000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "from azure"},
            "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    })));
    fake.push(HttpScript::status(400, json!({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type": null, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation"}}})));
    let config = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: azure/prod-gpt4o\n      api_base: {base}\n      api_version: 2024-10-21\n",
        base = fake.base_url()
    );
    let p = ProxyProcess::start(&config, &[("AZURE_API_KEY", "az-e2e-secret")]).await;
    let client = reqwest::Client::new();
    let call = || {
        client
            .post(p.url("/v1/chat/completions"))
            .json(&json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    let r = call().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "from azure");
    assert_eq!(body["usage"]["total_tokens"], 7);
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.path,
        "/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(sent.header("api-key"), Some("az-e2e-secret"));
    assert!(sent.header("authorization").is_none());

    let r = call().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "content_policy_violation", "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("content management policy"));
}
