//! Rate limits per key, user, team, end user and key+model: `rpm_limit`, `tpm_limit` and
//! `max_parallel_requests` (LiteLLM's `parallel_request_limiter_v3`), in memory on one replica
//! or on Redis so that N replicas enforce one limit.
//!
//! The unit of work is a [`Descriptor`]: who is limited (scope and id), a label for messages,
//! and its [`Limits`]. [`RateLimiter::acquire`] checks every descriptor of a request at once and
//! either refuses ([`RateLimited`], changing nothing) or reserves the request: +1 on each
//! requests counter and one in-flight slot on each parallel cap. The returned [`Permit`]
//! holds the slots; [`Permit::finish`] charges the call's tokens and frees them (dropping a
//! permit frees them without charging tokens).
//!
//! Windows are fixed, 60 s by default, aligned to the epoch (`now / window`): every replica
//! agrees on the window without storing its start, a counter is one hash that simply expires,
//! and `retry-after` is the exact time to the boundary. The cost is the fixed window's known
//! burst (up to twice the limit across a boundary), which LiteLLM's v3 limiter shares; a
//! sliding log would need one sorted-set entry per request. On Redis the window comes from
//! Redis's own clock (`TIME`), so replicas with skewed clocks still agree.
//!
//! Redis layout (prefix `litellm_rs:ratelimit:`): `{scope:id}:window`, a hash `w` (window
//! number), `req`, `tok` that expires after two windows; `{scope:id}:inflight`, a sorted set
//! of in-flight request ids scored by their lease expiry. A replica that dies mid-request
//! leaks its slots only until their lease ([`DEFAULT_PARALLEL_LEASE`]) passes, even under
//! continuous traffic, because expired members are purged on every check. Each check is one
//! Lua script (check all, then reserve all, atomically); each finish another.
//!
//! When Redis fails or is slower than its timeout, the request is checked against this
//! replica's in-memory counters instead (a warning is logged once, and again "recovered" when
//! Redis answers), and Redis is not tried again for 5 s. A request is never failed because of
//! Redis. The pool, the timeout and that breaker are the process's
//! [`RedisHandle`](litellm_router::RedisHandle) for the server, shared with the router's state
//! (and the proxy's response cache when it uses the same Redis).
//!
//! Files: this one holds the types and the limiter; `memory.rs` the in-memory counters,
//! `redis.rs` the two Lua scripts and their calls.

mod memory;
mod redis;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use litellm_router::{RedisError, RedisHandle};

use memory::Memory;
use redis::RedisLimits;

/// Prefix of every Redis key the limiter writes.
pub const KEY_PREFIX: &str = "litellm_rs:ratelimit:";

/// The default window (LiteLLM's `LITELLM_RATE_LIMIT_WINDOW_SIZE`, 60 s).
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// How long an in-flight slot on Redis outlives a replica that never released it.
pub const DEFAULT_PARALLEL_LEASE: Duration = Duration::from_secs(600);

/// Default bound on one Redis call (the router's `redis_timeout` default).
pub const DEFAULT_REDIS_TIMEOUT: Duration = litellm_router::redis::DEFAULT_TIMEOUT;

/// Whose limit a descriptor is (LiteLLM's descriptor keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Key,
    User,
    Team,
    EndUser,
    /// A key's per-model limits (`model_rpm_limit` / `model_tpm_limit`).
    ModelPerKey,
}

impl Scope {
    /// LiteLLM's descriptor key: `api_key`, `user`, `team`, `end_user`, `model_per_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Key => "api_key",
            Scope::User => "user",
            Scope::Team => "team",
            Scope::EndUser => "end_user",
            Scope::ModelPerKey => "model_per_key",
        }
    }
}

/// Which of a descriptor's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Requests per window (`rpm_limit`).
    Requests,
    /// Tokens per window (`tpm_limit`).
    Tokens,
    /// Requests in flight (`max_parallel_requests`).
    Parallel,
}

