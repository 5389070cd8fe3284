//! Building, reloading and inspecting a [`Router`]: its constructors, [`Router::reload`] (what
//! carries over to the new configuration), the observer, the health checks' unhealthy set, and
//! read-only views of the configuration in force.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use litellm_core::{ErrorKind, LlmError};

use super::policy::Backoff;
use super::registry::{build_deployments, wildcard_capture, Carried, Common, Inner};
use super::{Router, Shared};
use crate::config::{DeploymentConfig, RouterSettings};
use crate::deployment::Deployment;
use crate::observer::RouterObserver;
use crate::state::RouterState;
use crate::strategy::RoutingStrategy;

impl Router {
    /// A router over `model_list` with default settings (LiteLLM's `Router(model_list=...)`).
    pub fn new(model_list: Vec<DeploymentConfig>) -> Result<Self, LlmError> {
        Self::with_settings(model_list, RouterSettings::default())
    }

    /// A router over `model_list` with the given settings; builds every deployment's backend.
    pub fn with_settings(
        model_list: Vec<DeploymentConfig>,
        settings: RouterSettings,
    ) -> Result<Self, LlmError> {
        Self::from_deployments(build_deployments(model_list)?, settings)
    }

    /// A router from LiteLLM `config.yaml` text (its `model_list` and `router_settings`).
    pub fn from_config_yaml(text: &str) -> Result<Self, LlmError> {
        let c = crate::config::RouterConfig::from_yaml(text)?;
        Self::with_settings(c.model_list, c.router_settings)
    }

    /// A router from a LiteLLM `config.yaml` file.
    pub fn from_config_file(path: impl AsRef<std::path::Path>) -> Result<Self, LlmError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            LlmError::client(
                ErrorKind::BadRequest,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::from_config_yaml(&text)
    }

    /// A router over deployments that already have backends (scripted backends in tests).
    /// With `redis_url`/`redis_host` set, router state is shared through Redis.
    pub fn from_deployments(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
    ) -> Result<Self, LlmError> {
        let state = crate::redis_store::state_for(&settings)?;
        Self::from_deployments_with_state(deployments, settings, state)
    }

    /// As [`Router::from_deployments`], over the given state (tests share one state between
    /// two routers to play two replicas).
    pub fn from_deployments_with_state(
        deployments: Vec<Deployment>,
        settings: RouterSettings,
        state: RouterState,
    ) -> Result<Self, LlmError> {
        let common = Arc::new(Common::default());
        let inner = Inner::build(
            deployments,
            settings,
            Arc::new(state),
            common.clone(),
            Backoff::default(),
            Carried::default(),
        )?;
        Ok(Router {
            shared: Arc::new(Shared {
                current: RwLock::new(Arc::new(inner)),
                common,
                reload: Mutex::new(()),
            }),
        })
    }

    /// Replaces the model list and router settings, building every deployment's backend
    /// first: on error nothing changes. Calls and streams already running finish on the
    /// configuration they started with; new calls see the new one at once. See
    /// [`Router::reload_deployments`] for what carries over.
    pub fn reload(
        &self,
        model_list: Vec<DeploymentConfig>,
        settings: RouterSettings,
    ) -> Result<(), LlmError> {
        self.reload_deployments(build_deployments(model_list)?, settings)
    }

    /// As [`Router::reload`], over deployments that already have backends.
    ///
    /// What survives: the state store (cooldown marks, failure counts and per-minute usage,
    /// all keyed by deployment id, so a deployment whose id is unchanged keeps its cooldown and
    /// its `rpm`/`tpm` usage), this replica's in-flight counts and latency samples of
    /// deployments whose id is unchanged (ids are `model_info.id` or a hash of the config
    /// without credentials, so an unchanged entry, or one whose key was rotated, keeps its
    /// id), the observer, the health checks' unhealthy set (pruned to ids still configured),
    /// and the retry backoff. The Redis connection settings (`redis_*`) are not reloaded: the
    /// running store stays, and a change is logged.
    pub fn reload_deployments(
        &self,
        deployments: Vec<Deployment>,
        mut settings: RouterSettings,
    ) -> Result<(), LlmError> {
        let _serial = self.shared.reload.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.load();
        let running = &old.settings;
        if settings.redis_connection_url() != running.redis_connection_url()
            || settings.redis_timeout != running.redis_timeout
        {
            tracing::warn!(
                "router_settings.redis_*: the shared state store cannot change on reload; \
                 keeping the running one (restart to apply)"
            );
        }
        settings.redis_url = running.redis_url.clone();
        settings.redis_host = running.redis_host.clone();
        settings.redis_port = running.redis_port;
        settings.redis_password = running.redis_password.clone();
        settings.redis_db = running.redis_db;
        settings.redis_timeout = running.redis_timeout;
        let mut carried = Carried::default();
        for g in old.groups.values() {
            g.live_by_id(&mut carried.groups);
        }
        {
            let concrete = old.concrete.read().unwrap_or_else(|p| p.into_inner());
            for g in concrete.values() {
                g.live_by_id(&mut carried.concrete);
            }
        }
        let inner = Inner::build(
            deployments,
            settings,
            old.state.clone(),
            old.common.clone(),
            old.backoff,
            carried,
        )?;
        let ids: HashSet<&str> = inner
            .groups
            .values()
            .flat_map(|g| g.deployments.iter().map(|d| d.id.as_str()))
            .collect();
        {
            let mut unhealthy = self
                .shared
                .common
                .unhealthy
                .write()
                .unwrap_or_else(|p| p.into_inner());
            unhealthy.retain(|id| ids.contains(id.as_str()));
            self.shared
                .common
                .any_unhealthy
                .store(!unhealthy.is_empty(), Ordering::Release);
        }
        tracing::info!(
            models = ?inner.group_order,
            deployments = ids.len(),
            strategy = inner.strategy.name(),
            "router configuration reloaded"
        );
        *self
            .shared
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(inner);
        Ok(())
    }
}

