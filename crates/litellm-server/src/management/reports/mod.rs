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
//! user's when it has one, else its own key's, and its team's when it asks for its team
//! ([`scope`]; `/spend/logs` applies the same rule).
//!
//! One module per report family: [`global`] (`/global/spend*`), [`activity`] (the
//! daily-activity routes, tags included) and [`tags`] (`/tag/list`, `/spend/tags`). This
//! module holds what they share: the [`Reader`] extractor, [`scope`], the date parameters,
//! and the spend-log retention settings.

pub mod activity;
pub mod global;
pub mod tags;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::Value;

use litellm_auth::{DailyFilter, DailyQuery, DailySpendRow, Store};

use super::extract::{param, Params};
use super::respond::store_error;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Days the `/global/spend*` totals look back (LiteLLM's `Last30d…` views).
const LOOKBACK_DAYS: i64 = 30;

/// The caller of a spend report, admin or not, and the store the reports read (an
/// extractor; 503 when no database is connected). What the caller may read is [`scope`]'s.
pub struct Reader {
    pub caller: Caller,
    pub store: Store,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = super::extract::caller(parts, state).await?;
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
        Ok(Reader { caller, store })
    }
}

/// 403: `what` is not the caller's to read.
pub(super) fn forbidden(what: &str) -> ApiError {
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
pub(super) fn date_param(p: &Params, name: &'static str) -> Result<Option<NaiveDate>, ApiError> {
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
pub(super) fn date_range(p: &Params) -> Result<(NaiveDate, NaiveDate), ApiError> {
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
pub(super) fn lookback() -> DailyFilter {
    let today = Utc::now().date_naive();
    DailyFilter {
        start_date: Some(today - Duration::days(LOOKBACK_DAYS - 1)),
        end_date: Some(today),
        ..DailyFilter::default()
    }
}

/// A JSON array of one object per report row.
pub(super) fn json_rows(
    rows: &[DailySpendRow],
    row: impl Fn(&DailySpendRow) -> Value,
) -> Json<Value> {
    Json(Value::Array(rows.iter().map(row).collect()))
}

/// The daily aggregate rows `q` selects, and how many there are before paging.
pub(super) async fn run(
    store: &Store,
    q: DailyQuery,
) -> Result<(Vec<DailySpendRow>, u64), ApiError> {
    store.daily_spend(&q).await.map_err(store_error)
}

/// A string, `null` when empty.
pub(super) fn non_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// `"2025-01-31"` as LiteLLM's `date_trunc('day', ...)` renders it.
pub(super) fn day_start(date: &str) -> String {
    format!("{date}T00:00:00+00:00")
}

/// A comma-separated list, trimmed, without empty entries.
pub(super) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
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
