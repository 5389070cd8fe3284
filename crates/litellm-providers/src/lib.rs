//! litellm-providers (layer 1): provider adapters and the one HTTP transport.
pub mod params;
pub use litellm_core::JsonMap;
pub use params::ProviderParams;
