//! A workload session: the seeded data found and its model rebuilt, exactly the services the
//! mix's operations need connected (from the registry's `needs`; an unreachable one fails early),
//! one `Context` per client thread, and the database observed around each measured plan. `run`,
//! `capacity` and the benches all open one the same way.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use generator::load::postgres as pgload;
use generator::Model;
use platform::{services, ErrorKind, Settings};
use results::load::Kind;
use results::run::{Database, Environment, RunResults, RunVerdict, SCHEMA_VERSION};

use crate::context::{Context, ObjectStore, SearchBackend};
use crate::db::Db;
use crate::engine::{self, Entry, Lane, Outcome, Plan, Tick};
use crate::lanes::Lanes;
use crate::mix::Mix;
use crate::operation::Need;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the seed in this database was interrupted: run `shopbench seed --resume` first")]
    Unfinished,
    #[error("the mix needs ClickHouse: install clickhouse-server (scripts/install-deps.sh) or set CLICKHOUSE_URL")]
    NoClickHouse,
    #[error("the mix's catalog_update needs an S3 store: install SeaweedFS (scripts/install-deps.sh) or set S3_ENDPOINT")]
    NoObjectStore,
    #[error("connecting to {what}: {detail}")]
    Connect { what: String, detail: String },
    #[error("starting the client threads: {0}")]
    Lanes(std::io::Error),
    #[error(transparent)]
    Platform(#[from] platform::Error),
    #[error(transparent)]
    Generator(#[from] generator::error::Error),
}

impl Error {
    /// Bad input (exit 2) or the environment (exit 3).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unfinished => ErrorKind::BadInput,
            Error::Generator(generator::error::Error::NoSeed) => ErrorKind::BadInput,
            Error::Platform(e) => e.kind(),
            _ => ErrorKind::Environment,
        }
    }
}

fn connect(what: impl std::fmt::Display) -> impl FnOnce(String) -> Error {
    let what = what.to_string();
    move |detail| Error::Connect { what, detail }
}

/// How the session connects.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// An operation's timeout (the application role's `statement_timeout` too).
    pub timeout: Duration,
    /// Client threads (default: `Lanes::default_count()`).
    pub client_threads: Option<usize>,
    /// Application connections, spread over the client threads.
    pub connections: usize,
}

pub struct Session {
    pub mix: Mix,
    pub ctx: Arc<Context>,
    /// The client threads, and the context of each (its own application connections).
    lanes: Lanes,
    lane_contexts: Vec<Arc<Context>>,
    admin: PgPool,
    pub environment: Environment,
}

