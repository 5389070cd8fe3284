//! Budget reservations: a call reserves its maximum cost on every budget that applies before it
//! goes upstream, and settles with its real cost afterwards, so concurrent calls cannot overshoot
//! a budget by more than one call.
//!
//! A call is admitted while `spend + reserved < max_budget` on every applicable budget (LiteLLM
//! refuses at `spend >= max_budget`; the reservations of calls in flight count as spent), and then
//! adds its maximum cost to `reserved`. Two places hold reservations:
//!
//! - **In the database** ([`crate::Store::reserve_budget`]): one statement per budget,
//!   `UPDATE t SET reserved = reserved + ? WHERE id = ? AND spend + reserved < ?`, atomic on
//!   both dialects, so every replica on the database shares one reservation. Settling leaves
//!   the call's real cost in `reserved` ([`crate::Store::release_budget`] of the difference), and
//!   the transaction that writes the call's spend log moves it from `reserved` to `spend` (the
//!   record's [`crate::SpendRecord::held`] says on which budgets), so `spend + reserved` never
//!   misses a finished call whose log is still queued. A budget refused after earlier ones of
//!   the same call were reserved releases those again.
//! - **In memory** ([`LocalBudgets`]): one lock checks every budget and reserves on all of them
//!   or none, against the spend this replica's cache sees (which includes queued spend). Right
//!   for one replica; the fast path when there is no shared database.
//!
//! Releases clamp at zero (`CASE WHEN reserved > ? THEN reserved - ? ELSE 0 END`), so a
//! reservation lost in a crash, or reset with the budget, cannot drive a counter negative.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which kind of budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BudgetScope {
    Key,
    User,
    Team,
    /// An end user (customer); its limit comes from its budget object.
    EndUser,
    /// `litellm_settings.max_budget`: the whole proxy.
    Global,
}

impl BudgetScope {
    /// The table and id column holding this budget's `spend` and `reserved`.
    pub(crate) fn table(self) -> (&'static str, &'static str) {
        match self {
            BudgetScope::Key => ("verification_tokens", "token"),
            BudgetScope::User => ("users", "user_id"),
            BudgetScope::Team => ("teams", "team_id"),
            BudgetScope::EndUser => ("end_users", "user_id"),
            BudgetScope::Global => ("budget_counters", "id"),
        }
    }

    /// LiteLLM's word for it in a `budget_exceeded` message (`Key=`, `Team=`, ...).
    pub fn word(self) -> &'static str {
        match self {
            BudgetScope::Key => "Key",
            BudgetScope::User => "User",
            BudgetScope::Team => "Team",
            BudgetScope::EndUser => "End User",
            BudgetScope::Global => "Global Proxy",
        }
    }
}

/// The id of the global budget's counter row.
pub const GLOBAL_BUDGET_ID: &str = "global";

/// One budget a call is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLimit {
    pub scope: BudgetScope,
    /// The key hash, user id, team id, end-user id, or [`GLOBAL_BUDGET_ID`].
    pub id: String,
    pub max_budget: f64,
    /// The spend this replica knows of (its cache plus queued spend), for in-memory checks.
    pub spend: f64,
}

/// A refused reservation: the budget that is exhausted.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetExceeded {
    pub scope: BudgetScope,
    pub id: String,
    pub max_budget: f64,
    /// Spend plus the reservations of calls in flight, when it was refused.
    pub current: f64,
}

/// Per-replica reservations (the in-memory mode). Cheap to clone; clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct LocalBudgets {
    reserved: Arc<Mutex<HashMap<(BudgetScope, String), f64>>>,
}

impl LocalBudgets {
    /// Reserves `amount` on every budget, or on none: refuses at the first budget whose
    /// `spend + reserved` is already at or over its `max_budget`.
    pub fn reserve(&self, limits: &[BudgetLimit], amount: f64) -> Result<(), BudgetExceeded> {
        self.reserve_with(limits, amount, |l| l.spend)
    }

