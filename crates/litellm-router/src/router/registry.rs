//! The deployment registry: one configuration snapshot ([`Inner`]) with its model groups,
//! aliases, wildcard groups and settings, this replica's live counters per deployment (in-flight
//! counts, latency samples, carried across reloads), and the lookup of the group serving a
//! requested model.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use litellm_core::{ErrorKind, LlmError};

use super::policy::{Backoff, RetryPolicy};
use super::Routing;
use crate::config::{DeploymentConfig, RouterSettings};
use crate::cooldown::{cooldown_key, parse_policy, Cooldowns};
use crate::deployment::{secs_to_duration, Deployment};
use crate::observer::RouterObserver;
use crate::state::RouterState;
use crate::strategy::RoutingStrategy;

/// Recent latency samples of one deployment (seconds), newest last.
#[derive(Debug, Default)]
pub(super) struct Samples(VecDeque<(tokio::time::Instant, f64)>);

impl Samples {
    pub(super) fn push(&mut self, v: f64, max: usize) {
        self.0.push_back((tokio::time::Instant::now(), v));
        while self.0.len() > max {
            self.0.pop_front();
        }
    }

    pub(super) fn average(&self, ttl: Duration) -> Option<f64> {
        let now = tokio::time::Instant::now();
        let (sum, n) = self
            .0
            .iter()
            .filter(|(t, _)| now.duration_since(*t) < ttl)
            .fold((0.0, 0u32), |(s, n), (_, v)| (s + v, n + 1));
        (n > 0).then(|| sum / f64::from(n))
    }
}

/// This replica's live counters for one deployment.
#[derive(Debug, Default)]
pub(super) struct Live {
    pub(super) in_flight: AtomicU64,
    pub(super) latency: Mutex<Samples>,
    pub(super) ttft: Mutex<Samples>,
}

/// Holds one in-flight slot of a deployment; released on drop (for streams, when the stream is
/// dropped).
pub(super) struct InFlight {
    pub(super) group: Arc<ModelGroup>,
    pub(super) index: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.group.live[self.index]
            .in_flight
            .fetch_sub(1, Ordering::Relaxed);
    }
}

pub(super) struct ModelGroup {
    pub(super) name: String,
    pub(super) deployments: Vec<Arc<Deployment>>,
    /// `cooldown:{id}` per deployment, index-aligned.
    pub(super) cooldown_keys: Vec<String>,
    /// Index-aligned; shared with the previous configuration's deployment of the same id
    /// across a reload, so in-flight counts and latency samples carry over.
    pub(super) live: Vec<Arc<Live>>,
}

impl ModelGroup {
    /// A group over `deployments`, taking each one's live counters out of `carried` (by
    /// deployment id) when a previous configuration had it.
    pub(super) fn new(
        name: String,
        deployments: Vec<Arc<Deployment>>,
        carried: &mut HashMap<String, Arc<Live>>,
    ) -> Self {
        ModelGroup {
            cooldown_keys: deployments.iter().map(|d| cooldown_key(&d.id)).collect(),
            live: deployments
                .iter()
                .map(|d| carried.remove(&d.id).unwrap_or_default())
                .collect(),
            name,
            deployments,
        }
    }

    /// Its live counters by deployment id.
    pub(super) fn live_by_id(&self, into: &mut HashMap<String, Arc<Live>>) {
        for (d, live) in self.deployments.iter().zip(&self.live) {
            into.entry(d.id.clone()).or_insert_with(|| live.clone());
        }
    }
}

/// How many wildcard materializations are kept (each a model string a client asked for).
const MAX_CONCRETE_GROUPS: usize = 1024;

