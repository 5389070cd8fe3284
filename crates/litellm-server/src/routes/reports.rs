//! Spend reports in LiteLLM's request parameters and response bodies, all read from the daily
//! aggregate rows (`daily_spend`, see `litellm_auth::reports`), never from a spend-log scan:
//!
//! - `GET /global/spend`: `{"spend", "max_budget"}`, spend over the last 30 days.
//! - `GET /global/spend/report?start_date&end_date&group_by=team|customer|api_key|model|provider`
//!   (also `api_key`, `internal_user_id`, `team_id`, `customer_id` filters).
//! - `GET /global/spend/keys?limit=` and `GET /global/spend/models?limit=`: the top keys and
//!   models by spend over the last 30 days.
//! - `GET /user/daily/activity` and `GET /team/daily/activity` (`start_date`, `end_date`,
//!   `model`, `api_key`, `page`, `page_size`; `user_id` / `team_ids`): LiteLLM's
//!   `SpendAnalyticsPaginatedResponse`.
//! - Tags (from `daily_tag_spend`): `GET /tag/list` (every tag with its spend, first and last
//!   day; `start_date`/`end_date` optional), `GET /tag/daily/activity` (`tags`,
//!   comma-separated; the same response as the other daily-activity routes, tags as
//!   `entities`), `GET /spend/tags` (LiteLLM's `individual_request_tag`, `log_count`,
//!   `total_spend`) and `/global/spend/report?group_by=tag`. A call with several tags counts
//!   once per tag in sums over tags, as in LiteLLM.
//!
//! Dates are UTC days (`YYYY-MM-DD`) and both ends are inclusive. The master key (or a
//! `proxy_admin` user's key) sees everything; any other key sees only its own data: its
//! user's when it has one, else its own key's, and its team's when it asks for its team.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use litellm_auth::{
    DailyFilter, DailyMetrics, DailyOrder, DailyQuery, DailySpendRow, Dimension, KeyColumn, Store,
};

use super::manage::{num_param, param, params, respond, store_error, token_of, Params};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Days the `/global/spend*` totals look back (LiteLLM's `Last30d…` views).
const LOOKBACK_DAYS: i64 = 30;

/// The caller and the store, or the reason there are none.
async fn caller_and_store(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Caller, Store), ApiError> {
    let caller = state.auth.check(headers).await?;
    let store = state
        .ledger
        .as_ref()
        .map(|l| l.store().clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable_error",
                "No database is connected; spend reports need one (general_settings.database_url).",
            )
        })?;
    Ok((caller, store))
}

fn forbidden(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth_error",
        format!(
            "Authentication Error, this key may only read its own spend; {what} belongs to \
             someone else. Use the master key (or a proxy_admin user's key) to read all spend."
        ),
    )
}

/// Narrows `f` to what a non-admin caller may read: asked-for keys, users and teams must be
/// the caller's own; with none asked for, the caller's user (or, without one, its key).
pub fn scope(caller: &Caller, f: &mut DailyFilter) -> Result<(), ApiError> {
    if caller.is_admin {
        return Ok(());
    }
    if f.api_key_hash
        .as_ref()
        .is_some_and(|k| *k != caller.key_hash)
    {
        return Err(forbidden("the api_key"));
    }
    if f.user_id.is_some() && f.user_id != caller.user_id {
        return Err(forbidden("the user_id"));
    }
    if f.team_id.is_some() && f.team_id != caller.team_id {
        return Err(forbidden("the team_id"));
    }
    if f.api_key_hash.is_none() && f.user_id.is_none() && f.team_id.is_none() {
        match &caller.user_id {
            Some(u) => f.user_id = Some(u.clone()),
            None => f.api_key_hash = Some(caller.key_hash.clone()),
        }
    }
    Ok(())
}

/// A `YYYY-MM-DD` date parameter.
fn date_param(p: &Params, name: &'static str) -> Result<Option<NaiveDate>, ApiError> {
    param(p, name)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::bad_request(
                    Some(name),
                    format!("{name} must be a date (YYYY-MM-DD), got {v:?}"),
                )
            })
        })
        .transpose()
}

