//! # shopbench-results
//!
//! The results model: everything a `run` or `capacity` measured, typed and versioned, in one
//! serde model that the engine and the generator write and every renderer only reads. It depends
//! on none of them (no SQL, no charts, no statistics): a verdict is judged here once, a failure
//! class is a value, a seed summary is a type, and histograms merge exactly.
//!
//! ## Layout
//!
//! - `run.rs`: `RunResults` (`schema_version`, read with version 1 upgraded, written
//!   atomically): configuration, environment, per-operation histograms and counts, intervals,
//!   database deltas, capacity steps and limit, the run's verdict.
//! - `histogram.rs`: HDR histograms as they travel in results files (V2 + DEFLATE, base64) with
//!   their percentile summary; exact merge.
//! - `slo.rs`: SLO targets, the typed verdict (a `Check` per figure: target, measured, pass) and
//!   the broken targets of a run.
//! - `failure.rs`: `FailureClass` (business outcome, SQLSTATE, timeout, service…), written as
//!   the text results files have always had.
//! - `load.rs`: the kind of run, load model, arrivals and profile shape (clap value enums with
//!   the `clap` feature).
//! - `seed.rs`: the seed's summary (rows, bytes, seconds per table).
//! - `merge.rs`: exact merge of results from several load generators; a sharded run's shards
//!   checked (all there, once, one run id) before they are added.
//! - `shard.rs`: a shard's part of a split run (`ShardRun`: shard, run id, start time, how late
//!   it started, its clock) and how the run id is made.
//! - `schema.rs` (feature `schema`): the JSON Schema of `results.json`.
//! - `file.rs`: atomic file writes.
//! - `calibration.rs`: the instrument's floor beside pgbench (`shopbench calibrate`, the parity
//!   bench): both sides' figures and the targets judged.

pub mod calibration;
pub mod failure;
pub mod file;
pub mod histogram;
pub mod load;
pub mod merge;
pub mod run;
#[cfg(feature = "schema")]
pub mod schema;
pub mod seed;
pub mod shard;
pub mod slo;

pub use failure::FailureClass;
pub use histogram::Encoded;
pub use run::RunResults;
