//! The SDK without a server: a `Router` over a model list (two deployments of one group), then
//! a one-shot `completion()` and a stream. Runs offline through the built-in `mock` provider:
//! `cargo run -p litellm-router --example sdk`.

use futures::StreamExt;
use litellm_router::{
    completion, completion_stream, ChatRequest, ChatResponse, DeploymentConfig, Message, Router,
};

/// A request of one user message to `model` (a model group, or a provider-prefixed model).
fn ask(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user(text)],
        ..Default::default()
    }
}

/// The text of the first choice.
fn reply(resp: &ChatResponse) -> &str {
    resp.choices[0].message.content.as_deref().unwrap_or("")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The same shape as config.yaml's model_list.
    let model_list: Vec<DeploymentConfig> = serde_json::from_value(serde_json::json!([
        {"model_name": "chat", "litellm_params": {"model": "mock/a", "mock_response": "Hello from deployment A", "weight": 3}},
        {"model_name": "chat", "litellm_params": {"model": "mock/b", "mock_response": "Hello from deployment B", "weight": 1}},
    ]))?;
    let router = Router::new(model_list)?;
    for _ in 0..4 {
        let out = router.completion(ask("chat", "Hi!")).await?;
        println!(
            "{} (deployment {}, retries {})",
            reply(&out.response),
            out.route.deployment_id,
            out.route.attempted_retries
        );
    }

    // The same router from config.yaml text (or `Router::from_config_file("config.yaml")`),
    // with LiteLLM's router settings: here least-busy routing and a fallback group.
    let router = Router::from_config_yaml(
        "
model_list:
  - model_name: primary
    litellm_params: {model: mock/down, mock_response: litellm.InternalServerError}
  - model_name: backup
    litellm_params: {model: mock/up, mock_response: Served by the fallback group}
router_settings:
  routing_strategy: least-busy
  num_retries: 0
  fallbacks: [{primary: [backup]}]
",
    )?;
    let out = router.completion(ask("primary", "Hi!")).await?;
    println!(
        "{} (group {}, fallbacks tried {})",
        reply(&out.response),
        out.route.model_group,
        out.route.attempted_fallbacks
    );

    // One-shot, like litellm.completion(): the provider prefix picks the provider; real
    // providers read their keys from the standard env vars (OPENAI_API_KEY, ...).
    let resp = completion(ask("mock/echo", "Echo me")).await?;
    println!("{}", reply(&resp));

    let mut stream = completion_stream(ask("mock/echo", "Stream me")).await?;
    while let Some(chunk) = stream.next().await {
        if let Some(text) = chunk?.choices.first().and_then(|c| c.delta.content.clone()) {
            print!("{text}");
        }
    }
    println!();
    Ok(())
}
