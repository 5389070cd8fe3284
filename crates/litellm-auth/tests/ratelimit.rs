//! The rate limiter without HTTP: rpm, tpm and parallel caps on the in-memory counters and on
//! a real Redis (127.0.0.1:6379, or `LITELLM_TEST_REDIS_URL`; every test uses its own key
//! prefix and deletes its keys), two limiters sharing one Redis as two replicas would, leases
//! that free a crashed replica's slots, and the fallback to local counters when Redis is down.
//! Time is a manual clock, so window boundaries are exact and nothing waits for a minute.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::time::Duration;

use deadpool_redis::redis;
use litellm_auth::ratelimit::Clock;
use litellm_auth::{
    Descriptor, LimitKind, Limits, RateLimitOptions, RateLimited, RateLimiter, Scope,
};

/// A window-aligned start time (plus 1 s), so the first window has 59 s left.
const T0: u64 = 1_700_000_040_000 + 1_000;

fn redis_url() -> String {
    std::env::var("LITELLM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn prefix() -> String {
    format!("litellm_rs_test:{}:", uuid::Uuid::new_v4().simple())
}

fn opts(clock: &Clock, prefix: &str) -> RateLimitOptions {
    RateLimitOptions {
        clock: clock.clone(),
        key_prefix: prefix.to_string(),
        redis_timeout: Duration::from_secs(2),
        ..RateLimitOptions::default()
    }
}

fn desc(
    scope: Scope,
    id: &str,
    rpm: Option<u64>,
    tpm: Option<u64>,
    par: Option<u64>,
) -> Descriptor {
    Descriptor {
        scope,
        id: id.to_string(),
        label: format!("{} {id}", scope.as_str()),
        limits: Limits {
            rpm,
            tpm,
            max_parallel: par,
        },
    }
}

/// Deletes every key under `prefix` when dropped.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug)]
enum Backend {
    Memory,
    Redis,
}

fn limiter(backend: Backend, clock: &Clock, prefix: &str) -> RateLimiter {
    match backend {
        Backend::Memory => RateLimiter::memory(opts(clock, prefix)),
        Backend::Redis => RateLimiter::redis(&redis_url(), opts(clock, prefix)).unwrap(),
    }
}

async fn refused(l: &RateLimiter, d: Vec<Descriptor>) -> RateLimited {
    l.acquire(d).await.expect_err("must be refused")
}

/// Runs a scenario on both backends.
macro_rules! both_backends {
    ($( async fn $name:ident($b:ident) $body:block )*) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn memory() {
                let $b = Backend::Memory;
                $body
            }

            #[tokio::test]
            async fn redis() {
                let $b = Backend::Redis;
                $body
            }
        }
    )*};
}

