//! The one handler shape of every inference route: an [`InferenceCall`] extractor (state, the
//! authenticated caller, headers, body) and [`InferenceCall::serve`], which runs the pipeline in
//! order (parse, [`super::admit`], then the family's [`Endpoint::serve`]: cache, router call,
//! [`super::settle::reply`]) and answers an error in the family's shape. A route handler is one line.

use std::future::Future;
use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::error::ApiError;
use crate::state::AppState;

use super::admit::{admit, Admission, Inference};
use super::auth::Authed;

/// A request body as axum read it (or why it could not).
pub type RawBody = Result<Bytes, BytesRejection>;

/// An endpoint family: its request type (the [`Inference`] facts admission needs), how it is
/// parsed, and how an admitted call is served.
pub trait Endpoint: Inference + Sized + Send {
    /// Parses the body (`path_model` is the model named by an Azure- or engines-style path).
    fn parse(body: RawBody, path_model: Option<&str>) -> Result<Self, ApiError>;

    /// Serves an admitted call: the cache, the router call, settlement, the answer.
    fn serve(
        self,
        state: AppState,
        adm: Admission,
    ) -> impl Future<Output = Result<Response, ApiError>> + Send;

    /// The family's error shape (OpenAI's unless overridden).
    fn error_response(e: ApiError) -> Response {
        e.into_response()
    }
}

/// What every inference handler takes from the request.
pub struct InferenceCall {
    state: AppState,
    caller: Result<Authed, ApiError>,
    headers: HeaderMap,
    body: RawBody,
    started: Instant,
}

impl FromRequest<AppState> for InferenceCall {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = Authed::from_request_parts(&mut parts, state).await;
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state).await;
        // The call's clock starts once the body is in (as the proxy's overhead is measured).
        let started = Instant::now();
        Ok(InferenceCall {
            state: state.clone(),
            caller,
            headers,
            body,
            started,
        })
    }
}

impl InferenceCall {
    /// Runs the pipeline for family `E`; `path_model` overrides the body's `model`.
    pub async fn serve<E: Endpoint>(self, path_model: Option<String>) -> Response {
        self.run::<E>(path_model)
            .await
            .unwrap_or_else(E::error_response)
    }

    async fn run<E: Endpoint>(self, path_model: Option<String>) -> Result<Response, ApiError> {
        let InferenceCall {
            state,
            caller,
            headers,
            body,
            started,
        } = self;
        let Authed(caller) = caller?;
        let mut req = E::parse(body, path_model.as_deref())?;
        let adm = admit(&state, caller, headers, &mut req, started).await?;
        req.serve(state, adm).await
    }
}

/// A started stream's answer: its headers and its SSE body.
pub fn stream_reply<S>(headers: HeaderMap, body: S) -> Response
where
    S: futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
{
    (headers, axum::body::Body::from_stream(body)).into_response()
}
