//! Shared harness for the server tests: an in-process proxy (axum app over a temp SQLite ledger)
//! driven with `tower::ServiceExt::oneshot`, plus SSE and base64 helpers.
#![allow(dead_code, clippy::unwrap_used)] // Not every test file uses every helper.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use serde_json::{json, Value};

use litellm_auth::{Ledger, LedgerOptions, SpendLogFilter, SpendLogRow};
use litellm_router::{Backoff, Router};
use litellm_server::{app, parse_config, AppState, ProxyConfig};

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
        let config = parse_config(yaml)
            .unwrap_or_else(|e| panic!("config: {e}"))
            .config;
        let dir = std::env::temp_dir().join(format!("litellm-rs-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("spend.db").display());
        let (state, ledger) = test_state(&config, &url, Duration::from_secs(3600)).await;
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

    /// POSTs `body` as JSON with `key` as the bearer token.
    pub async fn post_as(&self, key: &str, path: &str, body: Value) -> Resp {
        self.post_raw(
            path,
            serde_json::to_vec(&body).unwrap(),
            &[("authorization", &bearer(key))],
        )
        .await
    }

    /// GETs `path` with `key` as the bearer token.
    pub async fn get_as(&self, key: &str, path: &str) -> Resp {
        self.get(path, &[("authorization", &bearer(key))]).await
    }

    /// A one-message chat ([`hi`]) with `model`, `key` as the bearer token.
    pub async fn chat(&self, key: &str, model: &str) -> Resp {
        self.post_as(key, "/v1/chat/completions", hi(model)).await
    }

    /// `/key/generate` by `admin` with `body`: asserts it succeeds and returns the new key.
    pub async fn new_key_as(&self, admin: &str, body: Value) -> String {
        let r = self.post_as(admin, "/key/generate", body).await;
        assert_eq!(r.status, StatusCode::OK, "/key/generate: {}", r.text);
        r.json()["key"].as_str().unwrap().to_string()
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

/// The master key of most test configs.
pub const MASTER: &str = "sk-test-master-0123";

/// The `mock-gpt` model entry of a `model_list`: the mock answers "Hello from the mock" at
/// $0.001 per prompt token and $0.002 per completion token, so every call spends a little.
pub const MOCK_GPT: &str = r#"  - model_name: mock-gpt
    litellm_params:
      model: mock/gpt-4o
      mock_response: "Hello from the mock"
      input_cost_per_token: 0.001
      output_cost_per_token: 0.002
"#;

/// A config.yaml: a `model_list` of `models` (its YAML entries), the top-level sections in
/// `rest` (may be empty), and `general_settings.master_key: master`.
pub fn config_yaml(models: &str, rest: &str, master: &str) -> String {
    format!("model_list:\n{models}{rest}general_settings:\n  master_key: {master}\n")
}

/// The router of a test proxy for `config`: its model list and settings, no retry backoff.
pub fn test_router(config: &ProxyConfig) -> Router {
    Router::with_settings(config.model_list.clone(), config.router_settings.clone())
        .unwrap()
        .with_backoff(Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(2),
            jitter: Duration::ZERO,
        })
}

/// The state of a test proxy for `config` ([`test_router`]), with a ledger on `db_url` that
/// writes every `flush_interval`.
pub async fn test_state(
    config: &ProxyConfig,
    db_url: &str,
    flush_interval: Duration,
) -> (AppState, Ledger) {
    let ledger = Ledger::connect(
        db_url,
        LedgerOptions {
            flush_interval,
            ..LedgerOptions::default()
        },
    )
    .await
    .unwrap();
    let state = AppState::new(config, test_router(config), Some(ledger.clone()));
    (state, ledger)
}

/// `Bearer {key}`, an `authorization` header value.
pub fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// The chat body of one user message, `hi`, to `model`.
pub fn hi(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

/// `error.<field>` of an OpenAI-shaped error body as a string, empty without one.
pub fn error_field(r: &Resp, field: &str) -> String {
    r.json()["error"][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Serves `app` on a free loopback port (in the background, for the test's lifetime); returns
/// its address.
pub async fn serve_local(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
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
