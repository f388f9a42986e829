//! What `run` and `capacity` share: load the mix, find the seeded data and rebuild its model,
//! connect the services the mix needs (failing early, exit 3, when one is unreachable), measure
//! one plan with the database observed around it, and assemble `RunResults`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use generator::load::postgres as pgload;
use generator::Model;
use platform::services;
use platform::{SecretUrl, Settings};
use reports::results::{Database, Environment, RunConfig, RunResults, RunVerdict, SCHEMA_VERSION};
use scenarios::context::{Context, ObjectStore, SearchBackend};
use scenarios::db::Db;
use scenarios::engine::{self, Entry, Lane, Outcome as EngineOutcome, Plan, Tick};
use scenarios::lanes::Lanes;
use scenarios::mix::Mix;
use scenarios::pacing::{Arrivals, Pacing};

use crate::cli::{ArrivalsArg, EngineArgs};
use crate::exit::UsageError;

const REDIS_OPS: &[&str] = &["product_detail", "login", "cart", "catalog_update"];
const CLICKHOUSE_OPS: &[&str] = &["analytics_ingest", "dashboard"];

pub struct Session {
    pub mix: Mix,
    pub ctx: Arc<Context>,
    /// The client threads, and the context of each (its own application connections).
    lanes: Lanes,
    lane_contexts: Vec<Arc<Context>>,
    pub admin: PgPool,
    pub environment: Environment,
}

/// The mix with the command line's SLO overrides, or a usage error.
pub fn mix(name: &str, overrides: &[String]) -> Result<Mix> {
    let mut mix = scenarios::mix::load(name).map_err(|e| UsageError(e.to_string()))?;
    for o in overrides {
        mix.override_slo(o, |v| {
            crate::cli::parse_duration(v)
                .ok()
                .map(|d| d.as_secs_f64() * 1e3)
        })
        .map_err(|e| UsageError(e.to_string()))?;
    }
    Ok(mix)
}