/// Both dates, required (LiteLLM answers 400 "Please provide start_date and end_date").
fn date_range(p: &Params) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let start = date_param(p, "start_date")?;
    let end = date_param(p, "end_date")?;
    match (start, end) {
        (Some(s), Some(e)) if s <= e => Ok((s, e)),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            Some("end_date"),
            "end_date must not be before start_date",
        )),
        (None, _) => Err(ApiError::bad_request(
            Some("start_date"),
            "Please provide start_date and end_date",
        )),
        (_, None) => Err(ApiError::bad_request(
            Some("end_date"),
            "Please provide start_date and end_date",
        )),
    }
}

/// The last [`LOOKBACK_DAYS`] days, today included.
fn lookback() -> DailyFilter {
    let today = Utc::now().date_naive();
    DailyFilter {
        start_date: Some(today - Duration::days(LOOKBACK_DAYS - 1)),
        end_date: Some(today),
        ..DailyFilter::default()
    }
}

async fn run(store: &Store, q: DailyQuery) -> Result<(Vec<DailySpendRow>, u64), ApiError> {
    store.daily_spend(&q).await.map_err(store_error)
}

fn non_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// `GET /global/spend`: `{"spend": <last 30 days>, "max_budget": <litellm_settings.max_budget>}`.
#[utoipa::path(get, path = "/global/spend", tag = "spend",
    responses((status = 200, description = "{\"spend\", \"max_budget\"}: spend over the last 30 days")),
    security(("bearer" = [])))]
pub async fn global_spend(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            let (caller, store) = caller_and_store(&state, &headers).await?;
            let mut f = lookback();
            scope(&caller, &mut f)?;
            let (rows, _) = run(&store, DailyQuery::new(f, &[])).await?;
            let spend = rows.first().map_or(0.0, |r| r.metrics.spend);
            Ok(json!({ "spend": spend, "max_budget": state.settings.global_max_budget }))
        }
        .await,
    )
}

/// `GET /global/spend/keys?limit=`: the top keys by spend over the last 30 days.
#[utoipa::path(get, path = "/global/spend/keys", tag = "spend",
    params(("limit" = Option<u64>, Query, description = "Top n keys (default 10, at most 1000)")),
    responses((status = 200, description = "[{\"api_key\", \"key_alias\", \"key_name\", \"total_spend\"}]")),
    security(("bearer" = [])))]
pub async fn global_spend_keys(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(
        async {
            let (caller, store) = caller_and_store(&state, &headers).await?;
            let p = params(q)?;
            let limit = num_param(&p, "limit", 10, 1, 1000)?;
            let mut f = lookback();
            scope(&caller, &mut f)?;
            let query = DailyQuery {
                order: DailyOrder::SpendDesc,
                limit: Some(limit),
                ..DailyQuery::new(f, &[Dimension::ApiKey])
            };
            let (rows, _) = run(&store, query).await?;
            let hashes: Vec<String> = rows.iter().map(|r| r.api_key_hash.clone()).collect();
            let keys = store
                .keys_where(KeyColumn::Token, &hashes)
                .await
                .map_err(store_error)?;
            let by_hash: HashMap<&str, _> = keys.iter().map(|k| (k.token.as_str(), k)).collect();
            let out: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let k = by_hash.get(r.api_key_hash.as_str());
                    json!({
                        "api_key": r.api_key_hash,
                        "key_alias": k.and_then(|k| k.key_alias.clone()),
                        "key_name": k.map(|k| k.key_name.clone()),
                        "total_spend": r.metrics.spend,
                    })
                })
                .collect();
            Ok(Value::Array(out))
        }
        .await,
    )
}

/// `GET /global/spend/models?limit=`: the top models by spend over the last 30 days.
#[utoipa::path(get, path = "/global/spend/models", tag = "spend",
    params(("limit" = Option<u64>, Query, description = "Top n models (default 10, at most 1000)")),
    responses((status = 200, description = "[{\"model\", \"total_spend\", \"total_tokens\"}]")),
    security(("bearer" = [])))]
