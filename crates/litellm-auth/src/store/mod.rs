//! Storage: one [`Store`] handle over SQLite or PostgreSQL.
//!
//! Each dialect has its own module with its own SQL (parameterized only; no `query!` macros, so
//! no database is needed at compile time) and its own embedded migrations
//! (`migrations/sqlite/`, `migrations/postgres/`), applied on connect and tracked in sqlx's
//! `_sqlx_migrations` table, so connecting again is a no-op.
//!
//! - SQLite: `sqlite://path` (created if missing), WAL journal, `synchronous = NORMAL`, a pool of
//!   4 connections. Times are TEXT, fixed-width RFC 3339 UTC with microseconds, which sorts
//!   correctly as text. `sqlite::memory:` works and keeps one connection open for its lifetime.
//! - PostgreSQL: `postgres://` or `postgresql://`, a pool of 10 connections, times are
//!   TIMESTAMPTZ and JSON columns JSONB. Tables go to the first schema of the connection's
//!   `search_path` (set it with `?options[search_path]=name`).
//!
//! Error messages are scrubbed of the URL's password before they leave this module.

mod budget_sql;
pub(crate) mod entity;
mod postgres;
mod reports;
mod reports_sql;
mod responses;
pub(crate) mod shared;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::error::AuthError;
use crate::records::{KeyRecord, TeamRecord, UserRecord};
use crate::spend::{SpendLogFilter, SpendLogRow, SpendRecord};
use entity::Entity;
pub use responses::ResponseRecord;

