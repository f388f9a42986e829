//! # shopbench-generator
//!
//! Realistic, deterministic data for the shopbench schema: every generated value is a pure
//! function of (seed, table, row index), so chunks can be produced in any order by any number of
//! workers and the bytes are identical.
//!
//! ## Layout
//!
//! - `calibration.rs`: every parameter of the model with its value, unit and source (the
//!   README's table).
//! - `profile.rs`: scale profiles (`tiny` … `full`, `--scale-factor`).
//! - `model.rs`: the entity model (tenants by a power law, Zipf product popularity, customers'
//!   orders by Pareto), shared with the workload engine to pick existing entities by index.
//! - `lifecycle.rs`: an order's life: items, totals, statuses by age, payments and ledger rows.
//! - `timeline.rs`: the traffic curve (growth, daily/weekly cycles, the holiday season's days)
//!   and time draws.
//! - `distribution.rs`: allocations and samplers; `rng.rs`: per-row deterministic randomness.
//! - `vocab.rs`: product vocabulary and `fake`-made pools of personal data.
//! - `copy.rs`: the COPY BINARY encoder; `rows/`: one encoder file per group of tables.
//! - `phase.rs`: load phases and their chunks; `plan.rs`: rows and disk per table.
//! - `load/`: the loaders: PostgreSQL (parallel COPY, exactly-once chunks, deferred indexes,
//!   rebuilt by `rebuild.rs`: keys, ANALYZE, then foreign keys, never two whose locks collide;
//!   every loaded table vacuumed by `vacuum.rs`, as the administrator),
//!   ClickHouse (RowBinary), the object store (sample images), search (bulk index), progress,
//!   the seed summary, the watch that names sessions holding locks the seed waits for, and
//!   `stall.rs`, the watchdog that reads an unanswered chunk's session and abandons an attempt
//!   nothing will ever move.
//! - `fingerprint.rs`: the data fingerprint (configuration, plan and a digest of the data);
//!   `sample.rs`: the deterministic sample of every table that digest (and the golden test) hash.
//! - `verify/`: `shopbench verify`, its independent parts run `--jobs` at a time: counts,
//!   orphans and invariants (`mod.rs`), the audit trail (`audit.rs`), the distributions against
//!   the model (`distributions.rs`).
//! - `error.rs`: the crate's errors (thiserror), each with what was being done.

// `h % n == 0` reads as "one in n" on a hash, which is how the generator draws rare cases.
#![allow(clippy::manual_is_multiple_of)]

pub mod calibration;
pub mod copy;
pub mod distribution;
pub mod error;
pub mod fingerprint;
pub mod lifecycle;
pub mod load;
pub mod model;
pub mod phase;
pub mod plan;
pub mod profile;
pub mod rng;
pub mod rows;
pub mod sample;
pub mod timeline;
pub mod verify;
pub mod vocab;

pub use model::{Model, SeedConfig};
pub use phase::Phase;
pub use plan::Plan;
pub use profile::{Profile, Scale};
