//! The `/global/spend*` reports: `GET /global/spend` (the last 30 days' total),
//! `/global/spend/keys` and `/global/spend/models` (the top keys and models over the same
//! days) and `/global/spend/report` (per day and team, customer or tag, or per key, model or
//! provider, over a date range).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

use litellm_auth::{
    DailyFilter, DailyMetrics, DailyOrder, DailyQuery, DailySpendRow, Dimension, KeyColumn, Store,
};

use super::{date_range, day_start, json_rows, lookback, non_empty, run, scope, Reader};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::management::extract::{num_param, param, Params, QueryParams};
use crate::management::respond::{store_error, token_of};
use crate::state::AppState;

/// `GET /global/spend`: `{"spend": <last 30 days>, "max_budget": <litellm_settings.max_budget>}`.
#[utoipa::path(get, path = "/global/spend", tag = "spend",
    responses((status = 200, description = "{\"spend\", \"max_budget\"}: spend over the last 30 days")),
    security(("bearer" = [])))]
pub async fn global_spend(
    State(state): State<AppState>,
    Reader { caller, store }: Reader,
) -> Result<Json<Value>, ApiError> {
    let mut f = lookback();
    scope(&caller, &mut f)?;
    let (rows, _) = run(&store, DailyQuery::new(f, &[])).await?;
    let spend = rows.first().map_or(0.0, |r| r.metrics.spend);
    Ok(Json(
        json!({ "spend": spend, "max_budget": state.settings.global_max_budget }),
    ))
}

/// The top `limit` (default 10, at most 1000) of `dim` by spend over the last 30 days, within
/// the caller's scope.
async fn top_spenders(
    caller: &Caller,
    store: &Store,
    p: &Params,
    dim: Dimension,
) -> Result<Vec<DailySpendRow>, ApiError> {
    let limit = num_param(p, "limit", 10, 1, 1000)?;
    let mut f = lookback();
    scope(caller, &mut f)?;
    let query = DailyQuery {
        order: DailyOrder::SpendDesc,
        limit: Some(limit),
        ..DailyQuery::new(f, &[dim])
    };
    Ok(run(store, query).await?.0)
}

/// `GET /global/spend/keys?limit=`: the top keys by spend over the last 30 days.
#[utoipa::path(get, path = "/global/spend/keys", tag = "spend",
    params(("limit" = Option<u64>, Query, description = "Top n keys (default 10, at most 1000)")),
    responses((status = 200, description = "[{\"api_key\", \"key_alias\", \"key_name\", \"total_spend\"}]")),
    security(("bearer" = [])))]
pub async fn global_spend_keys(
    Reader { caller, store }: Reader,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let rows = top_spenders(&caller, &store, &p, Dimension::ApiKey).await?;
    let hashes: Vec<String> = rows.iter().map(|r| r.api_key_hash.clone()).collect();
    let keys = store
        .keys_where(KeyColumn::Token, &hashes)
        .await
        .map_err(store_error)?;
    let by_hash: HashMap<&str, _> = keys.iter().map(|k| (k.token.as_str(), k)).collect();
    Ok(json_rows(&rows, |r| {
        let k = by_hash.get(r.api_key_hash.as_str());
        json!({
            "api_key": r.api_key_hash,
            "key_alias": k.and_then(|k| k.key_alias.clone()),
            "key_name": k.map(|k| k.key_name.clone()),
            "total_spend": r.metrics.spend,
        })
    }))
}

/// `GET /global/spend/models?limit=`: the top models by spend over the last 30 days.
#[utoipa::path(get, path = "/global/spend/models", tag = "spend",
    params(("limit" = Option<u64>, Query, description = "Top n models (default 10, at most 1000)")),
    responses((status = 200, description = "[{\"model\", \"total_spend\", \"total_tokens\"}]")),
    security(("bearer" = [])))]
pub async fn global_spend_models(
    Reader { caller, store }: Reader,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let rows = top_spenders(&caller, &store, &p, Dimension::Model).await?;
    Ok(json_rows(&rows, |r| {
        json!({
            "model": r.model,
            "total_spend": r.metrics.spend,
            "total_tokens": r.metrics.total_tokens,
        })
    }))
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
    Reader { caller, store }: Reader,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
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
            Ok(Json(Value::Array(out)))
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
            Ok(Json(Value::Array(
                out.into_iter().map(|(_, v)| v).collect(),
            )))
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
