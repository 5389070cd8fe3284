//! The SQL both dialects share, written once.
//!
//! A dialect module supplies only what truly differs: how a time or a JSON value is bound
//! ([`Binder`]), how one is read back ([`Reader`]), the JSON-to-text cast in select lists, and
//! its bind-parameter limit. Each table is an [`Entity`] (its columns in bind order, how a row
//! binds and decodes), and the statements over entities are the `shared_sql!` macro, expanded
//! once inside `sqlite.rs` and once inside `postgres.rs` with that module's concrete sqlx types
//! (so no generic sqlx bounds are needed). Every value is a bind parameter; only column and
//! table names, which are constants here, are spliced into SQL text.

use std::collections::{BTreeMap, HashSet};

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

/// One counter increment: `UPDATE {table} SET spend = spend + amount WHERE {id_col} = id`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Increment {
    pub table: &'static str,
    pub id_col: &'static str,
    pub id: String,
    pub amount: f64,
    /// How much of `amount` a budget reservation holds on this row (moved out of `reserved`
    /// in the same statement; see `crate::budget`).
    pub release: f64,
}

/// The key, user and team spend increments for the `inserted` records of a batch (a request id
/// is counted once, for its first record: the one that was stored). Zero amounts are dropped.
pub(crate) fn spend_increments(
    records: &[SpendRecord],
    inserted: &HashSet<String>,
) -> Vec<Increment> {
    let mut counted = HashSet::new();
    let mut sums: BTreeMap<(&'static str, &'static str, String), (f64, f64)> = BTreeMap::new();
    for r in records {
        if !inserted.contains(&r.request_id) || !counted.insert(r.request_id.as_str()) {
            continue;
        }
        if !r.spend.is_finite() || r.spend == 0.0 {
            continue;
        }
        let held = crate::budget::held_on(r);
        let mut add = |table, col, id: &str, scope| {
            if !id.is_empty() {
                let e = sums
                    .entry((table, col, id.to_string()))
                    .or_insert((0.0, 0.0));
                e.0 += r.spend;
                if held.contains(&scope) {
                    e.1 += r.spend;
                }
            }
        };
        use crate::budget::BudgetScope;
        add(
            KeyRecord::TABLE,
            KeyRecord::ID,
            &r.api_key_hash,
            BudgetScope::Key,
        );
        if let Some(u) = &r.user_id {
            add(UserRecord::TABLE, UserRecord::ID, u, BudgetScope::User);
        }
        if let Some(t) = &r.team_id {
            add(TeamRecord::TABLE, TeamRecord::ID, t, BudgetScope::Team);
        }
    }
    sums.into_iter()
        .map(|((table, id_col, id), (amount, release))| Increment {
            table,
            id_col,
            id,
            amount,
            release,
        })
        .collect()
}

/// Maps a sqlx error: a unique-constraint violation is a [`AuthError::Conflict`].
pub(crate) fn db_error(e: sqlx::Error) -> AuthError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            AuthError::Conflict(d.message().to_string())
        }
        _ => AuthError::Database(e.to_string()),
    }
}