impl Session {
    pub async fn open(settings: &Settings, mix: Mix, options: &Options) -> Result<Session, Error> {
        let target = services::postgres(settings).await?;
        let loader = pgload::connect(&target.loader, 2).await?;
        let run = pgload::existing_run(&loader)
            .await?
            .ok_or(generator::error::Error::NoSeed)?;
        if !run.finished {
            return Err(Error::Unfinished);
        }
        let config = run.config.clone();
        let model = Arc::new(
            tokio::task::spawn_blocking(move || Model::new(config))
                .await
                .expect("building the model does not panic"),
        );
        let as_app = format!("{} as the application role", target.app);
        // One connection here proves the role can connect; the workers' own connections are
        // opened on their client threads below.
        let app = Db::connect(
            target.app.expose().as_str(),
            "shopbench-run",
            1,
            1,
            options.timeout,
            options.timeout,
        )
        .await
        .map_err(|e| connect(&as_app)(e.to_string()))?;
        let admin_options: PgConnectOptions = target
            .admin
            .expose()
            .as_str()
            .parse()
            .map_err(|e: sqlx::Error| connect(&target.admin)(e.to_string()))?;
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(
                admin_options
                    .application_name("shopbench-run")
                    .options([("statement_timeout", "60000")]),
            )
            .await
            .map_err(|e| connect(&target.admin)(platform::error::describe_sqlx(&e)))?;
        let needs = |need: Need| mix.operations.iter().any(|o| o.spec.needs.contains(&need));
        let redis = match needs(Need::Redis) {
            true => Some(redis(settings).await?),
            false => None,
        };
        let clickhouse = match needs(Need::ClickHouse) {
            true => Some(clickhouse(settings).await?),
            false => None,
        };
        let store = match needs(Need::ObjectStore) {
            true => Some(object_store(settings).await?),
            false => None,
        };
        let batch = match needs(Need::BatchRole) {
            true => Some(
                Db::connect(
                    target.loader.expose().as_str(),
                    "shopbench-batch",
                    2,
                    1,
                    Duration::from_secs(60),
                    options.timeout,
                )
                .await
                .map_err(|e| {
                    connect(format!("{} as the batch role", target.loader))(e.to_string())
                })?,
            ),
            false => None,
        };
        let search = match &settings.search.url {
            Some(url) => SearchBackend::Elastic {
                url: url.expose().clone(),
                http: http()?,
            },
            None => SearchBackend::Postgres,
        };
        let environment = crate::provenance::collect(
            settings,
            &run,
            &model,
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
        let lanes = Lanes::start(options.client_threads.unwrap_or_else(Lanes::default_count))
            .map_err(Error::Lanes)?;
        let lane_contexts = ctx
            .on_lanes(&lanes, options.connections)
            .await
            .map_err(|e| connect(&as_app)(e.to_string()))?;
        Ok(Session {
            mix,
            ctx,
            lanes,
            lane_contexts,
            admin,
            environment,
        })
    }

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
                        op: (o.spec.build)(ctx.clone()),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Runs `plan` on the client threads (nothing observed around it).
    pub async fn run(
        &self,
        plan: &Plan,
        shutdown: CancellationToken,
        on_tick: impl FnMut(&Tick),
    ) -> Outcome {
        engine::run_on(plan, self.lanes(), shutdown, on_tick).await
    }

    /// Runs `plan` with the database observed around it; `shutdown` (Ctrl-C) ends it early.
    /// `on_tick` sees each second's figures.
    pub async fn measure(
        &self,
        plan: &Plan,
        shutdown: CancellationToken,
        on_tick: impl FnMut(&Tick),
    ) -> (Outcome, Database) {
        let before = crate::observer::snapshot(&self.admin).await;
        let outcome = self.run(plan, shutdown, on_tick).await;
        let after = crate::observer::snapshot(&self.admin).await;
        let database = crate::observer::delta(&self.admin, &before, &after, 20).await;
        (outcome, database)
    }

    /// The results of one measured plan. `command_line` is recorded with secrets scrubbed.
    pub fn results(
        &self,
        kind: Kind,
        plan: &Plan,
        started: chrono::DateTime<chrono::Utc>,
        measured: (&Outcome, Database),
        command_line: &[String],
    ) -> RunResults {
        let (outcome, database) = measured;
        let operations = crate::measured::operations(&self.mix, outcome);
        RunResults {
            schema_version: SCHEMA_VERSION,
            kind,
            started_at: started.to_rfc3339(),
            finished_at: chrono::Utc::now().to_rfc3339(),
            interrupted: outcome.interrupted,
            config: crate::measured::config(&self.mix, plan, &self.ctx.search, command_line),
            environment: self.environment.clone(),
            measured_s: outcome.measured.as_secs_f64(),
            schedule: crate::measured::schedule(plan, outcome),
            tiers: crate::measured::tiers(outcome),
            verdict: RunVerdict::of(&operations),
            operations,
            intervals: outcome.intervals.clone(),
            database,
            capacity: None,
            merged_from: Vec::new(),
        }
    }
}

fn http() -> Result<reqwest::Client, Error> {
    generator::load::http_client(Duration::from_secs(30))
        .map_err(|e| connect("an HTTP client")(e.to_string()))
}

async fn redis(settings: &Settings) -> Result<redis::aio::ConnectionManager, Error> {
    let url = services::redis_url(settings).await?;
    let client = redis::Client::open(url.expose().as_str())
        .map_err(|e| connect(format!("Redis at {url}"))(e.to_string()))?;
    redis::aio::ConnectionManager::new(client)
        .await
        .map_err(|e| connect(format!("Redis at {url}"))(e.to_string()))
}

async fn clickhouse(settings: &Settings) -> Result<clickhouse::Client, Error> {
    if !services::clickhouse_available(settings) {
        return Err(Error::NoClickHouse);
    }
    let url = services::clickhouse_url(settings).await?;
    let client = platform::schema::clickhouse::client(&url, Some(&settings.clickhouse_database));
    client
        .query("SELECT 1")
        .execute()
        .await
        .map_err(|e| connect(format!("ClickHouse at {url}"))(e.to_string()))?;
    Ok(client)
}

async fn object_store(settings: &Settings) -> Result<ObjectStore, Error> {
    if settings.s3.url.is_none() && services::process::find_binary("weed", &[]).is_none() {
        return Err(Error::NoObjectStore);
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
        .map_err(|e| connect(format!("the S3 endpoint {endpoint}"))(e.to_string()))?,
        credentials: credentials.map(|(a, s)| rusty_s3::Credentials::new(a, s)),
        http: http()?,
        base_url: generator::load::images::base_url(&store),
    })
}
