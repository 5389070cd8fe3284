//! The Redis [`StateStore`]: counters updated by one Lua script (INCRBY plus an expiry when the
//! key has none), marks as `SET key 1 PX ttl` read back with `PTTL`, all through the process's
//! [`RedisHandle`] for that server (`redis.rs`: pool, per-call timeout and breaker), each call
//! bounded by a short timeout so a slow Redis never holds a request (the handle's breaker,
//! applied by `RouterState`, takes over).
//!
//! Keys live under `litellm_rs:router:` so they never collide with a LiteLLM deployment or a
//! response cache on the same Redis.

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis::{self, Script};
use futures::future::BoxFuture;

use crate::config::RouterSettings;
use crate::deployment::secs_to_duration;
pub use crate::redis::{redact_url, DEFAULT_TIMEOUT};
use crate::redis::{RedisError, RedisHandle};
use crate::state::{RouterState, StateError, StateStore};
use litellm_core::{ErrorKind, LlmError};

/// Prefix of every key this store writes.
pub const KEY_PREFIX: &str = "litellm_rs:router:";

const INCR_SCRIPT: &str = r"
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
";

/// Router state on Redis, over a shared [`RedisHandle`]. Its calls are bounded by the handle's
/// timeout; the breaker is applied by `RouterState` (the handle's breaker).
pub struct RedisStore {
    redis: RedisHandle,
    incr: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.redis.display())
            .field("timeout", &self.redis.timeout())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store over `url` (`redis://[:password@]host:port[/db]`) on a handle of its own.
    /// Connects lazily: a Redis that is down at start-up does not stop the router from starting
    /// (LiteLLM #3400).
    pub fn new(url: &str, timeout: Duration) -> Result<Self, StateError> {
        RedisHandle::new(url, timeout)
            .map(Self::on)
            .map_err(StateError)
    }

    /// A store on `redis`.
    pub fn on(redis: RedisHandle) -> Self {
        RedisStore {
            redis,
            incr: Script::new(INCR_SCRIPT),
        }
    }

    /// Router state shared through a store on `redis`, behind the handle's breaker.
    pub fn shared_state(redis: RedisHandle) -> RouterState {
        RouterState::on_redis(Arc::new(Self::on(redis.clone())), redis)
    }

    fn key(k: &str) -> String {
        format!("{KEY_PREFIX}{k}")
    }
}

/// The router state `settings` ask for: shared through Redis (on a handle of its own, bounded
/// by `redis_timeout`) when `redis_url`/`redis_host` is set, else in memory.
pub fn state_for(settings: &RouterSettings) -> Result<RouterState, LlmError> {
    let Some(url) = settings.redis_connection_url() else {
        return Ok(RouterState::local());
    };
    let timeout = settings
        .redis_timeout
        .and_then(secs_to_duration)
        .unwrap_or(DEFAULT_TIMEOUT);
    let redis = RedisHandle::new(&url, timeout).map_err(|e| {
        let e = StateError(e);
        LlmError::client(ErrorKind::BadRequest, format!("router_settings: {e}"))
    })?;
    Ok(RedisStore::shared_state(redis))
}

fn state_err(e: RedisError) -> StateError {
    StateError(e.to_string())
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl StateStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn incr<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<i64, StateError>> {
        Box::pin(async move {
            self.redis
                .bounded(|mut conn| async move {
                    Ok(self
                        .incr
                        .key(Self::key(key))
                        .arg(delta)
                        .arg(millis(ttl))
                        .invoke_async::<i64>(&mut conn)
                        .await?)
                })
                .await
                .map_err(state_err)
        })
    }

    fn get<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<i64>, StateError>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let full: Vec<String> = keys.iter().map(|k| Self::key(k)).collect();
            let values: Vec<Option<i64>> = self
                .redis
                .bounded(|mut conn| async move {
                    Ok(redis::cmd("MGET").arg(&full).query_async(&mut conn).await?)
                })
                .await
                .map_err(state_err)?;
            Ok(values.into_iter().map(|v| v.unwrap_or(0)).collect())
        })
    }

    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            self.redis
                .bounded(|mut conn| async move {
                    Ok(redis::cmd("SET")
                        .arg(Self::key(key))
                        .arg(1)
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async::<()>(&mut conn)
                        .await?)
                })
                .await
                .map_err(state_err)
        })
    }

    fn marked<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Duration>>, StateError>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let mut pipe = redis::pipe();
            for k in keys {
                pipe.cmd("PTTL").arg(Self::key(k));
            }
            let ttls: Vec<i64> = self
                .redis
                .bounded(|mut conn| async move { Ok(pipe.query_async(&mut conn).await?) })
                .await
                .map_err(state_err)?;
            Ok(ttls
                .into_iter()
                .map(|ms| (ms > 0).then(|| Duration::from_millis(ms as u64)))
                .collect())
        })
    }
}
