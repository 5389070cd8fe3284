//! Budget reservations on the request path: which budgets apply to a call (key, user, team, end
//! user, global `litellm_settings.max_budget`), the call's maximum cost, and the hold that is
//! settled with the real cost when the call's spend record is made (or released when the call
//! fails or is dropped).
//!
//! Where reservations live (see `litellm_auth::budget`):
//!
//! - **database** (the default on PostgreSQL): one atomic `UPDATE ... WHERE spend + reserved <
//!   max_budget` per budget, shared by every replica on the database;
//! - **memory** (the default on SQLite, which serves one host): one lock per replica, against
//!   the spend this replica's cache sees; settling adds the cost to the cached counters and
//!   gives back the reservation in one step.
//!
//! `general_settings.budget_reservations: database | memory` overrides the default.
//!
//! The maximum cost: the prompt estimate (4 characters a token, plus per-message overhead and
//! tool definitions) × the highest input price in
//! the model group, plus `max_completion_tokens` / `max_tokens` (else the model's
//! `max_output_tokens`, else [`DEFAULT_MAX_OUTPUT_TOKENS`]) × the highest output price.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};

use litellm_auth::{BudgetExceeded, BudgetLimit, BudgetScope, Store};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Output tokens assumed when neither the request nor the price table bounds them (LiteLLM's
/// `DEFAULT_MAX_TOKENS`).
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 4096;

/// The header naming the end user (LiteLLM's `x-litellm-end-user-id`); the body's `user`
/// field is used when it is absent.
pub const END_USER_HEADER: &str = "x-litellm-end-user-id";

pub use crate::reservations::Reservations;

/// A call's reservation. Settled once by [`Hold::settle`]; released in full if dropped first.
#[derive(Debug)]
pub struct Hold {
    inner: Mutex<Option<HoldState>>,
}

#[derive(Debug)]
struct HoldState {
    reservations: Reservations,
    held: Vec<(BudgetScope, String)>,
    amount: f64,
    /// Whether the call's spend record will be written (spend logs on).
    logged: bool,
    /// This replica's key cache (memory mode adds the settled cost to it at once).
    cache: Option<litellm_auth::KeyCache>,
}

/// A shareable hold (the call's facts are cloned on the way to the spend record).
pub type HoldRef = Option<Arc<Hold>>;

impl Hold {
    fn take(&self) -> Option<HoldState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Settles with the cost of the call's spend record `rec` (`rec.spend`), giving back the
    /// rest of the reservation. On the database the cost itself stays reserved until the spend
    /// log moves it to `spend` (`rec` is marked with the budgets it is held on); in memory the
    /// cost is added to this replica's cached counters in the same step (and `rec` is marked so
    /// the ledger does not add it again), so it is never missing from both. With spend logs off
    /// there is no record, and the whole reservation is given back.
    pub fn settle(&self, rec: &mut litellm_auth::SpendRecord) {
        let Some(st) = self.take() else {
            return;
        };
        let cost = if rec.spend.is_finite() && rec.spend > 0.0 && st.logged {
            rec.spend
        } else {
            0.0
        };
        match st.reservations {
            Reservations::Database(store) => {
                if cost > 0.0 {
                    let scopes: Vec<BudgetScope> = st.held.iter().map(|(s, _)| *s).collect();
                    litellm_auth::budget::mark_held(rec, &scopes);
                }
                spawn_release(store, st.held, st.amount - cost);
            }
            Reservations::Memory(local) => {
                // The cost reaches the cached spend and the reservation is released under the
                // reservations' lock, so a concurrent reserve sees both or neither.
                local.settle_with(&st.held, st.amount, || {
                    if cost > 0.0 {
                        if let Some(cache) = &st.cache {
                            cache.add_spend(rec);
                            litellm_auth::budget::mark_spend_cached(rec);
                        }
                    }
                });
            }
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        // Never settled: the call failed or was dropped; give everything back.
        if let Some(st) = self.take() {
            match st.reservations {
                Reservations::Database(store) => spawn_release(store, st.held, st.amount),
                Reservations::Memory(local) => local.release(&st.held, st.amount),
            }
        }
    }
}

fn spawn_release(store: Store, held: Vec<(BudgetScope, String)>, amount: f64) {
    if held.is_empty() || amount == 0.0 {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        for (scope, id) in held {
            if let Err(e) = store.release_budget(scope, &id, amount).await {
                tracing::warn!(error = %e, scope = scope.as_str(), "could not release a budget reservation");
            }
        }
    });
}

/// LiteLLM's other header naming the end user (`x-litellm-customer-id`).
pub const CUSTOMER_HEADER: &str = "x-litellm-customer-id";

/// The end user a request names: the `x-litellm-end-user-id` (or `x-litellm-customer-id`)
/// header, else the body's `user`.
pub fn end_user_id(headers: &HeaderMap, body_user: Option<&str>) -> Option<String> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header(END_USER_HEADER)
        .or_else(|| header(CUSTOMER_HEADER))
        .or(body_user)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Loads the request's end user (and its budget) into `caller`, refusing a blocked one (LiteLLM's
/// 400 "User blocked from making LLM API Calls").
pub async fn load_end_user(
    state: &AppState,
    caller: &mut Caller,
    headers: &HeaderMap,
    body_user: Option<&str>,
) -> Result<(), ApiError> {
    let Some(id) = end_user_id(headers, body_user) else {
        return Ok(());
    };
    caller.end_user_id = Some(id.clone());
    let Some(db) = state.auth.key_db() else {
        return Ok(());
    };
    let cached = match db.cache.end_user(&id) {
        Some(c) => c,
        None => match db.store.end_user(&id).await {
            Ok(rec) => db.cache.put_end_user(&id, rec),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the end user; serving without its limits");
                return Ok(());
            }
        },
    };
    let Some(rec) = cached.record else {
        return Ok(());
    };
    if rec.blocked {
        return Err(ApiError::bad_request(
            Some("user"),
            format!(
                "User blocked from making LLM API Calls. User={}",
                rec.user_id
            ),
        ));
    }
    if let Some(bid) = &rec.budget_id {
        let budget = match db.cache.budget(bid) {
            Some(c) => c.record,
            None => match db.store.budget(bid).await {
                Ok(b) => db.cache.put_budget(bid, b).record,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the end user's budget");
                    None
                }
            },
        };
        caller.end_user_budget = budget;
    }
    caller.end_user = Some(rec);
    Ok(())
}

