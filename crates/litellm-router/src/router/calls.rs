//! The router's public calls: chat completions (plain and streamed), embeddings, native
//! Anthropic Messages and the JSON families (rerank, moderations, image generation), each with
//! or without typed per-call options; they hand the call to the retry and fallback loop
//! (`retry.rs`).

use std::time::Duration;

use litellm_core::{
    CallContext, ChatRequest, EmbeddingRequest, ErrorKind, Family, FamilyRequest, LlmError,
    NativeMessagesRequest,
};

use super::attempt::{Call, Output};
use super::{
    Completion, CompletionStream, Embeddings, FamilyCompletion, NativeCompletion,
    NativeCompletionStream, RouteError, Router,
};
use crate::options::RequestOptions;

/// Routes `$call` for `$model` (in an async fn answering `Result<_, RouteError>`) and gives
/// the `$kind` output with its route; another kind of output is an internal error.
macro_rules! routed {
    ($router:expr, $model:expr, $call:expr, $options:expr, $kind:path) => {
        match $router.routing().run($model, $call, $options).await? {
            ($kind(output), route) => (output, route),
            _ => return Err(LlmError::internal("router returned the wrong output kind").into()),
        }
    };
}

impl Router {
    /// A non-streaming chat completion; per-call options are taken from the body
    /// ([`RequestOptions::take`]).
    pub async fn completion(&self, mut req: ChatRequest) -> Result<Completion, RouteError> {
        let options = RequestOptions::take(&mut req.extra);
        self.completion_with(req, options).await
    }

    /// A non-streaming chat completion with per-call options.
    pub async fn completion_with(
        &self,
        req: ChatRequest,
        options: RequestOptions,
    ) -> Result<Completion, RouteError> {
        let model = req.model.clone();
        let (response, route) = routed!(self, &model, Call::Chat(req), options, Output::Chat);
        Ok(Completion {
            response: *response,
            route,
        })
    }

    /// A streaming chat completion. Resolves once the first chunk arrived, so failures before
    /// the first byte are retried like any other.
    pub async fn completion_stream(
        &self,
        mut req: ChatRequest,
    ) -> Result<CompletionStream, RouteError> {
        let options = RequestOptions::take(&mut req.extra);
        self.completion_stream_with(req, options).await
    }

    /// A streaming chat completion with per-call options.
    pub async fn completion_stream_with(
        &self,
        req: ChatRequest,
        options: RequestOptions,
    ) -> Result<CompletionStream, RouteError> {
        let model = req.model.clone();
        let (stream, route) = routed!(self, &model, Call::Stream(req), options, Output::Stream);
        Ok(CompletionStream { stream, route })
    }

    /// A native Anthropic Messages call (not streaming: `stream` is absent or false in the
    /// body). The caller checks that the group's deployments speak Messages natively
    /// ([`Router::serves_natively`]); controls still in the body (`fallbacks`, `num_retries`,
    /// ...) are taken out of it and join `options`.
    pub async fn native_messages(
        &self,
        mut req: NativeMessagesRequest,
        mut options: RequestOptions,
    ) -> Result<NativeCompletion, RouteError> {
        let model = native_model(&req)?;
        options.absorb(RequestOptions::take(&mut req.body));
        let (output, route) = routed!(self, &model, Call::Native(req), options, Output::Native);
        Ok(NativeCompletion {
            output: *output,
            route,
        })
    }

    /// A streaming native Messages call (`stream: true` in the body). Resolves once the first
    /// piece arrived, so failures before the first byte are retried like any other.
    pub async fn native_messages_stream(
        &self,
        mut req: NativeMessagesRequest,
        mut options: RequestOptions,
    ) -> Result<NativeCompletionStream, RouteError> {
        let model = native_model(&req)?;
        options.absorb(RequestOptions::take(&mut req.body));
        req.body
            .insert("stream".into(), serde_json::Value::Bool(true));
        let (stream, route) = routed!(
            self,
            &model,
            Call::Native(req),
            options,
            Output::NativeStream
        );
        Ok(NativeCompletionStream { stream, route })
    }

