//! Deployment cooldowns: a deployment that keeps failing is taken out of rotation for
//! `cooldown_time` seconds, so requests stop paying for a dead upstream.
//!
//! Rules (LiteLLM's `_is_cooldown_required` / `_should_cooldown_deployment`, with two gaps fixed
//! on purpose, see docs/routing.md):
//! - errors that count: rate limit (429), authentication (401), not found (404), timeout (408),
//!   and every 5xx-class kind including connection failures (LiteLLM skips connection errors; a
//!   refused connection is the clearest sign of an outage, so we count it);
//! - in a group with several deployments, a 429, 401 or 404 cools the deployment down at once;
//! - otherwise a deployment is cooled down when its failures within the current minute exceed
//!   `allowed_fails` (default 3) — in single-deployment groups too (LiteLLM #40405: it never
//!   cooled those, so every request in an outage paid all its retries);
//! - every failed attempt counts, retries and fallbacks included (LiteLLM #32574).
//!
//! The state is in memory, behind this one type; sharing it across replicas through Redis is the
//! next step (the router issue).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use litellm_core::ErrorKind;

/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    fails: u32,
    until: Option<Instant>,
}

/// Cooldown state of every deployment.
#[derive(Debug)]
pub(crate) struct Cooldowns {
    state: Mutex<HashMap<String, Entry>>,
    allowed_fails: u32,
    default_time: Duration,
    disabled: bool,
}

impl Cooldowns {
    pub(crate) fn new(allowed_fails: u32, default_time: Duration, disabled: bool) -> Self {
        Cooldowns {
            state: Mutex::new(HashMap::new()),
            allowed_fails,
            default_time,
            disabled,
        }
    }

    /// How long `id` stays cooled down, or `None` when it may take traffic.
    pub(crate) fn remaining(&self, id: &str, now: Instant) -> Option<Duration> {
        if self.disabled {
            return None;
        }
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .get(id)
            .and_then(|e| e.until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Whether a failure of this kind counts toward a cooldown.
    pub(crate) fn counts(kind: ErrorKind) -> bool {
        matches!(
            kind,
            ErrorKind::RateLimited
                | ErrorKind::Authentication
                | ErrorKind::NotFound
                | ErrorKind::Timeout
                | ErrorKind::ApiConnection
                | ErrorKind::ServiceUnavailable
                | ErrorKind::InternalServer
        )
    }

    /// Records a failed attempt on `id`; returns whether it was put in cooldown by it.
    /// `cooldown_time` is the deployment's own, when it sets one.
    pub(crate) fn record_failure(
        &self,
        id: &str,
        kind: ErrorKind,
        multi_deployment_group: bool,
        cooldown_time: Option<Duration>,
        now: Instant,
    ) -> bool {
        if self.disabled || !Self::counts(kind) {
            return false;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let entry = state.entry(id.to_string()).or_insert(Entry {
            window_start: now,
            fails: 0,
            until: None,
        });
        if now.duration_since(entry.window_start) >= WINDOW {
            entry.window_start = now;
            entry.fails = 0;
        }
        entry.fails += 1;
        let immediate = multi_deployment_group
            && matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Authentication | ErrorKind::NotFound
            );
        if immediate || entry.fails > self.allowed_fails {
            entry.until = Some(now + cooldown_time.unwrap_or(self.default_time));
            entry.fails = 0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cd() -> Cooldowns {
        Cooldowns::new(2, Duration::from_secs(5), false)
    }

    #[test]
    fn failures_beyond_allowed_fails_within_a_minute_cool_a_deployment_down() {
        let c = cd();
        let t = Instant::now();
        for i in 0..2 {
            assert!(!c.record_failure("d", ErrorKind::InternalServer, false, None, t));
            assert_eq!(c.remaining("d", t), None, "failure {i} is allowed");
        }
        assert!(c.record_failure("d", ErrorKind::InternalServer, false, None, t));
        assert_eq!(c.remaining("d", t), Some(Duration::from_secs(5)));
        assert_eq!(
            c.remaining("d", t + Duration::from_secs(5)),
            None,
            "the cooldown ends"
        );
    }

    #[test]
    fn the_count_restarts_every_minute() {
        let c = cd();
        let t = Instant::now();
        c.record_failure("d", ErrorKind::Timeout, false, None, t);
        c.record_failure("d", ErrorKind::Timeout, false, None, t);
        let later = t + Duration::from_secs(61);
        assert!(!c.record_failure("d", ErrorKind::Timeout, false, None, later));
        assert_eq!(c.remaining("d", later), None);
    }

    #[test]
    fn rate_limit_auth_and_not_found_cool_down_at_once_only_in_multi_deployment_groups() {
        for kind in [
            ErrorKind::RateLimited,
            ErrorKind::Authentication,
            ErrorKind::NotFound,
        ] {
            let c = cd();
            let t = Instant::now();
            assert!(c.record_failure("d", kind, true, None, t), "{kind:?}");
            let single = cd();
            assert!(
                !single.record_failure("d", kind, false, None, t),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn client_errors_never_count_and_disabled_cooldowns_never_apply() {
        let c = cd();
        let t = Instant::now();
        for _ in 0..10 {
            c.record_failure("d", ErrorKind::BadRequest, true, None, t);
            c.record_failure("d", ErrorKind::ContextWindowExceeded, true, None, t);
        }
        assert_eq!(c.remaining("d", t), None);
        let off = Cooldowns::new(0, Duration::from_secs(5), true);
        assert!(!off.record_failure("d", ErrorKind::RateLimited, true, None, t));
        assert_eq!(off.remaining("d", t), None);
    }

    #[test]
    fn a_deployment_cooldown_time_overrides_the_default() {
        let c = cd();
        let t = Instant::now();
        c.record_failure(
            "d",
            ErrorKind::RateLimited,
            true,
            Some(Duration::from_secs(30)),
            t,
        );
        assert_eq!(c.remaining("d", t), Some(Duration::from_secs(30)));
    }
}