pub async fn global_spend_models(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(
        async {
            let (caller, store) = caller_and_store(&state, &headers).await?;
            let p = params(q)?;
            let limit = num_param(&p, "limit", 10, 1, 1000)?;
            let mut f = lookback();
            scope(&caller, &mut f)?;
            let query = DailyQuery {
                order: DailyOrder::SpendDesc,
                limit: Some(limit),
                ..DailyQuery::new(f, &[Dimension::Model])
            };
            let (rows, _) = run(&store, query).await?;
            Ok(Value::Array(
                rows.iter()
                    .map(|r| {
                        json!({
                            "model": r.model,
                            "total_spend": r.metrics.spend,
                            "total_tokens": r.metrics.total_tokens,
                        })
                    })
                    .collect(),
            ))
        }
        .await,
    )
}

/// `group_by` of `/global/spend/report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportGroup {
    Team,
    Customer,
    ApiKey,
    Model,
    Provider,
    Tag,
}

fn report_group(p: &Params) -> Result<ReportGroup, ApiError> {
    match param(p, "group_by").unwrap_or("team") {
        "tag" => Ok(ReportGroup::Tag),
        "team" => Ok(ReportGroup::Team),
        "customer" => Ok(ReportGroup::Customer),
        "api_key" => Ok(ReportGroup::ApiKey),
        "model" => Ok(ReportGroup::Model),
        "provider" => Ok(ReportGroup::Provider),
        other => Err(ApiError::bad_request(
            Some("group_by"),
            format!(
                "group_by must be one of team, customer, api_key, model, provider, tag; got {other:?}"
            ),
        )),
    }
}

/// `"2025-01-31"` as LiteLLM's `date_trunc('day', ...)` renders it.
fn day_start(date: &str) -> String {
    format!("{date}T00:00:00+00:00")
}

/// `GET /global/spend/report`: spend per day and team or customer (each with its models and
/// keys), or per key, model or provider (each with its breakdown) over a date range.
#[utoipa::path(get, path = "/global/spend/report", tag = "spend",
    params(
        ("start_date" = String, Query, description = "First day, YYYY-MM-DD (inclusive)"),
        ("end_date" = String, Query, description = "Last day, YYYY-MM-DD (inclusive)"),
        ("group_by" = Option<String>, Query, description = "team (default), customer, api_key, model, provider or tag"),
        ("api_key" = Option<String>, Query, description = "Only this key (sk-... or its hash)"),
        ("internal_user_id" = Option<String>, Query, description = "Only this user's keys"),
        ("team_id" = Option<String>, Query, description = "Only this team"),
        ("customer_id" = Option<String>, Query, description = "Only this end user"),
    ),
    responses((status = 200, description = "LiteLLM's spend report rows"), (status = 400, description = "Missing or bad dates or group_by")),
    security(("bearer" = [])))]
pub async fn global_spend_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(report_inner(state, headers, q).await)
}