/// The output folder must be a folder we can write.
pub fn check_out(dir: &std::path::Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(UsageError(format!(
            "--out {}: exists and is not a folder; give a folder path",
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        UsageError(format!(
            "--out {}: cannot create the folder ({e}); give a writable path",
            dir.display()
        ))
    })?;
    Ok(())
}

fn pool_options(url: &SecretUrl, timeout: Duration) -> Result<PgConnectOptions> {
    let opts: PgConnectOptions = url
        .expose()
        .as_str()
        .parse()
        .context("reading the PostgreSQL URL")?;
    Ok(opts
        .application_name("shopbench-run")
        .options([("statement_timeout", format!("{}", timeout.as_millis()))]))
}

pub async fn prepare(
    settings: &Settings,
    mix: Mix,
    engine: &EngineArgs,
    connections: u32,
) -> Result<Session> {
    let target = services::postgres(settings).await?;
    let loader = pgload::connect(&target.loader, 2).await?;
    let run = pgload::existing_run(&loader)
        .await?
        .ok_or(generator::error::Error::NoSeed)?;
    if !run.finished {
        return Err(UsageError(
            "the seed in this database was interrupted: run `shopbench seed --resume` first".into(),
        )
        .into());
    }
    let config = run.config.clone();
    let model = Arc::new(tokio::task::spawn_blocking(move || Model::new(config)).await?);
    // One connection here proves the role can connect (exit 3 if not); the workers' own
    // connections are opened on their client threads below.
    let app = Db::connect(
        target.app.expose().as_str(),
        "shopbench-run",
        1,
        1,
        engine.timeout,
        engine.timeout,
    )
    .await
    .with_context(|| format!("connecting to {} as the application role", target.app))?;
    let admin = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(pool_options(&target.admin, Duration::from_secs(60))?)
        .await
        .with_context(|| format!("connecting to {}", target.admin))?;
    let uses = |ops: &[&str]| {
        mix.operations
            .iter()
            .any(|o| ops.contains(&o.name.as_str()))
    };
    let redis = if uses(REDIS_OPS) {
        let url = services::redis_url(settings).await?;
        let client = redis::Client::open(url.expose().as_str()).context("reading the Redis URL")?;
        Some(
            redis::aio::ConnectionManager::new(client)
                .await
                .with_context(|| format!("connecting to Redis at {url}"))?,
        )
    } else {
        None
    };
    let clickhouse = if uses(CLICKHOUSE_OPS) {
        if !services::clickhouse_available(settings) {
            anyhow::bail!("the mix needs ClickHouse: install clickhouse-server (scripts/install-deps.sh) or set CLICKHOUSE_URL");
        }
        let url = services::clickhouse_url(settings).await?;
        let client =
            platform::schema::clickhouse::client(&url, Some(&settings.clickhouse_database));
        client
            .query("SELECT 1")
            .execute()
            .await
            .with_context(|| format!("connecting to ClickHouse at {url}"))?;
        Some(client)
    } else {
        None
    };
    let store = if uses(&["catalog_update"]) {
        Some(object_store(settings).await?)
    } else {
        None
    };
    let search = match &settings.search.url {
        Some(url) => SearchBackend::Elastic {
            url: url.expose().clone(),
            http: generator::load::http_client(Duration::from_secs(30))?,
        },
        None => SearchBackend::Postgres,
    };
    let batch = if uses(&["analytics_refresh"]) {
        Some(
            Db::connect(
                target.loader.expose().as_str(),
                "shopbench-batch",
                2,
                1,
                Duration::from_secs(60),
                engine.timeout,
            )
            .await
            .with_context(|| format!("connecting to {} as the batch role", target.loader))?,
        )
    } else {
        None
    };
    let environment = super::environment::collect(
        settings,
        &run,
        &admin,
        redis.clone(),
        clickhouse.as_ref(),
        &search,
    )
    .await;
    let ctx = Arc::new(Context {
        batch,
        redis,
        clickhouse,
        store,
        search,
        hot: mix.hot_products,
        ..Context::new(model, app)
    });
    let lanes = Lanes::start(
        engine
            .client_threads
            .map_or_else(Lanes::default_count, |n| n as usize),
    )
    .context("starting the client threads")?;
    let lane_contexts = ctx
        .on_lanes(&lanes, connections as usize)
        .await
        .with_context(|| format!("connecting to {} as the application role", target.app))?;
    Ok(Session {
        mix,
        ctx,
        lanes,
        lane_contexts,
        admin,
        environment,
    })
}

async fn object_store(settings: &Settings) -> Result<ObjectStore> {
    if settings.s3.url.is_none() && services::process::find_binary("weed", &[]).is_none() {
        anyhow::bail!("the mix's catalog_update needs an S3 store: install SeaweedFS (scripts/install-deps.sh) or set S3_ENDPOINT");
    }
    let (endpoint, credentials) = services::s3(settings).await?;
    let store = generator::load::images::Store {
        endpoint: endpoint.expose().clone(),
        bucket: settings.s3_bucket.clone(),
        credentials: credentials.clone(),
    };
    Ok(ObjectStore {
        bucket: rusty_s3::Bucket::new(
            endpoint.expose().clone(),
            rusty_s3::UrlStyle::Path,
            settings.s3_bucket.clone(),
            "us-east-1",
        )
        .context("the S3 endpoint")?,
        credentials: credentials.map(|(a, s)| rusty_s3::Credentials::new(a, s)),
        http: generator::load::http_client(Duration::from_secs(30))?,
        base_url: generator::load::images::base_url(&store),
    })
}

impl Session {
    /// The mix's operations on each client thread, bound to that thread's connections.
    fn lanes(&self) -> Vec<Lane> {
        self.lanes
            .handles()
            .iter()
            .zip(&self.lane_contexts)
            .map(|(handle, ctx)| Lane {
                handle: handle.clone(),
                entries: self
                    .mix
                    .operations
                    .iter()
                    .map(|o| Entry {
                        name: o.name.clone(),
                        weight: o.weight,
                        op: scenarios::operation::build(&o.name, ctx)
                            .expect("mix operations are known"),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Runs `plan` with the database observed around it; Ctrl-C (or `shutdown`) ends it early.
    pub async fn measure(
        &self,
        plan: &Plan,
        shutdown: CancellationToken,
        quiet: bool,
    ) -> (EngineOutcome, Database) {
        let before = scenarios::observer::snapshot(&self.admin).await;
        let outcome = engine::run_on(plan, self.lanes(), shutdown, |t| {
            if !quiet {
                eprintln!("{}", live_line(t));
            }
        })
        .await;
        let after = scenarios::observer::snapshot(&self.admin).await;
        let database = scenarios::observer::delta(&self.admin, &before, &after, 20).await;
        (outcome, database)
    }

    pub fn results(
        &self,
        kind: &str,
        plan: &Plan,
        config: RunConfig,
        started: chrono::DateTime<chrono::Utc>,
        outcome: &EngineOutcome,
        database: Database,
    ) -> RunResults {
        let operations = scenarios::results::operations(&self.mix, outcome);
        RunResults {
            schema_version: SCHEMA_VERSION,
            kind: kind.into(),
            started_at: started.to_rfc3339(),
            finished_at: chrono::Utc::now().to_rfc3339(),
            interrupted: outcome.interrupted,
            config,
            environment: self.environment.clone(),
            measured_s: outcome.measured.as_secs_f64(),
            schedule: scenarios::results::schedule(plan, outcome),
            tiers: scenarios::results::tiers(outcome),
            verdict: RunVerdict::of(&operations),
            operations,
            intervals: outcome.intervals.clone(),
            database,
            capacity: None,
            merged_from: Vec::new(),
        }
    }
}

pub fn arrivals(a: ArrivalsArg) -> Arrivals {
    match a {
        ArrivalsArg::Constant => Arrivals::Constant,
        ArrivalsArg::Poisson => Arrivals::Poisson,
    }
}

pub fn config(mix: &Mix, plan: &Plan, profile: &str, search: &SearchBackend) -> RunConfig {
    let (model, rate, arrivals, users, think) = match plan.pacing {
        Pacing::Open { rate, arrivals } => (
            "open",
            Some(rate),
            Some(format!("{arrivals:?}").to_lowercase()),
            None,
            None,
        ),
        Pacing::Closed { users, think } => (
            "closed",
            None,
            None,
            Some(users),
            Some(think.as_secs_f64() * 1e3),
        ),
    };
    RunConfig {
        mix: mix.name.clone(),
        model: model.into(),
        rate,
        arrivals,
        users,
        think_ms: think,
        profile: profile.into(),
        profile_detail: plan.profile.describe(),
        warmup_s: plan.warmup.as_secs_f64(),
        duration_s: plan.duration.as_secs_f64(),
        concurrency: match plan.pacing {
            Pacing::Open { .. } => plan.concurrency as u32,
            Pacing::Closed { users, .. } => users,
        },
        seed: plan.seed,
        timeout_ms: plan.timeout.as_secs_f64() * 1e3,
        max_lag_ms: plan.max_lag.as_secs_f64() * 1e3,
        search_backend: search.name().into(),
        command_line: std::env::args()
            .map(|a| platform::secret::scrub(&a))
            .collect(),
    }
}

/// The live terminal line: one per second.
fn live_line(t: &Tick) -> String {
    if t.t < 0.0 {
        // Warmup operations run but are not recorded: nothing to show but the countdown.
        return format!("warming up, {:.0} s to go (not measured)", -t.t);
    }
    let when = format!("{:>6.0}s", t.t);
    let target = t
        .target_rate
        .map(|r| format!(" (target {r:.0})"))
        .unwrap_or_default();
    let behind = if t.dropped > 0 || t.lag_max_us > 1_000_000 {
        format!(
            "  NOT KEEPING UP: {} dropped, {:.1} s behind schedule",
            t.dropped,
            t.lag_max_us as f64 / 1e6
        )
    } else {
        String::new()
    };
    format!(
        "{when}  {:>8.1} ops/s{target}  p99 {:>8.1} ms  errors {}{behind}",
        t.completed as f64,
        t.p99_us as f64 / 1e3,
        t.errors
    )
}

/// A token cancelled by Ctrl-C.
pub fn ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "interrupted: finishing the operations in flight and writing the partial results"
            );
            t.cancel();
        }
    });
    token
}

/// Prints the verdict table.
pub fn print_summary(r: &RunResults) {
    println!(
        "{:<18} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7} {:>7}  verdict",
        "operation", "ops", "p50 ms", "p95 ms", "p99 ms", "max ms", "svc p99", "errors", "dropped"
    );
    for op in &r.operations {
        let l = &op.latency;
        println!(
            "{:<18} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>10.1} {:>7} {:>7}  {}",
            op.name,
            op.succeeded + op.failed.values().sum::<u64>(),
            l.p50_us as f64 / 1e3,
            l.p95_us as f64 / 1e3,
            l.p99_us as f64 / 1e3,
            l.max_us as f64 / 1e3,
            op.service.p99_us as f64 / 1e3,
            reports::slo::errors(op),
            op.dropped,
            match op.verdict.status {
                reports::slo::Status::Pass => "pass".to_string(),
                reports::slo::Status::NoData => "no data".to_string(),
                reports::slo::Status::Fail => format!("FAIL: {}", op.verdict.reasons.join("; ")),
            }
        );
    }
    println!("{}", r.schedule.note);
    if let Some(h) = r.database.hit_ratio {
        println!(
            "database: buffer hit ratio {:.4}, {} deadlocks, {} commits, {} rollbacks",
            h, r.database.deadlocks, r.database.commits, r.database.rollbacks
        );
    }
}
