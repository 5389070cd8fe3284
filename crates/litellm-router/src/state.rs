//! Router state that replicas share: cooldown marks, failure counts and per-minute usage
//! counters, behind one small trait ([`StateStore`]) with an in-memory implementation
//! ([`MemoryStore`], the default) and a Redis one (`redis_store.rs`).
//!
//! [`RouterState`] is what the router talks to. It writes every change to the local memory
//! store and, when Redis is configured, to Redis too; it reads from Redis while Redis answers.
//! Every Redis call has a short timeout; a failure opens the circuit breaker of the Redis handle
//! (`redis.rs`, shared with the proxy's rate limiter and cache) for [`BREAKER_OPEN_FOR`], during
//! which the router serves from local state alone (each replica then enforces its own counts),
//! and Redis is tried again after that. The outage and the recovery are each logged once.
//!
//! Cooldown marks are read on every pick, so with Redis they are served from the local mirror and
//! refreshed from Redis at most every [`MARK_REFRESH`] per set of deployments: a cooldown set by
//! one replica reaches the others within that interval, and the request path does not wait on
//! Redis for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;

pub use crate::redis::BREAKER_OPEN_FOR;
use crate::redis::{Breaker, RedisHandle, RedisUse};

/// How stale the local mirror of cooldown marks may get while Redis is up.
pub const MARK_REFRESH: Duration = Duration::from_millis(250);

/// A failed state operation (Redis unreachable, timed out, or answered an error).
#[derive(Debug, Clone, thiserror::Error)]
#[error("router state store: {0}")]
pub struct StateError(pub String);

/// A key-value store of expiring integer counters and expiring marks. Counter updates are
/// atomic (Redis: one Lua script), never read-modify-write.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// `memory` or `redis`.
    fn kind(&self) -> &'static str;

    /// Adds `delta` to the counter at `key` and returns the new value. A counter without an
    /// expiry (a new one) expires `ttl` after this call.
    fn incr<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<i64, StateError>>;

    /// The counters at `keys`, 0 where absent or expired.
    fn get<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<i64>, StateError>>;

    /// Marks `key` for `ttl`, replacing an earlier mark.
    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), StateError>>;

    /// How long each of `keys` stays marked; `None` where unmarked.
    fn marked<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Duration>>, StateError>>;
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    value: i64,
    expires: Instant,
}

/// The in-memory [`StateStore`]: one map under a mutex, holding counters and marks alike.
/// Expired entries are dropped when the map grows.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Slot>>,
}

/// Entries above which an insert first sweeps expired ones.
const SWEEP_ABOVE: usize = 4096;

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sweep(map: &mut HashMap<String, Slot>, now: Instant) {
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, s| s.expires > now);
        }
    }

    /// Synchronous `incr` (the memory store never waits).
    pub fn incr_now(&self, key: &str, delta: i64, ttl: Duration) -> i64 {
        let now = Instant::now();
        let mut map = self.lock();
        Self::sweep(&mut map, now);
        let slot = map.entry(key.to_string()).or_insert(Slot {
            value: 0,
            expires: now + ttl,
        });
        if slot.expires <= now {
            *slot = Slot {
                value: 0,
                expires: now + ttl,
            };
        }
        slot.value += delta;
        slot.value
    }

    /// Synchronous `get`.
    pub fn get_now(&self, keys: &[String]) -> Vec<i64> {
        self.read_live(keys, |slot, _| slot.value)
            .into_iter()
            .map(|v| v.unwrap_or(0))
            .collect()
    }

    /// Synchronous `mark`.
    pub fn mark_now(&self, key: &str, ttl: Duration) {
        let now = Instant::now();
        let mut map = self.lock();
        Self::sweep(&mut map, now);
        map.insert(
            key.to_string(),
            Slot {
                value: 1,
                expires: now + ttl,
            },
        );
    }

    /// Removes a mark (a mirror refresh found it gone upstream).
    pub fn unmark_now(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Synchronous `marked`.
    pub fn marked_now(&self, keys: &[String]) -> Vec<Option<Duration>> {
        self.read_live(keys, |slot, now| slot.expires - now)
    }

    /// `read` of each key's slot (given the time now), or `None` for a key with no slot or an
    /// expired one.
    fn read_live<T>(&self, keys: &[String], read: impl Fn(&Slot, Instant) -> T) -> Vec<Option<T>> {
        let now = Instant::now();
        let map = self.lock();
        keys.iter()
            .map(|k| map.get(k).filter(|s| s.expires > now).map(|s| read(s, now)))
            .collect()
    }
}

