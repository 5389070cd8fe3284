//! `GET /spend/logs`: stored spend logs in LiteLLM's `LiteLLM_SpendLogs` JSON shape (camel-case
//! times, `api_key` as the key's hash), filtered by key, user, team, model (group), request id
//! and date range, each served by a `(column, start_time)` index, and by request tags (`tags`,
//! any of them; checked on the rows the other filters select). The master key sees every
//! log; another key only its own (its user's, or its team's when it asks for its team). Unlike
//! LiteLLM, at most `limit` rows (default 1000, up to 10 000) come back per `page`, newest
//! first, so a large table cannot be read whole by accident.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use litellm_auth::{SpendLogFilter, SpendLogRow};

use super::extract::{num_param, param, QueryParams, SignedIn};
use super::respond::{store_error, token_of};
use crate::error::ApiError;
use crate::state::AppState;

/// A date (`2025-01-31`, the day's start) or an RFC 3339 time; `end` makes a bare date
/// inclusive (the next day's start).
fn parse_date(name: &'static str, v: &str, end: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            Some(name),
            format!("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time, got {v:?}"),
        )
    })?;
    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
    Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// One row in LiteLLM's field names.
fn row_json(r: &SpendLogRow) -> Value {
    json!({
        "request_id": r.request_id,
        "call_type": r.call_type,
        "api_key": r.api_key_hash,
        "spend": r.spend,
        "total_tokens": r.total_tokens,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "startTime": r.start_time,
        "endTime": r.end_time,
        "completionStartTime": r.completion_start_time,
        "model": r.model,
        "model_id": r.model_id,
        "model_group": r.model_group,
        "custom_llm_provider": r.custom_llm_provider,
        "api_base": r.api_base,
        "user": r.user,
        "metadata": r.metadata,
        "cache_hit": r.cache_hit.to_string(),
        "request_tags": r.request_tags,
        "team_id": r.team_id,
        "end_user": r.end_user,
        "status": r.status,
    })
}

/// Spend logs, newest first.
#[utoipa::path(get, path = "/spend/logs", tag = "spend",
    params(
        ("api_key" = Option<String>, Query, description = "A key (sk-...) or its hash"),
        ("user_id" = Option<String>, Query, description = "The key owner's user id"),
        ("team_id" = Option<String>, Query, description = "The key's team"),
        ("model" = Option<String>, Query, description = "The model name the client asked for (model group)"),
        ("request_id" = Option<String>, Query, description = "One call"),
        ("tags" = Option<String>, Query, description = "Logs carrying any of these request tags (comma-separated)"),
        ("start_date" = Option<String>, Query, description = "From this date (YYYY-MM-DD) or time (RFC 3339)"),
        ("end_date" = Option<String>, Query, description = "Through this date (inclusive) or before this time"),
        ("limit" = Option<u32>, Query, description = "At most this many rows, 1 to 10000 (default 1000)"),
        ("page" = Option<u64>, Query, description = "1-based page of `limit` rows (default 1)"),
    ),
    responses((status = 200, description = "An array of spend-log rows"), (status = 400, description = "A bad date or limit")),
    security(("bearer" = [])))]
pub async fn logs(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let owned = |n: &str| param(&p, n).map(str::to_string);
    let limit = num_param(&p, "limit", 1000, 1, 10_000)?;
    let page = num_param(&p, "page", 1, 1, u64::from(u32::MAX))?;
    let mut filter = SpendLogFilter {
        api_key_hash: param(&p, "api_key").map(token_of),
        user_id: owned("user_id"),
        team_id: owned("team_id"),
        request_id: owned("request_id"),
        start_time: param(&p, "start_date")
            .map(|v| parse_date("start_date", v, false))
            .transpose()?,
        end_time: param(&p, "end_date")
            .map(|v| parse_date("end_date", v, true))
            .transpose()?,
        model_group: owned("model"),
        tags: param(&p, "tags").map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        }),
        limit: u32::try_from(limit).ok(),
        offset: Some((page - 1).saturating_mul(limit)),
    };
    // A non-admin key reads only its own logs (the same rule as the reports).
    let mut scope = litellm_auth::DailyFilter {
        api_key_hash: filter.api_key_hash.take(),
        user_id: filter.user_id.take(),
        team_id: filter.team_id.take(),
        ..litellm_auth::DailyFilter::default()
    };
    super::reports::scope(&caller, &mut scope)?;
    filter.api_key_hash = scope.api_key_hash;
    filter.user_id = scope.user_id;
    filter.team_id = scope.team_id;
    let ledger = state.ledger.as_ref().ok_or_else(|| {
        ApiError::bad_request(None, "No database is connected; there are no spend logs")
    })?;
    let rows = ledger.spend_logs(filter).await.map_err(store_error)?;
    Ok(Json(Value::Array(rows.iter().map(row_json).collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_dates_are_inclusive() {
        let s = parse_date("start_date", "2025-01-31", false).expect("date");
        let e = parse_date("end_date", "2025-01-31", true).expect("date");
        assert_eq!(s.to_rfc3339(), "2025-01-31T00:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2025-02-01T00:00:00+00:00");
        assert!(parse_date("end_date", "yesterday", true).is_err());
        assert_eq!(
            parse_date("start_date", "2025-01-31T10:00:00Z", false)
                .expect("time")
                .to_rfc3339(),
            "2025-01-31T10:00:00+00:00"
        );
    }
}
