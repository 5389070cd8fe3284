//! Virtual keys, users and teams as stored, and the patches management calls apply to them.
//!
//! Field names and JSON shapes follow LiteLLM's `LiteLLM_VerificationToken`,
//! `LiteLLM_UserTable` and `LiteLLM_TeamTable` (1.109.1 `schema.prisma`), trimmed to what we
//! act on. A patch (`KeyPatch`, `UserPatch`, `TeamPatch`) is the body of a `/…/new` or
//! `/…/update` call: an absent field leaves the stored value alone, an explicit `null` clears it
//! (LiteLLM's `exclude_unset`). `spend` is never written through a patch's `apply`: the ledger
//! owns it (see [`crate::Store::set_spend`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::duration::deadline_after;

/// A stored virtual key. The key itself is never stored: `token` is its SHA-256 hex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// `hash_token(key)`: the primary key.
    pub token: String,
    /// The abbreviated key for display, `sk-...abcd`.
    pub key_name: String,
    pub key_alias: Option<String>,
    /// USD spent, kept equal to the sum of this key's spend logs.
    pub spend: f64,
    pub max_budget: Option<f64>,
    /// Alert threshold only; never blocks.
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    /// When the key stops working; `None` never.
    pub expires: Option<DateTime<Utc>>,
    /// Model groups this key may call; empty means every model.
    pub models: Vec<String>,
    /// Model aliases for this key (`{"gpt-4": "my-gpt-4-group"}`).
    pub aliases: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub tags: Vec<String>,
    pub rpm_limit: Option<i64>,
    pub tpm_limit: Option<i64>,
    pub max_parallel_requests: Option<i64>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub blocked: bool,
    pub allowed_routes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl KeyRecord {
    /// A new key record for the key whose hash is `token`, with nothing restricted.
    pub fn new(token: String, key_name: String, now: DateTime<Utc>) -> KeyRecord {
        KeyRecord {
            token,
            key_name,
            key_alias: None,
            spend: 0.0,
            max_budget: None,
            soft_budget: None,
            budget_duration: None,
            budget_reset_at: None,
            expires: None,
            models: Vec::new(),
            aliases: Map::new(),
            metadata: Map::new(),
            tags: Vec::new(),
            rpm_limit: None,
            tpm_limit: None,
            max_parallel_requests: None,
            user_id: None,
            team_id: None,
            blocked: false,
            allowed_routes: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether the key has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }
}

/// A team member (`members_with_roles` entry). `role` is `"admin"` or `"user"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    #[serde(default = "default_member_role")]
    pub role: String,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
}

fn default_member_role() -> String {
    "user".to_string()
}