impl Router {
    /// Sets the observer told about every attempt and cooldown (see [`RouterObserver`]).
    pub fn with_observer(self, observer: Arc<dyn RouterObserver>) -> Self {
        self.set_observer(observer);
        self
    }

    /// Sets (or replaces) the observer on this router and every clone of it; it stays across
    /// reloads.
    pub fn set_observer(&self, observer: Arc<dyn RouterObserver>) {
        *self
            .shared
            .common
            .observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    /// Marks the deployments with these ids unhealthy (replacing the previous set), as the
    /// proxy's background health checks do. Routing skips an unhealthy deployment while
    /// another deployment of its group that is not cooling down is healthy; when none is, the
    /// unhealthy ones are still tried (the health check may be stale).
    pub fn set_unhealthy(&self, ids: impl IntoIterator<Item = String>) {
        let set: HashSet<String> = ids.into_iter().collect();
        let any = !set.is_empty();
        let common = &self.shared.common;
        *common.unhealthy.write().unwrap_or_else(|p| p.into_inner()) = set;
        common.any_unhealthy.store(any, Ordering::Release);
    }

    /// The Redis handle router state is shared through (`None`: state in memory only). The
    /// proxy runs its rate limiter and, on the same server, its response cache on it, so one
    /// pool and one breaker serve them all.
    pub fn redis_handle(&self) -> Option<crate::redis::RedisHandle> {
        self.load().state.redis_handle().cloned()
    }

    /// Pings the shared state store (Redis): `None` when router state is in memory only.
    pub async fn ping_state_store(&self) -> Option<Result<(), crate::state::StateError>> {
        let state = self.load().state.clone();
        state.ping_remote().await
    }

    /// The ids of the deployments currently marked unhealthy, sorted.
    pub fn unhealthy_deployments(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .shared
            .common
            .unhealthy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// Replaces the retry backoff (tests use a zero backoff to stay fast); it stays across
    /// reloads. Call it right after construction: on a router that was already cloned it
    /// changes nothing.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            let current = shared.current.get_mut().unwrap_or_else(|p| p.into_inner());
            if let Some(inner) = Arc::get_mut(current) {
                inner.backoff = backoff;
            }
        }
        self
    }

    /// The settings in force (a copy: a reload may replace them).
    pub fn settings(&self) -> RouterSettings {
        self.load().settings.clone()
    }

    /// The routing strategy in force.
    pub fn strategy(&self) -> RoutingStrategy {
        self.load().strategy.clone()
    }

    /// Where router state lives: `memory` or `redis`.
    pub fn state_kind(&self) -> &'static str {
        self.load().state.kind()
    }

    /// Model names clients may ask for: every group in config order, then visible aliases.
    pub fn model_names(&self) -> Vec<String> {
        let inner = self.load();
        let mut names = inner.group_order.clone();
        let mut aliases: Vec<_> = inner
            .aliases
            .iter()
            .filter(|(_, (_, hidden))| !hidden)
            .map(|(a, _)| a.clone())
            .collect();
        aliases.sort();
        names.extend(aliases);
        names
    }

    /// Every deployment, in config order of their groups.
    pub fn deployments(&self) -> Vec<Arc<Deployment>> {
        let inner = self.load();
        inner
            .group_order
            .iter()
            .filter_map(|g| inner.groups.get(g))
            .flat_map(|g| g.deployments.iter().cloned())
            .collect()
    }

    /// The group a requested model name resolves to, if any: an exact group, an alias, or
    /// (returned as the pattern) the most specific wildcard group matching it.
    pub fn resolve_group(&self, model: &str) -> Option<String> {
        let inner = self.load();
        if inner.groups.contains_key(model) {
            return Some(model.to_string());
        }
        if let Some((g, _)) = inner.aliases.get(model) {
            return Some(g.clone());
        }
        inner
            .wildcards
            .iter()
            .find(|w| wildcard_capture(w, model).is_some())
            .cloned()
    }
}
