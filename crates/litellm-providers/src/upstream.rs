//! Sans-IO pieces shared by every HTTP adapter: the request an adapter builds
//! ([`UpstreamRequest`]), header helpers that keep credentials marked sensitive, `retry-after`
//! parsing, the filter choosing which upstream response headers are passed back, and message
//! helpers for errors.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::Method;
use serde_json::{json, Value};

use litellm_core::{ErrorKind, LlmError, UpstreamHeaders};

/// A fully built upstream HTTP request: what the transport sends, byte for byte.
///
/// `Debug` shows credential headers as `Sensitive` (they are marked with
/// [`HeaderValue::set_sensitive`]); use [`UpstreamRequest::redacted_headers`] for display.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl UpstreamRequest {
    /// A `POST` of `body` to `url` with these headers.
    pub fn post(url: String, headers: HeaderMap, body: Bytes) -> Self {
        UpstreamRequest {
            method: Method::POST,
            url,
            headers,
            body,
        }
    }

    /// The headers as lower-case `(name, value)` pairs, sorted by name, with sensitive values
    /// replaced: `Bearer <redacted>` for a bearer token, `<redacted>` otherwise.
    pub fn redacted_headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if value.is_sensitive() {
                    let raw = value.as_bytes();
                    if raw.len() >= 7 && raw[..7].eq_ignore_ascii_case(b"bearer ") {
                        "Bearer <redacted>".to_string()
                    } else {
                        "<redacted>".to_string()
                    }
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_string(), shown)
            })
            .collect();
        out.sort();
        out
    }

    /// The request as `{"method", "url", "headers", "body"}` with credentials redacted and the
    /// body parsed as JSON (or kept as a string when it is not JSON): the golden-file form.
    pub fn to_redacted_json(&self) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .redacted_headers()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let body = serde_json::from_slice::<Value>(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()));
        json!({
            "method": self.method.as_str(),
            "url": self.url,
            "headers": headers,
            "body": body,
        })
    }
}

/// Header names whose values are credentials: marked sensitive whenever we set them.
pub fn is_sensitive_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "api-key" | "x-api-key" | "cookie"
    ) || name.as_str().contains("token")
        || name.as_str().contains("secret")
}

/// Inserts (replacing) one header given as strings, marking credentials sensitive. `origin` names
/// where the header came from, for the error message.
pub fn insert_header(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    origin: &str,
) -> Result<(), LlmError> {
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        LlmError::bad_param(origin, format!("invalid header name in {origin}: {name:?}"))
    })?;
    // The value is deliberately not echoed: it may be a credential.
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        LlmError::bad_param(
            origin,
            format!("invalid value for header {name} in {origin}"),
        )
    })?;
    if is_sensitive_header(&name) {
        value.set_sensitive(true);
    }
    headers.insert(name, value);
    Ok(())
}

/// Response headers not passed back to the client: hop-by-hop, framing, and per-connection ones.
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "content-encoding",
    "content-type",
    "date",
    "server",
    "set-cookie",
    "alt-svc",
    "vary",
    "strict-transport-security",
];

/// The upstream response headers worth passing back to the client (rate-limit headers,
/// `x-request-id`, `openai-*`, `retry-after`, ...), as lower-case name and value. Values that are
/// not valid UTF-8 are skipped.
pub fn capture_headers(headers: &HeaderMap) -> UpstreamHeaders {
    headers
        .iter()
        .filter(|(name, _)| !DROPPED_RESPONSE_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_string(), v.to_string()))
        })
        .collect()
}

/// The upstream's requested wait: `retry-after-ms` (milliseconds, OpenAI's SDK honours it) first,
/// then `retry-after` as seconds or as an HTTP date (relative to now; a past date is zero).
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after_at(headers, SystemTime::now())
}