async fn report_inner(
    state: AppState,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Value, ApiError> {
    let (caller, store) = caller_and_store(&state, &headers).await?;
    let p = params(q)?;
    let (start, end) = date_range(&p)?;
    let group = report_group(&p)?;
    let mut f = DailyFilter {
        start_date: Some(start),
        end_date: Some(end),
        api_key_hash: param(&p, "api_key").map(token_of),
        user_id: param(&p, "internal_user_id").map(str::to_string),
        team_id: param(&p, "team_id").map(str::to_string),
        end_user: param(&p, "customer_id").map(str::to_string),
        ..DailyFilter::default()
    };
    scope(&caller, &mut f)?;
    let tokens = |m: &DailyMetrics| {
        json!({
            "total_cost": m.spend,
            "total_input_tokens": m.prompt_tokens,
            "total_output_tokens": m.completion_tokens,
            "total_requests": m.api_requests,
        })
    };
    match group {
        ReportGroup::Team | ReportGroup::Customer | ReportGroup::Tag => {
            let (who, list_name) = match group {
                ReportGroup::Team => (Dimension::Team, "teams"),
                ReportGroup::Tag => (Dimension::Tag, "tags"),
                _ => (Dimension::EndUser, "customers"),
            };
            let dims = [Dimension::Date, who, Dimension::Model, Dimension::ApiKey];
            let (rows, _) = run(&store, DailyQuery::new(f, &dims)).await?;
            let aliases = if group == ReportGroup::Team {
                team_aliases(&store, &rows).await?
            } else {
                HashMap::new()
            };
            // day -> entity -> (spend, metadata)
            let mut days: BTreeMap<&str, BTreeMap<&str, (f64, Vec<Value>)>> = BTreeMap::new();
            for r in &rows {
                let e = days
                    .entry(&r.date)
                    .or_default()
                    .entry(r.get(who))
                    .or_insert((0.0, Vec::new()));
                e.0 += r.metrics.spend;
                e.1.push(json!({
                    "model": r.model,
                    "api_key": r.api_key_hash,
                    "spend": r.metrics.spend,
                    "total_tokens": r.metrics.total_tokens,
                }));
            }
            let out: Vec<Value> = days
                .into_iter()
                .map(|(day, entities)| {
                    let list: Vec<Value> = entities
                        .into_iter()
                        .map(|(id, (spend, metadata))| {
                            let mut o = Map::new();
                            if group == ReportGroup::Team {
                                let name = aliases
                                    .get(id)
                                    .cloned()
                                    .flatten()
                                    .or_else(|| (!id.is_empty()).then(|| id.to_string()))
                                    .unwrap_or_else(|| "Unassigned Team".to_string());
                                o.insert("team_name".into(), Value::String(name));
                                o.insert("team_id".into(), non_empty(id));
                            } else if group == ReportGroup::Tag {
                                o.insert("tag".into(), non_empty(id));
                            } else {
                                o.insert("customer".into(), non_empty(id));
                            }
                            o.insert("total_spend".into(), json!(spend));
                            o.insert("metadata".into(), Value::Array(metadata));
                            Value::Object(o)
                        })
                        .collect();
                    json!({ "group_by_day": day_start(day), list_name: list })
                })
                .collect();
            Ok(Value::Array(out))
        }
        ReportGroup::ApiKey | ReportGroup::Model | ReportGroup::Provider => {
            let (outer, outer_name, inner, inner_name, details) = match group {
                ReportGroup::ApiKey => (
                    Dimension::ApiKey,
                    "api_key",
                    Dimension::Model,
                    "model",
                    "model_details",
                ),
                ReportGroup::Model => (
                    Dimension::ModelGroup,
                    "model",
                    Dimension::ApiKey,
                    "api_key",
                    "api_key_details",
                ),
                _ => (
                    Dimension::Provider,
                    "provider",
                    Dimension::Model,
                    "model",
                    "model_details",
                ),
            };
            let (rows, _) = run(&store, DailyQuery::new(f, &[outer, inner])).await?;
            let mut groups: BTreeMap<&str, (DailyMetrics, Vec<Value>)> = BTreeMap::new();
            for r in &rows {
                let g = groups.entry(r.get(outer)).or_default();
                g.0.add(&r.metrics);
                let mut d = tokens(&r.metrics);
                d[inner_name] = Value::String(r.get(inner).to_string());
                g.1.push(d);
            }
            let mut out: Vec<(f64, Value)> = groups
                .into_iter()
                .map(|(id, (m, list))| {
                    let mut v = tokens(&m);
                    v[outer_name] = Value::String(id.to_string());
                    v[details] = Value::Array(list);
                    (m.spend, v)
                })
                .collect();
            out.sort_by(|a, b| b.0.total_cmp(&a.0));
            Ok(Value::Array(out.into_iter().map(|(_, v)| v).collect()))
        }
    }
}

/// The aliases of the teams in `rows`.
async fn team_aliases(
    store: &Store,
    rows: &[DailySpendRow],
) -> Result<HashMap<String, Option<String>>, ApiError> {
    let ids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.team_id.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = HashMap::new();
    for id in ids {
        let team = store.team(id).await.map_err(store_error)?;
        out.insert(id.to_string(), team.and_then(|t| t.team_alias));
    }
    Ok(out)
}

fn metrics_json(m: &DailyMetrics) -> Value {
    json!({
        "spend": m.spend,
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "total_tokens": m.total_tokens,
        "successful_requests": m.successful_requests,
        "failed_requests": m.failed_requests,
        "api_requests": m.api_requests,
        "cache_hits": m.cache_hits,
    })
}

/// Which entity a daily-activity report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    User,
    Team,
    Tag,
}