both_backends! {
    async fn rpm_is_enforced_per_window_and_refusals_consume_nothing(b) {
        let clock = Clock::manual(T0);
        let p = prefix();
        let _c = Cleanup(p.clone());
        let l = limiter(b, &clock, &p);
        let key = || desc(Scope::Key, "k1", Some(3), None, None);
        let team = || desc(Scope::Team, "t1", Some(1), None, None);

        let first = l.acquire(vec![key(), team()]).await.unwrap();
        assert_eq!(first.on_redis(), matches!(b, Backend::Redis));
        let s = first.statuses();
        assert_eq!((s[0].scope, s[0].kind, s[0].used, s[0].remaining), (Scope::Key, LimitKind::Requests, 1, 2));
        assert_eq!((s[1].scope, s[1].used, s[1].remaining), (Scope::Team, 1, 0));
        assert_eq!(first.reset_after(), Duration::from_secs(59));
        first.finish(0).await;

        // The team is full; the key's counter must not move because of the refusal.
        for _ in 0..3 {
            let e = refused(&l, vec![key(), team()]).await;
            assert_eq!((e.scope, e.kind, e.limit, e.current), (Scope::Team, LimitKind::Requests, 1, 1));
            assert_eq!(e.retry_after, Duration::from_secs(59));
            assert_eq!(e.limit_name(), "rpm_limit");
        }
        let second = l.acquire(vec![key()]).await.unwrap();
        assert_eq!(second.statuses()[0].used, 2, "refused requests consumed quota");
        let third = l.acquire(vec![key()]).await.unwrap();
        assert_eq!(third.statuses()[0].remaining, 0);
        clock.advance(Duration::from_secs(10));
        let e = refused(&l, vec![key()]).await;
        assert_eq!(e.retry_after, Duration::from_secs(49));
        assert!(e.to_string().starts_with("Rate limit exceeded for api_key k1: rpm_limit 3"), "{e}");

        // The next window starts empty.
        clock.advance(Duration::from_secs(49));
        let p = l.acquire(vec![key(), team()]).await.unwrap();
        assert_eq!(p.statuses()[0].used, 1);
        assert_eq!(p.reset_after(), Duration::from_secs(60));
    }

    async fn tpm_counts_tokens_charged_after_the_call(b) {
        let clock = Clock::manual(T0);
        let p = prefix();
        let _c = Cleanup(p.clone());
        let l = limiter(b, &clock, &p);
        let user = || desc(Scope::User, "alice", None, Some(100), None);
        let model = || desc(Scope::ModelPerKey, "k:gpt-4o", None, Some(1000), None);

        let first = l.acquire(vec![user(), model()]).await.unwrap();
        assert_eq!(first.statuses()[0].remaining, 100, "nothing charged yet");
        first.finish(60).await;
        let second = l.acquire(vec![user(), model()]).await.unwrap();
        assert_eq!(second.statuses()[0].used, 60);
        assert_eq!(second.statuses()[1].used, 60);
        second.finish(45).await;
        // 105 >= 100: refused, naming the user's tpm_limit; the model limit is not reached.
        let e = refused(&l, vec![user(), model()]).await;
        assert_eq!((e.scope, e.kind, e.current), (Scope::User, LimitKind::Tokens, 105));
        assert_eq!(e.limit_name(), "tpm_limit");
        // The model counter alone is still open, and a dropped permit charges nothing.
        drop(l.acquire(vec![model()]).await.unwrap());
        let m = l.acquire(vec![model()]).await.unwrap();
        assert_eq!(m.statuses()[0].used, 105);
        drop(m);

        clock.advance(Duration::from_secs(60));
        let p = l.acquire(vec![user()]).await.unwrap();
        assert_eq!(p.statuses()[0].used, 0, "a new window");
    }

    async fn parallel_slots_are_held_until_finish_or_drop(b) {
        let clock = Clock::manual(T0);
        let p = prefix();
        let _c = Cleanup(p.clone());
        let l = limiter(b, &clock, &p);
        let key = || desc(Scope::Key, "k2", None, None, Some(2));

        let a = l.acquire(vec![key()]).await.unwrap();
        let c = l.acquire(vec![key()]).await.unwrap();
        assert_eq!(c.statuses()[0].used, 2);
        let e = refused(&l, vec![key()]).await;
        assert_eq!((e.kind, e.limit, e.current), (LimitKind::Parallel, 2, 2));
        assert_eq!(e.retry_after, Duration::from_secs(1));
        assert_eq!(e.limit_name(), "max_parallel_requests");
        a.finish(0).await;
        let d = l.acquire(vec![key()]).await.unwrap();
        // A dropped permit frees its slot too (on Redis from a spawned task: poll for it).
        drop(c);
        drop(d);
        let mut freed = false;
        for _ in 0..200 {
            if let Ok(probe) = l.acquire(vec![key()]).await {
                freed = probe.statuses()[0].used == 1;
                probe.finish(0).await;
                if freed {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(freed, "dropped permits never released their slots");
    }
}

#[tokio::test]
async fn two_limiters_on_one_redis_share_one_limit() {
    let clock = Clock::manual(T0);
    let p = prefix();
    let _c = Cleanup(p.clone());
    let a = limiter(Backend::Redis, &clock, &p);
    let b = limiter(Backend::Redis, &clock, &p);
    let key = || desc(Scope::Key, "shared", Some(4), Some(100), Some(3));
    let mut held = Vec::new();
    for l in [&a, &b, &a] {
        held.push(l.acquire(vec![key()]).await.unwrap());
    }
    let e = refused(&b, vec![key()]).await;
    assert_eq!(
        e.kind,
        LimitKind::Parallel,
        "three in flight across replicas"
    );
    for permit in held {
        permit.finish(20).await;
    }
    let last = b.acquire(vec![key()]).await.unwrap();
    assert_eq!(last.statuses()[1].used, 60, "tokens from both replicas");
    last.finish(0).await;
    let e = refused(&a, vec![key()]).await;
    assert_eq!((e.kind, e.current), (LimitKind::Requests, 4));
}

#[tokio::test]
async fn a_crashed_replicas_slots_expire_with_their_lease() {
    let clock = Clock::manual(T0);
    let p = prefix();
    let _c = Cleanup(p.clone());
    let l = RateLimiter::redis(
        &redis_url(),
        RateLimitOptions {
            parallel_lease: Duration::from_secs(30),
            ..opts(&clock, &p)
        },
    )
    .unwrap();
    let key = || desc(Scope::Key, "crash", None, None, Some(1));
    // A permit that is never released, as if the replica holding it died.
    std::mem::forget(l.acquire(vec![key()]).await.unwrap());
    clock.advance(Duration::from_secs(29));
    assert_eq!(refused(&l, vec![key()]).await.kind, LimitKind::Parallel);
    clock.advance(Duration::from_secs(2));
    l.acquire(vec![key()]).await.unwrap().finish(0).await;
}

#[tokio::test]
async fn with_redis_down_limits_fall_back_to_this_replica() {
    let clock = Clock::manual(T0);
    let l = RateLimiter::redis(
        "redis://127.0.0.1:1",
        RateLimitOptions {
            redis_timeout: Duration::from_millis(300),
            ..opts(&clock, &prefix())
        },
    )
    .unwrap();
    assert_eq!(l.backend(), "redis");
    let key = || desc(Scope::Key, "down", Some(2), Some(10), Some(1));
    let first = l.acquire(vec![key()]).await.unwrap();
    assert!(!first.on_redis(), "counted locally");
    assert_eq!(refused(&l, vec![key()]).await.kind, LimitKind::Parallel);
    first.finish(4).await;
    let second = l.acquire(vec![key()]).await.unwrap();
    assert_eq!(second.statuses()[1].used, 4, "tokens counted locally");
    second.finish(0).await;
    assert_eq!(refused(&l, vec![key()]).await.kind, LimitKind::Requests);
}

#[tokio::test]
async fn descriptors_without_limits_are_free() {
    let l = RateLimiter::memory(RateLimitOptions::default());
    let permit = l
        .acquire(vec![desc(Scope::EndUser, "u", None, None, None)])
        .await
        .unwrap();
    assert!(permit.statuses().is_empty());
    let zero = desc(Scope::Key, "zero", Some(0), None, None);
    assert_eq!(refused(&l, vec![zero]).await.limit, 0, "rpm_limit 0 blocks");
}