    /// [`LocalBudgets::reserve`] reading each budget's spend with `spend` while the lock is
    /// held, so a settlement ([`LocalBudgets::settle_with`]) is seen either whole (spend up,
    /// reservation gone) or not at all — never the released reservation without the spend.
    pub fn reserve_with(
        &self,
        limits: &[BudgetLimit],
        amount: f64,
        spend: impl Fn(&BudgetLimit) -> f64,
    ) -> Result<(), BudgetExceeded> {
        let mut m = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        for l in limits {
            let held = m.get(&(l.scope, l.id.clone())).copied().unwrap_or(0.0);
            let spent = spend(l);
            if spent + held >= l.max_budget {
                return Err(BudgetExceeded {
                    scope: l.scope,
                    id: l.id.clone(),
                    max_budget: l.max_budget,
                    current: spent + held,
                });
            }
        }
        for l in limits {
            *m.entry((l.scope, l.id.clone())).or_insert(0.0) += amount;
        }
        Ok(())
    }

    /// Runs `add_spend` (which adds the call's cost to the counters reservations are checked
    /// against) and gives back `amount` on each of `held`, under one lock.
    pub fn settle_with(
        &self,
        held: &[(BudgetScope, String)],
        amount: f64,
        add_spend: impl FnOnce(),
    ) {
        let mut m = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        add_spend();
        Self::release_locked(&mut m, held, amount);
    }

    /// Gives back `amount` on each of `held` (clamped at zero; empty entries are removed).
    pub fn release(&self, held: &[(BudgetScope, String)], amount: f64) {
        let mut m = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        Self::release_locked(&mut m, held, amount);
    }

    fn release_locked(
        m: &mut HashMap<(BudgetScope, String), f64>,
        held: &[(BudgetScope, String)],
        amount: f64,
    ) {
        for k in held {
            if let Some(v) = m.get_mut(k) {
                *v -= amount;
                if *v <= 1e-12 {
                    m.remove(k);
                }
            }
        }
    }

    /// What is reserved on one budget now.
    pub fn reserved(&self, scope: BudgetScope, id: &str) -> f64 {
        let m = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&(scope, id.to_string())).copied().unwrap_or(0.0)
    }
}

impl BudgetScope {
    /// The name used in a spend log's `metadata.budget_reserved_on`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetScope::Key => "key",
            BudgetScope::User => "user",
            BudgetScope::Team => "team",
            BudgetScope::EndUser => "end_user",
            BudgetScope::Global => "global",
        }
    }

    fn parse(s: &str) -> Option<BudgetScope> {
        [
            BudgetScope::Key,
            BudgetScope::User,
            BudgetScope::Team,
            BudgetScope::EndUser,
            BudgetScope::Global,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// The metadata field of a spend record listing the database budgets whose `reserved` holds
/// the call's settled cost until the record is written.
pub const HELD_FIELD: &str = "budget_reserved_on";

/// The metadata field of a spend record whose cost was already added to this replica's key
/// cache (by an in-memory settle), so [`crate::Ledger::record`] does not add it again.
pub const SPEND_CACHED_FIELD: &str = "budget_spend_cached";

/// Whether `rec`'s spend is already in the key cache (see [`SPEND_CACHED_FIELD`]).
pub fn spend_cached(rec: &crate::SpendRecord) -> bool {
    rec.metadata.get(SPEND_CACHED_FIELD) == Some(&serde_json::Value::Bool(true))
}

/// Marks `rec`'s spend as already added to the key cache.
pub fn mark_spend_cached(rec: &mut crate::SpendRecord) {
    if !rec.metadata.is_object() {
        rec.metadata = serde_json::Value::Object(serde_json::Map::new());
    }
    if let Some(m) = rec.metadata.as_object_mut() {
        m.insert(SPEND_CACHED_FIELD.into(), serde_json::Value::Bool(true));
    }
}

/// Marks `rec` as held on `scopes` (see [`HELD_FIELD`]).
pub fn mark_held(rec: &mut crate::SpendRecord, scopes: &[BudgetScope]) {
    if scopes.is_empty() {
        return;
    }
    if !rec.metadata.is_object() {
        rec.metadata = serde_json::Value::Object(serde_json::Map::new());
    }
    if let Some(m) = rec.metadata.as_object_mut() {
        let list = scopes.iter().map(|s| serde_json::Value::from(s.as_str()));
        m.insert(HELD_FIELD.into(), serde_json::Value::Array(list.collect()));
    }
}

/// The budgets `rec` is held on.
pub(crate) fn held_on(rec: &crate::SpendRecord) -> Vec<BudgetScope> {
    rec.metadata
        .get(HELD_FIELD)
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(BudgetScope::parse))
                .collect()
        })
        .unwrap_or_default()
}

