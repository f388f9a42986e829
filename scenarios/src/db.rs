//! The workload's PostgreSQL connections: the application role (and the batch role) on
//! tokio-postgres, pooled by deadpool-postgres.
//!
//! Why not sqlx, which the seed and the schema use: its pool tests a connection with a
//! round trip (`ping`) on every release, and by default on every acquire too, so each operation
//! paid one or two round trips an application would not send. Measured on this project's 2-core
//! machine, 8 connections, closed loop, the point-read transaction (BEGIN and the tenant in one
//! message, the primary-key read, COMMIT): sqlx 10.7k/s at 71 µs of client CPU per operation,
//! sqlx without the acquire test 11.3k/s at 66 µs, tokio-postgres + deadpool 14.6k/s at 46 µs,
//! pgbench -M prepared on the same round trips 14.0k/s. deadpool's `Fast` recycling sends
//! nothing; a connection that died is noticed (`is_closed`) and replaced on the next take.
//!
//! A tenant transaction ([`Tx`]) opens with `BEGIN` and `set_config('app.tenant_id', …, true)`
//! (what a transaction pooler needs: the setting dies with the transaction), both prepared and
//! sent together in one round trip, as `pgbench -M prepared` sends them between
//! `\startpipeline` and `\endpipeline`; it runs prepared statements (cached per connection) and
//! commits. Dropped without a commit (an error, a business outcome, a timeout), it rolls back
//! before the connection goes back to the pool.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

use crate::failure::Failure;

/// The tenant set for the transaction alone (`$1`: the tenant id as text); what [`Db::begin`]
/// sends after `BEGIN`, and what the parity bench's bare driver sends.
pub const SET_TENANT: &str = "SELECT set_config('app.tenant_id', $1, true)";

/// A statement's parameters, as tokio-postgres takes them.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A pool of connections of one role.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    config: tokio_postgres::Config,
    wait: Duration,
}

/// What could not be connected, for the command's one-line error.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("reading the PostgreSQL URL: {0}")]
    Url(tokio_postgres::Error),
    #[error("building the connection pool: {0}")]
    Pool(#[from] deadpool_postgres::BuildError),
    #[error("{0}")]
    Connect(Failure),
}

impl Db {
    /// `size` connections at most, `warm` of them opened now (an unreachable server fails
    /// here, not in the middle of the run). `statement_timeout` is set on every connection;
    /// `wait` bounds the wait for a free connection.
    pub async fn connect(
        url: &str,
        application_name: &str,
        size: usize,
        warm: usize,
        statement_timeout: Duration,
        wait: Duration,
    ) -> Result<Db, ConnectError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(ConnectError::Url)?;
        config
            .application_name(application_name)
            .options(format!(
                "-c statement_timeout={}",
                statement_timeout.as_millis()
            ))
            .connect_timeout(Duration::from_secs(10));
        Db::open(config, size, warm, wait).await
    }

    /// The same server, role and settings in a new pool of `size` connections, all opened now on
    /// the calling runtime (where their I/O tasks then live: see [`crate::lanes`]).
    pub async fn reopen(&self, size: usize) -> Result<Db, ConnectError> {
        Db::open(self.config.clone(), size, size, self.wait).await
    }

    async fn open(
        config: tokio_postgres::Config,
        size: usize,
        warm: usize,
        wait: Duration,
    ) -> Result<Db, ConnectError> {
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(wait))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()?;
        let db = Db { pool, config, wait };
        let opened =
            futures_util::future::join_all((0..warm.clamp(1, size.max(1))).map(|_| db.conn()))
                .await;
        for c in opened {
            drop(c.map_err(ConnectError::Connect)?);
        }
        Ok(db)
    }

    /// A connection from the pool (returned when dropped).
    pub async fn conn(&self) -> Result<Object, Failure> {
        Ok(self.pool.get().await?)
    }

    /// A transaction with the tenant set for it alone: `BEGIN` and `set_config` as prepared
    /// statements sent together, one round trip.
    pub async fn begin(&self, tenant: Uuid) -> Result<Tx, Failure> {
        let conn = self.conn().await?;
        let begin = conn.prepare_cached("BEGIN").await?;
        let set = conn.prepare_cached(SET_TENANT).await?;
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let tenant: &str = tenant.hyphenated().encode_lower(&mut text);
        let params: Params = &[&tenant];
        let (began, set) = tokio::join!(conn.execute(&begin, &[]), conn.execute(&set, params));
        let tx = Tx { conn: Some(conn) };
        began?;
        set?;
        Ok(tx)
    }

    /// A statement outside any transaction, on a connection of the pool.
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Failure> {
        let conn = self.conn().await?;
        let stmt = conn.prepare_cached(sql).await?;
        Ok(conn.execute(&stmt, params).await?)
    }
}

/// An open tenant transaction; see the module's documentation.
pub struct Tx {
    conn: Option<Object>,
}

impl Tx {
    fn conn(&self) -> &Object {
        self.conn
            .as_ref()
            .expect("an open transaction has its connection")
    }

    async fn prepared(&self, sql: &str) -> Result<tokio_postgres::Statement, Failure> {
        Ok(self.conn().prepare_cached(sql).await?)
    }

    /// Every row.
    pub async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Failure> {
        let stmt = self.prepared(sql).await?;
        Ok(self.conn().query(&stmt, params).await?)
    }

    /// At most one row.
    pub async fn opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Failure> {
        let stmt = self.prepared(sql).await?;
        Ok(self.conn().query_opt(&stmt, params).await?)
    }

    /// Exactly one row.
    pub async fn one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Failure> {
        let stmt = self.prepared(sql).await?;
        Ok(self.conn().query_one(&stmt, params).await?)
    }

    /// Rows affected.
    pub async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Failure> {
        let stmt = self.prepared(sql).await?;
        Ok(self.conn().execute(&stmt, params).await?)
    }

    pub async fn commit(mut self) -> Result<(), Failure> {
        let conn = self
            .conn
            .take()
            .expect("an open transaction has its connection");
        // Failed or not, the transaction is over; a lost connection is replaced by the pool.
        let commit = conn.prepare_cached("COMMIT").await?;
        conn.execute(&commit, &[]).await?;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), Failure> {
        let conn = self
            .conn
            .take()
            .expect("an open transaction has its connection");
        conn.batch_execute("ROLLBACK").await?;
        Ok(())
    }
}

impl Drop for Tx {
    /// Rolled back before the connection is reused; a connection that cannot roll back (lost,
    /// or no runtime to do it on) leaves the pool and is closed, which ends the transaction.
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) if !conn.is_closed() => {
                rt.spawn(async move {
                    if conn.batch_execute("ROLLBACK").await.is_err() {
                        drop(Object::take(conn));
                    }
                });
            }
            _ => drop(Object::take(conn)),
        }
    }
}
