//! Spend-ledger and store behaviour, each test run against both SQLite (a temp file) and
//! PostgreSQL (a fresh schema per test in `LITELLM_TEST_POSTGRES_URL`, default
//! `postgresql://postgres@127.0.0.1:5432/test`). PostgreSQL being unreachable fails the tests.
// Reason: test code may unwrap; failures point at the line.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use serde_json::json;

use common::*;
use litellm_auth::{
    hash_token, AuthError, Dialect, Ledger, LedgerOptions, SpendLogFilter, SpendLogRow, SpendRecord,
};

/// A fixed base time with nanoseconds, to check that both dialects keep microseconds.
fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 31, 12, 0, 0).unwrap()
        + chrono::Duration::nanoseconds(123_456_789)
}

/// A record with every field set to something distinctive, starting `offset_s` after the base.
fn full_record(id: &str, offset_s: i64) -> SpendRecord {
    let start = base_time() + chrono::Duration::seconds(offset_s);
    SpendRecord {
        request_id: id.to_string(),
        call_type: "acompletion".to_string(),
        api_key_hash: hash_token("sk-test-key"),
        spend: 0.000_123_45,
        prompt_tokens: 11,
        completion_tokens: 7,
        total_tokens: 18,
        start_time: start,
        end_time: start + chrono::Duration::milliseconds(1500),
        completion_start_time: Some(start + chrono::Duration::microseconds(250_001)),
        model: "gpt-4o-mini-2024-07-18".to_string(),
        model_id: "deployment-1".to_string(),
        model_group: "gpt-4o-mini".to_string(),
        custom_llm_provider: "openai".to_string(),
        api_base: "https://api.openai.com/v1".to_string(),
        user: Some("alice".to_string()),
        end_user: Some("customer-9".to_string()),
        team_id: Some("team-a".to_string()),
        user_id: Some("user-a".to_string()),
        metadata: json!({"attempted_retries": 1, "nested": {"list": [1, 2.5, "x", null], "ok": true}}),
        request_tags: vec!["prod".to_string(), "batch".to_string()],
        cache_hit: true,
        status: "success".to_string(),
    }
}

/// The row a record reads back as: times at microsecond precision.
fn stored(rec: &SpendRecord) -> SpendLogRow {
    SpendRecord {
        start_time: rec.start_time.trunc_subsecs(6),
        end_time: rec.end_time.trunc_subsecs(6),
        completion_start_time: rec.completion_start_time.map(|t| t.trunc_subsecs(6)),
        ..rec.clone()
    }
}

fn ids(rows: &[SpendLogRow]) -> Vec<&str> {
    rows.iter().map(|r| r.request_id.as_str()).collect()
}

async fn all_rows(ledger: &Ledger) -> Vec<SpendLogRow> {
    ledger
        .spend_logs(SpendLogFilter::default())
        .await
        .expect("read spend logs")
}