/// A counter change on `end_users` or `budget_counters`: `(id, amount, release)`.
pub(crate) type CounterIncrement = (String, f64, f64);

/// The end-user and global increments of the `inserted` records of a batch (each request id
/// once): `(end users, global)`.
pub(crate) fn counter_increments(
    records: &[crate::SpendRecord],
    inserted: &std::collections::HashSet<String>,
) -> (Vec<CounterIncrement>, Option<CounterIncrement>) {
    let mut counted = std::collections::HashSet::new();
    let mut end_users: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    let (mut global, mut global_release) = (0.0, 0.0);
    for r in records {
        if !inserted.contains(&r.request_id) || !counted.insert(r.request_id.as_str()) {
            continue;
        }
        if !r.spend.is_finite() || r.spend == 0.0 {
            continue;
        }
        let held = held_on(r);
        if let Some(id) = r.end_user.as_deref().filter(|u| !u.is_empty()) {
            let e = end_users.entry(id.to_string()).or_insert((0.0, 0.0));
            e.0 += r.spend;
            if held.contains(&BudgetScope::EndUser) {
                e.1 += r.spend;
            }
        }
        global += r.spend;
        if held.contains(&BudgetScope::Global) {
            global_release += r.spend;
        }
    }
    let end_users = end_users
        .into_iter()
        .map(|(id, (a, r))| (id, a, r))
        .collect();
    let global = (global != 0.0).then(|| (GLOBAL_BUDGET_ID.to_string(), global, global_release));
    (end_users, global)
}

