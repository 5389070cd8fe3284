//! The response cache on Redis: entries under [`REDIS_PREFIX`](super::REDIS_PREFIX) as
//! `stored_at` (8 bytes, big endian) then the body, with a `PX` expiry, through the shared
//! [`RedisHandle`] (pool, timeout, breaker). Reads and writes go under the breaker (an error is a
//! miss or a dropped write); deletes and pings (admin routes, readiness) bypass it and report
//! their error.

use bytes::Bytes;
use deadpool_redis::redis::AsyncCommands;
use litellm_router::{RedisHandle, RedisUse};

use super::{Entry, REDIS_PREFIX};

/// How the cache names itself in the log lines of a Redis outage.
const CACHE_USE: RedisUse = RedisUse {
    down: "response cache: Redis unavailable; serving without the cache until it is back",
    up: "response cache: Redis is back",
};

/// The Redis store of the response cache.
pub(super) struct RedisCache {
    redis: RedisHandle,
}

impl RedisCache {
    pub(super) fn new(redis: RedisHandle) -> RedisCache {
        RedisCache { redis }
    }

    pub(super) fn handle(&self) -> &RedisHandle {
        &self.redis
    }

    /// The entry at `key`: `None` when absent, unreadable, or Redis fails (or is skipped).
    pub(super) async fn get(&self, key: &str) -> Option<Entry> {
        let k = format!("{REDIS_PREFIX}{key}");
        let v: Option<Vec<u8>> = self
            .redis
            .run(
                &CACHE_USE,
                |mut conn| async move { Ok(conn.get(&k).await?) },
            )
            .await
            .ok()?;
        decode_entry(&v?)
    }

    /// Stores `entry` with its TTL; a failure drops the write.
    pub(super) async fn set(&self, key: &str, entry: Entry) {
        let k = format!("{REDIS_PREFIX}{key}");
        let ttl_ms = (entry.ttl.as_millis() as u64).max(1);
        let value = encode_entry(&entry);
        let _ = self
            .redis
            .run(&CACHE_USE, |mut conn| async move {
                let _: () = conn.pset_ex(&k, value, ttl_ms).await?;
                Ok(())
            })
            .await;
    }

    /// Deletes `keys` (past the breaker); returns how many existed.
    pub(super) async fn delete(&self, keys: &[String]) -> Result<u64, String> {
        if keys.is_empty() {
            return Ok(0);
        }
        let ks: Vec<String> = keys.iter().map(|k| format!("{REDIS_PREFIX}{k}")).collect();
        self.redis
            .bounded(|mut conn| async move { Ok(conn.del::<_, u64>(&ks).await?) })
            .await
            .map_err(|e| format!("Redis ({}) error: {e}", self.redis.display()))
    }

    /// A PING (past the breaker).
    pub(super) async fn ping(&self) -> Result<(), String> {
        self.redis
            .bounded(|mut conn| async move {
                let _: String = deadpool_redis::redis::cmd("PING")
                    .query_async(&mut *conn)
                    .await?;
                Ok(())
            })
            .await
            .map_err(|e| format!("Redis ({}) error: {e}", self.redis.display()))
    }
}

/// `stored_at` (8 bytes, big endian) then the body.
fn encode_entry(e: &Entry) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + e.body.len());
    v.extend_from_slice(&e.stored_at.to_be_bytes());
    v.extend_from_slice(&e.body);
    v
}

fn decode_entry(v: &[u8]) -> Option<Entry> {
    if v.len() < 8 {
        return None;
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&v[..8]);
    Some(Entry {
        body: Bytes::copy_from_slice(&v[8..]),
        stored_at: u64::from_be_bytes(ts),
        ttl: std::time::Duration::ZERO,
    })
}
