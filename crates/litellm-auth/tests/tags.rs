//! Request tags in the ledger, each test run against both SQLite and PostgreSQL (see
//! `common/mod.rs`): spend logs keep their `request_tags` and can be filtered by tag, the
//! `daily_tag_spend` aggregates equal the tagged logs they were built from (across batches,
//! with retried request ids, once per distinct tag of a call), and report queries group and
//! filter them by tag.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

#[macro_use]
mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::json;

use common::*;
use litellm_auth::{
    DailyFilter, DailyOrder, DailyQuery, Dialect, Dimension, SpendLogFilter, SpendRecord, Store,
    TeamPatch, TeamRecord,
};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 4, day, 12, 0, 0)
        .single()
        .unwrap()
}

fn call(
    id: &str,
    day: u32,
    key: &str,
    user: Option<&str>,
    spend: f64,
    tags: &[&str],
) -> SpendRecord {
    SpendRecord {
        model: "gpt-2025".to_string(),
        model_group: "gpt".to_string(),
        custom_llm_provider: "openai".to_string(),
        user_id: user.map(str::to_string),
        request_tags: tags.iter().map(|t| t.to_string()).collect(),
        ..spend_call(id, at(day), key, spend)
    }
}

fn calls() -> Vec<SpendRecord> {
    vec![
        call("r1", 1, "k1", Some("u1"), 1.0, &["prod", "team:search"]),
        call("r2", 1, "k1", Some("u1"), 2.0, &["prod"]),
        call("r3", 2, "k2", Some("u2"), 4.0, &["dev", "team:search"]),
        call("r4", 3, "k2", Some("u2"), 8.0, &[]),
        call(
            "r5",
            3,
            "k1",
            Some("u1"),
            16.0,
            &["prod", "prod", "it's; DROP TABLE spend_logs; --"],
        ),
    ]
}

/// `(tag, spend, requests)` per tag, highest spend first.
async fn by_tag(store: &Store, filter: DailyFilter) -> Vec<(String, f64, i64)> {
    let q = DailyQuery {
        order: DailyOrder::SpendDesc,
        ..DailyQuery::new(filter, &[Dimension::Tag])
    };
    let (rows, _) = store.daily_spend(&q).await.unwrap();
    rows.into_iter()
        .map(|r| (r.tag, r.metrics.spend, r.metrics.api_requests))
        .collect()
}

fn ids(rows: &[SpendRecord]) -> Vec<&str> {
    let mut v: Vec<&str> = rows.iter().map(|r| r.request_id.as_str()).collect();
    v.sort_unstable();
    v
}

