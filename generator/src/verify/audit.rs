//! The audit trail's checks: the bulk-load window, every financial row's entry, its date and
//! (for a sample) its image.

use sqlx::PgPool;

use super::{part, Part, Report};
use crate::error::{db, Result};

/// The seed's bulk-load window, if it recorded one: closed or not, and its counts.
#[derive(sqlx::FromRow)]
struct Window {
    closed: bool,
    counts: Option<serde_json::Value>,
}

async fn bulk_load_window(run: uuid::Uuid, pool: &PgPool) -> Result<Option<Window>> {
    sqlx::query_as(
        "SELECT closed_at IS NOT NULL AS closed, counts FROM shopbench_meta.bulk_load_windows WHERE run_id = $1",
    )
    .bind(run)
    .fetch_optional(pool)
    .await
    .map_err(db("verify: reading the bulk-load window"))
}

const AUDITED: [&str; 4] = [
    "shop.orders",
    "shop.order_items",
    "shop.payments",
    "shop.payment_transactions",
];

/// The audit log's INSERT entries of one table.
#[derive(sqlx::FromRow)]
pub(super) struct Tally {
    #[sqlx(rename = "table_name")]
    table: String,
    /// Written in this seed's bulk-load window.
    window: i64,
    /// Written in any bulk-load window.
    pub(super) bulk: i64,
    /// Written by the audit triggers (the workloads' writes).
    pub(super) triggered: i64,
}

/// Every table's INSERT entries in the audit log, in one scan of it.
pub(super) async fn audit_tallies(pool: &PgPool, run: uuid::Uuid) -> Result<Vec<Tally>> {
    sqlx::query_as(
        "SELECT table_name, count(*) FILTER (WHERE bulk_load = $1) AS window, \
                count(*) FILTER (WHERE bulk_load IS NOT NULL) AS bulk, \
                count(*) FILTER (WHERE bulk_load IS NULL) AS triggered \
           FROM audit.log WHERE operation = 'INSERT' GROUP BY 1",
    )
    .bind(run)
    .fetch_all(pool)
    .await
    .map_err(db("verify: counting the audit log's entries"))
}

/// The audit trail written as data in the bulk-load window (schema/postgres/0012): the window
/// closed with its counts holding, every financial row with its entry, each entry dated at its
/// row's time and (for a sample of rows no workload has changed since) holding what the trigger
/// would have written: `to_json` of the row, timestamps in UTC.
pub(super) async fn audit_trail<'a>(
    run: uuid::Uuid,
    pool: &'a PgPool,
    tallies: &[Tally],
    parts: &mut Vec<Part<'a>>,
) -> Result<()> {
    let mut r = Report::default();
    let Some(w) = bulk_load_window(run, pool).await? else {
        r.add(
            "bulk-load window",
            false,
            format!("no window {run} recorded"),
        );
        parts.push(part(async move { Ok(r) }));
        return Ok(());
    };
    window_counts(run, &w, tallies, &mut r);
    parts.push(part(async move { Ok(r) }));
    parts.push(part(audited(pool)));
    for table in AUDITED {
        parts.push(part(audit_images(pool, table)));
    }
    Ok(())
}

/// The window closed, and the rows and entries it recorded at its close still there.
fn window_counts(run: uuid::Uuid, w: &Window, tallies: &[Tally], r: &mut Report) {
    r.add("bulk-load window closed", w.closed, format!("window {run}"));
    for table in AUDITED {
        let entries = tallies
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.window);
        let recorded = w.counts.as_ref().map(|c| &c[table]);
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
    }
}

/// Every row of an audited table with its INSERT entry, and every bulk-loaded entry dated at
/// its row's time: the audited tables' rows joined with the log in one query, which reads the
/// log once (a query per table, and another parsing every image for its date, read it five
/// times). An entry whose row has since been deleted has no row to be dated at, and is not
/// counted here.
async fn audited(pool: &PgPool) -> Result<Report> {
    let rows = AUDITED
        .iter()
        .map(|t| format!("SELECT '{t}' AS t, tenant_id, id, created_at FROM {t}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let found: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT x.t, count(*) FILTER (WHERE a.row_id IS NULL), \
                count(*) FILTER (WHERE a.bulk_load IS NOT NULL AND a.logged_at <> x.created_at) \
           FROM ({rows}) x LEFT JOIN audit.log a ON a.table_name = x.t AND a.tenant_id = x.tenant_id \
            AND a.row_id = x.id AND a.operation = 'INSERT' \
          GROUP BY 1"
    ))
    .fetch_all(pool)
    .await
    .map_err(db("verify: joining the audited tables with the audit log"))?;
    let mut r = Report::default();
    for table in AUDITED {
        let missing = found.iter().find(|(t, _, _)| t == table).map_or(0, |f| f.1);
        r.add(
            format!("audited {table}"),
            missing == 0,
            format!("{missing} rows without their audit entry"),
        );
    }
    let misdated: i64 = found.iter().map(|f| f.2).sum();
    r.add(
        "audit entries dated at their rows",
        misdated == 0,
        format!("{misdated} entries dated otherwise"),
    );
    Ok(r)
}

/// A sample of rows never updated since: their entry is to_json of the row (what the trigger
/// writes, migration 0018), compared as jsonb so that entries written before 0018 (to_jsonb's
/// text) pass too.
async fn audit_images(pool: &PgPool, table: &str) -> Result<Report> {
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
    let mut r = Report::default();
    r.add(
        format!("audit entries are their rows {table}"),
        sampled > 0 && same == sampled,
        format!("{same} of {sampled} sampled entries equal their row"),
    );
    Ok(r)
}