/// The budgets that apply to `caller` (with the spend this replica knows now).
fn limits(state: &AppState, caller: &Caller) -> Vec<BudgetLimit> {
    let mut out = Vec::new();
    let cache = state.auth.key_db().map(|d| &d.cache);
    if let Some(key) = &caller.key {
        if let Some(max) = key.max_budget {
            let spend = cache
                .and_then(|c| c.key(&key.token))
                .map_or(caller.key_spend, |c| c.spend);
            out.push(limit(BudgetScope::Key, &key.token, max, spend));
        }
    }
    if let Some(user) = caller.user.as_ref() {
        if let Some(max) = user.max_budget {
            let spend = cache
                .and_then(|c| c.user(&user.user_id))
                .map_or(caller.user_spend, |c| c.spend);
            out.push(limit(BudgetScope::User, &user.user_id, max, spend));
        }
    }
    if let Some(team) = caller.team.as_ref() {
        if let Some(max) = team.max_budget {
            let spend = cache
                .and_then(|c| c.team(&team.team_id))
                .map_or(caller.team_spend, |c| c.spend);
            out.push(limit(BudgetScope::Team, &team.team_id, max, spend));
        }
    }
    if let (Some(e), Some(max)) = (
        caller.end_user.as_ref(),
        caller.end_user_budget.as_ref().and_then(|b| b.max_budget),
    ) {
        let spend = cache
            .and_then(|c| c.end_user(&e.user_id))
            .map_or(e.spend, |c| c.spend);
        out.push(limit(BudgetScope::EndUser, &e.user_id, max, spend));
    }
    if let Some(max) = state.settings.global_max_budget {
        let spend = cache.and_then(|c| c.global_spend()).unwrap_or(0.0);
        out.push(limit(
            BudgetScope::Global,
            litellm_auth::budget::GLOBAL_BUDGET_ID,
            max,
            spend,
        ));
    }
    out
}

