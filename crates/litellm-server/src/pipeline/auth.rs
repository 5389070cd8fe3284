//! Authentication, once per request: the [`authenticate`] layer checks the presented key (or
//! its absence) for every route, refuses a virtual key outside its `allowed_routes` (403,
//! LiteLLM's message), and puts the outcome into the request's extensions, where the
//! [`Authed`] extractor takes it. Handlers never run `Auth::check` themselves.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The outcome of authentication, as the layer left it in the request's extensions.
#[derive(Clone)]
pub struct Authenticated(pub Arc<Result<Caller, ApiError>>);

/// The authenticated caller of a request (an extractor): the layer's outcome, or a 401 and
/// friends as `Auth::check` words them.
#[derive(Debug, Clone)]
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(parts, state).await.map(Authed)
    }
}

/// The request's caller: a `Caller` already in its extensions, else what the [`authenticate`]
/// layer found, or (for a handler mounted without the layer) `Auth::check` on its headers.
/// Every extractor of a caller goes through here, so a request is authenticated once.
pub async fn caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(c) = parts.extensions.get::<Caller>() {
        return Ok(c.clone());
    }
    match parts.extensions.get::<Authenticated>() {
        Some(Authenticated(outcome)) => (**outcome).clone(),
        None => state.auth.check(&parts.headers).await,
    }
}

/// Authenticates every request once and enforces a virtual key's `allowed_routes`. A refused
/// key is not answered here: the route decides whether it needs a caller (health probes and
/// the docs do not).
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let outcome = state.auth.check(req.headers()).await;
    if let Ok(caller) = &outcome {
        if let Some(key) = caller.key.as_ref().filter(|_| !caller.is_admin) {
            let path = req.uri().path();
            if !crate::routes::access::route_allowed(&key.allowed_routes, path) {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "auth_error",
                    format!(
                        "Virtual key is not allowed to call this route. Only allowed to call \
                         routes: {:?}. Tried to call route: {path}",
                        key.allowed_routes
                    ),
                )
                .into_response();
            }
        }
    }
    req.extensions_mut()
        .insert(Authenticated(Arc::new(outcome)));
    next.run(req).await
}
