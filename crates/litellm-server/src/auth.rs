//! Request authentication and authorization: where a key is read from (LiteLLM's
//! `SpecialHeaders`), the master key, and virtual keys with their team and user.
//!
//! [`Auth::check`] runs LiteLLM's key checks in its order: the key exists (401), has not expired
//! (400 `expired_key`, as LiteLLM), is not blocked (401), and its team is not blocked (401).
//! [`Auth::authorize`] then runs the per-call checks once the model is known: the key's and the
//! team's `models` (401 `key_model_access_denied` / `team_model_access_denied`), then the key,
//! team and user `max_budget` against their spend (`budget_exceeded`, 422 by default as in
//! LiteLLM 1.109; see [`Auth::with_budget_exceeded_status`]).
//!
//! Keys, users and teams come from the ledger's [`KeyCache`] and only on a miss from the
//! database. Without a master key the proxy is open (bound to loopback only): any key is
//! accepted, but a stored virtual key is still checked and its spend attributed.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use chrono::Utc;

use litellm_auth::{
    abbreviate_key, hash_token, AuthError, Cached, KeyCache, KeyRecord, MasterKey, Store,
    TeamRecord, UserRecord,
};

use crate::error::ApiError;

/// Headers a key may come in, in LiteLLM's order of precedence.
const KEY_HEADERS: [&str; 5] = [
    "api-key",
    "x-api-key",
    "x-litellm-api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
];

/// LiteLLM's `budget_exceeded_status_code` in 1.109 (older releases sent 400, then 429).
pub const DEFAULT_BUDGET_EXCEEDED_STATUS: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Who is calling, as far as auth could tell.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// SHA-256 hex of the presented key ("" when none), for spend logs. Never the key itself.
    pub key_hash: String,
    pub key_alias: Option<String>,
    /// The key's owner (an internal user).
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// The master key, or a key whose user is a `proxy_admin`.
    pub is_admin: bool,
    /// The virtual key, when the presented key is one.
    pub key: Option<Arc<KeyRecord>>,
    /// The key's spend as this replica knows it.
    pub key_spend: f64,
    pub team: Option<Arc<TeamRecord>>,
    pub team_spend: f64,
    pub user: Option<Arc<UserRecord>>,
    pub user_spend: f64,
    /// The end user the request names (`x-litellm-end-user-id` or the body's `user`).
    pub end_user_id: Option<String>,
    /// Its stored record and budget, when it has one (`budget_reserve::load_end_user`).
    pub end_user: Option<Arc<litellm_auth::EndUserRecord>>,
    pub end_user_budget: Option<Arc<litellm_auth::BudgetRecord>>,
}

impl Caller {
    /// The model this key's `aliases` map `model` to, if any.
    pub fn model_alias(&self, model: &str) -> Option<String> {
        self.key
            .as_ref()?
            .aliases
            .get(model)?
            .as_str()
            .map(str::to_string)
    }

    /// Adds `x-litellm-key-spend` (spend after this call) and `x-litellm-key-max-budget` for a
    /// virtual key.
    pub fn key_headers(&self, h: &mut HeaderMap, cost: f64) {
        let Some(key) = &self.key else { return };
        let mut put = |name: &'static str, v: f64| {
            if let Ok(v) = HeaderValue::from_str(&crate::headers::format_cost(v)) {
                h.insert(HeaderName::from_static(name), v);
            }
        };
        put("x-litellm-key-spend", self.key_spend + cost);
        if let Some(max) = key.max_budget {
            put("x-litellm-key-max-budget", max);
        }
    }
}

/// The database behind virtual keys and this replica's cache of it.
#[derive(Debug, Clone)]
pub struct KeyDb {
    pub store: Store,
    pub cache: KeyCache,
}

/// The proxy's authenticator.
#[derive(Debug, Clone)]
pub struct Auth {
    master_key: Option<MasterKey>,
    custom_header: Option<String>,
    db: Option<KeyDb>,
    budget_exceeded_status: StatusCode,
    /// `general_settings.allow_requests_on_db_unavailable`: when the database cannot be read,
    /// serve keys, users and teams from the cache even past their TTL.
    allow_stale_on_db_error: bool,
    /// The router, whose deployments' `model_info.access_groups` expand `models` lists.
    router: Option<litellm_router::Router>,
}

