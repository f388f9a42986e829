//! # shopbench-reports
//!
//! The versioned results model and its renderers. Depends on neither the engine nor the
//! generator: both write the model, the reports only read it.
//!
//! ## Layout
//!
//! Arrives with the report issue:
//! - `results.rs`: `RunResults` (serde, `schema_version`, serialized HDR histograms).
//! - `html.rs`, `markdown.rs`, `junit.rs`: the renderers; `plot/`: one function per figure.
//! - `compare.rs`: baseline comparison with noise estimated from interval histograms.
//! - `merge.rs`: exact merge of results from several load generators.
