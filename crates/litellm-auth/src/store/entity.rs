//! How rows map to statements, shared by both dialects: a dialect supplies only what truly
//! differs, how a time or a JSON value is bound ([`Binder`]) and read back ([`Reader`]). Each
//! table is an [`Entity`] (its columns in bind order, how a row binds and decodes);
//! [`select_list`] reads its JSON columns as text. `common_binds!` and `common_reads!` are the
//! [`Binder`] and [`Reader`] methods both dialects implement alike.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::records::{KeyRecord, TeamMember, TeamRecord, UserRecord};
use crate::spend::SpendRecord;

use super::{to_i64, to_u64};

/// Binds one value to the statement being built, in column order.
pub(crate) trait Binder {
    fn text(&mut self, v: Option<String>);
    fn real(&mut self, v: Option<f64>);
    fn int(&mut self, v: Option<i64>);
    fn flag(&mut self, v: bool);
    fn time(&mut self, v: Option<DateTime<Utc>>);
    /// A JSON value (the dialect stores it as TEXT or JSONB).
    fn json(&mut self, v: String);
}

/// Reads one column of a result row by name.
pub(crate) trait Reader {
    fn text(&self, col: &str) -> Result<Option<String>, AuthError>;
    fn real(&self, col: &str) -> Result<Option<f64>, AuthError>;
    fn int(&self, col: &str) -> Result<Option<i64>, AuthError>;
    fn flag(&self, col: &str) -> Result<bool, AuthError>;
    fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>, AuthError>;
    /// A JSON column (selected as text).
    fn json(&self, col: &str) -> Result<Value, AuthError> {
        let s = self.text(col)?.unwrap_or_else(|| "null".to_string());
        serde_json::from_str(&s).map_err(|e| AuthError::Corrupt(format!("{col}: {e}")))
    }
}

/// How many trailing [`Entity::COLUMNS`] an update leaves alone (`spend`, `created_at`).
pub(crate) const INSERT_ONLY: usize = 2;

/// A table's row type.
pub(crate) trait Entity: Sized {
    const TABLE: &'static str;
    /// The primary-key column.
    const ID: &'static str;
    /// Every column, in the order `bind` binds them. For updatable entities the last
    /// [`INSERT_ONLY`] are `spend` and `created_at`, written by insert only.
    const COLUMNS: &'static [&'static str];
    /// The columns holding JSON (cast to text when selected on PostgreSQL).
    const JSON: &'static [&'static str];
    fn bind(&self, b: &mut dyn Binder);
    fn decode(r: &dyn Reader) -> Result<Self, AuthError>;
}

/// Forwards only the first `left` binds (an update binds the columns before [`INSERT_ONLY`]).
pub(crate) struct Take<'b> {
    pub inner: &'b mut dyn Binder,
    pub left: usize,
}

impl Take<'_> {
    fn go(&mut self) -> bool {
        let go = self.left > 0;
        self.left = self.left.saturating_sub(1);
        go
    }
}

impl Binder for Take<'_> {
    fn text(&mut self, v: Option<String>) {
        if self.go() {
            self.inner.text(v)
        }
    }
    fn real(&mut self, v: Option<f64>) {
        if self.go() {
            self.inner.real(v)
        }
    }
    fn int(&mut self, v: Option<i64>) {
        if self.go() {
            self.inner.int(v)
        }
    }
    fn flag(&mut self, v: bool) {
        if self.go() {
            self.inner.flag(v)
        }
    }
    fn time(&mut self, v: Option<DateTime<Utc>>) {
        if self.go() {
            self.inner.time(v)
        }
    }
    fn json(&mut self, v: String) {
        if self.go() {
            self.inner.json(v)
        }
    }
}

fn json_list(v: &[String]) -> String {
    Value::from(v.to_vec()).to_string()
}

fn json_map(v: &Map<String, Value>) -> String {
    Value::Object(v.clone()).to_string()
}

fn read_list(r: &dyn Reader, col: &str) -> Result<Vec<String>, AuthError> {
    match r.json(col)? {
        Value::Null => Ok(Vec::new()),
        v => serde_json::from_value(v).map_err(|e| AuthError::Corrupt(format!("{col}: {e}"))),
    }
}

fn read_map(r: &dyn Reader, col: &str) -> Result<Map<String, Value>, AuthError> {
    match r.json(col)? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(AuthError::Corrupt(format!("{col}: not an object: {other}"))),
    }
}

