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
//! - `allowed_fails_policy` (`RateLimitErrorAllowedFails`, ...) gives a kind its own limit,
//!   counted on its own.
//!
//! The counts and marks live in [`RouterState`]: in memory, or shared by replicas through Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use litellm_core::{ErrorKind, LlmError};

use crate::state::RouterState;

/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(60);

/// The `allowed_fails_policy` / `retry_policy` class a kind is looked up under, most specific
/// first (a context-window error is also a bad request, as in LiteLLM's exception hierarchy).
pub(crate) fn policy_classes(kind: ErrorKind) -> &'static [&'static str] {
    match kind {
        ErrorKind::BadRequest => &["BadRequestError"],
        ErrorKind::ContextWindowExceeded => &["ContextWindowExceededError", "BadRequestError"],
        ErrorKind::ContentPolicyViolation => &["ContentPolicyViolationError", "BadRequestError"],
        ErrorKind::Authentication => &["AuthenticationError"],
        ErrorKind::PermissionDenied => &["PermissionDeniedError"],
        ErrorKind::NotFound => &["NotFoundError"],
        ErrorKind::RateLimited => &["RateLimitError"],
        ErrorKind::Timeout => &["TimeoutError"],
        ErrorKind::ApiConnection => &["APIConnectionError", "InternalServerError"],
        ErrorKind::ServiceUnavailable => &["ServiceUnavailableError", "InternalServerError"],
        ErrorKind::InternalServer => &["InternalServerError", "BadGatewayError"],
        ErrorKind::BudgetExceeded => &["BudgetExceededError"],
    }
}

/// Error classes a policy may name (with the `Retries` / `AllowedFails` suffix).
pub(crate) const POLICY_CLASSES: &[&str] = &[
    "BadRequestError",
    "ContextWindowExceededError",
    "ContentPolicyViolationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "RateLimitError",
    "TimeoutError",
    "APIConnectionError",
    "ServiceUnavailableError",
    "InternalServerError",
    "BadGatewayError",
];

