//! `RunResults`: everything one `run` or `capacity` measured, in one versioned serde model that
//! every renderer reads. Histograms travel serialized (see `histogram.rs`), so results from
//! several load generators merge exactly. Times are microseconds unless a name says otherwise.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::failure::FailureClass;
use crate::histogram::Encoded;
use crate::load::{Arrivals, Kind, Model, Shape};
use crate::seed::SeedSummary;
use crate::shard::ShardRun;
use crate::slo::{self, Broken, Slo, Verdict};

/// Bumped on any change a reader of an older file would misread. 2: verdicts typed (checks with
/// target, measured and pass; broken targets by operation and figure), the seed summary typed,
/// capacity's limit typed. Version 1 files are read and upgraded (see `upgrade_v1`).
pub const SCHEMA_VERSION: u32 = 2;
pub const FILE_NAME: &str = "results.json";
/// An operation that starts more than this after its intended start counts as late, µs. The
/// lag itself is in the latency (and in `ScheduleSummary::lag`) either way.
pub const LATE_US: u64 = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunResults {
    pub schema_version: u32,
    pub kind: Kind,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    /// Ctrl-C stopped the run: the results cover what was measured until then.
    pub interrupted: bool,
    pub config: RunConfig,
    pub environment: Environment,
    /// Measured window, seconds (shorter than `config.duration_s` when interrupted).
    pub measured_s: f64,
    pub schedule: ScheduleSummary,
    pub operations: Vec<OperationResult>,
    /// Latency per tenant size tier, all operations together.
    pub tiers: Vec<TierResult>,
    /// One entry per second of the measured window.
    pub intervals: Vec<Interval>,
    pub database: Database,
    pub capacity: Option<Capacity>,
    pub verdict: RunVerdict,
    /// Set by `report merge`: the load generators whose results were added together. The
    /// database figures are the first source's (every generator saw the same database).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<LoadGenerator>,
    /// A shard's results (`run --shard I/N`): which part of which run this generator ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRun>,
}

