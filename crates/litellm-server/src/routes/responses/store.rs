//! Where `/v1/responses` keeps the responses it made (`store`, the default): the response
//! object for `GET /v1/responses/{id}`, its input items for `.../input_items`, and the
//! conversation a follow-up naming it in `previous_response_id` continues. Each entry belongs to
//! the key that created it: another key gets a 404 (the proxy admin sees every entry).
//!
//! In the key database (table `responses`, SQLite or PostgreSQL), so a restarted proxy and every
//! replica know it, with a bounded in-memory copy in front (oldest evicted first, ten minutes at
//! most) that answers the follow-ups right after a call without a query. The database write
//! runs in the background (awaited on shutdown), never on the request path; a proxy without a
//! database keeps the in-memory copy only (for a day). A response deleted here is remembered as
//! deleted for ten minutes, so a background write still on its way cannot bring it back.

use std::sync::Arc;
use std::time::Duration;

use litellm_auth::{ResponseRecord, Store};
use litellm_core::Message;
use serde_json::Value;
use tokio_util::task::TaskTracker;

use crate::auth::Caller;

/// How many responses are kept.
const CAPACITY: u64 = 20_000;
/// How long a response is kept when there is no database.
const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long the in-memory copy is trusted when the database holds the response (a response
/// deleted through another replica may be read here until then).
const TTL_BEFORE_DB: Duration = Duration::from_secs(10 * 60);

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
pub struct ResponseStore {
    recent: moka::sync::Cache<String, Arc<StoredResponse>>,
    /// Responses deleted here lately: never read again, and a background write that lands
    /// after the delete removes its row again.
    deleted: moka::sync::Cache<String, ()>,
    db: Option<Store>,
    tasks: TaskTracker,
}

impl ResponseStore {
    /// A store on `db` (none: memory only), writing through background `tasks`.
    pub fn new(db: Option<Store>, tasks: TaskTracker) -> Self {
        let recent = moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(if db.is_some() { TTL_BEFORE_DB } else { TTL })
            .build();
        let deleted = moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(TTL_BEFORE_DB)
            .build();
        ResponseStore {
            recent,
            deleted,
            db,
            tasks,
        }
    }

    /// Keeps `entry` under `id` (in memory now, in the database in the background).
    pub fn put(&self, id: String, entry: StoredResponse) {
        let entry = Arc::new(entry);
        if let Some(db) = self.db.clone() {
            let record = record_of(&id, &entry);
            let deleted = self.deleted.clone();
            self.tasks.spawn(async move {
                if let Err(e) = db.insert_response(&record).await {
                    tracing::warn!(error = %e, "could not store a response in the database");
                }
                // Deleted while this write was on its way: delete the row it just wrote.
                if deleted.contains_key(&record.response_id) {
                    let _ = db.delete_response(&record.response_id).await;
                }
            });
        }
        self.recent.insert(id, entry);
    }

    /// The response `id` when `caller` may see it.
    pub async fn get(&self, id: &str, caller: &Caller) -> Option<Arc<StoredResponse>> {
        if self.deleted.contains_key(id) {
            return None;
        }
        let entry = match self.recent.get(id) {
            Some(e) => e,
            None => {
                let record = match self.db.as_ref()?.response(id).await {
                    Ok(r) => r?,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read a stored response");
                        return None;
                    }
                };
                let entry = Arc::new(entry_of(record)?);
                self.recent.insert(id.to_string(), entry.clone());
                entry
            }
        };
        (caller.is_admin || entry.owner == caller.key_hash).then_some(entry)
    }

    /// Forgets the response `id` when `caller` may see it; whether it did.
    pub async fn remove(&self, id: &str, caller: &Caller) -> bool {
        if self.get(id, caller).await.is_none() {
            return false;
        }
        self.deleted.insert(id.to_string(), ());
        self.recent.invalidate(id);
        if let Some(db) = &self.db {
            if let Err(e) = db.delete_response(id).await {
                tracing::warn!(error = %e, "could not delete a stored response");
            }
        }
        true
    }
}

/// The database row of an entry.
fn record_of(id: &str, e: &StoredResponse) -> ResponseRecord {
    ResponseRecord {
        response_id: id.to_string(),
        owner: e.owner.clone(),
        response: e.response.clone(),
        input_items: Value::Array(e.input_items.clone()),
        history: serde_json::to_value(&e.history).unwrap_or(Value::Array(Vec::new())),
        created_at: chrono::Utc::now(),
    }
}

/// The entry of a database row (`None` when its history is unreadable).
fn entry_of(r: ResponseRecord) -> Option<StoredResponse> {
    let input_items = match r.input_items {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    Some(StoredResponse {
        owner: r.owner,
        response: r.response,
        input_items,
        history: serde_json::from_value(r.history).ok()?,
    })
}
