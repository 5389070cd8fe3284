//! Stored Responses API answers in the key database (table `responses`): the row type, how it
//! maps to the table (an `Entity`), and the store's insert, lookup and delete. The proxy keeps a
//! bounded in-memory copy in front (`routes/responses/store.rs`); this table is what survives a
//! restart and what every replica sees.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::AuthError;

use super::entity::{Binder, Entity, Reader};
use super::{on_backend, postgres, sqlite, Backend, Store};

/// One stored response.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRecord {
    /// The `resp_...` id the client got.
    pub response_id: String,
    /// The SHA-256 of the key that made it (`""` without a key).
    pub owner: String,
    /// The `response` object as the client got it.
    pub response: Value,
    /// The request's input items (a JSON array).
    pub input_items: Value,
    /// The conversation so far, as chat messages (a JSON array), for `previous_response_id`.
    pub history: Value,
    pub created_at: DateTime<Utc>,
}

impl Entity for ResponseRecord {
    const TABLE: &'static str = "responses";
    const ID: &'static str = "response_id";
    const COLUMNS: &'static [&'static str] = &[
        "response_id",
        "owner",
        "response",
        "input_items",
        "history",
        "created_at",
    ];
    const JSON: &'static [&'static str] = &["response", "input_items", "history"];

    fn bind(&self, b: &mut dyn Binder) {
        b.text(Some(self.response_id.clone()));
        b.text(Some(self.owner.clone()));
        b.json(self.response.to_string());
        b.json(self.input_items.to_string());
        b.json(self.history.to_string());
        b.time(Some(self.created_at));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        Ok(ResponseRecord {
            response_id: r.text("response_id")?.unwrap_or_default(),
            owner: r.text("owner")?.unwrap_or_default(),
            response: r.json("response")?,
            input_items: r.json("input_items")?,
            history: r.json("history")?,
            created_at: r.time("created_at")?.unwrap_or_default(),
        })
    }
}

impl Store {
    /// Stores a response; an existing id is a [`AuthError::Conflict`].
    pub async fn insert_response(&self, r: &ResponseRecord) -> Result<(), AuthError> {
        on_backend!(self, insert(r))
    }

    /// The stored response with this id.
    pub async fn response(&self, id: &str) -> Result<Option<ResponseRecord>, AuthError> {
        self.by_id(id).await
    }

    /// Deletes a stored response; whether it existed.
    pub async fn delete_response(&self, id: &str) -> Result<bool, AuthError> {
        let ids = [id.to_string()];
        let gone = on_backend!(self, delete::<ResponseRecord>(&ids, None))?;
        Ok(!gone.is_empty())
    }
}