/// Polls until at least `n` rows are stored (the writer works in the background).
async fn wait_for_rows(ledger: &Ledger, n: usize) -> Vec<SpendLogRow> {
    loop {
        let rows = all_rows(ledger).await;
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn opts(flush_interval: Duration, queue_capacity: usize, max_batch: usize) -> LedgerOptions {
    LedgerOptions {
        flush_interval,
        queue_capacity,
        max_batch,
        ..LedgerOptions::default()
    }
}

both_dialects! {
    async fn records_round_trip_after_flush(db) {
        let ledger = db.ledger(opts(NEVER, 100, 50)).await;
        assert_eq!(ledger.dialect(), db.dialect);
        let full = full_record("req-full", 0);
        let sparse = SpendRecord {
            request_id: "req-sparse".to_string(),
            call_type: "aembedding".to_string(),
            api_key_hash: String::new(),
            spend: 0.0,
            prompt_tokens: 1 << 40,
            completion_tokens: 0,
            total_tokens: 1 << 40,
            start_time: base_time() + chrono::Duration::seconds(5),
            end_time: base_time() + chrono::Duration::seconds(6),
            completion_start_time: None,
            model: "text-embedding-3-small".to_string(),
            model_id: "deployment-2".to_string(),
            model_group: "embed".to_string(),
            custom_llm_provider: "openai".to_string(),
            api_base: String::new(),
            user: None,
            end_user: None,
            team_id: None,
            user_id: None,
            metadata: json!({}),
            request_tags: Vec::new(),
            cache_hit: false,
            status: "failure".to_string(),
        };
        ledger.record(full.clone()).await;
        ledger.record(sparse.clone()).await;
        assert_eq!(ledger.flush().await.expect("flush"), 2);

        let rows = all_rows(&ledger).await;
        // Newest first: the sparse record started later.
        assert_eq!(rows, vec![stored(&sparse), stored(&full)]);
        assert_ne!(rows[1].start_time, full.start_time, "nanoseconds are not kept");
        assert_eq!(ledger.flush().await.expect("second flush"), 0, "nothing left to write");
        ledger.shutdown().await.expect("shutdown");
    }

    async fn nothing_is_written_before_the_interval_but_everything_at_shutdown(db) {
        let ledger = db.ledger(opts(NEVER, 100, 50)).await;
        for i in 0..3 {
            ledger.record(full_record(&format!("req-{i}"), i)).await;
        }
        // Give the writer every chance to misbehave; with an hour-long interval and a batch
        // that is not full it must not write.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(all_rows(&ledger).await.is_empty());

        ledger.shutdown().await.expect("shutdown");
        assert_eq!(ids(&all_rows(&ledger).await), vec!["req-2", "req-1", "req-0"]);
        ledger.shutdown().await.expect("a second shutdown is a no-op");
        assert_eq!(ledger.flush().await.expect("flush after shutdown"), 0);

        // A late record (e.g. a stream that ended during shutdown) is written directly.
        ledger.record(full_record("req-late", 10)).await;
        assert_eq!(ids(&all_rows(&ledger).await), vec!["req-late", "req-2", "req-1", "req-0"]);
    }

    async fn a_full_batch_is_written_without_waiting_for_the_interval(db) {
        let ledger = db.ledger(opts(NEVER, 100, 5)).await;
        for i in 0..5 {
            ledger.record(full_record(&format!("req-{i}"), i)).await;
        }
        let rows = wait_for_rows(&ledger, 5).await;
        assert_eq!(rows.len(), 5);
        ledger.shutdown().await.expect("shutdown");
    }

    async fn a_burst_beyond_queue_capacity_is_written_entirely(db) {
        const TASKS: usize = 32;
        const PER_TASK: usize = 25;
        const CAPACITY: usize = 16;
        const BATCH: usize = 8;
        let ledger = db.ledger(opts(NEVER, CAPACITY, BATCH)).await;
        let producers: Vec<_> = (0..TASKS)
            .map(|t| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    for i in 0..PER_TASK {
                        let n = (t * PER_TASK + i) as i64;
                        ledger.record(full_record(&format!("burst-{t}-{i}"), n)).await;
                    }
                })
            })
            .collect();
        for p in futures::future::join_all(producers).await {
            p.expect("producer task");
        }
        // Every `record` has returned, yet the queue holds only CAPACITY records and the
        // writer at most one batch: the rest must already be stored, written by full batches
        // while the producers waited for room.
        let before_flush = all_rows(&ledger).await.len();
        assert!(
            before_flush >= TASKS * PER_TASK - CAPACITY - BATCH,
            "only {before_flush} rows stored before the flush"
        );

        ledger.flush().await.expect("flush");
        let stored_ids: BTreeSet<String> =
            all_rows(&ledger).await.into_iter().map(|r| r.request_id).collect();
        let expected: BTreeSet<String> = (0..TASKS)
            .flat_map(|t| (0..PER_TASK).map(move |i| format!("burst-{t}-{i}")))
            .collect();
        assert_eq!(stored_ids, expected);
        ledger.shutdown().await.expect("shutdown");
    }

    async fn filters_select_by_key_model_group_and_request_id(db) {
        let ledger = db.ledger(opts(NEVER, 100, 50)).await;
        let k1 = hash_token("sk-one");
        let k2 = hash_token("sk-two");
        let specs = [
            ("r0", &k1, "g1"),
            ("r1", &k2, "g1"),
            ("r2", &k1, "g2"),
            ("r3", &k2, "g2"),
            ("r4", &k1, "g1"),
        ];
        for (i, (id, key, group)) in specs.iter().enumerate() {
            let rec = SpendRecord {
                api_key_hash: (*key).clone(),
                model_group: (*group).to_string(),
                ..full_record(id, i as i64)
            };
            ledger.record(rec).await;
        }
        ledger.flush().await.expect("flush");

        let query = |filter: SpendLogFilter| {
            let ledger = ledger.clone();
            async move {
                let rows = ledger.spend_logs(filter).await.expect("query");
                rows.into_iter().map(|r| r.request_id).collect::<Vec<_>>()
            }
        };
        let by_key = SpendLogFilter { api_key_hash: Some(k1.clone()), ..Default::default() };
        assert_eq!(query(by_key).await, ["r4", "r2", "r0"]);
        let by_group = SpendLogFilter { model_group: Some("g2".to_string()), ..Default::default() };
        assert_eq!(query(by_group).await, ["r3", "r2"]);
        let both = SpendLogFilter {
            api_key_hash: Some(k2.clone()),
            model_group: Some("g1".to_string()),
            ..Default::default()
        };
        assert_eq!(query(both).await, ["r1"]);
        let by_id = SpendLogFilter { request_id: Some("r3".to_string()), ..Default::default() };
        assert_eq!(query(by_id).await, ["r3"]);
        let limited = SpendLogFilter { limit: Some(2), ..Default::default() };
        assert_eq!(query(limited).await, ["r4", "r3"]);
        let key_limited = SpendLogFilter {
            api_key_hash: Some(k1.clone()),
            limit: Some(1),
            ..Default::default()
        };
        assert_eq!(query(key_limited).await, ["r4"]);
        let unknown = SpendLogFilter { api_key_hash: Some(hash_token("sk-none")), ..Default::default() };
        assert!(query(unknown).await.is_empty());
        // A value that would be SQL if it were spliced into the query is just a value.
        let hostile = SpendLogFilter {
            model_group: Some("g1' OR '1'='1".to_string()),
            ..Default::default()
        };
        assert!(query(hostile).await.is_empty());
        ledger.shutdown().await.expect("shutdown");
    }

    async fn migrations_are_idempotent(db) {
        let first = db.ledger(LedgerOptions::default()).await;
        first.record(full_record("req-kept", 0)).await;
        first.shutdown().await.expect("shutdown");

        // Connecting again (twice, at once) re-runs no migration and keeps the data.
        let (second, third) = tokio::join!(
            Ledger::connect(&db.url, LedgerOptions::default()),
            Ledger::connect(&db.url, LedgerOptions::default()),
        );
        let (second, third) = (second.expect("second connect"), third.expect("third connect"));
        assert_eq!(ids(&all_rows(&second).await), vec!["req-kept"]);
        second.record(full_record("req-new", 1)).await;
        assert_eq!(second.flush().await.expect("flush"), 1);
        assert_eq!(ids(&all_rows(&third).await), vec!["req-new", "req-kept"]);
        second.shutdown().await.expect("shutdown");
        third.shutdown().await.expect("shutdown");
    }

    async fn a_failed_write_keeps_the_records_for_the_next_flush(db) {
        let ledger = db.ledger(opts(NEVER, 100, 50)).await;
        // A first successful write, so the insert statement is prepared and cached.
        ledger.record(full_record("req-0", 0)).await;
        assert_eq!(ledger.flush().await.expect("flush"), 1);

        db.exec("ALTER TABLE spend_logs RENAME TO spend_logs_away").await;
        ledger.record(full_record("req-1", 1)).await;
        ledger.record(full_record("req-2", 2)).await;
        let err = ledger.flush().await.expect_err("the table is gone, the write fails");
        assert!(matches!(err, AuthError::Database(_)), "{err:?}");
        // Still failing: the records are retried, not dropped.
        ledger.flush().await.expect_err("still gone");
        ledger.ping().await.expect("the database itself still answers");

        db.exec("ALTER TABLE spend_logs_away RENAME TO spend_logs").await;
        assert_eq!(ledger.flush().await.expect("flush after recovery"), 2);
        assert_eq!(ids(&all_rows(&ledger).await), vec!["req-2", "req-1", "req-0"]);
        ledger.shutdown().await.expect("shutdown");
    }

    async fn the_interval_writes_and_retries_without_any_flush(db) {
        let ledger = db.ledger(opts(Duration::from_millis(20), 100, 50)).await;
        ledger.record(full_record("req-0", 0)).await;
        assert_eq!(ids(&wait_for_rows(&ledger, 1).await), vec!["req-0"]);

        db.exec("ALTER TABLE spend_logs RENAME TO spend_logs_away").await;
        ledger.record(full_record("req-1", 1)).await;
        // Several ticks fail while the table is away; the record must survive them.
        tokio::time::sleep(Duration::from_millis(200)).await;
        db.exec("ALTER TABLE spend_logs_away RENAME TO spend_logs").await;
        assert_eq!(ids(&wait_for_rows(&ledger, 2).await), vec!["req-1", "req-0"]);
        ledger.shutdown().await.expect("shutdown");
    }

    async fn shutdown_retries_after_a_failed_final_write(db) {
        let ledger = db.ledger(opts(NEVER, 100, 50)).await;
        ledger.record(full_record("req-0", 0)).await;
        db.exec("ALTER TABLE spend_logs RENAME TO spend_logs_away").await;
        ledger.shutdown().await.expect_err("the final write fails");
        db.exec("ALTER TABLE spend_logs_away RENAME TO spend_logs").await;
        ledger.shutdown().await.expect("a second shutdown writes the kept record");
        assert_eq!(ids(&all_rows(&ledger).await), vec!["req-0"]);
    }

    async fn a_record_already_stored_is_not_duplicated(db) {
        let ledger = db.ledger(opts(NEVER, 100, 50)).await;
        ledger.record(full_record("req-same", 0)).await;
        ledger.record(full_record("req-same", 5)).await;
        assert_eq!(ledger.flush().await.expect("flush"), 1);
        let rows = all_rows(&ledger).await;
        assert_eq!(rows, vec![stored(&full_record("req-same", 0))], "the first write wins");
        ledger.shutdown().await.expect("shutdown");
    }
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let ledger = Ledger::connect("sqlite::memory:", LedgerOptions::default())
        .await
        .expect("in-memory database");
    assert_eq!(ledger.dialect(), Dialect::Sqlite);
    ledger.record(full_record("req-mem", 0)).await;
    assert_eq!(ledger.flush().await.expect("flush"), 1);
    assert_eq!(ids(&all_rows(&ledger).await), vec!["req-mem"]);
    ledger.ping().await.expect("ping");
}