both_dialects! {
    async fn tag_aggregates_equal_the_tagged_logs(db) {
        let store = db.store().await;
        let all = calls();
        // A retried batch (r2 again, other spend and tags) plus new rows: r2 counts once.
        let inserted = insert_with_a_retry(&store, &all, 2, |r2| {
            r2.spend = 100.0;
            r2.request_tags = vec!["retried".into()];
        })
        .await;
        assert_eq!(inserted, 3);

        let tags = by_tag(&store, DailyFilter::default()).await;
        assert_eq!(tags, [
            ("prod".to_string(), 19.0, 3),
            ("it's; DROP TABLE spend_logs; --".to_string(), 16.0, 1),
            ("team:search".to_string(), 5.0, 2),
            ("dev".to_string(), 4.0, 1),
        ], "one row per distinct tag; the duplicate prod of r5 counts once; untagged r4 adds nothing");

        // Each tag's sums equal its logs'.
        let logs = store.spend_logs(&SpendLogFilter::default()).await.unwrap();
        for (tag, spend, requests) in &tags {
            let of_tag: Vec<_> = logs.iter().filter(|l| l.request_tags.contains(tag)).collect();
            assert_eq!(*requests as usize, of_tag.len(), "{tag}");
            assert_eq!(*spend, of_tag.iter().map(|l| l.spend).sum::<f64>(), "{tag}");
        }
        // The untagged daily totals are unchanged by tags.
        let (total, _) = store.daily_spend(&DailyQuery::default()).await.unwrap();
        assert_eq!((total[0].metrics.spend, total[0].metrics.api_requests), (31.0, 5));

        // Tag filters, with the other dimensions and dates.
        let prod_u1 = DailyFilter {
            tags: Some(vec!["prod".into(), "dev".into()]),
            user_id: Some("u1".into()),
            ..DailyFilter::default()
        };
        assert_eq!(by_tag(&store, prod_u1).await, [("prod".to_string(), 19.0, 3)]);
        let day2 = DailyFilter {
            start_date: NaiveDate::from_ymd_opt(2025, 4, 2),
            end_date: NaiveDate::from_ymd_opt(2025, 4, 2),
            tags: Some(vec!["team:search".into()]),
            ..DailyFilter::default()
        };
        assert_eq!(by_tag(&store, day2).await, [("team:search".to_string(), 4.0, 1)]);
        let none = DailyFilter { tags: Some(vec![]), ..DailyFilter::default() };
        assert_eq!(by_tag(&store, none).await, [], "an empty tag list matches nothing");

        // First and last day of a tag, and (day, tag) groups newest first.
        let q = DailyQuery::new(
            DailyFilter { tags: Some(vec!["prod".into()]), ..DailyFilter::default() },
            &[Dimension::Tag],
        );
        let (rows, _) = store.daily_spend(&q).await.unwrap();
        assert_eq!((rows[0].first_date.as_str(), rows[0].last_date.as_str()), ("2025-04-01", "2025-04-03"));
        let q = DailyQuery {
            limit: Some(10),
            ..DailyQuery::new(DailyFilter::default(), &[Dimension::Date, Dimension::Tag, Dimension::ApiKey])
        };
        let (rows, count) = store.daily_spend(&q).await.unwrap();
        assert_eq!(count, 6, "(04-01 prod k1) (04-01 team:search k1) (04-02 dev k2) (04-02 team:search k2) (04-03 prod k1) (04-03 it's k1)");
        assert_eq!(rows[0].date, "2025-04-03");
        assert!(rows.iter().all(|r| !r.tag.is_empty() && !r.api_key_hash.is_empty()));
    }

    async fn spend_logs_keep_and_filter_by_tags(db) {
        let store = db.store().await;
        store.insert_spend_logs(&calls()).await.unwrap();
        let one = store
            .spend_logs(&SpendLogFilter { request_id: Some("r3".into()), ..SpendLogFilter::default() })
            .await
            .unwrap();
        assert_eq!(one[0].request_tags, ["dev", "team:search"]);

        let tagged = |tags: &[&str]| SpendLogFilter {
            tags: Some(tags.iter().map(|t| t.to_string()).collect()),
            ..SpendLogFilter::default()
        };
        let rows = store.spend_logs(&tagged(&["team:search"])).await.unwrap();
        assert_eq!(ids(&rows), ["r1", "r3"]);
        let rows = store.spend_logs(&tagged(&["dev", "prod"])).await.unwrap();
        assert_eq!(ids(&rows), ["r1", "r2", "r3", "r5"], "any of the tags");
        let rows = store.spend_logs(&tagged(&["it's; DROP TABLE spend_logs; --"])).await.unwrap();
        assert_eq!(ids(&rows), ["r5"], "a tag is a bound value");
        let rows = store.spend_logs(&tagged(&["pro"])).await.unwrap();
        assert_eq!(ids(&rows), Vec::<&str>::new(), "whole tags only");
        let rows = store
            .spend_logs(&SpendLogFilter { api_key_hash: Some("k2".into()), ..tagged(&["team:search"]) })
            .await
            .unwrap();
        assert_eq!(ids(&rows), ["r3"], "with the other filters");
    }
}

#[test]
fn team_tags_are_stored_in_metadata_as_litellm_does() {
    let now = Utc::now();
    let mut team = TeamRecord::new("t1".into(), now);
    let patch: TeamPatch =
        serde_json::from_value(json!({"tags": ["search", "prod"], "metadata": {"owner": "ann"}}))
            .unwrap();
    patch.apply(&mut team, now).unwrap();
    assert_eq!(team.metadata["tags"], json!(["search", "prod"]));
    assert_eq!(team.metadata["owner"], "ann");
    let keep: TeamPatch = serde_json::from_value(json!({"team_alias": "Search"})).unwrap();
    keep.apply(&mut team, now).unwrap();
    assert_eq!(
        team.metadata["tags"],
        json!(["search", "prod"]),
        "absent tags are kept"
    );
}

#[tokio::test]
async fn migration_creates_the_tag_table_on_an_existing_database() {
    // A database from before tags: dropping the table and its migration row, then reconnecting,
    // applies the migration again and the ledger writes tag aggregates.
    with_db(Dialect::Sqlite, |db: TestDb| async move {
        let store = db.store().await;
        db.exec(
            "DROP TABLE daily_tag_spend; \
             DELETE FROM _sqlx_migrations WHERE version = 20250601000000;",
        )
        .await;
        store.close().await;
        let store = db.store().await;
        store.insert_spend_logs(&calls()).await.unwrap();
        let tags = by_tag(&store, DailyFilter::default()).await;
        assert_eq!(tags.len(), 4);
    })
    .await;
}
