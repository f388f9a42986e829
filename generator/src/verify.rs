//! `shopbench verify`: the loaded data against the model. Counts match the plan (recomputed
//! exactly from the recorded configuration); no foreign key has an orphan; order and payment
//! invariants hold; and the distributions (tenant skew, items per order, statuses, declines,
//! returns, the days of the holiday season, the evening peak, abandoned carts, product
//! popularity) match the model's calibrated parameters within sampling tolerance, each printed
//! with its source (calibration.rs).

use sqlx::{PgPool, Row};

use crate::calibration::{self as cal, source_of};
use crate::distribution::{mean, ITEMS_PER_ORDER};
use crate::error::{db, Result};
use crate::lifecycle;
use crate::load::clickhouse::Target;
use crate::model::Model;
use crate::plan::Plan;

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// Where the expected value comes from (a calibrated parameter's source), or empty.
    pub source: &'static str,
}

#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.sourced(name, ok, detail, "");
    }

    /// A check of a calibrated distribution, with the source of the parameter it checks.
    fn sourced(
        &mut self,
        name: impl Into<String>,
        ok: bool,
        detail: impl Into<String>,
        source: &'static str,
    ) {
        self.checks.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
            source,
        });
    }

    pub fn failures(&self) -> usize {
        self.checks.iter().filter(|c| !c.ok).count()
    }
}

async fn scalar_i64(pool: &PgPool, sql: &str) -> Result<i64> {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .map_err(db(format!(
            "verify: {}",
            sql.chars().take(80).collect::<String>()
        )))
}

async fn scalar_f64(pool: &PgPool, sql: &str) -> Result<f64> {
    sqlx::query_scalar::<_, Option<f64>>(sql)
        .fetch_one(pool)
        .await
        .map(|v| v.unwrap_or(0.0))
        .map_err(db(format!(
            "verify: {}",
            sql.chars().take(80).collect::<String>()
        )))
}

/// A share `observed` of `n` trials against `expected`: within 5 standard errors plus 0.5 points.
fn share_ok(observed: f64, expected: f64, n: f64) -> bool {
    let se = (expected * (1.0 - expected) / n.max(1.0)).sqrt();
    (observed - expected).abs() <= 5.0 * se + 0.005
}