/// `GET /user/daily/activity`: an internal user's (or, for the admin, everyone's) daily spend.
#[utoipa::path(get, path = "/user/daily/activity", tag = "spend",
    params(
        ("start_date" = String, Query, description = "First day, YYYY-MM-DD (inclusive)"),
        ("end_date" = String, Query, description = "Last day, YYYY-MM-DD (inclusive)"),
        ("user_id" = Option<String>, Query, description = "Only this user (admin; a user's key sees only its user)"),
        ("model" = Option<String>, Query, description = "Only this model or model group"),
        ("api_key" = Option<String>, Query, description = "Only this key (sk-... or its hash)"),
        ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
        ("page_size" = Option<u64>, Query, description = "Rows per page (default 50, at most 1000)"),
    ),
    responses((status = 200, description = "LiteLLM's SpendAnalyticsPaginatedResponse"), (status = 400, description = "Missing or bad dates")),
    security(("bearer" = [])))]
pub async fn user_daily_activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(activity(state, headers, q, Entity::User).await)
}

/// `GET /team/daily/activity`: daily spend of teams (`team_ids`, comma-separated).
#[utoipa::path(get, path = "/team/daily/activity", tag = "spend",
    params(
        ("start_date" = String, Query, description = "First day, YYYY-MM-DD (inclusive)"),
        ("end_date" = String, Query, description = "Last day, YYYY-MM-DD (inclusive)"),
        ("team_ids" = Option<String>, Query, description = "Only this team (one id; a non-admin key sees only its team)"),
        ("model" = Option<String>, Query, description = "Only this model or model group"),
        ("api_key" = Option<String>, Query, description = "Only this key (sk-... or its hash)"),
        ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
        ("page_size" = Option<u64>, Query, description = "Rows per page (default 50, at most 1000)"),
    ),
    responses((status = 200, description = "LiteLLM's SpendAnalyticsPaginatedResponse"), (status = 400, description = "Missing or bad dates")),
    security(("bearer" = [])))]
pub async fn team_daily_activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(activity(state, headers, q, Entity::Team).await)
}