/// The statements over [`Entity`]s, expanded inside each dialect module. The module must
/// import `sqlx::Row` and define `Db`, `DbPool`, `Binds` (a [`Binder`] over a `Separated`), `RowReader` (a
/// [`Reader`] over a row), `JSON_AS_TEXT`, `MAX_BINDS` and `TAG_MATCH` (the SQL around one bound
/// tag that matches spend logs whose `request_tags` contain it).
macro_rules! shared_sql {
    () => {
        use std::collections::HashSet as __HashSet;

        use sqlx::QueryBuilder as __Qb;

        use $crate::error::AuthError as __AuthError;
        use $crate::spend::{SpendLogFilter as __Filter, SpendRecord as __SpendRecord};
        use $crate::store::shared::{
            db_error as __db_error, select_list as __select_list,
            spend_increments as __spend_increments, Binder as __Binder, Entity as __Entity,
            Take as __Take, INSERT_ONLY as __INSERT_ONLY,
        };

        fn __decode_all<E: __Entity>(
            rows: &[<Db as sqlx::Database>::Row],
        ) -> Result<Vec<E>, __AuthError> {
            rows.iter().map(|r| E::decode(&RowReader(r))).collect()
        }

        fn __push_in(qb: &mut __Qb<'_, Db>, col: &str, values: &[String]) {
            qb.push(format!("{col} IN ("));
            let mut s = qb.separated(", ");
            for v in values {
                s.push_bind(v.clone());
            }
            qb.push(")");
        }

        /// Inserts one row; a duplicate primary key or unique column is a conflict.
        pub(crate) async fn insert<E: __Entity>(pool: &DbPool, rec: &E) -> Result<(), __AuthError> {
            let mut qb: __Qb<Db> = __Qb::new(format!(
                "INSERT INTO {} ({}) VALUES (",
                E::TABLE,
                E::COLUMNS.join(", ")
            ));
            rec.bind(&mut Binds(qb.separated(", ")));
            qb.push(")");
            qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(())
        }

        /// The rows whose `col` is one of `values`.
        pub(crate) async fn fetch<E: __Entity>(
            pool: &DbPool,
            col: &str,
            values: &[String],
        ) -> Result<Vec<E>, __AuthError> {
            if values.is_empty() {
                return Ok(Vec::new());
            }
            let mut qb: __Qb<Db> = __Qb::new(format!(
                "SELECT {} FROM {} WHERE ",
                __select_list::<E>(JSON_AS_TEXT),
                E::TABLE
            ));
            __push_in(&mut qb, col, values);
            let rows = qb.build().fetch_all(pool).await.map_err(__db_error)?;
            __decode_all(&rows)
        }

        /// Writes every column but `spend` and `created_at` of the row whose id is `old_id`
        /// (the id itself may change). Returns whether the row existed.
        pub(crate) async fn update<E: __Entity>(
            pool: &DbPool,
            old_id: &str,
            rec: &E,
        ) -> Result<bool, __AuthError> {
            let n = E::COLUMNS.len() - __INSERT_ONLY;
            let mut qb: __Qb<Db> = __Qb::new(format!(
                "UPDATE {} SET ({}) = (",
                E::TABLE,
                E::COLUMNS[..n].join(", ")
            ));
            {
                let mut binds = Binds(qb.separated(", "));
                rec.bind(&mut __Take {
                    inner: &mut binds,
                    left: n,
                });
            }
            qb.push(format!(") WHERE {} = ", E::ID));
            qb.push_bind(old_id.to_string());
            let res = qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(res.rows_affected() > 0)
        }

        /// Sets the spend counter of one row. Returns whether the row existed.
        pub(crate) async fn set_spend<E: __Entity>(
            pool: &DbPool,
            id: &str,
            spend: f64,
        ) -> Result<bool, __AuthError> {
            let mut qb: __Qb<Db> = __Qb::new(format!("UPDATE {} SET spend = ", E::TABLE));
            qb.push_bind(spend);
            qb.push(format!(" WHERE {} = ", E::ID));
            qb.push_bind(id.to_string());
            let res = qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(res.rows_affected() > 0)
        }

        /// Deletes the rows with these ids (and, with `keys_of`, in the same transaction every
        /// key whose `keys_of` column is one of them). Returns the deleted ids.
        pub(crate) async fn delete<E: __Entity>(
            pool: &DbPool,
            ids: &[String],
            keys_of: Option<&str>,
        ) -> Result<Vec<String>, __AuthError> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut tx = pool.begin().await.map_err(__db_error)?;
            if let Some(col) = keys_of {
                let mut qb: __Qb<Db> = __Qb::new("DELETE FROM verification_tokens WHERE ");
                __push_in(&mut qb, col, ids);
                qb.build().execute(&mut *tx).await.map_err(__db_error)?;
            }
            let mut qb: __Qb<Db> = __Qb::new(format!("DELETE FROM {} WHERE ", E::TABLE));
            __push_in(&mut qb, E::ID, ids);
            qb.push(format!(" RETURNING {}", E::ID));
            let rows = qb.build().fetch_all(&mut *tx).await.map_err(__db_error)?;
            tx.commit().await.map_err(__db_error)?;
            rows.iter()
                .map(|r| r.try_get::<String, _>(0).map_err(__db_error))
                .collect()
        }

        /// One page of the rows matching every `(column, value)` filter, newest first, and
        /// how many match in all. `page` is `(offset, limit)`; `None` reads every row.
        pub(crate) async fn list<E: __Entity>(
            pool: &DbPool,
            filters: &[(&str, String)],
            page: Option<(u64, u64)>,
        ) -> Result<(Vec<E>, u64), __AuthError> {
            let push_where = |qb: &mut __Qb<'_, Db>| {
                qb.push(" WHERE 1 = 1");
                for (col, v) in filters {
                    qb.push(format!(" AND {col} = "));
                    qb.push_bind(v.clone());
                }
            };
            let mut qb: __Qb<Db> = __Qb::new(format!(
                "SELECT {} FROM {}",
                __select_list::<E>(JSON_AS_TEXT),
                E::TABLE
            ));
            push_where(&mut qb);
            qb.push(format!(" ORDER BY created_at DESC, {} DESC", E::ID));
            if let Some((offset, limit)) = page {
                qb.push(" LIMIT ");
                qb.push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
                qb.push(" OFFSET ");
                qb.push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
            }
            let rows = qb.build().fetch_all(pool).await.map_err(__db_error)?;
            let items = __decode_all(&rows)?;
            let total = match page {
                None => items.len() as u64,
                Some(_) => {
                    let mut qb: __Qb<Db> = __Qb::new(format!("SELECT COUNT(*) FROM {}", E::TABLE));
                    push_where(&mut qb);
                    let row = qb.build().fetch_one(pool).await.map_err(__db_error)?;
                    let n: i64 = row.try_get(0).map_err(__db_error)?;
                    u64::try_from(n).unwrap_or(0)
                }
            };
            Ok((items, total))
        }

        /// Inserts spend-log rows in one transaction (multi-row INSERTs under the bind limit;
        /// a stored `request_id` is skipped) and, in the same transaction, adds the inserted
        /// rows' spend to their key, user and team counters. Returns rows inserted.
        pub(crate) async fn insert_spend_logs(
            pool: &DbPool,
            records: &[__SpendRecord],
        ) -> Result<usize, __AuthError> {
            let columns = <__SpendRecord as __Entity>::COLUMNS;
            let per_statement = (MAX_BINDS / columns.len()).max(1);
            let mut tx = pool.begin().await.map_err(__db_error)?;
            let mut inserted = __HashSet::new();
            for chunk in records.chunks(per_statement) {
                let mut qb: __Qb<Db> =
                    __Qb::new(format!("INSERT INTO spend_logs ({}) ", columns.join(", ")));
                qb.push_values(chunk, |s, r| r.bind(&mut Binds(s)));
                qb.push(" ON CONFLICT (request_id) DO NOTHING RETURNING request_id");
                for row in qb.build().fetch_all(&mut *tx).await.map_err(__db_error)? {
                    inserted.insert(row.try_get::<String, _>(0).map_err(__db_error)?);
                }
            }
            for inc in __spend_increments(records, &inserted) {
                let mut qb: __Qb<Db> =
                    __Qb::new(format!("UPDATE {} SET spend = spend + ", inc.table));
                qb.push_bind(inc.amount);
                if inc.release > 0.0 {
                    qb.push(", reserved = CASE WHEN reserved > ");
                    qb.push_bind(inc.release);
                    qb.push(" THEN reserved - ");
                    qb.push_bind(inc.release);
                    qb.push(" ELSE 0 END");
                }
                qb.push(format!(" WHERE {} = ", inc.id_col));
                qb.push_bind(inc.id);
                qb.build().execute(&mut *tx).await.map_err(__db_error)?;
            }
            // End-user and global budget counters (`budget_sql!`), in the same transaction.
            apply_budget_increments(&mut tx, records, &inserted).await?;
            // Daily report aggregates (`reports_sql!`), in the same transaction.
            upsert_daily_spend(&mut tx, records, &inserted).await?;
            tx.commit().await.map_err(__db_error)?;
            Ok(inserted.len())
        }

        /// Reads spend-log rows matching `filter`, newest first.
        pub(crate) async fn spend_logs(
            pool: &DbPool,
            filter: &__Filter,
        ) -> Result<Vec<__SpendRecord>, __AuthError> {
            let mut qb: __Qb<Db> = __Qb::new(format!(
                "SELECT {} FROM spend_logs WHERE 1 = 1",
                __select_list::<__SpendRecord>(JSON_AS_TEXT)
            ));
            for (col, v) in [
                ("api_key_hash", &filter.api_key_hash),
                ("model_group", &filter.model_group),
                ("request_id", &filter.request_id),
                ("user_id", &filter.user_id),
                ("team_id", &filter.team_id),
            ] {
                if let Some(v) = v {
                    qb.push(format!(" AND {col} = "));
                    qb.push_bind(v.clone());
                }
            }
            for (op, t) in [(">=", filter.start_time), ("<", filter.end_time)] {
                if let Some(t) = t {
                    qb.push(format!(" AND start_time {op} "));
                    __Binder::time(&mut Binds(qb.separated("")), Some(t));
                }
            }
            if let Some(tags) = &filter.tags {
                // Rows carrying any of the tags.
                qb.push(" AND (1 = 0");
                for t in tags {
                    qb.push(" OR ");
                    qb.push(TAG_MATCH.0);
                    qb.push_bind(t.clone());
                    qb.push(TAG_MATCH.1);
                }
                qb.push(")");
            }
            qb.push(" ORDER BY start_time DESC, request_id DESC");
            if let Some(limit) = filter.limit {
                qb.push(" LIMIT ");
                qb.push_bind(i64::from(limit));
                if let Some(offset) = filter.offset {
                    qb.push(" OFFSET ");
                    qb.push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
                }
            }
            let rows = qb.build().fetch_all(pool).await.map_err(__db_error)?;
            __decode_all(&rows)
        }
    };
}

