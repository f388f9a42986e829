//! PostgreSQL side of the seed, as the loader role: the run record, partitions, deferral and
//! rebuild of keys, indexes and foreign keys, one transaction per chunk (its COPY streams and
//! its "done" record), ANALYZE.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Row};

use results::seed::SeedSummary;

use super::stall;
use crate::error::{db, Error, Result};
use crate::model::SeedConfig;
use crate::phase::Phase;
use crate::plan::Plan;
use crate::rows::Batch;

/// The seed's sessions' `application_name` (what [`super::watch`] looks for).
pub const APPLICATION: &str = "shopbench-seed";

/// How long taking a connection from the pool may wait: long enough for a crashed server's
/// recovery (25 s measured at `small`) to end before a chunk's attempt counts as failed.
const ACQUIRE: Duration = Duration::from_secs(60);

pub async fn connect(url: &platform::SecretUrl, size: u32) -> Result<PgPool> {
    let options: PgConnectOptions = url
        .expose()
        .as_str()
        .parse()
        .map_err(db(format!("connecting to {url}")))?;
    let options = options.application_name(APPLICATION);
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Commits stay synchronous: a chunk retried in the same run after its server went
                // away (`load_chunk_retrying`) is one whose commit was never acknowledged, so an
                // acknowledged one must survive a crash. A chunk is a few MB to 40 MB of WAL that
                // the WAL writer has mostly flushed by its commit: one flush per chunk (~90 at
                // `small`) is not worth trading that for.
                sqlx::query("SET statement_timeout = 0")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(db(format!("connecting to {url}")))
}

#[derive(Debug, Clone)]
pub struct RunRecord {
    pub config: SeedConfig,
    pub plan: Plan,
    pub finished: bool,
    /// What the seed measured, once it finished.
    pub summary: Option<SeedSummary>,
    /// The seed's mark on the stores it shares (`owner.rs`).
    pub instance: uuid::Uuid,
}

/// The seed recorded in this database, if any.
pub async fn existing_run(pool: &PgPool) -> Result<Option<RunRecord>> {
    let row = sqlx::query(
        "SELECT config, plan, summary, instance, finished_at IS NOT NULL AS finished FROM shopbench_meta.seed_runs",
    )
    .fetch_optional(pool)
    .await
    .map_err(db(
        "reading shopbench_meta.seed_runs (run `shopbench schema apply` first)",
    ))?;
    let Some(row) = row else { return Ok(None) };
    let config: serde_json::Value = row.get("config");
    let plan: serde_json::Value = row.get("plan");
    let summary: Option<serde_json::Value> = row.get("summary");
    let parse = |what: &str, e: serde_json::Error| {
        Error::Io(format!("shopbench_meta.seed_runs.{what} was written by another version: {e}; run `shopbench schema reset`"))
    };
    Ok(Some(RunRecord {
        config: serde_json::from_value(config).map_err(|e| parse("config", e))?,
        plan: serde_json::from_value(plan).map_err(|e| parse("plan", e))?,
        finished: row.get("finished"),
        instance: row.get("instance"),
        summary: summary
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| parse("summary", e))?,
    }))
}

pub async fn begin_run(
    pool: &PgPool,
    config: &SeedConfig,
    plan: &Plan,
    instance: uuid::Uuid,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO shopbench_meta.seed_runs (config, plan, run_id, instance) VALUES ($1, $2, $3, $4)",
    )
        .bind(serde_json::to_value(config).expect("config serializes"))
        .bind(serde_json::to_value(plan).expect("plan serializes"))
        .bind(crate::fingerprint::run_id(config))
        .bind(instance)
        .execute(pool)
        .await
        .map_err(db("recording the seed run"))?;
    Ok(())
}

pub async fn finish_run(pool: &PgPool, summary: &SeedSummary) -> Result<()> {
    sqlx::query("UPDATE shopbench_meta.seed_runs SET finished_at = now(), summary = $1")
        .bind(sqlx::types::Json(summary))
        .execute(pool)
        .await
        .map_err(db("recording the end of the seed"))?;
    Ok(())
}

/// Where a seed's bulk-load window stands when it asks to open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Opened now: the INSERT audit triggers are off, the loader may write the audit log.
    Opened,
    /// Already open for this run (a resumed seed continues inside it).
    Open,
    /// This run's window was closed: every PostgreSQL phase was loaded before it closed.
    Closed,
}

