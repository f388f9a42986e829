//! The command line. Doc comments are the help text; durations and rates are parsed here, at the
//! boundary, into `Duration` and `f64` (never kept as strings). Connection URLs are kept as
//! strings until `platform::Settings` validates them, so that a malformed URL's password never
//! reaches clap's error message.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
pub use generator::Scale;
use platform::services::Service;
use results::load::{Arrivals, Shape, Shard};

pub use crate::commands::store::Place;

/// Load-testing and benchmark harness for the data tier of a multi-tenant e-commerce platform:
/// provisions PostgreSQL/ClickHouse/search, seeds realistic data, runs workloads with
/// coordinated-omission-free latency, and reports against sub-second SLOs.
///
/// Exit codes: 0 ok, 1 a check failed (SLO, regression, schema check), 2 bad input, 3 environment
/// failure (server unreachable, binary missing).
#[derive(Debug, Parser)]
#[command(name = "shopbench", version, max_term_width = 110)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts. Precedence: flag > environment > shopbench.toml > default
/// (a managed local server).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file [env: SHOPBENCH_CONFIG] [default: ./shopbench.toml when present]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Folder of the managed services' data and state [env: SHOPBENCH_HOME] [default: ./.shopbench]
    #[arg(long, global = true, value_name = "PATH")]
    pub workdir: Option<PathBuf>,
    /// PostgreSQL to use instead of the managed cluster (a superuser for `schema apply`) [env: DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Redis to use instead of the managed one [env: REDIS_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub redis_url: Option<String>,
    /// ClickHouse HTTP endpoint to use instead of the managed one [env: CLICKHOUSE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub clickhouse_url: Option<String>,
    /// Elasticsearch/OpenSearch for product search [env: SEARCH_URL] [default: PostgreSQL full-text search]
    #[arg(long, global = true, value_name = "URL")]
    pub search_url: Option<String>,
    /// S3 endpoint to use instead of the managed SeaweedFS [env: S3_ENDPOINT]
    #[arg(long, global = true, value_name = "URL")]
    pub s3_endpoint: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the local services, provision and check the schema, seed `tiny` and verify it;
    /// prints what it did and where
    Demo,
    /// Start the managed local services (all of them by default)
    Up {
        /// Which services
        #[arg(value_enum)]
        services: Vec<Service>,
    },
    /// Stop the managed local services (all of them by default); `up` starts them again
    Down {
        /// Which services
        #[arg(value_enum)]
        services: Vec<Service>,
    },
    /// Show which servers are used, where, and whether they answer
    Status,
    /// Provision, audit or recreate the schema
    Schema {
        #[command(subcommand)]
        action: SchemaCommand,
    },
    /// Generate and load realistic, deterministic data
    Seed(SeedArgs),
    /// Check the seeded data: counts, referential integrity, invariants, distributions; exit 1
    /// if anything is off
    Verify(VerifyArgs),
    /// Run a workload mix and write DIR/results.json
    Run(RunArgs),
    /// Step the arrival rate until an SLO fails; report the highest sustainable rate
    Capacity(CapacityArgs),
    /// Render DIR/report.html, DIR/summary.md and DIR/junit.xml from DIR/results.json
    Report(ReportArgs),
    /// Compare a run against a baseline; exit 1 on regression
    Compare(CompareArgs),
    /// Measure the instrument's own floor on this machine: the point-read operation beside
    /// pgbench on the same statements (needs a seeded database and pgbench); exit 1 if a target
    /// is missed
    Calibrate(CalibrateArgs),
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Apply pending migrations (PostgreSQL) and the analytics tables (ClickHouse); a second apply does nothing
    Apply,
    /// Report drift, unindexed foreign keys, duplicate indexes, RLS and grant problems; exit 1 if any
    Check,
    /// Drop shopbench's schemas (ALL DATA) and apply again
    Reset {
        /// Confirm dropping the data of an external database (not needed for the managed cluster)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Checks run at once, each on its own connection [default: number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Scale profile
    #[arg(long, value_enum, default_value_t = Scale::Tiny)]
    pub scale: Scale,
    /// Multiply `full` by F instead of using a profile (e.g. 0.05)
    #[arg(long, value_name = "F", value_parser = parse_positive_f64, conflicts_with = "scale")]
    pub scale_factor: Option<f64>,
    /// Seed of every generated value
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Parallel load streams [default: number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
    /// Continue an interrupted seed: load only the chunks not yet committed
    #[arg(long)]
    pub resume: bool,
    /// Print the plan (rows and disk per table) and load nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The day the seeded history ends (3 years of orders before it) [default: today, UTC]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Product popularity: the Zipf exponent θ of each tenant's best-seller ranking (0 < θ ≤ 3;
    /// 0.99 is YCSB's default, higher concentrates sales on fewer products)
    #[arg(long, value_name = "THETA", default_value_t = generator::model::PRODUCT_ZIPF, value_parser = parse_zipf)]
    pub product_zipf: f64,
    /// Distinct sample images uploaded to the object store and shared by the products
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub images: u32,
    /// No progress bars; only the summary
    #[arg(long, conflicts_with = "json")]
    pub quiet: bool,
    /// Progress and summary as JSON lines on stdout (for CI)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("pacing").required(true).args(["rate", "users"])))]
pub struct RunArgs {
    /// Mix name (storefront, black-friday, analytics, point-read) or path to a mix .toml
    #[arg(long)]
    pub mix: String,
    /// Open model: operations per second overall (e.g. 200, 5k), split across the mix by weight
    #[arg(long, value_name = "OPS_PER_S", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Closed model: concurrent users, each running an operation then thinking
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub users: Option<u32>,
    /// Closed model: think time between a user's operations
    #[arg(long, value_parser = parse_duration, default_value = "0s", requires = "users")]
    pub think: Duration,
    /// How long to measure (e.g. 60s, 5m)
    #[arg(long, value_parser = parse_positive_duration, default_value = "60s")]
    pub duration: Duration,
    /// Run before measuring, excluded from results
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub warmup: Duration,
    /// Load profile over the measured window
    #[arg(long, value_enum, default_value_t = Shape::Constant)]
    pub profile: Shape,
    /// Ramp profile: time to go from 10% to 100% of the load
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub ramp_up: Duration,
    /// Step profile: number of equal steps up to the full load
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub steps: u32,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Run shard I of a run split across N generators (0 ≤ I < N): the operations of the
    /// one-generator run whose sequence number is I modulo N (open model), or those users
    /// (closed model); --rate is the whole run's. Needs --start-at
    #[arg(long, value_name = "I/N", value_parser = parse_shard, requires = "start_at", conflicts_with = "shards")]
    pub shard: Option<Shard>,
    /// --shard I/N with I from JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job)
    #[arg(long, value_name = "N", requires = "start_at", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub shards: Option<u32>,
    /// Intended starts count from this wall-clock moment (RFC 3339, e.g. 2026-12-04T21:00:00Z):
    /// the generators of a split run, on any machines, run one schedule
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start_at: Option<DateTime<Utc>>,
    /// Output: a folder, or s3://BUCKET/PREFIX/ on the project's S3 endpoint; a shard writes
    /// shard-I/results.json under it
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX/", value_parser = Place::parse)]
    pub out: Place,
}

/// Options shared by `run` and `capacity`.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Open model: workers and database connections (the pool is sized to it)
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Open model: arrival process
    #[arg(long, value_enum, default_value_t = Arrivals::Poisson)]
    pub arrivals: Arrivals,
    /// Seed of the operation sequence (same seed, same operations and entities)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// An operation taking longer fails with class `timeout`
    #[arg(long, value_parser = parse_timeout, default_value = "10s")]
    pub timeout: Duration,
    /// Open model: an operation this late behind its intended start is dropped (and counted)
    #[arg(long, value_parser = parse_positive_duration, default_value = "5s")]
    pub max_lag: Duration,
    /// Override an SLO target: OPERATION.p95=DURATION or OPERATION.p99=DURATION (repeatable)
    #[arg(long = "slo", value_name = "OP.pNN=DURATION")]
    pub slo: Vec<String>,
    /// No live line per second
    #[arg(long)]
    pub quiet: bool,
    /// Client threads the workers and their connections are spread over (default: half the
    /// machine's cores, at least one)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub client_threads: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct CapacityArgs {
    /// Mix name or path
    #[arg(long)]
    pub mix: String,
    /// First arrival rate tried (operations per second)
    #[arg(long, value_parser = parse_rate, default_value = "20")]
    pub start_rate: f64,
    /// Each step multiplies the rate by this
    #[arg(long, value_parser = parse_positive_f64, default_value = "1.5")]
    pub factor: f64,
    /// Measured time per step
    #[arg(long, value_parser = parse_positive_duration, default_value = "20s")]
    pub step_duration: Duration,
    /// Warmup before each step
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub warmup: Duration,
    /// Give up after this many geometric steps
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_steps: u32,
    /// After the first failing step, bisect between it and the last passing one this many times
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub refine: u32,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Output folder (results.json of the highest sustainable step, with the whole curve)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CalibrateArgs {
    /// Open-model arrival rate, operations per second (repeatable)
    #[arg(long = "rate", value_name = "OPS_PER_S", value_parser = parse_rate, default_values = ["50", "500", "2000"])]
    pub rates: Vec<f64>,
    /// Measured time of each open-model run (whole seconds); a closed round is a sixth of it,
    /// 3 s at least
    #[arg(long, value_parser = parse_whole_seconds, default_value = "20s")]
    pub duration: Duration,
    /// Connections on each side
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub connections: u32,
    /// Client threads on each side (pgbench -j)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub client_threads: u32,
    /// Closed-model rounds (shopbench, pgbench and the bare driver, alternating); 0 skips the
    /// closed model
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub rounds: u32,
    /// pgbench to run [default: beside the PostgreSQL binaries, or on the PATH]
    #[arg(long, value_name = "PATH")]
    pub pgbench: Option<PathBuf>,
    /// Also write DIR/calibration.json (both sides' histograms, every round, the targets judged)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub action: Option<ReportCommand>,
    /// Folder holding results.json; report.html, summary.md and junit.xml are written beside it
    #[arg(value_name = "DIR", required = true)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ReportCommand {
    /// Merge results of several load generators exactly (histograms added); the shards of a
    /// split run are checked first: all there, once, of one run
    Merge {
        /// Result folders, each holding results.json or shard-I folders, or s3://BUCKET/PREFIX/
        #[arg(required = true, num_args = 1.., value_name = "DIR|s3://BUCKET/PREFIX/", value_parser = Place::parse)]
        sources: Vec<Place>,
        /// Output: the merged results.json and its report, in a folder or s3://BUCKET/PREFIX/
        #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX/", value_parser = Place::parse)]
        out: Place,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Baseline run folder (holding results.json)
    pub baseline: PathBuf,
    /// Current run folder (holding results.json)
    pub current: PathBuf,
    /// Folder for compare.html and compare.md [default: the current run's folder]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A change must exceed the run-to-run noise (estimated from each run's per-second
    /// histograms) at this confidence, over all figures together: the chance that a rerun of
    /// the same build is flagged anywhere is at most 100% minus this
    #[arg(long, default_value = "99%", value_parser = parse_share)]
    pub confidence: f64,
    /// ... and this share of the baseline figure
    #[arg(long, default_value = "10%", value_parser = parse_share)]
    pub threshold: f64,
    /// ... and this much time
    #[arg(long, default_value = "200us", value_parser = parse_duration)]
    pub floor: Duration,
    /// An error-rate change must exceed this many percentage points (and the noise)
    #[arg(long, default_value = "0.5%", value_parser = parse_share)]
    pub error_floor: f64,
}

/// `10s`, `1m30s`, `250ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e} (write it like 30s, 5m or 1h)"))?;
    Ok(d)
}

/// A duration of whole seconds, at least one (pgbench's `-T`).
pub fn parse_whole_seconds(s: &str) -> Result<Duration, String> {
    let d = parse_positive_duration(s)?;
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "'{s}' must be whole seconds (write it like 20s or 1m)"
        ));
    }
    Ok(d)
}

