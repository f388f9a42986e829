//! ClickHouse side of the seed: RowBinary inserts through the `clickhouse` crate, one INSERT per
//! chunk (a stretch of hours of events, or a range of orders' facts).
//!
//! ClickHouse has no transactions, so exactly-once works like this: a chunk is recorded as
//! started in PostgreSQL before its insert and as done after it. A chunk found started but not
//! done on `--resume` may be partly in ClickHouse: its hours are deleted (ALTER TABLE … DELETE,
//! waited for) before it is inserted again. Order facts need no delete: `order_facts` is a
//! ReplacingMergeTree keyed by the order line, so a re-inserted chunk collapses to one copy, and
//! the seed runs OPTIMIZE … FINAL after such a resume so that plain counts are exact too.
//!
//! Every request is bounded ([`Target::timeout`]): a server that stops answering (a restart, a
//! stalled connection) fails the attempt instead of hanging the seed, and the chunk is tried
//! again in the same run ([`super::ATTEMPTS`], its partial rows deleted first, as on a resume).

use std::time::Duration;

use sqlx::PgPool;

use crate::error::{ch, db, Result};
use crate::model::Model;
use crate::phase::Phase;
use crate::rows::analytics;

pub struct Target {
    pub client: clickhouse::Client,
    pub database: String,
    /// The longest a request may go without progress: sending a block of rows, waiting for an
    /// insert's reply, or a query.
    pub timeout: Duration,
}

/// How long a ClickHouse request may go without progress before the attempt fails. An insert of
/// one chunk (hours of events, a few MB per block) takes well under a second on this project's
/// reference machine; two minutes leaves room for a slow disk or a merge storm, and still ends a
/// hang long before a CI limit.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

impl Target {
    pub fn new(client: clickhouse::Client, database: String) -> Self {
        Target {
            client,
            database,
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// `request`, failed with `what` if it takes longer than [`Target::timeout`].
    async fn bounded<T>(
        &self,
        what: &str,
        request: impl std::future::Future<Output = clickhouse::error::Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, request).await {
            Ok(result) => result.map_err(ch(what)),
            Err(_) => Err(ch(what)(clickhouse::error::Error::TimedOut)),
        }
    }

    /// An INSERT into `table` whose writes and reply are bounded by [`Target::timeout`] (the
    /// crate's own timeouts: cheaper than wrapping every write).
    async fn insert<T: clickhouse::Row>(
        &self,
        table: &str,
        what: &str,
    ) -> Result<clickhouse::insert::Insert<T>> {
        let insert = self.bounded(what, self.client.insert::<T>(table)).await?;
        Ok(insert.with_timeouts(Some(self.timeout), Some(self.timeout)))
    }
}

pub fn table(phase: Phase) -> &'static str {
    match phase {
        Phase::ChEvents => "events",
        Phase::ChPageViews => "page_views",
        _ => "order_facts",
    }
}

pub async fn started_chunks(pool: &PgPool, phase: Phase) -> Result<std::collections::HashSet<u64>> {
    let rows: Vec<i64> =
        sqlx::query_scalar("SELECT chunk FROM shopbench_meta.seed_chunks_started WHERE phase = $1")
            .bind(phase.name())
            .fetch_all(pool)
            .await
            .map_err(db("reading started ClickHouse chunks"))?;
    Ok(rows.into_iter().map(|c| c as u64).collect())
}

/// How long a resumed seed waits for ClickHouse to delete a partial chunk.
const MUTATION_WAIT: Duration = Duration::from_secs(600);

