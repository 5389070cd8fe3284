//! The inference routes of the proxy: chat completions ([`chat`]), embeddings
//! ([`embeddings`]), Anthropic's `/v1/messages` ([`messages`]), OpenAI's Responses API ([`responses`]), legacy completions ([`completions`]), rerank, moderations and image generation
//! ([`families`]), with what only they use: a
//! key's allowed routes and access groups ([`access`]), request tags ([`tags`]) and the
//! response cache's glue ([`cache`]). The management API is `crate::management` (never
//! imported from here), the health/models/docs/cache-admin routes `crate::service`.

pub mod access;
pub mod cache;
pub mod chat;
pub mod completions;
pub mod embeddings;
mod event_stream;
pub mod families;
pub mod messages;
pub mod responses;
pub mod tags;
mod translated;

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

/// An inference route whose body is documented as a JSON object: its `#[utoipa::path]` (POST,
/// tag `inference`, bearer auth; 200 with the answer, 400 refused, any further responses, and
/// [`KeyRefusals`]) and its one-line handler serving family `$ty`. Doc comments become the
/// route's summary.
macro_rules! inference_route {
    ($(#[doc = $doc:tt])* $name:ident: $ty:ty, $path:tt, request: $request:tt, ok: $ok:tt,
     refused: $refused:tt $(, $extra:tt)* $(,)?) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            tag = "inference",
            request_body(content = Object, description = $request),
            responses(
                (status = 200, description = $ok, body = Object),
                (status = 400, description = $refused),
                $($extra,)*
                crate::routes::KeyRefusals,
            ),
            security(("bearer" = []))
        )]
        pub async fn $name(call: $crate::pipeline::InferenceCall) -> axum::response::Response {
            call.serve::<$ty>(None).await
        }
    };
}
pub(crate) use inference_route;

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