impl StateStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn incr<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<i64, StateError>> {
        let v = self.incr_now(key, delta, ttl);
        Box::pin(async move { Ok(v) })
    }

    fn get<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<i64>, StateError>> {
        let v = self.get_now(keys);
        Box::pin(async move { Ok(v) })
    }

    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), StateError>> {
        self.mark_now(key, ttl);
        Box::pin(async { Ok(()) })
    }

    fn marked<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Duration>>, StateError>> {
        let v = self.marked_now(keys);
        Box::pin(async move { Ok(v) })
    }
}

/// How the router names itself in the log lines of a remote-store outage.
const ROUTER_STATE_USE: RedisUse = RedisUse {
    down: "router state store unavailable; serving from local state until it recovers",
    up: "router state store recovered",
};

/// The shared store, its breaker (the Redis handle's own when the store is Redis, so every user
/// of that Redis trips and honours the same one), and that handle.
#[derive(Debug)]
struct Remote {
    store: Arc<dyn StateStore>,
    breaker: Arc<Breaker>,
    redis: Option<RedisHandle>,
}

/// The router's view of its state: local memory, mirrored to a shared store when one is set.
#[derive(Debug)]
pub struct RouterState {
    local: MemoryStore,
    remote: Option<Remote>,
    /// When each set of mark keys was last refreshed from the remote store.
    refreshed: Mutex<HashMap<u64, Instant>>,
}

impl Default for RouterState {
    fn default() -> Self {
        Self::local()
    }
}

impl RouterState {
    /// State in this process only.
    pub fn local() -> Self {
        RouterState {
            local: MemoryStore::new(),
            remote: None,
            refreshed: Mutex::new(HashMap::new()),
        }
    }

    /// State shared through `remote` (with local memory as the fallback), behind a breaker of
    /// its own.
    pub fn shared(remote: Arc<dyn StateStore>) -> Self {
        let breaker = Arc::new(Breaker::new(remote.kind()));
        Self::with_remote(Remote {
            store: remote,
            breaker,
            redis: None,
        })
    }

    /// State shared through `store`, a store on `redis` (the Redis store, `redis_store.rs`),
    /// behind the handle's breaker.
    pub fn on_redis(store: Arc<dyn StateStore>, redis: RedisHandle) -> Self {
        Self::with_remote(Remote {
            store,
            breaker: redis.breaker().clone(),
            redis: Some(redis),
        })
    }

    fn with_remote(remote: Remote) -> Self {
        RouterState {
            local: MemoryStore::new(),
            remote: Some(remote),
            refreshed: Mutex::new(HashMap::new()),
        }
    }

