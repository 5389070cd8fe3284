//! Rate limits on the request path: which limits apply to a caller (key, user, team, and the
//! key's per-model limits), the check every routed handler calls after auth, the 429 it
//! answers, and the `x-ratelimit-*` headers of an admitted call.
//!
//! [`check`] reserves the request on every applicable limit at once (or refuses it with
//! 429 `rate_limit_error` and `retry-after`, consuming nothing) and returns [`CallLimits`],
//! which the handler keeps until the call is over: [`CallLimits::finish`] charges the call's
//! tokens (total tokens, LiteLLM's default `token_rate_limit_type`) and frees the
//! `max_parallel_requests` slots; dropping it (an error, a cancelled request) frees the slots
//! without charging. Streams finish when the stream ends, or when the client goes away.
//!
//! Headers: LiteLLM v3's per-limit `x-ratelimit-{api_key|user|team|model_per_key}-{limit|
//! remaining}-{requests|tokens|max_parallel_requests}`, and OpenAI's
//! `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the tightest of our limits
//! (least remaining). When one of our rpm/tpm limits applies, these replace the upstream's
//! copies of the same names (still sent as `llm_provider-x-ratelimit-*`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;

use litellm_auth::ratelimit::RateLimitOptions;
use litellm_auth::{
    Descriptor, LimitKind, LimitStatus, Limits, Permit, RateLimited, RateLimiter, Scope,
};
use litellm_router::{RedisHandle, RouterSettings};

use crate::auth::Caller;
use crate::error::ApiError;

/// The limiter for these router settings: on the router's Redis when one is configured (with
/// its `redis_timeout`), else in memory. `shared` is the process's handle on that Redis (the
/// router's: one pool and one breaker for both); without it the limiter makes its own.
/// `LITELLM_RATE_LIMIT_WINDOW_SIZE` (seconds, LiteLLM's variable) changes the 60 s window.
pub fn limiter_for(settings: &RouterSettings, shared: Option<&RedisHandle>) -> RateLimiter {
    let mut opts = RateLimitOptions::default();
    if let Some(w) = std::env::var("LITELLM_RATE_LIMIT_WINDOW_SIZE")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|w| *w > 0)
    {
        opts.window = Duration::from_secs(w);
    }
    if let Some(t) = settings.redis_timeout.filter(|t| t.is_finite() && *t > 0.0) {
        opts.redis_timeout = Duration::from_secs_f64(t);
    }
    if let (Some(handle), Some(_)) = (shared, settings.redis_connection_url()) {
        return RateLimiter::on_redis(handle.share(), opts);
    }
    match settings.redis_connection_url() {
        Some(url) => RateLimiter::redis(&url, opts.clone()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "rate limits stay on this replica");
            RateLimiter::memory(opts)
        }),
        None => RateLimiter::memory(opts),
    }
}

