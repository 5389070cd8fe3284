//! The spend ledger: a bounded queue in front of a background batch writer.
//!
//! `record` only puts the row on a bounded channel (waiting for room when it is full, so
//! records are never dropped). One writer task owns the receiving end and a `pending` batch:
//!
//! - it moves queued records into `pending` as they arrive and writes as soon as `pending`
//!   reaches `max_batch`;
//! - every `flush_interval` (`proxy_batch_write_at`) it writes everything queued;
//! - a failed write keeps `pending` for the next attempt; while it is full the writer stops
//!   taking records, the channel fills, and `record` callers wait (backpressure). The failure
//!   is logged once per failure streak, and again when writes recover;
//! - `flush` writes everything queued now; `shutdown` closes the queue, writes every record
//!   in it and stops the task.
//!
//! Each write is one transaction with multi-row INSERTs, and a stored `request_id` is skipped,
//! so retrying a batch whose commit outcome was unknown cannot duplicate rows.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::AuthError;
use crate::keys::KeyCache;
use crate::spend::{SpendLogFilter, SpendLogRow, SpendRecord};
use crate::store::{Dialect, Store};

/// Tuning for the batch writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerOptions {
    /// How often queued records are written (`general_settings.proxy_batch_write_at`,
    /// default 10 s). Zero is treated as 1 ms.
    pub flush_interval: Duration,
    /// Records the queue holds before `record` waits for room (default 10 000, LiteLLM's
    /// `MAX_SIZE_IN_MEMORY_QUEUE`). At least 1.
    pub queue_capacity: usize,
    /// Records per write transaction; a full batch is written without waiting for the
    /// interval (default 500). At least 1.
    pub max_batch: usize,
    /// How long the [`KeyCache`] keeps keys, users and teams (LiteLLM's
    /// `user_api_key_cache_ttl`, default 60 s).
    pub key_cache_ttl: Duration,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            flush_interval: Duration::from_secs(10),
            queue_capacity: 10_000,
            max_batch: 500,
            key_cache_ttl: Duration::from_secs(60),
        }
    }
}

/// A request to the writer task, with the channel its answer goes back on.
enum Control {
    Flush(oneshot::Sender<Result<usize, AuthError>>),
    Shutdown(oneshot::Sender<Result<(), AuthError>>),
}

struct Inner {
    store: Store,
    cache: KeyCache,
    records: mpsc::Sender<SpendRecord>,
    control: mpsc::UnboundedSender<Control>,
}

/// The spend ledger. Cheap to clone; all clones share one queue and one writer task.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Connects (`sqlite://path` creates the file; `postgres://...`), runs the migrations and
    /// starts the background writer task. Must be called inside a tokio runtime.
    pub async fn connect(database_url: &str, opts: LedgerOptions) -> Result<Ledger, AuthError> {
        let store = Store::connect(database_url).await?;
        Ok(Ledger::start(store, opts))
    }

    /// Starts a ledger on an already connected store (so other auth tables can share its
    /// pool). Must be called inside a tokio runtime.
    pub fn start(store: Store, opts: LedgerOptions) -> Ledger {
        let period = opts.flush_interval.max(Duration::from_millis(1));
        let capacity = opts.queue_capacity.clamp(1, 1 << 24);
        let max_batch = opts.max_batch.max(1);
        let (records, rx) = mpsc::channel(capacity);
        let (control, control_rx) = mpsc::unbounded_channel();
        let cache = KeyCache::new(opts.key_cache_ttl);
        let writer = Writer {
            store: store.clone(),
            cache: cache.clone(),
            rx,
            pending: Vec::with_capacity(max_batch),
            max_batch,
            failing: false,
        };
        tokio::spawn(writer.run(control_rx, period));
        Ledger {
            inner: Arc::new(Inner {
                store,
                cache,
                records,
                control,
            }),
        }
    }

    /// Queues a record for the writer; never touches the database on the caller's task. When
    /// the queue is full this waits for room rather than dropping the record. After
    /// [`Ledger::shutdown`] there is no writer, so the record is written directly instead.
    /// The record's spend is added to the cached key, user and team counters at once.
    pub async fn record(&self, rec: SpendRecord) {
        self.inner.cache.add_spend(&rec);
        if let Err(mpsc::error::SendError(rec)) = self.inner.records.send(rec).await {
            tracing::warn!(
                request_id = %rec.request_id,
                "spend record arrived after the ledger shut down; writing it directly"
            );
            let written = self
                .inner
                .store
                .insert_spend_logs(std::slice::from_ref(&rec))
                .await;
            if written.is_ok() {
                self.inner.cache.written(std::slice::from_ref(&rec));
            }
            if let Err(e) = written {
                tracing::error!(
                    request_id = %rec.request_id,
                    error = %e,
                    "could not write a spend record after shutdown"
                );
            }
        }
    }

    /// Writes everything queued so far, now. Returns rows written. On error the records stay
    /// queued for the next attempt.
    pub async fn flush(&self) -> Result<usize, AuthError> {
        let (reply, answer) = oneshot::channel();
        if self.inner.control.send(Control::Flush(reply)).is_err() {
            // The writer has finished: it wrote everything before stopping.
            return Ok(0);
        }
        answer.await.unwrap_or(Ok(0))
    }

    /// Stops the writer after writing every queued record (graceful shutdown). Idempotent; if
    /// the final write fails the writer keeps the records and a later call retries.
    pub async fn shutdown(&self) -> Result<(), AuthError> {
        let (reply, answer) = oneshot::channel();
        if self.inner.control.send(Control::Shutdown(reply)).is_err() {
            return Ok(());
        }
        answer.await.unwrap_or(Ok(()))
    }

    /// Reads stored spend logs (not the ones still queued), newest first.
    pub async fn spend_logs(&self, filter: SpendLogFilter) -> Result<Vec<SpendLogRow>, AuthError> {
        self.inner.store.spend_logs(&filter).await
    }

    /// Checks that the database answers, for `/health/readiness`. Errors carry no credentials.
    pub async fn ping(&self) -> Result<(), AuthError> {
        self.inner.store.ping().await
    }

    /// The database's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.store.dialect()
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// This replica's key cache, whose spend counters the ledger keeps current.
    pub fn key_cache(&self) -> &KeyCache {
        &self.inner.cache
    }
}

