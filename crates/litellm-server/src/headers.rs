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

/// `api_base` as it may be shown (headers, `/model/info`, `/health`, metrics, spend logs):
/// without its query string and fragment (Azure SAS tokens) and without `user:pass@` in front of
/// the host.
pub fn public_api_base(api_base: &str) -> std::borrow::Cow<'_, str> {
    let base = api_base.split(['?', '#']).next().unwrap_or(api_base);
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.into();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]).into(),
        None => base.into(),
    }
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
        put(h, "x-litellm-model-api-base", &public_api_base(base));
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
    fn api_bases_are_shown_without_query_strings_or_user_info() {
        for (given, shown) in [
            (
                "https://x.openai.azure.com/openai?sig=secret",
                "https://x.openai.azure.com/openai",
            ),
            ("http://h/v1", "http://h/v1"),
            ("https://user:pa@ss@h.example/v1#f", "https://h.example/v1"),
            ("http://u@h:8000", "http://h:8000"),
            ("http://h/v1/a@b", "http://h/v1/a@b"),
            ("no-scheme", "no-scheme"),
        ] {
            assert_eq!(public_api_base(given), shown, "{given}");
        }
    }

    #[test]
    fn costs_print_as_plain_decimals() {
        assert_eq!(format_cost(0.0), "0.0");
        assert_eq!(format_cost(0.000015), "0.000015");
        assert_eq!(format_cost(2.0), "2.0");
    }
}