fn required<T>(col: &str, v: Option<T>) -> Result<T, AuthError> {
    v.ok_or_else(|| AuthError::Corrupt(format!("{col} is NULL")))
}

impl Entity for KeyRecord {
    const TABLE: &'static str = "verification_tokens";
    const ID: &'static str = "token";
    const COLUMNS: &'static [&'static str] = &[
        "token",
        "key_name",
        "key_alias",
        "max_budget",
        "soft_budget",
        "budget_duration",
        "budget_reset_at",
        "expires",
        "models",
        "aliases",
        "metadata",
        "tags",
        "rpm_limit",
        "tpm_limit",
        "max_parallel_requests",
        "user_id",
        "team_id",
        "blocked",
        "allowed_routes",
        "updated_at",
        "spend",
        "created_at",
    ];
    const JSON: &'static [&'static str] =
        &["models", "aliases", "metadata", "tags", "allowed_routes"];

    fn bind(&self, b: &mut dyn Binder) {
        b.text(Some(self.token.clone()));
        b.text(Some(self.key_name.clone()));
        b.text(self.key_alias.clone());
        b.real(self.max_budget);
        b.real(self.soft_budget);
        b.text(self.budget_duration.clone());
        b.time(self.budget_reset_at);
        b.time(self.expires);
        b.json(json_list(&self.models));
        b.json(json_map(&self.aliases));
        b.json(json_map(&self.metadata));
        b.json(json_list(&self.tags));
        b.int(self.rpm_limit);
        b.int(self.tpm_limit);
        b.int(self.max_parallel_requests);
        b.text(self.user_id.clone());
        b.text(self.team_id.clone());
        b.flag(self.blocked);
        b.json(json_list(&self.allowed_routes));
        b.time(Some(self.updated_at));
        b.real(Some(self.spend));
        b.time(Some(self.created_at));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        Ok(KeyRecord {
            token: required("token", r.text("token")?)?,
            key_name: r.text("key_name")?.unwrap_or_default(),
            key_alias: r.text("key_alias")?,
            spend: r.real("spend")?.unwrap_or(0.0),
            max_budget: r.real("max_budget")?,
            soft_budget: r.real("soft_budget")?,
            budget_duration: r.text("budget_duration")?,
            budget_reset_at: r.time("budget_reset_at")?,
            expires: r.time("expires")?,
            models: read_list(r, "models")?,
            aliases: read_map(r, "aliases")?,
            metadata: read_map(r, "metadata")?,
            tags: read_list(r, "tags")?,
            rpm_limit: r.int("rpm_limit")?,
            tpm_limit: r.int("tpm_limit")?,
            max_parallel_requests: r.int("max_parallel_requests")?,
            user_id: r.text("user_id")?,
            team_id: r.text("team_id")?,
            blocked: r.flag("blocked")?,
            allowed_routes: read_list(r, "allowed_routes")?,
            created_at: required("created_at", r.time("created_at")?)?,
            updated_at: required("updated_at", r.time("updated_at")?)?,
        })
    }
}

impl Entity for UserRecord {
    const TABLE: &'static str = "users";
    const ID: &'static str = "user_id";
    const COLUMNS: &'static [&'static str] = &[
        "user_id",
        "user_email",
        "user_alias",
        "user_role",
        "max_budget",
        "models",
        "budget_duration",
        "budget_reset_at",
        "tpm_limit",
        "rpm_limit",
        "max_parallel_requests",
        "metadata",
        "teams",
        "updated_at",
        "spend",
        "created_at",
    ];
    const JSON: &'static [&'static str] = &["models", "metadata", "teams"];

    fn bind(&self, b: &mut dyn Binder) {
        b.text(Some(self.user_id.clone()));
        b.text(self.user_email.clone());
        b.text(self.user_alias.clone());
        b.text(Some(self.user_role.clone()));
        b.real(self.max_budget);
        b.json(json_list(&self.models));
        b.text(self.budget_duration.clone());
        b.time(self.budget_reset_at);
        b.int(self.tpm_limit);
        b.int(self.rpm_limit);
        b.int(self.max_parallel_requests);
        b.json(json_map(&self.metadata));
        b.json(json_list(&self.teams));
        b.time(Some(self.updated_at));
        b.real(Some(self.spend));
        b.time(Some(self.created_at));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        Ok(UserRecord {
            user_id: required("user_id", r.text("user_id")?)?,
            user_email: r.text("user_email")?,
            user_alias: r.text("user_alias")?,
            user_role: r.text("user_role")?.unwrap_or_default(),
            max_budget: r.real("max_budget")?,
            spend: r.real("spend")?.unwrap_or(0.0),
            models: read_list(r, "models")?,
            budget_duration: r.text("budget_duration")?,
            budget_reset_at: r.time("budget_reset_at")?,
            tpm_limit: r.int("tpm_limit")?,
            rpm_limit: r.int("rpm_limit")?,
            max_parallel_requests: r.int("max_parallel_requests")?,
            metadata: read_map(r, "metadata")?,
            teams: read_list(r, "teams")?,
            created_at: required("created_at", r.time("created_at")?)?,
            updated_at: required("updated_at", r.time("updated_at")?)?,
        })
    }
}

