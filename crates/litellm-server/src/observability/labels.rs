//! The label values of one request (who called, for which model, from where), built once per
//! request and shared by the metrics and the webhook; a leaf module both read.

use std::sync::Arc;

use axum::http::HeaderMap;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// A label value: `None` is exposed as the text `None`, as LiteLLM does.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct Lv(Option<Arc<str>>);

impl Lv {
    /// An unknown value.
    pub const NONE: Lv = Lv(None);

    /// A known value (an empty string counts as unknown).
    pub fn new(s: &str) -> Lv {
        if s.is_empty() {
            Lv(None)
        } else {
            Lv(Some(Arc::from(s)))
        }
    }

    /// `Some` as a value, `None` as unknown.
    pub fn opt(s: Option<&str>) -> Lv {
        s.map(Lv::new).unwrap_or_default()
    }

    /// The value, if known.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl EncodeLabelValue for Lv {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write;
        encoder.write_str(self.0.as_deref().unwrap_or("None"))
    }
}

/// What is known about one LLM request, for its labels: filled at the start by [`track`] (route,
/// client), by [`note_caller`] after auth, and by the router observer (the deployment).
#[derive(Clone, Debug, Default)]
pub struct RequestLabels {
    pub end_user: Lv,
    pub user: Lv,
    pub user_email: Lv,
    pub hashed_api_key: Lv,
    pub api_key_alias: Lv,
    pub team: Lv,
    pub team_alias: Lv,
    pub requested_model: Lv,
    pub route: Lv,
    pub client_ip: Lv,
    pub user_agent: Lv,
    /// The last deployment tried.
    pub model_id: Lv,
    /// The key's `max_budget` and its spend before this call.
    pub key_budget: Option<(f64, f64)>,
    /// The team's `max_budget` and its spend before this call.
    pub team_budget: Option<(f64, f64)>,
    /// Whether the caller has a virtual key (budget gauges are only set for those).
    pub has_key: bool,
    pub has_team: bool,
}

impl RequestLabels {
    /// `path` is the matched route's template.
    pub fn from_request(path: &str, headers: &HeaderMap) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        // Client-chosen values: an address only when it is one, a user agent clipped.
        let client_ip = header("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .or_else(|| header("x-real-ip"))
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
        let user_agent = header("user-agent").map(|ua| clip(ua, MAX_USER_AGENT));
        RequestLabels {
            route: Lv::new(path),
            client_ip: Lv::opt(client_ip),
            user_agent: Lv::opt(user_agent),
            ..RequestLabels::default()
        }
    }
}

/// The longest `user_agent` label value, in bytes.
const MAX_USER_AGENT: usize = 128;

/// `s` cut to at most `max` bytes, on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
