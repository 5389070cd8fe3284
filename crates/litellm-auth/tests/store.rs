//! Virtual keys, users, teams, spend counters and stored responses in the store, each test run against both
//! SQLite and PostgreSQL (see `common/mod.rs`).
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

#[macro_use]
mod common;

use std::time::Duration;

use serde_json::json;

use common::*;
use litellm_auth::{
    abbreviate_key, generate_key, hash_token, AuthError, Dialect, KeyColumn, KeyFilter, KeyPatch,
    KeyRecord, LedgerOptions, Page, SpendLogFilter, SpendOf, SpendRecord, TeamMember, TeamRecord,
    UserRecord,
};

fn key_record(key: &str) -> KeyRecord {
    KeyRecord::new(hash_token(key), abbreviate_key(key), now())
}

fn call(id: &str, key: &str, user: Option<&str>, team: Option<&str>, spend: f64) -> SpendRecord {
    SpendRecord {
        user_id: user.map(str::to_string),
        team_id: team.map(str::to_string),
        ..spend_log(id, now(), &hash_token(key), spend)
    }
}

both_dialects! {
    async fn stored_responses_round_trip_and_delete(db) {
        let store = db.store().await;
        let rec = litellm_auth::ResponseRecord {
            response_id: "resp_abc".into(),
            owner: hash_token("sk-owner"),
            response: json!({"id": "resp_abc", "object": "response", "output": [{"type": "message"}]}),
            input_items: json!([{"type": "message", "role": "user", "content": "hi"}]),
            history: json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]),
            created_at: now(),
        };
        store.insert_response(&rec).await.unwrap();
        assert_eq!(store.response("resp_abc").await.unwrap(), Some(rec.clone()));
        assert!(store.insert_response(&rec).await.is_err(), "ids are unique");
        assert!(store.response("resp_other").await.unwrap().is_none());
        assert!(store.delete_response("resp_abc").await.unwrap());
        assert!(!store.delete_response("resp_abc").await.unwrap());
        assert!(store.response("resp_abc").await.unwrap().is_none());
    }

    async fn a_key_round_trips_with_every_field(db) {
        let store = db.store().await;
        let key = generate_key();
        let mut rec = key_record(&key);
        let patch: KeyPatch = serde_json::from_value(json!({
            "key_alias": "ci", "duration": "7d", "models": ["gpt-4o", "openai/*"],
            "aliases": {"gpt-4": "gpt-4o"}, "metadata": {"team": "core", "n": [1, 2]},
            "tags": ["prod"], "max_budget": 10.5, "soft_budget": 5.0, "budget_duration": "1mo",
            "rpm_limit": 60, "tpm_limit": 1000, "max_parallel_requests": 2,
            "user_id": "u1", "team_id": "t1", "blocked": true, "allowed_routes": ["/chat/completions"]
        })).unwrap();
        patch.apply(&mut rec, now()).unwrap();
        store.insert_key(&rec).await.unwrap();
        let back = store.key(&hash_token(&key)).await.unwrap().expect("stored");
        assert_eq!(back, rec);
        assert!(store.key(&hash_token("sk-other")).await.unwrap().is_none());
        // Only the hash is stored, never the key.
        assert_ne!(back.token, key);
        assert!(!serde_json::to_string(&back).unwrap().contains(&key));
    }

    async fn aliases_are_unique_and_updates_keep_spend(db) {
        let store = db.store().await;
        let mut a = key_record("sk-a");
        a.key_alias = Some("same".into());
        store.insert_key(&a).await.unwrap();
        let mut b = key_record("sk-b");
        b.key_alias = Some("same".into());
        let err = store.insert_key(&b).await.expect_err("alias taken");
        assert!(matches!(err, AuthError::Conflict(_)), "{err:?}");
        assert!(matches!(store.insert_key(&a).await, Err(AuthError::Conflict(_))), "same hash");

        assert!(store.set_spend(SpendOf::Key(&a.token, 2.5)).await.unwrap());
        let mut changed = a.clone();
        changed.max_budget = Some(9.0);
        changed.spend = 100.0; // ignored: update never writes spend
        assert!(store.update_key(&a.token, &changed).await.unwrap());
        let back = store.key(&a.token).await.unwrap().unwrap();
        assert_eq!(back.max_budget, Some(9.0));
        assert_eq!(back.spend, 2.5);
        assert!(!store.update_key(&hash_token("sk-missing"), &changed).await.unwrap());
    }

    async fn regenerating_moves_the_row_to_the_new_hash(db) {
        let store = db.store().await;
        let old = key_record("sk-old");
        store.insert_key(&old).await.unwrap();
        store.set_spend(SpendOf::Key(&old.token, 1.25)).await.unwrap();
        let mut new = old.clone();
        new.token = hash_token("sk-new");
        new.key_name = abbreviate_key("sk-new");
        assert!(store.update_key(&old.token, &new).await.unwrap());
        assert!(store.key(&old.token).await.unwrap().is_none());
        let back = store.key(&new.token).await.unwrap().unwrap();
        assert_eq!(back.key_name, "sk-...-new");
        assert_eq!(back.spend, 1.25, "spend follows the key");
    }

    async fn keys_list_by_page_and_filter(db) {
        let store = db.store().await;
        for i in 0..7 {
            let mut k = key_record(&format!("sk-{i}"));
            k.created_at = now() + chrono::Duration::seconds(i);
            k.user_id = Some(if i % 2 == 0 { "even" } else { "odd" }.into());
            store.insert_key(&k).await.unwrap();
        }
        let page = |p, s| Page { page: p, size: s };
        let (first, total) = store.list_keys(&KeyFilter::default(), page(1, 3)).await.unwrap();
        assert_eq!(total, 7);
        assert_eq!(first.len(), 3);
        assert_eq!(first[0].token, hash_token("sk-6"), "newest first");
        let (last, _) = store.list_keys(&KeyFilter::default(), page(3, 3)).await.unwrap();
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].token, hash_token("sk-0"));
        let (beyond, total) = store.list_keys(&KeyFilter::default(), page(9, 3)).await.unwrap();
        assert!(beyond.is_empty());
        assert_eq!(total, 7);
        let odd = KeyFilter { user_id: Some("odd".into()), ..KeyFilter::default() };
        let (odd_keys, n) = store.list_keys(&odd, page(1, 10)).await.unwrap();
        assert_eq!(n, 3);
        assert!(odd_keys.iter().all(|k| k.user_id.as_deref() == Some("odd")));
        let hostile = KeyFilter { user_id: Some("odd' OR '1'='1".into()), ..KeyFilter::default() };
        assert_eq!(store.list_keys(&hostile, page(1, 10)).await.unwrap().1, 0);
        let by_user = store.keys_where(KeyColumn::UserId, &["even".into()]).await.unwrap();
        assert_eq!(by_user.len(), 4);
    }

    async fn deleting_users_and_teams_deletes_their_keys(db) {
        let store = db.store().await;
        let t = now();
        store.insert_user(&UserRecord::new("u1".into(), t)).await.unwrap();
        let mut team = TeamRecord::new("t1".into(), t);
        team.members_with_roles = vec![TeamMember {
            role: "admin".into(),
            user_id: Some("u1".into()),
            user_email: None,
        }];
        team.models = vec!["gpt-4o".into()];
        store.insert_team(&team).await.unwrap();
        assert_eq!(store.team("t1").await.unwrap().unwrap(), team);
        for (k, user, team) in [("sk-1", Some("u1"), None), ("sk-2", None, Some("t1")), ("sk-3", None, None)] {
            let mut rec = key_record(k);
            rec.user_id = user.map(Into::into);
            rec.team_id = team.map(Into::into);
            store.insert_key(&rec).await.unwrap();
        }
        assert_eq!(store.delete_users(&["u1".into(), "nobody".into()]).await.unwrap(), vec!["u1".to_string()]);
        assert!(store.user("u1").await.unwrap().is_none());
        assert!(store.key(&hash_token("sk-1")).await.unwrap().is_none());
        assert_eq!(store.delete_teams(&["t1".into()]).await.unwrap(), vec!["t1".to_string()]);
        assert!(store.key(&hash_token("sk-2")).await.unwrap().is_none());
        assert!(store.key(&hash_token("sk-3")).await.unwrap().is_some());
        assert_eq!(
            store.delete_keys(&[hash_token("sk-3"), hash_token("sk-3x")]).await.unwrap(),
            vec![hash_token("sk-3")]
        );
        assert!(store.list_teams().await.unwrap().is_empty());
        assert!(matches!(
            store.insert_user(&UserRecord::new("dup".into(), t)).await,
            Ok(())
        ));
        assert!(matches!(
            store.insert_user(&UserRecord::new("dup".into(), t)).await,
            Err(AuthError::Conflict(_))
        ));
    }

    async fn users_list_by_page_and_role(db) {
        let store = db.store().await;
        for i in 0..5 {
            let mut u = UserRecord::new(format!("u{i}"), now() + chrono::Duration::seconds(i));
            if i == 0 {
                u.user_role = "proxy_admin".into();
                u.user_email = Some("admin@example.com".into());
            }
            store.insert_user(&u).await.unwrap();
        }
        let (page, total) = store.list_users(None, Page { page: 2, size: 2 }).await.unwrap();
        assert_eq!(total, 5);
        assert_eq!(page.iter().map(|u| u.user_id.as_str()).collect::<Vec<_>>(), ["u2", "u1"]);
        let (admins, n) = store.list_users(Some("proxy_admin"), Page { page: 1, size: 10 }).await.unwrap();
        assert_eq!((admins.len(), n), (1, 1));
        assert_eq!(store.users_by_email("admin@example.com").await.unwrap()[0].user_id, "u0");
    }

    async fn spend_counters_always_equal_the_sum_of_the_logs(db) {
        let ledger = db.ledger(LedgerOptions {
            flush_interval: NEVER,
            ..LedgerOptions::default()
        }).await;
        let store = ledger.store().clone();
        let t = now();
        store.insert_key(&key_record("sk-a")).await.unwrap();
        store.insert_key(&key_record("sk-b")).await.unwrap();
        store.insert_user(&UserRecord::new("u".into(), t)).await.unwrap();
        store.insert_team(&TeamRecord::new("t".into(), t)).await.unwrap();

        ledger.record(call("r1", "sk-a", Some("u"), Some("t"), 0.25)).await;
        ledger.record(call("r2", "sk-a", Some("u"), None, 0.5)).await;
        ledger.record(call("r3", "sk-b", None, Some("t"), 1.0)).await;
        // The same request id again (a retried batch): stored once, counted once.
        ledger.record(call("r1", "sk-a", Some("u"), Some("t"), 0.25)).await;
        assert_eq!(ledger.flush().await.unwrap(), 3);
        ledger.record(call("r1", "sk-a", Some("u"), Some("t"), 0.25)).await;
        ledger.record(call("r4", "sk-master-not-stored", Some("ghost"), None, 2.0)).await;
        assert_eq!(ledger.flush().await.unwrap(), 1);

        let key_a = store.key(&hash_token("sk-a")).await.unwrap().unwrap();
        let logs_a: f64 = ledger
            .spend_logs(SpendLogFilter { api_key_hash: Some(hash_token("sk-a")), ..SpendLogFilter::default() })
            .await.unwrap().iter().map(|r| r.spend).sum();
        assert_eq!(key_a.spend, 0.75);
        assert_eq!(key_a.spend, logs_a);
        assert_eq!(store.key(&hash_token("sk-b")).await.unwrap().unwrap().spend, 1.0);
        assert_eq!(store.user("u").await.unwrap().unwrap().spend, 0.75);
        assert_eq!(store.team("t").await.unwrap().unwrap().spend, 1.25);
        let by_user = ledger
            .spend_logs(SpendLogFilter { user_id: Some("u".into()), ..SpendLogFilter::default() })
            .await.unwrap();
        assert_eq!(by_user.len(), 2);
        let by_team = ledger
            .spend_logs(SpendLogFilter { team_id: Some("t".into()), ..SpendLogFilter::default() })
            .await.unwrap();
        assert_eq!(by_team.len(), 2);
        let future = ledger
            .spend_logs(SpendLogFilter {
                start_time: Some(t + chrono::Duration::hours(1)),
                ..SpendLogFilter::default()
            })
            .await.unwrap();
        assert!(future.is_empty());
        let window = ledger
            .spend_logs(SpendLogFilter {
                start_time: Some(t - chrono::Duration::hours(1)),
                end_time: Some(t + chrono::Duration::hours(1)),
                ..SpendLogFilter::default()
            })
            .await.unwrap();
        assert_eq!(window.len(), 4);
        ledger.shutdown().await.unwrap();
    }

    async fn the_key_cache_sees_spend_before_it_is_written(db) {
        let ledger = db.ledger(LedgerOptions {
            flush_interval: NEVER,
            key_cache_ttl: Duration::from_secs(60),
            ..LedgerOptions::default()
        }).await;
        let rec = key_record("sk-a");
        ledger.store().insert_key(&rec).await.unwrap();
        let cache = ledger.key_cache();
        cache.put_key(&rec.token, ledger.store().key(&rec.token).await.unwrap());
        ledger.record(call("r1", "sk-a", None, None, 0.5)).await;
        assert_eq!(cache.key(&rec.token).unwrap().spend, 0.5);
        assert_eq!(ledger.store().key(&rec.token).await.unwrap().unwrap().spend, 0.0, "not written yet");
        ledger.shutdown().await.unwrap();
        assert_eq!(ledger.store().key(&rec.token).await.unwrap().unwrap().spend, 0.5);
    }
}

#[test]
fn the_harness_runs_both_dialects() {
    assert_ne!(Dialect::Sqlite, Dialect::Postgres);
}