/// A duration that must be more than zero (a measured window, a timeout, a lag limit).
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "'{s}' must be longer than zero (write it like 30s or 5m)"
        ));
    }
    Ok(d)
}

/// An operation's timeout: more than zero, and within what PostgreSQL's `statement_timeout`
/// (set to it on every connection) accepts: at most 2^31 - 1 ms, about 24 days.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_positive_duration(s)?;
    if d.as_millis() > i32::MAX as u128 {
        return Err(format!(
            "'{s}' is longer than PostgreSQL's statement_timeout allows (at most 24 days; write it like 10s or 2m)"
        ));
    }
    Ok(d)
}

/// `200`, `1.5k`, `2M` operations per second; must be positive.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (number, multiplier) = match t.chars().last() {
        Some('k') | Some('K') => (&t[..t.len() - 1], 1e3),
        Some('m') | Some('M') => (&t[..t.len() - 1], 1e6),
        _ => (t, 1.0),
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("'{s}' is not a rate (write it like 200, 1.5k or 2M operations per second)")
    })?;
    let rate = value * multiplier;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("rate must be positive, got '{s}'"));
    }
    Ok(rate)
}

/// `10%` or `0.1`: a share between 0 and 1.
pub fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("'{s}' is not a share (write it like 10% or 0.1)"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("'{s}' must be between 0% and 100%"));
    }
    Ok(value)
}