pub use crate::routes::access::model_allowed;

fn db_unavailable(e: &AuthError) -> ApiError {
    tracing::error!(error = %e, "could not read keys from the database");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable_error",
        "Authentication Error: the key database is unavailable; try again shortly.",
    )
}

/// A spend, its budget, and who is over it (worded only when someone is).
type BudgetCheck<'a> = (f64, Option<f64>, &'a dyn Fn() -> String);

impl Auth {
    /// An authenticator with an optional master key and `litellm_key_header_name`, and no
    /// virtual keys.
    pub fn new(master_key: Option<MasterKey>, custom_header: Option<String>) -> Self {
        Auth {
            master_key,
            custom_header: custom_header.map(|h| h.to_ascii_lowercase()),
            db: None,
            budget_exceeded_status: DEFAULT_BUDGET_EXCEEDED_STATUS,
            allow_stale_on_db_error: false,
            router: None,
        }
    }

    /// Enables virtual keys, users and teams stored in `db`.
    pub fn with_key_db(mut self, db: KeyDb) -> Self {
        self.db = Some(db);
        self
    }

    /// The status a budget-exceeded refusal answers with (LiteLLM's
    /// `litellm.budget_exceeded_status_code`; 422 by default).
    pub fn with_budget_exceeded_status(mut self, status: StatusCode) -> Self {
        self.budget_exceeded_status = status;
        self
    }

    /// `allow_requests_on_db_unavailable`: keys (and their users and teams) this replica has
    /// seen keep working from the cache while the database is down; unknown keys still fail.
    pub fn with_stale_keys_on_db_error(mut self, allow: bool) -> Self {
        self.allow_stale_on_db_error = allow;
        self
    }

    fn stale<T>(&self, e: AuthError, cached: Option<Cached<T>>) -> Result<Cached<T>, AuthError> {
        match cached {
            Some(c) if self.allow_stale_on_db_error => {
                tracing::warn!(error = %e, "database unavailable: serving a cached key record (allow_requests_on_db_unavailable)");
                Ok(c)
            }
            _ => Err(e),
        }
    }

    /// Whether a master key is set.
    pub fn has_master_key(&self) -> bool {
        self.master_key.is_some()
    }

    /// The key database, when virtual keys are enabled.
    pub fn key_db(&self) -> Option<&KeyDb> {
        self.db.as_ref()
    }