pub async fn verify(
    m: &Model,
    plan: &Plan,
    pool: &PgPool,
    clickhouse: Option<&Target>,
    search: Option<&platform::SecretUrl>,
) -> Result<Report> {
    let mut r = Report::default();

    if let Some(url) = search {
        let docs = crate::load::search::count(url).await?;
        let products = m.profile().products;
        r.add(
            format!("search index {}", crate::load::search::INDEX),
            docs == products,
            format!("{docs} documents of {products} products"),
        );
    }

    let deferred = scalar_i64(pool, "SELECT count(*) FROM shopbench_meta.deferred_objects").await?;
    r.add(
        "indexes and foreign keys rebuilt",
        deferred == 0,
        format!("{deferred} still deferred"),
    );

    // Counts. The seed's rows are dated before its `as_of` day and a workload's rows at the
    // moment they were written (after it), so the seeded rows are compared with the plan even
    // after a benchmark, and what workloads added is said beside them.
    let as_of_s = m.config.as_of_us / 1_000_000;
    let mut added_total = 0u64;
    for (table, expected) in &plan.rows {
        let (actual, added) = if let Some(ch_table) = table.strip_prefix("clickhouse.") {
            match clickhouse {
                Some(t) => crate::load::clickhouse::count_split(t, ch_table, as_of_s).await?,
                None => continue,
            }
        } else if table == "audit.log" {
            // The plan's audit rows are the financial rows' entries written in the window; the
            // triggers audit the workloads' writes.
            let seeded = scalar_i64(
                pool,
                "SELECT count(*) FROM audit.log WHERE bulk_load IS NOT NULL AND operation = 'INSERT'",
            )
            .await? as u64;
            let added = scalar_i64(
                pool,
                "SELECT count(*) FROM audit.log WHERE bulk_load IS NULL AND operation = 'INSERT'",
            )
            .await? as u64;
            (seeded, added)
        } else {
            crate::load::postgres::count_split(pool, table, m.config.as_of_us).await?
        };
        added_total += added;
        r.add(
            format!("rows {table}"),
            actual == *expected,
            if added > 0 {
                format!("{actual} of {expected} planned, + {added} written by workloads")
            } else {
                format!("{actual} of {expected} planned")
            },
        );
    }
    if added_total > 0 {
        r.add(
            "rows written by workloads",
            true,
            format!("{added_total} rows dated from the seed's as-of day on (orphans and invariants below cover them too)"),
        );
    }

    // Orphans, for every foreign key of the shop schema.
    let fks = sqlx::query(
        "SELECT con.conname, format('%I.%I', n.nspname, c.relname) AS child, \
                format('%I.%I', pn.nspname, p.relname) AS parent, \
                (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i) \
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS child_cols, \
                (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i) \
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS parent_cols \
           FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace \
          WHERE con.contype = 'f' AND n.nspname = 'shop' AND con.conparentid = 0 AND NOT c.relispartition \
          ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .map_err(db("verify: listing foreign keys"))?;
    let mut orphan_total = 0;
    for fk in &fks {
        let name: String = fk.get("conname");
        let child: String = fk.get("child");
        let parent: String = fk.get("parent");
        let cc: Vec<String> = fk.get("child_cols");
        let pc: Vec<String> = fk.get("parent_cols");
        let not_null = cc
            .iter()
            .map(|c| format!("c.{c} IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let join = cc
            .iter()
            .zip(&pc)
            .map(|(c, p)| format!("p.{p} = c.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!("SELECT count(*) FROM {child} c WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {join})");
        let n = scalar_i64(pool, &sql).await?;
        orphan_total += n;
        if n > 0 {
            r.add(
                format!("orphans {name}"),
                false,
                format!("{n} rows of {child} without their {parent}"),
            );
        }
    }
    r.add(
        "orphans",
        orphan_total == 0,
        format!("{} foreign keys, {orphan_total} orphans", fks.len()),
    );

    audit_trail(m, pool, &mut r).await?;

    // Invariants.
    let invariants: [(&str, &str); 6] = [
        ("order subtotal = sum of its lines",
         "SELECT count(*) FROM shop.orders o LEFT JOIN (SELECT tenant_id, order_id, order_created_at, sum(total_price) AS s \
            FROM shop.order_items GROUP BY 1, 2, 3) i ON (i.tenant_id, i.order_id, i.order_created_at) = (o.tenant_id, o.id, o.created_at) \
          WHERE i.s IS DISTINCT FROM o.subtotal"),
        ("captured payments: captures = amount",
         "SELECT count(*) FROM shop.payments p LEFT JOIN (SELECT tenant_id, payment_id, sum(amount) AS s FROM shop.payment_transactions \
            WHERE transaction_type = 'capture' AND status = 'succeeded' GROUP BY 1, 2) t ON (t.tenant_id, t.payment_id) = (p.tenant_id, p.id) \
          WHERE p.status IN ('captured', 'refunded', 'partially_refunded', 'charged_back') AND t.s IS DISTINCT FROM p.amount"),
        ("refunds never exceed captures",
         "SELECT count(*) FROM (SELECT tenant_id, payment_id, \
            sum(amount) FILTER (WHERE transaction_type = 'refund' AND status = 'succeeded') AS refunded, \
            coalesce(sum(amount) FILTER (WHERE transaction_type = 'capture' AND status = 'succeeded'), 0) AS captured \
            FROM shop.payment_transactions GROUP BY 1, 2) x WHERE refunded > captured"),
        ("refunded payments: refunds = amount",
         "SELECT count(*) FROM shop.payments p LEFT JOIN (SELECT tenant_id, payment_id, sum(amount) AS s FROM shop.payment_transactions \
            WHERE transaction_type = 'refund' AND status = 'succeeded' GROUP BY 1, 2) t ON (t.tenant_id, t.payment_id) = (p.tenant_id, p.id) \
          WHERE p.status = 'refunded' AND t.s IS DISTINCT FROM p.amount"),
        // Set-based (DISTINCT ON) rather than a LATERAL probe per order: a probe cannot prune
        // partitions at plan time and visits every month's index for each of millions of orders.
        ("latest status history = order status",
         "SELECT count(*) FROM shop.orders o LEFT JOIN (SELECT DISTINCT ON (tenant_id, order_id, order_created_at) \
            tenant_id, order_id, order_created_at, status FROM shop.order_status_history \
            ORDER BY tenant_id, order_id, order_created_at, created_at DESC) h \
            ON (h.tenant_id, h.order_id, h.order_created_at) = (o.tenant_id, o.id, o.created_at) \
          WHERE h.status IS DISTINCT FROM o.status"),
        ("shipped and delivered orders have a captured payment",
         "SELECT count(*) FROM shop.orders o WHERE o.status IN ('shipped', 'delivered') AND NOT EXISTS (SELECT 1 FROM shop.payments p \
            WHERE (p.tenant_id, p.order_id, p.order_created_at) = (o.tenant_id, o.id, o.created_at) \
              AND p.status IN ('captured', 'partially_refunded', 'charged_back'))"),
    ];
    for (name, sql) in invariants {
        let n = scalar_i64(pool, sql).await?;
        r.add(name, n == 0, format!("{n} violations"));
    }

    // Distributions against the model's parameters.
    let orders = scalar_i64(pool, "SELECT count(*) FROM shop.orders")
        .await?
        .max(1) as f64;
    let top_n = (m.tenants.len() as f64 / 10.0).ceil() as usize;
    let expected_top: f64 = m.tenants.iter().take(top_n).map(|t| t.users).sum::<u64>() as f64
        / m.profile().users as f64;
    let top_ids: Vec<uuid::Uuid> = m.tenants.iter().take(top_n).map(|t| t.id).collect();
    let top_users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shop.users WHERE tenant_id = ANY($1)")
            .bind(&top_ids)
            .fetch_one(pool)
            .await
            .map_err(db("verify: tenant share"))?;
    let top_share = top_users as f64 / m.profile().users as f64;
    r.add(
        format!("top 10% of tenants ({top_n}) hold their share of customers"),
        (top_share - expected_top).abs() < 1e-9,
        format!(
            "{:.1}% (model {:.1}%)",
            100.0 * top_share,
            100.0 * expected_top
        ),
    );
    let top_orders: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shop.orders WHERE tenant_id = ANY($1)")
            .bind(&top_ids)
            .fetch_one(pool)
            .await
            .map_err(db("verify: tenant order share"))?;
    let order_share = top_orders as f64 / orders;
    // Orders follow customers, give or take the Pareto tail of heavy buyers.
    r.add(
        "top 10% of tenants: their share of orders",
        (order_share - expected_top).abs() <= 0.15,
        format!(
            "{:.1}% (model: their customers' share, {:.1}%)",
            100.0 * order_share,
            100.0 * expected_top
        ),
    );

    let items = scalar_f64(pool, "SELECT avg(n)::float8 FROM (SELECT count(*) AS n FROM shop.order_items GROUP BY tenant_id, order_id) x").await?;
    let expected_items = mean(&ITEMS_PER_ORDER);
    let sd = 1.3;
    r.add(
        "items per order",
        (items - expected_items).abs() <= 5.0 * sd / orders.sqrt() + 0.05,
        format!("{items:.2} (model {expected_items:.2})"),
    );

    lifecycle_checks(m, pool, &mut r).await?;
    calendar_checks(m, pool, &mut r).await?;
    cart_checks(m, pool, clickhouse, &mut r).await?;
    popularity_check(m, pool, &mut r).await?;
    Ok(r)
}

/// The audit trail written as data in the bulk-load window (schema/postgres/0012): the window
/// closed with its counts holding, every financial row with its entry, each entry dated at its
/// row's time and (for a sample of rows no workload has changed since) holding what the trigger
/// would have written: `to_json` of the row, timestamps in UTC.
async fn audit_trail(m: &Model, pool: &PgPool, r: &mut Report) -> Result<()> {
    const AUDITED: [&str; 4] = [
        "shop.orders",
        "shop.order_items",
        "shop.payments",
        "shop.payment_transactions",
    ];
    let run = crate::fingerprint::run_id(&m.config);
    let window = sqlx::query(
        "SELECT closed_at IS NOT NULL AS closed, counts FROM shopbench_meta.bulk_load_windows WHERE run_id = $1",
    )
    .bind(run)
    .fetch_optional(pool)
    .await
    .map_err(db("verify: reading the bulk-load window"))?;
    let Some(window) = window else {
        r.add(
            "bulk-load window",
            false,
            format!("no window {run} recorded"),
        );
        return Ok(());
    };
    let closed: bool = window.get("closed");
    let counts: Option<serde_json::Value> = window.get("counts");
    r.add("bulk-load window closed", closed, format!("window {run}"));
    let per_table: Vec<(String, i64)> = sqlx::query_as(
        "SELECT table_name, count(*) FROM audit.log WHERE bulk_load = $1 AND operation = 'INSERT' GROUP BY 1",
    )
    .bind(run)
    .fetch_all(pool)
    .await
    .map_err(db("verify: counting bulk audit entries"))?;
    for table in AUDITED {
        let entries = per_table
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n);
        let recorded = counts.as_ref().map(|c| &c[table]);
        let (rows, audited) = (
            recorded.and_then(|c| c["rows"].as_i64()),
            recorded.and_then(|c| c["audited"].as_i64()),
        );
        r.add(
            format!("window counts {table}"),
            audited == Some(entries) && rows == Some(entries),
            format!(
                "recorded at the close: {} rows, {} entries; {entries} entries now",
                rows.map_or("?".into(), |n| n.to_string()),
                audited.map_or("?".into(), |n| n.to_string())
            ),
        );
        let missing = scalar_i64(
            pool,
            &format!(
                "SELECT count(*) FROM {table} x WHERE NOT EXISTS (SELECT 1 FROM audit.log a \
                  WHERE a.tenant_id = x.tenant_id AND a.table_name = '{table}' AND a.row_id = x.id \
                    AND a.operation = 'INSERT')"
            ),
        )
        .await?;
        r.add(
            format!("audited {table}"),
            missing == 0,
            format!("{missing} rows without their audit entry"),
        );
        // A sample of rows never updated since: their entry is to_json of the row (what the
        // trigger writes, migration 0018), compared as jsonb so that entries written before 0018
        // (to_jsonb's text) pass too.
        let mut tx = pool.begin().await.map_err(db("verify: a transaction"))?;
        sqlx::query("SET LOCAL TimeZone = 'UTC'")
            .execute(&mut *tx)
            .await
            .map_err(db("verify: setting the time zone"))?;
        let (same, sampled): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*) FILTER (WHERE a.new_row::jsonb = to_jsonb(x)), count(*) \
               FROM (SELECT * FROM {table} LIMIT 500) x \
               JOIN audit.log a ON a.tenant_id = x.tenant_id AND a.table_name = '{table}' \
                AND a.row_id = x.id AND a.operation = 'INSERT' AND a.bulk_load IS NOT NULL \
              WHERE NOT EXISTS (SELECT 1 FROM audit.log u WHERE u.tenant_id = x.tenant_id \
                AND u.table_name = '{table}' AND u.row_id = x.id AND u.operation = 'UPDATE')"
        ))
        .fetch_one(&mut *tx)
        .await
        .map_err(db("verify: comparing audit entries with their rows"))?;
        tx.commit().await.map_err(db("verify: a transaction"))?;
        r.add(
            format!("audit entries are their rows {table}"),
            sampled > 0 && same == sampled,
            format!("{same} of {sampled} sampled entries equal their row"),
        );
    }
    let misdated = scalar_i64(
        pool,
        "SELECT count(*) FROM audit.log WHERE bulk_load IS NOT NULL AND operation = 'INSERT' \
          AND logged_at <> (new_row->>'created_at')::timestamptz",
    )
    .await?;
    r.add(
        "audit entries dated at their rows",
        misdated == 0,
        format!("{misdated} entries dated otherwise"),
    );
    Ok(())
}

