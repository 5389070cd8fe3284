//! The request side: the router observer that adds attempts to the request's scope, the
//! handlers' hooks (`on_record`, `take_over_for_stream`, `on_stream_end`), and the [`track`]
//! middleware that emits each LLM request's record once the response is known.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Per-request scope

/// A request's scope (see `scope.rs`).
pub use crate::observability::scope::RequestScope as CallScope;

/// The current request's scope, if running inside [`track`].
pub fn current_scope() -> Option<CallScope> {
    crate::observability::scope::current()
}

/// The current request asked for a stream: its record says so even when it is refused before
/// any stream starts.
pub fn note_stream(stream: bool) {
    if let Some(scope) = current_scope() {
        scope.lock().stream = stream;
    }
}

/// A stream takes over emitting the current call (called when its body is built, inside the
/// handler). Returns the scope for [`on_stream_end`].
pub fn take_over_for_stream() -> Option<CallScope> {
    let scope = current_scope()?;
    scope.lock().stream_owned = true;
    Some(scope)
}

/// A handler produced a spend record: inside a request it waits for the response status;
/// outside one it is emitted at once.
pub fn on_record(state: &AppState, rec: &SpendRecord) {
    match current_scope() {
        Some(scope) => scope.lock().pending = Some(rec.clone()),
        None => state.callbacks.emit(CallRecord::from_spend(rec), None),
    }
}

/// A stream ended (or was dropped) with this spend record.
pub fn on_stream_end(state: &AppState, scope: Option<&CallScope>, rec: &SpendRecord) {
    let mut call = CallRecord::from_spend(rec);
    call.stream = true;
    let mut parent = None;
    if let Some(scope) = scope {
        let mut s = scope.lock();
        call.path = s.path.clone();
        call.attempts = std::mem::take(&mut s.attempts);
        call.messages = s.messages.take();
        parent = s.parent.take();
        call = call.with_labels(&s.labels);
    }
    state.callbacks.emit(call, parent.as_ref());
}

/// The router observer that adds each attempt to the current request's scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallbackObserver;

impl RouterObserver for CallbackObserver {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        let Some(scope) = current_scope() else { return };
        let end = SystemTime::now();
        let took = match outcome {
            Ok(d) => d,
            Err(_) => Duration::ZERO,
        };
        let attempt = Attempt {
            deployment_id: deployment.id.clone(),
            model_group: model_group.to_string(),
            provider: deployment.backend.provider().to_string(),
            model: deployment.model().to_string(),
            api_base: deployment
                .backend
                .api_base()
                .map(|b| crate::headers::public_api_base(b).into_owned()),
            kind: match kind {
                AttemptKind::Chat => "acompletion",
                AttemptKind::Stream => "acompletion_stream",
                AttemptKind::Embedding => "aembedding",
                AttemptKind::Family(family) => family.call_type(),
            },
            start: end.checked_sub(took).unwrap_or(end),
            end,
            error: outcome.err().map(|e| AttemptError {
                class: e.kind.litellm_class(),
                status: e.status,
                message: e.message.chars().take(500).collect(),
            }),
        };
        scope.lock().attempts.push(attempt);
    }
}

/// Several router observers behind the router's one observer slot (metrics and callbacks).
pub struct Observers(pub Vec<Arc<dyn RouterObserver>>);

impl RouterObserver for Observers {
    fn on_attempt_end(
        &self,
        deployment: &Deployment,
        model_group: &str,
        kind: AttemptKind,
        outcome: Result<Duration, &LlmError>,
    ) {
        for o in &self.0 {
            o.on_attempt_end(deployment, model_group, kind, outcome);
        }
    }

    fn on_cooldown(&self, deployment: &Deployment, model_group: &str, error: &LlmError) {
        for o in &self.0 {
            o.on_cooldown(deployment, model_group, error);
        }
    }
}

/// The call type of an LLM route, for failures (LiteLLM's names).
pub(super) fn call_type_for(path: &str) -> &'static str {
    if path.ends_with("/embeddings") {
        "aembedding"
    } else if path.ends_with("/messages") {
        "anthropic_messages"
    } else if path.ends_with("/responses") {
        "aresponses"
    } else if path.ends_with("/rerank") {
        "arerank"
    } else if path.ends_with("/moderations") {
        "amoderation"
    } else if path.ends_with("/images/generations") {
        "aimage_generation"
    } else if path.ends_with("/completions") && !path.ends_with("/chat/completions") {
        "atext_completion"
    } else {
        "acompletion"
    }
}

/// The messages (or embedding input) of a request body.
pub(super) fn request_messages(body: &[u8]) -> Option<Value> {
    #[derive(Deserialize)]
    struct Probe {
        messages: Option<Value>,
        input: Option<Value>,
    }
    let p: Probe = serde_json::from_slice(body).ok()?;
    p.messages.or(p.input)
}