/// `I/N`: shard I of N.
fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// RFC 3339: `2026-12-04T21:00:00Z`, `2026-12-04T22:00:00+01:00`.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("'{s}' is not an RFC 3339 time: write it like 2026-12-04T21:00:00Z"))
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31"))
}

fn parse_positive_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if !v.is_finite() || v <= 0.0 {
        return Err(format!("must be positive, got '{s}'"));
    }
    Ok(v)
}

fn parse_zipf(s: &str) -> Result<f64, String> {
    let v = parse_positive_f64(s)?;
    if v > 3.0 {
        return Err(format!(
            "a Zipf exponent above 3 puts nearly every sale on one product, got '{s}': use 0 < THETA <= 3"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_durations_parse_at_the_boundary() {
        assert_eq!(parse_rate("200").unwrap(), 200.0);
        assert_eq!(parse_rate("1.5k").unwrap(), 1500.0);
        assert_eq!(parse_rate("2M").unwrap(), 2e6);
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("soon").is_err());
        assert!(parse_positive_duration("0s").is_err());
        assert_eq!(
            parse_positive_duration("1ms").unwrap(),
            Duration::from_millis(1)
        );
        assert_eq!(parse_share("10%").unwrap(), 0.1);
        assert_eq!(parse_share("0.25").unwrap(), 0.25);
        assert!(parse_share("150%").is_err());
        assert!(parse_share("lots").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