/// `created_at < to_timestamp(…)` for rows older than `days` before the seed's end.
fn older_than(m: &Model, days: i64) -> String {
    format!(
        "created_at < to_timestamp({})",
        (m.config.as_of_us - days * crate::model::DAY_US) / 1_000_000
    )
}

/// Orders matching `filter` (at least 1, a denominator).
async fn count_orders(pool: &PgPool, filter: &str) -> Result<f64> {
    Ok(scalar_i64(
        pool,
        &format!("SELECT count(*) FROM shop.orders WHERE {filter}"),
    )
    .await?
    .max(1) as f64)
}

/// Declines, cancellations and returns of orders old enough to have run their course.
async fn lifecycle_checks(m: &Model, pool: &PgPool, r: &mut Report) -> Result<()> {
    let payments = scalar_i64(pool, "SELECT count(*) FROM shop.payments")
        .await?
        .max(1) as f64;
    let first_attempts_declined = scalar_f64(pool,
        "SELECT (count(*) FILTER (WHERE status = 'failed'))::float8 / greatest(count(*), 1) FROM \
           (SELECT DISTINCT ON (tenant_id, order_id) status FROM shop.payments ORDER BY tenant_id, order_id, created_at) first").await?;
    r.sourced(
        "first payment attempts declined",
        share_ok(first_attempts_declined, lifecycle::DECLINE_RATE, payments),
        format!(
            "{:.1}% (model {:.1}%)",
            100.0 * first_attempts_declined,
            100.0 * lifecycle::DECLINE_RATE
        ),
        source_of("first payment attempts declined"),
    );

    let old = older_than(m, 90);
    let old_orders = count_orders(pool, &old).await?;
    let cancelled = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE status = 'cancelled'))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {old}")).await?;
    let retry = lifecycle::RETRY_DECLINE_RATE;
    let expected_cancel = lifecycle::CANCEL_RATE * (1.0 - lifecycle::DECLINE_RATE * retry * retry)
        + lifecycle::DECLINE_RATE * retry * retry;
    r.sourced(
        "orders older than 90 days cancelled",
        share_ok(cancelled, expected_cancel, old_orders),
        format!(
            "{:.2}% (model {:.2}%)",
            100.0 * cancelled,
            100.0 * expected_cancel
        ),
        source_of("orders cancelled after payment"),
    );
    // Returns: orders placed in the holiday season are returned HOLIDAY_RETURN_FACTOR as often.
    let season_share = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE extract(month FROM created_at AT TIME ZONE 'UTC') >= 11))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {old}")).await?;
    let season = 1.0 + (lifecycle::HOLIDAY_RETURN_FACTOR - 1.0) * season_share;
    let refunded = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE status = 'refunded'))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {old}")).await?;
    let expected_refund = lifecycle::REFUND_RATE * season * (1.0 - expected_cancel);
    r.sourced(
        "orders older than 90 days refunded in full",
        share_ok(refunded, expected_refund, old_orders),
        format!(
            "{:.2}% (model {:.2}%, {:.1}% of them placed in a holiday season)",
            100.0 * refunded,
            100.0 * expected_refund,
            100.0 * season_share
        ),
        source_of("delivered orders returned in full"),
    );
    // The returned share of sales value: refunds over captures of the old orders' payments. The
    // tolerance widens with the spread of order values (a value-weighted share).
    let row = sqlx::query(&format!(
        "SELECT coalesce(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0)::float8 AS refunded, \
                coalesce(sum(t.amount) FILTER (WHERE t.transaction_type = 'capture'), 0)::float8 AS captured, \
                (SELECT count(*) FROM shop.payments p WHERE p.order_{old} AND p.status IN ('captured', 'refunded', 'partially_refunded', 'charged_back'))::float8 AS n, \
                (SELECT coalesce(stddev(amount) / nullif(avg(amount), 0), 0) FROM shop.payments p WHERE p.order_{old} AND p.status IN ('captured', 'refunded', 'partially_refunded', 'charged_back'))::float8 AS cv \
           FROM shop.payment_transactions t JOIN shop.payments p ON (p.tenant_id, p.id) = (t.tenant_id, t.payment_id) \
          WHERE p.order_{old} AND t.status = 'succeeded'"
    ))
    .fetch_one(pool)
    .await
    .map_err(db("verify: returned share of sales"))?;
    let (refunded_value, captured_value, n, cv): (f64, f64, f64, f64) = (
        row.get("refunded"),
        row.get("captured"),
        row.get("n"),
        row.get("cv"),
    );
    let share = refunded_value / captured_value.max(1.0);
    let expected = cal::RETURNED_VALUE_SHARE;
    // The model is calibrated to the figure within a point (lifecycle.rs test), plus sampling.
    let tolerance =
        0.01 + 5.0 * (expected * (1.0 - expected) * (1.0 + cv * cv) / n.max(1.0)).sqrt();
    r.sourced(
        "returned share of sales (orders older than 90 days)",
        (share - expected).abs() <= tolerance,
        format!(
            "{:.1}% of captured value refunded (published {:.1}%, tolerance ±{:.1} points)",
            100.0 * share,
            100.0 * expected,
            100.0 * tolerance
        ),
        source_of("returned share of sales"),
    );
    let stale = scalar_i64(pool, &format!("SELECT count(*) FROM shop.orders WHERE {old} AND status IN ('pending', 'paid', 'processing')")).await?;
    r.add(
        "old orders are not left pending",
        stale == 0,
        format!("{stale} old orders pending, paid or processing"),
    );
    Ok(())
}