/// Opens the bulk-load window of the seed of `config` (migration 0012; audited there).
pub async fn open_window(pool: &PgPool, config: &SeedConfig) -> Result<Window> {
    let state: String = sqlx::query_scalar("SELECT shopbench_meta.open_bulk_load($1, $2)")
        .bind(crate::fingerprint::run_id(config))
        .bind(crate::fingerprint::config_digest(config))
        .fetch_one(pool)
        .await
        .map_err(db("opening the bulk-load window"))?;
    Ok(match state.as_str() {
        "opened" => Window::Opened,
        "open" => Window::Open,
        _ => Window::Closed,
    })
}

/// The counts recorded when the seed of `config` closed its window, if it did: then every
/// PostgreSQL phase was loaded.
pub async fn closed_counts(
    pool: &PgPool,
    config: &SeedConfig,
) -> Result<Option<serde_json::Value>> {
    sqlx::query_scalar(
        "SELECT counts FROM shopbench_meta.bulk_load_windows \
          WHERE run_id = $1 AND closed_at IS NOT NULL",
    )
    .bind(crate::fingerprint::run_id(config))
    .fetch_optional(pool)
    .await
    .map_err(db("reading the bulk-load window"))
}

/// Closes the window: the audit triggers on again, the loader's INSERT on the log revoked,
/// BULK_LOAD_FINISHED recorded with per-table counts and `digest`. Returns the counts.
///
/// Safe to repeat: a window this run already closed (a close whose commit landed but whose
/// answer was lost with the server) gives the counts recorded then, and nothing is recorded
/// twice.
pub async fn close_window(
    pool: &PgPool,
    config: &SeedConfig,
    digest: &str,
) -> Result<serde_json::Value> {
    if let Some(counts) = closed_counts(pool, config).await? {
        return Ok(counts);
    }
    sqlx::query_scalar("SELECT shopbench_meta.close_bulk_load($1, $2)")
        .bind(crate::fingerprint::run_id(config))
        .bind(digest)
        .fetch_one(pool)
        .await
        .map_err(db("closing the bulk-load window"))
}

/// Monthly partitions for the whole history (and the current month, for the audit log), then,
/// if `defer`, the keys, indexes and foreign keys dropped until the load is done. Returns how
/// many are deferred (recorded in `deferred_objects`, waiting for the rebuild).
pub async fn prepare(pool: &PgPool, from_us: i64, to_us: i64, defer: bool) -> Result<i32> {
    let day = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .expect("time in range")
            .date_naive()
    };
    let today = chrono::Utc::now().date_naive();
    sqlx::query("SELECT shop.ensure_partitions($1, $2)")
        .bind(day(from_us))
        .bind(day(to_us).max(today))
        .execute(pool)
        .await
        .map_err(db("creating monthly partitions"))?;
    let (sql, doing) = if defer {
        (
            "SELECT shopbench_meta.defer_load_objects()",
            "deferring keys, indexes and foreign keys",
        )
    } else {
        (
            "SELECT count(*)::int FROM shopbench_meta.deferred_objects",
            "counting the keys, indexes and foreign keys left to rebuild",
        )
    };
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .map_err(db(doing))
}

pub async fn done_chunks(pool: &PgPool, phase: Phase) -> Result<HashSet<u64>> {
    let rows: Vec<i64> =
        sqlx::query_scalar("SELECT chunk FROM shopbench_meta.seed_chunks WHERE phase = $1")
            .bind(phase.name())
            .fetch_all(pool)
            .await
            .map_err(db("reading finished chunks"))?;
    Ok(rows.into_iter().map(|c| c as u64).collect())
}

