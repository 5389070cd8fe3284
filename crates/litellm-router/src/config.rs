//! Plain typed router configuration: the deployments of `model_list` and `router_settings`, in
//! LiteLLM's names and with LiteLLM's defaults. The server's config loader deserializes these
//! from config.yaml; SDK users build them directly or from JSON/YAML of the same shape.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use litellm_core::{wire_struct, JsonMap};
use litellm_providers::ProviderParams;

/// One entry of `model_list`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DeploymentConfig {
    /// The public model name (model group) clients ask for.
    pub model_name: String,
    pub litellm_params: LitellmParams,
    #[serde(default)]
    pub model_info: ModelInfo,
}

impl DeploymentConfig {
    /// A deployment of `model` (provider-prefixed) in the group `model_name`, with every other
    /// setting at its default.
    pub fn new(model_name: impl Into<String>, model: impl Into<String>) -> Self {
        DeploymentConfig {
            model_name: model_name.into(),
            litellm_params: LitellmParams {
                provider: ProviderParams {
                    model: model.into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            model_info: ModelInfo::default(),
        }
    }
}

wire_struct! {
    /// `litellm_params`: the router's fields here, the provider's flattened in.
    #[derive(Debug, Clone, Default, Deserialize, Serialize)]
    pub struct LitellmParams {
        /// Requests per minute: a weight for simple-shuffle (enforced only by usage-based routing).
        pub rpm?: u64,
        /// Tokens per minute: a weight for simple-shuffle when no `weight`/`rpm` is set.
        pub tpm?: u64,
        /// Explicit weight for simple-shuffle.
        pub weight?: f64,
        /// Priority tier: lower is tried first.
        pub order?: u32,
        /// Concurrency cap for this deployment.
        pub max_parallel_requests?: u32,
        /// Seconds allowed for a whole non-streaming call.
        pub timeout?: f64,
        /// Seconds allowed until the first chunk of a stream.
        pub stream_timeout?: f64,
        /// Retries for calls to this deployment's group (overrides `router_settings.num_retries`).
        pub num_retries?: u32,
        /// Accepted for LiteLLM compatibility (the SDK client's own retries); we use `num_retries`.
        pub max_retries?: u32,
        /// Per-deployment cooldown in seconds.
        pub cooldown_time?: f64,
        /// Tags for tag routing.
        pub tags?: Vec<String>,
        pub region_name?: String,
        /// The model to price and size this deployment as.
        pub base_model?: String,
        pub input_cost_per_token?: f64,
        pub output_cost_per_token?: f64,
        #[serde(flatten)]
        pub provider: ProviderParams,
    }
}

wire_struct! {
    /// `model_info`: the deployment's id and descriptive fields.
    #[derive(Debug, Clone, Default, Deserialize, Serialize)]
    pub struct ModelInfo {
        /// Deployment id; when absent, a stable hash of `model_name` and `litellm_params`.
        pub id?: String,
        /// `chat`, `embedding`, ...
        pub mode?: String,
        pub base_model?: String,
        pub max_tokens?: u64,
        pub max_input_tokens?: u64,
        pub input_cost_per_token?: f64,
        pub output_cost_per_token?: f64,
        pub access_groups?: Vec<String>,
        /// Free-form keys (`supports_vision`, ...), kept.
        #[serde(flatten)]
        pub extra: JsonMap,
    }
}

/// `router_settings` (the subset this release acts on; the loader warns about the rest).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RouterSettings {
    /// `simple-shuffle` (default), `least-busy`, `usage-based-routing`,
    /// `usage-based-routing-v2`, `latency-based-routing`, `cost-based-routing`.
    pub routing_strategy: String,
    /// Retries after the first attempt (LiteLLM default 2).
    pub num_retries: u32,
    /// Seconds for a whole non-streaming call (default 600, as LiteLLM's chat default).
    pub timeout: f64,
    /// Seconds until the first chunk of a stream (default: `timeout`).
    pub stream_timeout: Option<f64>,
    /// Minimum backoff in seconds between retries on the same deployment.
    pub retry_after: f64,
    /// `{"alias": "group"}` or `{"alias": {"model": "group", "hidden": true}}`.
    pub model_group_alias: JsonMap,
    /// `[{"group": ["fallback", ...]}, ...]`; a `"*"` key applies to every group.
    pub fallbacks: Vec<FallbackMap>,
    /// As `fallbacks`, used first when the error is `ContextWindowExceeded`.
    pub context_window_fallbacks: Vec<FallbackMap>,
    /// As `fallbacks`, used first when the error is `ContentPolicyViolation`.
    pub content_policy_fallbacks: Vec<FallbackMap>,
    /// Groups to fall back to when no list names the failing group.
    pub default_fallbacks: Vec<String>,
    /// At most this many fallback groups are tried per request (LiteLLM default 5).
    pub max_fallbacks: u32,
    /// Failures a deployment may have within a minute before it is cooled down (default 3).
    pub allowed_fails: u32,
    /// Seconds a cooled-down deployment takes no traffic (default 5); per deployment:
    /// `litellm_params.cooldown_time`.
    pub cooldown_time: f64,
    /// Never cool a deployment down.
    pub disable_cooldowns: bool,
    /// Per-error-kind allowed failures per minute (`RateLimitErrorAllowedFails`, ...); a kind
    /// named here is counted on its own against its own limit.
    pub allowed_fails_policy: BTreeMap<String, u32>,
    /// Per-error-kind retries (`TimeoutErrorRetries`, ..., `DefaultRetries`), overriding
    /// `num_retries` for errors of that kind.
    pub retry_policy: BTreeMap<String, u32>,
    /// `retry_policy` per model group; wins over `retry_policy`.
    pub model_group_retry_policy: BTreeMap<String, BTreeMap<String, u32>>,
    /// `routing_strategy_args`: `lowest_latency_buffer` (0), `ttl` (3600 s),
    /// `max_latency_list_size` (10) for latency-based routing.
    pub routing_strategy_args: JsonMap,
    /// Drop deployments whose context window is too small for the prompt before picking.
    pub enable_pre_call_checks: bool,
    /// In-flight cap for deployments that set no `max_parallel_requests`.
    pub default_max_parallel_requests: Option<u32>,
    /// Redis for state shared by replicas (cooldowns, failure counts, usage counters):
    /// `redis_url`, or `redis_host` + `redis_port` (6379) + `redis_password` + `redis_db`.
    /// Secret: may carry a password; never serialized or printed.
    #[serde(skip_serializing)]
    pub redis_url: Option<SecretString>,
    pub redis_host: Option<String>,
    pub redis_port: Option<u16>,
    /// Secret: never serialized or printed.
    #[serde(skip_serializing)]
    pub redis_password: Option<SecretString>,
    pub redis_db: Option<u32>,
    /// Bound on one Redis call in seconds (default 0.2); past it the router serves from local
    /// state.
    pub redis_timeout: Option<f64>,
}

impl RouterSettings {
    /// The Redis URL the settings describe, if any (`redis_url` wins over `redis_host`).
    pub fn redis_connection_url(&self) -> Option<String> {
        if let Some(url) = self
            .redis_url
            .as_ref()
            .filter(|u| !u.expose_secret().is_empty())
        {
            return Some(url.expose_secret().to_string());
        }
        let host = self.redis_host.as_ref().filter(|h| !h.is_empty())?;
        let port = self.redis_port.unwrap_or(6379);
        let auth = match self
            .redis_password
            .as_ref()
            .filter(|p| !p.expose_secret().is_empty())
        {
            Some(p) => format!(":{}@", percent_encode_userinfo(p.expose_secret())),
            None => String::new(),
        };
        let db = self.redis_db.map(|d| format!("/{d}")).unwrap_or_default();
        Some(format!("redis://{auth}{host}:{port}{db}"))
    }
}

/// Percent-encodes the characters that would break a URL's userinfo.
fn percent_encode_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One entry of a fallbacks list: model group -> groups to try after it, in order.
pub type FallbackMap = BTreeMap<String, Vec<String>>;

impl Default for RouterSettings {
    fn default() -> Self {
        RouterSettings {
            routing_strategy: "simple-shuffle".into(),
            num_retries: 2,
            timeout: 600.0,
            stream_timeout: None,
            retry_after: 0.0,
            model_group_alias: JsonMap::new(),
            fallbacks: Vec::new(),
            context_window_fallbacks: Vec::new(),
            content_policy_fallbacks: Vec::new(),
            default_fallbacks: Vec::new(),
            max_fallbacks: 5,
            allowed_fails: 3,
            cooldown_time: 5.0,
            disable_cooldowns: false,
            allowed_fails_policy: BTreeMap::new(),
            retry_policy: BTreeMap::new(),
            model_group_retry_policy: BTreeMap::new(),
            routing_strategy_args: JsonMap::new(),
            enable_pre_call_checks: false,
            default_max_parallel_requests: None,
            redis_url: None,
            redis_host: None,
            redis_port: None,
            redis_password: None,
            redis_db: None,
            redis_timeout: None,
        }
    }
}

/// The router's part of a LiteLLM `config.yaml`: `model_list` and `router_settings` (other
/// sections belong to the proxy and are skipped here).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouterConfig {
    #[serde(default)]
    pub model_list: Vec<DeploymentConfig>,
    #[serde(default)]
    pub router_settings: RouterSettings,
}

