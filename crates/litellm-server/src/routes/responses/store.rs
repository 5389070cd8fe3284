//! Where `/v1/responses` keeps the responses it made (`store`, the default): the response
//! object for `GET /v1/responses/{id}`, its input items for `.../input_items`, and the
//! conversation a follow-up naming it in `previous_response_id` continues. Each entry belongs to
//! the key that created it: another key gets a 404 (the proxy admin sees every entry).
//!
//! In memory, bounded (oldest evicted first) and kept for a day: a restarted proxy, or another
//! replica, does not know an earlier response (see `docs/endpoints.md`).

use std::sync::Arc;
use std::time::Duration;

use litellm_core::Message;
use serde_json::Value;

use crate::auth::Caller;

/// How many responses are kept.
const CAPACITY: u64 = 20_000;
/// How long a response is kept.
const TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// One stored response.
#[derive(Debug)]
pub struct StoredResponse {
    /// The SHA-256 of the key that created it (`""` without a key).
    pub owner: String,
    /// The `response` object as the client got it.
    pub response: Value,
    /// The request's input items (`GET /v1/responses/{id}/input_items`).
    pub input_items: Vec<Value>,
    /// The conversation so far, for `previous_response_id`.
    pub history: Vec<Message>,
}

/// The stored responses of this proxy.
#[derive(Clone)]
pub struct ResponseStore(moka::sync::Cache<String, Arc<StoredResponse>>);

impl Default for ResponseStore {
    fn default() -> Self {
        ResponseStore(
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
        )
    }
}

impl ResponseStore {
    /// Keeps `entry` under `id`.
    pub fn put(&self, id: String, entry: StoredResponse) {
        self.0.insert(id, Arc::new(entry));
    }

    /// The response `id` when `caller` may see it.
    pub fn get(&self, id: &str, caller: &Caller) -> Option<Arc<StoredResponse>> {
        self.0
            .get(id)
            .filter(|e| caller.is_admin || e.owner == caller.key_hash)
    }

    /// Forgets the response `id` when `caller` may see it; whether it did.
    pub fn remove(&self, id: &str, caller: &Caller) -> bool {
        if self.get(id, caller).is_none() {
            return false;
        }
        self.0.invalidate(id);
        true
    }
}