    /// `memory`, or the remote store's kind.
    pub fn kind(&self) -> &'static str {
        self.remote.as_ref().map_or("memory", |r| r.store.kind())
    }

    /// The Redis handle the state is shared through, if any (the proxy shares it with the rate
    /// limiter and the response cache).
    pub fn redis_handle(&self) -> Option<&RedisHandle> {
        self.remote.as_ref()?.redis.as_ref()
    }

    /// Asks the remote store for one key (a round trip bounded by its timeout), bypassing the
    /// breaker: `None` without a remote store. For readiness probes.
    pub async fn ping_remote(&self) -> Option<Result<(), StateError>> {
        let remote = self.remote.as_ref()?;
        let key = ["health:ping".to_string()];
        Some(remote.store.get(&key).await.map(|_| ()))
    }

    /// The remote store when it may be used now.
    fn healthy_remote(&self) -> Option<(&dyn StateStore, &Breaker)> {
        let remote = self.remote.as_ref()?;
        (!remote.breaker.is_open()).then_some((remote.store.as_ref(), remote.breaker.as_ref()))
    }

    fn outcome<T>(breaker: &Breaker, r: Result<T, StateError>) -> Option<T> {
        match r {
            Ok(v) => {
                breaker.succeeded(&ROUTER_STATE_USE);
                Some(v)
            }
            Err(e) => {
                breaker.failed(&ROUTER_STATE_USE, &e);
                None
            }
        }
    }

    /// Adds `delta` to a counter; returns the shared value when the remote store answered,
    /// else the local one.
    pub async fn incr(&self, key: &str, delta: i64, ttl: Duration) -> i64 {
        let local = self.local.incr_now(key, delta, ttl);
        if let Some((remote, breaker)) = self.healthy_remote() {
            let r = remote.incr(key, delta, ttl).await;
            if let Some(v) = Self::outcome(breaker, r) {
                return v;
            }
        }
        local
    }

    /// Counter values, shared when the remote store answers.
    pub async fn get(&self, keys: &[String]) -> Vec<i64> {
        if let Some((remote, breaker)) = self.healthy_remote() {
            let r = remote.get(keys).await;
            if let Some(v) = Self::outcome(breaker, r) {
                return v;
            }
        }
        self.local.get_now(keys)
    }

    /// Marks `key` for `ttl`, here and in the shared store.
    pub async fn mark(&self, key: &str, ttl: Duration) {
        self.local.mark_now(key, ttl);
        if let Some((remote, breaker)) = self.healthy_remote() {
            let r = remote.mark(key, ttl).await;
            Self::outcome(breaker, r);
        }
    }

    /// Remaining mark time for each key, from the local mirror, refreshed from the shared store
    /// when this set of keys was last refreshed over [`MARK_REFRESH`] ago.
    pub async fn marked(&self, keys: &[String]) -> Vec<Option<Duration>> {
        if let Some((remote, breaker)) = self.healthy_remote() {
            if self.refresh_due(keys) {
                let r = remote.marked(keys).await;
                if let Some(remote_marks) = Self::outcome(breaker, r) {
                    for (key, mark) in keys.iter().zip(&remote_marks) {
                        match mark {
                            Some(ttl) => self.local.mark_now(key, *ttl),
                            None => self.local.unmark_now(key),
                        }
                    }
                    return remote_marks;
                }
            }
        }
        self.local.marked_now(keys)
    }

    /// The local mirror's marks, without asking the shared store.
    pub fn local_marked(&self, keys: &[String]) -> Vec<Option<Duration>> {
        self.local.marked_now(keys)
    }

    fn refresh_due(&self, keys: &[String]) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        keys.hash(&mut h);
        let id = h.finish();
        let now = Instant::now();
        let mut map = self.refreshed.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&id) {
            Some(t) if now.duration_since(*t) < MARK_REFRESH => false,
            _ => {
                map.insert(id, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Down;

    impl StateStore for Down {
        fn kind(&self) -> &'static str {
            "down"
        }
        fn incr<'a>(
            &'a self,
            _: &'a str,
            _: i64,
            _: Duration,
        ) -> BoxFuture<'a, Result<i64, StateError>> {
            Box::pin(async { Err(StateError("refused".into())) })
        }
        fn get<'a>(&'a self, _: &'a [String]) -> BoxFuture<'a, Result<Vec<i64>, StateError>> {
            Box::pin(async { Err(StateError("refused".into())) })
        }
        fn mark<'a>(&'a self, _: &'a str, _: Duration) -> BoxFuture<'a, Result<(), StateError>> {
            Box::pin(async { Err(StateError("refused".into())) })
        }
        fn marked<'a>(
            &'a self,
            _: &'a [String],
        ) -> BoxFuture<'a, Result<Vec<Option<Duration>>, StateError>> {
            Box::pin(async { Err(StateError("refused".into())) })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn memory_counters_expire_after_their_ttl() {
        let s = MemoryStore::new();
        assert_eq!(s.incr_now("k", 2, Duration::from_secs(60)), 2);
        assert_eq!(s.incr_now("k", 3, Duration::from_secs(60)), 5);
        assert_eq!(s.get_now(&["k".into(), "other".into()]), vec![5, 0]);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(s.get_now(&["k".into()]), vec![0]);
        assert_eq!(s.incr_now("k", 1, Duration::from_secs(60)), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn memory_marks_report_their_remaining_time() {
        let s = MemoryStore::new();
        s.mark_now("m", Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            s.marked_now(&["m".into(), "n".into()]),
            vec![Some(Duration::from_secs(3)), None]
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(s.marked_now(&["m".into()]), vec![None]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_remote_store_falls_back_to_local_state_and_is_retried_later() {
        let state = RouterState::shared(Arc::new(Down));
        assert_eq!(state.incr("c", 1, Duration::from_secs(60)).await, 1);
        assert_eq!(state.incr("c", 1, Duration::from_secs(60)).await, 2);
        state.mark("m", Duration::from_secs(30)).await;
        assert!(state.marked(&["m".into()]).await[0].is_some());
        let breaker = &state
            .remote
            .as_ref()
            .unwrap_or_else(|| unreachable!())
            .breaker;
        assert!(breaker.is_open(), "the failure opened the breaker");
        tokio::time::advance(BREAKER_OPEN_FOR).await;
        assert!(!breaker.is_open(), "the store is tried again later");
        assert_eq!(state.get(&["c".into()]).await, vec![2]);
    }
}
