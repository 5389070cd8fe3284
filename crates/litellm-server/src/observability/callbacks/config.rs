//! Which callbacks a config turns on (`litellm_settings.callbacks`, `success_callback`, ...,
//! `callback_settings`), and the warnings for those we do not implement.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Config

/// One entry of the top-level `callback_settings` section (LiteLLM's keys; `batch_size`,
/// `flush_interval` and `max_queue_size` are ours).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct CallbackSettings {
    /// `generic_api` for a webhook under a custom name.
    pub callback_type: Option<String>,
    /// The webhook URL (else `GENERIC_LOGGER_ENDPOINT`).
    pub endpoint: Option<String>,
    /// Extra request headers (over `GENERIC_LOGGER_HEADERS`).
    pub headers: Option<BTreeMap<String, String>>,
    /// `llm_api_success` and/or `llm_api_failure` (default: both).
    pub event_types: Option<Vec<String>>,
    /// `json_array` (default), `ndjson` or `single`.
    pub log_format: Option<String>,
    pub batch_size: Option<usize>,
    /// Seconds.
    pub flush_interval: Option<f64>,
    pub max_queue_size: Option<usize>,
    /// `false` keeps message contents out of this callback's events / spans.
    pub message_logging: Option<bool>,
}

impl std::fmt::Debug for CallbackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSettings")
            .field("callback_type", &self.callback_type)
            .field("endpoint", &self.endpoint.as_deref().map(redact_endpoint))
            .field(
                "headers",
                &self.headers.as_ref().map(|h| h.keys().collect::<Vec<_>>()),
            )
            .field("event_types", &self.event_types)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// A URL without its query string and user info (either may carry a token).
pub fn redact_endpoint(url: &str) -> String {
    crate::headers::public_api_base(url).into_owned()
}

/// Which callback lists name a callback.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Events {
    pub(super) success: bool,
    pub(super) failure: bool,
}

/// Callback names in `litellm_settings` with the events each one wants, in first-seen order.
pub(super) fn named_callbacks(s: &LitellmSettings) -> Vec<(String, Events, &'static str)> {
    let mut out: Vec<(String, Events, &'static str)> = Vec::new();
    let lists: [(&Option<Vec<String>>, &'static str, Events); 3] = [
        (
            &s.callbacks,
            "callbacks",
            Events {
                success: true,
                failure: true,
            },
        ),
        (
            &s.success_callback,
            "success_callback",
            Events {
                success: true,
                failure: false,
            },
        ),
        (
            &s.failure_callback,
            "failure_callback",
            Events {
                success: false,
                failure: true,
            },
        ),
    ];
    for (list, key, events) in lists {
        for name in list.iter().flatten() {
            let name = name.trim();
            match out.iter_mut().find(|(n, _, _)| n == name) {
                Some((_, e, _)) => {
                    e.success |= events.success;
                    e.failure |= events.failure;
                }
                None => out.push((name.to_string(), events, key)),
            }
        }
    }
    out
}

/// Whether `name` (with its `callback_settings` entry) is a `generic_api` webhook.
pub(super) fn is_generic(name: &str, settings: Option<&CallbackSettings>) -> bool {
    name == "generic_api"
        || settings
            .and_then(|s| s.callback_type.as_deref())
            .is_some_and(|t| t == "generic_api")
}

/// Load-time warnings for the callback keys: names we do not implement, webhooks without an
/// endpoint, bad `log_format` / `event_types`.
pub fn config_warnings(
    litellm: &LitellmSettings,
    callback_settings: &BTreeMap<String, CallbackSettings>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _, list) in named_callbacks(litellm) {
        let settings = callback_settings.get(&name);
        if name == "otel" || name == "prometheus" {
            continue;
        }
        if !is_generic(&name, settings) {
            out.push(format!(
                "litellm_settings.{list}: callback `{name}` not supported yet; ignored"
            ));
            continue;
        }
        let has_endpoint = settings.and_then(|s| s.endpoint.as_deref()).is_some()
            || lookup("GENERIC_LOGGER_ENDPOINT").is_some_and(|e| !e.trim().is_empty());
        if !has_endpoint {
            out.push(format!(
                "callback_settings.{name}.endpoint: not set, and neither is \
                 GENERIC_LOGGER_ENDPOINT; the `{name}` webhook is off"
            ));
        }
        if let Some(f) = settings.and_then(|s| s.log_format.as_deref()) {
            if !matches!(f, "json_array" | "ndjson" | "single") {
                out.push(format!(
                    "callback_settings.{name}.log_format: `{f}` is not json_array, ndjson or \
                     single; using json_array"
                ));
            }
        }
        for t in settings
            .and_then(|s| s.event_types.as_ref())
            .into_iter()
            .flatten()
        {
            if !matches!(t.as_str(), "llm_api_success" | "llm_api_failure") {
                out.push(format!(
                    "callback_settings.{name}.event_types: unknown event type `{t}` (expected \
                     llm_api_success or llm_api_failure); ignored"
                ));
            }
        }
    }
    for (name, s) in callback_settings {
        let named = named_callbacks(litellm).iter().any(|(n, _, _)| n == name);
        if !named && (is_generic(name, Some(s)) || name == "otel") {
            out.push(format!(
                "callback_settings.{name}: `{name}` is not in litellm_settings.callbacks; ignored"
            ));
        }
    }
    out
}
