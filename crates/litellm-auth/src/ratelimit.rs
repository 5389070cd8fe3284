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
//! Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use deadpool_redis::redis::{self, Script};
use deadpool_redis::{Config, Pool, Runtime};

/// Prefix of every Redis key the limiter writes.
pub const KEY_PREFIX: &str = "litellm_rs:ratelimit:";

/// The default window (LiteLLM's `LITELLM_RATE_LIMIT_WINDOW_SIZE`, 60 s).
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// How long an in-flight slot on Redis outlives a replica that never released it.
pub const DEFAULT_PARALLEL_LEASE: Duration = Duration::from_secs(600);

/// Default bound on one Redis call (the router's `redis_timeout` default).
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(200);

/// How long Redis is left alone after a failure.
const BREAKER: Duration = Duration::from_secs(5);

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
    /// Redis is not tried before this instant after a failure.
    down_until: Mutex<Option<Instant>>,
    /// A warning about Redis was logged and no recovery since.
    warned: AtomicBool,
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
        let redis = RedisLimits::new(url, opts.redis_timeout)?;
        Ok(Self::build(opts, Some(redis)))
    }

    fn build(opts: RateLimitOptions, redis: Option<RedisLimits>) -> RateLimiter {
        RateLimiter {
            inner: Arc::new(Inner {
                opts,
                memory: Memory::default(),
                redis,
                down_until: Mutex::new(None),
                warned: AtomicBool::new(false),
            }),
        }
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
        if let Some(redis) = self.redis_if_up() {
            let r = redis
                .acquire(&self.inner.opts, &descriptors, &member, self.window_ms())
                .await;
            match r {
                Ok(o) => {
                    self.redis_ok();
                    on_redis = true;
                    outcome = Some(o);
                }
                Err(e) => self.redis_failed(&e),
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

    fn redis_if_up(&self) -> Option<&RedisLimits> {
        let redis = self.inner.redis.as_ref()?;
        let down = self
            .inner
            .down_until
            .lock()
            .map(|g| g.is_some_and(|t| Instant::now() < t))
            .unwrap_or(false);
        (!down).then_some(redis)
    }

    fn redis_ok(&self) {
        if self.inner.warned.swap(false, Ordering::SeqCst) {
            tracing::info!("Redis answers again: rate limits are shared across replicas again");
        }
    }

    fn redis_failed(&self, e: &str) {
        if let Ok(mut g) = self.inner.down_until.lock() {
            *g = Some(Instant::now() + BREAKER);
        }
        if !self.inner.warned.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                error = %e,
                "Redis is unavailable for rate limits: enforcing them on this replica's own \
                 counters until it answers again"
            );
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
        match self.redis_if_up() {
            Some(redis) => {
                let r = redis
                    .finish(
                        &self.inner.opts,
                        &p.descriptors,
                        &p.member,
                        tokens,
                        &charge,
                        &redis_release,
                        window,
                    )
                    .await;
                match r {
                    Ok(()) => {
                        self.redis_ok();
                        return;
                    }
                    Err(e) => self.redis_failed(&e),
                }
            }
            None if p.on_redis && any_release => {
                // Redis was marked down after this permit was counted there: try to free its
                // slots in the background (the lease frees them otherwise).
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
                                )
                                .await;
                        }
                    });
                }
            }
            None => {}
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

