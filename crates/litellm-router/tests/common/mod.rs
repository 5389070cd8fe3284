//! Shared harness of the router tests: a scripted `ModelBackend` that plays a list of steps,
//! and builders for deployments, routers and requests.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use litellm_router::*;

/// What a scripted backend does on its next call.
#[derive(Clone)]
pub enum Step {
    Ok(&'static str),
    Fail(ErrorKind),
    FailRetryAfter(ErrorKind, Duration),
    Sleep(Duration),
    /// A stream whose first item is an error.
    StreamFailsFirst(ErrorKind),
}

/// A backend that plays `steps` in order (then answers "default") and counts its calls.
pub struct Scripted {
    name: String,
    steps: Mutex<VecDeque<Step>>,
    calls: Mutex<u32>,
}

impl Scripted {
    pub fn new(name: &str, steps: Vec<Step>) -> Arc<Self> {
        Arc::new(Scripted {
            name: name.into(),
            steps: Mutex::new(steps.into()),
            calls: Mutex::new(0),
        })
    }
    pub fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
    fn next(&self) -> Step {
        *self.calls.lock().unwrap() += 1;
        self.steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Step::Ok("default"))
    }
    fn response(&self, text: &str) -> ChatResponse {
        chat_response("chatcmpl-1", &self.name, text)
    }
    fn err(&self, kind: ErrorKind) -> LlmError {
        LlmError::upstream(kind, format!("{} failed", self.name)).with_provider("scripted")
    }
}

impl ModelBackend for Scripted {
    fn provider(&self) -> &str {
        "scripted"
    }
    fn api_base(&self) -> Option<&str> {
        None
    }
    fn chat<'a>(
        &'a self,
        _req: ChatRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<ChatOutput, LlmError>> {
        Box::pin(async move {
            match self.next() {
                Step::Ok(text) => Ok(ChatOutput {
                    response: self.response(text),
                    upstream_headers: vec![("x-ratelimit-remaining-requests".into(), "9".into())],
                }),
                Step::Fail(kind) | Step::StreamFailsFirst(kind) => Err(self.err(kind)),
                Step::FailRetryAfter(kind, ra) => Err(self.err(kind).with_retry_after(Some(ra))),
                Step::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    Ok(ChatOutput {
                        response: self.response("slow"),
                        upstream_headers: vec![],
                    })
                }
            }
        })
    }
    fn chat_stream<'a>(
        &'a self,
        _req: ChatRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<ChatStreamOutput, LlmError>> {
        Box::pin(async move {
            let chunk = |t: &str| text_chunk(&self.name, t);
            match self.next() {
                Step::Ok(text) => Ok(ChatStreamOutput {
                    stream: Box::pin(futures::stream::iter(vec![Ok(chunk(text)), Ok(chunk("!"))])),
                    upstream_headers: vec![],
                }),
                Step::StreamFailsFirst(kind) => Ok(ChatStreamOutput {
                    stream: Box::pin(futures::stream::iter(vec![Err(self.err(kind))])),
                    upstream_headers: vec![],
                }),
                Step::Fail(kind) | Step::FailRetryAfter(kind, _) => Err(self.err(kind)),
                Step::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    Ok(ChatStreamOutput {
                        stream: Box::pin(futures::stream::iter(vec![Ok(chunk("slow"))])),
                        upstream_headers: vec![],
                    })
                }
            }
        })
    }
    fn embed<'a>(
        &'a self,
        _req: EmbeddingRequest,
        _ctx: &'a CallContext,
    ) -> BoxFuture<'a, Result<EmbeddingOutput, LlmError>> {
        Box::pin(async move { Err(self.err(ErrorKind::BadRequest)) })
    }
}

/// A one-choice chat response answering `text`, with usage 3 + 1 tokens.
pub fn chat_response(id: &str, model: &str, text: &str) -> ChatResponse {
    ChatResponse {
        id: id.into(),
        object: "chat.completion".into(),
        created: 0,
        model: model.into(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage::text(text),
            finish_reason: Some("stop".into()),
            logprobs: None,
            extra: Default::default(),
        }],
        usage: Some(Usage::new(3, 1)),
        system_fingerprint: None,
        service_tier: None,
        extra: Default::default(),
    }
}

/// A stream chunk whose one choice carries `text` as content.
pub fn text_chunk(model: &str, text: &str) -> ChatChunk {
    let mut c = ChatChunk::new("c", 0, model);
    c.choices.push(ChunkChoice {
        index: 0,
        delta: Delta {
            content: Some(text.into()),
            ..Default::default()
        },
        finish_reason: None,
        logprobs: None,
        extra: Default::default(),
    });
    c
}

pub fn config(group: &str, id: &str, tweak: impl FnOnce(&mut LitellmParams)) -> DeploymentConfig {
    let mut params = LitellmParams {
        provider: ProviderParams {
            model: format!("scripted/{id}"),
            ..Default::default()
        },
        ..Default::default()
    };
    tweak(&mut params);
    DeploymentConfig {
        model_name: group.into(),
        litellm_params: params,
        model_info: ModelInfo {
            id: Some(id.into()),
            ..Default::default()
        },
    }
}

pub fn router(deps: Vec<(DeploymentConfig, Arc<Scripted>)>, settings: RouterSettings) -> Router {
    let deployments = deps
        .into_iter()
        .map(|(c, b)| Deployment::with_backend(c, b))
        .collect();
    Router::from_deployments(deployments, settings)
        .unwrap()
        .with_backoff(Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
            jitter: Duration::ZERO,
        })
}

pub fn req(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    }
}
