//! The budget statements of the store (reservations, end users, budgets, resets, leases) as
//! one macro, `budget_sql!`, expanded in each dialect module next to `shared_sql!`. It lives
//! in the store, not in `crate::budget`, so the budget logic and the store's SQL do not import
//! each other.

/// The budget statements (reservations, end users, budgets, resets, leases), expanded inside
/// each dialect module next to `shared_sql!` (same requirements: `Db`, `DbPool`, `Binds`,
/// `RowReader`, `JSON_AS_TEXT`). Every value is bound; only constant table and column names are
/// spliced in.
macro_rules! budget_sql {
    () => {
        use $crate::budget::BudgetScope as __Scope;
        use $crate::schedule::ResetCounts as __ResetCounts;
        use $crate::store::entity::Reader as __Reader;

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
                    let next = match $crate::schedule::next_reset(&duration, now) {
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
