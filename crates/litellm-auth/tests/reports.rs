//! Daily spend aggregates and spend-log retention, each test run against both SQLite and
//! PostgreSQL (see `common/mod.rs`): the aggregates equal the logs they were built from (across
//! batches, with retried request ids), report queries group, filter, order and paginate them,
//! and retention deletes old logs in bounded batches while the aggregates stay.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use common::*;
use litellm_auth::{
    DailyFilter, DailyOrder, DailyQuery, Dialect, Dimension, Retention, SpendLogFilter,
    SpendRecord, Store,
};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, 30, 0)
        .single()
        .unwrap()
}

#[allow(clippy::too_many_arguments)]
fn call(
    id: &str,
    when: DateTime<Utc>,
    key: &str,
    user: Option<&str>,
    team: Option<&str>,
    model: &str,
    provider: &str,
    spend: f64,
    status: &str,
    cache_hit: bool,
) -> SpendRecord {
    SpendRecord {
        model: format!("{model}-2025"),
        model_group: model.to_string(),
        custom_llm_provider: provider.to_string(),
        user_id: user.map(str::to_string),
        team_id: team.map(str::to_string),
        end_user: Some("customer-1".to_string()),
        cache_hit,
        status: status.to_string(),
        ..spend_call(id, when, key, spend)
    }
}

/// A spread of calls over three days, two keys, users, teams, models and providers.
fn calls() -> Vec<SpendRecord> {
    vec![
        call(
            "r1",
            at(1, 9),
            "k1",
            Some("u1"),
            Some("t1"),
            "gpt",
            "openai",
            1.0,
            "success",
            false,
        ),
        call(
            "r2",
            at(1, 23),
            "k1",
            Some("u1"),
            Some("t1"),
            "gpt",
            "openai",
            2.0,
            "failure",
            false,
        ),
        call(
            "r3",
            at(1, 10),
            "k2",
            Some("u2"),
            None,
            "claude",
            "anthropic",
            4.0,
            "success",
            true,
        ),
        call(
            "r4",
            at(2, 0),
            "k1",
            Some("u1"),
            Some("t1"),
            "gpt",
            "openai",
            8.0,
            "success",
            false,
        ),
        call(
            "r5",
            at(3, 12),
            "k2",
            Some("u2"),
            None,
            "gpt",
            "openai",
            16.0,
            "success",
            false,
        ),
    ]
}

async fn group(
    store: &Store,
    filter: DailyFilter,
    dims: &[Dimension],
) -> Vec<(Vec<String>, f64, i64)> {
    let (rows, _) = store
        .daily_spend(&DailyQuery::new(filter, dims))
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            (
                dims.iter().map(|d| r.get(*d).to_string()).collect(),
                r.metrics.spend,
                r.metrics.api_requests,
            )
        })
        .collect()
}

