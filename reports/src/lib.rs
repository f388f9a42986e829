//! # shopbench-reports
//!
//! The renderers of the results model (`shopbench-results`): they only read it, never judge a
//! target or parse a string back. Depends on neither the engine nor the generator.
//!
//! ## Layout
//!
//! - `format.rs`: how figures are written (ms, rates, shares, sizes) and escaped.
//! - `series.rs`: per-second intervals as chart series, thinned by exact merges for long runs.
//! - `summary.rs`: the plain-language paragraph at the top of every report.
//! - `plot/`: one function per chart (plotters → SVG strings).
//! - `html/`: `report.html` (`report.rs`, `provenance.rs`) on a page builder that escapes every
//!   value (`page.rs`) and a compiled-in template.
//! - `markdown.rs` (`summary.md`), `junit.rs` (`junit.xml`: each SLO target a test case).
//! - `compare/`: baseline comparison with noise estimated from the interval histograms.
//! - `output.rs`: renders then writes files atomically.
//! - `calibration.rs`: `shopbench calibrate`'s tables (the instrument beside pgbench).

pub mod calibration;
pub mod compare;
pub mod format;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod output;
pub mod plot;
pub mod series;
pub mod summary;
