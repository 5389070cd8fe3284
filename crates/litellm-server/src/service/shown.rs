//! What of a deployment may be shown (`/model/info`, `/health`): its `litellm_params` without
//! credentials of any shape. A leaf module, so every route that shows a deployment can use it.

use serde_json::{Map, Value};

use litellm_providers::params::is_secret_param;
use litellm_providers::prices::TokenPrices;
use litellm_router::Deployment;

/// Whether a `litellm_params` key may hold a credential, whatever its value's type (a
/// `vertex_credentials` mapping too). Prices and token limits (`input_cost_per_token`,
/// `max_tokens`) are not credentials; headers always may be.
fn is_secret(key: &str) -> bool {
    if TokenPrices::KEYS.contains(&key) || key.ends_with("_tokens") {
        return false;
    }
    is_secret_param(key) || key == "extra_headers" || key == "headers"
}

/// A deployment's `litellm_params` as `/model/info` and `/health` show them: without any
/// credential-like key (by name, whatever the value), headers, or the query string and user
/// info of `api_base`.
pub fn public_params(d: &Deployment) -> Value {
    let mut params = match serde_json::to_value(&d.config.litellm_params) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    params.retain(|k, _| !is_secret(k));
    if let Some(Value::String(base)) = params.get_mut("api_base") {
        *base = crate::headers::public_api_base(base).into_owned();
    }
    Value::Object(params)
}