impl LimitKind {
    /// `requests`, `tokens` or `max_parallel_requests` (as in LiteLLM's headers).
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Requests => "requests",
            LimitKind::Tokens => "tokens",
            LimitKind::Parallel => "max_parallel_requests",
        }
    }
}

/// The limits of one descriptor; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_parallel: Option<u64>,
}

impl Limits {
    /// Limits from stored columns (a negative value, never accepted by a patch, is no limit).
    pub fn from_stored(rpm: Option<i64>, tpm: Option<i64>, max_parallel: Option<i64>) -> Limits {
        let conv = |v: Option<i64>| v.and_then(|n| u64::try_from(n).ok());
        Limits {
            rpm: conv(rpm),
            tpm: conv(tpm),
            max_parallel: conv(max_parallel),
        }
    }

    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.rpm.is_none() && self.tpm.is_none() && self.max_parallel.is_none()
    }

    fn get(&self, kind: LimitKind) -> Option<u64> {
        match kind {
            LimitKind::Requests => self.rpm,
            LimitKind::Tokens => self.tpm,
            LimitKind::Parallel => self.max_parallel,
        }
    }
}

/// One limited subject of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub scope: Scope,
    /// The counter id: a key's hash (never the key), a user, team or end-user id, or
    /// `<key hash>:<model>`.
    pub id: String,
    /// How messages name it: `key sk-...abcd (key_alias ci)`, `team core`, ...
    pub label: String,
    pub limits: Limits,
}

impl Descriptor {
    fn counter(&self) -> String {
        format!("{}:{}", self.scope.as_str(), self.id)
    }
}

/// The state of one limit after a request was admitted (for `x-ratelimit-*` headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitStatus {
    pub scope: Scope,
    pub kind: LimitKind,
    pub limit: u64,
    /// Requests this window including this one, tokens this window so far, or requests in
    /// flight including this one.
    pub used: u64,
    pub remaining: u64,
}

/// A refused request: which limit, and when to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    pub scope: Scope,
    pub label: String,
    pub kind: LimitKind,
    pub limit: u64,
    /// The count that hit the limit (requests or tokens this window, or requests in flight).
    pub current: u64,
    /// Until the window resets (for a parallel cap: 1 s, as slots free at any moment).
    pub retry_after: Duration,
}

impl RateLimited {
    /// The limit's field name: `rpm_limit`, `tpm_limit`, `max_parallel_requests`,
    /// `model_rpm_limit` or `model_tpm_limit`.
    pub fn limit_name(&self) -> &'static str {
        match (self.scope, self.kind) {
            (Scope::ModelPerKey, LimitKind::Requests) => "model_rpm_limit",
            (Scope::ModelPerKey, LimitKind::Tokens) => "model_tpm_limit",
            (_, LimitKind::Requests) => "rpm_limit",
            (_, LimitKind::Tokens) => "tpm_limit",
            (_, LimitKind::Parallel) => "max_parallel_requests",
        }
    }
}

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.retry_after.as_secs_f64().ceil() as u64;
        match self.kind {
            LimitKind::Parallel => write!(
                f,
                "Rate limit exceeded for {}: max_parallel_requests {} ({} requests in flight).",
                self.label, self.limit, self.current
            ),
            LimitKind::Requests | LimitKind::Tokens => write!(
                f,
                "Rate limit exceeded for {}: {} {} (used {} this window; resets in {secs}s).",
                self.label,
                self.limit_name(),
                self.limit,
                self.current
            ),
        }
    }
}

/// Where "now" comes from: the system clock (on Redis: Redis's clock), or a clock tests set.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands at `unix_ms` until moved (also passed to Redis).
    pub fn manual(unix_ms: u64) -> Clock {
        Clock(Some(Arc::new(AtomicU64::new(unix_ms))))
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.0 {
            t.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
        }
    }

    fn now_ms(&self) -> u64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        }
    }

    /// The time to hand to Redis: `-1` means "use Redis's `TIME`".
    fn redis_arg(&self) -> i64 {
        match &self.0 {
            Some(t) => i64::try_from(t.load(Ordering::SeqCst)).unwrap_or(i64::MAX),
            None => -1,
        }
    }
}

