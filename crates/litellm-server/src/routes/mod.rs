//! HTTP routes of the proxy, one module per API area, the management route table, and the
//! request-body helpers they share.

pub mod access;
pub mod budgets;
pub mod cache;
pub mod chat;
pub mod customers;
pub mod docs;
pub mod embeddings;
pub mod health;
pub mod keys;
pub mod manage;
pub mod messages;
mod messages_sse;
pub mod model_info;
pub mod models;
pub mod reports;
pub mod spend;
pub mod tags;
pub mod teams;
pub mod users;

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The management routes: keys, users, teams and spend logs (LiteLLM's paths).
pub fn management_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/key/generate", post(keys::generate))
        .route("/key/update", post(keys::update))
        .route("/key/delete", post(keys::delete))
        .route("/key/info", get(keys::info))
        .route("/key/list", get(keys::list))
        .route("/key/regenerate", post(keys::regenerate))
        .route("/key/{key}/regenerate", post(keys::regenerate_path))
        .route("/key/block", post(keys::block))
        .route("/key/unblock", post(keys::unblock))
        .route("/user/new", post(users::new))
        .route("/user/info", get(users::info))
        .route("/user/update", post(users::update))
        .route("/user/delete", post(users::delete))
        .route("/user/list", get(users::list))
        .route("/team/new", post(teams::new))
        .route("/team/info", get(teams::info))
        .route("/team/update", post(teams::update))
        .route("/team/delete", post(teams::delete))
        .route("/team/list", get(teams::list))
        .route("/team/member_add", post(teams::member_add))
        .route("/team/member_delete", post(teams::member_delete))
        .route("/team/block", post(teams::block))
        .route("/team/unblock", post(teams::unblock))
        .route("/customer/new", post(customers::new))
        .route("/customer/info", get(customers::info))
        .route("/customer/update", post(customers::update))
        .route("/customer/delete", post(customers::delete))
        .route("/customer/block", post(customers::block))
        .route("/customer/unblock", post(customers::unblock))
        .route("/customer/list", get(customers::list))
        .route("/budget/new", post(budgets::new))
        .route("/budget/info", post(budgets::info))
        .route("/budget/update", post(budgets::update))
        .route("/budget/delete", post(budgets::delete))
        .route("/budget/list", get(budgets::list))
        .route("/spend/logs", get(spend::logs))
        .route("/global/spend", get(reports::global_spend))
        .route("/global/spend/report", get(reports::global_spend_report))
        .route("/global/spend/keys", get(reports::global_spend_keys))
        .route("/global/spend/models", get(reports::global_spend_models))
        .route("/user/daily/activity", get(reports::user_daily_activity))
        .route("/team/daily/activity", get(reports::team_daily_activity))
        .route("/tag/list", get(reports::tag_list))
        .route("/tag/daily/activity", get(reports::tag_daily_activity))
        .route("/spend/tags", get(reports::spend_tags))
        .route("/cache/ping", get(cache::ping))
        .route("/cache/delete", post(cache::delete))
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

/// Parses a JSON request body, turning every failure into a clear OpenAI-shaped 4xx. With
/// `path_model` (the Azure- and engines-style routes), that model replaces the body's.
pub fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    path_model: Option<&str>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "Request body is larger than the proxy allows (general_settings.max_request_size_mb).",
            )
        } else {
            ApiError::bad_request(None, format!("Could not read the request body: {rej}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            None,
            "Request body is empty; expected a JSON object.",
        ));
    }
    let parsed = match path_model {
        None => serde_json::from_slice(&bytes),
        Some(model) => serde_json::from_slice::<serde_json::Value>(&bytes).and_then(|mut v| {
            if let Some(obj) = v.as_object_mut() {
                obj.insert("model".into(), serde_json::Value::String(model.to_string()));
            }
            serde_json::from_value(v)
        }),
    };
    parsed.map_err(|e| {
        let msg = e.to_string();
        // serde names the first missing required field; surface it as the `param`.
        let param = msg
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let kind = if e.is_syntax() || e.is_eof() {
            "Invalid JSON in request body"
        } else {
            "Invalid request body"
        };
        let mut err = ApiError::bad_request(None, format!("{kind}: {msg}"));
        if let Some(p) = param {
            err.message = format!("{p} is a required parameter ({msg})");
            err.param = Some(p);
        }
        err
    })
}