/// [`load_chunk`] on a connection from `pool`, tried up to [`super::ATTEMPTS`] times when the
/// server went away ([`Error::is_server_gone`]: a restart, a terminated backend, an attempt
/// abandoned by [`stall::watched`]), `warn` told of each failed attempt. Exactly once holds: the
/// chunk's rows and its record commit in one transaction, so a failed attempt left all of them or
/// none (an abandoned one's session is terminated first), and the next attempt first looks for
/// the record (an attempt whose commit landed but whose answer was lost), loading nothing if it is
/// there.
pub async fn load_chunk_retrying(
    pool: &PgPool,
    phase: Phase,
    chunk: u64,
    batch: &Batch,
    warn: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    let context = format!("loading chunk {chunk} of {}", phase.name());
    super::retrying_when_gone(warn, |attempt| {
        let context = context.clone();
        async move {
            // The pool's acquire is bounded; so is a session's first answer.
            let (mut conn, pid) = tokio::time::timeout(ACQUIRE + stall::CHECK, async {
                let mut conn = pool.acquire().await.map_err(db("connecting"))?;
                let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db(&context))?;
                Ok::<_, Error>((conn, pid))
            })
            .await
            .unwrap_or_else(|_| {
                Err(Error::Stalled {
                    context: context.clone(),
                    after: ACQUIRE + stall::CHECK,
                    why: "no session to be had".into(),
                })
            })?;
            let steps = stall::Steps::default();
            let tried = async {
                if attempt > 1 && chunk_recorded(&mut conn, phase, chunk).await? {
                    return Ok(());
                }
                load_chunk(&mut conn, phase, chunk, batch, &steps).await
            };
            stall::watched(pool, pid, &steps, context, tried).await
        }
    })
    .await
}

/// Whether the chunk's record is in `shopbench_meta.seed_chunks` (its rows committed with it).
async fn chunk_recorded(conn: &mut PgConnection, phase: Phase, chunk: u64) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM shopbench_meta.seed_chunks WHERE phase = $1 AND chunk = $2)",
    )
    .bind(phase.name())
    .bind(chunk as i64)
    .fetch_one(&mut *conn)
    .await
    .map_err(db(format!("looking for chunk {chunk} of {}", phase.name())))
}

/// Loads one chunk: every table's COPY and the chunk's record in one transaction.
/// `steps` follows its round trips for [`stall::watched`].
pub async fn load_chunk(
    conn: &mut PgConnection,
    phase: Phase,
    chunk: u64,
    batch: &Batch,
    steps: &stall::Steps,
) -> Result<()> {
    let context = |what: &str| format!("{what} chunk {chunk} of {}", phase.name());
    let mut tx = conn.begin().await.map_err(db(context("starting")))?;
    steps.step();
    for (table, buf) in &batch.tables {
        if buf.rows() == 0 {
            continue;
        }
        let copy_of = || context(&format!("COPY {} of", table.qualified()));
        let mut copy = tx
            .copy_in_raw(&table.copy_statement())
            .await
            .map_err(db(copy_of()))?;
        steps.step();
        steps.sending(true);
        let sent = copy.send(buf.bytes()).await;
        steps.sending(false);
        sent.map_err(db(copy_of()))?;
        copy.finish().await.map_err(db(copy_of()))?;
        steps.step();
    }
    sqlx::query("INSERT INTO shopbench_meta.seed_chunks (phase, chunk, rows, bytes) VALUES ($1, $2, $3, $4)")
        .bind(phase.name())
        .bind(chunk as i64)
        .bind(batch.rows() as i64)
        .bind(batch.bytes() as i64)
        .execute(&mut *tx)
        .await
        .map_err(db(context("recording")))?;
    steps.step();
    tx.commit().await.map_err(db(context("committing")))?;
    Ok(())
}

/// A key, index or foreign key waiting to be rebuilt, with its table's size (partitions summed).
#[derive(Debug, Clone)]
pub struct Deferred {
    pub name: String,
    pub kind: String,
    pub table: String,
    /// A foreign key's referenced table (`None` for keys and indexes, and for a foreign key
    /// deferred before migration 0014 recorded it).
    pub references: Option<String>,
    pub table_bytes: u64,
}

/// A table's size with its partitions', bytes.
const TABLE_BYTES: &str = "(pg_table_size(t::regclass)
     + coalesce((SELECT sum(pg_table_size(i.inhrelid)) FROM pg_inherits i
                  WHERE i.inhparent = t::regclass), 0))::bigint";

/// The deferred objects, largest tables first.
pub async fn deferred(pool: &PgPool) -> Result<Vec<Deferred>> {
    let rows = sqlx::query(&format!(
        "SELECT d.name, d.kind, d.table_name, d.references_table,
                {} AS bytes
           FROM shopbench_meta.deferred_objects d, LATERAL (SELECT d.table_name AS t) AS named
          ORDER BY bytes DESC, d.name",
        TABLE_BYTES
    ))
    .fetch_all(pool)
    .await
    .map_err(db("listing deferred indexes and foreign keys"))?;
    Ok(rows
        .iter()
        .map(|r| Deferred {
            name: r.get("name"),
            kind: r.get("kind"),
            table: r.get("table_name"),
            references: r.get("references_table"),
            table_bytes: r.get::<i64, _>("bytes").max(0) as u64,
        })
        .collect())
}

