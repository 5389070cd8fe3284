//! End users ("customers": the `user` of a request, or `x-litellm-end-user-id`) and budget
//! objects, as LiteLLM's `LiteLLM_EndUserTable` and `LiteLLM_BudgetTable`, and the bodies of
//! `/customer/*` and `/budget/*`.
//!
//! An end user's limits live in the budget it references (`budget_id`): `max_budget`,
//! `rpm_limit`, `tpm_limit`, `max_parallel_requests`, `budget_duration`. A `/customer/new` (or
//! `/customer/update`) that sets budget fields without a `budget_id` creates a budget for that
//! end user (or updates the one it has), as LiteLLM does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::records::{check_budget, check_limit, present, set_opt, Patch, PatchError};
use crate::store::entity::{Binder, Entity, Reader};

/// A stored budget (`LiteLLM_BudgetTable`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetRecord {
    pub budget_id: String,
    pub max_budget: Option<f64>,
    /// Alert threshold only; never blocks.
    pub soft_budget: Option<f64>,
    pub max_parallel_requests: Option<i64>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    /// Per-model budgets (`{"gpt-4o": {"max_budget": 1.0, "budget_duration": "1d"}}`), stored.
    pub model_max_budget: Map<String, Value>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BudgetRecord {
    /// An unlimited budget named `budget_id`.
    pub fn new(budget_id: String, now: DateTime<Utc>) -> BudgetRecord {
        BudgetRecord {
            budget_id,
            max_budget: None,
            soft_budget: None,
            max_parallel_requests: None,
            tpm_limit: None,
            rpm_limit: None,
            model_max_budget: Map::new(),
            budget_duration: None,
            budget_reset_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A stored end user (`LiteLLM_EndUserTable`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndUserRecord {
    pub user_id: String,
    pub alias: Option<String>,
    /// USD spent, kept equal to the sum of this end user's spend logs.
    pub spend: f64,
    pub allowed_model_region: Option<String>,
    pub default_model: Option<String>,
    pub budget_id: Option<String>,
    pub blocked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndUserRecord {
    pub fn new(user_id: String, now: DateTime<Utc>) -> EndUserRecord {
        EndUserRecord {
            user_id,
            alias: None,
            spend: 0.0,
            allowed_model_region: None,
            default_model: None,
            budget_id: None,
            blocked: false,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The budget fields of `/budget/new|update` and of `/customer/new|update` (LiteLLM's
/// `BudgetNewRequest`). Absent fields are left alone, `null` clears.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BudgetPatch {
    #[serde(default, deserialize_with = "present")]
    pub max_budget: Patch<f64>,
    #[serde(default, deserialize_with = "present")]
    pub soft_budget: Patch<f64>,
    #[serde(default, deserialize_with = "present")]
    pub max_parallel_requests: Patch<i64>,
    #[serde(default, deserialize_with = "present")]
    pub tpm_limit: Patch<i64>,
    #[serde(default, deserialize_with = "present")]
    pub rpm_limit: Patch<i64>,
    #[serde(default, deserialize_with = "present")]
    pub budget_duration: Patch<String>,
    #[serde(default)]
    pub model_max_budget: Option<Map<String, Value>>,
}

impl BudgetPatch {
    /// Whether any budget field is present.
    pub fn is_empty(&self) -> bool {
        self.max_budget.is_none()
            && self.soft_budget.is_none()
            && self.max_parallel_requests.is_none()
            && self.tpm_limit.is_none()
            && self.rpm_limit.is_none()
            && self.budget_duration.is_none()
            && self.model_max_budget.is_none()
    }

    /// Applies the present fields to `rec`, validating them first (`rec` is unchanged on
    /// error). A new `budget_duration` sets `budget_reset_at` (calendar-aligned).
    pub fn apply(&self, rec: &mut BudgetRecord, now: DateTime<Utc>) -> Result<(), PatchError> {
        check_budget("max_budget", &self.max_budget)?;
        check_budget("soft_budget", &self.soft_budget)?;
        check_limit("max_parallel_requests", &self.max_parallel_requests)?;
        check_limit("tpm_limit", &self.tpm_limit)?;
        check_limit("rpm_limit", &self.rpm_limit)?;
        match &self.budget_duration {
            None => {}
            Some(None) => {
                rec.budget_duration = None;
                rec.budget_reset_at = None;
            }
            Some(Some(d)) => {
                let next = crate::schedule::next_reset(d, now)
                    .map_err(|m| PatchError::new("budget_duration", m))?;
                rec.budget_duration = Some(d.clone());
                rec.budget_reset_at = Some(next);
            }
        }
        set_opt(&mut rec.max_budget, &self.max_budget);
        set_opt(&mut rec.soft_budget, &self.soft_budget);
        set_opt(&mut rec.max_parallel_requests, &self.max_parallel_requests);
        set_opt(&mut rec.tpm_limit, &self.tpm_limit);
        set_opt(&mut rec.rpm_limit, &self.rpm_limit);
        if let Some(m) = &self.model_max_budget {
            rec.model_max_budget = m.clone();
        }
        rec.updated_at = now;
        Ok(())
    }
}

/// The body of `/customer/new` and `/customer/update` (LiteLLM's `NewCustomerRequest` /
/// `UpdateCustomerRequest`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomerPatch {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub alias: Patch<String>,
    #[serde(default)]
    pub blocked: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub budget_id: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    pub allowed_model_region: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    pub default_model: Patch<String>,
    /// Sets the spend counter (applied through `Store::set_spend`).
    #[serde(default)]
    pub spend: Option<f64>,
    #[serde(flatten)]
    pub budget: BudgetPatch,
}

impl CustomerPatch {
    /// Applies the end user's own fields (not the budget's, not `spend`).
    pub fn apply(&self, rec: &mut EndUserRecord, now: DateTime<Utc>) -> Result<(), PatchError> {
        check_budget("spend", &self.spend.map(Some))?;
        if let Some(Some(region)) = &self.allowed_model_region {
            if region != "eu" && region != "us" {
                return Err(PatchError::new(
                    "allowed_model_region",
                    format!("allowed_model_region must be 'eu' or 'us', got {region:?}"),
                ));
            }
        }
        set_opt(&mut rec.alias, &self.alias);
        set_opt(&mut rec.budget_id, &self.budget_id);
        set_opt(&mut rec.allowed_model_region, &self.allowed_model_region);
        set_opt(&mut rec.default_model, &self.default_model);
        if let Some(b) = self.blocked {
            rec.blocked = b;
        }
        rec.updated_at = now;
        Ok(())
    }
}

fn required<T>(col: &str, v: Option<T>) -> Result<T, AuthError> {
    v.ok_or_else(|| AuthError::Corrupt(format!("{col} is NULL")))
}

impl Entity for BudgetRecord {
    const TABLE: &'static str = "budgets";
    const ID: &'static str = "budget_id";
    // The id and `created_at` come last: an update writes every other column.
    const COLUMNS: &'static [&'static str] = &[
        "max_budget",
        "soft_budget",
        "max_parallel_requests",
        "tpm_limit",
        "rpm_limit",
        "model_max_budget",
        "budget_duration",
        "budget_reset_at",
        "updated_at",
        "budget_id",
        "created_at",
    ];
    const JSON: &'static [&'static str] = &["model_max_budget"];

    fn bind(&self, b: &mut dyn Binder) {
        b.real(self.max_budget);
        b.real(self.soft_budget);
        b.int(self.max_parallel_requests);
        b.int(self.tpm_limit);
        b.int(self.rpm_limit);
        b.json(Value::Object(self.model_max_budget.clone()).to_string());
        b.text(self.budget_duration.clone());
        b.time(self.budget_reset_at);
        b.time(Some(self.updated_at));
        b.text(Some(self.budget_id.clone()));
        b.time(Some(self.created_at));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        let model_max_budget = match r.json("model_max_budget")? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Ok(BudgetRecord {
            budget_id: required("budget_id", r.text("budget_id")?)?,
            max_budget: r.real("max_budget")?,
            soft_budget: r.real("soft_budget")?,
            max_parallel_requests: r.int("max_parallel_requests")?,
            tpm_limit: r.int("tpm_limit")?,
            rpm_limit: r.int("rpm_limit")?,
            model_max_budget,
            budget_duration: r.text("budget_duration")?,
            budget_reset_at: r.time("budget_reset_at")?,
            created_at: required("created_at", r.time("created_at")?)?,
            updated_at: required("updated_at", r.time("updated_at")?)?,
        })
    }
}

impl Entity for EndUserRecord {
    const TABLE: &'static str = "end_users";
    const ID: &'static str = "user_id";
    const COLUMNS: &'static [&'static str] = &[
        "user_id",
        "alias",
        "allowed_model_region",
        "default_model",
        "budget_id",
        "blocked",
        "updated_at",
        "spend",
        "created_at",
    ];
    const JSON: &'static [&'static str] = &[];

    fn bind(&self, b: &mut dyn Binder) {
        b.text(Some(self.user_id.clone()));
        b.text(self.alias.clone());
        b.text(self.allowed_model_region.clone());
        b.text(self.default_model.clone());
        b.text(self.budget_id.clone());
        b.flag(self.blocked);
        b.time(Some(self.updated_at));
        b.real(Some(self.spend));
        b.time(Some(self.created_at));
    }

    fn decode(r: &dyn Reader) -> Result<Self, AuthError> {
        Ok(EndUserRecord {
            user_id: required("user_id", r.text("user_id")?)?,
            alias: r.text("alias")?,
            spend: r.real("spend")?.unwrap_or(0.0),
            allowed_model_region: r.text("allowed_model_region")?,
            default_model: r.text("default_model")?,
            budget_id: r.text("budget_id")?,
            blocked: r.flag("blocked")?,
            created_at: required("created_at", r.time("created_at")?)?,
            updated_at: required("updated_at", r.time("updated_at")?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_bodies_split_into_end_user_and_budget_fields() {
        let p: CustomerPatch = serde_json::from_value(serde_json::json!({
            "user_id": "u1", "alias": "Acme", "max_budget": 5, "rpm_limit": 10,
            "allowed_model_region": "eu", "budget_duration": "1d"
        }))
        .unwrap_or_default();
        assert_eq!(p.user_id.as_deref(), Some("u1"));
        assert!(!p.budget.is_empty());
        let now = Utc::now();
        let mut b = BudgetRecord::new("b".into(), now);
        p.budget.apply(&mut b, now).expect("valid budget");
        assert_eq!((b.max_budget, b.rpm_limit), (Some(5.0), Some(10)));
        assert!(b.budget_reset_at.is_some_and(|t| t > now));
        let mut e = EndUserRecord::new("u1".into(), now);
        p.apply(&mut e, now).expect("valid end user");
        assert_eq!(e.alias.as_deref(), Some("Acme"));

        let bad: CustomerPatch =
            serde_json::from_value(serde_json::json!({"allowed_model_region": "mars"}))
                .unwrap_or_default();
        assert_eq!(
            bad.apply(&mut e, now).map_err(|e| e.param),
            Err("allowed_model_region")
        );
        let neg: BudgetPatch =
            serde_json::from_value(serde_json::json!({"max_budget": -1})).unwrap_or_default();
        assert!(neg.apply(&mut b, now).is_err());
    }
}