/// Deletes what an interrupted insert of chunk `c` may have left, and waits until it is gone.
pub async fn undo_partial(target: &Target, m: &Model, phase: Phase, c: u64) -> Result<()> {
    if phase == Phase::ChOrderFacts {
        return Ok(());
    }
    let hours = phase.range(m, c);
    let start = m.ch_events.hour_start_us(hours.start as usize) / 1_000_000;
    let end = start + 3600 * (hours.end - hours.start) as i64;
    let sql = format!(
        "ALTER TABLE {}.{} DELETE WHERE created_at >= toDateTime({start}) AND created_at < toDateTime({end})",
        target.database,
        table(phase),
    );
    let what = format!("deleting the partial chunk {c} of {}", phase.name());
    target
        .bounded(&what, target.client.query(&sql).execute())
        .await?;
    // Polled here: `SETTINGS mutations_sync = 2` would make the server wait, but the ClickHouse
    // Debian ships (18.16) predates that setting. Bounded: a mutation the server cannot finish
    // (18.16 keeps retrying a failed one) must end the seed with a message, not hang it.
    let deadline = std::time::Instant::now() + MUTATION_WAIT;
    loop {
        let pending: u64 = target
            .bounded(
                "waiting for a delete",
                target
                    .client
                    .query("SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0")
                    .bind(&target.database)
                    .bind(table(phase))
                    .fetch_one(),
            )
            .await?;
        if pending == 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(crate::error::Error::Io(format!(
                "ClickHouse has not finished deleting the partial chunk {c} of {} after {} s ({pending} mutation(s) of {}.{} pending in system.mutations): see the server's log, then `shopbench seed --resume`",
                phase.name(),
                MUTATION_WAIT.as_secs(),
                target.database,
                table(phase),
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rows generated and written per slice: an INSERT streams any number of them while memory
/// stays at one slice.
const SLICE: u64 = 8_192;

/// Generates the rows of part of an hour.
type HourRows<T> = fn(&Model, usize, u64, u64, std::ops::Range<u64>, &mut Vec<T>);

/// One INSERT of every row of `hour_range`, generated and written slice by slice.
#[allow(clippy::too_many_arguments)]
async fn insert_hours<T>(
    target: &Target,
    m: &Model,
    table: &str,
    hour_range: std::ops::Range<u64>,
    counts: &[u64],
    starts: &[u64],
    generate: HourRows<T>,
    what: &str,
) -> Result<u64>
where
    T: clickhouse::RowOwned + clickhouse::RowWrite,
{
    let mut insert = target.insert::<T>(table, what).await?;
    let mut rows = Vec::with_capacity(SLICE as usize);
    let mut total = 0;
    for h in hour_range {
        let h = h as usize;
        let (first, count) = (starts[h], counts[h]);
        for from in (0..count).step_by(SLICE as usize) {
            rows.clear();
            generate(
                m,
                h,
                first,
                count,
                from..(from + SLICE).min(count),
                &mut rows,
            );
            for row in &rows {
                insert.write(row).await.map_err(ch(what))?;
            }
        }
        total += count;
    }
    insert.end().await.map_err(ch(what))?;
    Ok(total)
}

/// Inserts chunk `c` of a ClickHouse phase as one INSERT (RowBinary), generating its rows slice
/// by slice; returns its rows.
pub async fn insert_chunk(
    target: &Target,
    m: &Model,
    phase: Phase,
    c: u64,
    hours: &Hours,
) -> Result<u64> {
    let what = format!("inserting chunk {c} of {}", phase.name());
    let what = what.as_str();
    match phase {
        Phase::ChEvents => {
            let (counts, starts) = (&hours.events, &hours.event_start);
            insert_hours(
                target,
                m,
                "events",
                phase.range(m, c),
                counts,
                starts,
                analytics::events,
                what,
            )
            .await
        }
        Phase::ChPageViews => {
            let (counts, starts) = (&hours.views, &hours.view_start);
            insert_hours(
                target,
                m,
                "page_views",
                phase.range(m, c),
                counts,
                starts,
                analytics::page_views,
                what,
            )
            .await
        }
        _ => {
            let mut rows = Vec::new();
            analytics::order_facts(m, Phase::ChOrderFacts.range(m, c), &mut rows);
            let mut insert = target
                .insert::<analytics::OrderFactRow>("order_facts", what)
                .await?;
            for row in &rows {
                insert.write(row).await.map_err(ch(what))?;
            }
            insert.end().await.map_err(ch(what))?;
            Ok(rows.len() as u64)
        }
    }
}

/// [`insert_chunk`], tried up to [`super::ATTEMPTS`] times: after a failed attempt (an error, or
/// no progress within [`Target::timeout`]) `warn` is told, and what the attempt may have left is
/// undone at the start of the next one ([`undo_partial`], retried with it), as it is first when
/// `resumed` (the chunk was found started, not done). So the chunk's rows end in ClickHouse
/// exactly once. Returns the rows and whether the chunk may have been inserted more than once
/// (order facts are then collapsed by OPTIMIZE … FINAL rather than deleted).
pub async fn insert_chunk_retrying(
    target: &Target,
    m: &Model,
    phase: Phase,
    c: u64,
    hours: &Hours,
    resumed: bool,
    warn: &(dyn Fn(&str) + Sync),
) -> Result<(u64, bool)> {
    super::retrying(
        "undoing it and ",
        warn,
        |_| true,
        |attempt| async move {
            if resumed || attempt > 1 {
                undo_partial(target, m, phase, c).await?;
            }
            let rows = insert_chunk(target, m, phase, c, hours).await?;
            Ok((rows, resumed || attempt > 1))
        },
    )
    .await
}

/// Events and page views per hour of the window, and the global index of each hour's first.
pub struct Hours {
    pub events: Vec<u64>,
    pub event_start: Vec<u64>,
    pub views: Vec<u64>,
    pub view_start: Vec<u64>,
}

impl Hours {
    pub fn new(m: &Model) -> Self {
        let starts = |v: &[u64]| {
            let mut acc = 0;
            v.iter()
                .map(|n| {
                    let s = acc;
                    acc += n;
                    s
                })
                .collect::<Vec<_>>()
        };
        let events = analytics::per_hour(m, m.profile().ch_events);
        let views = analytics::per_hour(m, m.profile().ch_page_views);
        Hours {
            event_start: starts(&events),
            view_start: starts(&views),
            events,
            views,
        }
    }
}

pub async fn mark_started(pool: &PgPool, phase: Phase, c: u64) -> Result<()> {
    sqlx::query("INSERT INTO shopbench_meta.seed_chunks_started (phase, chunk) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(phase.name())
        .bind(c as i64)
        .execute(pool)
        .await
        .map_err(db("recording a ClickHouse chunk as started"))?;
    Ok(())
}

pub async fn mark_done(pool: &PgPool, phase: Phase, c: u64, rows: u64, bytes: u64) -> Result<()> {
    let mut tx = pool
        .begin()
        .await
        .map_err(db("recording a ClickHouse chunk"))?;
    // A retry after a commit whose answer was lost finds the record there.
    sqlx::query("INSERT INTO shopbench_meta.seed_chunks (phase, chunk, rows, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(phase.name())
        .bind(c as i64)
        .bind(rows as i64)
        .bind(bytes as i64)
        .execute(&mut *tx)
        .await
        .map_err(db("recording a ClickHouse chunk"))?;
    sqlx::query("DELETE FROM shopbench_meta.seed_chunks_started WHERE phase = $1 AND chunk = $2")
        .bind(phase.name())
        .bind(c as i64)
        .execute(&mut *tx)
        .await
        .map_err(db("recording a ClickHouse chunk"))?;
    tx.commit()
        .await
        .map_err(db("recording a ClickHouse chunk"))?;
    Ok(())
}

pub async fn optimize_facts(target: &Target) -> Result<()> {
    target
        .client
        .query(&format!(
            "OPTIMIZE TABLE {}.order_facts FINAL",
            target.database
        ))
        .execute()
        .await
        .map_err(ch("OPTIMIZE order_facts FINAL"))
}

/// Rows of `table` before and from `as_of_s` (Unix seconds): the seed's history ends there, so
/// rows from it on were written by workloads.
pub async fn count_split(target: &Target, table: &str, as_of_s: i64) -> Result<(u64, u64)> {
    let final_ = if table == "order_facts" { " FINAL" } else { "" };
    target
        .client
        .query(&format!(
            "SELECT countIf(created_at < toDateTime({as_of_s})), countIf(created_at >= toDateTime({as_of_s})) FROM {}.{table}{final_}",
            target.database
        ))
        .fetch_one::<(u64, u64)>()
        .await
        .map_err(ch(format!("counting {table}")))
}

/// Carts in the seeded events (dated before `as_of_s`): sessions with a `cart.add`, those of them
/// that reached `checkout.complete`, the abandoned ones, and how many abandoned ones have page
/// views.
pub async fn carts(target: &Target, as_of_s: i64) -> Result<(u64, u64, u64, u64)> {
    let db = &target.database;
    target
        .client
        .query(&format!(
            "SELECT countIf(cart), countIf(cart AND ordered), countIf(cart AND NOT ordered), \
                    countIf(cart AND NOT ordered AND session_id IN \
                      (SELECT session_id FROM {db}.page_views WHERE created_at < toDateTime({as_of_s}))) \
               FROM (SELECT session_id, countIf(event_type = 'cart.add') > 0 AS cart, \
                            countIf(event_type = 'checkout.complete') > 0 AS ordered \
                       FROM {db}.events WHERE created_at < toDateTime({as_of_s}) GROUP BY session_id)"
        ))
        .fetch_one::<(u64, u64, u64, u64)>()
        .await
        .map_err(ch("counting carts and orders in the events"))
}

pub async fn count(target: &Target, table: &str) -> Result<u64> {
    let final_ = if table == "order_facts" { " FINAL" } else { "" };
    target
        .client
        .query(&format!(
            "SELECT count() FROM {}.{table}{final_}",
            target.database
        ))
        .fetch_one::<u64>()
        .await
        .map_err(ch(format!("counting {table}")))
}