/// Limiter settings.
#[derive(Debug, Clone)]
pub struct RateLimitOptions {
    /// The window of `rpm`/`tpm` limits.
    pub window: Duration,
    /// Lease of an in-flight slot on Redis.
    pub parallel_lease: Duration,
    /// Bound on one Redis call, connection checkout included.
    pub redis_timeout: Duration,
    /// Prefix of Redis keys (tests use their own).
    pub key_prefix: String,
    pub clock: Clock,
}

impl Default for RateLimitOptions {
    fn default() -> Self {
        RateLimitOptions {
            window: DEFAULT_WINDOW,
            parallel_lease: DEFAULT_PARALLEL_LEASE,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
            key_prefix: KEY_PREFIX.to_string(),
            clock: Clock::system(),
        }
    }
}

/// The rate limiter: cheap to clone, one per process.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    opts: RateLimitOptions,
    memory: Memory,
    redis: Option<RedisLimits>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("backend", &self.backend())
            .field("window", &self.inner.opts.window)
            .finish_non_exhaustive()
    }
}

/// What the counters said about a request: refused, or admitted with the counts after it.
enum Outcome {
    Refused {
        index: usize,
        kind: LimitKind,
        current: u64,
        reset_ms: u64,
    },
    /// `reset_ms`, then per descriptor `[requests, tokens, in flight]`.
    Admitted {
        reset_ms: u64,
        counts: Vec<[u64; 3]>,
    },
}

impl RateLimiter {
    /// A limiter with in-memory counters (one replica).
    pub fn memory(opts: RateLimitOptions) -> RateLimiter {
        Self::build(opts, None)
    }

    /// A limiter on Redis at `url` (`redis://[:password@]host:port[/db]`), with this process's
    /// memory as the fallback. Connects lazily: a Redis that is down at start-up does not stop
    /// the proxy. The error (an invalid URL) never contains the password.
    pub fn redis(url: &str, opts: RateLimitOptions) -> Result<RateLimiter, String> {
        let handle = RedisHandle::new(url, opts.redis_timeout)
            .map_err(|_| "invalid Redis URL for rate limits".to_string())?;
        Ok(Self::on_redis(handle, opts))
    }

    /// A limiter on an existing Redis handle (the proxy shares the router's: one pool and one
    /// breaker), its calls bounded by `opts.redis_timeout`, with this process's memory as the
    /// fallback.
    pub fn on_redis(handle: RedisHandle, opts: RateLimitOptions) -> RateLimiter {
        let redis = RedisLimits::new(handle.with_timeout(opts.redis_timeout));
        Self::build(opts, Some(redis))
    }

    fn build(opts: RateLimitOptions, redis: Option<RedisLimits>) -> RateLimiter {
        RateLimiter {
            inner: Arc::new(Inner {
                opts,
                memory: Memory::default(),
                redis,
            }),
        }
    }

    /// The Redis handle the limiter runs on, if any.
    pub fn redis_handle(&self) -> Option<&RedisHandle> {
        self.inner.redis.as_ref().map(RedisLimits::handle)
    }