    /// Whether every deployment serving `model` speaks Anthropic's Messages API natively.
    pub fn serves_natively(&self, model: &str) -> bool {
        match self.routing().group_for(model) {
            Ok(group) => {
                !group.deployments.is_empty()
                    && group
                        .deployments
                        .iter()
                        .all(|d| d.backend.native_messages_supported())
            }
            Err(_) => false,
        }
    }

    /// The upstream's own token count of a Messages body, from the first deployment of the
    /// group that speaks Messages natively, within `timeout`. `None` when no deployment does
    /// (the caller estimates instead).
    pub async fn native_count_tokens(
        &self,
        req: NativeMessagesRequest,
        timeout: Duration,
    ) -> Option<Result<u64, LlmError>> {
        let model = native_model(&req).ok()?;
        let group = self.routing().group_for(&model).ok()?;
        let deployment = group
            .deployments
            .iter()
            .find(|d| d.backend.native_messages_supported())?
            .clone();
        let ctx = CallContext {
            timeout: Some(timeout),
            extra_headers: Vec::new(),
        };
        let fut = deployment.backend.native_count_tokens(req, &ctx);
        Some(match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(LlmError::upstream(
                ErrorKind::Timeout,
                format!(
                    "count_tokens timed out after {:.1} s (model={})",
                    timeout.as_secs_f64(),
                    deployment.model()
                ),
            )
            .with_status(408)),
        })
    }

    /// Embeddings.
    pub async fn embedding(&self, mut req: EmbeddingRequest) -> Result<Embeddings, RouteError> {
        let options = RequestOptions::take(&mut req.extra);
        self.embedding_with(req, options).await
    }

    /// Embeddings with per-call options.
    pub async fn embedding_with(
        &self,
        req: EmbeddingRequest,
        options: RequestOptions,
    ) -> Result<Embeddings, RouteError> {
        let model = req.model.clone();
        let (response, route) = routed!(self, &model, Call::Embed(req), options, Output::Embed);
        Ok(Embeddings {
            response: *response,
            route,
        })
    }
}

impl Router {
    /// A JSON family call (rerank, moderations, image generation) for `model`. Refused with a
    /// 400 naming the provider and the family, before anything is sent, when a deployment of
    /// the group cannot serve the family (its provider has no such endpoint, or its
    /// `model_info.mode` says it is another kind of model).
    pub async fn family(
        &self,
        model: &str,
        req: FamilyRequest,
        options: RequestOptions,
    ) -> Result<FamilyCompletion, RouteError> {
        if let Ok(group) = self.routing().group_for(model) {
            for d in &group.deployments {
                refuse_unserved(d, req.family)?;
            }
        }
        let (output, route) = routed!(self, model, Call::Family(req), options, Output::Family);
        Ok(FamilyCompletion {
            output: *output,
            route,
        })
    }
}

/// A 400 when deployment `d` cannot serve `family`.
fn refuse_unserved(d: &crate::Deployment, family: Family) -> Result<(), LlmError> {
    if !d.backend.serves(family) {
        return Err(litellm_core::backend::not_served(
            d.backend.provider(),
            family,
        ));
    }
    let declared = d.config.model_info.mode.as_deref();
    let declared = declared.or_else(|| crate::strategy::price_entry(d)?.mode.as_deref());
    match declared {
        Some(mode) if KNOWN_MODES.contains(&mode) && mode != family.mode() => {
            Err(LlmError::bad_param(
                "model",
                format!(
                    "{} ({}) is a {mode} model (model_info.mode), not {}: it cannot serve {}",
                    d.model_name,
                    d.model(),
                    family.mode(),
                    family.label()
                ),
            )
            .with_provider(d.backend.provider().to_string()))
        }
        _ => Ok(()),
    }
}

/// The `model_info.mode` values that name one kind of model (LiteLLM's).
const KNOWN_MODES: &[&str] = &[
    "chat",
    "completion",
    "embedding",
    "image_generation",
    "audio_transcription",
    "audio_speech",
    "rerank",
    "moderation",
    "responses",
];

/// The `model` of a native Messages body.
fn native_model(req: &NativeMessagesRequest) -> Result<String, LlmError> {
    req.body
        .get("model")
        .and_then(serde_json::Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| LlmError::bad_param("model", "model: Field required"))
}
