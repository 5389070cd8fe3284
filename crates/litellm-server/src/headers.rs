//! The `x-litellm-*` response headers LiteLLM sends, and the upstream's own headers passed back
//! (all as `llm_provider-<name>`, rate-limit ones also under their own name).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use litellm_router::RouteInfo;

/// The version reported in `x-litellm-version` and readiness.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn put(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// `api_base` without its query string (which may carry credentials, e.g. Azure SAS tokens).
pub fn strip_query(api_base: &str) -> &str {
    api_base.split(['?', '#']).next().unwrap_or(api_base)
}

/// Headers that describe the call: identity, routing, timing, cost, and the upstream's headers.
pub fn route_headers(
    h: &mut HeaderMap,
    call_id: &str,
    route: &RouteInfo,
    total: Duration,
    cost: f64,
) {
    put(h, "x-litellm-call-id", call_id);
    put(h, "x-litellm-model-id", &route.deployment_id);
    put(h, "x-litellm-model-group", &route.model_group);
    if let Some(base) = &route.api_base {
        put(h, "x-litellm-model-api-base", strip_query(base));
    }
    put(h, "x-litellm-version", VERSION);
    put(
        h,
        "x-litellm-response-duration-ms",
        &format!("{:.3}", total.as_secs_f64() * 1000.0),
    );
    let overhead = total.saturating_sub(route.upstream_time);
    put(
        h,
        "x-litellm-overhead-duration-ms",
        &format!("{:.3}", overhead.as_secs_f64() * 1000.0),
    );
    put(
        h,
        "x-litellm-attempted-retries",
        &route.attempted_retries.to_string(),
    );
    put(
        h,
        "x-litellm-attempted-fallbacks",
        &route.attempted_fallbacks.to_string(),
    );
    put(h, "x-litellm-response-cost", &format_cost(cost));
    for (name, value) in &route.upstream_headers {
        let Ok(v) = HeaderValue::from_str(value) else {
            continue;
        };
        if name.starts_with("x-ratelimit-") {
            if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                h.insert(n, v.clone());
            }
        }
        if let Ok(n) = HeaderName::from_bytes(format!("llm_provider-{name}").as_bytes()) {
            h.insert(n, v);
        }
    }
}

/// A cost in USD as LiteLLM prints it (plain decimal, no exponent).
pub fn format_cost(cost: f64) -> String {
    if cost == 0.0 {
        return "0.0".into();
    }
    let s = format!("{cost:.12}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_stripped_from_api_base() {
        assert_eq!(
            strip_query("https://x.openai.azure.com/openai?sig=secret"),
            "https://x.openai.azure.com/openai"
        );
        assert_eq!(strip_query("http://h/v1"), "http://h/v1");
    }

    #[test]
    fn costs_print_as_plain_decimals() {
        assert_eq!(format_cost(0.0), "0.0");
        assert_eq!(format_cost(0.000015), "0.000015");
        assert_eq!(format_cost(2.0), "2.0");
    }
}