/// A per-model limit map (`{"gpt-4o": 10}`) from metadata, for `model`.
fn model_limit(metadata: &serde_json::Map<String, Value>, field: &str, model: &str) -> Option<u64> {
    let v = metadata.get(field)?.as_object()?.get(model)?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The limits that apply to `caller` calling `model`: the key's, its user's, its team's, and
/// the key's per-model limits (`model_rpm_limit` / `model_tpm_limit` in the key's metadata,
/// else in the team's, as LiteLLM's `get_key_model_rpm_limit`).
pub fn descriptors(caller: &Caller, model: &str) -> Vec<Descriptor> {
    // The end user's limits come from its budget object (`/customer/new` with rpm_limit, ...).
    let end_user = caller
        .end_user
        .as_ref()
        .zip(caller.end_user_budget.as_ref())
        .map(|(e, b)| Descriptor {
            scope: Scope::EndUser,
            id: e.user_id.clone(),
            label: format!("end user {}", e.user_id),
            limits: Limits::from_stored(b.rpm_limit, b.tpm_limit, b.max_parallel_requests),
        });
    let Some(key) = &caller.key else {
        return end_user.into_iter().collect();
    };
    let key_label = match &key.key_alias {
        Some(alias) => format!("key {} (key_alias {alias})", key.key_name),
        None => format!("key {}", key.key_name),
    };
    let mut out = vec![Descriptor {
        scope: Scope::Key,
        id: key.token.clone(),
        label: key_label.clone(),
        limits: Limits::from_stored(key.rpm_limit, key.tpm_limit, key.max_parallel_requests),
    }];
    let user = caller.user.as_ref().map(|u| {
        let limits = Limits::from_stored(u.rpm_limit, u.tpm_limit, u.max_parallel_requests);
        (Scope::User, "user", &u.user_id, limits)
    });
    let team = caller.team.as_ref().map(|t| {
        let limits = Limits::from_stored(t.rpm_limit, t.tpm_limit, t.max_parallel_requests);
        (Scope::Team, "team", &t.team_id, limits)
    });
    out.extend(
        user.into_iter()
            .chain(team)
            .map(|(scope, kind, id, limits)| Descriptor {
                scope,
                id: id.clone(),
                label: format!("{kind} {id}"),
                limits,
            }),
    );
    out.extend(end_user);
    let source = |field: &str| {
        model_limit(&key.metadata, field, model).or_else(|| {
            caller
                .team
                .as_ref()
                .and_then(|t| model_limit(&t.metadata, field, model))
        })
    };
    let model_limits = Limits {
        rpm: source("model_rpm_limit"),
        tpm: source("model_tpm_limit"),
        max_parallel: None,
    };
    if !model_limits.is_empty() {
        out.push(Descriptor {
            scope: Scope::ModelPerKey,
            id: format!("{}:{model}", key.token),
            label: format!("{key_label} for model {model}"),
            limits: model_limits,
        });
    }
    out
}

/// An admitted call's reservation and the headers describing it. Cheap to clone; the slots
/// are freed by [`CallLimits::finish`] or when the last clone is dropped.
#[derive(Debug, Clone, Default)]
pub struct CallLimits {
    permit: Arc<Mutex<Option<Permit>>>,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    /// Whether an rpm or tpm limit applied (then our OpenAI-style headers replace upstream's).
    replaces_upstream: bool,
}

/// OpenAI's rate-limit header names, which the upstream's copies may also use.
const OPENAI_NAMES: [&str; 6] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];

impl CallLimits {
    /// Whether a reservation is still held.
    pub fn is_active(&self) -> bool {
        self.permit.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Adds the rate-limit headers to a response.
    pub fn apply_headers(&self, h: &mut HeaderMap) {
        if self.replaces_upstream {
            for n in OPENAI_NAMES {
                h.remove(n);
            }
        }
        for (k, v) in self.headers.iter() {
            h.insert(k.clone(), v.clone());
        }
    }

    /// Charges `tokens` to every tpm limit and frees the in-flight slots (once; later calls do
    /// nothing).
    pub async fn finish(&self, tokens: u64) {
        let permit = self.permit.lock().ok().and_then(|mut g| g.take());
        if let Some(p) = permit {
            p.finish(tokens).await;
        }
    }
}

/// The `reset` value OpenAI sends: a duration such as `17s`.
fn reset_value(d: Duration) -> String {
    format!("{}s", d.as_secs_f64().ceil().max(1.0) as u64)
}

fn header(name: &str, value: impl ToString) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        HeaderValue::from_str(&value.to_string()).ok()?,
    ))
}

/// The headers of an admitted call.
fn success_headers(statuses: &[LimitStatus], reset: Duration) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    for s in statuses {
        let prefix = format!("x-ratelimit-{}", s.scope.as_str());
        out.extend(header(
            &format!("{prefix}-remaining-{}", s.kind.as_str()),
            s.remaining,
        ));
        out.extend(header(
            &format!("{prefix}-limit-{}", s.kind.as_str()),
            s.limit,
        ));
    }
    for (kind, word) in [
        (LimitKind::Requests, "requests"),
        (LimitKind::Tokens, "tokens"),
    ] {
        let tightest = statuses
            .iter()
            .filter(|s| s.kind == kind)
            .min_by_key(|s| (s.remaining, s.limit));
        if let Some(s) = tightest {
            out.extend(header(&format!("x-ratelimit-limit-{word}"), s.limit));
            out.extend(header(
                &format!("x-ratelimit-remaining-{word}"),
                s.remaining,
            ));
            out.extend(header(
                &format!("x-ratelimit-reset-{word}"),
                reset_value(reset),
            ));
        }
    }
    out
}