/// The SQL dialect behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long to wait for a pooled connection before reporting the database as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Awaits `open` (a dialect's pool) and applies `migrator` to the pool.
async fn migrated<DB>(
    open: impl std::future::Future<Output = Result<sqlx::Pool<DB>, sqlx::Error>>,
    migrator: &sqlx::migrate::Migrator,
) -> Result<sqlx::Pool<DB>, AuthError>
where
    DB: sqlx::Database,
    DB::Connection: sqlx::migrate::Migrate,
{
    let pool = open.await.map_err(|e| AuthError::Database(e.to_string()))?;
    migrator
        .run(&pool)
        .await
        .map_err(|e| AuthError::Migration(e.to_string()))?;
    Ok(pool)
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A connection pool to the proxy's database, with migrations applied. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The URL's password, removed from every error message.
    password: Option<Arc<SecretString>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

/// The insert, lookup, update, delete and list methods of an entity that owns no keys (end
/// users, budget objects): `(article, name, plural)` name it in the docs, `$id` is its id field.
macro_rules! crud_methods {
    (
        $record:ty,
        ($a:literal, $what:literal, $whats:literal),
        $id:ident,
        $insert:ident,
        $get:ident,
        $update:ident,
        $delete:ident,
        $list:ident
    ) => {
        #[doc = concat!("Stores ", $a, " new ", $what, "; an existing id is a [`AuthError::Conflict`].")]
        pub async fn $insert(&self, r: &$record) -> Result<(), AuthError> {
            on_backend!(self, insert(r))
        }

        #[doc = concat!("The ", $what, " with this id.")]
        pub async fn $get(&self, id: &str) -> Result<Option<$record>, AuthError> {
            self.by_id(id).await
        }

        #[doc = concat!("Rewrites ", $a, " ", $what, " (every field but its id, `spend` and `created_at`). Whether it existed.")]
        pub async fn $update(&self, r: &$record) -> Result<bool, AuthError> {
            on_backend!(self, update(&r.$id, r))
        }

        #[doc = concat!("Deletes ", $whats, "; returns the ids that existed.")]
        pub async fn $delete(&self, ids: &[String]) -> Result<Vec<String>, AuthError> {
            on_backend!(self, delete::<$record>(ids, None))
        }

        #[doc = concat!("Every ", $what, ", newest first.")]
        pub async fn $list(&self) -> Result<Vec<$record>, AuthError> {
            self.every().await
        }
    };
}

impl Store {
    /// Connects to `database_url` (`sqlite://path`, `sqlite::memory:`, `postgres://...` or
    /// `postgresql://...`) and applies the migrations.
    pub async fn connect(database_url: &str) -> Result<Store, AuthError> {
        let password = url_password(database_url).map(|p| Arc::new(SecretString::from(p)));
        let scheme = database_url
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        let backend = match scheme.as_str() {
            "sqlite" => sqlite::connect(database_url).await.map(Backend::Sqlite),
            "postgres" | "postgresql" => {
                postgres::connect(database_url).await.map(Backend::Postgres)
            }
            _ => return Err(AuthError::UnsupportedDatabase { scheme }),
        };
        backend
            .map(|backend| Store {
                backend,
                password: password.clone(),
            })
            .map_err(|e| redact_error(e, password.as_deref()))
    }

    /// The database's dialect.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), AuthError> {
        let res = match &self.backend {
            Backend::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(drop),
            Backend::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(drop),
        };
        res.map_err(|e| self.redact(AuthError::Database(e.to_string())))
    }

    /// Inserts spend-log rows in one transaction (multi-row INSERTs, chunked under the
    /// dialect's bind-parameter limit). A `request_id` that is already stored is skipped, so a
    /// batch can be retried safely. In the same transaction the inserted rows' spend is added
    /// to their key's, user's and team's `spend` counters, so a counter always equals the sum
    /// of its logs. Returns how many rows were inserted.
    pub async fn insert_spend_logs(&self, records: &[SpendRecord]) -> Result<usize, AuthError> {
        if records.is_empty() {
            return Ok(0);
        }
        on_backend!(self, insert_spend_logs(records))
    }

    /// Reads spend-log rows matching `filter`, newest first.
    pub async fn spend_logs(&self, filter: &SpendLogFilter) -> Result<Vec<SpendLogRow>, AuthError> {
        on_backend!(self, spend_logs(filter))
    }

    /// Stores a new key. A key with the same hash or alias is a [`AuthError::Conflict`].
    pub async fn insert_key(&self, key: &KeyRecord) -> Result<(), AuthError> {
        on_backend!(self, insert(key))
    }

    /// The key whose hash is `token`.
    pub async fn key(&self, token: &str) -> Result<Option<KeyRecord>, AuthError> {
        Ok(self
            .keys_where(KeyColumn::Token, &[token.to_string()])
            .await?
            .pop())
    }

    /// The keys whose `column` is one of `values`.
    pub async fn keys_where(
        &self,
        column: KeyColumn,
        values: &[String],
    ) -> Result<Vec<KeyRecord>, AuthError> {
        on_backend!(self, fetch(column.name(), values))
    }

    /// Rewrites the key stored under `old_token` with `key` (every field but `spend` and
    /// `created_at`; `key.token` may differ, which is how a key is regenerated). Returns whether
    /// the key existed; a taken alias or hash is a [`AuthError::Conflict`].
    pub async fn update_key(&self, old_token: &str, key: &KeyRecord) -> Result<bool, AuthError> {
        on_backend!(self, update(old_token, key))
    }

    /// Deletes keys by hash; returns the hashes that existed.
    pub async fn delete_keys(&self, tokens: &[String]) -> Result<Vec<String>, AuthError> {
        on_backend!(self, delete::<KeyRecord>(tokens, None))
    }

    /// One page of keys (newest first) matching `filter`, and how many match in all.
    pub async fn list_keys(
        &self,
        filter: &KeyFilter,
        page: Page,
    ) -> Result<(Vec<KeyRecord>, u64), AuthError> {
        let filters = filter.columns();
        on_backend!(self, list(&filters, page.bounds()))
    }

    /// Stores a new user; an existing `user_id` is a [`AuthError::Conflict`].
    pub async fn insert_user(&self, user: &UserRecord) -> Result<(), AuthError> {
        on_backend!(self, insert(user))
    }

    /// The user with this id.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, AuthError> {
        self.by_id(user_id).await
    }

    /// The users with this email.
    pub async fn users_by_email(&self, email: &str) -> Result<Vec<UserRecord>, AuthError> {
        on_backend!(
            self,
            fetch::<UserRecord>("user_email", &[email.to_string()])
        )
    }

    /// Rewrites a user (every field but `spend` and `created_at`). Returns whether it existed.
    pub async fn update_user(&self, user: &UserRecord) -> Result<bool, AuthError> {
        on_backend!(self, update(&user.user_id, user))
    }

    /// Deletes users and, in the same transaction, their keys. Returns the ids that existed.
    pub async fn delete_users(&self, ids: &[String]) -> Result<Vec<String>, AuthError> {
        on_backend!(self, delete::<UserRecord>(ids, Some("user_id")))
    }

    /// One page of users (newest first) and the total count; `role` filters by `user_role`.
    pub async fn list_users(
        &self,
        role: Option<&str>,
        page: Page,
    ) -> Result<(Vec<UserRecord>, u64), AuthError> {
        let filters: Vec<(&str, String)> = role
            .map(|r| ("user_role", r.to_string()))
            .into_iter()
            .collect();
        on_backend!(self, list(&filters, page.bounds()))
    }

    /// Stores a new team; an existing `team_id` is a [`AuthError::Conflict`].
    pub async fn insert_team(&self, team: &TeamRecord) -> Result<(), AuthError> {
        on_backend!(self, insert(team))
    }

    /// The team with this id.
    pub async fn team(&self, team_id: &str) -> Result<Option<TeamRecord>, AuthError> {
        self.by_id(team_id).await
    }

    /// Rewrites a team (every field but `spend` and `created_at`). Returns whether it existed.
    pub async fn update_team(&self, team: &TeamRecord) -> Result<bool, AuthError> {
        on_backend!(self, update(&team.team_id, team))
    }

    /// Deletes teams and, in the same transaction, their keys. Returns the ids that existed.
    pub async fn delete_teams(&self, ids: &[String]) -> Result<Vec<String>, AuthError> {
        on_backend!(self, delete::<TeamRecord>(ids, Some("team_id")))
    }

    /// Every team, newest first.
    pub async fn list_teams(&self) -> Result<Vec<TeamRecord>, AuthError> {
        self.every().await
    }

    /// Sets the spend counter of a key, user or team (LiteLLM's `spend` on `/…/update`).
    /// Returns whether the row existed.
    pub async fn set_spend(&self, of: SpendOf<'_>) -> Result<bool, AuthError> {
        match of {
            SpendOf::Key(id, v) => on_backend!(self, set_spend::<KeyRecord>(id, v)),
            SpendOf::User(id, v) => on_backend!(self, set_spend::<UserRecord>(id, v)),
            SpendOf::Team(id, v) => on_backend!(self, set_spend::<TeamRecord>(id, v)),
        }
    }

    /// Reserves `amount` on one budget row if `spend + reserved < max_budget` there (one
    /// atomic statement). Whether it was reserved; a missing row is not.
    pub async fn reserve_budget(
        &self,
        scope: crate::budget::BudgetScope,
        id: &str,
        amount: f64,
        max_budget: f64,
    ) -> Result<bool, AuthError> {
        on_backend!(self, reserve_budget(scope, id, amount, max_budget))
    }

    /// Gives back `amount` of a reservation (clamped at zero; a negative amount adds).
    pub async fn release_budget(
        &self,
        scope: crate::budget::BudgetScope,
        id: &str,
        amount: f64,
    ) -> Result<(), AuthError> {
        on_backend!(self, release_budget(scope, id, amount))
    }

    /// `(spend, reserved)` of one budget row.
    pub async fn budget_usage(
        &self,
        scope: crate::budget::BudgetScope,
        id: &str,
    ) -> Result<Option<(f64, f64)>, AuthError> {
        on_backend!(self, budget_usage(scope, id))
    }

    /// Takes or renews the lease `name` for `holder` until `until` (when free, expired at
    /// `now`, or already `holder`'s). Whether `holder` holds it now.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, AuthError> {
        on_backend!(self, acquire_lease(name, holder, now, until))
    }

    /// Resets every key, user, team and budget whose `budget_reset_at` is due at `now`.
    pub async fn reset_budgets(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::schedule::ResetCounts, AuthError> {
        on_backend!(self, reset_budgets(now))
    }

    crud_methods!(
        crate::EndUserRecord,
        ("an", "end user", "end users"),
        user_id,
        insert_end_user,
        end_user,
        update_end_user,
        delete_end_users,
        list_end_users
    );

    /// Sets an end user's spend counter. Whether it existed.
    pub async fn set_end_user_spend(&self, id: &str, spend: f64) -> Result<bool, AuthError> {
        on_backend!(self, set_spend::<crate::EndUserRecord>(id, spend))
    }

    crud_methods!(
        crate::BudgetRecord,
        ("a", "budget", "budgets"),
        budget_id,
        insert_budget,
        budget,
        update_budget,
        delete_budgets,
        list_budgets
    );

    /// The row of `E` whose id is `id`.
    async fn by_id<E: Entity>(&self, id: &str) -> Result<Option<E>, AuthError> {
        on_backend!(self, fetch::<E>(E::ID, &[id.to_string()])).map(|mut v| v.pop())
    }

    /// Every row of `E`, newest first.
    async fn every<E: Entity>(&self) -> Result<Vec<E>, AuthError> {
        on_backend!(self, list::<E>(&[], None)).map(|(v, _)| v)
    }

    /// Closes the pool: waits for checked-out connections to return, then closes them all
    /// (on SQLite this checkpoints the WAL). Later calls on this store fail.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(p) => p.close().await,
            Backend::Postgres(p) => p.close().await,
        }
    }

    fn redact(&self, e: AuthError) -> AuthError {
        redact_error(e, self.password.as_deref())
    }
}

