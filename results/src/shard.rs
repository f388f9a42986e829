//! One load generator's part of a run split across several (`run --shard I/N --start-at T`):
//! which shard it ran, the run it belongs to, when it was told to start and how late it was
//! ready, and how far its wall clock can be trusted. `report merge` checks that every shard of one
//! run is there, once, with the configuration its run id was made from.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::load::Shard;
use crate::run::{RunConfig, RunResults};
use crate::slo::Slo;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShardRun {
    pub shard: Shard,
    /// The same for every shard of one run: a digest of the configuration (less what is each
    /// shard's own: workers, connections, the command line), the mix's operations and targets,
    /// the data's fingerprint, the shard count and the start time.
    pub run_id: String,
    /// `--start-at`, RFC 3339 UTC: intended starts count from it on every shard.
    pub start_at: String,
    /// How long after `start_at` this generator was ready to start, ms (0: on time). A late
    /// generator still keeps the shared schedule: its first operations start late, and count so.
    pub start_offset_ms: f64,
    pub clock: Clock,
}

/// What the wall clock `start_at` was read on is worth: shards on different machines run one
/// schedule only as well as their clocks agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Clock {
    /// Where the figures come from, e.g. `kernel NTP state (adjtimex)`.
    pub source: String,
    /// The kernel's view: synchronized to a time source (NTP, PTP, chrony), or not.
    pub synchronized: Option<bool>,
    /// The kernel's estimated error of the wall clock, µs.
    pub estimated_error_us: Option<u64>,
    /// The kernel's maximum error of the wall clock, µs.
    pub max_error_us: Option<u64>,
}

/// What a run id is made of.
#[derive(Serialize)]
struct Identity<'a> {
    config: RunConfig,
    data_fingerprint: &'a str,
    operations: Vec<(&'a str, f64, Slo)>,
    shards: u32,
    start_at: &'a str,
}

/// The run id of `results` as one of `shards` shards started at `start_at` (hex, 16 digits).
pub fn run_id(results: &RunResults, shards: u32, start_at: &str) -> String {
    let mut config = results.config.clone();
    // Each shard's own: its workers and connections, and how it was invoked.
    config.concurrency = 0;
    config.command_line.clear();
    let identity = Identity {
        config,
        data_fingerprint: &results.environment.data_fingerprint,
        operations: results
            .operations
            .iter()
            .map(|o| (o.name.as_str(), o.weight, o.slo))
            .collect(),
        shards,
        start_at,
    };
    let json = serde_json::to_vec(&identity).expect("a run identity serializes");
    hex::encode(&Sha256::digest(&json)[..8])
}