/// The 429 for a refused call.
pub fn refusal(e: &RateLimited) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        e.to_string(),
    );
    let secs = e.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    headers.extend(header("retry-after", secs));
    let word = match e.kind {
        LimitKind::Requests => Some("requests"),
        LimitKind::Tokens => Some("tokens"),
        LimitKind::Parallel => None,
    };
    if let Some(word) = word {
        headers.extend(header(&format!("x-ratelimit-limit-{word}"), e.limit));
        headers.extend(header(&format!("x-ratelimit-remaining-{word}"), 0));
        headers.extend(header(
            &format!("x-ratelimit-reset-{word}"),
            reset_value(e.retry_after),
        ));
    }
    for (k, v) in headers {
        err = err.with_header(k, v);
    }
    err
}

/// Checks and reserves every limit that applies to `caller` calling `model` (the model the
/// client asked for, before key aliases). Call after auth and body validation, so that
/// refused or malformed requests consume nothing.
pub async fn check(
    limiter: &RateLimiter,
    caller: &Caller,
    model: &str,
) -> Result<CallLimits, ApiError> {
    let descriptors = descriptors(caller, model);
    if descriptors.iter().all(|d| d.limits.is_empty()) {
        return Ok(CallLimits::default());
    }
    let permit = limiter
        .acquire(descriptors)
        .await
        .map_err(|e| refusal(&e))?;
    let headers = success_headers(permit.statuses(), permit.reset_after());
    let replaces_upstream = permit
        .statuses()
        .iter()
        .any(|s| s.kind != LimitKind::Parallel);
    Ok(CallLimits {
        permit: Arc::new(Mutex::new(Some(permit))),
        headers: Arc::new(headers),
        replaces_upstream,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(scope: Scope, kind: LimitKind, limit: u64, used: u64) -> LimitStatus {
        LimitStatus {
            scope,
            kind,
            limit,
            used,
            remaining: limit.saturating_sub(used),
        }
    }

    #[test]
    fn openai_headers_describe_the_tightest_limit() {
        let h = success_headers(
            &[
                status(Scope::Key, LimitKind::Requests, 10, 2),
                status(Scope::Team, LimitKind::Requests, 5, 4),
                status(Scope::User, LimitKind::Tokens, 1000, 10),
            ],
            Duration::from_millis(16_200),
        );
        let get = |n: &str| {
            h.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.to_str().unwrap_or_default().to_string())
        };
        assert_eq!(get("x-ratelimit-limit-requests").as_deref(), Some("5"));
        assert_eq!(get("x-ratelimit-remaining-requests").as_deref(), Some("1"));
        assert_eq!(get("x-ratelimit-reset-requests").as_deref(), Some("17s"));
        assert_eq!(get("x-ratelimit-remaining-tokens").as_deref(), Some("990"));
        assert_eq!(
            get("x-ratelimit-api_key-remaining-requests").as_deref(),
            Some("8")
        );
        assert_eq!(get("x-ratelimit-team-limit-requests").as_deref(), Some("5"));
    }

    #[test]
    fn model_limits_read_numbers_and_numeric_strings() {
        let m = serde_json::json!({"model_rpm_limit": {"a": 3, "b": "4", "c": "x"}});
        let m = m.as_object().cloned().unwrap_or_default();
        assert_eq!(model_limit(&m, "model_rpm_limit", "a"), Some(3));
        assert_eq!(model_limit(&m, "model_rpm_limit", "b"), Some(4));
        assert_eq!(model_limit(&m, "model_rpm_limit", "c"), None);
        assert_eq!(model_limit(&m, "model_tpm_limit", "a"), None);
    }
}