/// The error of connecting a ledger to `url`, which must fail (`why` says why).
async fn connect_err(url: &str, why: &str) -> AuthError {
    Ledger::connect(url, LedgerOptions::default())
        .await
        .expect_err(why)
}

#[tokio::test]
async fn an_unsupported_scheme_is_refused_without_echoing_the_url() {
    let err = connect_err(
        "mysql://root:topsecret@db/litellm",
        "mysql is not supported",
    )
    .await;
    assert_eq!(
        err,
        AuthError::UnsupportedDatabase {
            scheme: "mysql".to_string()
        }
    );
    assert!(!err.to_string().contains("topsecret"), "{err}");
}

#[tokio::test]
async fn connection_errors_carry_no_password() {
    // Port 1 on loopback refuses connections.
    let err = connect_err(
        "postgresql://postgres:hunter2secret@127.0.0.1:1/test",
        "nothing listens on port 1",
    )
    .await;
    assert!(matches!(err, AuthError::Database(_)), "{err:?}");
    assert!(!err.to_string().contains("hunter2secret"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2secret"), "{err:?}");
}

#[tokio::test]
async fn many_processes_opening_one_fresh_sqlite_file_at_once_all_succeed() {
    // Replicas (or a restart overlapping the old process) race to switch a new file to WAL mode
    // and migrate it; the losers must wait their turn, not fail with "database is locked".
    for round in 0..5 {
        let dir = std::env::temp_dir().join(format!(
            "litellm-auth-race-{}-{round}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let url = format!("sqlite://{}", dir.join("shared.db").display());
        let opens = (0..8).map(|_| {
            let url = url.clone();

            tokio::spawn(async move { Ledger::connect(&url, LedgerOptions::default()).await })
        });
        for handle in futures::future::join_all(opens).await {
            let ledger = handle
                .expect("task")
                .expect("every concurrent open succeeds");
            ledger.shutdown().await.expect("shutdown");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
