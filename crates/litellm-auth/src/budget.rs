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
