//! One handle per Redis server: [`RedisHandle`] owns the deadpool-redis pool, the bound on one
//! call (connection checkout included) and the circuit [`Breaker`], and is shared by every user
//! of that Redis in a process: the router's state (`state.rs`, `redis_store.rs`), the rate
//! limiter (`litellm-auth`) and the proxy's response cache.
//!
//! [`RedisHandle::run`] runs one command or script under the timeout and the breaker: while the
//! breaker is open nothing is sent and the call fails at once ([`RedisError::Unavailable`]); a
//! failure (checkout, command, timeout, or an answer the caller cannot read) opens it for
//! [`BREAKER_OPEN_FOR`], after which Redis is tried again. Each caller falls back to local
//! state on an error, so Redis never fails a request. An outage is logged once, in the words of
//! the user that met it first ([`RedisUse`]), and its end once.
//!
//! [`RedisHandle::bounded`] is the same call without the breaker (readiness probes, admin
//! deletes, freeing rate-limit slots counted on Redis): it neither waits for nor opens it.
//!
//! Connections are made lazily: a Redis that is down at start-up does not stop the process
//! (LiteLLM #3400).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_redis::{Config, Connection, Pool, Runtime};
use tokio::time::Instant;

/// Default bound on one Redis call, connection checkout included (`redis_timeout`: 0.2 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);

/// How long the breaker keeps Redis out of the request path after a failure.
pub const BREAKER_OPEN_FOR: Duration = Duration::from_secs(5);

/// Connections in one pool, per user of it.
pub const POOL_SIZE: usize = 32;

/// A failed Redis call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisError {
    /// The breaker is open after a recent failure; nothing was sent.
    #[error("Redis is skipped for {BREAKER_OPEN_FOR:?} after a failure")]
    Unavailable,
    /// No answer within the bound.
    #[error("Redis call timed out after {0:?}")]
    Timeout(Duration),
    /// No connection from the pool.
    #[error("Redis connection failed: {0}")]
    Connection(String),
    /// Redis answered an error, or an answer the caller could not read.
    #[error("Redis error: {0}")]
    Command(String),
}

impl From<deadpool_redis::redis::RedisError> for RedisError {
    fn from(e: deadpool_redis::redis::RedisError) -> Self {
        RedisError::Command(e.to_string())
    }
}

/// Who uses a Redis, for the log lines of an outage: what is logged when it starts and when it
/// ends (each once per outage).
#[derive(Debug, Clone, Copy)]
pub struct RedisUse {
    pub down: &'static str,
    pub up: &'static str,
}

/// `url` with any password replaced by `****`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:****{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Keeps a failing remote store out of the request path for [`BREAKER_OPEN_FOR`] after each
/// failure. One per Redis server (inside its [`RedisHandle`]); `RouterState` makes its own for a
/// remote store that is not Redis.
#[derive(Debug)]
pub struct Breaker {
    open_until: Mutex<Option<Instant>>,
    /// Whether the current outage was logged (so it is logged once).
    down_logged: AtomicBool,
    /// What the log lines name (a redacted URL, or a store kind).
    label: String,
}

impl Breaker {
    /// A closed breaker; `label` names the store in log lines.
    pub fn new(label: impl Into<String>) -> Self {
        Breaker {
            open_until: Mutex::new(None),
            down_logged: AtomicBool::new(false),
            label: label.into(),
        }
    }

    /// Whether the store must not be tried now.
    pub fn is_open(&self) -> bool {
        let guard = self.open_until.lock().unwrap_or_else(|p| p.into_inner());
        guard.is_some_and(|t| Instant::now() < t)
    }

    /// Records a failure: opens the breaker and logs the outage unless it was logged already.
    pub fn failed(&self, user: &RedisUse, error: &dyn std::fmt::Display) {
        *self.open_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + BREAKER_OPEN_FOR);
        if !self.down_logged.swap(true, Ordering::SeqCst) {
            tracing::warn!(store = %self.label, %error, "{}", user.down);
        }
    }

    /// Records a success: logs the end of a logged outage.
    pub fn succeeded(&self, user: &RedisUse) {
        if self.down_logged.swap(false, Ordering::SeqCst) {
            tracing::info!(store = %self.label, "{}", user.up);
        }
    }
}

struct Shared {
    pool: Pool,
    breaker: Arc<Breaker>,
    /// The URL without its password, for logs and errors.
    display: String,
}