/// A partition of a deferred foreign key's table, with data, whose own constraint is not
/// validated yet (migration 0017), and its size.
#[derive(Debug, Clone)]
pub struct FkPartition {
    /// The foreign key (`deferred_objects.name`).
    pub key: String,
    /// The partition, qualified.
    pub partition: String,
    pub bytes: u64,
}

/// The smallest referenced table (partitions included) whose foreign keys are validated one
/// partition at a time. That lets the foreign keys into one table run together, on as many jobs
/// as there are, instead of one after another (`order_items → orders` and `order_status_history →
/// orders` on the seeded `medium` database: 27.5 s together, 24.4 + 27.9 s one after the other),
/// but it costs catalog work per partition (its own constraint added, then attached). Measured on
/// this project's 2-core machine, where the rebuild keeps both cores busy either way: at `small`
/// (`orders` 68 MB) splitting made the rebuild 1.4 s slower (23.5–23.9 s against 22.1–22.5 s), so
/// it is not split there; at `medium` (`orders` and `payments` 0.5–0.7 GB) the rebuild took the
/// same time (191.6 s against 190.6 s) with its idle last 45 s filled. The gain is for more cores
/// at larger scales, where the four foreign keys into `orders` and `payments` (110 s at `medium`,
/// 1.5 h at `full`) were the rebuild's longest chain; it was not measured here.
pub const SPLIT_REFERENCED_BYTES: i64 = 256 << 20;

/// The partitions the deferred foreign keys into tables of at least `split_bytes` (the seed's:
/// [`SPLIT_REFERENCED_BYTES`]) can be validated on one at a time ([`validate_on`]); empty ones are
/// left to the parent's `ADD FOREIGN KEY`, which validates them in no time.
pub async fn fk_partitions(pool: &PgPool, split_bytes: i64) -> Result<Vec<FkPartition>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT d.name, format('%I.%I', n.nspname, c.relname), pg_table_size(c.oid)
           FROM shopbench_meta.deferred_objects d
           JOIN pg_inherits i ON i.inhparent = d.table_name::regclass
           JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE d.kind = 'foreign key' AND d.references_table IS NOT NULL
            AND (SELECT {TABLE_BYTES} FROM (SELECT d.references_table AS t) AS named) >= $1
            AND pg_table_size(c.oid) > 0
            AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                             WHERE con.conrelid = c.oid AND con.conname = split_part(d.name, '.', 2)
                               AND con.convalidated)
          ORDER BY 3 DESC, 1, 2"
    ))
    .bind(split_bytes)
    .fetch_all(pool)
    .await
    .map_err(db("listing the partitions of deferred foreign keys"))?;
    Ok(rows
        .into_iter()
        .map(|(key, partition, bytes)| FkPartition {
            key,
            partition,
            bytes: bytes.max(0) as u64,
        })
        .collect())
}

/// Validates the deferred foreign key `key` on one partition of its table: its constraint added
/// NOT VALID in one transaction, then validated in another (migration 0017 says why). Safe to
/// repeat: what is done already is not done again.
pub async fn validate_on(pool: &PgPool, key: &str, partition: &str) -> Result<()> {
    let mut conn = rebuild_session(pool).await?;
    for _ in 0..2 {
        let done: String =
            sqlx::query_scalar("SELECT shopbench_meta.validate_foreign_key_on($1, $2::regclass)")
                .bind(key)
                .bind(partition)
                .fetch_one(&mut *conn)
                .await
                .map_err(db(format!("validating {key} on {partition}")))?;
        if done != "added" {
            break;
        }
    }
    Ok(())
}

/// Each table's size, partitions included, in one query.
pub async fn table_sizes(pool: &PgPool, tables: &[String]) -> Result<Vec<(String, u64)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT t, {TABLE_BYTES} FROM unnest($1::text[]) WITH ORDINALITY AS named (t, n) ORDER BY n"
    ))
    .bind(tables)
    .fetch_all(pool)
    .await
    .map_err(db("sizing the loaded tables"))?;
    Ok(rows
        .into_iter()
        .map(|(t, b)| (t, b.max(0) as u64))
        .collect())
}