async fn activity(
    state: AppState,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
    entity: Entity,
) -> Result<Value, ApiError> {
    let (caller, store) = caller_and_store(&state, &headers).await?;
    let p = params(q)?;
    let (start, end) = date_range(&p)?;
    let page = num_param(&p, "page", 1, 1, u64::from(u32::MAX))?;
    let page_size = num_param(&p, "page_size", 50, 1, 1000)?;
    let mut f = DailyFilter {
        start_date: Some(start),
        end_date: Some(end),
        model: param(&p, "model").map(str::to_string),
        api_key_hash: param(&p, "api_key").map(token_of),
        ..DailyFilter::default()
    };
    let entity_dim = match entity {
        Entity::User => {
            f.user_id = param(&p, "user_id").map(str::to_string);
            Dimension::User
        }
        Entity::Team => {
            let ids = param(&p, "team_ids").or_else(|| param(&p, "team_id"));
            let ids: Vec<&str> = ids
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if ids.len() > 1 {
                return Err(ApiError::bad_request(
                    Some("team_ids"),
                    "give one team id per request",
                ));
            }
            f.team_id = ids.first().map(|s| s.to_string());
            if f.team_id.is_none() && !caller.is_admin {
                f.team_id = caller.team_id.clone();
                if f.team_id.is_none() {
                    return Err(forbidden("team spend"));
                }
            }
            Dimension::Team
        }
        Entity::Tag => {
            f.tags = param(&p, "tags").map(split_list);
            Dimension::Tag
        }
    };
    scope(&caller, &mut f)?;
    let dims = [
        Dimension::Date,
        entity_dim,
        Dimension::Model,
        Dimension::ModelGroup,
        Dimension::Provider,
        Dimension::ApiKey,
    ];
    let total = if entity == Entity::Tag {
        // Summed over the tags' rows (a call counts once per tag, as in LiteLLM).
        let (per_tag, _) = run(&store, DailyQuery::new(f.clone(), &[Dimension::Tag])).await?;
        per_tag.iter().fold(DailyMetrics::default(), |mut m, r| {
            m.add(&r.metrics);
            m
        })
    } else {
        let (totals, _) = run(&store, DailyQuery::new(f.clone(), &[])).await?;
        totals.first().map(|r| r.metrics).unwrap_or_default()
    };
    let query = DailyQuery {
        limit: Some(page_size),
        offset: (page - 1).saturating_mul(page_size),
        ..DailyQuery::new(f, &dims)
    };
    let (rows, count) = run(&store, query).await?;
    let hashes: Vec<String> = rows
        .iter()
        .map(|r| r.api_key_hash.clone())
        .filter(|h| !h.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys = store
        .keys_where(KeyColumn::Token, &hashes)
        .await
        .map_err(store_error)?;
    let key_meta: HashMap<&str, Value> = keys
        .iter()
        .map(|k| {
            (
                k.token.as_str(),
                json!({ "key_alias": k.key_alias, "team_id": k.team_id }),
            )
        })
        .collect();

    #[derive(Default)]
    struct Day {
        metrics: DailyMetrics,
        parts: [BTreeMap<String, DailyMetrics>; 5],
    }
    let mut days: BTreeMap<String, Day> = BTreeMap::new();
    for r in &rows {
        let d = days.entry(r.date.clone()).or_default();
        d.metrics.add(&r.metrics);
        let provider = if r.custom_llm_provider.is_empty() {
            "default"
        } else {
            r.custom_llm_provider.as_str()
        };
        for (i, k) in [
            r.model.as_str(),
            r.model_group.as_str(),
            provider,
            r.api_key_hash.as_str(),
            r.get(entity_dim),
        ]
        .into_iter()
        .enumerate()
        {
            if i == 4 && k.is_empty() {
                continue;
            }
            d.parts[i].entry(k.to_string()).or_default().add(&r.metrics);
        }
    }
    let with_meta = |m: &BTreeMap<String, DailyMetrics>, keys: bool| -> Value {
        Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let metadata = if keys {
                        key_meta
                            .get(k.as_str())
                            .cloned()
                            .unwrap_or_else(|| json!({ "key_alias": null, "team_id": null }))
                    } else {
                        json!({})
                    };
                    (
                        k.clone(),
                        json!({ "metrics": metrics_json(v), "metadata": metadata }),
                    )
                })
                .collect(),
        )
    };
    let results: Vec<Value> = days
        .iter()
        .rev()
        .map(|(date, d)| {
            json!({
                "date": date,
                "metrics": metrics_json(&d.metrics),
                "breakdown": {
                    "models": with_meta(&d.parts[0], false),
                    "model_groups": with_meta(&d.parts[1], false),
                    "providers": with_meta(&d.parts[2], false),
                    "api_keys": with_meta(&d.parts[3], true),
                    "entities": with_meta(&d.parts[4], false),
                },
            })
        })
        .collect();
    let total_pages = count.div_ceil(page_size).max(1);
    Ok(json!({
        "results": results,
        "metadata": {
            "total_spend": total.spend,
            "total_prompt_tokens": total.prompt_tokens,
            "total_completion_tokens": total.completion_tokens,
            "total_tokens": total.total_tokens,
            "total_api_requests": total.api_requests,
            "total_successful_requests": total.successful_requests,
            "total_failed_requests": total.failed_requests,
            "total_cache_read_input_tokens": 0,
            "total_cache_creation_input_tokens": 0,
            "page": page,
            "total_pages": total_pages,
            "has_more": page.saturating_mul(page_size) < count,
        },
    }))
}