/// The budget statements (reservations, end users, budgets, resets, leases), expanded inside
/// each dialect module next to `shared_sql!` (same requirements: `Db`, `DbPool`, `Binds`,
/// `RowReader`, `JSON_AS_TEXT`). Every value is bound; only constant table and column names are
/// spliced in.
macro_rules! budget_sql {
    () => {
        use $crate::budget::BudgetScope as __Scope;
        use $crate::reset::ResetCounts as __ResetCounts;
        use $crate::store::shared::Reader as __Reader;

        fn __time_bind(qb: &mut __Qb<'_, Db>, t: chrono::DateTime<chrono::Utc>) {
            __Binder::time(&mut Binds(qb.separated("")), Some(t));
        }

        /// Adds the batch's spend to its end users (creating unknown ones, as LiteLLM's
        /// upsert does) and to the global counter, moving held reservations to spend.
        pub(crate) async fn apply_budget_increments(
            tx: &mut sqlx::Transaction<'_, Db>,
            records: &[__SpendRecord],
            inserted: &__HashSet<String>,
        ) -> Result<(), __AuthError> {
            let (end_users, global) = $crate::budget::counter_increments(records, inserted);
            let now = chrono::Utc::now();
            for (id, amount, release) in end_users {
                let mut qb: __Qb<Db> = __Qb::new(
                    "INSERT INTO end_users (user_id, spend, reserved, blocked, created_at, updated_at) VALUES (",
                );
                qb.push_bind(id);
                qb.push(", ");
                qb.push_bind(amount);
                qb.push(", 0, ");
                qb.push_bind(false);
                qb.push(", ");
                __time_bind(&mut qb, now);
                qb.push(", ");
                __time_bind(&mut qb, now);
                qb.push(
                    ") ON CONFLICT (user_id) DO UPDATE SET spend = end_users.spend + excluded.spend, \
                     reserved = CASE WHEN end_users.reserved > ",
                );
                qb.push_bind(release);
                qb.push(" THEN end_users.reserved - ");
                qb.push_bind(release);
                qb.push(" ELSE 0 END");
                qb.build().execute(&mut **tx).await.map_err(__db_error)?;
            }
            if let Some((id, amount, release)) = global {
                let mut qb: __Qb<Db> =
                    __Qb::new("UPDATE budget_counters SET spend = spend + ");
                qb.push_bind(amount);
                qb.push(", reserved = CASE WHEN reserved > ");
                qb.push_bind(release);
                qb.push(" THEN reserved - ");
                qb.push_bind(release);
                qb.push(" ELSE 0 END WHERE id = ");
                qb.push_bind(id);
                qb.build().execute(&mut **tx).await.map_err(__db_error)?;
            }
            Ok(())
        }

        /// `reserved += amount` where `spend + reserved < max`; whether it was reserved.
        pub(crate) async fn reserve_budget(
            pool: &DbPool,
            scope: __Scope,
            id: &str,
            amount: f64,
            max: f64,
        ) -> Result<bool, __AuthError> {
            let (table, col) = scope.table();
            let mut qb: __Qb<Db> =
                __Qb::new(format!("UPDATE {table} SET reserved = reserved + "));
            qb.push_bind(amount);
            qb.push(format!(" WHERE {col} = "));
            qb.push_bind(id.to_string());
            qb.push(" AND spend + reserved < ");
            qb.push_bind(max);
            let res = qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(res.rows_affected() > 0)
        }

        /// `reserved -= amount`, clamped at zero (a negative amount adds).
        pub(crate) async fn release_budget(
            pool: &DbPool,
            scope: __Scope,
            id: &str,
            amount: f64,
        ) -> Result<(), __AuthError> {
            let (table, col) = scope.table();
            let mut qb: __Qb<Db> =
                __Qb::new(format!("UPDATE {table} SET reserved = CASE WHEN reserved > "));
            qb.push_bind(amount);
            qb.push(" THEN reserved - ");
            qb.push_bind(amount);
            qb.push(format!(" ELSE 0 END WHERE {col} = "));
            qb.push_bind(id.to_string());
            qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(())
        }

        /// `(spend, reserved)` of one budget row.
        pub(crate) async fn budget_usage(
            pool: &DbPool,
            scope: __Scope,
            id: &str,
        ) -> Result<Option<(f64, f64)>, __AuthError> {
            let (table, col) = scope.table();
            let mut qb: __Qb<Db> =
                __Qb::new(format!("SELECT spend, reserved FROM {table} WHERE {col} = "));
            qb.push_bind(id.to_string());
            let row = qb.build().fetch_optional(pool).await.map_err(__db_error)?;
            row.map(|r| {
                Ok((
                    r.try_get::<f64, _>(0).map_err(__db_error)?,
                    r.try_get::<f64, _>(1).map_err(__db_error)?,
                ))
            })
            .transpose()
        }

        /// Takes or renews the lease `name` for `holder` until `until`, if it is free, expired
        /// at `now`, or already `holder`'s. Whether `holder` holds it.
        pub(crate) async fn acquire_lease(
            pool: &DbPool,
            name: &str,
            holder: &str,
            now: chrono::DateTime<chrono::Utc>,
            until: chrono::DateTime<chrono::Utc>,
        ) -> Result<bool, __AuthError> {
            let mut qb: __Qb<Db> =
                __Qb::new("INSERT INTO job_leases (name, holder, expires_at) VALUES (");
            qb.push_bind(name.to_string());
            qb.push(", ");
            qb.push_bind(holder.to_string());
            qb.push(", ");
            __time_bind(&mut qb, until);
            qb.push(
                ") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at WHERE job_leases.holder = excluded.holder \
                 OR job_leases.expires_at < ",
            );
            __time_bind(&mut qb, now);
            let res = qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(res.rows_affected() > 0)
        }

        /// Resets every budget due at `now`: `spend = 0` and the next `budget_reset_at`, on
        /// keys, users, teams and budgets (and the end users of a reset budget). A row is
        /// reset only if its `budget_reset_at` is still the one read, so two passes cannot
        /// reset one period twice.
        pub(crate) async fn reset_budgets(
            pool: &DbPool,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<__ResetCounts, __AuthError> {
            let mut counts = __ResetCounts::default();
            for (table, col, spend) in [
                ("verification_tokens", "token", true),
                ("users", "user_id", true),
                ("teams", "team_id", true),
                ("budgets", "budget_id", false),
            ] {
                let mut qb: __Qb<Db> = __Qb::new(format!(
                    "SELECT {col}, budget_duration, budget_reset_at FROM {table} \
                     WHERE budget_reset_at IS NOT NULL AND budget_duration IS NOT NULL \
                     AND budget_reset_at <= "
                ));
                __time_bind(&mut qb, now);
                let rows = qb.build().fetch_all(pool).await.map_err(__db_error)?;
                for row in rows {
                    let reader = RowReader(&row);
                    let id: String = row.try_get(0).map_err(__db_error)?;
                    let duration: String = row.try_get(1).map_err(__db_error)?;
                    let Some(old) = __Reader::time(&reader, "budget_reset_at")? else {
                        continue;
                    };
                    let next = match $crate::reset::next_reset(&duration, now) {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::warn!(table, id = %id, error = %e, "cannot reset a budget with this budget_duration");
                            continue;
                        }
                    };
                    let mut tx = pool.begin().await.map_err(__db_error)?;
                    let mut qb: __Qb<Db> = __Qb::new(format!(
                        "UPDATE {table} SET {}budget_reset_at = ",
                        if spend { "spend = 0, " } else { "" }
                    ));
                    __time_bind(&mut qb, next);
                    qb.push(format!(" WHERE {col} = "));
                    qb.push_bind(id.clone());
                    qb.push(" AND budget_reset_at = ");
                    __time_bind(&mut qb, old);
                    let n = qb.build().execute(&mut *tx).await.map_err(__db_error)?;
                    if n.rows_affected() == 0 {
                        continue;
                    }
                    match table {
                        "verification_tokens" => counts.keys += 1,
                        "users" => counts.users += 1,
                        "teams" => counts.teams += 1,
                        _ => {
                            counts.budgets += 1;
                            let mut qb: __Qb<Db> =
                                __Qb::new("UPDATE end_users SET spend = 0 WHERE budget_id = ");
                            qb.push_bind(id.clone());
                            let n = qb.build().execute(&mut *tx).await.map_err(__db_error)?;
                            counts.end_users += n.rows_affected();
                        }
                    }
                    tx.commit().await.map_err(__db_error)?;
                }
            }
            Ok(counts)
        }
    };
}