/// One Redis server: pool, per-call bound and breaker. Cheap to clone; clones share the pool
/// and the breaker.
#[derive(Clone)]
pub struct RedisHandle {
    shared: Arc<Shared>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisHandle")
            .field("url", &self.shared.display)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisHandle {
    /// A handle on `url` (`redis://[:password@]host:port[/db]`) whose calls are bounded by
    /// `timeout` (pool checkout, connect and recycle too). Connects lazily. The error (an
    /// invalid URL) names the URL without its password.
    pub fn new(url: &str, timeout: Duration) -> Result<RedisHandle, String> {
        let mut cfg = Config::from_url(url);
        let mut pool_cfg = deadpool_redis::PoolConfig::new(POOL_SIZE);
        pool_cfg.timeouts.wait = Some(timeout);
        pool_cfg.timeouts.create = Some(timeout);
        pool_cfg.timeouts.recycle = Some(timeout);
        cfg.pool = Some(pool_cfg);
        let display = redact_url(url);
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| format!("invalid Redis URL {display}: {e}"))?;
        Ok(RedisHandle {
            shared: Arc::new(Shared {
                pool,
                breaker: Arc::new(Breaker::new(display.clone())),
                display,
            }),
            timeout,
        })
    }

    /// The same Redis (pool and breaker) with another bound on one call.
    pub fn with_timeout(&self, timeout: Duration) -> RedisHandle {
        RedisHandle {
            shared: self.shared.clone(),
            timeout,
        }
    }

    /// The same Redis for one more user (the proxy's rate limiter or response cache joining the
    /// router's handle): the pool may grow by another [`POOL_SIZE`] connections, so each user
    /// keeps the capacity a pool of its own gave it. Connections are still made on demand.
    pub fn share(&self) -> RedisHandle {
        let pool = &self.shared.pool;
        pool.resize(pool.status().max_size + POOL_SIZE);
        self.clone()
    }

    /// The most connections the pool may hold.
    pub fn max_connections(&self) -> usize {
        self.shared.pool.status().max_size
    }

    /// Whether two handles share one pool and breaker.
    pub fn same_as(&self, other: &RedisHandle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The bound on one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The URL without its password.
    pub fn display(&self) -> &str {
        &self.shared.display
    }

    /// The breaker every user of this Redis shares.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.shared.breaker
    }

    /// Whether Redis may be tried now (the breaker is closed).
    pub fn available(&self) -> bool {
        !self.shared.breaker.is_open()
    }

    /// Runs `call` on a pooled connection under the bound, without the breaker.
    pub async fn bounded<T, F, Fut>(&self, call: F) -> Result<T, RedisError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let timeout = self.timeout;
        let work = async {
            let conn = self
                .shared
                .pool
                .get()
                .await
                .map_err(|e| RedisError::Connection(e.to_string()))?;
            call(conn).await
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| RedisError::Timeout(timeout))?
    }

    /// Runs `call` under the bound and the breaker: [`RedisError::Unavailable`] at once while it
    /// is open; a failure opens it (logged once per outage in `user`'s words).
    pub async fn run<T, F, Fut>(&self, user: &RedisUse, call: F) -> Result<T, RedisError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        if !self.available() {
            return Err(RedisError::Unavailable);
        }
        let r = self.bounded(call).await;
        match &r {
            Ok(_) => self.shared.breaker.succeeded(user),
            Err(e) => self.shared.breaker.failed(user, e),
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USE: RedisUse = RedisUse {
        down: "test down",
        up: "test up",
    };

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:****@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("rediss://default:pw@host:6380"),
            "rediss://default:****@host:6380"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }

    #[tokio::test]
    async fn a_failure_opens_the_breaker_shared_by_every_clone() {
        let h = RedisHandle::new("redis://127.0.0.1:1", Duration::from_millis(300))
            .unwrap_or_else(|e| panic!("{e}"));
        let other = h.with_timeout(Duration::from_millis(100)).share();
        assert!(h.same_as(&other));
        assert_eq!(
            h.max_connections(),
            2 * POOL_SIZE,
            "one pool, sized for two users"
        );
        let r: Result<(), _> = h.run(&USE, |_conn| async { Ok(()) }).await;
        assert!(r.is_err(), "nothing listens on port 1");
        assert!(!other.available(), "the breaker is shared");
        let r: Result<(), _> = other.run(&USE, |_conn| async { Ok(()) }).await;
        assert_eq!(r, Err(RedisError::Unavailable));
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_closes_after_its_time() {
        let b = Breaker::new("test");
        b.failed(&USE, &"refused");
        assert!(b.is_open());
        tokio::time::advance(BREAKER_OPEN_FOR).await;
        assert!(!b.is_open());
    }
}
