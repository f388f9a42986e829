//! The workload's PostgreSQL connections: the application role (and the batch role) on libpq
//! driven from tokio ([`crate::pq`]), pooled by deadpool.
//!
//! Why this driver: the client's cost per operation is inside every latency the instrument
//! reports, and pgbench (libpq) is the reference. Measured on this project's 2-core machine,
//! 8 connections, closed loop, the point-read transaction (BEGIN and the tenant in one message,
//! the primary-key read, COMMIT) against `pgbench -M prepared` on the same round trips: sqlx
//! 0.76× (its pool pings on acquire and release), tokio-postgres + deadpool 0.95× at ~37 µs of
//! client CPU per operation, libpq on tokio 1.02× at ~28 µs (pgbench's own). sqlx stays where
//! throughput is the server's (the seed, the schema); this is where the client's cost shows.
//! deadpool recycles a connection without a round trip; one that was lost is replaced.
//!
//! A tenant transaction ([`Tx`]) opens with `BEGIN` and `set_config('app.tenant_id', …, true)`
//! (what a transaction pooler needs: the setting dies with the transaction), both prepared and
//! sent together in one round trip, as `pgbench -M prepared` sends them between
//! `\startpipeline` and `\endpipeline`; it runs prepared statements (cached per connection) and
//! commits. Dropped without a commit (an error, a business outcome, a timeout), it rolls back
//! before the connection goes back to the pool.

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, Pool, RecycleError, RecycleResult};
use uuid::Uuid;

use crate::failure::Failure;
use crate::pq::{self, Connection, Settings};

pub use crate::pq::{Params, Row};

/// The tenant set for the transaction alone (`$1`: the tenant id as text); what [`Db::begin`]
/// sends after `BEGIN`, and what the parity bench's bare driver sends.
pub const SET_TENANT: &str = "SELECT set_config('app.tenant_id', $1, true)";

/// Opens and recycles the pool's connections.
struct Manager(Settings);

impl managed::Manager for Manager {
    type Type = Connection;
    type Error = pq::Error;

    async fn create(&self) -> Result<Connection, pq::Error> {
        Connection::connect(&self.0).await
    }

    /// Nothing is sent: a connection comes back idle (a transaction left open was rolled back
    /// by [`Tx`]'s drop); one that was lost, or is not idle, is replaced.
    async fn recycle(&self, conn: &mut Connection, _: &Metrics) -> RecycleResult<pq::Error> {
        match conn.is_idle() {
            true => Ok(()),
            false => Err(RecycleError::message("not idle or lost")),
        }
    }
}

/// A pool of connections of one role.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    settings: Settings,
    wait: Duration,
}

/// What could not be connected, for the command's one-line error.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("reading the PostgreSQL URL: {0}")]
    Url(pq::Error),
    #[error("building the connection pool: {0}")]
    Pool(#[from] managed::BuildError),
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
        let settings = Settings::new(
            url,
            application_name,
            statement_timeout,
            Duration::from_secs(10),
        )
        .map_err(ConnectError::Url)?;
        Db::open(settings, size, warm, wait).await
    }

    /// The same server, role and settings in a new pool of `size` connections, all opened now on
    /// the calling runtime (whose reactor then serves their sockets: see [`crate::lanes`]).
    pub async fn reopen(&self, size: usize) -> Result<Db, ConnectError> {
        Db::open(self.settings.clone(), size, size, self.wait).await
    }

    async fn open(
        settings: Settings,
        size: usize,
        warm: usize,
        wait: Duration,
    ) -> Result<Db, ConnectError> {
        let pool = Pool::builder(Manager(settings.clone()))
            .max_size(size.max(1))
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(wait))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()?;
        let db = Db {
            pool,
            settings,
            wait,
        };
        let opened =
            futures_util::future::join_all((0..warm.clamp(1, size.max(1))).map(|_| db.conn()))
                .await;
        for c in opened {
            drop(c.map_err(ConnectError::Connect)?);
        }
        Ok(db)
    }

    /// A connection from the pool (returned when dropped).
    async fn conn(&self) -> Result<Object<Manager>, Failure> {
        Ok(self.pool.get().await?)
    }

    /// A transaction with the tenant set for it alone: `BEGIN` and `set_config` as prepared
    /// statements sent together, one round trip.
    pub async fn begin(&self, tenant: Uuid) -> Result<Tx, Failure> {
        let conn = self.conn().await?;
        let mut tx = Tx { conn: Some(conn) };
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let tenant: &str = tenant.hyphenated().encode_lower(&mut text);
        tx.conn()
            .pipeline(&[("BEGIN", &[]), (SET_TENANT, &[&tenant])])
            .await?;
        Ok(tx)
    }

    /// A statement outside any transaction, on a connection of the pool.
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Failure> {
        Ok(self.conn().await?.execute(sql, params).await?)
    }
}

/// An open tenant transaction; see the module's documentation.
pub struct Tx {
    conn: Option<Object<Manager>>,
}

impl Tx {
    fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("an open transaction has its connection")
    }

    /// Every row.
    pub async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Failure> {
        Ok(self.conn().query(sql, params).await?)
    }

    /// At most one row.
    pub async fn opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Failure> {
        Ok(self.conn().query_opt(sql, params).await?)
    }

    /// Exactly one row.
    pub async fn one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Failure> {
        Ok(self.conn().query_one(sql, params).await?)
    }

    /// Rows affected.
    pub async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Failure> {
        Ok(self.conn().execute(sql, params).await?)
    }

    /// Failed or not, the transaction is over; a lost connection is replaced by the pool.
    pub async fn commit(mut self) -> Result<(), Failure> {
        let mut conn = self
            .conn
            .take()
            .expect("an open transaction has its connection");
        conn.execute("COMMIT", &[]).await?;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), Failure> {
        let mut conn = self
            .conn
            .take()
            .expect("an open transaction has its connection");
        conn.execute("ROLLBACK", &[]).await?;
        Ok(())
    }
}

impl Drop for Tx {
    /// Rolled back before the connection is reused (after what an abandoned statement left in
    /// flight is read); a connection that cannot roll back (lost, or no runtime to do it on)
    /// leaves the pool and is closed, which ends the transaction.
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) if conn.is_open() => {
                rt.spawn(async move {
                    let rolled_back = match conn.settle().await {
                        Ok(()) => conn.execute("ROLLBACK", &[]).await.map(drop),
                        Err(e) => Err(e),
                    };
                    if rolled_back.is_err() {
                        drop(Object::take(conn));
                    }
                });
            }
            _ => drop(Object::take(conn)),
        }
    }
}
