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

mod upstreams;
#[allow(unused_imports)] // Only the tests over fake upstreams use these.
pub use upstreams::*;

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
    /// The header `name` parsed as a `T`; panics when it is missing or does not parse.
    pub fn parsed_header<T: std::str::FromStr>(&self, name: &str) -> T {
        let v = self
            .header(name)
            .unwrap_or_else(|| panic!("no {name} header"));
        v.parse()
            .unwrap_or_else(|_| panic!("{name}: {v:?} does not parse"))
    }
}

/// An in-process proxy.
pub struct Proxy {
    pub app: axum::Router,
    pub state: AppState,
    pub ledger: Ledger,
    /// What holds the ledger's database (removes it on drop).
    _db: Box<dyn std::any::Any + Send + Sync>,
}

/// A temp directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Proxy {
    /// A proxy for a config.yaml text, with a fresh SQLite ledger and no retry backoff.
    pub async fn new(yaml: &str) -> Proxy {
        let dir = std::env::temp_dir().join(format!("litellm-rs-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("spend.db").display());
        Proxy::on_db(yaml, &url, Duration::from_secs(3600), TempDir(dir)).await
    }

    /// A proxy for a config.yaml text with its ledger on `db_url`, written every
    /// `flush_interval`; `db` (what holds the database) is dropped with the proxy.
    pub async fn on_db(
        yaml: &str,
        db_url: &str,
        flush_interval: Duration,
        db: impl std::any::Any + Send + Sync,
    ) -> Proxy {
        let config = parse_config(yaml)
            .unwrap_or_else(|e| panic!("config: {e}"))
            .config;
        let (state, ledger) = test_state(&config, db_url, flush_interval).await;
        Proxy {
            app: app(state.clone()),
            state,
            ledger,
            _db: Box::new(db),
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

    /// DELETEs `path` with `key` as the bearer token.
    pub async fn delete_as(&self, key: &str, path: &str) -> Resp {
        let req = Request::delete(path).header("authorization", bearer(key));
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A chat of one user message, `content`, to `model`, with no key.
    pub async fn ask(&self, model: &str, content: impl Into<Value>) -> Resp {
        self.post("/v1/chat/completions", user_says(model, content))
            .await
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
        for _ in 0..500 {
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
    user_says(model, "hi")
}

/// The chat body of one user message, `content`, to `model`.
pub fn user_says(model: &str, content: impl Into<Value>) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": content.into()}]})
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

/// A local server (as [`serve_local`]) with one `POST` route whose handler records what it
/// gets in a shared `T`.
pub struct Recorder<T> {
    pub addr: std::net::SocketAddr,
    pub state: std::sync::Arc<std::sync::Mutex<T>>,
}

impl<T: Default + Send + 'static> Recorder<T> {
    /// Serves `POST {path}` with `handler`, its state a fresh `T`.
    pub async fn start<H, M>(path: &str, handler: H) -> Recorder<T>
    where
        H: axum::handler::Handler<M, std::sync::Arc<std::sync::Mutex<T>>>,
        M: 'static,
    {
        let state = std::sync::Arc::new(std::sync::Mutex::new(T::default()));
        let app = axum::Router::new()
            .route(path, axum::routing::post(handler))
            .with_state(state.clone());
        Recorder {
            addr: serve_local(app).await,
            state,
        }
    }

    /// `http://{addr}`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The `data:` payloads of an SSE body, in order.
pub fn sse_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_string))
        .collect()
}

/// The chunks of a chat stream response, checked: a `text/event-stream` whose last event is
/// `[DONE]` and whose other events are `chat.completion.chunk` objects.
pub fn chat_chunks(r: &Resp) -> Vec<Value> {
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let events = sse_events(&r.text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    chunks
}

/// The text a chat stream's chunks carry: their first choices' `delta.content`, joined.
pub fn streamed_text(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
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
