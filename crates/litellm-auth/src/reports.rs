//! Spend reports from daily aggregate rows.
//!
//! Every spend-log batch also upserts `daily_spend`: one row per UTC day and (key hash, user,
//! team, end user, model, model group, provider), summing spend, tokens, requests, successes,
//! failures and cache hits (`ON CONFLICT ... DO UPDATE SET x = x + excluded.x`, in the same
//! transaction as the logs, so the aggregates equal the logs they were built from). Reports
//! (`/global/spend*`, `/user/daily/activity`, `/team/daily/activity`) read these rows only, so
//! their cost grows with days × distinct combinations, never with the number of calls, and
//! they survive spend-log retention.
//!
//! Tag spend (LiteLLM's `LiteLLM_DailyTagSpend`) is the same aggregate with one more dimension:
//! `daily_tag_spend` holds one row per day, [`Dimension::Tag`] and the other dimensions, and a
//! call with several tags adds its measures to each of its tags' rows (so sums over several
//! tags count such a call once per tag, as in LiteLLM).
//!
//! [`DailyQuery`] is the one query shape: filters, the dimensions to group by, an order and a
//! page. [`Store::daily_spend`](crate::Store::daily_spend) runs it on either dialect, over
//! `daily_tag_spend` when it groups or filters by tag ([`DailyQuery::reads_tags`]).

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::spend::SpendRecord;

/// One grouping dimension of `daily_spend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Date,
    ApiKey,
    User,
    Team,
    EndUser,
    Model,
    ModelGroup,
    Provider,
    /// A request tag (`daily_tag_spend` only).
    Tag,
}

impl Dimension {
    /// Every dimension of `daily_spend`, in the table's primary-key order (`daily_tag_spend`
    /// has these and [`Dimension::Tag`]).
    pub const ALL: [Dimension; 8] = [
        Dimension::Date,
        Dimension::ApiKey,
        Dimension::User,
        Dimension::Team,
        Dimension::EndUser,
        Dimension::Model,
        Dimension::ModelGroup,
        Dimension::Provider,
    ];

    /// The column of `daily_spend` holding this dimension (a constant, safe to splice into SQL).
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Date => "date",
            Dimension::ApiKey => "api_key_hash",
            Dimension::User => "user_id",
            Dimension::Team => "team_id",
            Dimension::EndUser => "end_user",
            Dimension::Model => "model",
            Dimension::ModelGroup => "model_group",
            Dimension::Provider => "custom_llm_provider",
            Dimension::Tag => "tag",
        }
    }
}

/// The summed measures of a group of daily rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DailyMetrics {
    /// USD.
    pub spend: f64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// Calls (successful and failed).
    pub api_requests: i64,
    pub successful_requests: i64,
    pub failed_requests: i64,
    /// Calls answered from the response cache.
    pub cache_hits: i64,
}

impl DailyMetrics {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &DailyMetrics) {
        self.spend += other.spend;
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        self.api_requests += other.api_requests;
        self.successful_requests += other.successful_requests;
        self.failed_requests += other.failed_requests;
        self.cache_hits += other.cache_hits;
    }

    /// The measures of one spend-log row.
    pub fn of_record(r: &SpendRecord) -> DailyMetrics {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let ok = r.status == "success";
        DailyMetrics {
            spend: if r.spend.is_finite() { r.spend } else { 0.0 },
            prompt_tokens: n(r.prompt_tokens),
            completion_tokens: n(r.completion_tokens),
            total_tokens: n(r.total_tokens),
            api_requests: 1,
            successful_requests: i64::from(ok),
            failed_requests: i64::from(!ok),
            cache_hits: i64::from(r.cache_hit),
        }
    }
}

/// One `daily_spend` row, or one group of them: the dimensions not grouped by are `""`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DailySpendRow {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub api_key_hash: String,
    pub user_id: String,
    pub team_id: String,
    pub end_user: String,
    /// The model the upstream reported.
    pub model: String,
    /// The model name the client asked for.
    pub model_group: String,
    pub custom_llm_provider: String,
    /// The request tag (rows of `daily_tag_spend` only).
    pub tag: String,
    /// The first and last day (`YYYY-MM-DD`) among the rows of this group.
    pub first_date: String,
    pub last_date: String,
    pub metrics: DailyMetrics,
}