impl Entity for TeamRecord {
    const TABLE: &'static str = "teams";
    const ID: &'static str = "team_id";
    const COLUMNS: &'static [&'static str] = &[
        "team_id",
        "team_alias",
        "members_with_roles",
        "max_budget",
        "models",
        "blocked",
        "tpm_limit",
        "rpm_limit",
        "max_parallel_requests",
        "budget_duration",
        "budget_reset_at",
        "metadata",
        "updated_at",
        "spend",
        "created_at",
    ];
    const JSON: &'static [&'static str] = &["members_with_roles", "models", "metadata"];

    fn bind(&self, b: &mut dyn Binder) {
        b.text(Some(self.team_id.clone()));
        b.text(self.team_alias.clone());
        b.json(serde_json::to_string(&self.members_with_roles).unwrap_or_else(|_| "[]".into()));
        b.real(self.max_budget);
        b.json(json_list(&self.models));
        b.flag(self.blocked);
        b.int(self.tpm_limit);
        b.int(self.rpm_limit);
        b.int(self.max_parallel_requests);
        b.text(self.budget_duration.clone());
        b.time(self.budget_reset_at);
        b.json(json_map(&self.metadata));
        b.time(Some(self.updated_at));
        b.real(Some(self.spend));
        b.time(Some(self.created_at));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        let members: Vec<TeamMember> = match r.json("members_with_roles")? {
            Value::Null => Vec::new(),
            v => serde_json::from_value(v)
                .map_err(|e| AuthError::Corrupt(format!("members_with_roles: {e}")))?,
        };
        Ok(TeamRecord {
            team_id: required("team_id", r.text("team_id")?)?,
            team_alias: r.text("team_alias")?,
            members_with_roles: members,
            max_budget: r.real("max_budget")?,
            spend: r.real("spend")?.unwrap_or(0.0),
            models: read_list(r, "models")?,
            blocked: r.flag("blocked")?,
            tpm_limit: r.int("tpm_limit")?,
            rpm_limit: r.int("rpm_limit")?,
            max_parallel_requests: r.int("max_parallel_requests")?,
            budget_duration: r.text("budget_duration")?,
            budget_reset_at: r.time("budget_reset_at")?,
            metadata: read_map(r, "metadata")?,
            created_at: required("created_at", r.time("created_at")?)?,
            updated_at: required("updated_at", r.time("updated_at")?)?,
        })
    }
}