/// A comma-separated list, trimmed, without empty entries.
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `GET /tag/daily/activity`: daily spend per request tag (`tags`, comma-separated; all tags
/// without it).
#[utoipa::path(get, path = "/tag/daily/activity", tag = "spend",
    params(
        ("start_date" = String, Query, description = "First day, YYYY-MM-DD (inclusive)"),
        ("end_date" = String, Query, description = "Last day, YYYY-MM-DD (inclusive)"),
        ("tags" = Option<String>, Query, description = "Only these tags (comma-separated)"),
        ("model" = Option<String>, Query, description = "Only this model or model group"),
        ("api_key" = Option<String>, Query, description = "Only this key (sk-... or its hash)"),
        ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
        ("page_size" = Option<u64>, Query, description = "Rows per page (default 50, at most 1000)"),
    ),
    responses((status = 200, description = "LiteLLM's SpendAnalyticsPaginatedResponse, tags as `breakdown.entities`; a non-admin key sees only its own (its user's) calls"), (status = 400, description = "Missing or bad dates")),
    security(("bearer" = [])))]
pub async fn tag_daily_activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(activity(state, headers, q, Entity::Tag).await)
}

/// The optional `start_date`/`end_date` pair of `/tag/list` and `/spend/tags`: both or neither.
fn optional_range(p: &Params, f: &mut DailyFilter) -> Result<(), ApiError> {
    if param(p, "start_date").is_some() || param(p, "end_date").is_some() {
        let (start, end) = date_range(p)?;
        f.start_date = Some(start);
        f.end_date = Some(end);
    }
    Ok(())
}

/// Every tag's spend (highest first), within the optional date range and the caller's scope.
async fn tag_totals(
    state: &AppState,
    headers: &HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Vec<DailySpendRow>, ApiError> {
    let (caller, store) = caller_and_store(state, headers).await?;
    let p = params(q)?;
    let mut f = DailyFilter::default();
    optional_range(&p, &mut f)?;
    f.tags = param(&p, "tags").map(split_list);
    scope(&caller, &mut f)?;
    let query = DailyQuery {
        order: DailyOrder::SpendDesc,
        ..DailyQuery::new(f, &[Dimension::Tag])
    };
    Ok(run(&store, query).await?.0)
}

/// `GET /tag/list`: every tag calls were made with (LiteLLM's dynamic tags), with its spend.
#[utoipa::path(get, path = "/tag/list", tag = "spend",
    params(
        ("start_date" = Option<String>, Query, description = "Only tags used from this day, YYYY-MM-DD (with end_date)"),
        ("end_date" = Option<String>, Query, description = "Only tags used through this day, YYYY-MM-DD (with start_date)"),
    ),
    responses((status = 200, description = "[{\"name\", \"description\", \"models\", \"created_at\", \"updated_at\", \"spend\", \"api_requests\"}], highest spend first; created_at/updated_at are the first and last UTC day the tag was used; a non-admin key sees only its own (its user's) tags"), (status = 400, description = "A bad date, or only one of the two")),
    security(("bearer" = [])))]
pub async fn tag_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(
        async {
            let rows = tag_totals(&state, &headers, q).await?;
            Ok(Value::Array(
                rows.iter()
                    .map(|r| {
                        json!({
                            "name": r.tag,
                            "description": "This is just a spend tag that was passed dynamically in a request. It does not control any LLM models.",
                            "models": null,
                            "created_at": day_start(&r.first_date),
                            "updated_at": day_start(&r.last_date),
                            "spend": r.metrics.spend,
                            "api_requests": r.metrics.api_requests,
                        })
                    })
                    .collect(),
            ))
        }
        .await,
    )
}

/// `GET /spend/tags`: spend per request tag (LiteLLM's `individual_request_tag` rows).
#[utoipa::path(get, path = "/spend/tags", tag = "spend",
    params(
        ("start_date" = Option<String>, Query, description = "From this day, YYYY-MM-DD (with end_date)"),
        ("end_date" = Option<String>, Query, description = "Through this day, YYYY-MM-DD (with start_date)"),
        ("tags" = Option<String>, Query, description = "Only these tags (comma-separated)"),
    ),
    responses((status = 200, description = "[{\"individual_request_tag\", \"log_count\", \"total_spend\"}], highest spend first"), (status = 400, description = "A bad date, or only one of the two")),
    security(("bearer" = [])))]