/// Reads a small body whole (its exact size known and at most [`CAPTURE_LIMIT`]).
pub(super) async fn read_small(body: Body) -> Result<bytes::Bytes, Body> {
    use axum::body::HttpBody as _;
    match body.size_hint().exact() {
        Some(n) if n <= CAPTURE_LIMIT => match axum::body::to_bytes(body, n as usize).await {
            Ok(b) => Ok(b),
            Err(_) => Ok(bytes::Bytes::new()),
        },
        _ => Err(body),
    }
}

/// Middleware around the LLM routes: opens the request's scope and emits its record.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !crate::metrics::is_llm_route(&path) {
        return next.run(req).await;
    }
    let callbacks = state.callbacks.clone();
    let start = SystemTime::now();
    let parent = callbacks
        .otel
        .as_ref()
        .and_then(|_| remote_parent(req.headers()));
    let mut messages = None;
    let req = if callbacks.wants_messages() {
        use axum::body::HttpBody as _;
        let (parts, body) = req.into_parts();
        // Only bodies of known size within the request limit (bigger ones get a 413 anyway).
        match body.size_hint().exact() {
            Some(n) if n <= state.settings.body_limit as u64 => {
                match axum::body::to_bytes(body, n as usize).await {
                    Ok(bytes) => {
                        messages = request_messages(&bytes);
                        Request::from_parts(parts, Body::from(bytes))
                    }
                    Err(_) => {
                        return ApiError::bad_request(None, "could not read the request body")
                            .into_response()
                    }
                }
            }
            _ => Request::from_parts(parts, body),
        }
    } else {
        req
    };
    // The scope the metrics middleware opened around this request.
    let Some(scope) = current_scope() else {
        return next.run(req).await;
    };
    {
        let mut s = scope.lock();
        s.path = path.clone();
        s.messages = messages;
        s.parent = parent;
    }
    let response = next.run(req).await;
    let (labels, pending, attempts, messages, parent, streamed) = {
        let mut s = scope.lock();
        if s.stream_owned {
            return response;
        }
        (
            s.labels.clone(),
            s.pending.take(),
            std::mem::take(&mut s.attempts),
            s.messages.take(),
            s.parent.take(),
            s.stream,
        )
    };
    let status = response.status();
    let (mut call, response) = match pending {
        Some(rec) => {
            let mut call = CallRecord::from_spend(&rec);
            let response = if callbacks.wants_messages() && status.is_success() {
                let (parts, body) = response.into_parts();
                match read_small(body).await {
                    Ok(bytes) => {
                        call.response = serde_json::from_slice(&bytes).ok();
                        Response::from_parts(parts, Body::from(bytes))
                    }
                    Err(body) => Response::from_parts(parts, body),
                }
            } else {
                response
            };
            (call, response)
        }
        None if status.is_success() => return response,
        None => {
            let class = crate::error::exception_class(response.extensions());
            let (parts, body) = response.into_parts();
            let (error, response) = match read_small(body).await {
                Ok(bytes) => (
                    error_from_body(status, class, &bytes),
                    Response::from_parts(parts, Body::from(bytes)),
                ),
                Err(body) => (
                    error_from_body(status, class, b""),
                    Response::from_parts(parts, body),
                ),
            };
            let last = attempts.last();
            let call = CallRecord {
                request_id: uuid::Uuid::new_v4().to_string(),
                call_type: call_type_for(&path).to_string(),
                start,
                end: SystemTime::now(),
                model_group: last.map(|a| a.model_group.clone()),
                model_id: last.map(|a| a.deployment_id.clone()),
                provider: last.map(|a| a.provider.clone()),
                model: last.map(|a| a.model.clone()),
                api_base: last.and_then(|a| a.api_base.clone()),
                error: Some(error),
                ..CallRecord::default()
            };
            (call, response)
        }
    };
    call.path = path;
    call.stream |= streamed;
    call.status_code = status.as_u16();
    call.attempts = attempts;
    call.messages = messages;
    call.cache_key = response
        .headers()
        .get("x-litellm-cache-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let call = call.with_labels(&labels);
    callbacks.emit(call, parent.as_ref());
    response
}

/// The caller's trace (W3C `traceparent`), if it sent one.
pub(super) fn remote_parent(headers: &HeaderMap) -> Option<opentelemetry::Context> {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::TraceContextExt as _;
    headers.get("traceparent")?;
    let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(headers));
    cx.span().span_context().is_valid().then_some(cx)
}

/// The error of a failed response: its OpenAI (or Anthropic) error body, else the status; its
/// LiteLLM exception class as the response's `ErrorKind` named it.
pub(super) fn error_from_body(status: StatusCode, class: &str, body: &[u8]) -> ErrorInfo {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = v["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    ErrorInfo {
        message,
        class: class.to_string(),
        code: Some(status.as_u16().to_string()),
    }
}
