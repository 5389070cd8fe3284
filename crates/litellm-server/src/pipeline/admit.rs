//! Admission, the first half of every inference call: after authentication (the caller comes
//! from [`super::auth`]), in LiteLLM's order: metrics labels, model access, the end user and
//! its budget, the key's model aliases, the request's own validation, tags, the budget hold,
//! rate limits, the call's spend facts, and the response-cache plan. What differs per endpoint
//! family is the [`Inference`] trait; nothing here is written twice.

use std::time::{Instant, SystemTime};

use axum::http::HeaderMap;
use litellm_core::JsonMap;
use litellm_router::RequestOptions;
use serde_json::Value;

use crate::auth::Caller;
use crate::cache::CachePlan;
use crate::error::ApiError;
use crate::limits::CallLimits;
use crate::spend::CallFacts;
use crate::state::AppState;

/// What an endpoint family tells the pipeline about its request.
pub trait Inference: serde::Serialize {
    /// The spend-log `call_type` (LiteLLM's: `acompletion`, `aembedding`, ...).
    const CALL_TYPE: &'static str;

    /// The model the client asked for; replaced by the key's alias target.
    fn model_mut(&mut self) -> &mut String;

    /// The end user named in the body (`user`, `metadata.user_id`).
    fn end_user(&self) -> Option<&str>;

    /// The endpoint's own checks of the body (a 400 naming the field).
    fn validate(&self) -> Result<(), ApiError>;

    /// The body's fields beyond the typed ones, read-only.
    fn extra(&self) -> &JsonMap;

    /// The body's `metadata.tags` (from `extra` unless the type has a `metadata` field).
    fn metadata_tags(&self) -> Option<&Value> {
        self.extra().get("metadata")?.get("tags")
    }

    /// The body's `metadata.tags` and `tags`.
    fn tag_sources(&self) -> (Option<&Value>, Option<&Value>) {
        (self.metadata_tags(), self.extra().get("tags"))
    }

    /// The prompt tokens and the most output tokens, for the budget hold (called only when a
    /// budget applies).
    fn budget_tokens(&self) -> (u64, Option<u64>);

    /// The body's fields beyond the typed ones (`extra`): where per-call controls arrive.
    fn extra_mut(&mut self) -> &mut JsonMap;

    /// Whether the response cache applies to the family.
    const CACHED: bool = false;

    /// Takes the router's per-call controls (`fallbacks`, `num_retries`, ...) out of the
    /// body, so only what goes to the provider stays there.
    fn take_options(&mut self) -> RequestOptions {
        RequestOptions::take(self.extra_mut())
    }

    /// Takes the response-cache controls (`cache`) out of the body, so they never reach the
    /// upstream; `None` when the family is not cached.
    fn take_cache_control(&mut self) -> Option<Option<Value>> {
        Self::CACHED.then(|| self.extra_mut().remove("cache"))
    }
}

/// The [`Inference`] methods an OpenAI-format request type gets from its `model`, `user` and
/// `extra` fields; write `crate::pipeline::openai_fields!();` in its `impl Inference`.
macro_rules! openai_fields {
    () => {
        fn model_mut(&mut self) -> &mut String {
            &mut self.model
        }

        fn end_user(&self) -> Option<&str> {
            self.user.as_deref()
        }

        fn extra_mut(&mut self) -> &mut litellm_core::JsonMap {
            &mut self.extra
        }

        fn extra(&self) -> &litellm_core::JsonMap {
            &self.extra
        }
    };
}
pub(crate) use openai_fields;

/// An admitted call: everything settlement needs.
pub struct Admission {
    pub caller: Caller,
    /// The model the client asked for (rate limits and metrics use it).
    pub requested_model: String,
    pub call_id: String,
    pub facts: CallFacts,
    pub limits: CallLimits,
    /// The cache plan and the model group it keys on.
    pub cache: Option<(CachePlan, String)>,
    /// The router's per-call options.
    pub options: RequestOptions,
    pub started: Instant,
    /// The request's headers (for families that forward some upstream).
    pub headers: HeaderMap,
}

