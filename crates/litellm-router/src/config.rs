//! Plain typed router configuration: the deployments of `model_list` and `router_settings`, in
//! LiteLLM's names and with LiteLLM's defaults. The server's config loader deserializes these
//! from config.yaml; SDK users build them directly or from JSON/YAML of the same shape.

use serde::{Deserialize, Serialize};

use litellm_core::JsonMap;
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

/// `litellm_params`: the router's fields here, the provider's flattened in.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LitellmParams {
    /// Requests per minute: a weight for simple-shuffle (enforced only by usage-based routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens per minute: a weight for simple-shuffle when no `weight`/`rpm` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Explicit weight for simple-shuffle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Priority tier: lower is tried first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    /// Concurrency cap for this deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_requests: Option<u32>,
    /// Seconds allowed for a whole non-streaming call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// Seconds allowed until the first chunk of a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_timeout: Option<f64>,
    /// Retries for calls to this deployment's group (overrides `router_settings.num_retries`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_retries: Option<u32>,
    /// Accepted for LiteLLM compatibility (the SDK client's own retries); we use `num_retries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Per-deployment cooldown in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_time: Option<f64>,
    /// Tags for tag routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_name: Option<String>,
    /// The model to price and size this deployment as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cost_per_token: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_cost_per_token: Option<f64>,
    #[serde(flatten)]
    pub provider: ProviderParams,
}

/// `model_info`: the deployment's id and descriptive fields.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ModelInfo {
    /// Deployment id; when absent, a stable hash of `model_name` and `litellm_params`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `chat`, `embedding`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cost_per_token: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_cost_per_token: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_groups: Option<Vec<String>>,
    /// Free-form keys (`supports_vision`, ...), kept.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `router_settings` (the subset this release acts on; the loader warns about the rest).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RouterSettings {
    /// `simple-shuffle` (default). Other strategies are not implemented yet.
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
}

/// One entry of a fallbacks list: model group -> groups to try after it, in order.
pub type FallbackMap = std::collections::BTreeMap<String, Vec<String>>;

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
        }
    }
}
