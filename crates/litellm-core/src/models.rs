//! `GET /v1/models` response types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The OpenAI model list: `{"object": "list", "data": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    pub object: String,
    pub data: Vec<ModelObject>,
}

/// One model (a model group, on the proxy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelObject {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub owned_by: String,
}

impl ModelList {
    /// A list of model objects owned by `owned_by`, created at `created`.
    pub fn from_ids<'a>(
        ids: impl IntoIterator<Item = &'a str>,
        created: u64,
        owned_by: &str,
    ) -> Self {
        ModelList {
            object: "list".into(),
            data: ids
                .into_iter()
                .map(|id| ModelObject {
                    id: id.to_string(),
                    object: "model".into(),
                    created,
                    owned_by: owned_by.to_string(),
                })
                .collect(),
        }
    }
}
