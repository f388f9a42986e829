//! libpq driven from tokio: the workload's PostgreSQL transport.
//!
//! Why libpq, and why by hand: the client cost per operation is part of every latency the
//! instrument reports, and the reference it is held to is pgbench, which is libpq. Measured on
//! this project's 2-core machine (point-read transaction, closed model, 8 connections on two
//! current-thread runtimes, rotated rounds against `pgbench -M prepared -j 2` on the same round
//! trips): tokio-postgres reached 0.95× pgbench's throughput at ~37 µs of client CPU per
//! operation, libpq on tokio's reactor 1.02× at ~28 µs, pgbench's own ~28 µs. The runtime was
//! not the cost; the driver was. No well-kept crate drives libpq's non-blocking pipeline mode
//! from an async runtime (`pq-sys` is the bindings diesel keeps; the `postgres` family is its
//! own protocol implementation), so this module is the thin part written here: ~15 libpq calls
//! behind one safe type. Values are encoded and decoded by `postgres-types` (`ToSql`/`FromSql`,
//! binary format), so no type codec is written here either.
//!
//! The connection is non-blocking; its socket is registered on the runtime's reactor
//! (`AsyncFd`). One exchange is one round trip: a single prepared statement as
//! `pgbench -M prepared` sends it (Bind, Describe, Execute, Sync; its result, then libpq's end),
//! or several in pipeline mode with one Sync, as pgbench sends what stands between
//! `\startpipeline` and `\endpipeline` (their results, then the Sync's).
//!
//! ## Layout
//!
//! - `connection.rs`: [`Connection`]: connect, prepare (cached per connection), the exchange,
//!   the socket's readiness, the read-ahead before a wait; the unsafe surface.
//! - `rows.rs`: a statement's result ([`Row`]), values decoded by `FromSql`.
//! - `error.rs`: [`Error`]: a server error's SQLSTATE, a lost connection, a value that did
//!   not encode or decode.

mod connection;
mod error;
mod rows;

pub use connection::{Connection, Params, Settings};
pub use error::Error;
pub use rows::Row;