pub(crate) use budget_sql;

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(scope: BudgetScope, id: &str, max: f64, spend: f64) -> BudgetLimit {
        BudgetLimit {
            scope,
            id: id.into(),
            max_budget: max,
            spend,
        }
    }

    #[test]
    fn local_reservations_are_all_or_nothing_and_admit_while_below() {
        let b = LocalBudgets::default();
        let key = limit(BudgetScope::Key, "k", 1.0, 0.0);
        let team = limit(BudgetScope::Team, "t", 0.5, 0.2);
        assert!(b.reserve(&[key.clone(), team.clone()], 0.4).is_ok());
        // The team now has 0.2 + 0.4 = 0.6 >= 0.5: refused, and the key is not charged again.
        let Err(e) = b.reserve(&[key.clone(), team.clone()], 0.4) else {
            panic!("the team budget is full");
        };
        assert_eq!((e.scope, e.id.as_str()), (BudgetScope::Team, "t"));
        assert!((b.reserved(BudgetScope::Key, "k") - 0.4).abs() < 1e-12);
        b.release(
            &[
                (BudgetScope::Key, "k".into()),
                (BudgetScope::Team, "t".into()),
            ],
            0.4,
        );
        assert_eq!(b.reserved(BudgetScope::Team, "t"), 0.0);
        assert!(b.reserve(&[key, team], 0.4).is_ok());
    }
}