impl DailySpendRow {
    /// The value of one dimension.
    pub fn get(&self, d: Dimension) -> &str {
        match d {
            Dimension::Date => &self.date,
            Dimension::ApiKey => &self.api_key_hash,
            Dimension::User => &self.user_id,
            Dimension::Team => &self.team_id,
            Dimension::EndUser => &self.end_user,
            Dimension::Model => &self.model,
            Dimension::ModelGroup => &self.model_group,
            Dimension::Provider => &self.custom_llm_provider,
            Dimension::Tag => &self.tag,
        }
    }

    /// Sets one dimension.
    pub fn set(&mut self, d: Dimension, v: String) {
        match d {
            Dimension::Date => self.date = v,
            Dimension::ApiKey => self.api_key_hash = v,
            Dimension::User => self.user_id = v,
            Dimension::Team => self.team_id = v,
            Dimension::EndUser => self.end_user = v,
            Dimension::Model => self.model = v,
            Dimension::ModelGroup => self.model_group = v,
            Dimension::Provider => self.custom_llm_provider = v,
            Dimension::Tag => self.tag = v,
        }
    }
}

/// The `daily_spend` increments for the `inserted` records of a batch: records summed per day
/// and dimensions, each request id counted once (its first record, the one stored).
pub fn daily_increments(records: &[SpendRecord], inserted: &HashSet<String>) -> Vec<DailySpendRow> {
    let mut counted = HashSet::new();
    let mut groups: BTreeMap<[String; 8], DailyMetrics> = BTreeMap::new();
    for r in records {
        if !inserted.contains(&r.request_id) || !counted.insert(r.request_id.as_str()) {
            continue;
        }
        groups
            .entry(dimensions_of(r))
            .or_default()
            .add(&DailyMetrics::of_record(r));
    }
    groups
        .into_iter()
        .map(|(key, metrics)| row_of(key, metrics))
        .collect()
}

/// The `daily_tag_spend` increments for the `inserted` records of a batch: like
/// [`daily_increments`], once per distinct tag of each record (untagged records add nothing).
pub fn daily_tag_increments(
    records: &[SpendRecord],
    inserted: &HashSet<String>,
) -> Vec<DailySpendRow> {
    let mut counted = HashSet::new();
    let mut groups: BTreeMap<(String, [String; 8]), DailyMetrics> = BTreeMap::new();
    for r in records {
        if r.request_tags.is_empty()
            || !inserted.contains(&r.request_id)
            || !counted.insert(r.request_id.as_str())
        {
            continue;
        }
        let metrics = DailyMetrics::of_record(r);
        let dims = dimensions_of(r);
        let tags: std::collections::BTreeSet<&str> = r
            .request_tags
            .iter()
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .collect();
        for tag in tags {
            groups
                .entry((tag.to_string(), dims.clone()))
                .or_default()
                .add(&metrics);
        }
    }
    groups
        .into_iter()
        .map(|((tag, key), metrics)| DailySpendRow {
            tag,
            ..row_of(key, metrics)
        })
        .collect()
}

/// A record's values of [`Dimension::ALL`], in that order.
fn dimensions_of(r: &SpendRecord) -> [String; 8] {
    [
        r.start_time.date_naive().format("%Y-%m-%d").to_string(),
        r.api_key_hash.clone(),
        r.user_id.clone().unwrap_or_default(),
        r.team_id.clone().unwrap_or_default(),
        r.end_user.clone().unwrap_or_default(),
        r.model.clone(),
        r.model_group.clone(),
        r.custom_llm_provider.clone(),
    ]
}

/// A row with the [`Dimension::ALL`] values `key` and `metrics`.
fn row_of(key: [String; 8], metrics: DailyMetrics) -> DailySpendRow {
    let mut row = DailySpendRow {
        metrics,
        ..DailySpendRow::default()
    };
    for (d, v) in Dimension::ALL.into_iter().zip(key) {
        row.set(d, v);
    }
    row
}

/// Which daily rows a report reads. Every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyFilter {
    /// First day (inclusive).
    pub start_date: Option<NaiveDate>,
    /// Last day (inclusive).
    pub end_date: Option<NaiveDate>,
    pub api_key_hash: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub end_user: Option<String>,
    /// Matches either the reported model or the model group.
    pub model: Option<String>,
    pub provider: Option<String>,
    /// Rows of any of these tags (reads `daily_tag_spend`).
    pub tags: Option<Vec<String>>,
}

