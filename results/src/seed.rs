//! The seed's summary: rows, bytes, seconds and rows/s per table. The generator writes it (into
//! `shopbench_meta.seed_runs.summary`), every run carries it in its environment, and the report
//! reads it: one type, versioned with the rest of the model by `run::SCHEMA_VERSION`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TableFigures {
    pub table: String,
    /// Rows loaded by this invocation (a resumed seed counts only what it loaded).
    pub rows: u64,
    /// COPY BINARY bytes sent (0 for ClickHouse, whose RowBinary bytes the client does not report).
    pub bytes: u64,
    /// Wall time of the phase that loaded the table (tables of one phase load together).
    pub seconds: f64,
    pub rows_per_second: f64,
}

impl TableFigures {
    pub fn new(table: String, rows: u64, bytes: u64, seconds: f64) -> Self {
        TableFigures {
            rows_per_second: per_second(rows, seconds),
            table,
            rows,
            bytes,
            seconds,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SeedSummary {
    pub shopbench_version: String,
    pub scale: String,
    pub factor: f64,
    pub seed: u64,
    pub as_of: String,
    pub jobs: usize,
    pub seconds: f64,
    pub rows: u64,
    pub bytes: u64,
    pub rows_per_second: f64,
    /// Peak resident memory of the seeding process (VmHWM).
    pub peak_memory_bytes: u64,
    pub planned_rows: u64,
    /// Phase → wall seconds.
    pub phases: BTreeMap<String, f64>,
    pub tables: Vec<TableFigures>,
    /// SHA-256 of a sample of the generated data (every table's first rows), as the seeding
    /// shopbench generated it: a run checks its own generator against it, so data from another
    /// generator is never mistaken for the model's. Absent in seeds of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_digest: Option<String>,
    /// Each deferred key, index and foreign key rebuilt after the load, with its time (the
    /// rebuild phase's breakdown). Absent in seeds of earlier versions and in resumed seeds that
    /// found everything rebuilt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rebuilds: Vec<Rebuild>,
}

/// One object rebuilt after the load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rebuild {
    /// `schema.name` of the key, index or foreign key, or of the table analyzed.
    pub name: String,
    /// `key`, `index`, `foreign key` or `analyze`.
    pub kind: String,
    pub table: String,
    /// The table's size when it was rebuilt, bytes (partitions included).
    pub table_bytes: u64,
    pub seconds: f64,
}

/// `n` over `seconds`, 0 for an empty interval.
pub fn per_second(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}
