//! The management API, LiteLLM's paths and bodies: virtual keys ([`keys`]), internal users
//! ([`users`]), teams ([`teams`]), end users ([`customers`]), budget objects ([`budgets`]),
//! spend logs ([`spend`]) and the spend reports ([`reports`]). Everything here reads or
//! changes stored records; nothing is on the path of an LLM call (that is `routes/`, which
//! never imports this module).
//!
//! A handler states who may call it by its first argument, an extractor from [`extract`]:
//! [`Admin`] (the proxy admin and the key database; most routes), [`SignedIn`] (any valid
//! key; `/key/info` and `/spend/logs` then narrow to the caller's own data) or
//! [`reports::Reader`] (any valid key and the spend store). Bodies come with
//! [`crate::body::JsonBody`], query strings with [`QueryParams`]; a handler answers
//! `Result<Json<Value>, ApiError>`. [`respond`] has the shared error mapping and JSON helpers.
//!
//! To add a management route: write `async fn name(Admin { db, .. }: Admin, JsonBody(req):
//! JsonBody<T>) -> Result<Json<Value>, ApiError>` with a `#[utoipa::path]` annotation in the
//! module of its area, add it to [`routes`] below and to `paths(...)` in `openapi.rs`, then
//! regenerate `docs/openapi.json` (`cargo run -- openapi > docs/openapi.json`).

pub mod budgets;
pub mod customers;
pub mod extract;
pub mod keys;
pub mod reports;
pub mod respond;
pub mod spend;
pub mod teams;
pub mod users;

pub use extract::{Admin, AdminCaller, QueryParams, SignedIn};

use crate::state::AppState;

/// The management routes: keys, users, teams, customers, budgets, spend logs and reports
/// (LiteLLM's paths).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    use reports::{activity, global, tags};
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
        .route("/global/spend", get(global::global_spend))
        .route("/global/spend/report", get(global::global_spend_report))
        .route("/global/spend/keys", get(global::global_spend_keys))
        .route("/global/spend/models", get(global::global_spend_models))
        .route("/user/daily/activity", get(activity::user_daily_activity))
        .route("/team/daily/activity", get(activity::team_daily_activity))
        .route("/tag/list", get(tags::tag_list))
        .route("/tag/daily/activity", get(activity::tag_daily_activity))
        .route("/spend/tags", get(tags::spend_tags))
}
