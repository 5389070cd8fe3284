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

/// `impl ModelBackend for $ty` for a test backend: provider `scripted`, no API base, and the
/// `chat`, `stream` and `embed` results as the bodies of async blocks in which `$s` is `&self`.
macro_rules! test_backend {
    // One call: `$body` is the body of an async block in which `$s` is `&self`.
    (@call $name:ident($req:ident) -> $out:ident, |$s:ident| $body:expr) => {
        fn $name<'a>(
            &'a self,
            _req: litellm_router::$req,
            _ctx: &'a litellm_router::CallContext,
        ) -> litellm_router::BoxFuture<'a, Result<litellm_router::$out, litellm_router::LlmError>>
        {
            #[allow(unused_variables)]
            let $s = self;
            Box::pin(async move { $body })
        }
    };
    ($ty:ty, |$s:ident| { chat: $chat:expr, stream: $stream:expr, embed: $embed:expr $(,)? }) => {
        impl litellm_router::ModelBackend for $ty {
            fn provider(&self) -> &str {
                "scripted"
            }
            fn api_base(&self) -> Option<&str> {
                None
            }
            test_backend!(@call chat(ChatRequest) -> ChatOutput, |$s| $chat);
            test_backend!(@call chat_stream(ChatRequest) -> ChatStreamOutput, |$s| $stream);
            test_backend!(@call embed(EmbeddingRequest) -> EmbeddingOutput, |$s| $embed);
        }
    };
}
#[allow(unused_imports)] // Only the files with a backend of their own use it.
pub(crate) use test_backend;

/// A stream of the given items.
pub fn stream_of(items: Vec<Result<ChatChunk, LlmError>>) -> ChatStreamOutput {
    ChatStreamOutput {
        stream: Box::pin(futures::stream::iter(items)),
        upstream_headers: vec![],
    }
}

test_backend!(Scripted, |s| {
    chat: match s.next() {
        Step::Ok(text) => Ok(ChatOutput {
            response: s.response(text),
            upstream_headers: vec![("x-ratelimit-remaining-requests".into(), "9".into())],
        }),
        Step::Fail(kind) | Step::StreamFailsFirst(kind) => Err(s.err(kind)),
        Step::FailRetryAfter(kind, ra) => Err(s.err(kind).with_retry_after(Some(ra))),
        Step::Sleep(d) => {
            tokio::time::sleep(d).await;
            Ok(ChatOutput {
                response: s.response("slow"),
                upstream_headers: vec![],
            })
        }
    },
    stream: {
        let chunk = |t: &str| text_chunk(&s.name, t);
        match s.next() {
            Step::Ok(text) => Ok(stream_of(vec![Ok(chunk(text)), Ok(chunk("!"))])),
            Step::StreamFailsFirst(kind) => Ok(stream_of(vec![Err(s.err(kind))])),
            Step::Fail(kind) | Step::FailRetryAfter(kind, _) => Err(s.err(kind)),
            Step::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(stream_of(vec![Ok(chunk("slow"))]))
            }
        }
    },
    embed: Err(s.err(ErrorKind::BadRequest)),
});

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

/// A router ([`router`]) of one deployment, `a` in group `g`, playing `steps`; and its backend.
pub fn single(steps: Vec<Step>, settings: RouterSettings) -> (Arc<Scripted>, Router) {
    let a = Scripted::new("a", steps);
    let r = router(vec![(config("g", "a", |_| {}), a.clone())], settings);
    (a, r)
}

pub fn req(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    }
}