impl RouterConfig {
    /// Parses config.yaml text. `os.environ/NAME` values are read from the environment (a
    /// missing variable is an error naming it and where it is used).
    pub fn from_yaml(text: &str) -> Result<Self, litellm_core::LlmError> {
        Self::from_yaml_with_env(text, &|name| std::env::var(name).ok())
    }

    /// As [`RouterConfig::from_yaml`], reading variables through `env`.
    pub fn from_yaml_with_env(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, litellm_core::LlmError> {
        let bad =
            |m: String| litellm_core::LlmError::client(litellm_core::ErrorKind::BadRequest, m);
        let mut root: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| bad(format!("config.yaml: {e}")))?;
        if root.is_null() {
            return Ok(Self::default());
        }
        os_environ::resolve(&mut root, env, os_environ::OnMissing::Fail).map_err(bad)?;
        let mut sections = serde_yaml::Mapping::new();
        for key in ["model_list", "router_settings"] {
            if let Some(v) = root.get(key).filter(|v| !v.is_null()) {
                sections.insert(key.into(), v.clone());
            }
        }
        serde_yaml::from_value(serde_yaml::Value::Mapping(sections))
            .map_err(|e| bad(format!("config.yaml: {e}")))
    }
}

pub mod os_environ {
    //! `os.environ/NAME` references in a config.yaml tree: the one resolver of the SDK
    //! ([`RouterConfig::from_yaml`](super::RouterConfig::from_yaml): a variable that is not set
    //! is an error, [`OnMissing::Fail`]) and of the proxy's config loader (its value is removed
    //! and reported for a warning, [`OnMissing::Drop`]). Every value read is recorded with its
    //! path, so a loader can retry type errors there and keep the value out of messages; paths
    //! are formatted as `serde_path_to_error` does (`model_list[0].litellm_params.api_key`).

