//! OpenAI's Responses API on the proxy: `POST /v1/responses` (JSON, or Responses SSE events
//! when `stream` is true), `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}` and
//! `GET /v1/responses/{id}/input_items`, for the OpenAI SDKs' `client.responses`, the OpenAI
//! Agents SDK and Codex-style agents.
//!
//! Every deployment is served by translating to Chat Completions and back
//! (`litellm_providers::responses`), through the one inference pipeline: auth, budgets, rate
//! limits, retries, fallbacks, metrics, spend (`call_type` `aresponses`) and callbacks as for
//! chat. The response ids carry the deployment that answered; stored responses live in
//! [`store`]. See `docs/endpoints.md`.

pub mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use litellm_core::Message;
use litellm_providers::responses::{
    self as translate, item_id, ResponseEcho, ResponsesInput, ResponsesRequest,
    ResponsesStreamTranslator,
};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pipeline::{Admission, Authed, Endpoint, Inference, RawBody};
use crate::state::AppState;

use super::event_stream::ChunkTranslator;
use store::{ResponseStore, StoredResponse};

/// The spend-log `call_type` of `/v1/responses` calls (LiteLLM's).
pub const CALL_TYPE: &str = "aresponses";

impl Inference for ResponsesRequest {
    const CALL_TYPE: &'static str = CALL_TYPE;

    crate::pipeline::openai_fields!();

    fn validate(&self) -> Result<(), ApiError> {
        let given = self.has_input() || self.previous_response_id.is_some();
        let message = "input is required: a string or a list of input items";
        crate::routes::check(given, "input", message)
    }

    fn metadata_tags(&self) -> Option<&Value> {
        self.metadata.as_ref()?.get("tags")
    }

    fn budget_tokens(&self) -> (u64, Option<u64>) {
        (
            translate::estimate_input_tokens(self),
            self.max_output_tokens.map(u64::from),
        )
    }
}

crate::routes::inference_route! {
    /// Create a model response (OpenAI's Responses API).
    create: ResponsesRequest, "/v1/responses",
    request: "A Responses request: `model`, `input` (a string, or items: messages with `input_text`/`input_image`/`input_file` parts, `function_call`, `function_call_output`), `instructions`, `tools` (function tools), `tool_choice`, `parallel_tool_calls`, `max_output_tokens`, `temperature`, `top_p`, `text.format`, `reasoning.effort`, `previous_response_id`, `store`, `metadata`, `user`, `stream`",
    ok: "A `response` object, or an SSE stream of Responses events (`response.created`, `response.output_item.added`, `response.output_text.delta`, `response.function_call_arguments.delta`, ..., `response.completed`) when `stream` is true",
    refused: "Malformed request, unknown model, a built-in tool the serving provider cannot take",
    (status = 404, description = "`previous_response_id` names no response this key made"),
    (status = 429, description = "Upstream rate limit (after retries)"),
}

/// Retrieve a stored response.
#[utoipa::path(
    get,
    path = "/v1/responses/{response_id}",
    tag = "inference",
    params(("response_id" = String, Path, description = "The id `/v1/responses` returned")),
    responses(
        (status = 200, description = "The `response` object", body = Object),
        (status = 404, description = "No stored response with this id for this key"),
    ),
    security(("bearer" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = stored(&state.responses, &id, &caller).await?;
    Ok(Json(entry.response.clone()))
}

/// Delete a stored response.
#[utoipa::path(
    delete,
    path = "/v1/responses/{response_id}",
    tag = "inference",
    params(("response_id" = String, Path, description = "The id `/v1/responses` returned")),
    responses(
        (status = 200, description = "`{\"id\", \"object\": \"response\", \"deleted\": true}`", body = Object),
        (status = 404, description = "No stored response with this id for this key"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.responses.remove(&id, &caller).await {
        return Err(not_found(&id));
    }
    Ok(Json(
        json!({"id": id, "object": "response", "deleted": true}),
    ))
}

/// The input items of a stored response.
#[utoipa::path(
    get,
    path = "/v1/responses/{response_id}/input_items",
    tag = "inference",
    params(("response_id" = String, Path, description = "The id `/v1/responses` returned")),
    responses(
        (status = 200, description = "`{\"object\": \"list\", \"data\": [items], \"first_id\", \"last_id\", \"has_more\": false}`", body = Object),
        (status = 404, description = "No stored response with this id for this key"),
    ),
    security(("bearer" = []))
)]
pub async fn input_items(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = stored(&state.responses, &id, &caller).await?;
    let data = &entry.input_items;
    let id_at = |i: Option<&Value>| i.and_then(|v| v.get("id")).cloned();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "first_id": id_at(data.first()),
        "last_id": id_at(data.last()),
        "has_more": false,
    })))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("Response with id '{id}' not found."),
    )
}