/// Orders per day of the holiday season against ordinary October days, pooled over every season
/// in the history, and the evening peak's share of orders.
async fn calendar_checks(m: &Model, pool: &PgPool, r: &mut Report) -> Result<()> {
    use chrono::{Datelike, NaiveDate};
    let first = chrono::DateTime::from_timestamp_micros(m.history.start_us())
        .expect("valid time")
        .date_naive();
    let last = chrono::DateTime::from_timestamp_micros(m.config.as_of_us)
        .expect("valid time")
        .date_naive();
    let day_us = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_micros()
    };
    // The model's weight of a day: the sum of its hours' weights.
    let weight = |d: NaiveDate| -> f64 {
        let h0 = ((day_us(d) - m.history.start_us()) / 3_600_000_000) as usize;
        (h0..h0 + 24).map(|h| m.history.hour_weight(h)).sum()
    };
    let mut named: Vec<(&str, &str, Vec<NaiveDate>)> = vec![
        ("Cyber Monday", "Cyber Monday (the peak day)", vec![]),
        ("Black Friday", "Black Friday", vec![]),
        ("Thanksgiving", "Thanksgiving", vec![]),
    ];
    let mut october = Vec::new();
    for year in first.year()..=last.year() {
        let week = crate::timeline::CyberWeek::of(year);
        // Four whole weeks of October (every weekday the same number of times), all in the history.
        let oct: Vec<NaiveDate> = (0..28)
            .map(|d| {
                NaiveDate::from_ymd_opt(year, 10, 4).expect("date") + chrono::Duration::days(d)
            })
            .collect();
        if oct[0] <= first || week.cyber_monday >= last {
            continue;
        }
        october.extend(oct);
        named[0].2.push(week.cyber_monday);
        named[1].2.push(week.black_friday);
        named[2].2.push(week.thanksgiving);
    }
    if october.is_empty() {
        r.add(
            "holiday season days",
            true,
            "no whole season in the history: nothing to compare",
        );
    } else {
        let count_days = |days: &[NaiveDate]| -> String {
            days.iter()
                .map(|d| {
                    format!(
                        "(created_at >= to_timestamp({}) AND created_at < to_timestamp({}))",
                        day_us(*d) / 1_000_000,
                        day_us(*d) / 1_000_000 + 86_400
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let ordinary = scalar_i64(
            pool,
            &format!(
                "SELECT count(*) FROM shop.orders WHERE {}",
                count_days(&october)
            ),
        )
        .await? as f64;
        let ordinary_weight: f64 = october.iter().map(|d| weight(*d)).sum();
        let ordinary_expected = expected_orders(m, &october);
        for (label, parameter, days) in &named {
            let observed = scalar_i64(
                pool,
                &format!(
                    "SELECT count(*) FROM shop.orders WHERE {}",
                    count_days(days)
                ),
            )
            .await? as f64;
            let days_weight: f64 = days.iter().map(|d| weight(*d)).sum();
            // Per day against October's mean day; what the model expects (the traffic curve, and
            // customers who signed up since October buying too); the traffic curve alone.
            let per_day = |n: f64, days: usize| n / days as f64;
            let ratio = per_day(observed, days.len()) / per_day(ordinary, october.len()).max(1e-9);
            let expected = per_day(expected_orders(m, days), days.len())
                / per_day(ordinary_expected, october.len());
            let curve = per_day(days_weight, days.len()) / per_day(ordinary_weight, october.len());
            // Both counts are Poisson: the ratio's relative error is sqrt(1/a + 1/b).
            let rel = (1.0 / observed.max(1.0) + 1.0 / ordinary.max(1.0)).sqrt();
            r.sourced(
                format!("{label}: orders against an October day"),
                (ratio / expected - 1.0).abs() <= 5.0 * rel + 0.02,
                format!(
                    "{ratio:.2}× ({observed:.0} orders over {} seasons; model {expected:.2}×, the traffic curve alone {curve:.2}×)",
                    days.len()
                ),
                source_of(parameter),
            );
        }
    }

    // The evening peak: the share of orders placed 20:00–22:00 against the model's.
    let (a, b) = cal::EVENING_PEAK_HOURS;
    let mut peak_weight = 0.0;
    let mut all_weight = 0.0;
    for h in 0..m.history.hours() {
        let w = m.history.hour_weight(h);
        let hour = (h + (m.history.start_us() / 3_600_000_000) as usize) % 24;
        all_weight += w;
        if (a..b).contains(&hour) {
            peak_weight += w;
        }
    }
    let expected = peak_weight / all_weight;
    let seeded = older_than(m, 0);
    let orders = count_orders(pool, &seeded).await?;
    let share = scalar_f64(pool, &format!("SELECT (count(*) FILTER (WHERE extract(hour FROM created_at AT TIME ZONE 'UTC') >= {a} AND extract(hour FROM created_at AT TIME ZONE 'UTC') < {b}))::float8 / greatest(count(*), 1) FROM shop.orders WHERE {seeded}")).await?;
    let per_hour_mean = 1.0 / 24.0;
    r.sourced(
        format!("evening peak {a}:00–{b}:00 share of orders"),
        share_ok(share, expected, orders),
        format!(
            "{:.2}% = {:.2}× the day's mean rate (model {:.2}%, {:.2}×)",
            100.0 * share,
            share / (b - a) as f64 / per_hour_mean,
            100.0 * expected,
            expected / (b - a) as f64 / per_hour_mean
        ),
        source_of("evening peak, 20:00–22:00"),
    );
    Ok(())
}

/// The expected number of orders placed on `days`: each customer's orders are drawn from the
/// traffic curve after their sign-up, so a day's expectation is the sum over customers of their
/// order count times that day's share of the curve after their sign-up.
fn expected_orders(m: &Model, days: &[chrono::NaiveDate]) -> f64 {
    let bounds: Vec<(i64, i64)> = days
        .iter()
        .map(|d| {
            let start = d
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_micros();
            (start, start + crate::model::DAY_US)
        })
        .collect();
    let mut total = 0.0;
    for u in 0..m.profile().users {
        let n = m.user_orders(u).count() as f64;
        if n == 0.0 {
            continue;
        }
        let created = m.user_created_us(u);
        let before = m.history.cdf(created);
        let remaining = 1.0 - before;
        if remaining <= 0.0 {
            continue;
        }
        for &(a, b) in &bounds {
            if b <= created {
                continue;
            }
            let share = m.history.cdf(b) - m.history.cdf(a.max(created));
            total += n * share / remaining;
        }
    }
    total
}

/// The share of `carts` that never reached an order, in `store`'s events, against the model's.
fn abandonment(r: &mut Report, store: &str, carts: u64, ordered: u64, source: &'static str) {
    let share = 1.0 - ordered as f64 / (carts as f64).max(1.0);
    r.sourced(
        format!("carts abandoned ({store} events)"),
        share_ok(share, cal::CART_ABANDONMENT, carts as f64),
        format!(
            "{:.1}% of {carts} carts without an order (model {:.1}%)",
            100.0 * share,
            100.0 * cal::CART_ABANDONMENT
        ),
        source,
    );
}

/// Abandoned carts: sessions with a cart and no checkout, in ClickHouse (with their page views)
/// and in PostgreSQL's events.
async fn cart_checks(
    m: &Model,
    pool: &PgPool,
    clickhouse: Option<&Target>,
    r: &mut Report,
) -> Result<()> {
    let source = source_of("carts abandoned");
    let as_of_s = m.config.as_of_us / 1_000_000;
    let row = sqlx::query(&format!(
        "SELECT count(*) FILTER (WHERE cart) AS carts, count(*) FILTER (WHERE cart AND ordered) AS ordered \
           FROM (SELECT session_id, bool_or(event_type = 'cart.add') AS cart, bool_or(event_type = 'checkout.complete') AS ordered \
                   FROM shop.events WHERE created_at < to_timestamp({as_of_s}) GROUP BY session_id) s"
    ))
    .fetch_one(pool)
    .await
    .map_err(db("verify: carts in the events"))?;
    let (carts, ordered): (i64, i64) = (row.get("carts"), row.get("ordered"));
    abandonment(r, "PostgreSQL", carts as u64, ordered as u64, source);
    if let Some(t) = clickhouse {
        let (carts, ordered, abandoned, with_views) =
            crate::load::clickhouse::carts(t, as_of_s).await?;
        abandonment(r, "ClickHouse", carts, ordered, source);
        r.add(
            "abandoned carts leave page views (ClickHouse)",
            with_views == abandoned,
            format!("{with_views} of {abandoned} abandoned carts' sessions have page views"),
        );
    }
    Ok(())
}

/// Product popularity in the largest tenant: the share of order lines on the top 1% of ranks
/// against Zipf with the seed's θ.
async fn popularity_check(m: &Model, pool: &PgPool, r: &mut Report) -> Result<()> {
    let t = &m.tenants[0];
    let theta = m.config.product_zipf;
    let k = (t.products / 100).max(1);
    let h = |n: u64| (1..=n).map(|i| (i as f64).powf(-theta)).sum::<f64>();
    let expected_top_products = h(k) / h(t.products);
    let top_products: Vec<uuid::Uuid> = (0..k)
        .map(|r| m.product_id(m.product_by_rank(t, r)))
        .collect();
    let row = sqlx::query(
        "SELECT count(*) FILTER (WHERE product_id = ANY($2)) AS top, count(*) AS all_items FROM shop.order_items WHERE tenant_id = $1",
    )
    .bind(t.id)
    .bind(&top_products)
    .fetch_one(pool)
    .await
    .map_err(db("verify: product popularity"))?;
    let (top, all): (i64, i64) = (row.get("top"), row.get("all_items"));
    let observed = top as f64 / all.max(1) as f64;
    // Distinct products per order make the top ranks slightly less frequent than independent draws.
    r.sourced(
        format!("top 1% of products ({k}) in the largest tenant"),
        observed <= expected_top_products + 0.02 && observed >= expected_top_products * 0.7 - 0.02,
        format!(
            "{:.1}% of its order lines (Zipf θ {theta:.2}: {:.1}%)",
            100.0 * observed,
            100.0 * expected_top_products
        ),
        source_of("product popularity exponent θ (default; seed --product-zipf)"),
    );
    Ok(())
}