impl Entity for SpendRecord {
    const TABLE: &'static str = "spend_logs";
    const ID: &'static str = "request_id";
    const COLUMNS: &'static [&'static str] = &[
        "request_id",
        "call_type",
        "api_key_hash",
        "spend",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "start_time",
        "end_time",
        "completion_start_time",
        "model",
        "model_id",
        "model_group",
        "custom_llm_provider",
        "api_base",
        "\"user\"",
        "end_user",
        "team_id",
        "user_id",
        "metadata",
        "request_tags",
        "cache_hit",
        "status",
    ];
    const JSON: &'static [&'static str] = &["metadata", "request_tags"];

    fn bind(&self, b: &mut dyn Binder) {
        b.text(Some(self.request_id.clone()));
        b.text(Some(self.call_type.clone()));
        b.text(Some(self.api_key_hash.clone()));
        b.real(Some(self.spend));
        b.int(Some(to_i64(self.prompt_tokens)));
        b.int(Some(to_i64(self.completion_tokens)));
        b.int(Some(to_i64(self.total_tokens)));
        b.time(Some(self.start_time));
        b.time(Some(self.end_time));
        b.time(self.completion_start_time);
        b.text(Some(self.model.clone()));
        b.text(Some(self.model_id.clone()));
        b.text(Some(self.model_group.clone()));
        b.text(Some(self.custom_llm_provider.clone()));
        b.text(Some(self.api_base.clone()));
        b.text(self.user.clone());
        b.text(self.end_user.clone());
        b.text(self.team_id.clone());
        b.text(self.user_id.clone());
        b.json(self.metadata.to_string());
        b.json(json_list(&self.request_tags));
        b.flag(self.cache_hit);
        b.text(Some(self.status.clone()));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        let int = |c: &str| r.int(c).map(|v| to_u64(v.unwrap_or(0)));
        let text = |c: &str| r.text(c).map(Option::unwrap_or_default);
        Ok(SpendRecord {
            request_id: text("request_id")?,
            call_type: text("call_type")?,
            api_key_hash: text("api_key_hash")?,
            spend: r.real("spend")?.unwrap_or(0.0),
            prompt_tokens: int("prompt_tokens")?,
            completion_tokens: int("completion_tokens")?,
            total_tokens: int("total_tokens")?,
            start_time: required("start_time", r.time("start_time")?)?,
            end_time: required("end_time", r.time("end_time")?)?,
            completion_start_time: r.time("completion_start_time")?,
            model: text("model")?,
            model_id: text("model_id")?,
            model_group: text("model_group")?,
            custom_llm_provider: text("custom_llm_provider")?,
            api_base: text("api_base")?,
            user: r.text("user")?,
            end_user: r.text("end_user")?,
            team_id: r.text("team_id")?,
            user_id: r.text("user_id")?,
            metadata: r.json("metadata")?,
            request_tags: read_list(r, "request_tags")?,
            cache_hit: r.flag("cache_hit")?,
            status: text("status")?,
        })
    }
}

/// The select list for `E`, with JSON columns read as text (`json_as_text` is the dialect's
/// cast suffix, e.g. `::text`).
pub(crate) fn select_list<E: Entity>(json_as_text: &str) -> String {
    E::COLUMNS
        .iter()
        .map(|c| {
            if E::JSON.contains(c) {
                format!("{c}{json_as_text} AS {c}")
            } else {
                (*c).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The dialect module's `Db`, `DbPool`, `Binds` (a [`Binder`] over a `Separated` of `$db`) and
/// `RowReader` (a [`Reader`] over a `$row`), the names `shared_sql!` and its siblings expect.
macro_rules! dialect_types {
    ($db:ty, $pool:ty, $row:ty) => {
        type Db = $db;
        type DbPool = $pool;

        /// Binds values to a statement of this dialect (see its [`Binder`] impl).
        struct Binds<'qb, 'args>(sqlx::query_builder::Separated<'qb, 'args, $db, &'static str>);

        /// Reads a row of this dialect (see its [`Reader`] impl).
        struct RowReader<'r>(&'r $row);
    };
}

pub(crate) use dialect_types;

/// The [`Binder`] methods that are the same in both dialects (`self.0` is a `Separated`).
macro_rules! common_binds {
    () => {
        fn text(&mut self, v: Option<String>) {
            self.0.push_bind(v);
        }
        fn real(&mut self, v: Option<f64>) {
            self.0.push_bind(v);
        }
        fn int(&mut self, v: Option<i64>) {
            self.0.push_bind(v);
        }
        fn flag(&mut self, v: bool) {
            self.0.push_bind(v);
        }
    };
}

pub(crate) use common_binds;

/// The [`Reader`] methods that are the same in both dialects (`self.0` is a row).
macro_rules! common_reads {
    () => {
        fn text(&self, col: &str) -> Result<Option<String>, AuthError> {
            self.0.try_get(col).map_err(corrupt)
        }
        fn real(&self, col: &str) -> Result<Option<f64>, AuthError> {
            self.0.try_get(col).map_err(corrupt)
        }
        fn int(&self, col: &str) -> Result<Option<i64>, AuthError> {
            self.0.try_get(col).map_err(corrupt)
        }
        fn flag(&self, col: &str) -> Result<bool, AuthError> {
            self.0.try_get(col).map_err(corrupt)
        }
    };
}

pub(crate) use common_reads;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_lists_cast_only_json_columns() {
        let s = select_list::<TeamRecord>("::text");
        assert!(s.contains("members_with_roles::text AS members_with_roles"));
        assert!(s.contains("team_alias,"));
        assert!(!s.contains("team_alias::text"));
    }
}