/// This replica's counters.
#[derive(Default)]
struct Memory {
    map: Mutex<HashMap<String, MemEntry>>,
    ops: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct MemEntry {
    window: u64,
    requests: u64,
    tokens: u64,
    inflight: u64,
}

impl MemEntry {
    /// Moves the entry to window `wid` (counts of an older window are dropped).
    fn roll(&mut self, wid: u64) {
        if self.window != wid {
            self.window = wid;
            self.requests = 0;
            self.tokens = 0;
        }
    }
}

/// How many operations between sweeps of idle entries.
const SWEEP_EVERY: u64 = 4096;

impl Memory {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, MemEntry>> {
        // A panic while holding the lock cannot leave the counters inconsistent (every update
        // is a few integer writes), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn acquire(&self, descriptors: &[Descriptor], now_ms: u64, window_ms: u64) -> Outcome {
        let wid = now_ms / window_ms;
        let reset_ms = (wid + 1) * window_ms - now_ms;
        let mut map = self.lock();
        let mut counts = Vec::with_capacity(descriptors.len());
        for (i, d) in descriptors.iter().enumerate() {
            let mut e = map.get(&d.counter()).copied().unwrap_or_default();
            e.roll(wid);
            let l = d.limits;
            let refused = if l.rpm.is_some_and(|n| e.requests + 1 > n) {
                Some((LimitKind::Requests, e.requests))
            } else if l.tpm.is_some_and(|n| e.tokens >= n) {
                Some((LimitKind::Tokens, e.tokens))
            } else if l.max_parallel.is_some_and(|n| e.inflight + 1 > n) {
                Some((LimitKind::Parallel, e.inflight))
            } else {
                None
            };
            if let Some((kind, current)) = refused {
                return Outcome::Refused {
                    index: i,
                    kind,
                    current,
                    reset_ms,
                };
            }
            counts.push([e.requests, e.tokens, e.inflight]);
        }
        for (d, c) in descriptors.iter().zip(counts.iter_mut()) {
            let e = map.entry(d.counter()).or_default();
            e.roll(wid);
            if d.limits.rpm.is_some() {
                e.requests += 1;
                c[0] = e.requests;
            }
            if d.limits.max_parallel.is_some() {
                e.inflight += 1;
                c[2] = e.inflight;
            }
        }
        self.maybe_sweep(&mut map, wid);
        Outcome::Admitted { reset_ms, counts }
    }

    fn finish(
        &self,
        descriptors: &[Descriptor],
        release: &[bool],
        charge: &[bool],
        tokens: u64,
        now_ms: u64,
        window_ms: u64,
    ) {
        let wid = now_ms / window_ms;
        let mut map = self.lock();
        for (i, d) in descriptors.iter().enumerate() {
            let (rel, chg) = (release[i], charge[i] && tokens > 0);
            if !rel && !chg {
                continue;
            }
            let e = map.entry(d.counter()).or_default();
            if chg {
                e.roll(wid);
                e.tokens = e.tokens.saturating_add(tokens);
            }
            if rel {
                e.inflight = e.inflight.saturating_sub(1);
            }
        }
        self.maybe_sweep(&mut map, wid);
    }

    /// Drops entries of past windows with nothing in flight, now and then.
    fn maybe_sweep(&self, map: &mut HashMap<String, MemEntry>, wid: u64) {
        if self.ops.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            map.retain(|_, e| e.window >= wid || e.inflight > 0);
        }
    }
}

/// Check all descriptors, then reserve on all (see the module docs for the layout).
/// ARGV: now_ms (-1: Redis TIME), window_ms, lease_ms, member, then per descriptor
/// rpm, tpm, max_parallel (-1: none). KEYS: per descriptor its window hash and in-flight set.
/// Returns {0, index, kind, current, reset_ms} or {1, reset_ms, req, tok, inflight, ...}.
const ACQUIRE_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local win = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local member = ARGV[4]
local wid = math.floor(now / win)
local reset = (wid + 1) * win - now
local n = #KEYS / 2
local seen = {}
for i = 1, n do
  local h = KEYS[2 * i - 1]
  local z = KEYS[2 * i]
  local rpm = tonumber(ARGV[2 + 3 * i])
  local tpm = tonumber(ARGV[3 + 3 * i])
  local par = tonumber(ARGV[4 + 3 * i])
  local req, tok, inflight = 0, 0, 0
  local v = redis.call('HMGET', h, 'w', 'req', 'tok')
  if tonumber(v[1]) == wid then
    req = tonumber(v[2]) or 0
    tok = tonumber(v[3]) or 0
  end
  if par >= 0 then
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
    inflight = redis.call('ZCARD', z)
  end
  if rpm >= 0 and req + 1 > rpm then return {0, i, 1, req, reset} end
  if tpm >= 0 and tok >= tpm then return {0, i, 2, tok, reset} end
  if par >= 0 and inflight + 1 > par then return {0, i, 3, inflight, reset} end
  seen[i] = {req, tok, inflight}