/// Runs a dialect function on the store's pool and redacts the error.
macro_rules! on_backend {
    ($self:ident, $f:ident $(::<$t:ty>)? ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(p) => sqlite::$f $(::<$t>)? (p, $($arg),*).await,
            Backend::Postgres(p) => postgres::$f $(::<$t>)? (p, $($arg),*).await,
        }
        .map_err(|e| $self.redact(e))
    };
}
use on_backend;

/// A key column that keys can be looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyColumn {
    /// The key's hash.
    Token,
    KeyAlias,
    UserId,
    TeamId,
}

impl KeyColumn {
    fn name(self) -> &'static str {
        match self {
            KeyColumn::Token => "token",
            KeyColumn::KeyAlias => "key_alias",
            KeyColumn::UserId => "user_id",
            KeyColumn::TeamId => "team_id",
        }
    }
}

/// Which keys `/key/list` returns: every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub key_alias: Option<String>,
}

impl KeyFilter {
    fn columns(&self) -> Vec<(&'static str, String)> {
        [
            ("user_id", &self.user_id),
            ("team_id", &self.team_id),
            ("key_alias", &self.key_alias),
        ]
        .into_iter()
        .filter_map(|(c, v)| v.clone().map(|v| (c, v)))
        .collect()
    }
}

