//! # shopbench-scenarios
//!
//! The workload engine: open-model (arrival rate) and closed-model (users) pacing, latency
//! measured from each operation's intended start, HDR histograms per worker merged exactly.
//!
//! ## Layout
//!
//! - `pacing.rs`: open (constant or Poisson arrivals at a rate) and closed (users, think time)
//!   models; the open model's seeded schedule of intended starts.
//! - `recorder.rs`: one operation's HDR histograms in one worker (latency from the intended
//!   start, service time from the actual start), outcome counts, exact merge.
//!
//! Arrives with the rest of the run issue:
//! - `engine.rs`: the one worker loop, parameterised by pacing and stop conditions; the interval
//!   collector.
//! - `operation/`: one file per operation (browse, product detail, search, session, cart,
//!   checkout, payment, order history, catalog update, analytics) behind one trait.
//! - `mix.rs`: mixes loaded from `mixes/*.toml` (weights and SLO targets).

pub mod pacing;
pub mod recorder;
