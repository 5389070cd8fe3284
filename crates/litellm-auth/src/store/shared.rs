//! The SQL both dialects share, written once: the `shared_sql!` statements over
//! [`Entity`]s (`entity.rs`), expanded once inside `sqlite.rs` and once inside `postgres.rs`
//! with that module's concrete sqlx types (so no generic sqlx bounds are needed), and the spend
//! increments a spend-log batch applies. Every value is a bind parameter; only column and table
//! names, which are constants, are spliced into SQL text.

use std::collections::{BTreeMap, HashSet};

use crate::error::AuthError;
use crate::records::{KeyRecord, TeamRecord, UserRecord};
use crate::spend::SpendRecord;

use super::entity::Entity;

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
/// import `sqlx::Row` and define `Db`, `DbPool`, `Binds` (a `Binder` over a `Separated`),
/// `RowReader` (a `Reader` over a row), `JSON_AS_TEXT`, `MAX_BINDS` and `TAG_MATCH` (the SQL around one bound
/// tag that matches spend logs whose `request_tags` contain it).
macro_rules! shared_sql {
    () => {
        use std::collections::HashSet as __HashSet;

        use sqlx::QueryBuilder as __Qb;

        use $crate::error::AuthError as __AuthError;
        use $crate::spend::{SpendLogFilter as __Filter, SpendRecord as __SpendRecord};
        use $crate::store::entity::{
            select_list as __select_list, Binder as __Binder, Entity as __Entity, Take as __Take,
            INSERT_ONLY as __INSERT_ONLY,
        };
        use $crate::store::shared::{
            db_error as __db_error, spend_increments as __spend_increments,
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

        /// Appends ` AND {column} = value` for each `(column, value)` that has a value.
        fn __push_equal(qb: &mut __Qb<'_, Db>, filters: &[(&str, &Option<String>)]) {
            for (col, v) in filters {
                if let Some(v) = v {
                    qb.push(format!(" AND {col} = "));
                    qb.push_bind(v.clone());
                }
            }
        }

        /// Runs a `SELECT COUNT(*)` query: its count.
        async fn __count_rows(pool: &DbPool, mut qb: __Qb<'_, Db>) -> Result<u64, __AuthError> {
            let row = qb.build().fetch_one(pool).await.map_err(__db_error)?;
            let n: i64 = row.try_get(0).map_err(__db_error)?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        /// Ends an UPDATE of `E` with `WHERE {id column} = id` and runs it. Whether the row
        /// existed.
        async fn __update_where_id<E: __Entity>(
            pool: &DbPool,
            mut qb: __Qb<'_, Db>,
            id: &str,
        ) -> Result<bool, __AuthError> {
            qb.push(format!(" WHERE {} = ", E::ID));
            qb.push_bind(id.to_string());
            let res = qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(res.rows_affected() > 0)
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
            qb.push(")");
            __update_where_id::<E>(pool, qb, old_id).await
        }

        /// Sets the spend counter of one row. Returns whether the row existed.
        pub(crate) async fn set_spend<E: __Entity>(
            pool: &DbPool,
            id: &str,
            spend: f64,
        ) -> Result<bool, __AuthError> {
            let mut qb: __Qb<Db> = __Qb::new(format!("UPDATE {} SET spend = ", E::TABLE));
            qb.push_bind(spend);
            __update_where_id::<E>(pool, qb, id).await
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
                    __count_rows(pool, qb).await?
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
            __push_equal(
                &mut qb,
                &[
                    ("api_key_hash", &filter.api_key_hash),
                    ("model_group", &filter.model_group),
                    ("request_id", &filter.request_id),
                    ("user_id", &filter.user_id),
                    ("team_id", &filter.team_id),
                ],
            );
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
}
