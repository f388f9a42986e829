//! # shopbench-generator
//!
//! Realistic, deterministic data for the shopbench schema: every generated value is a pure
//! function of (seed, table, row index), so chunks can be produced in any order by any number of
//! workers and the bytes are identical.
//!
//! ## Layout
//!
//! Arrives with the seed issue:
//! - `profile.rs`: scale profiles (`tiny` … `full`, `--scale-factor`) and the row plan per table.
//! - `model.rs`: the entity model (tenants by a power law, Zipf product popularity, customers'
//!   orders), shared with the workload engine to pick existing entities by index.
//! - `distribution.rs`: the samplers; `encode/`: COPY BINARY and RowBinary row encoders;
//!   `load/`: the streaming bulk loaders with exactly-once chunk bookkeeping.