    /// `"redis"` or `"memory"`.
    pub fn backend(&self) -> &'static str {
        if self.inner.redis.is_some() {
            "redis"
        } else {
            "memory"
        }
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.inner.opts.window
    }

    fn window_ms(&self) -> u64 {
        (self.inner.opts.window.as_millis() as u64).max(1)
    }

    /// Checks every descriptor and, when none is over its limit, reserves the request on all
    /// of them at once. Refused requests change nothing. Descriptors without limits are
    /// ignored.
    pub async fn acquire(&self, descriptors: Vec<Descriptor>) -> Result<Permit, RateLimited> {
        let descriptors: Vec<Descriptor> = descriptors
            .into_iter()
            .filter(|d| !d.limits.is_empty())
            .collect();
        if descriptors.is_empty() {
            return Ok(Permit::empty());
        }
        let member = request_member();
        let mut on_redis = false;
        let mut outcome = None;
        if let Some(redis) = &self.inner.redis {
            // Fails at once while the breaker is open; a failure opens it (and is logged).
            let r = redis
                .acquire(&self.inner.opts, &descriptors, &member, self.window_ms())
                .await;
            if let Ok(o) = r {
                on_redis = true;
                outcome = Some(o);
            }
        }
        let outcome = match outcome {
            Some(o) => o,
            None => self.inner.memory.acquire(
                &descriptors,
                self.inner.opts.clock.now_ms(),
                self.window_ms(),
            ),
        };
        match outcome {
            Outcome::Refused {
                index,
                kind,
                current,
                reset_ms,
            } => {
                let d = &descriptors[index.min(descriptors.len() - 1)];
                let retry_after = match kind {
                    LimitKind::Parallel => Duration::from_secs(1),
                    _ => Duration::from_millis(reset_ms.max(1)),
                };
                Err(RateLimited {
                    scope: d.scope,
                    label: d.label.clone(),
                    kind,
                    limit: d.limits.get(kind).unwrap_or(0),
                    current,
                    retry_after,
                })
            }
            Outcome::Admitted { reset_ms, counts } => {
                let mut statuses = Vec::new();
                for (d, c) in descriptors.iter().zip(&counts) {
                    for (kind, used) in [
                        (LimitKind::Requests, c[0]),
                        (LimitKind::Tokens, c[1]),
                        (LimitKind::Parallel, c[2]),
                    ] {
                        if let Some(limit) = d.limits.get(kind) {
                            statuses.push(LimitStatus {
                                scope: d.scope,
                                kind,
                                limit,
                                used,
                                remaining: limit.saturating_sub(used),
                            });
                        }
                    }
                }
                Ok(Permit {
                    limiter: Some(self.clone()),
                    descriptors,
                    member,
                    on_redis,
                    statuses,
                    reset_after: Duration::from_millis(reset_ms),
                    done: false,
                })
            }
        }
    }

    /// Charges `tokens` and frees the permit's in-flight slots. Slots are freed where they
    /// were taken; tokens go to Redis when it answers, else to this replica's counters.
    async fn finish(&self, p: &Permit, tokens: u64) {
        let n = p.descriptors.len();
        let charge: Vec<bool> = p
            .descriptors
            .iter()
            .map(|d| d.limits.tpm.is_some() && tokens > 0)
            .collect();
        let release: Vec<bool> = p
            .descriptors
            .iter()
            .map(|d| d.limits.max_parallel.is_some())
            .collect();
        let any_charge = charge.iter().any(|c| *c);
        let any_release = release.iter().any(|r| *r);
        let now = self.inner.opts.clock.now_ms();
        let window = self.window_ms();
        let none = vec![false; n];
        if !p.on_redis {
            if any_release {
                self.inner
                    .memory
                    .finish(&p.descriptors, &release, &none, 0, now, window);
            }
            if !any_charge {
                return;
            }
        } else if !any_charge && !any_release {
            return;
        }
        let redis_release = if p.on_redis { release } else { none.clone() };
        if let Some(redis) = &self.inner.redis {
            let r = redis
                .finish(
                    &self.inner.opts,
                    &p.descriptors,
                    &p.member,
                    tokens,
                    &charge,
                    &redis_release,
                    window,
                    true,
                )
                .await;
            match r {
                Ok(()) => return,
                Err(RedisError::Unavailable) if p.on_redis && any_release => {
                    // Redis was marked down after this permit was counted there: try to free
                    // its slots in the background, past the breaker (the lease frees them
                    // otherwise).
                    if let Ok(handle) = tokio::runtime::Handle::try_current() {
                        let limiter = self.clone();
                        let descriptors = p.descriptors.clone();
                        let member = p.member.clone();
                        handle.spawn(async move {
                            if let Some(redis) = &limiter.inner.redis {
                                let none = vec![false; descriptors.len()];
                                let _ = redis
                                    .finish(
                                        &limiter.inner.opts,
                                        &descriptors,
                                        &member,
                                        0,
                                        &none,
                                        &redis_release,
                                        window,
                                        false,
                                    )
                                    .await;
                            }
                        });
                    }
                }
                Err(_) => {}
            }
        }
        if any_charge {
            // Redis is down: the tokens count on this replica.
            self.inner
                .memory
                .finish(&p.descriptors, &none, &charge, tokens, now, window);
        }
    }

    /// Frees a permit's slots without charging tokens, from `Drop` (no await possible).
    fn release_detached(&self, p: &mut Permit) {
        if !p.on_redis {
            let release: Vec<bool> = p
                .descriptors
                .iter()
                .map(|d| d.limits.max_parallel.is_some())
                .collect();
            let none = vec![false; release.len()];
            self.inner.memory.finish(
                &p.descriptors,
                &release,
                &none,
                0,
                self.inner.opts.clock.now_ms(),
                self.window_ms(),
            );
            return;
        }
        if !p
            .descriptors
            .iter()
            .any(|d| d.limits.max_parallel.is_some())
        {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return; // No runtime: the lease frees the slot.
        };
        let detached = Permit {
            limiter: None,
            descriptors: std::mem::take(&mut p.descriptors),
            member: std::mem::take(&mut p.member),
            on_redis: true,
            statuses: Vec::new(),
            reset_after: Duration::ZERO,
            done: true,
        };
        let limiter = self.clone();
        handle.spawn(async move { limiter.finish(&detached, 0).await });
    }
}

