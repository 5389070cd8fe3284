//! The report and retention statements as one macro, `reports_sql!`: the `daily_spend` and
//! `daily_tag_spend` upserts run inside every spend-log transaction, the grouped report query,
//! and the bounded spend-log delete. It is expanded in each dialect module next to
//! `shared_sql!`, and is a leaf: the [`Store`](super::Store) methods that dispatch to it live in
//! `reports.rs`, so the dialects and the dispatch do not import each other.

/// The report statements, expanded inside each dialect module (which defines `Db`, `DbPool`,
/// `Binds`, `RowReader` and `MAX_BINDS`, and expands `shared_sql!` first).
macro_rules! reports_sql {
    () => {
        use $crate::reports::{
            DailyOrder as __RepOrder, DailyQuery as __RepQuery, DailySpendRow as __RepRow,
            Dimension as __RepDim,
        };
        use $crate::store::entity::{Binder as __RepBinder, Reader as __RepReader};

        /// The measures of `daily_spend`, in bind order.
        const __REP_MEASURES: [&str; 8] = [
            "spend",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "api_requests",
            "successful_requests",
            "failed_requests",
            "cache_hits",
        ];

        /// Adds a batch's daily increments to `daily_spend`, and its tagged calls' to
        /// `daily_tag_spend`, inside the batch's transaction.
        pub(crate) async fn upsert_daily_spend(
            tx: &mut sqlx::Transaction<'_, Db>,
            records: &[__SpendRecord],
            inserted: &__HashSet<String>,
        ) -> Result<(), __AuthError> {
            let rows = $crate::reports::daily_increments(records, inserted);
            __rep_upsert(tx, "daily_spend", &__RepDim::ALL, &rows).await?;
            let tagged = $crate::reports::daily_tag_increments(records, inserted);
            let mut dims = vec![__RepDim::Tag];
            dims.extend(__RepDim::ALL);
            __rep_upsert(tx, "daily_tag_spend", &dims, &tagged).await
        }

        /// Upserts aggregate `rows` into `table` (whose primary key is `dims`).
        async fn __rep_upsert(
            tx: &mut sqlx::Transaction<'_, Db>,
            table: &str,
            dims: &[__RepDim],
            rows: &[__RepRow],
        ) -> Result<(), __AuthError> {
            let columns: Vec<&str> = dims.iter().map(|d| d.column()).collect();
            let width = columns.len() + __REP_MEASURES.len();
            let updates: Vec<String> = __REP_MEASURES
                .iter()
                .map(|m| format!("{m} = {table}.{m} + excluded.{m}"))
                .collect();
            for chunk in rows.chunks((MAX_BINDS / width).max(1)) {
                let mut qb: __Qb<Db> = __Qb::new(format!(
                    "INSERT INTO {table} ({}, {}) ",
                    columns.join(", "),
                    __REP_MEASURES.join(", ")
                ));
                qb.push_values(chunk, |s, r| {
                    let mut b = Binds(s);
                    for d in dims {
                        __RepBinder::text(&mut b, Some(r.get(*d).to_string()));
                    }
                    let m = &r.metrics;
                    __RepBinder::real(&mut b, Some(m.spend));
                    for v in [
                        m.prompt_tokens,
                        m.completion_tokens,
                        m.total_tokens,
                        m.api_requests,
                        m.successful_requests,
                        m.failed_requests,
                        m.cache_hits,
                    ] {
                        __RepBinder::int(&mut b, Some(v));
                    }
                });
                qb.push(format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    columns.join(", "),
                    updates.join(", ")
                ));
                qb.build().execute(&mut **tx).await.map_err(__db_error)?;
            }
            Ok(())
        }

        fn __rep_where(qb: &mut __Qb<'_, Db>, q: &__RepQuery) {
            let f = &q.filter;
            qb.push(" WHERE 1 = 1");
            let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
            if let Some(d) = f.start_date {
                qb.push(" AND date >= ");
                qb.push_bind(day(d));
            }
            if let Some(d) = f.end_date {
                qb.push(" AND date <= ");
                qb.push_bind(day(d));
            }
            __push_equal(
                qb,
                &[
                    ("api_key_hash", &f.api_key_hash),
                    ("user_id", &f.user_id),
                    ("team_id", &f.team_id),
                    ("end_user", &f.end_user),
                    ("custom_llm_provider", &f.provider),
                ],
            );
            if let Some(m) = &f.model {
                qb.push(" AND (model = ");
                qb.push_bind(m.clone());
                qb.push(" OR model_group = ");
                qb.push_bind(m.clone());
                qb.push(")");
            }
            if let Some(tags) = &f.tags {
                if tags.is_empty() {
                    qb.push(" AND 1 = 0");
                } else {
                    qb.push(" AND ");
                    __push_in(qb, "tag", tags);
                }
            }
        }

        /// The table a report query reads.
        fn __rep_table(q: &__RepQuery) -> &'static str {
            if q.reads_tags() {
                "daily_tag_spend"
            } else {
                "daily_spend"
            }
        }

        /// The groups of `daily_spend` a report asks for, and how many there are.
        pub(crate) async fn daily_spend(
            pool: &DbPool,
            q: &__RepQuery,
        ) -> Result<(Vec<__RepRow>, u64), __AuthError> {
            let dims: Vec<&str> = q.group_by.iter().map(|d| d.column()).collect();
            let mut select: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            select.push("COALESCE(SUM(spend), 0.0) AS m_spend".to_string());
            for m in &__REP_MEASURES[1..] {
                select.push(format!("COALESCE(CAST(SUM({m}) AS BIGINT), 0) AS m_{m}"));
            }
            select.push("MIN(date) AS m_first_date".to_string());
            select.push("MAX(date) AS m_last_date".to_string());
            let table = __rep_table(q);
            let group = if dims.is_empty() {
                String::new()
            } else {
                format!(" GROUP BY {}", dims.join(", "))
            };
            let mut qb: __Qb<Db> = __Qb::new(format!("SELECT {} FROM {table}", select.join(", ")));
            __rep_where(&mut qb, q);
            qb.push(&group);
            let mut order: Vec<String> = Vec::new();
            if q.order == __RepOrder::DateDesc && q.group_by.contains(&__RepDim::Date) {
                order.push("date DESC".to_string());
            }
            order.push("m_spend DESC".to_string());
            order.extend(dims.iter().filter(|d| **d != "date").map(|d| d.to_string()));
            qb.push(format!(" ORDER BY {}", order.join(", ")));
            if let Some(limit) = q.limit {
                qb.push(" LIMIT ");
                qb.push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
                qb.push(" OFFSET ");
                qb.push_bind(i64::try_from(q.offset).unwrap_or(i64::MAX));
            }
            let rows = qb.build().fetch_all(pool).await.map_err(__db_error)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let r = RowReader(row);
                let mut item = __RepRow::default();
                for d in &q.group_by {
                    let v = __RepReader::text(&r, d.column())?.unwrap_or_default();
                    item.set(*d, v);
                }
                let int = |c: &str| -> Result<i64, __AuthError> {
                    Ok(__RepReader::int(&r, c)?.unwrap_or(0))
                };
                item.metrics.spend = __RepReader::real(&r, "m_spend")?.unwrap_or(0.0);
                item.metrics.prompt_tokens = int("m_prompt_tokens")?;
                item.metrics.completion_tokens = int("m_completion_tokens")?;
                item.metrics.total_tokens = int("m_total_tokens")?;
                item.metrics.api_requests = int("m_api_requests")?;
                item.metrics.successful_requests = int("m_successful_requests")?;
                item.metrics.failed_requests = int("m_failed_requests")?;
                item.metrics.cache_hits = int("m_cache_hits")?;
                item.first_date = __RepReader::text(&r, "m_first_date")?.unwrap_or_default();
                item.last_date = __RepReader::text(&r, "m_last_date")?.unwrap_or_default();
                out.push(item);
            }
            let total = match q.limit {
                None => out.len() as u64,
                Some(_) if dims.is_empty() => 1,
                Some(_) => {
                    let mut qb: __Qb<Db> = __Qb::new(format!(
                        "SELECT COUNT(*) FROM (SELECT {} FROM {table}",
                        dims.join(", ")
                    ));
                    __rep_where(&mut qb, q);
                    qb.push(&group);
                    qb.push(") AS g");
                    __count_rows(pool, qb).await?
                }
            };
            Ok((out, total))
        }

        /// Deletes at most `batch` spend logs older than `cutoff`; returns how many.
        pub(crate) async fn delete_spend_logs_before(
            pool: &DbPool,
            cutoff: chrono::DateTime<chrono::Utc>,
            batch: i64,
        ) -> Result<u64, __AuthError> {
            let mut qb: __Qb<Db> = __Qb::new(
                "DELETE FROM spend_logs WHERE request_id IN \
                 (SELECT request_id FROM spend_logs WHERE start_time < ",
            );
            __RepBinder::time(&mut Binds(qb.separated("")), Some(cutoff));
            qb.push(" LIMIT ");
            qb.push_bind(batch);
            qb.push(")");
            let res = qb.build().execute(pool).await.map_err(__db_error)?;
            Ok(res.rows_affected())
        }
    };
}

pub(crate) use reports_sql;
