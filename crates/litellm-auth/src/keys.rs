//! Virtual-key generation and the in-memory key cache.
//!
//! - [`generate_key`]: `sk-` + 256 bits from the OS random source, URL-safe base64 without
//!   padding (LiteLLM uses `sk-` + `secrets.token_urlsafe`; theirs carries 128 bits).
//! - [`KeyCache`]: keys, users and teams by id for a short TTL (LiteLLM's
//!   `user_api_key_cache_ttl`, 60 s), so a request does not read the database. Unknown keys are
//!   cached too (as absent), so a stream of bad keys does not reach the database either.
//!   Management calls on this replica invalidate what they change; other replicas see changes
//!   when their entries expire. The ledger adds each recorded call's spend to the cached
//!   counters at once, so a budget is enforced on this replica before the batch is written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngCore;

use crate::customers::{BudgetRecord, EndUserRecord};
use crate::records::{KeyRecord, TeamRecord, UserRecord};
use crate::spend::SpendRecord;

/// A fresh virtual key: `sk-` followed by 43 URL-safe characters (256 random bits).
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "sk-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// LiteLLM's `abbreviate_api_key`: `sk-...` and the last four characters.
pub fn abbreviate_key(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

/// A cached lookup result: the record (or `None`: not in the database) and its live spend.
#[derive(Debug, Clone)]
pub struct Cached<T> {
    /// The record as read; `None` when the database has no such row.
    pub record: Option<Arc<T>>,
    /// The stored spend plus what this replica recorded since the read.
    pub spend: f64,
}

struct Entry<T> {
    record: Option<Arc<T>>,
    spend: f64,
    fetched: Instant,
}

struct Maps {
    keys: HashMap<String, Entry<KeyRecord>>,
    users: HashMap<String, Entry<UserRecord>>,
    teams: HashMap<String, Entry<TeamRecord>>,
    end_users: HashMap<String, Entry<EndUserRecord>>,
    budgets: HashMap<String, Entry<BudgetRecord>>,
    /// The global budget's spend (`litellm_settings.max_budget`) and when it was read.
    global: Option<(f64, Instant)>,
    /// Spend this replica recorded that the database does not have yet (queued or being
    /// written), per key, user, team and end user, and in total. Added to what a lookup
    /// returns, so re-reading a row from the database never loses it; removed when the ledger
    /// has written the record.
    unwritten: Unwritten,
}

#[derive(Default)]
struct Unwritten {
    keys: HashMap<String, f64>,
    users: HashMap<String, f64>,
    teams: HashMap<String, f64>,
    end_users: HashMap<String, f64>,
    total: f64,
}

fn adjust(map: &mut HashMap<String, f64>, id: Option<&str>, delta: f64) {
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return;
    };
    let v = map.entry(id.to_string()).or_insert(0.0);
    *v += delta;
    if *v <= 1e-12 {
        map.remove(id);
    }
}

/// The per-replica cache of keys, users and teams. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct KeyCache {
    ttl: Duration,
    maps: Arc<Mutex<Maps>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Entries a map may hold before expired ones are swept on insert.
const SWEEP_AT: usize = 10_000;

fn lookup<T>(
    map: &HashMap<String, Entry<T>>,
    unwritten: Option<&HashMap<String, f64>>,
    id: &str,
    ttl: Duration,
) -> Option<Cached<T>> {
    let extra = unwritten.and_then(|u| u.get(id)).copied().unwrap_or(0.0);
    map.get(id)
        .filter(|e| e.fetched.elapsed() < ttl)
        .map(|e| Cached {
            record: e.record.clone(),
            spend: e.spend + extra,
        })
}

fn store<T>(
    map: &mut HashMap<String, Entry<T>>,
    unwritten: Option<&HashMap<String, f64>>,
    id: &str,
    record: Option<T>,
    spend: impl Fn(&T) -> f64,
    ttl: Duration,
) -> Cached<T> {
    if map.len() >= SWEEP_AT {
        map.retain(|_, e| e.fetched.elapsed() < ttl);
    }
    let extra = unwritten.and_then(|u| u.get(id)).copied().unwrap_or(0.0);
    let spend = record.as_ref().map_or(0.0, spend);
    let record = record.map(Arc::new);
    map.insert(
        id.to_string(),
        Entry {
            record: record.clone(),
            spend,
            fetched: Instant::now(),
        },
    );
    Cached {
        record,
        spend: spend + extra,
    }
}

