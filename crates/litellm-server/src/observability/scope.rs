//! One request's scope: the facts every observer reads, gathered in one place from admission to
//! the end of the response (or of its stream), in one task-local. The metrics middleware opens
//! it for each LLM route; auth fills the caller labels ([`crate::metrics::note_caller`]); the
//! router's callback observer adds each upstream attempt; the handler's spend record waits here
//! for the response status; a stream takes the scope with it and emits from it when it ends.

use std::sync::{Arc, Mutex, MutexGuard};

use litellm_auth::SpendRecord;
use serde_json::Value;

use super::callbacks::Attempt;
use super::labels::RequestLabels;

/// What the scope gathers for one request.
#[derive(Default)]
pub struct ScopeState {
    /// The caller, model and client labels (Prometheus and the webhook).
    pub labels: RequestLabels,
    pub path: String,
    /// Every upstream attempt, in order.
    pub attempts: Vec<Attempt>,
    /// A spend record waiting for the response status (non-streamed calls).
    pub pending: Option<SpendRecord>,
    /// A stream took over emitting this call.
    pub stream_owned: bool,
    /// The request's messages, when a sink logs them.
    pub messages: Option<Value>,
    /// The caller's trace context (`traceparent`).
    pub parent: Option<opentelemetry::Context>,
    /// The client asked for a stream (known once the body is read).
    pub stream: bool,
}

/// A request's scope, shared with the stream that outlives the handler.
#[derive(Clone, Default)]
pub struct RequestScope(Arc<Mutex<ScopeState>>);

impl RequestScope {
    /// A scope starting with these labels.
    pub fn new(labels: RequestLabels) -> Self {
        RequestScope(Arc::new(Mutex::new(ScopeState {
            labels,
            ..ScopeState::default()
        })))
    }

    /// The scope's state.
    pub fn lock(&self) -> MutexGuard<'_, ScopeState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `fut` inside this scope.
    pub async fn run<F: std::future::Future>(self, fut: F) -> F::Output {
        SCOPE.scope(self, fut).await
    }
}

tokio::task_local! {
    static SCOPE: RequestScope;
}

/// The current request's scope, if running inside one.
pub fn current() -> Option<RequestScope> {
    SCOPE.try_with(Clone::clone).ok()
}

/// Runs `f` on the current request's scope; a no-op outside one.
pub fn with(f: impl FnOnce(&mut ScopeState)) {
    let _ = SCOPE.try_with(|s| f(&mut s.lock()));
}
