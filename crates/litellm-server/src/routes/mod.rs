//! The inference routes of the proxy: chat completions ([`chat`]), embeddings
//! ([`embeddings`]), Anthropic's `/v1/messages` ([`messages`]), OpenAI's Responses API ([`responses`]), legacy completions ([`completions`]), with what only they use: a
//! key's allowed routes and access groups ([`access`]), request tags ([`tags`]) and the
//! response cache's glue ([`cache`]). The management API is `crate::management` (never
//! imported from here), the health/models/docs/cache-admin routes `crate::service`.

pub mod access;
pub mod cache;
pub mod chat;
pub mod completions;
pub mod embeddings;
mod event_stream;
pub mod messages;
pub mod responses;
pub mod tags;

use crate::error::ApiError;

/// The shared body parser, re-exported for the handlers that name it here.
pub use crate::body::parse_body;

/// A 400 naming `model` when the request's model is empty.
pub fn require_model(model: &str) -> Result<(), ApiError> {
    if model.trim().is_empty() {
        return Err(ApiError::bad_request(
            Some("model"),
            "model is a required parameter",
        ));
    }
    Ok(())
}

/// The refusals every OpenAI-format inference route documents (`responses(...)` in its
/// `#[utoipa::path]`).
#[derive(utoipa::IntoResponses)]
pub enum KeyRefusals {
    /// Missing, invalid or blocked key, or a model the key or team may not use
    #[response(status = 401)]
    Unauthorized,
    /// A key, team or user budget is exceeded (`budget_exceeded`)
    #[response(status = 422)]
    BudgetExceeded,
}