/// The methods of one cached entity (`what`) whose map in [`Maps`] and in [`Unwritten`] is
/// `map`: `get` (the cached record, if fresh), `put` (caches a database read; `None`: no such
/// row), `forget` (after an update, delete, block, unblock or regenerate) and, when named,
/// `stale` (the cached record even past its TTL, for `allow_requests_on_db_unavailable`).
macro_rules! cached_entity {
    ($what:literal, $map:ident: $record:ty, $get:ident, $put:ident, $forget:ident $(, $stale:ident)?) => {
        #[doc = concat!("The cached ", $what, ", if fresh.")]
        pub fn $get(&self, id: &str) -> Option<Cached<$record>> {
            let m = self.lock();
            lookup(&m.$map, Some(&m.unwritten.$map), id, self.ttl)
        }

        $(
            #[doc = concat!("The cached ", $what, " even past its TTL.")]
            pub fn $stale(&self, id: &str) -> Option<Cached<$record>> {
                let m = self.lock();
                lookup(&m.$map, Some(&m.unwritten.$map), id, Duration::MAX)
            }
        )?

        #[doc = concat!("Caches a ", $what, " read from the database (`None`: no such row).")]
        pub fn $put(&self, id: &str, record: Option<$record>) -> Cached<$record> {
            let m = &mut *self.lock();
            store(&mut m.$map, Some(&m.unwritten.$map), id, record, |r| r.spend, self.ttl)
        }

        #[doc = concat!("Forgets a ", $what, ".")]
        pub fn $forget(&self, id: &str) {
            self.lock().$map.remove(id);
        }
    };
}

