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
//! - `schema.rs`: the JSON Schema of `results.json`, generated from the model (checked in as
//!   `results.schema.json`).
//! - `slo.rs`: SLO targets and the verdict of one operation and of a run.
//! - `format.rs`: how figures are written (ms, rates, shares, sizes) and escaped.
//! - `series.rs`: per-second intervals as chart series, thinned by exact merges for long runs.
//! - `summary.rs`: the plain-language paragraph at the top of every report.
//! - `plot/`: one function per chart (plotters → SVG strings).
//! - `html/`: `report.html` (`report.rs`, `provenance.rs`) on a page builder that escapes every
//!   value (`page.rs`) and a compiled-in template.
//! - `markdown.rs` (`summary.md`), `junit.rs` (`junit.xml`: each SLO target a test case).
//! - `compare/`: baseline comparison with noise estimated from the interval histograms.
//! - `merge.rs`: exact merge of results from several load generators.
//! - `output.rs`: renders then writes files atomically.

pub mod compare;
pub mod format;
pub mod histogram;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod output;
pub mod plot;
pub mod results;
pub mod schema;
pub mod series;
pub mod slo;
pub mod summary;

pub use histogram::Encoded;
pub use results::RunResults;