/// A budget's spend as this replica's cache knows it now (`l.spend` when it is not cached).
fn cached_spend(cache: Option<&litellm_auth::KeyCache>, l: &BudgetLimit) -> f64 {
    let Some(c) = cache else { return l.spend };
    let cached = match l.scope {
        BudgetScope::Key => c.key(&l.id).map(|k| k.spend),
        BudgetScope::User => c.user(&l.id).map(|u| u.spend),
        BudgetScope::Team => c.team(&l.id).map(|t| t.spend),
        BudgetScope::EndUser => c.end_user(&l.id).map(|e| e.spend),
        BudgetScope::Global => c.global_spend(),
    };
    cached.unwrap_or(l.spend)
}

fn limit(scope: BudgetScope, id: &str, max_budget: f64, spend: f64) -> BudgetLimit {
    BudgetLimit {
        scope,
        id: id.to_string(),
        max_budget,
        spend,
    }
}

/// Whether any budget applies to this caller (so the maximum cost is worth computing).
pub fn applies(state: &AppState, caller: &Caller) -> bool {
    state.settings.global_max_budget.is_some()
        || caller.key.as_ref().is_some_and(|k| k.max_budget.is_some())
        || caller.user.as_ref().is_some_and(|u| u.max_budget.is_some())
        || caller.team.as_ref().is_some_and(|t| t.max_budget.is_some())
        || caller
            .end_user_budget
            .as_ref()
            .is_some_and(|b| b.max_budget.is_some())
}

/// The most a call to `model` with `prompt_tokens` and at most `max_output` output tokens can
/// cost: the group's highest input and output prices.
pub fn max_cost(state: &AppState, model: &str, prompt_tokens: u64, max_output: Option<u64>) -> f64 {
    let group = state
        .router
        .resolve_group(model)
        .unwrap_or_else(|| model.to_string());
    let (mut input, mut output, mut out_tokens) = (0.0f64, 0.0f64, None::<u64>);
    for d in state.router.deployments() {
        if d.model_name != group {
            continue;
        }
        if let Some(p) = litellm_router::strategy::deployment_prices(&d) {
            input = input.max(p.input_cost_per_token.unwrap_or(0.0));
            output = output.max(p.output_cost_per_token.unwrap_or(0.0));
        }
        if let Some(m) = litellm_router::strategy::price_entry(&d).and_then(|e| e.max_output_tokens)
        {
            out_tokens = Some(out_tokens.map_or(m, |o| o.max(m)));
        }
    }
    let out = max_output
        .or(out_tokens)
        .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    prompt_tokens as f64 * input + out as f64 * output
}