impl KeyCache {
    /// An empty cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> KeyCache {
        KeyCache {
            ttl,
            maps: Arc::new(Mutex::new(Maps {
                keys: HashMap::new(),
                users: HashMap::new(),
                teams: HashMap::new(),
                end_users: HashMap::new(),
                budgets: HashMap::new(),
                global: None,
                unwritten: Unwritten::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Maps> {
        // A panic while holding the lock cannot leave the maps inconsistent (every update is
        // a single insert or field write), so a poisoned lock is still usable.
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    cached_entity!("key (by its hash)", keys: KeyRecord, key, put_key, invalidate_key, key_stale);
    cached_entity!("user", users: UserRecord, user, put_user, invalidate_user, user_stale);
    cached_entity!("team", teams: TeamRecord, team, put_team, invalidate_team, team_stale);
    cached_entity!("end user", end_users: EndUserRecord, end_user, put_end_user, invalidate_end_user);

    /// Forgets everything.
    pub fn clear(&self) {
        let mut m = self.lock();
        m.keys.clear();
        m.users.clear();
        m.teams.clear();
        m.end_users.clear();
        m.budgets.clear();
        m.global = None;
        m.unwritten = Unwritten::default();
    }

    /// The cached budget object, if fresh.
    pub fn budget(&self, id: &str) -> Option<Cached<BudgetRecord>> {
        lookup(&self.lock().budgets, None, id, self.ttl)
    }

    /// Caches a budget object read from the database.
    pub fn put_budget(&self, id: &str, record: Option<BudgetRecord>) -> Cached<BudgetRecord> {
        store(
            &mut self.lock().budgets,
            None,
            id,
            record,
            |_| 0.0,
            self.ttl,
        )
    }

    /// Forgets a budget object.
    pub fn invalidate_budget(&self, id: &str) {
        self.lock().budgets.remove(id);
    }

    /// The proxy's total spend as this replica knows it, if fresh.
    pub fn global_spend(&self) -> Option<f64> {
        let m = self.lock();
        let extra = m.unwritten.total;
        m.global
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v + extra)
    }

    /// Caches the proxy's total spend read from the database.
    pub fn put_global_spend(&self, spend: f64) {
        self.lock().global = Some((spend, Instant::now()));
    }

    /// Adds a recorded call's spend to its key, user and team, where cached.
    pub fn add_spend(&self, rec: &SpendRecord) {
        if rec.spend == 0.0 || !rec.spend.is_finite() || crate::budget::spend_cached(rec) {
            return;
        }
        self.lock().unwritten.add(rec, 1.0);
    }

    /// The ledger wrote these records: their spend is in the database now, so it no longer
    /// counts as unwritten (a row read from here on includes it).
    ///
    /// Entries read before the write do not include it, so it moves into their spend; an
    /// entry read after the write does (its row has it). A read that straddles the write can
    /// miss it until the entry expires: the bound is one batch for one TTL, never a lost record.
    pub fn written(&self, recs: &[SpendRecord]) {
        let mut guard = self.lock();
        let m = &mut *guard;
        for rec in recs {
            if rec.spend != 0.0 && rec.spend.is_finite() {
                m.unwritten.add(rec, -1.0);
                bump(&mut m.keys, Some(rec.api_key_hash.as_str()), rec.spend);
                bump(&mut m.users, rec.user_id.as_deref(), rec.spend);
                bump(&mut m.teams, rec.team_id.as_deref(), rec.spend);
                bump(&mut m.end_users, rec.end_user.as_deref(), rec.spend);
                if let Some((g, _)) = &mut m.global {
                    *g += rec.spend;
                }
            }
        }
    }
}

fn bump<T>(map: &mut HashMap<String, Entry<T>>, id: Option<&str>, amount: f64) {
    if let Some(e) = id.filter(|i| !i.is_empty()).and_then(|i| map.get_mut(i)) {
        e.spend += amount;
    }
}

impl Unwritten {
    fn add(&mut self, rec: &SpendRecord, sign: f64) {
        let d = rec.spend * sign;
        adjust(&mut self.keys, Some(rec.api_key_hash.as_str()), d);
        adjust(&mut self.users, rec.user_id.as_deref(), d);
        adjust(&mut self.teams, rec.team_id.as_deref(), d);
        adjust(&mut self.end_users, rec.end_user.as_deref(), d);
        self.total = (self.total + d).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master_key::hash_token;

    #[test]
    fn generated_keys_are_long_random_and_url_safe() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.starts_with("sk-"));
        assert_eq!(a.len(), 3 + 43, "{a}");
        assert!(a[3..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn abbreviation_keeps_only_the_last_four_characters() {
        assert_eq!(abbreviate_key("sk-abcdefgh1234"), "sk-...1234");
        assert_eq!(abbreviate_key("ab"), "sk-...ab");
    }

    #[test]
    fn unwritten_spend_survives_a_re_read_and_moves_into_the_row_when_written() {
        let now = chrono::Utc::now();
        let cache = KeyCache::new(Duration::from_secs(60));
        let token = hash_token("sk-y");
        let row = |spend: f64| {
            let mut k = KeyRecord::new(token.clone(), "sk-...y".into(), now);
            k.spend = spend;
            k
        };
        cache.put_key(&token, Some(row(1.0)));
        let rec = SpendRecord {
            api_key_hash: token.clone(),
            spend: 0.25,
            ..SpendRecord::default()
        };
        cache.add_spend(&rec);
        assert_eq!(cache.key(&token).map(|c| c.spend), Some(1.25));
        // Re-read from the database before the batch is written: the row lacks the call.
        assert_eq!(cache.put_key(&token, Some(row(1.0))).spend, 1.25);
        assert_eq!(cache.key(&token).map(|c| c.spend), Some(1.25));
        // Written: the entry read before the write gets it; a later read has it in the row.
        cache.written(std::slice::from_ref(&rec));
        assert_eq!(cache.key(&token).map(|c| c.spend), Some(1.25));
        assert_eq!(cache.put_key(&token, Some(row(1.25))).spend, 1.25);
    }

    #[test]
    fn entries_expire_and_spend_is_added_where_cached() {
        let now = chrono::Utc::now();
        let cache = KeyCache::new(Duration::from_secs(60));
        let token = hash_token("sk-x");
        let mut key = KeyRecord::new(token.clone(), "sk-...x".into(), now);
        key.spend = 1.0;
        key.team_id = Some("t".into());
        cache.put_key(&token, Some(key));
        cache.put_team("t", Some(TeamRecord::new("t".into(), now)));
        cache.put_key("unknown", None);
        let rec = SpendRecord {
            api_key_hash: token.clone(),
            team_id: Some("t".into()),
            user_id: Some("not-cached".into()),
            spend: 0.5,
            ..SpendRecord::default()
        };
        cache.add_spend(&rec);
        assert_eq!(cache.key(&token).map(|c| c.spend), Some(1.5));
        assert_eq!(cache.team("t").map(|c| c.spend), Some(0.5));
        assert!(cache.user("not-cached").is_none());
        assert!(cache
            .key("unknown")
            .expect("negative entry")
            .record
            .is_none());
        cache.invalidate_key(&token);
        assert!(cache.key(&token).is_none());

        let short = KeyCache::new(Duration::ZERO);
        short.put_team("t", Some(TeamRecord::new("t".into(), now)));
        assert!(short.team("t").is_none(), "a zero TTL caches nothing");
    }
}
