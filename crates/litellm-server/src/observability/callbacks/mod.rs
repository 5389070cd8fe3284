//! What happens after each LLM request, off the request path: one structured access-log line,
//! an OpenTelemetry trace (`otel`, see [`crate::otel`]) and LiteLLM's `generic_api` webhook
//! (one StandardLoggingPayload-shaped JSON event per request, batched, retried, on a bounded
//! background queue).
//!
//! How the facts get here:
//! - [`track`] runs inside the request's scope (`scope.rs`, opened by the metrics middleware
//!   around every LLM route). It notes the incoming `traceparent`, and the request's messages
//!   when some sink logs them.
//! - [`CallbackObserver`] (one of the router's observers, next to the metrics one, through
//!   [`Observers`]) adds every upstream attempt to the scope.
//! - The handlers hand their spend record to [`crate::spend::log`], which calls [`on_record`]:
//!   inside a request the record waits in the scope and [`track`] emits it with the HTTP status
//!   once the handler answered; a stream emits it itself when it ends (`stream.rs`).
//! - A request that failed before a spend record existed (auth, validation, upstream errors) is
//!   emitted by [`track`] as a failure, with the error message of the response.
//!
//! Secrets: a key never appears in an event or a log line; only its alias, its hash (events, as
//! LiteLLM's `user_api_key_hash`) or the first 12 characters of the hash (the access log).
//! Message contents are only captured when a sink logs them and
//! `litellm_settings.turn_off_message_logging` is not set; the access log shows them only at
//! debug level.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use litellm_auth::SpendRecord;
use litellm_core::LlmError;
use litellm_router::{AttemptKind, Deployment, RouterObserver};

use crate::config::{LitellmSettings, ProxyConfig};
use crate::error::ApiError;
use crate::otel::Otel;
use crate::state::AppState;

/// The `tracing` target of the access log (`RUST_LOG=litellm_rs::access=off` silences it).
pub const ACCESS_TARGET: &str = "litellm_rs::access";

/// Events a `generic_api` logger buffers before it sends (LiteLLM's `DEFAULT_BATCH_SIZE`).
pub const DEFAULT_BATCH_SIZE: usize = 512;
/// Seconds between flushes (LiteLLM's `DEFAULT_FLUSH_INTERVAL_SECONDS`).
pub const DEFAULT_FLUSH_INTERVAL: f64 = 5.0;
/// Events waiting to be sent before new ones are dropped (and counted).
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 10_000;
/// Retries of a failed delivery (connection error, 408, 429, 5xx), with doubling backoff.
pub const DELIVERY_RETRIES: u32 = 3;
/// The first retry's delay.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Response bodies read to capture them (or their error), at most; bigger ones are not.
const CAPTURE_LIMIT: u64 = 1024 * 1024;

mod config;
mod generic;
mod layer;
mod record;
mod sinks;
#[cfg(test)]
mod tests;

pub use config::*;
pub use generic::*;
pub use layer::*;
pub use record::*;
pub use sinks::*;