/// A stored internal user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: String,
    pub user_email: Option<String>,
    pub user_alias: Option<String>,
    /// `proxy_admin`, `proxy_admin_viewer`, `internal_user` (default) or `internal_user_viewer`.
    pub user_role: String,
    pub max_budget: Option<f64>,
    pub spend: f64,
    pub models: Vec<String>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    /// In-flight cap across all of the user's keys (not a LiteLLM user column; see the
    /// `users.max_parallel_requests` migration).
    #[serde(default)]
    pub max_parallel_requests: Option<i64>,
    pub metadata: Map<String, Value>,
    /// Ids of the teams the user belongs to.
    pub teams: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRecord {
    /// A new `internal_user` with nothing restricted.
    pub fn new(user_id: String, now: DateTime<Utc>) -> UserRecord {
        UserRecord {
            user_id,
            user_email: None,
            user_alias: None,
            user_role: "internal_user".to_string(),
            max_budget: None,
            spend: 0.0,
            models: Vec::new(),
            budget_duration: None,
            budget_reset_at: None,
            tpm_limit: None,
            rpm_limit: None,
            max_parallel_requests: None,
            metadata: Map::new(),
            teams: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// A stored team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRecord {
    pub team_id: String,
    pub team_alias: Option<String>,
    pub members_with_roles: Vec<TeamMember>,
    pub max_budget: Option<f64>,
    pub spend: f64,
    /// Model groups the team's keys may call; empty means every model.
    pub models: Vec<String>,
    pub blocked: bool,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub max_parallel_requests: Option<i64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TeamRecord {
    /// A new team with nothing restricted.
    pub fn new(team_id: String, now: DateTime<Utc>) -> TeamRecord {
        TeamRecord {
            team_id,
            team_alias: None,
            members_with_roles: Vec::new(),
            max_budget: None,
            spend: 0.0,
            models: Vec::new(),
            blocked: false,
            tpm_limit: None,
            rpm_limit: None,
            max_parallel_requests: None,
            budget_duration: None,
            budget_reset_at: None,
            metadata: Map::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// A field of a patch: absent (`None`), cleared (`Some(None)`) or set (`Some(Some(v))`).
pub type Patch<T> = Option<Option<T>>;

/// Deserializes a present field (even `null`) as `Some(..)`, so absent and `null` differ.
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Patch<T>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A patch that could not be applied: the parameter at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    pub param: &'static str,
    pub message: String,
}

impl PatchError {
    pub(crate) fn new(param: &'static str, message: impl Into<String>) -> PatchError {
        PatchError {
            param,
            message: message.into(),
        }
    }
}

pub(crate) fn set<T: Clone>(field: &mut T, patch: &Option<T>) {
    if let Some(v) = patch {
        *field = v.clone();
    }
}

pub(crate) fn set_opt<T: Clone>(field: &mut Option<T>, patch: &Patch<T>) {
    if let Some(v) = patch {
        *field = v.clone();
    }
}

pub(crate) fn check_budget(param: &'static str, v: &Patch<f64>) -> Result<(), PatchError> {
    match v {
        Some(Some(b)) if !b.is_finite() || *b < 0.0 => Err(PatchError::new(
            param,
            format!("{param} must be a non-negative number, got {b}"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn check_limit(param: &'static str, v: &Patch<i64>) -> Result<(), PatchError> {
    match v {
        Some(Some(n)) if *n < 0 => Err(PatchError::new(
            param,
            format!("{param} must not be negative, got {n}"),
        )),
        _ => Ok(()),
    }
}

/// Checks a per-model limit map: every value a non-negative integer.
fn check_model_limits(
    param: &'static str,
    v: &Patch<Map<String, Value>>,
) -> Result<(), PatchError> {
    let Some(Some(m)) = v else { return Ok(()) };
    match m.iter().find(|(_, n)| n.as_u64().is_none()) {
        Some((model, n)) => Err(PatchError::new(
            param,
            format!("{param}[{model:?}] must be a non-negative integer, got {n}"),
        )),
        None => Ok(()),
    }
}

/// The budget, limit and access fields keys, users and teams share (flattened into each
/// patch).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LimitsPatch {
    #[serde(default, deserialize_with = "present")]
    pub max_budget: Patch<f64>,
    /// Sets the spend counter (applied by the caller through `Store::set_spend`).
    #[serde(default)]
    pub spend: Option<f64>,
    #[serde(default)]
    pub models: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub budget_duration: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    pub tpm_limit: Patch<i64>,
    #[serde(default, deserialize_with = "present")]
    pub rpm_limit: Patch<i64>,
    #[serde(default, deserialize_with = "present")]
    pub max_parallel_requests: Patch<i64>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// The fields of a record a [`LimitsPatch`] writes.
struct LimitsMut<'a> {
    max_budget: &'a mut Option<f64>,
    models: &'a mut Vec<String>,
    budget_duration: &'a mut Option<String>,
    budget_reset_at: &'a mut Option<DateTime<Utc>>,
    tpm_limit: &'a mut Option<i64>,
    rpm_limit: &'a mut Option<i64>,
    max_parallel_requests: Option<&'a mut Option<i64>>,
    metadata: &'a mut Map<String, Value>,
    updated_at: &'a mut DateTime<Utc>,
}

/// The [`LimitsMut`] over a key, user or team record (they share the limit fields).
macro_rules! limits_of {
    ($rec:ident) => {
        LimitsMut {
            max_budget: &mut $rec.max_budget,
            models: &mut $rec.models,
            budget_duration: &mut $rec.budget_duration,
            budget_reset_at: &mut $rec.budget_reset_at,
            tpm_limit: &mut $rec.tpm_limit,
            rpm_limit: &mut $rec.rpm_limit,
            max_parallel_requests: Some(&mut $rec.max_parallel_requests),
            metadata: &mut $rec.metadata,
            updated_at: &mut $rec.updated_at,
        }
    };
}

impl LimitsPatch {
    /// Validates budgets, limits and `spend`.
    fn check(&self) -> Result<(), PatchError> {
        check_budget("max_budget", &self.max_budget)?;
        check_limit("rpm_limit", &self.rpm_limit)?;
        check_limit("tpm_limit", &self.tpm_limit)?;
        check_limit("max_parallel_requests", &self.max_parallel_requests)?;
        check_budget("spend", &self.spend.map(Some))
    }

    /// Writes the present fields (after [`LimitsPatch::check`]); a bad `budget_duration`
    /// fails before anything is written.
    fn apply(&self, t: LimitsMut<'_>, now: DateTime<Utc>) -> Result<(), PatchError> {
        match &self.budget_duration {
            None => {}
            Some(None) => {
                *t.budget_duration = None;
                *t.budget_reset_at = None;
            }
            Some(Some(d)) => {
                let next = crate::schedule::next_reset(d, now)
                    .map_err(|m| PatchError::new("budget_duration", m))?;
                *t.budget_duration = Some(d.clone());
                *t.budget_reset_at = Some(next);
            }
        }
        set_opt(t.max_budget, &self.max_budget);
        set(t.models, &self.models);
        set_opt(t.tpm_limit, &self.tpm_limit);
        set_opt(t.rpm_limit, &self.rpm_limit);
        if let Some(m) = t.max_parallel_requests {
            set_opt(m, &self.max_parallel_requests);
        }
        set(t.metadata, &self.metadata);
        *t.updated_at = now;
        Ok(())
    }
}

/// The body of `/key/generate`, `/key/update` and `/key/regenerate` (LiteLLM's
/// `GenerateKeyRequest` / `UpdateKeyRequest`, the fields we act on). Unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyPatch {
    /// On generate: a custom key value (must start with `sk-`). On update: the key to change
    /// (the key or its hash).
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub key_alias: Patch<String>,
    /// Validity from now (`"30d"`); `null` makes the key never expire.
    #[serde(default, deserialize_with = "present")]
    pub duration: Patch<String>,
    #[serde(default)]
    pub aliases: Option<Map<String, Value>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub soft_budget: Patch<f64>,
    #[serde(default, deserialize_with = "present")]
    pub user_id: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    pub team_id: Patch<String>,
    #[serde(default)]
    pub blocked: Option<bool>,
    #[serde(default)]
    pub allowed_routes: Option<Vec<String>>,
    /// Per-model rpm limits (`{"gpt-4o": 10}`), stored in `metadata.model_rpm_limit` as LiteLLM
    /// does; `null` removes them.
    #[serde(default, deserialize_with = "present")]
    pub model_rpm_limit: Patch<Map<String, Value>>,
    /// Per-model tpm limits, stored in `metadata.model_tpm_limit`.
    #[serde(default, deserialize_with = "present")]
    pub model_tpm_limit: Patch<Map<String, Value>>,
    #[serde(flatten)]
    pub limits: LimitsPatch,
}

impl KeyPatch {
    /// Applies every present field to `rec` (not `key` and not `spend`), validating durations,
    /// budgets and limits. `rec` is unchanged on error.
    pub fn apply(&self, rec: &mut KeyRecord, now: DateTime<Utc>) -> Result<(), PatchError> {
        self.limits.check()?;
        check_budget("soft_budget", &self.soft_budget)?;
        for (param, v) in [
            ("model_rpm_limit", &self.model_rpm_limit),
            ("model_tpm_limit", &self.model_tpm_limit),
        ] {
            check_model_limits(param, v)?;
        }
        let mut next = rec.clone();
        match &self.duration {
            None => {}
            Some(None) => next.expires = None,
            Some(Some(d)) => {
                next.expires =
                    Some(deadline_after(d, now).map_err(|m| PatchError::new("duration", m))?);
            }
        }
        self.limits.apply(limits_of!(next), now)?;
        set_opt(&mut next.key_alias, &self.key_alias);
        set(&mut next.aliases, &self.aliases);
        set(&mut next.tags, &self.tags);
        set_opt(&mut next.soft_budget, &self.soft_budget);
        set_opt(&mut next.user_id, &self.user_id);
        set_opt(&mut next.team_id, &self.team_id);
        set(&mut next.blocked, &self.blocked);
        set(&mut next.allowed_routes, &self.allowed_routes);
        for (name, v) in [
            ("model_rpm_limit", &self.model_rpm_limit),
            ("model_tpm_limit", &self.model_tpm_limit),
        ] {
            match v {
                None => {}
                Some(None) => {
                    next.metadata.remove(name);
                }
                Some(Some(m)) => {
                    next.metadata
                        .insert(name.to_string(), Value::Object(m.clone()));
                }
            }
        }
        *rec = next;
        Ok(())
    }
}

/// The body of `/user/new` and `/user/update` (LiteLLM's `NewUserRequest` /
/// `UpdateUserRequest`, the fields we act on).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserPatch {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub user_email: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    pub user_alias: Patch<String>,
    #[serde(default)]
    pub user_role: Option<String>,
    #[serde(default)]
    pub teams: Option<Vec<String>>,
    #[serde(flatten)]
    pub limits: LimitsPatch,
}

/// The roles a user may have (LiteLLM's `LitellmUserRoles` for internal users).
pub const USER_ROLES: [&str; 4] = [
    "proxy_admin",
    "proxy_admin_viewer",
    "internal_user",
    "internal_user_viewer",
];

impl UserPatch {
    /// Applies every present field to `rec` (not `user_id`, not `spend`). `rec` is unchanged
    /// on error.
    pub fn apply(&self, rec: &mut UserRecord, now: DateTime<Utc>) -> Result<(), PatchError> {
        self.limits.check()?;
        if let Some(role) = &self.user_role {
            if !USER_ROLES.contains(&role.as_str()) {
                return Err(PatchError::new(
                    "user_role",
                    format!("user_role must be one of {USER_ROLES:?}, got {role:?}"),
                ));
            }
        }
        let mut next = rec.clone();
        self.limits.apply(limits_of!(next), now)?;
        set_opt(&mut next.user_email, &self.user_email);
        set_opt(&mut next.user_alias, &self.user_alias);
        set(&mut next.user_role, &self.user_role);
        set(&mut next.teams, &self.teams);
        *rec = next;
        Ok(())
    }
}

/// The body of `/team/new` and `/team/update` (LiteLLM's `NewTeamRequest` /
/// `UpdateTeamRequest`, the fields we act on).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeamPatch {
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub team_alias: Patch<String>,
    #[serde(default)]
    pub members_with_roles: Option<Vec<TeamMember>>,
    #[serde(default)]
    pub blocked: Option<bool>,
    /// Tags added to every call of the team's keys (spend tracking); stored in
    /// `metadata.tags`, as LiteLLM does.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub limits: LimitsPatch,
}

impl TeamPatch {
    /// Applies every present field to `rec` (not `team_id`, not `spend`). `rec` is unchanged
    /// on error.
    pub fn apply(&self, rec: &mut TeamRecord, now: DateTime<Utc>) -> Result<(), PatchError> {
        self.limits.check()?;
        if let Some(members) = &self.members_with_roles {
            check_members(members)?;
        }
        let mut next = rec.clone();
        self.limits.apply(limits_of!(next), now)?;
        set_opt(&mut next.team_alias, &self.team_alias);
        set(&mut next.members_with_roles, &self.members_with_roles);
        set(&mut next.blocked, &self.blocked);
        if let Some(tags) = &self.tags {
            next.metadata
                .insert("tags".to_string(), Value::from(tags.clone()));
        }
        *rec = next;
        Ok(())
    }
}

/// Checks team members: each names a user (`user_id` or `user_email`) and has role `admin`
/// or `user`.
pub fn check_members(members: &[TeamMember]) -> Result<(), PatchError> {
    for m in members {
        if m.user_id.is_none() && m.user_email.is_none() {
            return Err(PatchError::new(
                "member",
                "each team member needs a user_id or a user_email",
            ));
        }
        if m.role != "admin" && m.role != "user" {
            return Err(PatchError::new(
                "member",
                format!(
                    "team member role must be 'admin' or 'user', got {:?}",
                    m.role
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-01-31T12:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc)
    }

    fn patch(v: Value) -> KeyPatch {
        serde_json::from_value(v).expect("valid patch")
    }

    #[test]
    fn absent_fields_are_kept_and_null_clears() {
        let mut rec = KeyRecord::new("h".into(), "sk-...abcd".into(), now());
        patch(json!({"max_budget": 5.0, "key_alias": "a", "duration": "1h"}))
            .apply(&mut rec, now())
            .expect("applies");
        assert_eq!(rec.max_budget, Some(5.0));
        assert_eq!(rec.key_alias.as_deref(), Some("a"));
        assert_eq!(rec.expires, Some(now() + chrono::Duration::hours(1)));

        patch(json!({"models": ["m"]}))
            .apply(&mut rec, now())
            .expect("applies");
        assert_eq!(rec.max_budget, Some(5.0), "absent leaves it alone");
        patch(json!({"max_budget": null, "duration": null}))
            .apply(&mut rec, now())
            .expect("applies");
        assert_eq!(rec.max_budget, None, "null clears it");
        assert_eq!(rec.expires, None);
        assert_eq!(rec.models, vec!["m".to_string()]);
    }

    #[test]
    fn invalid_values_name_the_parameter_and_change_nothing() {
        let mut rec = KeyRecord::new("h".into(), "sk-...abcd".into(), now());
        let before = rec.clone();
        for (body, param) in [
            (json!({"max_budget": -1.0, "key_alias": "x"}), "max_budget"),
            (
                json!({"budget_duration": "soon", "key_alias": "x"}),
                "budget_duration",
            ),
            (json!({"duration": "1y", "key_alias": "x"}), "duration"),
            (json!({"rpm_limit": -5}), "rpm_limit"),
            (json!({"spend": -1.0}), "spend"),
        ] {
            let err = patch(body).apply(&mut rec, now()).expect_err(param);
            assert_eq!(err.param, param);
            assert_eq!(rec, before);
        }
    }

    #[test]
    fn user_roles_and_team_members_are_checked() {
        let mut user = UserRecord::new("u".into(), now());
        let p: UserPatch = serde_json::from_value(json!({"user_role": "root"})).expect("parses");
        assert_eq!(
            p.apply(&mut user, now()).expect_err("bad role").param,
            "user_role"
        );
        let mut team = TeamRecord::new("t".into(), now());
        let p: TeamPatch =
            serde_json::from_value(json!({"members_with_roles": [{"role": "admin"}]}))
                .expect("parses");
        assert_eq!(
            p.apply(&mut team, now()).expect_err("no user").param,
            "member"
        );
        let p: TeamPatch = serde_json::from_value(
            json!({"members_with_roles": [{"role": "admin", "user_id": "u"}], "budget_duration": "1mo"}),
        )
        .expect("parses");
        p.apply(&mut team, now()).expect("applies");
        assert_eq!(team.members_with_roles[0].user_id.as_deref(), Some("u"));
        assert!(team.budget_reset_at.is_some());
    }
}
