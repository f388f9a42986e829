//! The database's side of a run: snapshots of `pg_stat_statements`, `pg_stat_database` and table
//! sizes before and after, reduced to the run's delta (top statements by total time, buffer hit
//! ratio, deadlocks, commits, rollbacks, temporary bytes). Read with the admin connection; when
//! `pg_stat_statements` is not loaded the results say so instead of inventing figures.

use std::collections::HashMap;

use sqlx::PgPool;

use results::run::{Database, Statement, StatementMix};

#[derive(Debug, Clone)]
pub struct Snapshot {
    statements: Result<HashMap<(i64, i64, i64), StatementRow>, String>,
    blks_hit: i64,
    blks_read: i64,
    deadlocks: i64,
    commits: i64,
    rollbacks: i64,
    temp_bytes: i64,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
struct StatementRow {
    userid: i64,
    dbid: i64,
    queryid: i64,
    query: String,
    calls: i64,
    total_exec_time: f64,
    rows: i64,
    shared_blks_hit: i64,
    shared_blks_read: i64,
}

pub async fn snapshot(admin: &PgPool) -> Snapshot {
    let statements = sqlx::query_as::<_, StatementRow>(
        "SELECT userid::oid::int8 AS userid, dbid::oid::int8 AS dbid, queryid, query, calls,
                total_exec_time, rows, shared_blks_hit, shared_blks_read
           FROM public.pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND queryid IS NOT NULL",
    )
    .fetch_all(admin)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|r| ((r.userid, r.dbid, r.queryid), r))
            .collect()
    })
    .map_err(|e| match e.as_database_error() {
        Some(db) => format!("pg_stat_statements unavailable: {}", db.message()),
        None => format!("pg_stat_statements unavailable: {e}"),
    });
    let db: Option<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT blks_hit, blks_read, deadlocks, xact_commit, xact_rollback, temp_bytes
           FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_optional(admin)
    .await
    .ok()
    .flatten();
    let (blks_hit, blks_read, deadlocks, commits, rollbacks, temp_bytes) = db.unwrap_or_default();
    Snapshot {
        statements,
        blks_hit,
        blks_read,
        deadlocks,
        commits,
        rollbacks,
        temp_bytes,
    }
}

/// The run's delta between two snapshots, with the top `top` statements and the table sizes at
/// the end.
pub async fn delta(admin: &PgPool, before: &Snapshot, after: &Snapshot, top: usize) -> Database {
    let (statements, statements_note, statement_mix) = match (&before.statements, &after.statements)
    {
        (Ok(b), Ok(a)) => {
            let mut mix = StatementMix::default();
            let mut list: Vec<Statement> = a
                .iter()
                .filter_map(|(k, r)| {
                    let base = b.get(k).cloned().unwrap_or_default();
                    let calls = r.calls - base.calls;
                    if calls > 0 {
                        mix.add(&r.query, calls as u64);
                    }
                    (calls > 0).then(|| {
                        let total = r.total_exec_time - base.total_exec_time;
                        Statement {
                            query: platform::secret::scrub(&r.query),
                            calls: calls as u64,
                            total_ms: total,
                            mean_ms: total / calls as f64,
                            rows: (r.rows - base.rows).max(0) as u64,
                            shared_blks_hit: (r.shared_blks_hit - base.shared_blks_hit).max(0)
                                as u64,
                            shared_blks_read: (r.shared_blks_read - base.shared_blks_read).max(0)
                                as u64,
                        }
                    })
                })
                .collect();
            list.sort_by(|x, y| y.total_ms.total_cmp(&x.total_ms));
            list.truncate(top);
            (list, None, Some(mix))
        }
        (Err(e), _) | (_, Err(e)) => (Vec::new(), Some(e.clone()), None),
    };
    let hit = after.blks_hit - before.blks_hit;
    let read = after.blks_read - before.blks_read;
    let sizes = sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT schemaname || '.' || tablename, table_bytes::int8, index_bytes::int8 FROM monitoring.table_sizes",
    )
    .fetch_all(admin)
    .await
    .map(|rows| rows.into_iter().map(|(t, a, b)| (t, (a.max(0) as u64, b.max(0) as u64))).collect())
    .unwrap_or_default();
    Database {
        statements,
        statements_note,
        hit_ratio: (hit + read > 0).then(|| hit as f64 / (hit + read) as f64),
        deadlocks: (after.deadlocks - before.deadlocks).max(0) as u64,
        commits: (after.commits - before.commits).max(0) as u64,
        rollbacks: (after.rollbacks - before.rollbacks).max(0) as u64,
        temp_bytes: (after.temp_bytes - before.temp_bytes).max(0) as u64,
        sizes,
        statement_mix,
    }
}