    /// Reads the presented key from the request headers.
    pub fn presented_key<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        if let Some(name) = &self.custom_header {
            if let Some(v) = headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
                return Some(strip_bearer(v));
            }
        }
        if let Some(v) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            return Some(strip_bearer(v));
        }
        KEY_HEADERS
            .iter()
            .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
            .map(strip_bearer)
    }

    /// Checks the request's key: the master key, or a virtual key that exists, has not
    /// expired, is not blocked and whose team is not blocked. Without a master key every
    /// request passes these checks unless it presents a stored virtual key that fails them.
    pub async fn check(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let presented = self.presented_key(headers).filter(|k| !k.is_empty());
        let open = self.master_key.is_none();
        let Some(key) = presented else {
            if open {
                return Ok(Caller {
                    is_admin: true,
                    ..Caller::default()
                });
            }
            return Err(ApiError::unauthorized(
                "Authentication Error, No api key passed in. Pass it as `Authorization: Bearer <key>`.",
            ));
        };
        if let Some(master) = &self.master_key {
            if master.verify(key) {
                return Ok(Caller {
                    key_hash: master.hash().to_string(),
                    is_admin: true,
                    ..Caller::default()
                });
            }
        }
        let hash = hash_token(key);
        let anonymous = Caller {
            key_hash: hash.clone(),
            is_admin: open,
            ..Caller::default()
        };
        let invalid = || {
            ApiError::unauthorized(format!(
                "Authentication Error, Invalid proxy server token passed. Received API Key = {}; \
                 the key is not valid.",
                abbreviate_key(key)
            ))
        };
        let Some(db) = &self.db else {
            return if open { Ok(anonymous) } else { Err(invalid()) };
        };
        let cached = match self.load_key(db, &hash).await {
            Ok(c) => c,
            Err(e) if open => {
                tracing::warn!(error = %e, "could not look the key up; the proxy is open");
                return Ok(anonymous);
            }
            Err(e) => return Err(db_unavailable(&e)),
        };
        let Some(rec) = cached.record else {
            return if open { Ok(anonymous) } else { Err(invalid()) };
        };
        let now = Utc::now();
        if rec.is_expired(now) {
            let expires = rec.expires.map(|e| e.to_rfc3339()).unwrap_or_default();
            let mut e = ApiError::new(
                StatusCode::BAD_REQUEST,
                "expired_key",
                format!(
                    "Authentication Error - Expired Key. Key Expiry time {expires} and current \
                     time {}",
                    now.to_rfc3339()
                ),
            );
            e.param = Some("key".to_string());
            return Err(e);
        }
        if rec.blocked {
            return Err(ApiError::unauthorized(
                "Authentication Error, Key is blocked. Update via `/key/unblock` if you're admin.",
            ));
        }
        let mut caller = Caller {
            key_hash: hash,
            key_alias: rec.key_alias.clone(),
            user_id: rec.user_id.clone(),
            team_id: rec.team_id.clone(),
            is_admin: open,
            key_spend: cached.spend,
            ..Caller::default()
        };
        if let Some(team_id) = &rec.team_id {
            let team = self.load(db, team_id, Entity::Team).await;
            let team = team.map_err(|e| db_unavailable(&e))?;
            if let Entity::TeamFound(t, spend) = team {
                if t.blocked {
                    return Err(ApiError::unauthorized(format!(
                        "Authentication Error, Team={} is blocked. Update via `/team/unblock` if \
                         you're admin.",
                        t.team_id
                    )));
                }
                caller.team = Some(t);
                caller.team_spend = spend;
            }
        }
        if let Some(user_id) = &rec.user_id {
            let user = self.load(db, user_id, Entity::User).await;
            if let Entity::UserFound(u, spend) = user.map_err(|e| db_unavailable(&e))? {
                caller.is_admin |= u.user_role == "proxy_admin";
                caller.user = Some(u);
                caller.user_spend = spend;
            }
        }
        caller.key = Some(rec);
        Ok(caller)
    }

    /// The per-call checks for `model`, in LiteLLM's order: key models, team models, then key,
    /// team and user budgets. The master key and anonymous callers pass.
    pub fn authorize(&self, caller: &Caller, model: &str) -> Result<(), ApiError> {
        let Some(key) = &caller.key else {
            return Ok(());
        };
        self.model_access(caller, model)?;
        self.check_budgets(caller, key)
    }

    /// Expands `models` lists with the access groups of `router`'s deployments
    /// (`model_info.access_groups`), read at each check so a config reload applies at once.
    pub fn with_router(mut self, router: litellm_router::Router) -> Self {
        self.router = Some(router);
        self
    }

    /// Whether the caller's key and team may use `model` (their `models`, access groups and
    /// `all-team-models`); budgets are not looked at. The master key and anonymous callers may.
    pub fn model_access(&self, caller: &Caller, model: &str) -> Result<(), ApiError> {
        let Some(key) = &caller.key else {
            return Ok(());
        };
        let allow = |models: &[String]| {
            crate::routes::access::models_allow(models, model, self.router.as_ref())
        };
        let uses_team_models = key.models.iter().any(|m| m == "all-team-models");
        if !uses_team_models && !allow(&key.models) {
            return Err(access_denied(
                "key_model_access_denied",
                format!(
                    "key not allowed to access model. This key can only access models={:?}. \
                     Tried to access {model}",
                    key.models
                ),
            ));
        }
        if let Some(team) = &caller.team {
            if !allow(&team.models) {
                return Err(access_denied(
                    "team_model_access_denied",
                    format!(
                        "team not allowed to access model. This team can only access models={:?}. \
                         Tried to access {model}",
                        team.models
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The budget checks of [`Auth::authorize`] (after its model checks).
    fn check_budgets(&self, caller: &Caller, key: &KeyRecord) -> Result<(), ApiError> {
        let (team, user) = (caller.team.as_ref(), caller.user.as_ref());
        // Who is over, worded only when someone is (LiteLLM's messages).
        let key_who = || {
            let who = key.key_alias.as_deref().unwrap_or(&key.token);
            format!("Key={who} ({})", key.key_name)
        };
        let team_who = || format!("Team={}", team.map_or("", |t| t.team_id.as_str()));
        let user_who = || format!("User={}", user.map_or("", |u| u.user_id.as_str()));
        let checks: [BudgetCheck<'_>; 3] = [
            (caller.key_spend, key.max_budget, &key_who),
            (
                caller.team_spend,
                team.and_then(|t| t.max_budget),
                &team_who,
            ),
            (
                caller.user_spend,
                user.and_then(|u| u.max_budget),
                &user_who,
            ),
        ];
        for (spend, max, who) in checks {
            if let Some(max) = max.filter(|m| spend >= *m) {
                return Err(self.budget_exceeded(format!(
                    "Budget has been exceeded! {} Current cost: {spend}, Max budget: {max}",
                    who()
                )));
            }
        }
        Ok(())
    }

    /// Checks that the caller may use the management routes: the master key (or a
    /// `proxy_admin` user's key). Without a master key the proxy is open and anyone may.
    pub async fn require_admin(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        self.require_admin_caller(self.check(headers).await?)
    }

    /// [`Auth::require_admin`] for a caller already authenticated.
    pub fn require_admin_caller(&self, caller: Caller) -> Result<Caller, ApiError> {
        if caller.is_admin {
            return Ok(caller);
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth_error",
            "Authentication Error, only the proxy admin (the master key, or a key of a \
             proxy_admin user) may call this route.",
        ))
    }

    /// The status of a `budget_exceeded` refusal.
    pub fn budget_exceeded_status(&self) -> StatusCode {
        self.budget_exceeded_status
    }

    fn budget_exceeded(&self, message: String) -> ApiError {
        ApiError::new(self.budget_exceeded_status, "budget_exceeded", message)
    }

    async fn load_key(&self, db: &KeyDb, hash: &str) -> Result<Cached<KeyRecord>, AuthError> {
        if let Some(c) = db.cache.key(hash) {
            return Ok(c);
        }
        match db.store.key(hash).await {
            Ok(rec) => Ok(db.cache.put_key(hash, rec)),
            Err(e) => self.stale(e, db.cache.key_stale(hash)),
        }
    }

    async fn load(&self, db: &KeyDb, id: &str, what: Entity) -> Result<Entity, AuthError> {
        Ok(match what {
            Entity::Team => {
                let c = match db.cache.team(id) {
                    Some(c) => c,
                    None => match db.store.team(id).await {
                        Ok(t) => db.cache.put_team(id, t),
                        Err(e) => self.stale(e, db.cache.team_stale(id))?,
                    },
                };
                c.record
                    .map_or(Entity::Missing, |t| Entity::TeamFound(t, c.spend))
            }
            Entity::User => {
                let c = match db.cache.user(id) {
                    Some(c) => c,
                    None => match db.store.user(id).await {
                        Ok(u) => db.cache.put_user(id, u),
                        Err(e) => self.stale(e, db.cache.user_stale(id))?,
                    },
                };
                c.record
                    .map_or(Entity::Missing, |u| Entity::UserFound(u, c.spend))
            }
            other => other,
        })
    }
}

/// What to load, and what was found.
enum Entity {
    Team,
    User,
    TeamFound(Arc<TeamRecord>, f64),
    UserFound(Arc<UserRecord>, f64),
    Missing,
}

fn access_denied(kind: &'static str, message: String) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, kind, message);
    e.param = Some("model".to_string());
    e
}

fn strip_bearer(v: &str) -> &str {
    let v = v.trim();
    match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => v[7..].trim(),
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_lists_match_like_litellm() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(model_allowed(&[], "anything"));
        assert!(model_allowed(&l(&["gpt-4o"]), "gpt-4o"));
        assert!(!model_allowed(&l(&["gpt-4o"]), "gpt-4o-mini"));
        assert!(model_allowed(&l(&["all-proxy-models"]), "x"));
        assert!(model_allowed(&l(&["openai/*"]), "openai/gpt-4o"));
        assert!(!model_allowed(&l(&["openai/*"]), "anthropic/claude"));
        assert!(
            !model_allowed(&l(&["gpt*"]), "gpt-4o"),
            "only provider/ wildcards"
        );
    }
}