/// [`parse_retry_after`] against a given clock, for tests.
pub fn parse_retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// At most `max` characters of `s`, with `…` appended when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// An error for an upstream body we could not understand.
pub fn invalid_upstream_body(
    provider: &str,
    what: &str,
    err: &serde_json::Error,
    body: &[u8],
) -> LlmError {
    let snippet = truncate_chars(&String::from_utf8_lossy(body), 300);
    LlmError::upstream(
        ErrorKind::InternalServer,
        format!("{provider} returned an invalid {what}: {err}; body: {snippet}"),
    )
    .with_provider(provider)
}

/// An upstream body as JSON; one that is not is an [`invalid_upstream_body`] (`what` names it).
pub(crate) fn upstream_json(provider: &str, what: &str, body: &[u8]) -> Result<Value, LlmError> {
    serde_json::from_slice(body).map_err(|e| invalid_upstream_body(provider, what, &e, body))
}

/// An error for an upstream body that parsed but lacks what an answer needs: "`provider`
/// returned `what`: <the body, cut>".
pub(crate) fn incomplete_upstream_body(provider: &str, what: &str, body: &[u8]) -> LlmError {
    let snippet = truncate_chars(&String::from_utf8_lossy(body), 300);
    LlmError::upstream(
        ErrorKind::InternalServer,
        format!("{provider} returned {what}: {snippet}"),
    )
    .with_provider(provider)
}

/// Which native Messages endpoint a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeCall {
    Messages { stream: bool },
    CountTokens,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn retry_after_reads_ms_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after_at(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after_at(&headers(&[("retry-after", "1.5")]), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after_at(
                &headers(&[("retry-after", "7"), ("retry-after-ms", "250")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after_at(&headers(&[("retry-after", &later)]), now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            parse_retry_after_at(&headers(&[("retry-after", &earlier)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after_at(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(parse_retry_after_at(&headers(&[]), now), None);
    }

    #[test]
    fn captured_headers_drop_framing_and_keep_rate_limits() {
        let h = headers(&[
            ("Content-Type", "application/json"),
            ("Content-Length", "10"),
            ("Connection", "keep-alive"),
            ("Set-Cookie", "a=b"),
            ("X-RateLimit-Remaining-Requests", "99"),
            ("x-request-id", "req_1"),
            ("openai-processing-ms", "12"),
            ("retry-after", "3"),
        ]);
        assert_eq!(
            capture_headers(&h),
            vec![
                (
                    "x-ratelimit-remaining-requests".to_string(),
                    "99".to_string()
                ),
                ("x-request-id".to_string(), "req_1".to_string()),
                ("openai-processing-ms".to_string(), "12".to_string()),
                ("retry-after".to_string(), "3".to_string()),
            ]
        );
    }

    #[test]
    fn credentials_are_redacted_in_display_and_debug() {
        let mut h = HeaderMap::new();
        insert_header(&mut h, "Authorization", "Bearer sk-secret", "test").expect("valid");
        insert_header(&mut h, "api-key", "sk-secret", "test").expect("valid");
        insert_header(&mut h, "x-custom", "visible", "test").expect("valid");
        let req = UpstreamRequest {
            method: Method::POST,
            url: "http://x/v1".into(),
            headers: h,
            body: Bytes::from_static(b"{}"),
        };
        assert_eq!(
            req.redacted_headers(),
            vec![
                ("api-key".to_string(), "<redacted>".to_string()),
                ("authorization".to_string(), "Bearer <redacted>".to_string()),
                ("x-custom".to_string(), "visible".to_string()),
            ]
        );
        let debug = format!("{req:?}");
        assert!(!debug.contains("sk-secret"), "{debug}");
    }

    #[test]
    fn invalid_headers_are_rejected_without_echoing_the_value() {
        let mut h = HeaderMap::new();
        let err = insert_header(&mut h, "bad name", "v", "extra_headers").expect_err("invalid");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        let err = insert_header(&mut h, "authorization", "sk-secret\n", "extra_headers")
            .expect_err("invalid");
        assert!(!err.message.contains("sk-secret"), "{}", err.message);
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("héllo", 10), "héllo");
        assert_eq!(truncate_chars("héllo", 2), "hé…");
    }
}