/// Parses a policy map (`{"RateLimitErrorAllowedFails": 3}`) into class -> value; an unknown
/// key is an error naming it and the valid ones.
pub(crate) fn parse_policy(
    setting: &str,
    suffix: &str,
    map: &std::collections::BTreeMap<String, u32>,
    extra_keys: &[&str],
) -> Result<HashMap<&'static str, u32>, LlmError> {
    let mut out = HashMap::new();
    for (key, value) in map {
        if extra_keys.contains(&key.as_str()) {
            continue;
        }
        let class = key
            .strip_suffix(suffix)
            .and_then(|c| POLICY_CLASSES.iter().find(|k| **k == c));
        match class {
            Some(c) => {
                out.insert(*c, *value);
            }
            None => {
                let valid: Vec<String> = POLICY_CLASSES
                    .iter()
                    .map(|c| format!("{c}{suffix}"))
                    .chain(extra_keys.iter().map(|k| k.to_string()))
                    .collect();
                return Err(LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "router_settings.{setting}: unknown key '{key}'; expected one of {}",
                        valid.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Cooldown state of every deployment.
#[derive(Debug)]
pub(crate) struct Cooldowns {
    state: Arc<RouterState>,
    allowed_fails: u32,
    policy: HashMap<&'static str, u32>,
    default_time: Duration,
    disabled: bool,
}

/// The state key of a deployment's cooldown mark.
pub(crate) fn cooldown_key(id: &str) -> String {
    format!("cooldown:{id}")
}

impl Cooldowns {
    pub(crate) fn new(
        state: Arc<RouterState>,
        allowed_fails: u32,
        policy: HashMap<&'static str, u32>,
        default_time: Duration,
        disabled: bool,
    ) -> Self {
        Cooldowns {
            state,
            allowed_fails,
            policy,
            default_time,
            disabled,
        }
    }

    /// How long each deployment (by its [`cooldown_key`]) stays cooled down; `None` where it
    /// may take traffic.
    pub(crate) async fn remaining(&self, keys: &[String]) -> Vec<Option<Duration>> {
        if self.disabled {
            return vec![None; keys.len()];
        }
        self.state.marked(keys).await
    }

    /// The policy entry for `kind`, if the policy names its class.
    fn policy_for(&self, kind: ErrorKind) -> Option<(&'static str, u32)> {
        policy_classes(kind)
            .iter()
            .find_map(|c| self.policy.get(c).map(|v| (*c, *v)))
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
    pub(crate) async fn record_failure(
        &self,
        id: &str,
        kind: ErrorKind,
        multi_deployment_group: bool,
        cooldown_time: Option<Duration>,
    ) -> bool {
        if self.disabled {
            return false;
        }
        let policy = self.policy_for(kind);
        if policy.is_none() && !Self::counts(kind) {
            return false;
        }
        let (fails_key, allowed) = match policy {
            Some((class, allowed)) => (format!("fails:{id}:{class}"), allowed),
            None => (format!("fails:{id}"), self.allowed_fails),
        };
        let fails = self.state.incr(&fails_key, 1, WINDOW).await;
        let immediate = policy.is_none()
            && multi_deployment_group
            && matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Authentication | ErrorKind::NotFound
            );
        if immediate || fails > i64::from(allowed) {
            let time = cooldown_time.unwrap_or(self.default_time);
            if !time.is_zero() {
                self.state.mark(&cooldown_key(id), time).await;
            }
            // Start counting afresh once the cooldown is over.
            self.state.incr(&fails_key, -fails, WINDOW).await;
            !time.is_zero()
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cd() -> Cooldowns {
        Cooldowns::new(
            Arc::new(RouterState::local()),
            2,
            HashMap::new(),
            Duration::from_secs(5),
            false,
        )
    }

    async fn remaining(c: &Cooldowns) -> Option<Duration> {
        c.remaining(&[cooldown_key("d")]).await[0]
    }

    #[tokio::test(start_paused = true)]
    async fn failures_beyond_allowed_fails_within_a_minute_cool_a_deployment_down() {
        let c = cd();
        for i in 0..2 {
            assert!(
                !c.record_failure("d", ErrorKind::InternalServer, false, None)
                    .await
            );
            assert_eq!(remaining(&c).await, None, "failure {i} is allowed");
        }
        assert!(
            c.record_failure("d", ErrorKind::InternalServer, false, None)
                .await
        );
        assert_eq!(remaining(&c).await, Some(Duration::from_secs(5)));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(remaining(&c).await, None, "the cooldown ends");
    }

    #[tokio::test(start_paused = true)]
    async fn the_count_restarts_every_minute() {
        let c = cd();
        c.record_failure("d", ErrorKind::Timeout, false, None).await;
        c.record_failure("d", ErrorKind::Timeout, false, None).await;
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(!c.record_failure("d", ErrorKind::Timeout, false, None).await);
        assert_eq!(remaining(&c).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_auth_and_not_found_cool_down_at_once_only_in_multi_deployment_groups() {
        for kind in [
            ErrorKind::RateLimited,
            ErrorKind::Authentication,
            ErrorKind::NotFound,
        ] {
            assert!(cd().record_failure("d", kind, true, None).await, "{kind:?}");
            assert!(
                !cd().record_failure("d", kind, false, None).await,
                "{kind:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn client_errors_never_count_and_disabled_cooldowns_never_apply() {
        let c = cd();
        for _ in 0..10 {
            c.record_failure("d", ErrorKind::BadRequest, true, None)
                .await;
            c.record_failure("d", ErrorKind::ContextWindowExceeded, true, None)
                .await;
        }
        assert_eq!(remaining(&c).await, None);
        let off = Cooldowns::new(
            Arc::new(RouterState::local()),
            0,
            HashMap::new(),
            Duration::from_secs(5),
            true,
        );
        assert!(
            !off.record_failure("d", ErrorKind::RateLimited, true, None)
                .await
        );
        assert_eq!(remaining(&off).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deployment_cooldown_time_overrides_the_default() {
        let c = cd();
        c.record_failure(
            "d",
            ErrorKind::RateLimited,
            true,
            Some(Duration::from_secs(30)),
        )
        .await;
        assert_eq!(remaining(&c).await, Some(Duration::from_secs(30)));
    }

    #[tokio::test(start_paused = true)]
    async fn allowed_fails_policy_gives_a_kind_its_own_limit() {
        let policy = parse_policy(
            "allowed_fails_policy",
            "AllowedFails",
            &[
                ("RateLimitErrorAllowedFails".to_string(), 4),
                ("BadRequestErrorAllowedFails".to_string(), 0),
            ]
            .into_iter()
            .collect(),
            &[],
        )
        .unwrap_or_default();
        let c = Cooldowns::new(
            Arc::new(RouterState::local()),
            0,
            policy,
            Duration::from_secs(5),
            false,
        );
        // A 429 in a multi-deployment group no longer cools at once: it has 4 allowed fails.
        for _ in 0..4 {
            assert!(
                !c.record_failure("d", ErrorKind::RateLimited, true, None)
                    .await
            );
        }
        assert!(
            c.record_failure("d", ErrorKind::RateLimited, true, None)
                .await
        );
        // A kind the policy names counts even when it normally would not.
        assert!(
            c.record_failure("e", ErrorKind::BadRequest, true, None)
                .await
        );
    }

    #[test]
    fn unknown_policy_keys_are_rejected_with_the_valid_ones() {
        let map = [("RateLimitErrorRetriez".to_string(), 1)]
            .into_iter()
            .collect();
        let err = parse_policy("retry_policy", "Retries", &map, &["DefaultRetries"])
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("RateLimitErrorRetriez"), "{err}");
        assert!(err.contains("TimeoutErrorRetries"), "{err}");
    }
}