/// One configuration snapshot: everything [`Router::reload`] replaces.
pub(super) struct Inner {
    pub(super) groups: HashMap<String, Arc<ModelGroup>>,
    /// Group names in config order, for `/v1/models`.
    pub(super) group_order: Vec<String>,
    /// Wildcard group names (`*`, `anthropic/*`), most specific (longest) first.
    pub(super) wildcards: Vec<String>,
    /// Groups built for concrete model names that matched a wildcard.
    pub(super) concrete: RwLock<HashMap<String, Arc<ModelGroup>>>,
    /// Live counters of the previous configuration's wildcard materializations, by deployment
    /// id, taken when the same concrete model is built again.
    pub(super) carried_concrete: Mutex<HashMap<String, Arc<Live>>>,
    /// alias -> (group, hidden)
    pub(super) aliases: HashMap<String, (String, bool)>,
    pub(super) settings: RouterSettings,
    pub(super) strategy: RoutingStrategy,
    pub(super) retry_policy: RetryPolicy,
    pub(super) group_retry_policy: HashMap<String, RetryPolicy>,
    pub(super) backoff: Backoff,
    /// The same store in every snapshot: it survives reloads.
    pub(super) state: Arc<RouterState>,
    pub(super) cooldowns: Cooldowns,
    /// The same in every snapshot: it survives reloads.
    pub(super) common: Arc<Common>,
}

/// What outlives every configuration: the observer and the health checks' verdicts.
#[derive(Default)]
pub(super) struct Common {
    /// Told about every attempt and cooldown (the proxy's metrics); see `observer.rs`.
    pub(super) observer: RwLock<Option<Arc<dyn RouterObserver>>>,
    /// Deployment ids the last health check found unhealthy (`set_unhealthy`).
    pub(super) unhealthy: RwLock<HashSet<String>>,
    /// Whether `unhealthy` is non-empty, so routing skips the lock in the common case.
    pub(super) any_unhealthy: AtomicBool,
}

impl Common {
    pub(super) fn observer(&self) -> Option<Arc<dyn RouterObserver>> {
        self.observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Live counters of the configuration being replaced, by deployment id.
#[derive(Default)]
pub(super) struct Carried {
    pub(super) groups: HashMap<String, Arc<Live>>,
    pub(super) concrete: HashMap<String, Arc<Live>>,
}

/// Builds every deployment's backend, naming the failing entry (`model_list[i]: ...`).
pub(super) fn build_deployments(
    model_list: Vec<DeploymentConfig>,
) -> Result<Vec<Deployment>, LlmError> {
    model_list
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Deployment::build(c).map_err(|mut e| {
                e.message = format!("model_list[{i}]: {}", e.message);
                e
            })
        })
        .collect()
}

impl Inner {
    /// Validates `settings` and groups `deployments` into a configuration snapshot.
    pub(super) fn build(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
        state: Arc<RouterState>,
        common: Arc<Common>,
        backoff: Backoff,
        mut carried: Carried,
    ) -> Result<Self, LlmError> {
        let strategy =
            RoutingStrategy::parse(&settings.routing_strategy, &settings.routing_strategy_args)?;
        if settings.enable_pre_call_checks {
            // Load the tokenizer vocabularies off the request path (about 0.3 s, once).
            std::thread::spawn(crate::tokens::warm_up);
        }
        let mut by_name: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        let mut group_order = Vec::new();
        for d in deployments {
            let name = d.model_name.clone();
            by_name
                .entry(name.clone())
                .or_insert_with(|| {
                    group_order.push(name.clone());
                    Vec::new()
                })
                .push(Arc::new(d));
        }
        let groups: HashMap<String, Arc<ModelGroup>> = by_name
            .into_iter()
            .map(|(name, deps)| {
                let group = ModelGroup::new(name.clone(), deps, &mut carried.groups);
                (name, Arc::new(group))
            })
            .collect();
        let mut wildcards: Vec<String> = group_order
            .iter()
            .filter(|g| g.contains('*'))
            .cloned()
            .collect();
        wildcards.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut aliases = HashMap::new();
        for (alias, target) in &settings.model_group_alias {
            let (group, hidden) = match target {
                serde_json::Value::String(s) => (s.clone(), false),
                serde_json::Value::Object(o) => (
                    o.get("model")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    o.get("hidden").and_then(|v| v.as_bool()).unwrap_or(false),
                ),
                _ => (String::new(), false),
            };
            if !groups.contains_key(&group) {
                return Err(LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "router_settings.model_group_alias.{alias}: no model group named '{group}'"
                    ),
                ));
            }
            aliases.insert(alias.clone(), (group, hidden));
        }
        let retry_policy = RetryPolicy::parse("retry_policy", &settings.retry_policy)?;
        let group_retry_policy = settings
            .model_group_retry_policy
            .iter()
            .map(|(g, m)| {
                RetryPolicy::parse(&format!("model_group_retry_policy.{g}"), m)
                    .map(|p| (g.clone(), p))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let fails_policy = parse_policy(
            "allowed_fails_policy",
            "AllowedFails",
            &settings.allowed_fails_policy,
            &[],
        )?;
        let cooldowns = Cooldowns::new(
            state.clone(),
            settings.allowed_fails,
            fails_policy,
            secs_to_duration(settings.cooldown_time).unwrap_or(Duration::ZERO),
            settings.disable_cooldowns,
        );
        Ok(Inner {
            groups,
            group_order,
            wildcards,
            concrete: RwLock::new(HashMap::new()),
            carried_concrete: Mutex::new(carried.concrete),
            aliases,
            settings,
            strategy,
            retry_policy,
            group_retry_policy,
            backoff,
            state,
            cooldowns,
            common,
        })
    }
}

