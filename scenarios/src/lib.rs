//! # shopbench-scenarios
//!
//! The workload engine: open-model (arrival rate) and closed-model (users) pacing, latency
//! measured from each operation's intended start, HDR histograms per worker merged exactly; the
//! operations of an e-commerce data tier against real services; mixes.
//!
//! ## Layout
//!
//! - `pacing.rs`: open (constant or Poisson arrivals at a rate) and closed (users, think time)
//!   models, load profiles (constant, ramp, step); the open model's seeded schedule.
//! - `alarm.rs`: the open model's high-resolution alarm (timerfd in the runtime's reactor, set
//!   early by the measured wake-up latency); why this timer.
//! - `recorder.rs`: one operation's HDR histograms in one worker (latency from the intended
//!   start, service time from the actual start), outcome counts, exact merge.
//! - `engine.rs`: the one worker loop and the per-second collector; Ctrl-C as a token.
//! - `lanes.rs`: client threads, each a current-thread runtime with its own connections
//!   (like `pgbench -j`); why not tokio's multi-thread runtime.
//! - `failure.rs`: failure classes (SQLSTATE, timeout, connection, business outcome, service).
//! - `pq/`: libpq driven from tokio (non-blocking, pipeline mode, the socket on the reactor),
//!   values by `postgres-types`; why libpq and not tokio-postgres or sqlx.
//! - `db.rs`: the workload's PostgreSQL pools (libpq connections + deadpool) and the tenant
//!   transaction.
//! - `context.rs`: the services a run uses, entity picking from the generator's model, the
//!   tenant transaction, the simulated payment gateway, order hand-over queues.
//! - `operation/`: one file per operation behind the `Operation` trait, with default SLOs.
//! - `mix.rs`: mixes from `mixes/*.toml` (weights, SLO targets, hot products, the weights' source).
//! - `parameters.rs`: the README's table of every model parameter and mix weight with its source.
//! - `measured.rs`: the engine's outcome as the results model's operations, tiers, schedule.
//! - `observer.rs`: `pg_stat_statements` and `pg_stat_database` deltas over a run.
//! - `session.rs`: the seeded data found, the mix's services connected, a plan measured.
//! - `provenance.rs`: server versions and the machine, for the results' environment.
//! - `calibration/`: the instrument's floor beside pgbench on the same statements (`shopbench
//!   calibrate`, the parity bench): open model at fixed rates, closed rounds, the bare driver.
//! - `clock.rs`: a sharded run's `--start-at` as a monotonic instant, and the wall clock's
//!   synchronization (the kernel's NTP state).

pub mod alarm;
pub mod calibration;
pub mod clock;
pub mod context;
pub mod db;
pub mod engine;
pub mod failure;
pub mod lanes;
pub mod measured;
pub mod mix;
pub mod observer;
pub mod operation;
pub mod pacing;
pub mod parameters;
pub mod pq;
pub mod provenance;
pub mod recorder;
pub mod session;
