//! Shared harness for the server tests: an in-process proxy (axum app over a temp SQLite ledger)
//! driven with `tower::ServiceExt::oneshot`, plus SSE and base64 helpers.
#![allow(dead_code, clippy::unwrap_used)] // Not every test file uses every helper.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use litellm_auth::{Ledger, LedgerOptions, SpendLogFilter, SpendLogRow};
use litellm_router::{Backoff, Router};
use litellm_server::{app, parse_config, AppState};

/// A response with its body read.
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An in-process proxy.
pub struct Proxy {
    pub app: axum::Router,
    pub state: AppState,
    pub ledger: Ledger,
    dir: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Proxy {
    /// A proxy for a config.yaml text, with a fresh SQLite ledger and no retry backoff.
    pub async fn new(yaml: &str) -> Proxy {
        let loaded = parse_config(yaml).unwrap_or_else(|e| panic!("config: {e}"));
        let config = loaded.config;
        let router =
            Router::with_settings(config.model_list.clone(), config.router_settings.clone())
                .unwrap()
                .with_backoff(Backoff {
                    initial: Duration::from_millis(1),
                    max: Duration::from_millis(2),
                    jitter: Duration::ZERO,
                });
        let dir = std::env::temp_dir().join(format!("litellm-rs-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("spend.db").display());
        let ledger = Ledger::connect(
            &url,
            LedgerOptions {
                flush_interval: Duration::from_secs(3600),
                ..LedgerOptions::default()
            },
        )
        .await
        .unwrap();
        let state = AppState::new(&config, router, Some(ledger.clone()));
        Proxy {
            app: app(state.clone()),
            state,
            ledger,
            dir,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Resp {
        self.post_raw(path, serde_json::to_vec(&body).unwrap(), &[])
            .await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::post(path).header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::get(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// Flushes the ledger until at least `n` spend rows are stored (stream records are queued
    /// from a background task when the body ends), then returns them.
    pub async fn flushed_spend_logs(&self, n: usize) -> Vec<SpendLogRow> {
        for _ in 0..200 {
            self.ledger.flush().await.unwrap();
            let rows = self
                .ledger
                .spend_logs(SpendLogFilter::default())
                .await
                .unwrap();
            if rows.len() >= n {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("fewer than {n} spend rows were written");
    }
}

/// The `data:` payloads of an SSE body, in order.
pub fn sse_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

/// Decodes OpenAI's base64 embedding (little-endian f32s).
pub fn decode_f32_base64(s: &str) -> Vec<f32> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}