/// A session with the memory a rebuild needs: an index sorts in `maintenance_work_mem`; a foreign
/// key's validation hashes the whole referenced table in `work_mem` × `hash_mem_multiplier`, once
/// per partition of the referencing table (estimated, not measured: `orders` at `medium`, 2M rows
/// of three key columns, needs over 100 MB, more than the server's 32 MB × 2, and would spill to
/// disk each time).
async fn rebuild_session(pool: &PgPool) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>> {
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    sqlx::query("SELECT set_config('maintenance_work_mem', '256MB', false), set_config('work_mem', '256MB', false)")
        .execute(&mut *conn)
        .await
        .map_err(db("setting maintenance_work_mem and work_mem"))?;
    Ok(conn)
}

/// Rebuilds one deferred object, in a session with the memory it needs (`rebuild_session`).
pub async fn restore(pool: &PgPool, name: &str) -> Result<()> {
    let mut conn = rebuild_session(pool).await?;
    sqlx::query("SELECT shopbench_meta.restore_load_object($1)")
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(db(format!("rebuilding {name}")))?;
    Ok(())
}

/// ANALYZE of `table` (partitions included) and its record for the seed run `run`, in one
/// transaction: a resumed seed skips what is recorded ([`analyzed`]).
pub async fn analyze(pool: &PgPool, run: uuid::Uuid, table: &str) -> Result<()> {
    let context = || format!("ANALYZE {table}");
    let mut tx = pool.begin().await.map_err(db(context()))?;
    sqlx::query("SELECT shopbench_meta.analyze_table($1::regclass)")
        .bind(table)
        .execute(&mut *tx)
        .await
        .map_err(db(context()))?;
    sqlx::query(
        "INSERT INTO shopbench_meta.seed_analyzed (run_id, table_name) VALUES ($1, $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(run)
    .bind(table)
    .execute(&mut *tx)
    .await
    .map_err(db(format!("recording the {}", context())))?;
    tx.commit().await.map_err(db(context()))?;
    Ok(())
}

/// The tables the seed run `run` has analyzed (migration 0016).
pub async fn analyzed(pool: &PgPool, run: uuid::Uuid) -> Result<HashSet<String>> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT table_name FROM shopbench_meta.seed_analyzed WHERE run_id = $1")
            .bind(run)
            .fetch_all(pool)
            .await
            .map_err(db("reading which tables are analyzed"))?;
    Ok(tables.into_iter().collect())
}

/// Rows of a table dated before the seed's `as_of` and from it on (workloads' rows); tables
/// without `created_at` count whole.
pub async fn count_split(pool: &PgPool, table: &str, as_of_us: i64) -> Result<(u64, u64)> {
    let (schema, name) = table.split_once('.').unwrap_or(("shop", table));
    let dated: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                         WHERE table_schema = $1 AND table_name = $2 AND column_name = 'created_at')",
    )
    .bind(schema)
    .bind(name)
    .fetch_one(pool)
    .await
    .map_err(db(format!("looking for {table}.created_at")))?;
    if !dated {
        return Ok((count(pool, table).await?, 0));
    }
    let as_of = chrono::DateTime::from_timestamp_micros(as_of_us).expect("as-of in range");
    let (before, after): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*) FILTER (WHERE created_at < $1), count(*) FILTER (WHERE created_at >= $1) FROM {table}"
    ))
    .bind(as_of)
    .fetch_one(pool)
    .await
    .map_err(db(format!("counting {table}")))?;
    Ok((before as u64, after as u64))
}

/// Rows in a table (exact count).
pub async fn count(pool: &PgPool, table: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .map_err(db(format!("counting {table}")))?;
    Ok(n as u64)
}

/// The data directory of a PostgreSQL on this machine (None when remote or not readable), for
/// the seed's free-space check.
pub async fn local_data_directory(
    target: &platform::services::PostgresTarget,
) -> Option<std::path::PathBuf> {
    let host = target.admin.expose().host_str()?.to_string();
    if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]") {
        return None;
    }
    let pool = connect(&target.admin, 1).await.ok()?;
    let dir: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&pool)
        .await
        .ok()?;
    Some(std::path::PathBuf::from(dir))
}
