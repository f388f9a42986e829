//! # shopbench-scenarios
//!
//! The workload engine: open-model (arrival rate) and closed-model (users) pacing, latency
//! measured from each operation's intended start, HDR histograms per worker merged exactly.
//!
//! ## Layout
//!
//! Arrives with the run issue:
//! - `engine.rs`: the one worker loop, parameterised by pacing and stop conditions.
//! - `recorder.rs`: per-worker, per-operation histograms and the interval collector.
//! - `operation/`: one file per operation (browse, product detail, search, session, cart,
//!   checkout, payment, order history, catalog update, analytics) behind one trait.
//! - `mix.rs`: mixes loaded from `mixes/*.toml` (weights and SLO targets).
