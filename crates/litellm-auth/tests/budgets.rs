//! Budget reservations, end users, budget objects, the reset job and its lease, each test run
//! against both SQLite and PostgreSQL (see `common/mod.rs`).
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

#[macro_use]
mod common;

use std::time::Duration;

use serde_json::json;

use common::*;
use litellm_auth::budget::{mark_held, GLOBAL_BUDGET_ID};
use litellm_auth::reset::ResetJob;
use litellm_auth::{
    abbreviate_key, hash_token, BudgetRecord, BudgetScope, Dialect, EndUserRecord, KeyRecord,
    LedgerOptions, SpendRecord,
};

fn key(max_budget: f64) -> KeyRecord {
    let mut k = KeyRecord::new(hash_token("sk-budget"), abbreviate_key("sk-budget"), now());
    k.max_budget = Some(max_budget);
    k
}

fn call(id: &str, token: &str, end_user: Option<&str>, spend: f64) -> SpendRecord {
    SpendRecord {
        end_user: end_user.map(str::to_string),
        ..spend_log(id, now(), token, spend)
    }
}

both_dialects! {
    async fn concurrent_reservations_never_pass_the_budget(db) {
        let store = db.store().await;
        let k = key(0.01);
        store.insert_key(&k).await.unwrap();
        // 200 concurrent reservations of $0.004 each on a $0.01 budget: a reservation is
        // admitted while spend + reserved < max, so exactly 3 get in (0, 0.004, 0.008).
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let store = store.clone();
            let token = k.token.clone();
            tasks.push(tokio::spawn(async move {
                store.reserve_budget(BudgetScope::Key, &token, 0.004, 0.01).await.unwrap()
            }));
        }
        let mut admitted = 0;
        for t in tasks {
            admitted += usize::from(t.await.unwrap());
        }
        assert_eq!(admitted, 3);
        let (spend, reserved) = store.budget_usage(BudgetScope::Key, &k.token).await.unwrap().unwrap();
        assert_eq!(spend, 0.0);
        assert!((reserved - 0.012).abs() < 1e-9, "{reserved}");
        // Releases clamp at zero.
        store.release_budget(BudgetScope::Key, &k.token, 1.0).await.unwrap();
        let (_, reserved) = store.budget_usage(BudgetScope::Key, &k.token).await.unwrap().unwrap();
        assert_eq!(reserved, 0.0);
        assert!(!store.reserve_budget(BudgetScope::Key, "no-such-key", 0.1, 1.0).await.unwrap());
    }

    async fn a_written_spend_log_moves_its_held_cost_from_reserved_to_spend(db) {
        let ledger = db.ledger(LedgerOptions { flush_interval: NEVER, ..LedgerOptions::default() }).await;
        let store = ledger.store().clone();
        let k = key(1.0);
        store.insert_key(&k).await.unwrap();
        assert!(store.reserve_budget(BudgetScope::Key, &k.token, 0.5, 1.0).await.unwrap());
        assert!(store.reserve_budget(BudgetScope::Global, GLOBAL_BUDGET_ID, 0.5, 10.0).await.unwrap());
        // Settle: the call cost 0.2; give back the other 0.3, keep 0.2 held until written.
        store.release_budget(BudgetScope::Key, &k.token, 0.3).await.unwrap();
        store.release_budget(BudgetScope::Global, GLOBAL_BUDGET_ID, 0.3).await.unwrap();
        let mut rec = call("r1", &k.token, Some("cust-1"), 0.2);
        mark_held(&mut rec, &[BudgetScope::Key, BudgetScope::Global]);
        ledger.record(rec).await;
        // A call that reserved nothing adds spend without touching reserved.
        ledger.record(call("r2", &k.token, Some("cust-1"), 0.1)).await;
        ledger.flush().await.unwrap();
        let (spend, reserved) = store.budget_usage(BudgetScope::Key, &k.token).await.unwrap().unwrap();
        assert!((spend - 0.3).abs() < 1e-9 && reserved.abs() < 1e-9, "{spend} {reserved}");
        let (g_spend, g_reserved) =
            store.budget_usage(BudgetScope::Global, GLOBAL_BUDGET_ID).await.unwrap().unwrap();
        assert!((g_spend - 0.3).abs() < 1e-9 && g_reserved.abs() < 1e-9, "{g_spend} {g_reserved}");
        // End users are created by their first spend log, as LiteLLM's upsert does.
        let e = store.end_user("cust-1").await.unwrap().unwrap();
        assert!((e.spend - 0.3).abs() < 1e-9, "{}", e.spend);
        assert!(!e.blocked);
        ledger.shutdown().await.unwrap();
    }

    async fn end_users_and_budgets_round_trip(db) {
        let store = db.store().await;
        let t = now();
        let mut b = BudgetRecord::new("gold".into(), t);
        b.max_budget = Some(5.0);
        b.rpm_limit = Some(10);
        b.model_max_budget = json!({"gpt-4o": {"max_budget": 1.0}}).as_object().cloned().unwrap();
        b.budget_duration = Some("1d".into());
        b.budget_reset_at = Some(t + chrono::Duration::days(1));
        store.insert_budget(&b).await.unwrap();
        assert_eq!(store.budget("gold").await.unwrap(), Some(b.clone()));
        assert!(store.insert_budget(&b).await.is_err(), "duplicate budget_id");
        let mut e = EndUserRecord::new("cust".into(), t);
        e.alias = Some("Acme".into());
        e.budget_id = Some("gold".into());
        e.allowed_model_region = Some("eu".into());
        store.insert_end_user(&e).await.unwrap();
        assert_eq!(store.end_user("cust").await.unwrap(), Some(e.clone()));
        e.blocked = true;
        assert!(store.update_end_user(&e).await.unwrap());
        assert!(store.end_user("cust").await.unwrap().unwrap().blocked);
        assert!(store.set_end_user_spend("cust", 2.5).await.unwrap());
        assert_eq!(store.end_user("cust").await.unwrap().unwrap().spend, 2.5);
        b.max_budget = Some(7.0);
        assert!(store.update_budget(&b).await.unwrap());
        assert_eq!(store.budget("gold").await.unwrap().unwrap().max_budget, Some(7.0));
        assert_eq!(store.list_end_users().await.unwrap().len(), 1);
        assert_eq!(store.list_budgets().await.unwrap().len(), 1);
        assert_eq!(store.delete_end_users(&["cust".into(), "x".into()]).await.unwrap(), vec!["cust".to_string()]);
        assert_eq!(store.delete_budgets(&["gold".into()]).await.unwrap(), vec!["gold".to_string()]);
        assert!(store.end_user("cust").await.unwrap().is_none());
    }

    async fn the_reset_job_resets_due_budgets_once_under_one_lease(db) {
        let store = db.store().await;
        let t0 = now();
        let mut k = key(1.0);
        k.budget_duration = Some("30s".into());
        k.budget_reset_at = Some(t0 - chrono::Duration::seconds(1));
        store.insert_key(&k).await.unwrap();
        let mut other = KeyRecord::new(hash_token("sk-later"), "sk-...ater".into(), t0);
        other.budget_duration = Some("30s".into());
        other.budget_reset_at = Some(t0 + chrono::Duration::hours(1));
        store.insert_key(&other).await.unwrap();
        let mut b = BudgetRecord::new("b30".into(), t0);
        b.budget_duration = Some("30s".into());
        b.budget_reset_at = Some(t0 - chrono::Duration::seconds(1));
        store.insert_budget(&b).await.unwrap();
        let mut e = EndUserRecord::new("cust".into(), t0);
        e.budget_id = Some("b30".into());
        store.insert_end_user(&e).await.unwrap();
        for id in [&k.token, &other.token] {
            store.set_spend(litellm_auth::SpendOf::Key(id, 0.9)).await.unwrap();
        }
        store.set_end_user_spend("cust", 0.4).await.unwrap();

        let job = |holder: &str| ResetJob {
            store: store.clone(),
            holder: holder.into(),
            interval: Duration::from_secs(10),
            jitter: Duration::ZERO,
            cache: None,
        };
        let (a, b_job) = (job("replica-a"), job("replica-b"));
        let counts = a.run_once(t0).await.unwrap().expect("a takes the free lease");
        assert_eq!((counts.keys, counts.budgets, counts.end_users), (1, 1, 1));
        assert!(b_job.run_once(t0).await.unwrap().is_none(), "b waits while a's lease is live");
        let reset = store.key(&k.token).await.unwrap().unwrap();
        assert_eq!(reset.spend, 0.0);
        let next = reset.budget_reset_at.unwrap();
        assert!(next > t0 && next <= t0 + chrono::Duration::seconds(30), "{next}");
        assert_eq!(next.timestamp() % 30, 0, "aligned to :00/:30");
        assert_eq!(store.key(&other.token).await.unwrap().unwrap().spend, 0.9, "not due");
        assert_eq!(store.end_user("cust").await.unwrap().unwrap().spend, 0.0);
        // A second pass by the holder finds nothing due; after the lease expires b takes over.
        assert_eq!(a.run_once(t0).await.unwrap().map(|c| c.total()), Some(0));
        let later = t0 + chrono::Duration::seconds(31);
        let counts = b_job.run_once(later).await.unwrap().expect("a's lease expired");
        assert_eq!(counts.keys, 1, "the next 30 s period");
        assert!(a.run_once(later).await.unwrap().is_none());
    }
}
