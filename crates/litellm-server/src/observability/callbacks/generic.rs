//! LiteLLM's `generic_api` webhook: a bounded queue, batches, retries with backoff, a worker
//! per endpoint, flushed on shutdown.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// generic_api

/// How a batch is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LogFormat {
    /// One POST with a JSON array of events.
    JsonArray,
    /// One POST with one JSON event per line.
    Ndjson,
    /// One POST per event.
    Single,
}

/// LiteLLM's `generic_api` webhook: events queue in a bounded channel; a background task
/// sends them in batches (every `batch_size` events or `flush_interval`), retrying failed
/// deliveries with backoff.
pub struct GenericLogger {
    pub name: String,
    pub(super) tx: mpsc::Sender<Value>,
    pub(super) events: Events,
    pub message_logging: bool,
    pub(super) dropped: Arc<AtomicU64>,
    pub(super) stop: CancellationToken,
    pub(super) worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl GenericLogger {
    /// Starts the logger, or `None` without an endpoint.
    pub(super) fn start(
        name: &str,
        settings: Option<&CallbackSettings>,
        mut events: Events,
        turn_off_message_logging: bool,
        lookup: &dyn Fn(&str) -> Option<String>,
        runtime: &tokio::runtime::Handle,
    ) -> Option<GenericLogger> {
        let default = CallbackSettings::default();
        let s = settings.unwrap_or(&default);
        let endpoint = s
            .endpoint
            .clone()
            .or_else(|| lookup("GENERIC_LOGGER_ENDPOINT"))
            .filter(|e| !e.trim().is_empty())?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let mut add = |k: &str, v: &str| {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.trim().as_bytes()),
                HeaderValue::from_str(v.trim()),
            ) {
                headers.insert(k, v);
            }
        };
        if let Some(env) = lookup("GENERIC_LOGGER_HEADERS") {
            for item in env.split(',') {
                if let Some((k, v)) = item.split_once('=') {
                    add(k, v);
                }
            }
        }
        for (k, v) in s.headers.iter().flatten() {
            add(k, v);
        }
        if let Some(types) = &s.event_types {
            events.success &= types.iter().any(|t| t == "llm_api_success");
            events.failure &= types.iter().any(|t| t == "llm_api_failure");
        }
        let format = match s.log_format.as_deref() {
            Some("ndjson") => LogFormat::Ndjson,
            Some("single") => LogFormat::Single,
            _ => LogFormat::JsonArray,
        };
        let batch_size = s.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1);
        let flush = s
            .flush_interval
            .filter(|f| f.is_finite() && *f > 0.0)
            .unwrap_or(DEFAULT_FLUSH_INTERVAL);
        let (tx, rx) = mpsc::channel(s.max_queue_size.unwrap_or(DEFAULT_MAX_QUEUE_SIZE).max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let delivery = Delivery {
            name: name.to_string(),
            client,
            endpoint,
            headers,
            format,
            dropped: dropped.clone(),
        };
        tracing::info!(
            callback = %name,
            endpoint = %redact_endpoint(&delivery.endpoint),
            "generic_api logging on"
        );
        let worker = runtime.spawn(run_worker(
            rx,
            delivery,
            batch_size,
            Duration::from_secs_f64(flush),
            stop.clone(),
        ));
        Some(GenericLogger {
            name: name.to_string(),
            tx,
            events,
            message_logging: !turn_off_message_logging && s.message_logging.unwrap_or(true),
            dropped,
            stop,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Queues one event; a full queue drops it (counted, and logged now and then).
    pub fn log(&self, event: Value) {
        if self.tx.try_send(event).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n % 1000 == 0 {
                tracing::warn!(
                    callback = %self.name,
                    dropped = n,
                    "generic_api queue is full (or stopped): event dropped"
                );
            }
        }
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends what is queued and stops (waits at most 30 s).
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let worker = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = worker {
            if tokio::time::timeout(Duration::from_secs(30), w)
                .await
                .is_err()
            {
                tracing::warn!(callback = %self.name, "generic_api: shutdown flush timed out");
            }
        }
    }
}

/// Sends batches to the endpoint.
pub(super) struct Delivery {
    pub(super) name: String,
    pub(super) client: reqwest::Client,
    pub(super) endpoint: String,
    pub(super) headers: HeaderMap,
    pub(super) format: LogFormat,
    pub(super) dropped: Arc<AtomicU64>,
}

impl Delivery {
    pub(super) async fn send(&self, batch: Vec<Value>) {
        if batch.is_empty() {
            return;
        }
        let bodies: Vec<(Vec<u8>, u64)> = match self.format {
            LogFormat::JsonArray => vec![(
                serde_json::to_vec(&batch).unwrap_or_default(),
                batch.len() as u64,
            )],
            LogFormat::Ndjson => {
                let lines: Vec<String> = batch.iter().map(Value::to_string).collect();
                vec![(lines.join("\n").into_bytes(), batch.len() as u64)]
            }
            LogFormat::Single => batch
                .iter()
                .map(|e| (serde_json::to_vec(e).unwrap_or_default(), 1))
                .collect(),
        };
        for (body, count) in bodies {
            if let Err(why) = self.post(body).await {
                let total = self.dropped.fetch_add(count, Ordering::Relaxed) + count;
                tracing::error!(
                    callback = %self.name,
                    endpoint = %redact_endpoint(&self.endpoint),
                    events = count,
                    dropped_total = total,
                    error = %why,
                    "generic_api: delivery failed; events dropped"
                );
            }
        }
    }

    /// One POST, retried on connection errors, 408, 429 and 5xx with doubling backoff.
    pub(super) async fn post(&self, body: Vec<u8>) -> Result<(), String> {
        let body = bytes::Bytes::from(body);
        let mut delay = FIRST_RETRY_DELAY;
        let mut last = String::new();
        for attempt in 0..=DELIVERY_RETRIES {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            let sent = self
                .client
                .post(&self.endpoint)
                .headers(self.headers.clone())
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => {
                    let status = r.status();
                    last = format!("status {status}");
                    let retryable = status == StatusCode::REQUEST_TIMEOUT
                        || status == StatusCode::TOO_MANY_REQUESTS
                        || status.is_server_error();
                    if !retryable {
                        return Err(last);
                    }
                }
                Err(e) => last = e.without_url().to_string(),
            }
            tracing::debug!(callback = %self.name, attempt, error = %last, "generic_api: retrying");
        }
        Err(format!("{last} after {DELIVERY_RETRIES} retries"))
    }
}

pub(super) async fn run_worker(
    mut rx: mpsc::Receiver<Value>,
    delivery: Delivery,
    batch_size: usize,
    flush: Duration,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(batch_size.min(1024));
    let mut tick = tokio::time::interval(flush);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            ev = rx.recv() => match ev {
                Some(e) => {
                    batch.push(e);
                    if batch.len() >= batch_size {
                        delivery.send(std::mem::take(&mut batch)).await;
                    }
                }
                None => break,
            },
            _ = tick.tick() => delivery.send(std::mem::take(&mut batch)).await,
        }
    }
    rx.close();
    while let Some(e) = rx.recv().await {
        batch.push(e);
        if batch.len() >= batch_size {
            delivery.send(std::mem::take(&mut batch)).await;
        }
    }
    delivery.send(batch).await;
}
