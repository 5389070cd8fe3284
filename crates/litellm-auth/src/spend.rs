//! Spend-log rows: what the proxy records per call, and how they are queried.
//!
//! The columns follow LiteLLM's `LiteLLM_SpendLogs` (1.109.1 `schema.prisma`) in snake_case, but
//! the table is `spend_logs` and the schema is ours: we are not byte-compatible with LiteLLM's
//! Prisma tables, so a LiteLLM database cannot be pointed at as-is. Notable differences:
//! `api_key` is `api_key_hash`, `startTime`/`endTime`/`completionStartTime` are
//! `start_time`/`end_time`/`completion_start_time`, `cache_hit` is a boolean, and the columns we
//! do not fill yet (`messages`, `response`, `session_id`, `requester_ip_address`, ...) are absent
//! until a migration adds them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One spend-log row: a finished (or failed) proxied call.
///
/// Times are stored with microsecond precision (sub-microsecond digits are truncated on both
/// dialects). Token counts are stored as signed 64-bit integers, saturating above `i64::MAX`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpendRecord {
    /// The call id (`x-litellm-call-id`); the primary key. Writing the same id twice keeps the
    /// first row, which makes retried batch writes idempotent.
    pub request_id: String,
    /// `"acompletion"` or `"aembedding"`.
    pub call_type: String,
    /// `hash_token` of the caller's key; `""` when the call carried none.
    pub api_key_hash: String,
    /// USD cost.
    pub spend: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// When the first streamed chunk arrived (streams only).
    pub completion_start_time: Option<DateTime<Utc>>,
    /// The model the upstream reported.
    pub model: String,
    /// The deployment id.
    pub model_id: String,
    /// The `model_name` the client asked for.
    pub model_group: String,
    pub custom_llm_provider: String,
    /// The upstream base URL, query string stripped.
    pub api_base: String,
    /// The `user` the client sent (LiteLLM's `user` column).
    pub user: Option<String>,
    pub end_user: Option<String>,
    /// The caller's key's team; its spend counter grows with this row.
    pub team_id: Option<String>,
    /// The caller's key's owner (an internal user); its spend counter grows with this row.
    pub user_id: Option<String>,
    /// Free-form JSON (retries, fallbacks, later key alias and cost breakdown).
    pub metadata: serde_json::Value,
    pub request_tags: Vec<String>,
    pub cache_hit: bool,
    /// `"success"` or `"failure"`.
    pub status: String,
}

/// A stored spend-log row as read back: the record as written (times at microsecond precision).
pub type SpendLogRow = SpendRecord;

/// Which spend-log rows to read. Every set field must match; rows come newest first (by
/// `start_time`, then `request_id` descending).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendLogFilter {
    pub api_key_hash: Option<String>,
    pub model_group: Option<String>,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// Rows that started at or after this time.
    pub start_time: Option<DateTime<Utc>>,
    /// Rows that started before this time.
    pub end_time: Option<DateTime<Utc>>,
    /// Rows whose `request_tags` hold any of these tags.
    pub tags: Option<Vec<String>>,
    /// At most this many rows; `None` reads all.
    pub limit: Option<u32>,
    /// Skip this many rows first (pagination; only with `limit`).
    pub offset: Option<u64>,
}
