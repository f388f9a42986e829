//! `shopbench verify`: the loaded data against the model. Counts match the plan (recomputed
//! exactly from the recorded configuration); no foreign key has an orphan; order and payment
//! invariants hold; and the distributions (tenant skew, items per order, statuses, declines,
//! returns, the days of the holiday season, the evening peak, abandoned carts, product
//! popularity) match the model's calibrated parameters within sampling tolerance, each printed
//! with its source (calibration.rs). The checks are independent read-only parts, run `jobs` at
//! a time; the report keeps their order.

use std::future::Future;
use std::pin::Pin;

mod audit;
mod distributions;

use audit::{audit_tallies, audit_trail, Tally};
use distributions::{
    calendar_checks, cart_checks, declines, items_per_order, lifecycle_checks, popularity_check,
    tenant_share,
};
use futures::stream::{self, StreamExt, TryStreamExt};
use sqlx::PgPool;

use crate::error::{db, Result};
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

/// What one part of the verification found: its checks, and what the summaries add up.
#[derive(Debug, Default)]
struct Found {
    checks: Vec<Check>,
    /// Rows the workloads wrote (a table's count).
    added: u64,
    /// Rows without their parent (a foreign key's orphans).
    orphans: i64,
}

impl From<Report> for Found {
    fn from(r: Report) -> Self {
        Found {
            checks: r.checks,
            ..Found::default()
        }
    }
}

/// An independent part of the verification: its own queries, on a connection of its own.
type Part<'a> = Pin<Box<dyn Future<Output = Result<Found>> + Send + 'a>>;

/// A part whose checks no summary adds up.
fn part<'a>(f: impl Future<Output = Result<Report>> + Send + 'a) -> Part<'a> {
    Box::pin(async move { f.await.map(Found::from) })
}

/// Every check, `jobs` parts at a time (one connection each: the pool holds `jobs`), the report
/// in the same order whatever finishes first. The parts are read-only queries over different
/// tables or different questions, so they do not wait for one another.
pub async fn verify(
    m: &Model,
    plan: &Plan,
    pool: &PgPool,
    clickhouse: Option<&Target>,
    search: Option<&platform::SecretUrl>,
    jobs: usize,
) -> Result<Report> {
    // What the parts are laid out from: catalog rows, one window row, and the audit log's
    // entries tallied in one scan (the counts and the window's checks both read them).
    let run = crate::fingerprint::run_id(&m.config);
    let fks = foreign_keys(pool).await?;
    let tallies = audit_tallies(pool, run).await?;

    let mut parts: Vec<Part<'_>> = Vec::new();
    if let Some(url) = search {
        parts.push(part(search_index(m, url)));
    }
    parts.push(part(deferred(pool)));
    let counts_start = parts.len();
    for (table, expected) in &plan.rows {
        parts.push(Box::pin(rows(
            m, pool, clickhouse, &tallies, table, *expected,
        )));
    }
    let counts = counts_start..parts.len();
    for fk in &fks {
        parts.push(Box::pin(orphans(pool, fk)));
    }
    let orphan_parts = counts.end..parts.len();
    audit_trail(run, pool, &tallies, &mut parts).await?;
    for (name, sql) in INVARIANTS {
        parts.push(part(async move {
            let n = scalar_i64(pool, sql).await?;
            let mut r = Report::default();
            r.add(name, n == 0, format!("{n} violations"));
            Ok(r)
        }));
    }
    parts.push(part(tenant_share(m, pool)));
    parts.push(part(items_per_order(pool)));
    parts.push(part(declines(pool)));
    parts.push(part(lifecycle_checks(m, pool)));
    parts.push(part(calendar_checks(m, pool)));
    parts.push(part(cart_checks(m, pool, clickhouse)));
    parts.push(part(popularity_check(m, pool)));

    let found: Vec<Found> = stream::iter(parts)
        .buffered(jobs.max(1))
        .try_collect()
        .await?;
    let added: u64 = found[counts.clone()].iter().map(|f| f.added).sum();
    let orphaned: i64 = found[orphan_parts.clone()].iter().map(|f| f.orphans).sum();
    let mut found = found.into_iter();
    let mut r = Report::default();
    r.checks
        .extend(found.by_ref().take(counts.end).flat_map(|f| f.checks));
    if added > 0 {
        r.add(
            "rows written by workloads",
            true,
            format!("{added} rows dated from the seed's as-of day on (orphans and invariants below cover them too)"),
        );
    }
    r.checks.extend(
        found
            .by_ref()
            .take(orphan_parts.len())
            .flat_map(|f| f.checks),
    );
    r.add(
        "orphans",
        orphaned == 0,
        format!("{} foreign keys, {orphaned} orphans", fks.len()),
    );
    r.checks.extend(found.flat_map(|f| f.checks));
    Ok(r)
}