async fn stored(
    store: &ResponseStore,
    id: &str,
    caller: &Caller,
) -> Result<std::sync::Arc<StoredResponse>, ApiError> {
    store.get(id, caller).await.ok_or_else(|| not_found(id))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The request's input as the items `input_items` lists (a string is one user message), each
/// with an id.
fn input_item_values(input: Option<&ResponsesInput>, response_id: &str) -> Vec<Value> {
    let items: Vec<Value> = match input {
        None => Vec::new(),
        Some(ResponsesInput::Text(t)) => vec![json!({
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": t}],
        })],
        Some(ResponsesInput::Items(items)) => items
            .iter()
            .filter_map(|i| serde_json::to_value(i).ok())
            .collect(),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(n, mut v)| {
            if let Some(o) = v.as_object_mut().filter(|o| !o.contains_key("id")) {
                o.insert("id".into(), Value::String(item_id("in", response_id, n)));
            }
            v
        })
        .collect()
}

/// What is kept of a call for `store`, once its response is known.
struct Keep {
    store: ResponseStore,
    owner: String,
    /// The request's `input` (only this is kept of the request).
    input: Option<ResponsesInput>,
    chat_messages: Vec<Message>,
    had_instructions: bool,
}

impl Keep {
    fn save(self, id: &str, response: Value, reply: &litellm_core::ChatResponse) {
        let entry = StoredResponse {
            owner: self.owner,
            input_items: input_item_values(self.input.as_ref(), id),
            history: translate::next_history(&self.chat_messages, self.had_instructions, reply),
            response,
        };
        self.store.put(id.to_string(), entry);
    }
}

/// The Responses stream translator, storing the response when the stream completes.
struct Storing {
    inner: ResponsesStreamTranslator,
    id: String,
    keep: Option<Keep>,
}

impl ChunkTranslator for Storing {
    fn push(&mut self, chunk: &litellm_core::ChatChunk, out: &mut Vec<Bytes>) {
        ChunkTranslator::push(&mut self.inner, chunk, out);
    }

    fn fail(&mut self, status: u16, message: &str, out: &mut Vec<Bytes>) {
        // A failed response is not stored.
        self.keep = None;
        ChunkTranslator::fail(&mut self.inner, status, message, out);
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) {
        ChunkTranslator::finish(&mut self.inner, out);
        if let (Some(keep), Some(response)) = (self.keep.take(), self.inner.final_response()) {
            keep.save(&self.id, response.clone(), &self.inner.chat_response());
        }
    }

    fn is_done(&self) -> bool {
        ChunkTranslator::is_done(&self.inner)
    }
}

impl Endpoint for ResponsesRequest {
    fn parse(body: RawBody, path_model: Option<&str>) -> Result<Self, ApiError> {
        crate::routes::parse_body(body, path_model)
    }

    async fn serve(self, state: AppState, adm: Admission) -> Result<Response, ApiError> {
        let history = match &self.previous_response_id {
            Some(id) => stored(&state.responses, id, &adm.caller)
                .await?
                .history
                .clone(),
            None => Vec::new(),
        };
        let mut echo = ResponseEcho::from_request(&self);
        echo.model.clone_from(&adm.requested_model);
        let estimate = translate::estimate_input_tokens(&self);
        let stream = self.is_stream();
        let had_instructions = self.instructions.as_deref().is_some_and(|s| !s.is_empty());
        let input = self.wants_store().then(|| self.input.clone());
        let chat = translate::to_chat_request(self, history).map_err(ApiError::from)?;
        let keep = input.map(|input| Keep {
            store: state.responses.clone(),
            owner: adm.caller.key_hash.clone(),
            input,
            chat_messages: chat.messages.clone(),
            had_instructions,
        });
        let created_at = unix_now();
        if stream {
            let make = |route: &litellm_router::RouteInfo| {
                let id = translate::encode_response_id(&route.deployment_id);
                Storing {
                    inner: ResponsesStreamTranslator::new(echo, id.clone(), created_at, estimate),
                    id,
                    keep,
                }
            };
            return super::translated::stream(&state, adm, chat, estimate, make).await;
        }
        super::translated::answer(&state, adm, chat, |r, route| {
            let id = translate::encode_response_id(&route.deployment_id);
            let body = translate::to_response(r, &echo, &id, created_at);
            if let Some(keep) = keep {
                keep.save(&id, body.clone(), r);
            }
            body
        })
        .await
    }
}