pub(crate) use shared_sql;

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

    fn rec(id: &str, key: &str, user: Option<&str>, team: Option<&str>, spend: f64) -> SpendRecord {
        SpendRecord {
            request_id: id.into(),
            api_key_hash: key.into(),
            user_id: user.map(Into::into),
            team_id: team.map(Into::into),
            spend,
            ..SpendRecord::default()
        }
    }

    #[test]
    fn increments_count_each_stored_request_once() {
        let records = [
            rec("a", "k1", Some("u"), Some("t"), 1.0),
            rec("a", "k1", Some("u"), Some("t"), 5.0),
            rec("b", "k1", None, Some("t"), 2.0),
            rec("c", "k2", None, None, 4.0),
            rec("d", "", None, None, 8.0),
            rec("e", "k3", None, None, 0.0),
        ];
        let inserted: HashSet<String> =
            ["a", "b", "d", "e"].iter().map(|s| s.to_string()).collect();
        let incs = spend_increments(&records, &inserted);
        let find = |table: &str, id: &str| {
            incs.iter()
                .find(|i| i.table == table && i.id == id)
                .map(|i| i.amount)
        };
        assert_eq!(
            find("verification_tokens", "k1"),
            Some(3.0),
            "a once, plus b"
        );
        assert_eq!(find("users", "u"), Some(1.0));
        assert_eq!(find("teams", "t"), Some(3.0));
        assert_eq!(
            find("verification_tokens", "k2"),
            None,
            "c was not inserted"
        );
        assert_eq!(incs.len(), 3, "no empty key hash, no zero spend: {incs:?}");
    }

    #[test]
    fn select_lists_cast_only_json_columns() {
        let s = select_list::<TeamRecord>("::text");
        assert!(s.contains("members_with_roles::text AS members_with_roles"));
        assert!(s.contains("team_alias,"));
        assert!(!s.contains("team_alias::text"));
    }
}
