//! Where budget reservations are kept (`general_settings.budget_reservations`): in the database,
//! shared by replicas, or in this replica's memory. A leaf of the app state; the request-path
//! logic is `budget_reserve.rs`.

use litellm_auth::{LocalBudgets, Store};

/// Where reservations are kept.
#[derive(Debug, Clone)]
pub enum Reservations {
    Memory(LocalBudgets),
    Database(Store),
}

impl Reservations {
    /// `general_settings.budget_reservations` (`database` or `memory`), else database on
    /// PostgreSQL and memory otherwise.
    pub fn choose(setting: Option<&str>, store: Option<&Store>) -> Reservations {
        if let Some(other) = setting.filter(|s| !matches!(s.trim(), "memory" | "database")) {
            tracing::warn!(
                value = other,
                "general_settings.budget_reservations must be `database` or `memory`; using the default"
            );
        }
        match (setting.map(str::trim), store) {
            (Some("memory"), _) | (_, None) => Reservations::Memory(LocalBudgets::default()),
            (Some("database"), Some(s)) => Reservations::Database(s.clone()),
            (_, Some(s)) if s.dialect() == litellm_auth::Dialect::Postgres => {
                Reservations::Database(s.clone())
            }
            _ => Reservations::Memory(LocalBudgets::default()),
        }
    }

    /// `"database"` or `"memory"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Reservations::Memory(_) => "memory",
            Reservations::Database(_) => "database",
        }
    }
}
