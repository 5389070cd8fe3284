//! The Redis [`StateStore`]: counters updated by one Lua script (INCRBY plus an expiry when the
//! key has none), marks as `SET key 1 PX ttl` read back with `PTTL`, all through a
//! deadpool-redis pool, each call bounded by a short timeout so a slow Redis never holds a
//! request (the breaker in `state.rs` takes over).
//!
//! Keys live under `litellm_rs:router:` so they never collide with a LiteLLM deployment or a
//! response cache on the same Redis.

use std::time::Duration;

use deadpool_redis::redis::{self, Script};
use deadpool_redis::{Config, Pool, Runtime};
use futures::future::BoxFuture;

use crate::state::{StateError, StateStore};

/// Prefix of every key this store writes.
pub const KEY_PREFIX: &str = "litellm_rs:router:";

/// Default bound on one Redis call, connection checkout included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);

const INCR_SCRIPT: &str = r"
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
";

/// Router state on Redis.
pub struct RedisStore {
    pool: Pool,
    timeout: Duration,
    incr: Script,
    /// The URL without its password, for logs.
    display: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.display)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
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

impl RedisStore {
    /// A store over `url` (`redis://[:password@]host:port[/db]`). Connects lazily: a Redis that
    /// is down at start-up does not stop the router from starting (LiteLLM #3400).
    pub fn new(url: &str, timeout: Duration) -> Result<Self, StateError> {
        let mut cfg = Config::from_url(url);
        let mut pool_cfg = deadpool_redis::PoolConfig::new(32);
        pool_cfg.timeouts.wait = Some(timeout);
        pool_cfg.timeouts.create = Some(timeout);
        pool_cfg.timeouts.recycle = Some(timeout);
        cfg.pool = Some(pool_cfg);
        let display = redact_url(url);
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| StateError(format!("invalid Redis URL {display}: {e}")))?;
        Ok(RedisStore {
            pool,
            timeout,
            incr: Script::new(INCR_SCRIPT),
            display,
        })
    }

    fn key(k: &str) -> String {
        format!("{KEY_PREFIX}{k}")
    }

    async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, StateError>>,
    ) -> Result<T, StateError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| StateError(format!("Redis call timed out after {:?}", self.timeout)))?
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, StateError> {
        self.pool
            .get()
            .await
            .map_err(|e| StateError(format!("Redis connection failed: {e}")))
    }
}

fn redis_err(e: redis::RedisError) -> StateError {
    StateError(format!("Redis error: {e}"))
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
        Box::pin(self.bounded(async move {
            let mut conn = self.conn().await?;
            self.incr
                .key(Self::key(key))
                .arg(delta)
                .arg(millis(ttl))
                .invoke_async::<i64>(&mut conn)
                .await
                .map_err(redis_err)
        }))
    }

    fn get<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<i64>, StateError>> {
        Box::pin(self.bounded(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.conn().await?;
            let full: Vec<String> = keys.iter().map(|k| Self::key(k)).collect();
            let values: Vec<Option<i64>> = redis::cmd("MGET")
                .arg(&full)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            Ok(values.into_iter().map(|v| v.unwrap_or(0)).collect())
        }))
    }

    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(self.bounded(async move {
            let mut conn = self.conn().await?;
            redis::cmd("SET")
                .arg(Self::key(key))
                .arg(1)
                .arg("PX")
                .arg(millis(ttl))
                .query_async::<()>(&mut conn)
                .await
                .map_err(redis_err)
        }))
    }

    fn marked<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Duration>>, StateError>> {
        Box::pin(self.bounded(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.conn().await?;
            let mut pipe = redis::pipe();
            for k in keys {
                pipe.cmd("PTTL").arg(Self::key(k));
            }
            let ttls: Vec<i64> = pipe.query_async(&mut conn).await.map_err(redis_err)?;
            Ok(ttls
                .into_iter()
                .map(|ms| (ms > 0).then(|| Duration::from_millis(ms as u64)))
                .collect())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
