//! Integration tests of the shopbench binary against real servers: the managed PostgreSQL
//! cluster (or DATABASE_URL), the managed ClickHouse when installed. Each test works in its own
//! fresh database, so they run in parallel.

mod common;

mod calibrate;
mod calibration;
mod cli;
mod clickhouse;
mod compliance;
mod constraints;
mod driver;
mod faults;
mod isolation;
mod operations;
mod partitions;
mod report;
mod run;
mod schema_check;
mod search;
mod seed;
mod shard;
