//! The rate limiter on Redis: the two Lua scripts (check all then reserve all; charge tokens
//! and free slots) and their calls, through the shared [`RedisHandle`] (its timeout and
//! breaker). The key layout is in the parent module's docs.

use deadpool_redis::redis::Script;
use litellm_router::{RedisError, RedisHandle, RedisUse};

use super::{Descriptor, LimitKind, Outcome, RateLimitOptions};

/// The Lua that sets `now` (milliseconds) from ARGV[1], or from Redis TIME when it is negative;
/// both scripts open with it.
macro_rules! lua_now {
    () => {
        r"local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"
    };
}

/// Check all descriptors, then reserve on all (see the module docs for the layout).
/// ARGV: now_ms (-1: Redis TIME), window_ms, lease_ms, member, then per descriptor
/// rpm, tpm, max_parallel (-1: none). KEYS: per descriptor its window hash and in-flight set.
/// Returns {0, index, kind, current, reset_ms} or {1, reset_ms, req, tok, inflight, ...}.
const ACQUIRE_SCRIPT: &str = concat!(
    "\n",
    lua_now!(),
    r"local win = tonumber(ARGV[2])
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
"
);

/// Charge tokens to the current window and free in-flight slots.
/// ARGV: now_ms (-1: Redis TIME), window_ms, member, tokens, then per descriptor
/// charge (1/0), release (1/0). KEYS as for the acquire script.
const FINISH_SCRIPT: &str = concat!(
    "\n",
    lua_now!(),
    r"local win = tonumber(ARGV[2])
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
"
);

/// How the limiter names itself in the log lines of a Redis outage.
const RATE_LIMITS_USE: RedisUse = RedisUse {
    down: "Redis is unavailable for rate limits: enforcing them on this replica's own counters \
           until it answers again",
    up: "Redis answers again: rate limits are shared across replicas again",
};

/// The limiter's Redis side: the shared handle (pool, timeout, breaker) and the two scripts.
pub(super) struct RedisLimits {
    redis: RedisHandle,
    acquire: Script,
    finish: Script,
}

impl RedisLimits {
    pub(super) fn new(redis: RedisHandle) -> RedisLimits {
        RedisLimits {
            redis,
            acquire: Script::new(ACQUIRE_SCRIPT),
            finish: Script::new(FINISH_SCRIPT),
        }
    }

    pub(super) fn handle(&self) -> &RedisHandle {
        &self.redis
    }

    fn keys(prefix: &str, d: &Descriptor) -> [String; 2] {
        let tag = format!("{prefix}{{{}}}", d.counter());
        [format!("{tag}:window"), format!("{tag}:inflight")]
    }

    /// Runs the acquire script under the breaker: an error (the breaker open included) means
    /// "count on this replica".
    pub(super) async fn acquire(
        &self,
        opts: &RateLimitOptions,
        descriptors: &[Descriptor],
        member: &str,
        window_ms: u64,
    ) -> Result<Outcome, RedisError> {
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
        let n = descriptors.len();
        self.redis
            .run(&RATE_LIMITS_USE, |mut conn| async move {
                let raw: Vec<i64> = inv.invoke_async(&mut conn).await?;
                // An answer we cannot read counts as a failure, as a Redis error does.
                parse_acquire(&raw, n).map_err(RedisError::Command)
            })
            .await
    }

    /// Runs the finish script: under the breaker (`guarded`), or past it (freeing slots of a
    /// permit counted on Redis after the breaker opened).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn finish(
        &self,
        opts: &RateLimitOptions,
        descriptors: &[Descriptor],
        member: &str,
        tokens: u64,
        charge: &[bool],
        release: &[bool],
        window_ms: u64,
        guarded: bool,
    ) -> Result<(), RedisError> {
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
        let call = |mut conn: deadpool_redis::Connection| async move {
            inv.invoke_async::<i64>(&mut conn).await?;
            Ok::<(), RedisError>(())
        };
        if guarded {
            self.redis.run(&RATE_LIMITS_USE, call).await
        } else {
            self.redis.bounded(call).await
        }
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
