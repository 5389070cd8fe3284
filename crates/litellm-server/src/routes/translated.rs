//! The second half of every family served through chat completions (`/v1/messages` in
//! translated mode, `/v1/responses`, `/v1/completions`): the chat request is routed, and the
//! answer goes back in the family's shape: a stream as the events a [`ChunkTranslator`] makes
//! from the chunks ([`stream`]), or one JSON body made from the chat answer ([`answer`]),
//! settled by the pipeline. Both name the model the client asked for.

use axum::response::Response;

use litellm_core::{ChatRequest, ChatResponse};
use litellm_router::RouteInfo;

use crate::error::ApiError;
use crate::pipeline::{self, Admission, Done};
use crate::state::AppState;

use super::event_stream::{self, ChunkTranslator};

/// Routes `chat` as a stream and answers with the events of the translator `make` builds
/// (knowing the route); `estimate` is the prompt's token estimate for the accounting.
pub async fn stream<T: ChunkTranslator>(
    state: &AppState,
    adm: Admission,
    chat: ChatRequest,
    estimate: u64,
    make: impl FnOnce(&RouteInfo) -> T,
) -> Result<Response, ApiError> {
    let routed = pipeline::routed(
        state
            .router
            .completion_stream_with(chat, adm.options.clone()),
    )
    .await?;
    let translator = make(&routed.route);
    let (headers, call, limits) = pipeline::stream_start(state, adm, routed.route, estimate, true);
    let body = event_stream::translated(routed.stream, call, limits, translator);
    Ok(pipeline::stream_reply(headers, body))
}

/// Routes `chat` and answers with the body `make` builds from the chat answer and the route,
/// billed by the answer's usage.
pub async fn answer<B: serde::Serialize>(
    state: &AppState,
    adm: Admission,
    chat: ChatRequest,
    make: impl FnOnce(&ChatResponse, &RouteInfo) -> B,
) -> Result<Response, ApiError> {
    let routed = pipeline::routed(state.router.completion_with(chat, adm.options.clone())).await?;
    let mut r = routed.response;
    let upstream_model = pipeline::answer_as_requested(&mut r.model, &adm);
    let body = make(&r, &routed.route);
    let done = Done::tokens(&routed.route, r.usage.as_ref(), upstream_model);
    Ok(pipeline::reply(state, adm, done, body).await)
}
