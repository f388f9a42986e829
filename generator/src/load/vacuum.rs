//! The VACUUM that ends the PostgreSQL part of a seed, as `pgbench -i` ends its load: every
//! table the seed loaded (each partition, the materialized view) gets its visibility map and hint
//! bits set now, at full speed, rather than by autovacuum after the seed.
//!
//! Why: every partition the load filled is over autovacuum's insert threshold, so without this
//! autovacuum vacuums all of them once the seed is done, throttled by its cost limit, against
//! the user's first benchmark (the whole database at `small` within a minute of the seed; at a
//! scale larger than `shared_buffers`, every page read from disk and dirtied, minutes to hours).
//! Until then index-only scans visit the heap. VACUUM needs the tables' owner, so it runs on the
//! administrator's connection (a member of `shopbench_owner`, as the migrations need), never
//! the loader's: the loader gets no more privilege for it.
//!
//! Safe to repeat: a resumed seed vacuums again, and pages already all-visible are skipped.

use futures::TryFutureExt;
use sqlx::PgPool;

use crate::error::{db, Result};

/// What [`vacuum`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Vacuumed {
    /// `tables` tables (partitions and the materialized view) of `bytes` in all.
    Done { tables: usize, bytes: u64 },
    /// The connection may not vacuum the seed's tables (`user` is neither a superuser nor a
    /// member of `shopbench_owner`); autovacuum will, after the seed.
    NotOwner { user: String },
}

/// Every table a seed fills, largest first: the partitions and plain tables of `shop` and
/// `audit`, and `shop`'s materialized view.
async fn tables(admin: &PgPool) -> Result<Vec<(String, u64)>> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT format('%I.%I', n.nspname, c.relname), pg_table_size(c.oid) \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
          WHERE n.nspname IN ('shop', 'audit') AND c.relkind IN ('r', 'm') \
          ORDER BY 2 DESC, 1",
    )
    .fetch_all(admin)
    .await
    .map(|rows| rows.into_iter().map(|(t, b)| (t, b as u64)).collect())
    .map_err(db("listing the tables to vacuum"))
}

/// VACUUMs every table the seed loaded as the user of `url`, on `jobs` connections, each step
/// tried again (through `retrying_when_gone`) when its server goes away.
pub async fn vacuum(
    url: &platform::SecretUrl,
    jobs: usize,
    warn: &(dyn Fn(&str) + Sync),
) -> Result<Vacuumed> {
    let admin =
        super::retrying_when_gone(warn, |_| super::postgres::connect(url, jobs as u32)).await?;
    let vacuumed = vacuum_on(&admin, jobs, warn).await;
    admin.close().await;
    vacuumed
}

async fn vacuum_on(admin: &PgPool, jobs: usize, warn: &(dyn Fn(&str) + Sync)) -> Result<Vacuumed> {
    let (user, allowed): (String, bool) = super::retrying_when_gone(warn, |_| {
        sqlx::query_as(
            "SELECT current_user::text, \
                    rolsuper OR pg_has_role(current_user, 'shopbench_owner', 'USAGE') \
               FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(admin)
        .map_err(db("checking who may vacuum"))
    })
    .await?;
    if !allowed {
        return Ok(Vacuumed::NotOwner { user });
    }
    let todo = super::retrying_when_gone(warn, |_| tables(admin)).await?;
    let summary = Vacuumed::Done {
        tables: todo.len(),
        bytes: todo.iter().map(|(_, b)| b).sum(),
    };
    super::parallel(todo, jobs, |(table, _)| async move {
        let sql = format!("VACUUM {table}");
        super::retrying_when_gone(warn, |_| async {
            // One statement by the simple protocol: VACUUM refuses a transaction block.
            sqlx::raw_sql(&sql)
                .execute(admin)
                .await
                .map(|_| ())
                .map_err(db(format!("vacuuming {table}")))
        })
        .await
    })
    .await?;
    Ok(summary)
}
