//! The retry and fallback loop: retries within a model group (`num_retries`, `retry_policy`,
//! `model_group_retry_policy`, with the backoff), cooldown bookkeeping after each failure, and
//! when the group's retries are spent, the fallback groups in LiteLLM's order.

use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use litellm_core::{ErrorKind, LlmError};

use super::attempt::{Call, Output};
use super::registry::ModelGroup;
use super::{RouteError, RouteInfo, Routing};
use crate::deployment::secs_to_duration;
use crate::options::RequestOptions;

impl Routing {
    /// Runs `call` on the requested group and, when that fails, on its fallback groups in turn
    /// (each with its own retries), up to `max_fallbacks` of them.
    pub(super) async fn run(
        &self,
        model: &str,
        call: Call,
        request: RequestOptions,
    ) -> Result<(Output, RouteInfo), RouteError> {
        let group = self.group_for(model)?;
        let mut last = match self.run_group(&group, &call, &request).await {
            Ok(ok) => return Ok(ok),
            Err(e) => e,
        };
        if request.disable_fallbacks || !Self::falls_back_on(&last.error) {
            return Err(last);
        }
        let chain = self.fallback_chain(&group.name, &last.error, request.fallbacks.clone());
        let max = self.inner.settings.max_fallbacks as usize;
        for (i, fallback) in chain.iter().take(max).enumerate() {
            let target = match self.group_for(fallback) {
                Ok(g) => g,
                Err(_) => {
                    tracing::warn!(model_group = %group.name, fallback = %fallback, "fallback names no model group; skipped");
                    continue;
                }
            };
            tracing::debug!(from = %group.name, to = %target.name, kind = ?last.error.kind, "falling back");
            let attempted = i as u32 + 1;
            match self.run_group(&target, &call, &request).await {
                Ok((output, mut route)) => {
                    route.attempted_fallbacks = attempted;
                    return Ok((output, route));
                }
                Err(mut e) => {
                    if let Some(route) = e.route.as_mut() {
                        route.attempted_fallbacks = attempted;
                    }
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// Whether an error may be cured by another model group: every upstream failure except a
    /// plain bad request (the same request would be refused there too). Context-window and
    /// content-policy errors have their own kinds and do fall back.
    fn falls_back_on(error: &LlmError) -> bool {
        error.origin == litellm_core::ErrorSource::Upstream && error.kind != ErrorKind::BadRequest
    }

    /// The fallback groups for `group` after `error`, in LiteLLM's order: per-request
    /// `fallbacks` if given; else the context-window or content-policy list for those errors;
    /// then the generic `fallbacks`; then the `"*"` entry or `default_fallbacks`.
    fn fallback_chain(&self, group: &str, error: &LlmError, request: Vec<String>) -> Vec<String> {
        if !request.is_empty() {
            return request;
        }
        let s = &self.inner.settings;
        let lookup = |lists: &[crate::config::FallbackMap], key: &str| -> Option<Vec<String>> {
            lists.iter().find_map(|m| m.get(key).cloned())
        };
        let specific = match error.kind {
            ErrorKind::ContextWindowExceeded => lookup(&s.context_window_fallbacks, group),
            ErrorKind::ContentPolicyViolation => lookup(&s.content_policy_fallbacks, group),
            _ => None,
        };
        specific
            .or_else(|| lookup(&s.fallbacks, group))
            .or_else(|| lookup(&s.fallbacks, "*"))
            .or_else(|| (!s.default_fallbacks.is_empty()).then(|| s.default_fallbacks.clone()))
            .unwrap_or_default()
            .into_iter()
            .filter(|g| g != group)
            .collect()
    }

    /// Retries allowed after an error of `kind` in `group`: the per-request `num_retries`,
    /// else the group's then the router's `retry_policy` entry for the kind, else the
    /// deployment's or router's `num_retries`.
    fn retries_for(
        &self,
        group: &ModelGroup,
        kind: ErrorKind,
        request: Option<u32>,
    ) -> (u32, bool) {
        if let Some(n) = request {
            return (n, false);
        }
        let policy = self
            .inner
            .group_retry_policy
            .get(&group.name)
            .and_then(|p| p.for_kind(kind))
            .or_else(|| self.inner.retry_policy.for_kind(kind));
        if let Some(n) = policy {
            return (n, true);
        }
        let n = group
            .deployments
            .iter()
            .find_map(|d| d.config.litellm_params.num_retries)
            .unwrap_or(self.inner.settings.num_retries);
        (n, false)
    }

    /// The retry loop of one model group, shared by every call kind.
    async fn run_group(
        &self,
        group: &Arc<ModelGroup>,
        call: &Call,
        request: &RequestOptions,
    ) -> Result<(Output, RouteInfo), RouteError> {
        let settings = &self.inner.settings;
        let retry_min = secs_to_duration(settings.retry_after).unwrap_or(Duration::ZERO);
        let needs_tokens = settings.enable_pre_call_checks || self.inner.strategy.uses_usage();
        // Pre-call checks count exactly (tiktoken) when the group serves an OpenAI-family
        // model; the usage-based `tpm` check alone uses the cheap estimate.
        let input_tokens = if needs_tokens {
            let model = group
                .deployments
                .first()
                .map(|d| {
                    d.config
                        .model_info
                        .base_model
                        .as_deref()
                        .or(d.config.litellm_params.base_model.as_deref())
                        .unwrap_or_else(|| d.model())
                })
                .unwrap_or_default();
            call.input_tokens(model, settings.enable_pre_call_checks)
        } else {
            0
        };

        let mut tried: Vec<usize> = Vec::new();
        let mut retries = 0u32;
        let mut upstream_time = Duration::ZERO;
        let mut last: Option<RouteError> = None;
        loop {
            let (index, slot) = match self.pick(group, &tried, input_tokens, call).await {
                Ok(picked) => picked,
                Err(why) => {
                    // Mid-retries, report the failure that got us here; otherwise fail fast,
                    // without calling a deployment known to be down or full.
                    return Err(last.unwrap_or_else(|| self.no_pick_error(group, why).into()));
                }
            };
            let deployment = &group.deployments[index];
            let started = Instant::now();
            let result = self.attempt(deployment, call, slot, request).await;
            let elapsed = started.elapsed();
            upstream_time += elapsed;
            let observer = self.inner.common.observer();
            if let Some(o) = &observer {
                let outcome = match &result {
                    Ok(_) => Ok(elapsed),
                    Err(e) => Err(e),
                };
                o.on_attempt_end(deployment, &group.name, call.kind(), outcome);
            }
            let mut route = RouteInfo {
                model_group: group.name.clone(),
                deployment_id: deployment.id.clone(),
                provider: deployment.backend.provider().to_string(),
                model: deployment.model().to_string(),
                api_base: deployment.backend.api_base().map(str::to_string),
                attempted_retries: retries,
                attempted_fallbacks: 0,
                upstream_time,
                upstream_headers: Vec::new(),
                input_cost_per_token: deployment
                    .config
                    .litellm_params
                    .input_cost_per_token
                    .or(deployment.config.model_info.input_cost_per_token),
                output_cost_per_token: deployment
                    .config
                    .litellm_params
                    .output_cost_per_token
                    .or(deployment.config.model_info.output_cost_per_token),
                prices: crate::strategy::deployment_prices(deployment),
            };
            match result {
                Ok((output, headers)) => {
                    route.upstream_headers = headers;
                    let output = self.on_success(group, index, output, elapsed);
                    return Ok((output, route));
                }
                Err(error) => {
                    if error.kind == ErrorKind::Timeout {
                        // LiteLLM's latency penalty for a timeout.
                        self.record_latency(group, index, call.is_stream(), 1000.0);
                    }
                    let multi = group.deployments.len() > 1;
                    if self
                        .inner
                        .cooldowns
                        .record_failure(
                            &deployment.id,
                            error.kind,
                            multi,
                            deployment.cooldown_time(),
                        )
                        .await
                    {
                        tracing::warn!(
                            deployment = %deployment.id,
                            model_group = %group.name,
                            kind = ?error.kind,
                            "deployment cooled down"
                        );
                        if let Some(o) = &observer {
                            o.on_cooldown(deployment, &group.name, &error);
                        }
                    }
                    let (num_retries, from_policy) =
                        self.retries_for(group, error.kind, request.num_retries);
                    let retryable = (from_policy && num_retries > 0)
                        || error.is_retryable()
                        || (multi
                            && matches!(
                                error.kind,
                                ErrorKind::Authentication | ErrorKind::PermissionDenied
                            ));
                    tracing::debug!(
                        deployment = %deployment.id,
                        model_group = %group.name,
                        kind = ?error.kind,
                        retries,
                        "attempt failed"
                    );
                    let failure = RouteError {
                        error,
                        route: Some(route),
                    };
                    if !retryable || retries >= num_retries {
                        return Err(failure);
                    }
                    if !tried.contains(&index) {
                        tried.push(index);
                    }
                    let untried_left = tried.len() < group.deployments.len();
                    if !untried_left {
                        let delay =
                            self.inner
                                .backoff
                                .delay(retries, failure.error.retry_after, retry_min);
                        tokio::time::sleep(delay).await;
                    }
                    last = Some(failure);
                    retries += 1;
                }
            }
        }
    }
}
