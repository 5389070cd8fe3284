//! `FakeHttp`: a minimal scripted upstream on `127.0.0.1:0` for providers whose URL layout the
//! OpenAI and Anthropic fakes do not serve (Azure's `/openai/deployments/{d}/...?api-version=`,
//! ...). Every request, whatever its method and path, is recorded and answered with the next
//! queued [`HttpScript`], or with a 404 JSON error when the queue is empty.
//!
//! A `POST` to a path ending in `/chat/completions` speaks OpenAI's format (Azure's
//! deployments): a conversation OpenAI would refuse gets OpenAI's 400 `invalid_request_error`
//! instead of the next script (see [`crate::history::openai`]; the request is still recorded).

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use crate::fake_server::{fake_handle, FakeHeaders, Incoming, ServerState};
use crate::history;

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

type Shared = ServerState<HttpScript>;

fake_handle!(FakeHttp(FakeServer<HttpScript>), start: (handle, ()),
    base_url: "`http://127.0.0.1:PORT`.",
    requests: "Paths include the query string.");

async fn handle(shared: Arc<Shared>, req: Incoming) -> Response {
    let parsed = shared.record(&req);
    if req.method == Method::POST && req.uri.path().ends_with("/chat/completions") {
        if let Err(refusal) = parsed.as_ref().map_or(Ok(()), history::openai) {
            return HEADERS.json(400, &refusal.body(), &[]);
        }
    }
    let script = shared.pop();
    match script {
        None => HEADERS.json(
            404,
            &json!({"error": {"message": "FakeHttp: nothing scripted", "code": "404"}}),
            &[],
        ),
        Some(HttpScript::Json {
            status,
            body,
            headers,
        }) => HEADERS.json(status, &body, &headers),
        Some(HttpScript::Sse(pieces)) => {
            HEADERS.stream(pieces.into_iter().map(Bytes::from).collect())
        }
    }
}

/// The headers of every answer.
const HEADERS: FakeHeaders = FakeHeaders {
    json: &[("content-type", "application/json")],
    stream: &[("content-type", "text/event-stream")],
};