/// A page of a listing: 1-based `page` of `size` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub size: u64,
}

impl Page {
    /// `(offset, limit)`.
    fn bounds(self) -> Option<(u64, u64)> {
        let size = self.size.max(1);
        Some((
            self.page.max(1).saturating_sub(1).saturating_mul(size),
            size,
        ))
    }
}

/// Whose spend counter to set, and to what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpendOf<'a> {
    /// A key by hash.
    Key(&'a str, f64),
    User(&'a str, f64),
    Team(&'a str, f64),
}

/// Replaces the password (raw and percent-decoded) in an error's message with `***`.
fn redact_error(e: AuthError, password: Option<&SecretString>) -> AuthError {
    let Some(secret) = password.map(|p| p.expose_secret()) else {
        return e;
    };
    if secret.is_empty() {
        return e;
    }
    let decoded = percent_decode(secret);
    let scrub = |m: String| m.replace(secret, "***").replace(decoded.as_str(), "***");
    match e {
        AuthError::Database(m) => AuthError::Database(scrub(m)),
        AuthError::Migration(m) => AuthError::Migration(scrub(m)),
        AuthError::Corrupt(m) => AuthError::Corrupt(scrub(m)),
        AuthError::Conflict(m) => AuthError::Conflict(scrub(m)),
        other @ AuthError::UnsupportedDatabase { .. } => other,
    }
}

/// The password in a database URL's user info (`scheme://user:password@host/...`) or its
/// `password=` query parameter, as written (percent-encoded).
fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        if let Some((_, pw)) = userinfo.split_once(':') {
            if !pw.is_empty() {
                return Some(pw.to_string());
            }
        }
    }
    let query = rest.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("password="))
        .filter(|pw| !pw.is_empty())
        .map(str::to_string)
}

/// Minimal `%XX` decoding (invalid escapes are kept as written).
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Converts a token count to the stored signed integer, saturating.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Converts a stored signed token count back (negative values, never written, read as 0).
fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Maps a decoding failure to [`AuthError::Corrupt`].
fn corrupt(e: impl std::fmt::Display) -> AuthError {
    AuthError::Corrupt(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_password_in_a_url() {
        assert_eq!(
            url_password("postgres://u:p%40ss@h:5432/db").as_deref(),
            Some("p%40ss")
        );
        assert_eq!(
            url_password("postgres://u@h/db?sslmode=disable&password=x1").as_deref(),
            Some("x1")
        );
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("sqlite://some/file.db"), None);
    }

    #[test]
    fn redaction_removes_raw_and_decoded_password() {
        let pw = SecretString::from("p%40ss".to_string());
        let e = redact_error(
            AuthError::Database("bad p%40ss and p@ss".to_string()),
            Some(&pw),
        );
        assert_eq!(e, AuthError::Database("bad *** and ***".to_string()));
    }

    #[test]
    fn percent_decoding_keeps_invalid_escapes() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }

    #[test]
    fn token_counts_saturate() {
        assert_eq!(to_i64(u64::MAX), i64::MAX);
        assert_eq!(to_u64(to_i64(42)), 42);
        assert_eq!(to_u64(-1), 0);
    }
}