/// LiteLLM's request headers that steer a call, where the body did not: `x-litellm-timeout`
/// (seconds) and `x-litellm-num-retries`. (`x-litellm-tags` and the end-user headers are read
/// with the tags and the end user, the spend-log headers by [`spend_log_headers`].)
fn steer(headers: &HeaderMap, options: &mut RequestOptions) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if options.timeout.is_none() {
        options.timeout = header("x-litellm-timeout")
            .and_then(|v| litellm_router::options::seconds(&Value::String(v.to_string())));
    }
    if options.num_retries.is_none() {
        options.num_retries = header("x-litellm-num-retries").and_then(|v| v.trim().parse().ok());
    }
}

/// LiteLLM's headers that annotate the spend log: `x-litellm-session-id` (a string, at most
/// 256 characters) and `x-litellm-spend-logs-metadata` (a JSON object).
fn spend_log_headers(headers: &HeaderMap) -> Result<(Option<String>, Option<Value>), ApiError> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().map(str::trim));
    let session = match header("x-litellm-session-id") {
        None => None,
        Some(Ok(id)) if !id.is_empty() && id.len() <= 256 => Some(id.to_string()),
        Some(_) => {
            return Err(ApiError::bad_request(
                None,
                "x-litellm-session-id must be 1 to 256 visible ASCII characters",
            ))
        }
    };
    let metadata = match header("x-litellm-spend-logs-metadata") {
        None => None,
        Some(raw) => match raw.ok().and_then(|r| serde_json::from_str::<Value>(r).ok()) {
            Some(v @ Value::Object(_)) => Some(v),
            _ => return Err(ApiError::bad_request(
                None,
                "x-litellm-spend-logs-metadata must be a JSON object, e.g. {\"team\": \"search\"}",
            )),
        },
    };
    Ok((session, metadata))
}

/// Admits `req` for `caller` (see the module docs). On success the request's model is the
/// alias target.
pub async fn admit<R: Inference>(
    state: &AppState,
    mut caller: Caller,
    headers: HeaderMap,
    req: &mut R,
    started: Instant,
) -> Result<Admission, ApiError> {
    let start = SystemTime::now();
    let model = req.model_mut().clone();
    crate::routes::require_model(&model)?;
    crate::metrics::note_caller(&caller, &model, req.end_user());
    state.auth.authorize(&caller, &model)?;
    crate::budget_reserve::load_end_user(state, &mut caller, &headers, req.end_user()).await?;
    if let Some(target) = caller.model_alias(&model) {
        *req.model_mut() = target;
    }
    req.validate()?;
    let (metadata_tags, body_tags) = req.tag_sources();
    let tags = crate::routes::tags::of_request(&headers, metadata_tags, body_tags, &caller)?;
    let target = req.model_mut().clone();
    // Budgets before rate limits (LiteLLM's order); a refused call holds nothing.
    let budget =
        crate::budget_reserve::reserve_with(state, &caller, &target, || req.budget_tokens())
            .await?;
    let limits = crate::limits::check(&state.limiter, &caller, &model).await?;
    let call_id = uuid::Uuid::new_v4().to_string();
    let user = req.end_user().map(str::to_string);
    let mut facts = CallFacts::start(call_id.clone(), R::CALL_TYPE, &caller, user, start);
    facts.budget = budget;
    facts.tags = tags;
    (facts.session_id, facts.spend_logs_metadata) = spend_log_headers(&headers)?;
    let mut options = req.take_options();
    steer(&headers, &mut options);
    let cache = match req.take_cache_control() {
        Some(control) => crate::routes::cache::plan(state, R::CALL_TYPE, &target, &*req, control)?,
        None => None,
    };
    Ok(Admission {
        caller,
        requested_model: model,
        call_id,
        facts,
        limits,
        cache,
        options,
        started,
        headers,
    })
}
