//! A deployment: one entry of `model_list` with its backend built, its stable id, and the
//! router-side parameters the strategies read.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use litellm_core::{LlmError, ModelBackend};

use crate::config::DeploymentConfig;

/// One callable deployment of a model group.
pub struct Deployment {
    /// Stable id: `model_info.id`, or a hash of the config (see [`deployment_id`]).
    pub id: String,
    /// The model group this deployment serves.
    pub model_name: String,
    /// The configuration it was built from (secrets stay redacted in `Debug`).
    pub config: DeploymentConfig,
    /// The provider backend that makes the calls.
    pub backend: Arc<dyn ModelBackend>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("id", &self.id)
            .field("model_name", &self.model_name)
            .field("provider", &self.backend.provider())
            .field("model", &self.config.litellm_params.provider.model)
            .finish()
    }
}

impl Deployment {
    /// Builds the deployment's backend through the provider registry.
    pub fn build(config: DeploymentConfig) -> Result<Self, LlmError> {
        let backend = litellm_providers::build_backend(&config.litellm_params.provider)?;
        Ok(Self::with_backend(config, backend))
    }

    /// A deployment over a given backend (SDK users and tests plug scripted backends in here).
    pub fn with_backend(config: DeploymentConfig, backend: Arc<dyn ModelBackend>) -> Self {
        Deployment {
            id: deployment_id(&config),
            model_name: config.model_name.clone(),
            config,
            backend,
        }
    }

    /// The provider-prefixed model string from the config.
    pub fn model(&self) -> &str {
        &self.config.litellm_params.provider.model
    }

    /// The priority tier (`order`); deployments without one come after every ordered tier.
    pub fn order(&self) -> u32 {
        self.config.litellm_params.order.unwrap_or(u32::MAX)
    }

    /// Timeout for a whole non-streaming call, if the deployment sets one.
    pub fn timeout(&self) -> Option<Duration> {
        self.config
            .litellm_params
            .timeout
            .and_then(secs_to_duration)
    }

    /// This deployment's own cooldown, if it sets one (`litellm_params.cooldown_time`).
    pub fn cooldown_time(&self) -> Option<Duration> {
        self.config
            .litellm_params
            .cooldown_time
            .and_then(secs_to_duration)
    }

    /// Time allowed until a stream's first chunk, if the deployment sets one.
    pub fn stream_timeout(&self) -> Option<Duration> {
        self.config
            .litellm_params
            .stream_timeout
            .and_then(secs_to_duration)
    }
}

/// Seconds as a `Duration`, `None` for non-positive or non-finite values.
pub(crate) fn secs_to_duration(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// The deployment id: `model_info.id` when given, else the first 16 bytes (hex) of SHA-256 over
/// the model group and the serialized `litellm_params`. Credentials are not serialized, so
/// rotating a key keeps the id, and the same config yields the same id on every replica.
pub fn deployment_id(config: &DeploymentConfig) -> String {
    if let Some(id) = config.model_info.id.as_ref().filter(|s| !s.is_empty()) {
        return id.clone();
    }
    let params = serde_json::to_string(&config.litellm_params).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(config.model_name.as_bytes());
    h.update([0u8]);
    h.update(params.as_bytes());
    hex::encode(&h.finalize()[..16])
}