/// A random id for this request's in-flight entries.
fn request_member() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// An admitted request's reservation. [`Permit::finish`] charges tokens and frees the
/// in-flight slots; dropping it frees them without charging.
pub struct Permit {
    limiter: Option<RateLimiter>,
    descriptors: Vec<Descriptor>,
    member: String,
    on_redis: bool,
    statuses: Vec<LimitStatus>,
    reset_after: Duration,
    done: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("statuses", &self.statuses)
            .field("on_redis", &self.on_redis)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Permit {
    /// A permit that limits nothing.
    pub fn empty() -> Permit {
        Permit {
            limiter: None,
            descriptors: Vec::new(),
            member: String::new(),
            on_redis: false,
            statuses: Vec::new(),
            reset_after: Duration::ZERO,
            done: true,
        }
    }

    /// Every limit that applied, after this request was counted.
    pub fn statuses(&self) -> &[LimitStatus] {
        &self.statuses
    }

    /// Time until the current window resets.
    pub fn reset_after(&self) -> Duration {
        self.reset_after
    }

    /// Whether the permit was counted on Redis (`false`: in this replica's memory).
    pub fn on_redis(&self) -> bool {
        self.on_redis
    }

    /// Charges the call's `tokens` to every descriptor with a tpm limit and frees the
    /// in-flight slots.
    pub async fn finish(mut self, tokens: u64) {
        self.done = true;
        if let Some(limiter) = self.limiter.take() {
            limiter.finish(&self, tokens).await;
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if let Some(limiter) = self.limiter.take() {
            limiter.release_detached(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_limit() {
        let e = RateLimited {
            scope: Scope::ModelPerKey,
            label: "key sk-...abcd model gpt-4o".into(),
            kind: LimitKind::Tokens,
            limit: 100,
            current: 120,
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(e.limit_name(), "model_tpm_limit");
        assert_eq!(
            e.to_string(),
            "Rate limit exceeded for key sk-...abcd model gpt-4o: model_tpm_limit 100 (used 120 \
             this window; resets in 2s)."
        );
    }
}