both_dialects! {
    async fn aggregates_equal_the_logs_across_batches_and_retries(db) {
        let store = db.store().await;
        let all = calls();
        // A retried batch (r3 again, with a different spend) plus new rows: r3 counts once.
        let inserted = insert_with_a_retry(&store, &all, 3, |r3| r3.spend = 100.0).await;
        assert_eq!(inserted, 2);

        let (total, _) = store.daily_spend(&DailyQuery::default()).await.unwrap();
        assert_eq!(total.len(), 1);
        let m = total[0].metrics;
        assert_eq!(m.spend, 31.0);
        assert_eq!(m.api_requests, 5);
        assert_eq!(m.successful_requests, 4);
        assert_eq!(m.failed_requests, 1);
        assert_eq!(m.cache_hits, 1);
        assert_eq!(m.prompt_tokens, 50);
        assert_eq!(m.completion_tokens, 25);
        assert_eq!(m.total_tokens, 75);

        // The same sums as the logs, per day.
        let logs = store.spend_logs(&SpendLogFilter::default()).await.unwrap();
        let by_day = group(&store, DailyFilter::default(), &[Dimension::Date]).await;
        for (day, spend, requests) in &by_day {
            let of_day: Vec<_> = logs
                .iter()
                .filter(|l| l.start_time.date_naive().to_string() == day[0])
                .collect();
            assert_eq!(*requests as usize, of_day.len(), "{day:?}");
            assert_eq!(*spend, of_day.iter().map(|l| l.spend).sum::<f64>(), "{day:?}");
        }
        assert_eq!(
            by_day.iter().map(|d| d.0[0].clone()).collect::<Vec<_>>(),
            ["2025-03-03", "2025-03-02", "2025-03-01"],
            "newest day first"
        );
    }

    async fn report_queries_filter_order_and_paginate(db) {
        let store = db.store().await;
        store.insert_spend_logs(&calls()).await.unwrap();

        let by_key = group(&store, DailyFilter::default(), &[Dimension::ApiKey]).await;
        assert_eq!(by_key, [
            (vec!["k2".to_string()], 20.0, 2),
            (vec!["k1".to_string()], 11.0, 3),
        ], "highest spend first");

        let day1 = DailyFilter {
            start_date: NaiveDate::from_ymd_opt(2025, 3, 1),
            end_date: NaiveDate::from_ymd_opt(2025, 3, 1),
            ..DailyFilter::default()
        };
        let by_provider = group(&store, day1.clone(), &[Dimension::Provider]).await;
        assert_eq!(by_provider, [
            (vec!["anthropic".to_string()], 4.0, 1),
            (vec!["openai".to_string()], 3.0, 2),
        ], "both ends of the date range are inclusive, and only that day counts");

        let gpt_team = DailyFilter {
            model: Some("gpt".into()),
            team_id: Some("t1".into()),
            ..DailyFilter::default()
        };
        let rows = group(&store, gpt_team, &[Dimension::Date]).await;
        assert_eq!(rows.iter().map(|r| r.1).sum::<f64>(), 11.0);
        let by_reported_model = DailyFilter { model: Some("claude-2025".into()), ..DailyFilter::default() };
        assert_eq!(group(&store, by_reported_model, &[]).await[0].1, 4.0, "the reported model matches too");
        let nobody = DailyFilter { user_id: Some("nobody".into()), ..DailyFilter::default() };
        assert_eq!(group(&store, nobody, &[]).await, [(vec![], 0.0, 0)], "an empty total is zero");

        // Pages of (day, key) groups, and the count of all of them.
        let dims = [Dimension::Date, Dimension::ApiKey];
        let mut seen = Vec::new();
        for page in 0..3 {
            let q = DailyQuery {
                limit: Some(2),
                offset: page * 2,
                ..DailyQuery::new(DailyFilter::default(), &dims)
            };
            let (rows, total) = store.daily_spend(&q).await.unwrap();
            assert_eq!(total, 4, "(03-01,k1) (03-01,k2) (03-02,k1) (03-03,k2)");
            seen.extend(rows.into_iter().map(|r| (r.date, r.api_key_hash)));
        }
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[0].0, "2025-03-03");
        assert_eq!(seen[3].0, "2025-03-01");

        let top = DailyQuery {
            order: DailyOrder::SpendDesc,
            limit: Some(1),
            ..DailyQuery::new(DailyFilter::default(), &[Dimension::ModelGroup])
        };
        let (rows, total) = store.daily_spend(&top).await.unwrap();
        assert_eq!((rows[0].model_group.as_str(), rows[0].metrics.spend, total), ("gpt", 27.0, 2));
    }

    async fn retention_deletes_old_logs_in_batches_and_keeps_aggregates(db) {
        let store = db.store().await;
        let now = Utc::now();
        let mut records = Vec::new();
        for i in 0..7 {
            let mut old = calls()[0].clone();
            old.request_id = format!("old-{i}");
            old.start_time = now - Duration::days(10) - Duration::minutes(i);
            records.push(old);
        }
        let mut fresh = calls()[0].clone();
        fresh.request_id = "fresh".into();
        fresh.start_time = now - Duration::days(2);
        records.push(fresh);
        store.insert_spend_logs(&records).await.unwrap();
        let (before, _) = store.daily_spend(&DailyQuery::default()).await.unwrap();

        let mut policy = Retention::from_settings("7d", None).unwrap();
        policy.batch = 3;
        assert_eq!(store.delete_spend_logs_before(policy.cutoff(now), 3).await.unwrap(), 3, "one bounded batch");
        assert_eq!(policy.run_once(&store, now).await.unwrap(), 4, "the rest, batch by batch");
        assert_eq!(policy.run_once(&store, now).await.unwrap(), 0);

        let left = store.spend_logs(&SpendLogFilter::default()).await.unwrap();
        assert_eq!(left.iter().map(|l| l.request_id.as_str()).collect::<Vec<_>>(), ["fresh"]);
        let (after, _) = store.daily_spend(&DailyQuery::default()).await.unwrap();
        assert_eq!(before, after, "daily aggregates are kept");
        assert_eq!(after[0].metrics.api_requests, 8);

        // Under the lease: one replica runs a pass, another skips it until the lease ends.
        let mut old = calls()[1].clone();
        old.start_time = now - Duration::days(30);
        store.insert_spend_logs(&[old]).await.unwrap();
        assert_eq!(policy.run_leased(&store, "replica-a", now).await.unwrap(), Some(1));
        assert_eq!(policy.run_leased(&store, "replica-b", now).await.unwrap(), None);
        let later = now + Duration::days(1);
        assert_eq!(policy.run_leased(&store, "replica-b", later).await.unwrap(), Some(0));
    }
}

#[tokio::test]
async fn migration_backfills_aggregates_from_existing_logs() {
    // A database whose spend logs predate the daily table: the migration sums them once.
    with_db(Dialect::Sqlite, |db: TestDb| async move {
        let store = db.store().await;
        store.insert_spend_logs(&calls()).await.unwrap();
        db.exec(
            "DELETE FROM daily_spend; \
             DELETE FROM _sqlx_migrations WHERE version = 20250501000000; \
             DROP TABLE daily_spend; DROP INDEX spend_logs_model_start_time_idx;",
        )
        .await;
        store.close().await;
        let store = db.store().await;
        let (total, _) = store.daily_spend(&DailyQuery::default()).await.unwrap();
        assert_eq!(
            (total[0].metrics.spend, total[0].metrics.api_requests),
            (31.0, 5)
        );
        assert_eq!(total[0].metrics.cache_hits, 1);
        assert_eq!(total[0].metrics.failed_requests, 1);
    })
    .await;
}