/// One load generator's results inside a merged file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoadGenerator {
    pub hostname: String,
    pub started_at: String,
    pub git_revision: String,
    pub scheduled: u64,
    /// Its share of the target rate (open model). Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Operations it started per second. Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_rate: Option<f64>,
    /// Whether it kept to its schedule. Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeping_up: Option<bool>,
    /// The shard it ran, when the run was split (`run --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunConfig {
    pub mix: String,
    pub model: Model,
    /// Open model: target operations per second overall (at full level of the profile).
    pub rate: Option<f64>,
    /// Open model only.
    pub arrivals: Option<Arrivals>,
    pub users: Option<u32>,
    pub think_ms: Option<f64>,
    pub profile: Shape,
    pub profile_detail: String,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// Workers and connections in the pool.
    pub concurrency: u32,
    /// Seed of the operation sequence.
    pub seed: u64,
    pub timeout_ms: f64,
    /// Operations later than this behind their intended start are dropped, not run.
    pub max_lag_ms: f64,
    pub search_backend: String,
    pub command_line: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Environment {
    pub shopbench_version: String,
    pub git_revision: String,
    /// Service → version (or why it is unknown).
    pub servers: BTreeMap<String, String>,
    pub machine: Machine,
    /// The seed the data came from.
    pub scale: String,
    pub data_seed: u64,
    pub as_of: String,
    /// SHA-256 of the seed's recorded configuration (less the object store's address) and plan:
    /// equal fingerprints, equal data.
    pub data_fingerprint: String,
    /// The seed's summary (rows and rows/s per table).
    pub seed_summary: Option<SeedSummary>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Machine {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpus: u32,
    pub memory_bytes: u64,
}

/// Whether the load generator kept to its schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScheduleSummary {
    pub target_rate: Option<f64>,
    /// Operations started per second in the measured window.
    pub achieved_rate: f64,
    pub scheduled: u64,
    pub dropped: u64,
    /// Started more than `LATE_US` (10 ms) after the intended start.
    pub late: u64,
    /// Actual start − intended start, µs.
    pub lag: Encoded,
    /// False when operations were dropped or the start lag's p99 reached a second: the system
    /// (or the load generator) could not keep up with the arrival rate.
    pub keeping_up: bool,
    pub note: String,
    /// Open model: time the workers spent waiting out the last stretch before intended starts
    /// (the high-resolution pacing's CPU), µs per intended start. Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing_us_per_op: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OperationResult {
    pub name: String,
    pub weight: f64,
    pub slo: Slo,
    /// scheduled = succeeded + Σ failed + dropped.
    pub scheduled: u64,
    pub succeeded: u64,
    /// Failures by class: `sqlstate:40P01`, `timeout`, `connection`, `business:out_of_stock`…
    pub failed: BTreeMap<FailureClass, u64>,
    pub dropped: u64,
    /// Started more than `LATE_US` (10 ms) after the intended start.
    pub late: u64,
    /// Serialization failures and deadlocks retried inside the operation (not failures).
    pub retries: u64,
    /// Other counted outcomes (cache hits and misses, sessions restored from PostgreSQL…).
    pub notes: BTreeMap<String, u64>,
    /// Intended start → end (what a user waited; stalls included).
    pub latency: Encoded,
    /// Actual start → end.
    pub service: Encoded,
    /// Latency per tenant tier (`large`, `medium`, `small`).
    pub tiers: BTreeMap<String, Encoded>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TierResult {
    pub tier: String,
    pub operations: u64,
    pub latency: Encoded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Interval {
    /// Seconds since the start of the measured window (end of this interval).
    pub t_s: u32,
    pub operations: BTreeMap<String, IntervalOperation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IntervalOperation {
    pub completed: u64,
    /// System failures (business outcomes excluded).
    pub errors: u64,
    pub dropped: u64,
    pub latency: Encoded,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Database {
    /// Top statements by total execution time over the run (a `pg_stat_statements` delta).
    pub statements: Vec<Statement>,
    /// Why there are no statements (extension not loaded, no privilege), if so.
    pub statements_note: Option<String>,
    /// Shared buffer hit ratio over the run, 0–1.
    pub hit_ratio: Option<f64>,
    pub deadlocks: u64,
    pub commits: u64,
    pub rollbacks: u64,
    pub temp_bytes: u64,
    /// Table → (table bytes, index bytes) at the end of the run.
    pub sizes: BTreeMap<String, (u64, u64)>,
    /// Calls of every statement of the run by kind (reads, writes, the rest), when
    /// `pg_stat_statements` was readable.
    #[serde(default)]
    pub statement_mix: Option<StatementMix>,
}

/// Statement calls over a run by what they do: the read:write ratio of the workload as the
/// database saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatementMix {
    /// SELECT (and WITH … SELECT) statements that read data.
    pub reads: u64,
    /// INSERT, UPDATE, DELETE, MERGE, COPY, and WITH … that write.
    pub writes: u64,
    /// Transaction control, settings (BEGIN, COMMIT, SET, `SELECT set_config`), and the rest.
    pub other: u64,
}

/// What a statement does, by its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Read,
    Write,
    Other,
}

impl StatementKind {
    pub fn of(query: &str) -> StatementKind {
        let text = query.trim_start().to_ascii_lowercase();
        let first = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap_or("");
        let writes = |t: &str| {
            t.split(|c: char| !c.is_ascii_alphabetic())
                .any(|w| matches!(w, "insert" | "update" | "delete" | "merge"))
        };
        match first {
            "insert" | "update" | "delete" | "merge" | "copy" => StatementKind::Write,
            "with" if writes(&text) => StatementKind::Write,
            "select" | "with" | "table" | "values" => {
                let rest = text.trim_start_matches("select").trim_start();
                if rest.starts_with("set_config") || rest.starts_with("pg_advisory") {
                    StatementKind::Other
                } else {
                    StatementKind::Read
                }
            }
            _ => StatementKind::Other,
        }
    }
}

impl StatementMix {
    pub fn add(&mut self, query: &str, calls: u64) {
        match StatementKind::of(query) {
            StatementKind::Read => self.reads += calls,
            StatementKind::Write => self.writes += calls,
            StatementKind::Other => self.other += calls,
        }
    }

    /// Reads per write, when there were writes.
    pub fn read_write_ratio(&self) -> Option<f64> {
        (self.writes > 0).then(|| self.reads as f64 / self.writes as f64)
    }
}

#[cfg(test)]
mod statement_tests {
    use super::*;

    #[test]
    fn statements_are_classified_by_what_they_do() {
        use StatementKind::*;
        for (q, kind) in [
            ("SELECT id FROM shop.products WHERE id = $1", Read),
            ("  select set_config($1, $2, true)", Other),
            ("WITH x AS (SELECT 1) SELECT * FROM x", Read),
            ("WITH moved AS (UPDATE shop.orders SET status = $1 RETURNING id) SELECT count(*) FROM moved", Write),
            ("INSERT INTO shop.orders VALUES ($1)", Write),
            ("update shop.product_inventory set reserved_quantity = $1", Write),
            ("BEGIN", Other),
            ("COMMIT", Other),
            ("SET LOCAL statement_timeout = 1000", Other),
        ] {
            assert_eq!(StatementKind::of(q), kind, "{q}");
        }
        let mut mix = StatementMix::default();
        mix.add("SELECT 1", 9);
        mix.add("DELETE FROM t", 1);
        mix.add("BEGIN", 10);
        assert_eq!(mix.read_write_ratio(), Some(9.0));
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Statement {
    pub query: String,
    pub calls: u64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub rows: u64,
    pub shared_blks_hit: u64,
    pub shared_blks_read: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Capacity {
    pub steps: Vec<CapacityStep>,
    /// Highest step whose every operation met its SLO.
    pub sustainable_rate: Option<f64>,
    /// Why the search stopped above `sustainable_rate`.
    pub limit: Option<Limit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CapacityStep {
    pub target_rate: f64,
    pub achieved_rate: f64,
    /// Highest p99 of any operation, ms (the curve's y axis).
    pub worst_p99_ms: f64,
    pub worst_operation: String,
    pub error_rate: f64,
    pub pass: bool,
    /// The targets the step broke.
    #[serde(default)]
    pub broken: Vec<Broken>,
    /// p99 per operation at this step, ms.
    #[serde(default)]
    pub p99_ms: BTreeMap<String, f64>,
}

/// Why a capacity search stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Limit {
    /// The step at `rate` broke a target (the first one listed).
    Broke { rate: f64, broken: Broken },
    /// Ctrl-C stopped the search at the step at `rate`.
    Interrupted { rate: f64 },
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Broke { rate, broken } => write!(f, "{rate:.1} operations/s: {broken}"),
            Limit::Interrupted { rate } => write!(f, "{rate:.1} operations/s: interrupted"),
        }
    }
}

impl CapacityStep {
    /// The step at `target_rate`: one point of the latency-vs-throughput curve.
    pub fn of(results: &RunResults, target_rate: f64) -> Self {
        let p99 = |o: &OperationResult| o.latency.p99_us as f64 / 1e3;
        let (worst_operation, worst_p99_ms) = results
            .operations
            .iter()
            .map(|o| (o.name.clone(), p99(o)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or_default();
        let scheduled: u64 = results.operations.iter().map(|o| o.scheduled).sum();
        let bad: u64 = results
            .operations
            .iter()
            .map(|o| slo::errors(o) + o.dropped)
            .sum();
        CapacityStep {
            target_rate,
            achieved_rate: results.schedule.achieved_rate,
            worst_p99_ms,
            worst_operation,
            error_rate: if scheduled > 0 {
                bad as f64 / scheduled as f64
            } else {
                0.0
            },
            pass: results.verdict.pass && !results.interrupted,
            broken: results.verdict.failures.clone(),
            p99_ms: results
                .operations
                .iter()
                .map(|o| (o.name.clone(), p99(o)))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunVerdict {
    pub pass: bool,
    /// Each broken target.
    pub failures: Vec<Broken>,
}

impl RunVerdict {
    pub fn of(operations: &[OperationResult]) -> Self {
        let failures = slo::broken(operations);
        RunVerdict {
            pass: failures.is_empty(),
            failures,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {detail}")]
    Read { path: String, detail: String },
    #[error("writing {path}: {detail}")]
    Write { path: String, detail: String },
}

impl RunResults {
    /// Reads `DIR/results.json` (or a file path), refusing other schema versions.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = if path.is_dir() {
            path.join(FILE_NAME)
        } else {
            path.to_path_buf()
        };
        let err = |detail: String| Error::Read {
            path: file.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(&file).map_err(|e| err(e.to_string()))?;
        Self::parse(&text, &file.display().to_string())
    }

    /// Reads a results file's text; `name` says where it came from in errors.
    pub fn parse(text: &str, name: &str) -> Result<Self, Error> {
        let err = |detail: String| Error::Read {
            path: name.to_string(),
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        match version {
            Some(v) if v == SCHEMA_VERSION as u64 || v == 1 => {}
            Some(v) => {
                return Err(err(format!(
                    "schema_version {v}, this shopbench reads 1 to {SCHEMA_VERSION}: use the shopbench that wrote it"
                )))
            }
            None => return Err(err("no schema_version: not a shopbench results file".into())),
        }
        let mut value = value;
        if version == Some(1) {
            // The text verdicts of version 1 are judged again below, not read.
            value["verdict"]["failures"] = serde_json::Value::Array(Vec::new());
            // A capacity step's profile was written as `capacity step`: each step is constant.
            if value["config"]["profile"] == "capacity step" {
                value["config"]["profile"] = "constant".into();
            }
            if let Some(c) = value["capacity"].as_object_mut() {
                c.remove("limit");
            }
        }
        let mut results: RunResults =
            serde_json::from_value(value).map_err(|e| err(format!("not a results file: {e}")))?;
        if version == Some(1) {
            results.upgrade_v1();
        }
        Ok(results)
    }

    /// A version 1 file carried its verdicts as text, which version 2 does not read: they are
    /// judged again from the figures the file holds (the same rules). A capacity step's broken
    /// targets are recovered from its p99 per operation (v1 did not keep its p95s), and the
    /// search's limit from the lowest failing step above the sustainable rate.
    fn upgrade_v1(&mut self) {
        for op in &mut self.operations {
            op.verdict = slo::judge(op);
        }
        self.verdict = RunVerdict::of(&self.operations);
        let slos: BTreeMap<String, Slo> = self
            .operations
            .iter()
            .map(|o| (o.name.clone(), o.slo))
            .collect();
        if let Some(capacity) = &mut self.capacity {
            for step in capacity.steps.iter_mut().filter(|s| !s.pass) {
                step.broken = step
                    .p99_ms
                    .iter()
                    .filter_map(|(op, &p99)| {
                        let target = slos.get(op)?.p99_ms;
                        (p99 > target).then(|| Broken {
                            operation: op.clone(),
                            check: slo::Check {
                                figure: slo::Figure::P99,
                                target,
                                measured: p99,
                                pass: false,
                            },
                        })
                    })
                    .collect();
            }
            let floor = capacity.sustainable_rate.unwrap_or(0.0);
            capacity.limit = capacity
                .steps
                .iter()
                .filter(|s| !s.pass && s.target_rate > floor)
                .min_by(|a, b| a.target_rate.total_cmp(&b.target_rate))
                .and_then(|s| {
                    Some(Limit::Broke {
                        rate: s.target_rate,
                        broken: s.broken.first()?.clone(),
                    })
                });
        }
        self.schema_version = SCHEMA_VERSION;
    }

    /// Writes `DIR/results.json` atomically (a temporary file renamed into place), so a reader
    /// never sees half a file.
    pub fn write(&self, dir: &Path) -> Result<std::path::PathBuf, Error> {
        let path = dir.join(FILE_NAME);
        crate::file::write_atomic(&path, &self.to_json()).map_err(|e| Error::Write {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Ok(path)
    }

    /// The file's text, as `write` writes it.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("results serialize")
    }

    pub fn operation(&self, name: &str) -> Option<&OperationResult> {
        self.operations.iter().find(|o| o.name == name)
    }
}
