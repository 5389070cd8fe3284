//! Cache administration (admin only), LiteLLM's paths: `GET /cache/ping` checks the response
//! cache's backend and `POST /cache/delete` removes entries by key (the `x-litellm-cache-key`
//! a response carried). The cache itself is `crate::cache`; its use on the inference path
//! (lookup, store, answering a hit) is `routes/cache.rs`.

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::management::extract::AdminCaller;
use crate::state::AppState;

fn not_enabled() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "Cache not initialized: set litellm_settings.cache: true (and cache_params) in config.yaml.",
    )
}

/// Checks the cache backend: `{"status": "healthy", "cache_type": "local"|"redis", ...}`.
#[utoipa::path(
    get,
    path = "/cache/ping",
    tag = "cache",
    responses(
        (status = 200, description = "The cache backend answers"),
        (status = 503, description = "No cache is configured, or its Redis does not answer"),
    ),
    security(("bearer" = []))
)]
pub async fn ping(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    let cache = state.cache.as_ref().ok_or_else(not_enabled)?;
    let s = cache.settings();
    match cache.ping().await {
        Ok(()) => Ok(Json(json!({
            "status": "healthy",
            "cache_type": cache.kind(),
            "ping_response": true,
            "litellm_cache_params": {
                "ttl": s.ttl.as_secs_f64(),
                "namespace": s.namespace,
                "mode": if s.mode == crate::cache::CacheMode::DefaultOn { "default_on" } else { "default_off" },
                "supported_call_types": s.call_types,
            },
            "entries": cache.local_entries(),
        }))),
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            format!("Cache unhealthy: {e}"),
        )),
    }
}

#[derive(Debug, Deserialize)]
struct DeleteBody {
    keys: Vec<String>,
}

/// Deletes cached responses by key: body `{"keys": ["<x-litellm-cache-key>", ...]}`.
#[utoipa::path(
    post,
    path = "/cache/delete",
    tag = "cache",
    request_body(content = Object, description = "`{\"keys\": [\"<x-litellm-cache-key>\", ...]}`"),
    responses(
        (status = 200, description = "`{\"status\": \"success\", \"deleted\": n}`"),
        (status = 400, description = "The body is not `{\"keys\": [...]}`"),
        (status = 503, description = "No cache is configured, or its Redis does not answer"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    _admin: AdminCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let cache = state.cache.as_ref().ok_or_else(not_enabled)?;
    // The body is read after the cache check: without a cache the answer is 503 whatever it is.
    let body: DeleteBody = crate::body::parse_body(body, None)?;
    match cache.delete(&body.keys).await {
        Ok(n) => Ok(Json(json!({"status": "success", "deleted": n}))),
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            format!("Cache delete failed: {e}"),
        )),
    }
}
