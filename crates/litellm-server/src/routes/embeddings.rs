//! `POST /v1/embeddings` (and `/embeddings`, `/engines/{model}/embeddings`,
//! `/openai/deployments/{model}/embeddings`).

use std::time::{Instant, SystemTime};

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use litellm_core::{EmbeddingRequest, EmbeddingResponse, Usage};

use crate::error::ApiError;
use crate::headers::route_headers;
use crate::spend::{self, CallFacts};
use crate::state::AppState;

/// OpenAI Embeddings (`encoding_format` `float` or `base64`).
#[utoipa::path(
    post,
    path = "/v1/embeddings",
    tag = "inference",
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "Embeddings", body = EmbeddingResponse),
        (status = 400, description = "Malformed request or unknown model"),
        (status = 401, description = "Missing, invalid or blocked key, or a model the key or team may not use"),
        (status = 422, description = "A key, team or user budget is exceeded (`budget_exceeded`)"),
    ),
    security(("bearer" = []))
)]
pub async fn embeddings(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(state, headers, None, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Azure- and engines-style paths: the model comes from the path.
pub async fn embeddings_for_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(state, headers, Some(model), body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run(
    state: AppState,
    headers: HeaderMap,
    path_model: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let start = SystemTime::now();
    let mut caller = state.auth.check(&headers).await?;
    let mut req: EmbeddingRequest = crate::routes::parse_body(body, path_model.as_deref())?;
    crate::routes::require_model(&req.model)?;
    crate::metrics::note_caller(&caller, &req.model, req.user.as_deref());
    state.auth.authorize(&caller, &req.model)?;
    crate::budget_reserve::load_end_user(&state, &mut caller, &headers, req.user.as_deref())
        .await?;
    let requested_model = req.model.clone();
    if let Some(target) = caller.model_alias(&req.model) {
        req.model = target;
    }
    if req.input.is_empty() {
        return Err(ApiError::bad_request(
            Some("input"),
            "input must not be empty",
        ));
    }
    if let Some(f) = req.encoding_format.as_deref() {
        if f != "float" && f != "base64" {
            return Err(ApiError::bad_request(
                Some("encoding_format"),
                format!("encoding_format must be 'float' or 'base64', got '{f}'"),
            ));
        }
    }
    let tags = crate::routes::tags::of_request(
        &headers,
        req.extra.get("metadata").and_then(|m| m.get("tags")),
        req.extra.get("tags"),
        &caller,
    )?;
    let prompt_tokens = litellm_router::tokens::embedding_input_tokens(&req.input);
    let budget_hold =
        crate::budget_reserve::reserve_tokens(&state, &caller, &req.model, prompt_tokens, Some(0))
            .await?;
    let limits = crate::limits::check(&state.limiter, &caller, &requested_model).await?;
    let user = req.user.clone();
    // The response cache: `cache` controls never reach the upstream.
    let cache_control = req.extra.remove("cache");
    let cache_plan =
        crate::routes::cache::plan(&state, "aembedding", &req.model, &req, cache_control)?;
    if let Some((plan, group)) = &cache_plan {
        if let Some(hit) =
            crate::routes::cache::lookup::<litellm_core::EmbeddingResponse>(&state, plan, group)
                .await
        {
            limits.finish(0).await;
            let call_id = uuid::Uuid::new_v4().to_string();
            let hit_call = crate::routes::cache::Hit {
                state: &state,
                plan,
                group,
                call_id: &call_id,
                started: t0,
                caller: &caller,
                facts: CallFacts::start(call_id.clone(), "aembedding", &caller, user, start)
                    .with_tags(tags),
            };
            let mut resp = hit_call.embeddings(hit).await;
            limits.apply_headers(resp.headers_mut());
            return Ok(resp);
        }
    }
    let routed = state
        .router
        .embedding(req)
        .await
        .map_err(|e| ApiError::from(e.error))?;
    let usage = routed
        .response
        .usage
        .as_ref()
        .map(|u| Usage::new(u.prompt_tokens, 0));
    let cost = spend::cost(&routed.route, usage.as_ref());
    limits
        .finish(usage.as_ref().map_or(0, |u| u.total_tokens))
        .await;
    state.metrics.record_success(
        &crate::metrics::current_labels(),
        crate::metrics::Success {
            route: &routed.route,
            usage: usage.as_ref(),
            cost,
            total: t0.elapsed(),
            overhead: t0.elapsed().saturating_sub(routed.route.upstream_time),
            stream_api_latency: None,
        },
    );
    let call_id = uuid::Uuid::new_v4().to_string();
    let mut resp_headers = HeaderMap::new();
    route_headers(
        &mut resp_headers,
        &call_id,
        &routed.route,
        t0.elapsed(),
        cost,
    );
    caller.key_headers(&mut resp_headers, cost);
    limits.apply_headers(&mut resp_headers);
    if let Some((plan, _)) = &cache_plan {
        crate::routes::cache::key_header(&mut resp_headers, plan);
        crate::routes::cache::store(&state, plan, &routed.response);
    }
    let mut facts = CallFacts::start(call_id, "aembedding", &caller, user, start).with_tags(tags);
    facts.budget = budget_hold;
    facts.end = SystemTime::now();
    facts.response_model = Some(routed.response.model.clone());
    facts.usage = usage;
    spend::log(&state, spend::record(&routed.route, facts, cost)).await;
    Ok((resp_headers, axum::Json(routed.response)).into_response())
}
