//! # shopbench-reports
//!
//! The versioned results model and its renderers. Depends on neither the engine nor the
//! generator: both write the model, the reports only read it.
//!
//! ## Layout
//!
//! - `histogram.rs`: HDR histograms as they travel in results files (V2 + DEFLATE, base64) with
//!   their percentile summary; exact merge.
//! - `results.rs`: `RunResults` (serde, `schema_version`): configuration, environment, per-operation
//!   histograms and counts, interval series, database deltas, capacity steps.
//! - `slo.rs`: SLO targets and the verdict of one operation and of a run.
//!
//! Arrives with the report issue:
//! - `html.rs`, `markdown.rs`, `junit.rs`: the renderers; `plot/`: one function per figure.
//! - `compare.rs`: baseline comparison with noise estimated from interval histograms.
//! - `merge.rs`: exact merge of results from several load generators.

pub mod histogram;
pub mod results;
pub mod slo;

pub use histogram::Encoded;
pub use results::RunResults;
