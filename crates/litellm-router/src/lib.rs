//! litellm-router (layer 2): model groups, routing, retries; the SDK surface.
pub mod config;
pub use config::{DeploymentConfig, LitellmParams, ModelInfo, RouterSettings};
