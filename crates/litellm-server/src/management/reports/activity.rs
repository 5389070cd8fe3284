//! The daily-activity reports, LiteLLM's `SpendAnalyticsPaginatedResponse`: `GET
//! /user/daily/activity`, `/team/daily/activity` and `/tag/daily/activity` (`start_date`,
//! `end_date`, `model`, `api_key`, `page`, `page_size`; `user_id` / `team_ids` / `tags`), one
//! day per result with its breakdown by model, model group, provider, key and entity.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Json;
use serde_json::{json, Value};

use litellm_auth::{DailyFilter, DailyMetrics, DailyQuery, Dimension, KeyColumn};

use super::{date_range, forbidden, run, scope, split_list, Reader};
use crate::error::ApiError;
use crate::management::extract::{paging, param, Params, QueryParams};
use crate::management::respond::{store_error, token_of};

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

/// A daily-activity handler: `$name` answers `GET $path` with the [`activity`] of `$entity`;
/// its OpenAPI parameters are the shared ones plus `$entity_param`.
macro_rules! activity_route {
    (
        $(#[doc = $doc:literal])*
        $name:ident,
        path = $path:literal,
        entity = $entity:ident,
        entity_param = $entity_param:tt,
        response = $response:literal $(,)?
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = "spend",
            params(
                ("start_date" = String, Query, description = "First day, YYYY-MM-DD (inclusive)"),
                ("end_date" = String, Query, description = "Last day, YYYY-MM-DD (inclusive)"),
                $entity_param,
                ("model" = Option<String>, Query, description = "Only this model or model group"),
                ("api_key" = Option<String>, Query, description = "Only this key (sk-... or its hash)"),
                ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
                ("page_size" = Option<u64>, Query, description = "Rows per page (default 50, at most 1000)"),
            ),
            responses((status = 200, description = $response), (status = 400, description = "Missing or bad dates")),
            security(("bearer" = [])))]
        pub async fn $name(
            reader: Reader,
            QueryParams(p): QueryParams,
        ) -> Result<Json<Value>, ApiError> {
            activity(reader, &p, Entity::$entity).await.map(Json)
        }
    };
}

activity_route! {
    /// `GET /user/daily/activity`: an internal user's (or, for the admin, everyone's) daily spend.
    user_daily_activity,
    path = "/user/daily/activity",
    entity = User,
    entity_param = ("user_id" = Option<String>, Query, description = "Only this user (admin; a user's key sees only its user)"),
    response = "LiteLLM's SpendAnalyticsPaginatedResponse",
}

activity_route! {
    /// `GET /team/daily/activity`: daily spend of teams (`team_ids`, comma-separated).
    team_daily_activity,
    path = "/team/daily/activity",
    entity = Team,
    entity_param = ("team_ids" = Option<String>, Query, description = "Only this team (one id; a non-admin key sees only its team)"),
    response = "LiteLLM's SpendAnalyticsPaginatedResponse",
}

/// The daily activity of `entity` (see the module docs).
async fn activity(
    Reader { caller, store }: Reader,
    p: &Params,
    entity: Entity,
) -> Result<Value, ApiError> {
    let (start, end) = date_range(p)?;
    let (page, page_size) = paging(p, "page_size", 50, 1000)?;
    let mut f = DailyFilter {
        start_date: Some(start),
        end_date: Some(end),
        model: param(p, "model").map(str::to_string),
        api_key_hash: param(p, "api_key").map(token_of),
        ..DailyFilter::default()
    };
    let entity_dim = match entity {
        Entity::User => {
            f.user_id = param(p, "user_id").map(str::to_string);
            Dimension::User
        }
        Entity::Team => {
            let ids = param(p, "team_ids").or_else(|| param(p, "team_id"));
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
            f.tags = param(p, "tags").map(split_list);
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

activity_route! {
    /// `GET /tag/daily/activity`: daily spend per request tag (`tags`, comma-separated; all tags
    /// without it).
    tag_daily_activity,
    path = "/tag/daily/activity",
    entity = Tag,
    entity_param = ("tags" = Option<String>, Query, description = "Only these tags (comma-separated)"),
    response = "LiteLLM's SpendAnalyticsPaginatedResponse, tags as `breakdown.entities`; a non-admin key sees only its own (its user's) calls",
}
