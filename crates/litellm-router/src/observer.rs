//! Hooks that let the proxy watch the router without the router knowing about metrics: a
//! [`RouterObserver`] is told when each attempt on a deployment ends and when a deployment is
//! put into cooldown. The proxy turns these into LiteLLM's per-deployment Prometheus metrics
//! (`litellm_deployment_state`, `litellm_deployment_success_responses`, ...).
//!
//! The observer is called on the request path, inline, from the task that made the call: it
//! must be cheap (atomic increments) and must not block. Set it with
//! [`crate::Router::with_observer`] or [`crate::Router::set_observer`].

use std::time::Duration;

use litellm_core::{Family, LlmError};

use crate::deployment::Deployment;

/// What kind of call an attempt made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// A non-streaming chat completion.
    Chat,
    /// A streaming chat completion; the attempt ends at the first chunk.
    Stream,
    /// An embeddings call.
    Embedding,
    /// A JSON family call (rerank, moderations, image generation).
    Family(Family),
}

/// Watches the router's attempts. Every method has an empty default.
pub trait RouterObserver: Send + Sync {
    /// One attempt on `deployment` (of `model_group`) ended: `Ok` with the time it took (for
    /// streams, the time to the first chunk), or the error it failed with.
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        let _ = (deployment, model_group, kind, outcome);
    }

    /// `deployment` was just put into cooldown after failing with `error`.
    fn on_cooldown(&self, deployment: &Deployment, model_group: &str, error: &LlmError) {
        let _ = (deployment, model_group, error);
    }
}