end
local out = {1, reset}
for i = 1, n do
  local h = KEYS[2 * i - 1]
  local z = KEYS[2 * i]
  local rpm = tonumber(ARGV[2 + 3 * i])
  local par = tonumber(ARGV[4 + 3 * i])
  local s = seen[i]
  if rpm >= 0 then
    if tonumber(redis.call('HGET', h, 'w')) == wid then
      s[1] = redis.call('HINCRBY', h, 'req', 1)
    else
      redis.call('HSET', h, 'w', wid, 'req', 1, 'tok', 0)
      s[1] = 1
    end
    redis.call('PEXPIRE', h, win * 2)
  end
  if par >= 0 then
    redis.call('ZADD', z, now + lease, member)
    redis.call('PEXPIRE', z, lease)
    s[3] = s[3] + 1
  end
  out[#out + 1] = s[1]
  out[#out + 1] = s[2]
  out[#out + 1] = s[3]
end
return out
";

/// Charge tokens to the current window and free in-flight slots.
/// ARGV: now_ms (-1: Redis TIME), window_ms, member, tokens, then per descriptor
/// charge (1/0), release (1/0). KEYS as for the acquire script.
const FINISH_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local win = tonumber(ARGV[2])
local member = ARGV[3]
local tokens = ARGV[4]
local wid = math.floor(now / win)
for i = 1, #KEYS / 2 do
  local h = KEYS[2 * i - 1]
  local z = KEYS[2 * i]
  if ARGV[3 + 2 * i] == '1' then
    if tonumber(redis.call('HGET', h, 'w')) == wid then
      redis.call('HINCRBY', h, 'tok', tokens)
    else
      redis.call('HSET', h, 'w', wid, 'req', 0, 'tok', tokens)
    end
    redis.call('PEXPIRE', h, win * 2)
  end
  if ARGV[4 + 2 * i] == '1' then
    redis.call('ZREM', z, member)
  end
end
return 1
";

/// The limiter's Redis side.
struct RedisLimits {
    pool: Pool,
    timeout: Duration,
    acquire: Script,
    finish: Script,
}

impl RedisLimits {
    fn new(url: &str, timeout: Duration) -> Result<RedisLimits, String> {
        let mut cfg = Config::from_url(url);
        let mut pool_cfg = deadpool_redis::PoolConfig::new(32);
        pool_cfg.timeouts.wait = Some(timeout);
        pool_cfg.timeouts.create = Some(timeout);
        pool_cfg.timeouts.recycle = Some(timeout);
        cfg.pool = Some(pool_cfg);
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|_| "invalid Redis URL for rate limits".to_string())?;
        Ok(RedisLimits {
            pool,
            timeout,
            acquire: Script::new(ACQUIRE_SCRIPT),
            finish: Script::new(FINISH_SCRIPT),
        })
    }

    fn keys(prefix: &str, d: &Descriptor) -> [String; 2] {
        let tag = format!("{prefix}{{{}}}", d.counter());
        [format!("{tag}:window"), format!("{tag}:inflight")]
    }

    async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| format!("Redis call timed out after {:?}", self.timeout))?
    }

    async fn acquire(
        &self,
        opts: &RateLimitOptions,
        descriptors: &[Descriptor],
        member: &str,
        window_ms: u64,
    ) -> Result<Outcome, String> {
        let raw: Vec<i64> = self
            .bounded(async {
                let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
                let mut inv = self.acquire.prepare_invoke();
                inv.arg(opts.clock.redis_arg())
                    .arg(window_ms)
                    .arg((opts.parallel_lease.as_millis() as u64).max(1))
                    .arg(member);
                let arg = |v: Option<u64>| v.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
                for d in descriptors {
                    for k in Self::keys(&opts.key_prefix, d) {
                        inv.key(k);
                    }
                    inv.arg(arg(d.limits.rpm))
                        .arg(arg(d.limits.tpm))
                        .arg(arg(d.limits.max_parallel));
                }
                inv.invoke_async(&mut conn)
                    .await
                    .map_err(|e: redis::RedisError| e.to_string())
            })
            .await?;
        parse_acquire(&raw, descriptors.len())
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        opts: &RateLimitOptions,
        descriptors: &[Descriptor],
        member: &str,
        tokens: u64,
        charge: &[bool],
        release: &[bool],
        window_ms: u64,
    ) -> Result<(), String> {
        self.bounded(async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            let mut inv = self.finish.prepare_invoke();
            inv.arg(opts.clock.redis_arg())
                .arg(window_ms)
                .arg(member)
                .arg(tokens);
            let flag = |b: bool| if b { "1" } else { "0" };
            for (i, d) in descriptors.iter().enumerate() {
                for k in Self::keys(&opts.key_prefix, d) {
                    inv.key(k);
                }
                inv.arg(flag(charge[i])).arg(flag(release[i]));
            }
            inv.invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await
    }
}

/// Reads the acquire script's answer.
fn parse_acquire(raw: &[i64], n: usize) -> Result<Outcome, String> {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    match raw {
        [0, index, kind, current, reset] => {
            let kind = match kind {
                1 => LimitKind::Requests,
                2 => LimitKind::Tokens,
                _ => LimitKind::Parallel,
            };
            Ok(Outcome::Refused {
                index: usize::try_from(*index).unwrap_or(1).saturating_sub(1),
                kind,
                current: u(*current),
                reset_ms: u(*reset),
            })
        }
        [1, reset, rest @ ..] if rest.len() == 3 * n => Ok(Outcome::Admitted {
            reset_ms: u(*reset),
            counts: rest
                .chunks(3)
                .map(|c| [u(c[0]), u(c[1]), u(c[2])])
                .collect(),
        }),
        other => Err(format!("unexpected rate-limit script answer: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(scope: Scope, id: &str, limits: Limits) -> Descriptor {
        Descriptor {
            scope,
            id: id.into(),
            label: format!("{} {id}", scope.as_str()),
            limits,
        }
    }

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

    #[test]
    fn memory_counts_reserve_all_or_nothing() {
        let m = Memory::default();
        let a = d(
            Scope::Key,
            "k",
            Limits {
                rpm: Some(2),
                ..Limits::default()
            },
        );
        let b = d(
            Scope::Team,
            "t",
            Limits {
                rpm: Some(1),
                ..Limits::default()
            },
        );
        assert!(matches!(
            m.acquire(&[a.clone(), b.clone()], 0, 60_000),
            Outcome::Admitted { .. }
        ));
        // The team is full: the key's counter must not move.
        assert!(matches!(
            m.acquire(&[a.clone(), b.clone()], 10, 60_000),
            Outcome::Refused {
                index: 1,
                kind: LimitKind::Requests,
                current: 1,
                ..
            }
        ));
        match m.acquire(&[a], 20, 60_000) {
            Outcome::Admitted { counts, reset_ms } => {
                assert_eq!(counts, vec![[2, 0, 0]]);
                assert_eq!(reset_ms, 59_980);
            }
            Outcome::Refused { .. } => panic!("the refused request consumed quota"),
        }
    }

    #[test]
    fn script_answers_are_parsed_strictly() {
        assert!(parse_acquire(&[1, 5, 1, 0, 0], 1).is_ok());
        assert!(parse_acquire(&[1, 5, 1, 0], 1).is_err());
        assert!(matches!(
            parse_acquire(&[0, 2, 3, 4, 9], 2),
            Ok(Outcome::Refused {
                index: 1,
                kind: LimitKind::Parallel,
                current: 4,
                reset_ms: 9
            })
        ));
    }
}
