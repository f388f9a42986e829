//! Lock waits, reported while the seed runs. A seed's statements can wait on locks held by
//! sessions that are not the seed's (a forgotten `BEGIN` in psql, an anti-wraparound vacuum, a
//! migration elsewhere); PostgreSQL waits for them without a word and the seed looks hung. So a
//! watch started by the `seed` command, on its own connection (the pool may be the thing that
//! is waiting), looks every
//! `EVERY` at the seed's sessions (`application_name = 'shopbench-seed'`) and, for each that
//! has waited on a lock longer than `AFTER`, says on stderr which session holds it: pid,
//! application, user, state and for how long. It says it again while the wait lasts, once a
//! minute. What it reads is `pg_stat_activity` and `pg_blocking_pids`, as the administrator
//! (the loader cannot see another role's session state); what even that role may not read is
//! shown as not visible.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::postgres::APPLICATION;

/// How often the seed's sessions are looked at.
const EVERY: Duration = Duration::from_secs(5);
/// How long a statement must have run, waiting on a lock, before it is reported.
const AFTER: Duration = Duration::from_secs(10);
/// How often a wait that lasts is reported again.
const AGAIN: Duration = Duration::from_secs(60);

/// One of the seed's statements waiting on a lock, and a session that holds it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LockWait {
    pub pid: i32,
    pub seconds: f64,
    pub statement: Option<String>,
    pub holder: i32,
    pub holder_application: Option<String>,
    pub holder_user: Option<String>,
    pub holder_state: Option<String>,
    pub holder_seconds: Option<f64>,
    pub holder_statement: Option<String>,
}

impl std::fmt::Display for LockWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = |s: &Option<String>| s.clone().unwrap_or_else(|| "(not visible)".into());
        write!(
            f,
            "seed: pid {} has waited {:.0} s for a lock ({}) held by pid {} (application {:?}, user {}",
            self.pid,
            self.seconds,
            text(&self.statement),
            self.holder,
            self.holder_application.clone().unwrap_or_default(),
            text(&self.holder_user),
        )?;
        if let Some(state) = &self.holder_state {
            write!(f, ", {state}")?;
            if let Some(s) = self.holder_seconds {
                write!(f, " for {s:.0} s")?;
            }
            write!(f, ", last statement: {}", text(&self.holder_statement))?;
        }
        write!(f, "); end that session or wait for it")
    }
}

const WAITS: &str = "
SELECT a.pid,
       extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS seconds,
       left(a.query, 120) AS statement,
       b.pid AS holder,
       b.application_name AS holder_application,
       b.usename::text AS holder_user,
       b.state AS holder_state,
       extract(epoch FROM clock_timestamp() - coalesce(b.xact_start, b.query_start))::float8 AS holder_seconds,
       left(b.query, 120) AS holder_statement
  FROM pg_stat_activity a
 CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS blocking(pid)
  JOIN pg_stat_activity b ON b.pid = blocking.pid
 WHERE a.application_name = $1
   AND a.wait_event_type = 'Lock'
   AND clock_timestamp() - a.query_start > make_interval(secs => $2)
 ORDER BY a.pid, b.pid";

/// The seed's statements that have waited on a lock longer than `after`, with their holders.
pub async fn lock_waits(
    conn: &mut PgConnection,
    application: &str,
    after: Duration,
) -> sqlx::Result<Vec<LockWait>> {
    sqlx::query_as(WAITS)
        .bind(application)
        .bind(after.as_secs_f64())
        .fetch_all(conn)
        .await
}

/// The running watch; it stops when dropped.
pub struct Watch(tokio::task::JoinHandle<()>);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts watching the seed's sessions from a connection to `url`: the administrator's, where
/// there is one, since another role's session state and statement are hidden from the loader.
pub fn start(url: &platform::SecretUrl) -> Watch {
    let options = url
        .expose()
        .as_str()
        .parse::<PgConnectOptions>()
        .map(|o| o.application_name("shopbench-seed-watch"));
    Watch(tokio::spawn(async move {
        if let Ok(options) = options {
            watch(options, APPLICATION).await
        }
    }))
}

/// Silent when it cannot connect or read: the watch must never be why a seed fails.
async fn watch(options: PgConnectOptions, application: &'static str) {
    let Ok(mut conn) = PgConnection::connect_with(&options).await else {
        return;
    };
    let mut said: HashMap<(i32, i32), Instant> = HashMap::new();
    loop {
        tokio::time::sleep(EVERY).await;
        let Ok(waits) = lock_waits(&mut conn, application, AFTER).await else {
            continue;
        };
        said.retain(|k, _| waits.iter().any(|w| (w.pid, w.holder) == *k));
        for w in waits {
            let last = said.get(&(w.pid, w.holder));
            if last.is_none_or(|t| t.elapsed() >= AGAIN) {
                eprintln!("{w}");
                said.insert((w.pid, w.holder), Instant::now());
            }
        }
    }
}