/// Reserves `amount` on every budget that applies to `caller`, or refuses the call with
/// `budget_exceeded` naming the exhausted budget.
pub async fn reserve(state: &AppState, caller: &Caller, amount: f64) -> Result<HoldRef, ApiError> {
    if state.settings.global_max_budget.is_some() {
        if let Some(db) = state.auth.key_db() {
            if db.cache.global_spend().is_none() {
                let id = litellm_auth::budget::GLOBAL_BUDGET_ID;
                if let Ok(Some((spend, _))) = db.store.budget_usage(BudgetScope::Global, id).await {
                    db.cache.put_global_spend(spend);
                }
            }
        }
    }
    let limits = limits(state, caller);
    if limits.is_empty() {
        return Ok(None);
    }
    let amount = if amount.is_finite() && amount > 0.0 {
        amount
    } else {
        0.0
    };
    let reservations = state.budget_reservations.clone();
    let held: Vec<(BudgetScope, String)> = limits.iter().map(|l| (l.scope, l.id.clone())).collect();
    match &reservations {
        Reservations::Memory(local) => {
            // Spend is read again under the reservations' lock (see `LocalBudgets::settle_with`).
            let cache = state.auth.key_db().map(|d| &d.cache);
            local
                .reserve_with(&limits, amount, |l| cached_spend(cache, l))
                .map_err(|e| exceeded(state, caller, &e))?;
        }
        Reservations::Database(store) => {
            let mut done: Vec<(BudgetScope, String)> = Vec::new();
            for l in &limits {
                let ok = match store
                    .reserve_budget(l.scope, &l.id, amount, l.max_budget)
                    .await
                {
                    Ok(ok) => ok,
                    Err(e) => {
                        spawn_release(store.clone(), done, amount);
                        tracing::error!(error = %e, "could not reserve budget");
                        return Err(ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "service_unavailable_error",
                            "The budget database is unavailable; try again shortly.",
                        ));
                    }
                };
                if !ok {
                    spawn_release(store.clone(), done, amount);
                    let current = match store.budget_usage(l.scope, &l.id).await {
                        Ok(Some((spend, reserved))) => spend + reserved,
                        _ => l.spend,
                    };
                    return Err(exceeded(
                        state,
                        caller,
                        &BudgetExceeded {
                            scope: l.scope,
                            id: l.id.clone(),
                            max_budget: l.max_budget,
                            current,
                        },
                    ));
                }
                done.push((l.scope, l.id.clone()));
            }
        }
    }
    Ok(Some(Arc::new(Hold {
        inner: Mutex::new(Some(HoldState {
            reservations,
            held,
            amount,
            logged: state.spend_ledger().is_some(),
            cache: state.auth.key_db().map(|d| d.cache.clone()),
        })),
    })))
}

/// LiteLLM's `budget_exceeded` error naming the budget.
fn exceeded(state: &AppState, caller: &Caller, e: &BudgetExceeded) -> ApiError {
    let who = match e.scope {
        BudgetScope::Key => {
            let key = caller.key.as_ref();
            let alias = key.and_then(|k| k.key_alias.clone());
            let name = key.map(|k| k.key_name.clone()).unwrap_or_default();
            format!("Key={} ({name})", alias.unwrap_or_else(|| name.clone()))
        }
        BudgetScope::Global => "Global Proxy".to_string(),
        other => format!("{}={}", other.word(), e.id),
    };
    let current = if e.current.is_finite() {
        e.current
    } else {
        0.0
    };
    ApiError::new(
        state.auth.budget_exceeded_status(),
        "budget_exceeded",
        format!(
            "Budget has been exceeded! {who} Current cost: {current}, Max budget: {}",
            e.max_budget
        ),
    )
}

/// [`reserve`] for a call whose `tokens()` are its prompt tokens and at most output tokens;
/// `tokens` is called only when a budget applies.
pub async fn reserve_with(
    state: &AppState,
    caller: &Caller,
    model: &str,
    tokens: impl FnOnce() -> (u64, Option<u64>),
) -> Result<HoldRef, ApiError> {
    if !applies(state, caller) {
        return Ok(None);
    }
    let (prompt, max_out) = tokens();
    let amount = max_cost(state, model, prompt, max_out);
    reserve(state, caller, amount).await
}

/// Starts the budget-reset job (`litellm_auth::reset::ResetJob`) until `stop` is cancelled: a
/// pass every `proxy_budget_rescheduler_min_time` seconds plus up to `max_time - min_time` of
/// jitter (defaults 597 and 605, LiteLLM's), run by the replica holding the lease.
pub fn spawn_reset_job(
    state: &AppState,
    config: &crate::config::ProxyConfig,
    stop: tokio_util::sync::CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let db = state.auth.key_db()?;
    let g = &config.general_settings;
    let secs = |v: Option<f64>, d: f64| v.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(d);
    let min = secs(g.proxy_budget_rescheduler_min_time, 597.0);
    let max = secs(g.proxy_budget_rescheduler_max_time, 605.0).max(min);
    let job = litellm_auth::reset::ResetJob {
        store: db.store.clone(),
        holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        interval: Duration::from_secs_f64(min),
        jitter: Duration::from_secs_f64(max - min),
        cache: Some(db.cache.clone()),
    };
    Some(tokio::spawn(job.run(stop.cancelled_owned())))
}
