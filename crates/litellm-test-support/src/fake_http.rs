//! `FakeHttp`: a minimal scripted upstream on `127.0.0.1:0` for providers whose URL layout the
//! OpenAI and Anthropic fakes do not serve (Azure's `/openai/deployments/{d}/...?api-version=`,
//! ...). Every request, whatever its method and path, is recorded and answered with the next
//! queued [`HttpScript`], or with a 404 JSON error when the queue is empty.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use crate::fake_openai::RecordedRequest;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpScript {
    /// This status and JSON body, with extra headers.
    Json {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    /// A 200 `text/event-stream` whose body is exactly these pieces, each its own write.
    Sse(Vec<String>),
}

impl HttpScript {
    /// Status 200 with this JSON body.
    pub fn ok(body: Value) -> Self {
        HttpScript::Json {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    /// Any status with this JSON body.
    pub fn status(status: u16, body: Value) -> Self {
        HttpScript::Json {
            status,
            body,
            headers: Vec::new(),
        }
    }
}

struct Shared {
    queue: Mutex<VecDeque<HttpScript>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fake server. Shuts down when dropped.
pub struct FakeHttp {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHttp")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeHttp {
    /// Starts the server on a free loopback port (panics if it cannot bind).
    pub async fn start() -> FakeHttp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for FakeHttp");
        let addr = listener.local_addr().expect("FakeHttp local address");
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeHttp {
            addr,
            shared,
            shutdown: Some(tx),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues an answer.
    pub fn push(&self, s: HttpScript) {
        lock(&self.shared.queue).push_back(s);
    }

    /// The requests received so far (path includes the query string).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| uri.path().to_string()),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
    });
    let script = lock(&shared.queue).pop_front();
    match script {
        None => json_response(
            404,
            &json!({"error": {"message": "FakeHttp: nothing scripted", "code": "404"}}),
            &[],
        ),
        Some(HttpScript::Json {
            status,
            body,
            headers,
        }) => json_response(status, &body, &headers),
        Some(HttpScript::Sse(pieces)) => {
            let frames: Vec<Result<Bytes, std::io::Error>> =
                pieces.into_iter().map(|p| Ok(Bytes::from(p))).collect();
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(futures::stream::iter(frames)))
                .unwrap_or_else(|_| Response::new(Body::empty()))
        }
    }
}

fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
