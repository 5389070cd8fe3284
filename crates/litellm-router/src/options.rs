//! Typed per-call options: what a caller (the proxy, an SDK user) decides for one call beside
//! the request itself, carried from the caller through the retry loop into each attempt's
//! `CallContext`. The request body carries only what goes to the provider.
//!
//! LiteLLM clients put some of these in the body (`fallbacks`, `disable_fallbacks`,
//! `num_retries`); [`RequestOptions::take`] lifts them out of a body's unknown fields so they
//! are never sent upstream.

use std::time::Duration;

use litellm_core::JsonMap;
use serde_json::Value;

/// Options for one routed call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestOptions {
    /// Model groups to try, in order, when the requested one fails (instead of the configured
    /// fallbacks).
    pub fallbacks: Vec<String>,
    /// No fallbacks at all for this call.
    pub disable_fallbacks: bool,
    /// Retries for this call (instead of the configured policy).
    pub num_retries: Option<u32>,
    /// A deadline for each attempt, when shorter than the deployment's.
    pub timeout: Option<Duration>,
    /// Headers to send upstream with this call only.
    pub extra_headers: Vec<(String, String)>,
}

impl RequestOptions {
    /// Takes LiteLLM's per-request controls (`fallbacks`, with `{"model": ...}` entries too,
    /// `disable_fallbacks`, `num_retries`, `timeout` in seconds) out of a body's unknown fields.
    pub fn take(extra: &mut JsonMap) -> Self {
        let fallbacks = match extra.remove("fallbacks") {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    Value::Object(o) => o.get("model").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let disable_fallbacks =
            matches!(extra.remove("disable_fallbacks"), Some(Value::Bool(true)));
        let num_retries = extra
            .remove("num_retries")
            .and_then(|v| v.as_u64())
            .map(|n| n.min(u64::from(u32::MAX)) as u32);
        let timeout = extra.remove("timeout").and_then(|v| seconds(&v));
        RequestOptions {
            fallbacks,
            disable_fallbacks,
            num_retries,
            timeout,
            ..Default::default()
        }
    }
}

/// A positive number of seconds (a JSON number, or a string holding one, as headers carry it).
pub fn seconds(v: &Value) -> Option<Duration> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

impl RequestOptions {
    /// Fills what `self` leaves unset from `other` (options given in code win over those found
    /// in a body).
    pub fn absorb(&mut self, other: RequestOptions) {
        if self.fallbacks.is_empty() {
            self.fallbacks = other.fallbacks;
        }
        self.disable_fallbacks |= other.disable_fallbacks;
        self.num_retries = self.num_retries.or(other.num_retries);
        self.timeout = self.timeout.or(other.timeout);
        self.extra_headers.extend(other.extra_headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn controls_leave_the_body() {
        let mut extra = match json!({"fallbacks": ["a", {"model": "b"}, 3], "disable_fallbacks": true,
            "num_retries": 2, "top_k": 1})
        {
            Value::Object(m) => m,
            _ => unreachable!("an object"),
        };
        let o = RequestOptions::take(&mut extra);
        assert_eq!(o.fallbacks, ["a", "b"]);
        assert!(o.disable_fallbacks);
        assert_eq!(o.num_retries, Some(2));
        assert_eq!(Value::Object(extra), json!({"top_k": 1}));
    }
}