/// The background writer: owns the queue's receiving end and the batch being written.
struct Writer {
    store: Store,
    /// The key cache, told which records are written (their spend is no longer unwritten).
    cache: KeyCache,
    rx: mpsc::Receiver<SpendRecord>,
    /// Records taken off the queue and not yet written (at most `max_batch`).
    pending: Vec<SpendRecord>,
    max_batch: usize,
    /// Whether the last write failed (so a failure streak is logged once).
    failing: bool,
}

impl Writer {
    async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>, period: Duration) {
        let mut tick = tokio::time::interval_at(Instant::now() + period, period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut control_open = true;
        let mut queue_open = true;
        loop {
            if !queue_open && self.pending.is_empty() {
                // Every sender is gone (or the queue was closed) and everything is written.
                return;
            }
            let room = self.max_batch.saturating_sub(self.pending.len());
            tokio::select! {
                biased;
                cmd = control.recv(), if control_open => match cmd {
                    Some(Control::Flush(reply)) => {
                        let _ = reply.send(self.write_queued().await);
                    }
                    Some(Control::Shutdown(reply)) => {
                        self.rx.close();
                        let res = self.write_until_closed().await;
                        let done = res.is_ok();
                        let _ = reply.send(res.map(drop));
                        if done {
                            return;
                        }
                    }
                    None => control_open = false,
                },
                n = self.rx.recv_many(&mut self.pending, room), if queue_open && room > 0 => {
                    if n == 0 {
                        queue_open = false;
                    }
                    if n == 0 || self.pending.len() >= self.max_batch {
                        // Errors are logged by `write_pending`; the batch is kept for retry.
                        let _ = self.write_pending().await;
                    }
                }
                _ = tick.tick() => {
                    let _ = self.write_queued().await;
                }
            }
        }
    }

    /// Writes `pending` plus every record queued when called, in batches of `max_batch`.
    /// Records that arrive meanwhile wait for the next write, so this ends under load.
    async fn write_queued(&mut self) -> Result<usize, AuthError> {
        let mut budget = self.rx.len();
        let mut written = 0;
        loop {
            while self.pending.len() < self.max_batch && budget > 0 {
                match self.rx.try_recv() {
                    Ok(rec) => {
                        self.pending.push(rec);
                        budget -= 1;
                    }
                    Err(_) => budget = 0,
                }
            }
            if self.pending.is_empty() {
                return Ok(written);
            }
            written += self.write_pending().await?;
        }
    }

    /// Writes `pending` and everything left in the closed queue. `recv` returns `None` only
    /// once no sender can still deliver, so no record in flight is lost.
    async fn write_until_closed(&mut self) -> Result<usize, AuthError> {
        let mut written = 0;
        loop {
            let mut ended = false;
            while self.pending.len() < self.max_batch {
                match self.rx.recv().await {
                    Some(rec) => self.pending.push(rec),
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            written += self.write_pending().await?;
            if ended {
                return Ok(written);
            }
        }
    }

    /// Writes `pending` in one transaction; keeps it on failure.
    async fn write_pending(&mut self) -> Result<usize, AuthError> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        match self.store.insert_spend_logs(&self.pending).await {
            Ok(n) => {
                self.cache.written(&self.pending);
                if self.failing {
                    self.failing = false;
                    tracing::info!(rows = n, "spend-log writes recovered");
                }
                self.pending.clear();
                Ok(n)
            }
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    tracing::error!(
                        error = %e,
                        pending = self.pending.len(),
                        "could not write spend logs; keeping them to retry"
                    );
                } else {
                    tracing::debug!(error = %e, "spend-log write failed again");
                }
                Err(e)
            }
        }
    }
}
