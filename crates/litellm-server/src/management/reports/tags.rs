//! The request-tag totals: `GET /tag/list` (every tag with its spend, first and last day) and
//! `GET /spend/tags` (LiteLLM's `individual_request_tag`, `log_count`, `total_spend`), both
//! within an optional date range and the caller's scope. A call with several tags counts once
//! per tag.

use axum::Json;
use serde_json::{json, Value};

use litellm_auth::{DailyFilter, DailyOrder, DailyQuery, DailySpendRow, Dimension};

use super::{date_range, day_start, json_rows, run, scope, split_list, Reader};
use crate::error::ApiError;
use crate::management::extract::{param, Params, QueryParams};

/// The optional `start_date`/`end_date` pair of `/tag/list` and `/spend/tags`: both or neither.
fn optional_range(p: &Params, f: &mut DailyFilter) -> Result<(), ApiError> {
    if param(p, "start_date").is_some() || param(p, "end_date").is_some() {
        let (start, end) = date_range(p)?;
        f.start_date = Some(start);
        f.end_date = Some(end);
    }
    Ok(())
}

/// Every tag's spend (highest first), within the optional date range and the caller's scope,
/// as a JSON array of one `row` a tag.
async fn tag_totals(
    Reader { caller, store }: Reader,
    p: &Params,
    row: impl Fn(&DailySpendRow) -> Value,
) -> Result<Json<Value>, ApiError> {
    let mut f = DailyFilter::default();
    optional_range(p, &mut f)?;
    f.tags = param(p, "tags").map(split_list);
    scope(&caller, &mut f)?;
    let query = DailyQuery {
        order: DailyOrder::SpendDesc,
        ..DailyQuery::new(f, &[Dimension::Tag])
    };
    Ok(json_rows(&run(&store, query).await?.0, row))
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
    reader: Reader,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    tag_totals(reader, &p, |r| {
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
    .await
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
    reader: Reader,
    QueryParams(p): QueryParams,
) -> Result<Json<Value>, ApiError> {
    tag_totals(reader, &p, |r| {
        json!({
            "individual_request_tag": r.tag,
            "log_count": r.metrics.api_requests,
            "total_spend": r.metrics.spend,
        })
    })
    .await
}
