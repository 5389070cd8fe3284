//! The inference routes of the proxy: chat completions ([`chat`]), embeddings
//! ([`embeddings`]), Anthropic's `/v1/messages` ([`messages`]), OpenAI's Responses API ([`responses`]), legacy completions ([`completions`]), rerank, moderations and image generation
//! ([`families`]), with what only they use: a
//! key's allowed routes and access groups ([`access`]), request tags ([`tags`]) and the
//! response cache's glue ([`cache`]). The management API is `crate::management` (never
//! imported from here), the health/models/docs/cache-admin routes `crate::service`.

pub mod access;
pub mod cache;
pub mod chat;
mod chat_checks;
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

/// A 400 naming `field` with `message` unless `ok` (a request family's own checks).
pub fn check(ok: bool, field: &str, message: &str) -> Result<(), ApiError> {
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(Some(field), message))
    }
}

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

/// An inference route: its `#[utoipa::path]` (POST, tag `inference`, bearer auth) and its
/// one-line handler serving family `$ty`. The request and the 200 answer are documented as JSON
/// objects with a description (`request: "...", ok: "..."`) or as schema types
/// (`typed: Request => Answer, ok: "..."`); then come the 400 (`refused`), any further
/// responses, and [`KeyRefusals`]; or, with `responses: [...]`, exactly the responses given (for
/// `/v1/messages`, whose refusals are Anthropic's). `handler` and no name or family
/// documents any handler written after the responses (`count_tokens`). Doc comments become the route's
/// summary.
macro_rules! inference_route {
    ($(#[doc = $doc:tt])* $name:ident: $ty:ty, $path:tt, request: $request:tt, ok: $ok:tt,
     refused: $refused:tt $(, $extra:tt)* $(,)?) => {
        $crate::routes::inference_route! {
            $(#[doc = $doc])* $name: $ty, $path, request: $request, ok: $ok,
            responses: [(status = 400, description = $refused), $($extra,)* crate::routes::KeyRefusals]
        }
    };
    ($(#[doc = $doc:tt])* $name:ident: $ty:ty, $path:tt, request: $request:tt, ok: $ok:tt,
     responses: [$($response:tt)*] $(,)?) => {
        $crate::routes::inference_route! {
            handler $(#[doc = $doc])* $path, request: $request, ok: $ok,
            responses: [$($response)*],
            pub async fn $name(call: $crate::pipeline::InferenceCall) -> axum::response::Response {
                call.serve::<$ty>(None).await
            }
        }
    };
    // `handler`: any handler `$item` with a JSON-object body, documented with exactly
    // `responses`.
    (handler $(#[doc = $doc:tt])* $path:literal, request: $request:tt, ok: $ok:tt,
     responses: [$($response:tt)*], $item:item) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            tag = "inference",
            request_body(content = Object, description = $request),
            responses((status = 200, description = $ok, body = Object), $($response)*),
            security(("bearer" = []))
        )]
        $item
    };
    ($(#[doc = $doc:tt])* $name:ident: $ty:ty, $path:tt, typed: $request:ident => $answer:ident,
     ok: $ok:tt, refused: $refused:tt $(, $extra:tt)* $(,)?) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            tag = "inference",
            request_body = $request,
            responses(
                (status = 200, description = $ok, body = $answer),
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