pub async fn spend_tags(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    respond(
        async {
            let rows = tag_totals(&state, &headers, q).await?;
            Ok(Value::Array(
                rows.iter()
                    .map(|r| {
                        json!({
                            "individual_request_tag": r.tag,
                            "log_count": r.metrics.api_requests,
                            "total_spend": r.metrics.spend,
                        })
                    })
                    .collect(),
            ))
        }
        .await,
    )
}

/// The spend-log retention job `general_settings` asks for, if any. A bad duration is an error
/// naming the setting (the proxy does not start).
pub fn retention(
    config: &crate::config::ProxyConfig,
) -> Result<Option<litellm_auth::Retention>, String> {
    let g = &config.general_settings;
    match g.maximum_spend_logs_retention_period.as_deref() {
        None | Some("") => {
            if g.maximum_spend_logs_retention_interval.is_some() {
                tracing::warn!(
                    "general_settings.maximum_spend_logs_retention_interval is set without \
                     maximum_spend_logs_retention_period; spend logs are kept forever"
                );
            }
            Ok(None)
        }
        Some(period) => litellm_auth::Retention::from_settings(
            period,
            g.maximum_spend_logs_retention_interval.as_deref(),
        )
        .map(Some)
        .map_err(|e| format!("general_settings.{e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(admin: bool, user: Option<&str>, team: Option<&str>) -> Caller {
        Caller {
            key_hash: "own".into(),
            user_id: user.map(Into::into),
            team_id: team.map(Into::into),
            is_admin: admin,
            ..Caller::default()
        }
    }

    #[test]
    fn non_admins_see_only_their_own_spend() {
        let mut f = DailyFilter::default();
        scope(&caller(false, Some("u1"), None), &mut f).expect("own user");
        assert_eq!(f.user_id.as_deref(), Some("u1"));

        let mut f = DailyFilter::default();
        scope(&caller(false, None, None), &mut f).expect("own key");
        assert_eq!(f.api_key_hash.as_deref(), Some("own"));

        let mut f = DailyFilter {
            team_id: Some("t1".into()),
            ..DailyFilter::default()
        };
        scope(&caller(false, Some("u1"), Some("t1")), &mut f).expect("own team");
        assert_eq!(f.user_id, None, "a team filter is not narrowed to the user");

        for f in [
            DailyFilter {
                team_id: Some("t2".into()),
                ..DailyFilter::default()
            },
            DailyFilter {
                user_id: Some("u2".into()),
                ..DailyFilter::default()
            },
            DailyFilter {
                api_key_hash: Some("other".into()),
                ..DailyFilter::default()
            },
        ] {
            let mut f = f;
            let e = scope(&caller(false, Some("u1"), Some("t1")), &mut f).expect_err("not own");
            assert_eq!(e.status, StatusCode::FORBIDDEN);
        }

        let mut f = DailyFilter::default();
        scope(&caller(true, None, None), &mut f).expect("admin");
        assert_eq!(f, DailyFilter::default(), "the admin sees everything");
    }

    #[test]
    fn report_dates_are_required_and_ordered() {
        let p = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(date_range(&p(&[("start_date", "2025-01-01")])).is_err());
        assert!(date_range(&p(&[
            ("start_date", "2025-01-02"),
            ("end_date", "2025-01-01")
        ]))
        .is_err());
        assert!(date_range(&p(&[
            ("start_date", "01/02/2025"),
            ("end_date", "2025-01-03")
        ]))
        .is_err());
        let (s, e) = date_range(&p(&[
            ("start_date", "2025-01-01"),
            ("end_date", "2025-01-31"),
        ]))
        .expect("valid");
        assert_eq!(
            (s.to_string(), e.to_string()),
            ("2025-01-01".into(), "2025-01-31".into())
        );
    }
}