/// How grouped rows are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DailyOrder {
    /// Newest day first, then highest spend (the activity reports).
    #[default]
    DateDesc,
    /// Highest spend first (top keys, top models).
    SpendDesc,
}

/// A report query over `daily_spend`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyQuery {
    pub filter: DailyFilter,
    /// The dimensions to group by (empty: one total row).
    pub group_by: Vec<Dimension>,
    pub order: DailyOrder,
    /// At most this many groups; `None` returns all.
    pub limit: Option<u64>,
    pub offset: u64,
}

impl DailyQuery {
    /// A query grouping by `dims` over `filter`.
    pub fn new(filter: DailyFilter, dims: &[Dimension]) -> Self {
        DailyQuery {
            filter,
            group_by: dims.to_vec(),
            ..DailyQuery::default()
        }
    }

    /// Whether the query reads `daily_tag_spend` (it groups or filters by tag) rather than
    /// `daily_spend`.
    pub fn reads_tags(&self) -> bool {
        self.group_by.contains(&Dimension::Tag) || self.filter.tags.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn rec(id: &str, day: u32, model: &str, spend: f64, status: &str) -> SpendRecord {
        let t = Utc
            .with_ymd_and_hms(2025, 3, day, 23, 59, 59)
            .single()
            .expect("valid time");
        SpendRecord {
            request_id: id.into(),
            api_key_hash: "k".into(),
            model: model.into(),
            model_group: model.into(),
            spend,
            prompt_tokens: 3,
            completion_tokens: 2,
            total_tokens: 5,
            start_time: t,
            end_time: t,
            status: status.into(),
            ..SpendRecord::default()
        }
    }

    #[test]
    fn increments_group_by_day_and_dimensions_counting_each_stored_request_once() {
        let records = [
            rec("a", 1, "m", 1.0, "success"),
            rec("a", 1, "m", 9.0, "success"),
            rec("b", 1, "m", 2.0, "failure"),
            rec("c", 2, "m", 4.0, "success"),
            rec("d", 1, "other", 8.0, "success"),
            rec("e", 1, "m", 16.0, "success"),
        ];
        let inserted: HashSet<String> =
            ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let rows = daily_increments(&records, &inserted);
        assert_eq!(rows.len(), 3, "{rows:?}");
        let day1 = rows
            .iter()
            .find(|r| r.date == "2025-03-01" && r.model == "m")
            .expect("day 1 row");
        assert_eq!(day1.metrics.spend, 3.0, "a once (first record) plus b");
        assert_eq!(day1.metrics.api_requests, 2);
        assert_eq!(day1.metrics.successful_requests, 1);
        assert_eq!(day1.metrics.failed_requests, 1);
        assert_eq!(day1.metrics.total_tokens, 10);
        assert!(rows.iter().any(|r| r.date == "2025-03-02"));
    }

    #[test]
    fn tag_increments_count_each_stored_request_once_per_distinct_tag() {
        let tagged = |id: &str, day: u32, spend: f64, tags: &[&str]| SpendRecord {
            request_tags: tags.iter().map(|t| t.to_string()).collect(),
            ..rec(id, day, "m", spend, "success")
        };
        let records = [
            tagged("a", 1, 1.0, &["x", "y", "x", ""]),
            tagged("a", 1, 9.0, &["x"]),
            tagged("b", 1, 2.0, &["x"]),
            tagged("c", 2, 4.0, &["y"]),
            tagged("d", 1, 8.0, &[]),
            tagged("e", 1, 16.0, &["x"]),
        ];
        let inserted: HashSet<String> =
            ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let rows = daily_tag_increments(&records, &inserted);
        let find = |tag: &str, date: &str| {
            rows.iter()
                .find(|r| r.tag == tag && r.date == date)
                .map(|r| (r.metrics.spend, r.metrics.api_requests))
        };
        assert_eq!(find("x", "2025-03-01"), Some((3.0, 2)), "a once, plus b");
        assert_eq!(find("y", "2025-03-01"), Some((1.0, 1)));
        assert_eq!(find("y", "2025-03-02"), Some((4.0, 1)));
        assert_eq!(
            rows.len(),
            3,
            "no empty tag, untagged d adds nothing: {rows:?}"
        );
        assert!(rows.iter().all(|r| r.model == "m" && r.api_key_hash == "k"));
    }
}
