//! litellm-router (layer 2): model groups, deployments, routing and retries — and the SDK
//! surface. The proxy and a plain Rust program use the same `Router`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use litellm_router::{completion, ChatRequest, Message};
//! // One-shot call; provider credentials come from the standard env vars (OPENAI_API_KEY, ...).
//! let req = ChatRequest {
//!     model: "mock/demo".into(),
//!     messages: vec![Message::user("Hello!")],
//!     ..Default::default()
//! };
//! let resp = completion(req).await?;
//! println!("{:?}", resp.choices[0].message.content);
//! # Ok(()) }
//! ```

pub mod config;
mod cooldown;
pub mod deployment;
pub mod observer;
pub mod options;
pub mod redis;
pub mod redis_store;
pub mod router;
pub mod state;
pub mod strategy;
pub mod tokens;

pub use config::{
    DeploymentConfig, FallbackMap, LitellmParams, ModelInfo, RouterConfig, RouterSettings,
};
pub use deployment::{deployment_id, Deployment};
pub use litellm_core::*;
pub use litellm_providers::ProviderParams;
pub use observer::{AttemptKind, RouterObserver};
pub use options::RequestOptions;
pub use redis::{RedisError, RedisHandle, RedisUse};
pub use router::{
    Backoff, Completion, CompletionStream, Embeddings, FamilyCompletion, NativeCompletion,
    NativeCompletionStream, RouteError, RouteInfo, Router,
};
pub use state::{MemoryStore, RouterState, StateError, StateStore};
pub use strategy::{RoutingStrategy, SimpleShuffle, Stats, Strategy};

/// A single-deployment router for a provider-prefixed model (`openai/gpt-4o`, `mock/x`), with
/// credentials from the standard environment variables, as `litellm.completion` does.
fn one_shot_router(model: &str) -> Result<Router, LlmError> {
    Router::new(vec![DeploymentConfig::new(model, model)])
}

/// One chat completion against `req.model` (provider-prefixed), with the router's retries.
pub async fn completion(req: ChatRequest) -> Result<ChatResponse, LlmError> {
    let router = one_shot_router(&req.model)?;
    Ok(router.completion(req).await?.response)
}

/// One streaming chat completion against `req.model` (provider-prefixed).
pub async fn completion_stream(mut req: ChatRequest) -> Result<ChunkStream, LlmError> {
    req.stream = Some(true);
    let router = one_shot_router(&req.model)?;
    Ok(router.completion_stream(req).await?.stream)
}

/// One embeddings call against `req.model` (provider-prefixed).
pub async fn embedding(req: EmbeddingRequest) -> Result<EmbeddingResponse, LlmError> {
    let router = one_shot_router(&req.model)?;
    Ok(router.embedding(req).await?.response)
}