    use std::fmt::Write as _;

    use serde_yaml::Value;

    /// The prefix LiteLLM uses for values read from the environment.
    pub const ENV_PREFIX: &str = "os.environ/";

    /// What to do with an `os.environ/NAME` whose variable is not set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum OnMissing {
        /// Stop with an error naming the path and the variable.
        Fail,
        /// Remove the value (a list item, or a mapping entry) and record it in
        /// [`Resolution::missing`].
        Drop,
    }

    /// One step of a path into the YAML tree.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Seg {
        Key(String),
        Index(usize),
    }

    /// Formats a path the way `serde_path_to_error` does: `model_list[0].litellm_params.api_key`.
    pub fn fmt_path(segs: &[Seg]) -> String {
        let mut out = String::new();
        for seg in segs {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        if out.is_empty() {
            out.push('.');
        }
        out
    }

    /// A mapping key as text (YAML allows non-string keys; LiteLLM configs use strings).
    pub fn key_text(key: &Value) -> String {
        match key {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_string(),
            _ => "?".to_string(),
        }
    }

    /// A value that came from the environment, remembered so that type errors at its path can
    /// be retried with a number or boolean, and so that its text never appears in an error.
    #[derive(Debug, Clone)]
    pub struct Resolved {
        /// Where the value sits after resolution (indices account for removed list items).
        pub path: Vec<Seg>,
        pub value: String,
    }

    /// An `os.environ/NAME` whose variable is not set.
    #[derive(Debug, Clone)]
    pub struct Missing {
        /// The path as written in the file (for the message).
        pub user_path: Vec<Seg>,
        /// The path after earlier removals (comparable with deserializer paths).
        pub path: Vec<Seg>,
        pub var: String,
    }

    impl Missing {
        /// The message for this variable: `<path>: environment variable NAME is not set`.
        pub fn warning(&self) -> String {
            format!(
                "{}: environment variable {} is not set",
                fmt_path(&self.user_path),
                self.var
            )
        }
    }

    /// The result of resolving `os.environ/` references over a tree.
    #[derive(Debug, Default)]
    pub struct Resolution {
        pub missing: Vec<Missing>,
        pub resolved: Vec<Resolved>,
    }

    /// Replaces every `os.environ/NAME` string in `value` (at any depth, tagged values
    /// included) with the variable's value from `lookup` (the name trimmed). A variable that is
    /// not set is an error ([`OnMissing::Fail`], the message is [`Missing::warning`]) or is
    /// removed and recorded ([`OnMissing::Drop`]). Messages never contain a value.
    pub fn resolve(
        value: &mut Value,
        lookup: &dyn Fn(&str) -> Option<String>,
        on_missing: OnMissing,
    ) -> Result<Resolution, String> {
        let mut walk = Walk {
            lookup,
            on_missing,
            user_path: Vec::new(),
            path: Vec::new(),
            out: Resolution::default(),
        };
        walk.at(value)?;
        Ok(walk.out)
    }

    /// What to do with one string value.
    enum Action {
        Keep,
        Replace(String),
        Remove(String),
    }

    struct Walk<'a> {
        lookup: &'a dyn Fn(&str) -> Option<String>,
        on_missing: OnMissing,
        /// The path as written in the file (for messages).
        user_path: Vec<Seg>,
        /// The path after removals (what the deserializer will report).
        path: Vec<Seg>,
        out: Resolution,
    }

    impl Walk<'_> {
        /// `Some` for a string value (with what to do with it), `None` for anything else.
        fn action(&self, v: &Value) -> Option<Action> {
            let Value::String(s) = v else {
                return None;
            };
            Some(match s.strip_prefix(ENV_PREFIX) {
                None => Action::Keep,
                Some(var) => {
                    let var = var.trim();
                    match (self.lookup)(var) {
                        Some(v) => Action::Replace(v),
                        None => Action::Remove(var.to_string()),
                    }
                }
            })
        }

        /// Records a value read at the current path and returns it as YAML.
        fn replaced(&mut self, s: String) -> Value {
            self.out.resolved.push(Resolved {
                path: self.path.clone(),
                value: s.clone(),
            });
            Value::String(s)
        }

        /// Records (or, failing, reports) a variable missing at the current path.
        fn missing(&mut self, var: String) -> Result<(), String> {
            let m = Missing {
                user_path: self.user_path.clone(),
                path: self.path.clone(),
                var,
            };
            if self.on_missing == OnMissing::Fail {
                return Err(m.warning());
            }
            self.out.missing.push(m);
            Ok(())
        }

        fn at(&mut self, value: &mut Value) -> Result<(), String> {
            match value {
                Value::Mapping(map) => {
                    let mut removed = Vec::new();
                    for (k, v) in map.iter_mut() {
                        let key = key_text(k);
                        self.user_path.push(Seg::Key(key.clone()));
                        self.path.push(Seg::Key(key));
                        match self.action(v) {
                            Some(Action::Replace(s)) => *v = self.replaced(s),
                            Some(Action::Remove(var)) => {
                                self.missing(var)?;
                                removed.push(k.clone());
                            }
                            Some(Action::Keep) => {}
                            None => self.at(v)?,
                        }
                        self.user_path.pop();
                        self.path.pop();
                    }
                    for k in removed {
                        map.shift_remove(&k);
                    }
                }
                Value::Sequence(items) => {
                    let old = std::mem::take(items);
                    for (user_index, mut item) in old.into_iter().enumerate() {
                        self.user_path.push(Seg::Index(user_index));
                        self.path.push(Seg::Index(items.len()));
                        match self.action(&item) {
                            Some(Action::Replace(s)) => {
                                let v = self.replaced(s);
                                items.push(v);
                            }
                            Some(Action::Remove(var)) => self.missing(var)?,
                            Some(Action::Keep) => items.push(item),
                            None => {
                                self.at(&mut item)?;
                                items.push(item);
                            }
                        }
                        self.user_path.pop();
                        self.path.pop();
                    }
                }
                Value::Tagged(tagged) => self.at(&mut tagged.value)?,
                _ => {}
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_yaml_gives_the_model_list_and_router_settings() {
        let yaml = "
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/MY_KEY, rpm: 10}
router_settings:
  routing_strategy: least-busy
  num_retries: 4
general_settings: {master_key: sk-admin}
";
        let env = |n: &str| (n == "MY_KEY").then(|| "sk-from-env".to_string());
        let c = RouterConfig::from_yaml_with_env(yaml, &env).unwrap_or_default();
        assert_eq!(c.model_list.len(), 1);
        assert_eq!(c.model_list[0].litellm_params.rpm, Some(10));
        assert_eq!(c.router_settings.routing_strategy, "least-busy");
        assert_eq!(c.router_settings.num_retries, 4);
        let err = RouterConfig::from_yaml_with_env(yaml, &|_| None)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            err.contains("model_list[0].litellm_params.api_key"),
            "{err}"
        );
        assert!(err.contains("MY_KEY"), "{err}");
    }
}
