//! The routes about the proxy itself, as opposed to an LLM call (`routes/`) or stored records
//! (`management/`): is it up and are its deployments healthy ([`health`]), what models does it
//! serve ([`models`]: `/v1/models`; [`model_info`]: `/model/info`), how is it called
//! ([`docs`]: `/openapi.json`, `/docs`), and its response cache's admin ([`cache`]:
//! `/cache/*`); [`shown`] is what of a deployment they may show. None of them creates or changes a stored record, so they sit apart from
//! `management/`; callers are checked with the same extractors (`crate::management::extract`).
//!
//! To add such a route: a handler in the module of its area (or a new one here), registered
//! in [`routes`] below, and, when it is part of the documented API, in `paths(...)` in
//! `openapi.rs`.

pub mod cache;
pub mod docs;
pub mod health;
pub mod model_info;
pub mod models;
pub mod shown;

use crate::state::AppState;

/// The service routes: model list and info, health probes, the API docs and the cache admin.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/models", get(models::list_models))
        .route("/v1/models", get(models::list_models))
        .route("/model/info", get(model_info::model_info))
        .route("/v1/model/info", get(model_info::model_info))
        .route("/health/liveliness", get(health::liveliness))
        .route("/health/liveness", get(health::liveliness))
        .route("/health/readiness", get(health::readiness))
        .route("/health", get(health::health))
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::docs_page))
        .route("/", get(docs::docs_page))
        .route("/cache/ping", get(cache::ping))
        .route("/cache/delete", post(cache::delete))
}