impl Routing {
    /// The group serving `model`: exact or alias, else a group built from the matching
    /// wildcard group's deployments with `*` in their model replaced by what it matched.
    pub(super) fn group_for(&self, model: &str) -> Result<Arc<ModelGroup>, LlmError> {
        if let Some(g) = self.inner.groups.get(model) {
            return Ok(g.clone());
        }
        if let Some(g) = self
            .inner
            .aliases
            .get(model)
            .and_then(|(g, _)| self.inner.groups.get(g))
        {
            return Ok(g.clone());
        }
        {
            let cache = self
                .inner
                .concrete
                .read()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(g) = cache.get(model) {
                return Ok(g.clone());
            }
        }
        let (pattern, captured) = self
            .inner
            .wildcards
            .iter()
            .find_map(|w| wildcard_capture(w, model).map(|c| (w, c)))
            .ok_or_else(|| Self::unknown_model(model))?;
        let template = self
            .inner
            .groups
            .get(pattern)
            .ok_or_else(|| Self::unknown_model(model))?;
        let deployments = template
            .deployments
            .iter()
            .map(|d| {
                let mut config = d.config.clone();
                config.model_name = model.to_string();
                let m = &mut config.litellm_params.provider.model;
                if m.contains('*') {
                    *m = m.replacen('*', captured, 1);
                }
                if let Some(id) = config.model_info.id.as_mut() {
                    id.push(':');
                    id.push_str(model);
                }
                Deployment::build(config).map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let group = {
            let mut carried = self
                .inner
                .carried_concrete
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            Arc::new(ModelGroup::new(
                model.to_string(),
                deployments,
                &mut carried,
            ))
        };
        let mut cache = self
            .inner
            .concrete
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if cache.len() < MAX_CONCRETE_GROUPS {
            cache.insert(model.to_string(), group.clone());
        }
        Ok(group)
    }

    fn unknown_model(model: &str) -> LlmError {
        LlmError::bad_param(
            "model",
            format!(
                "Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
            ),
        )
    }
}

/// What `*` in `pattern` matched in `model`, if `model` matches (one `*`; `*` alone matches
/// every model).
pub(super) fn wildcard_capture<'m>(pattern: &str, model: &'m str) -> Option<&'m str> {
    let (prefix, suffix) = pattern.split_once('*')?;
    if model.len() < prefix.len() + suffix.len() {
        return None;
    }
    let rest = model.strip_prefix(prefix)?;
    let captured = rest.strip_suffix(suffix)?;
    (!captured.is_empty()).then_some(captured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_capture_what_the_star_matched() {
        assert_eq!(
            wildcard_capture("anthropic/*", "anthropic/claude-x"),
            Some("claude-x")
        );
        assert_eq!(wildcard_capture("*", "groq/llama"), Some("groq/llama"));
        assert_eq!(wildcard_capture("anthropic/*", "openai/gpt-4o"), None);
        assert_eq!(wildcard_capture("anthropic/*", "anthropic/"), None);
        assert_eq!(wildcard_capture("gpt-*-mini", "gpt-4o-mini"), Some("4o"));
        assert_eq!(wildcard_capture("plain", "plain"), None);
    }
}