async fn search_index(m: &Model, url: &platform::SecretUrl) -> Result<Report> {
    let docs = crate::load::search::count(url).await?;
    let products = m.profile().products;
    let mut r = Report::default();
    r.add(
        format!("search index {}", crate::load::search::INDEX),
        docs == products,
        format!("{docs} documents of {products} products"),
    );
    Ok(r)
}

async fn deferred(pool: &PgPool) -> Result<Report> {
    let deferred = scalar_i64(pool, "SELECT count(*) FROM shopbench_meta.deferred_objects").await?;
    let mut r = Report::default();
    r.add(
        "indexes and foreign keys rebuilt",
        deferred == 0,
        format!("{deferred} still deferred"),
    );
    Ok(r)
}

/// A table's rows against the plan. The seed's rows are dated before its `as_of` day and a
/// workload's rows at the moment they were written (after it), so the seeded rows are compared
/// with the plan even after a benchmark, and what workloads added is said beside them.
async fn rows(
    m: &Model,
    pool: &PgPool,
    clickhouse: Option<&Target>,
    tallies: &[Tally],
    table: &str,
    expected: u64,
) -> Result<Found> {
    let (actual, added) = if let Some(ch_table) = table.strip_prefix("clickhouse.") {
        match clickhouse {
            Some(t) => {
                crate::load::clickhouse::count_split(t, ch_table, m.config.as_of_us / 1_000_000)
                    .await?
            }
            None => return Ok(Found::default()),
        }
    } else if table == "audit.log" {
        // The plan's audit rows are the financial rows' entries written in the window; the
        // triggers audit the workloads' writes.
        let sum = |f: fn(&Tally) -> i64| tallies.iter().map(f).sum::<i64>() as u64;
        (sum(|t| t.bulk), sum(|t| t.triggered))
    } else {
        crate::load::postgres::count_split(pool, table, m.config.as_of_us).await?
    };
    let mut r = Report::default();
    r.add(
        format!("rows {table}"),
        actual == expected,
        if added > 0 {
            format!("{actual} of {expected} planned, + {added} written by workloads")
        } else {
            format!("{actual} of {expected} planned")
        },
    );
    Ok(Found {
        checks: r.checks,
        added,
        orphans: 0,
    })
}

/// A foreign key of the shop schema, with its columns.
#[derive(sqlx::FromRow)]
struct ForeignKey {
    #[sqlx(rename = "conname")]
    name: String,
    child: String,
    parent: String,
    child_cols: Vec<String>,
    parent_cols: Vec<String>,
}

async fn foreign_keys(pool: &PgPool) -> Result<Vec<ForeignKey>> {
    sqlx::query_as(
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
    .map_err(db("verify: listing foreign keys"))
}

/// A foreign key's orphans: a check only when there are some; the summary counts them all.
async fn orphans(pool: &PgPool, fk: &ForeignKey) -> Result<Found> {
    let not_null = fk
        .child_cols
        .iter()
        .map(|c| format!("c.{c} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let join = fk
        .child_cols
        .iter()
        .zip(&fk.parent_cols)
        .map(|(c, p)| format!("p.{p} = c.{c}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let (child, parent) = (&fk.child, &fk.parent);
    let sql = format!("SELECT count(*) FROM {child} c WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {join})");
    let n = scalar_i64(pool, &sql).await?;
    let mut r = Report::default();
    if n > 0 {
        r.add(
            format!("orphans {}", fk.name),
            false,
            format!("{n} rows of {child} without their {parent}"),
        );
    }
    Ok(Found {
        checks: r.checks,
        added: 0,
        orphans: n,
    })
}

/// Order and payment invariants, each over every row.
const INVARIANTS: [(&str, &str); 6] = [
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
