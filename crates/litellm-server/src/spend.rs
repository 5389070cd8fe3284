//! Spend accounting for one call: the cost from the deployment's per-token prices and the
//! ledger record. Built on the request path from data already in hand; the write itself happens
//! in the ledger's background batch writer.

use std::time::SystemTime;

use chrono::{DateTime, Utc};

use litellm_auth::SpendRecord;
use litellm_core::{Units, Usage};
use litellm_router::RouteInfo;

/// USD cost of `usage` at the deployment's effective prices (its own `litellm_params` /
/// `model_info` prices over the price table's; see `litellm_providers::prices`). A model with
/// no price costs 0 and is logged once per model (except the free `mock` provider); it never
/// blocks the call.
pub fn cost(route: &RouteInfo, usage: Option<&Usage>) -> f64 {
    let Some(u) = usage else { return 0.0 };
    match &route.prices {
        Some(prices) => prices.cost(u),
        None => {
            // The built-in mock provider is free by design: nothing to warn about.
            if route.provider != "mock" {
                warn_unpriced(&route.model);
            }
            0.0
        }
    }
}

/// USD cost of what a family call bills beyond tokens ([`Units`]: rerank queries, images and
/// their pixels). Images of a `size` (and `quality`) the price table keys separately
/// (`hd/1024-x-1792/dall-e-3`, as LiteLLM's map does) are priced by that entry alone; otherwise
/// by the deployment's effective prices (`input_cost_per_query`, `output_cost_per_image`, ...).
pub fn unit_cost(route: &RouteInfo, units: &Units, image: Option<(&str, Option<&str>)>) -> f64 {
    let sized = image.and_then(|(size, quality)| {
        litellm_providers::prices::table().image_entry(&route.provider, &route.model, size, quality)
    });
    match sized.map(|e| e.prices).or(route.prices) {
        Some(prices) => prices.unit_cost(units),
        None => 0.0,
    }
}

/// Models already warned about as having no price.
static UNPRICED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(Default::default);

/// Logs, once per model, that `model` has no price.
fn warn_unpriced(model: &str) {
    let mut seen = UNPRICED.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.contains(model) {
        seen.insert(model.to_string());
        tracing::warn!(
            model,
            "no price for this model: its calls are recorded at cost 0; set input_cost_per_token \
             and output_cost_per_token on the deployment or add it to a model cost map \
             (LITELLM_MODEL_COST_MAP / litellm_settings.model_cost_map_path)"
        );
    }
}

impl CallFacts {
    /// The facts known when a call starts: its id, type, caller and start time.
    pub fn start(
        request_id: String,
        call_type: &'static str,
        caller: &crate::auth::Caller,
        user: Option<String>,
        start: SystemTime,
    ) -> CallFacts {
        CallFacts {
            request_id,
            call_type,
            key_hash: caller.key_hash.clone(),
            user,
            key_alias: caller.key_alias.clone(),
            user_id: caller.user_id.clone(),
            team_id: caller.team_id.clone(),
            start,
            end: start,
            first_chunk: None,
            response_model: None,
            usage: None,
            status: "success",
            end_user: caller.end_user_id.clone(),
            budget: None,
            tags: Vec::new(),
            session_id: None,
            spend_logs_metadata: None,
        }
    }

    /// These facts with the call's request tags (`routes::tags::of_request`).
    pub fn with_tags(mut self, tags: Vec<String>) -> CallFacts {
        self.tags = tags;
        self
    }
}

/// The facts of one finished call that go into its spend record.
#[derive(Debug, Clone)]
pub struct CallFacts {
    pub request_id: String,
    pub call_type: &'static str,
    pub key_hash: String,
    /// The `user` the client sent.
    pub user: Option<String>,
    /// The caller's key's alias, owner and team.
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub start: SystemTime,
    pub end: SystemTime,
    pub first_chunk: Option<SystemTime>,
    /// The model the upstream reported (falls back to the deployment's model).
    pub response_model: Option<String>,
    pub usage: Option<Usage>,
    pub status: &'static str,
    /// The end user (`x-litellm-end-user-id` or the body's `user`).
    pub end_user: Option<String>,
    /// The call's budget reservation, settled when its record is made.
    pub budget: crate::budget_reserve::HoldRef,
    /// The request's tags (the spend log's `request_tags`).
    pub tags: Vec<String>,
    /// `x-litellm-session-id`: groups the calls of one agent session (`metadata.session_id`).
    pub session_id: Option<String>,
    /// `x-litellm-spend-logs-metadata` (a JSON object), kept as `metadata.spend_logs_metadata`.
    pub spend_logs_metadata: Option<serde_json::Value>,
}

/// The ledger record for a call routed to `route`, costing `spend` USD (from [`cost`], which
/// the caller has already computed for the `x-litellm-response-cost` header).
pub fn record(route: &RouteInfo, facts: CallFacts, spend: f64) -> SpendRecord {
    let hold = facts.budget.clone();
    let mut rec = build_record(route, facts, spend);
    if let Some(h) = hold {
        h.settle(&mut rec);
    }
    rec
}

fn build_record(route: &RouteInfo, facts: CallFacts, spend: f64) -> SpendRecord {
    let metadata = metadata(route, &facts);
    let usage = facts.usage.clone().unwrap_or_default();
    SpendRecord {
        request_id: facts.request_id,
        call_type: facts.call_type.to_string(),
        api_key_hash: facts.key_hash,
        spend,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.total_tokens,
        start_time: DateTime::<Utc>::from(facts.start),
        end_time: DateTime::<Utc>::from(facts.end),
        completion_start_time: facts.first_chunk.map(DateTime::<Utc>::from),
        model: facts.response_model.unwrap_or_else(|| route.model.clone()),
        model_id: route.deployment_id.clone(),
        model_group: route.model_group.clone(),
        custom_llm_provider: route.provider.clone(),
        api_base: route
            .api_base
            .as_deref()
            .map(crate::headers::public_api_base)
            .unwrap_or_default()
            .into_owned(),
        user: facts.user.clone(),
        end_user: facts.end_user.clone().or_else(|| facts.user.clone()),
        team_id: facts.team_id.clone(),
        user_id: facts.user_id.clone(),
        metadata,
        request_tags: facts.tags,
        cache_hit: false,
        status: facts.status.to_string(),
    }
}

/// The spend log's `metadata`: retries, the key's alias, owner and team, and what the request
/// added (`session_id`, `spend_logs_metadata`).
fn metadata(route: &RouteInfo, facts: &CallFacts) -> serde_json::Value {
    let mut m = serde_json::json!({
        "attempted_retries": route.attempted_retries,
        "attempted_fallbacks": route.attempted_fallbacks,
        "user_api_key_alias": facts.key_alias,
        "user_api_key_user_id": facts.user_id,
        "user_api_key_team_id": facts.team_id,
    });
    if let Some(id) = &facts.session_id {
        m["session_id"] = serde_json::Value::String(id.clone());
    }
    if let Some(extra) = &facts.spend_logs_metadata {
        m["spend_logs_metadata"] = extra.clone();
    }
    m
}

/// Hands a finished call's record to the callbacks (access log, traces, webhooks; see
/// `callbacks.rs`) and queues it on the ledger unless spend logs are off. Every handler's
/// success path ends here.
pub async fn log(state: &crate::state::AppState, rec: SpendRecord) {
    crate::callbacks::on_record(state, &rec);
    if let Some(ledger) = state.spend_ledger() {
        ledger.record(rec).await;
    }
}
