//! The loaders, in the order a seed runs them: the sample images (object store), partitions and
//! the deferral of keys, indexes and foreign keys, the PostgreSQL phases in dependency order
//! (parallel COPY BINARY, one transaction per chunk with its record), the deferred objects
//! rebuilt, ANALYZE and the analytics refresh, the VACUUM of every loaded table, the search
//! index, then the ClickHouse phases. Memory is bounded by jobs × one chunk's buffers,
//! whatever the scale.

pub mod clickhouse;
pub mod images;
pub mod owner;
pub mod postgres;
pub mod progress;
pub mod rebuild;
pub mod search;
pub mod stall;
pub mod summary;
pub mod vacuum;
pub mod watch;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use sqlx::PgPool;

use crate::error::Result;
use crate::model::{Model, DAY_US};
use crate::phase::Phase;
use crate::plan::Plan;
use progress::Progress;
pub use rebuild::rebuild;
use results::seed::{SeedSummary, TableFigures};

pub struct Targets {
    pub clickhouse: Option<clickhouse::Target>,
    pub store: Option<images::Store>,
    pub search: Option<platform::SecretUrl>,
    /// The administrator's PostgreSQL connection (a superuser or a member of `shopbench_owner`),
    /// for the VACUUM that ends the PostgreSQL part ([`vacuum`]); without one, autovacuum does
    /// it after the seed.
    pub maintenance: Option<platform::SecretUrl>,
}

pub struct Options {
    pub jobs: usize,
    pub progress: progress::Mode,
}

/// An HTTP client for the object store and the search server (rustls with the ring provider, the
/// one sqlx uses, so no second TLS stack is built).
pub use platform::objects::http_client;

/// Attempts per chunk in one run before the seed stops (`seed --resume` continues it): a chunk
/// whose server went away (a restart, a terminated backend, no answer in time) is tried again.
pub const ATTEMPTS: u32 = 5;

/// The wait after failed attempt `n` (from 1): 2, 4, 8, 16 s, 30 s in all, long enough for a
/// server to restart.
fn retry_wait(n: u32) -> Duration {
    Duration::from_secs(1 << n.min(4))
}

/// `attempt(n)` for n = 1, 2, … until it succeeds, fails with an error `again` does not accept,
/// or [`ATTEMPTS`] have failed; `warn` is told of each failed attempt that will be followed by
/// another (`then`: what the next attempt does first, e.g. "undoing it and ").
async fn retrying<T, Fut>(
    then: &str,
    warn: &(dyn Fn(&str) + Sync),
    again: impl Fn(&crate::error::Error) -> bool,
    mut attempt: impl FnMut(u32) -> Fut,
) -> Result<T>
where
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut n = 1;
    loop {
        let failure = match attempt(n).await {
            Ok(done) => return Ok(done),
            Err(e) if n < ATTEMPTS && again(&e) => e,
            Err(e) => return Err(e),
        };
        warn(&format!(
            "{failure} (attempt {n} of {ATTEMPTS}): {then}trying again in {} s",
            retry_wait(n).as_secs()
        ));
        tokio::time::sleep(retry_wait(n)).await;
        n += 1;
    }
}

/// [`retrying`] for a PostgreSQL step that is safe to repeat, again only when its server went
/// away ([`crate::error::Error::is_server_gone`]).
async fn retrying_when_gone<T, Fut>(
    warn: &(dyn Fn(&str) + Sync),
    attempt: impl FnMut(u32) -> Fut,
) -> Result<T>
where
    Fut: std::future::Future<Output = Result<T>>,
{
    retrying("", warn, crate::error::Error::is_server_gone, attempt).await
}

/// Runs `f` on every item with at most `jobs` at a time; stops at the first error.
async fn parallel<T, F, Fut>(items: Vec<T>, jobs: usize, f: F) -> Result<()>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    futures::stream::iter(items.into_iter().map(f))
        .buffer_unordered(jobs.max(1))
        .try_collect::<Vec<()>>()
        .await
        .map(|_| ())
}

/// Every table a seed loads, qualified: what the rebuild ANALYZEs.
pub fn analyzed_tables() -> Vec<String> {
    crate::rows::Table::ALL
        .iter()
        .map(|t| crate::plan::qualified(*t))
        .chain(["audit.log".to_string()])
        .collect()
}

type Counters = Arc<Mutex<BTreeMap<String, (u64, u64)>>>;

fn count(counters: &Counters, table: String, rows: u64, bytes: u64) {
    let mut c = counters.lock().expect("counters lock");
    let e = c.entry(table).or_default();
    e.0 += rows;
    e.1 += bytes;
}

async fn load_postgres_phase(
    model: &Arc<Model>,
    pool: &PgPool,
    phase: Phase,
    plan: &Plan,
    options: &Options,
    progress: &Arc<Progress>,
    counters: &Counters,
) -> Result<()> {
    let done = postgres::done_chunks(pool, phase).await?;
    let chunks = phase.chunks(model);
    let todo: Vec<u64> = (0..chunks).filter(|c| !done.contains(c)).collect();
    for t in phase.tables() {
        let name = crate::plan::qualified(*t);
        let total = plan.rows.get(&name).copied().unwrap_or(0);
        let already = (total * done.len() as u64).checked_div(chunks).unwrap_or(0);
        progress.table(&name, total, already);
    }
    parallel(todo, options.jobs, |c| {
        let model = model.clone();
        let progress = progress.clone();
        let counters = counters.clone();
        async move {
            let m = model.clone();
            let batch = tokio::task::spawn_blocking(move || phase.generate(&m, c))
                .await
                .expect("generating a chunk never panics");
            let warn = |line: &str| progress.warn(line);
            postgres::load_chunk_retrying(pool, phase, c, &batch, &warn).await?;
            for (t, buf) in &batch.tables {
                let name = crate::plan::qualified(*t);
                progress.add(&name, buf.rows());
                count(&counters, name, buf.rows(), buf.len() as u64);
            }
            Ok(())
        }
    })
    .await?;
    for t in phase.tables() {
        progress.finish(&crate::plan::qualified(*t));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn load_clickhouse_phase(
    model: &Arc<Model>,
    pool: &PgPool,
    target: &clickhouse::Target,
    phase: Phase,
    hours: &clickhouse::Hours,
    options: &Options,
    progress: &Arc<Progress>,
    counters: &Counters,
) -> Result<bool> {
    let done = postgres::done_chunks(pool, phase).await?;
    let started = clickhouse::started_chunks(pool, phase).await?;
    let name = format!("clickhouse.{}", clickhouse::table(phase));
    let total = match phase {
        Phase::ChEvents => model.profile().ch_events,
        Phase::ChPageViews => model.profile().ch_page_views,
        _ => model.profile().orders,
    };
    let chunks = phase.chunks(model);
    progress.table(&name, total, total * done.len() as u64 / chunks.max(1));
    let todo: Vec<u64> = (0..chunks).filter(|c| !done.contains(c)).collect();
    // Set when a chunk may have been inserted twice (resumed, or retried after a failed
    // attempt): order facts are not deleted but collapsed, so the caller runs OPTIMIZE … FINAL.
    let twice = std::sync::atomic::AtomicBool::new(false);
    parallel(todo, options.jobs, |c| {
        let resumed = started.contains(&c);
        let twice = &twice;
        let name = name.clone();
        let progress = progress.clone();
        let counters = counters.clone();
        async move {
            let warn = |line: &str| progress.warn(line);
            // The chunk's records in PostgreSQL ride out its restart as the chunks do.
            if !resumed {
                retrying_when_gone(&warn, |_| clickhouse::mark_started(pool, phase, c)).await?;
            }
            let (rows, again) =
                clickhouse::insert_chunk_retrying(target, model, phase, c, hours, resumed, &warn)
                    .await?;
            if again {
                twice.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            retrying_when_gone(&warn, |_| clickhouse::mark_done(pool, phase, c, rows, 0)).await?;
            progress.add(
                &name,
                if phase == Phase::ChOrderFacts {
                    Phase::ChOrderFacts.range(model, c).count() as u64
                } else {
                    rows
                },
            );
            count(&counters, name, rows, 0);
            Ok(())
        }
    })
    .await?;
    progress.finish(&name);
    Ok(twice.into_inner())
}

/// Loads everything the plan holds that is not loaded yet.
pub async fn run(
    model: Arc<Model>,
    plan: &Plan,
    pool: &PgPool,
    targets: &Targets,
    options: &Options,
) -> Result<SeedSummary> {
    let progress = Arc::new(Progress::new(options.progress));
    let counters: Counters = Arc::new(Mutex::new(BTreeMap::new()));
    let started = Instant::now();
    let mut phase_seconds: BTreeMap<String, f64> = BTreeMap::new();
    // Each step's time, kept for the summary and said as it ends (`--json`: one event per step,
    // so a CI log shows how far a seed got).
    let mut finished = |name: &str, t: Instant| {
        let seconds = t.elapsed().as_secs_f64();
        phase_seconds.insert(name.into(), seconds);
        progress.event(serde_json::json!({"event": "phase", "phase": name, "seconds": seconds}));
    };

    if let Some(store) = &targets.store {
        let t = Instant::now();
        let bytes = images::upload(store, model.seed(), model.config.images).await?;
        finished("images", t);
        count(
            &counters,
            "s3.product_images".into(),
            model.config.images as u64,
            bytes,
        );
        progress.say(&format!(
            "uploaded {} sample images to {}",
            model.config.images,
            images::base_url(store)
        ));
    }

    // The steps outside the chunks are each safe to repeat (a resumed seed repeats them too:
    // partitions made if missing, objects deferred if not yet, a window opened if not open, a
    // window closed or its recorded counts read), so a server going away is ridden out here as
    // it is in the chunks and the rebuilds.
    let warn = |line: &str| progress.warn(line);
    let t = Instant::now();
    let history_start = model.history.start_us() - DAY_US;
    // A window this run already closed means every PostgreSQL phase is in: what a previous run
    // rebuilt stays built (deferring it again would drop and rebuild every key, index and
    // foreign key, hours at `full`, for a seed killed in the rebuild or stopped by a ClickHouse
    // failure after it), and only what is still recorded as deferred is rebuilt.
    let loaded = retrying_when_gone(&warn, |_| postgres::closed_counts(pool, &model.config))
        .await?
        .is_some();
    let deferred = retrying_when_gone(&warn, |_| {
        postgres::prepare(pool, history_start, model.config.as_of_us, !loaded)
    })
    .await?;
    finished("prepare", t);
    progress.say(&if loaded {
        format!("partitions ready; PostgreSQL is loaded, {deferred} keys, indexes and foreign keys left to rebuild")
    } else {
        format!("partitions ready; {deferred} keys, indexes and foreign keys deferred until the load is done")
    });

    // The financial rows' audit entries are written as data inside an audited bulk-load window
    // (schema/postgres/0012): opened here (or found open by a resumed seed), closed once every
    // PostgreSQL phase is in.
    let config = &model.config;
    let window = retrying_when_gone(&warn, |attempt| async move {
        match postgres::open_window(pool, config).await? {
            // Found open by a second attempt: most likely opened by the first, whose answer
            // was lost.
            postgres::Window::Open if attempt > 1 => Ok(postgres::Window::Opened),
            window => Ok(window),
        }
    })
    .await?;
    progress.say(&format!(
        "bulk-load window {} ({}): audit entries written as data",
        crate::fingerprint::run_id(config),
        match window {
            postgres::Window::Opened => "opened",
            postgres::Window::Open => "already open: resuming inside it",
            postgres::Window::Closed => "already closed",
        }
    ));
    for phase in Phase::POSTGRES {
        let t = Instant::now();
        load_postgres_phase(&model, pool, phase, plan, options, &progress, &counters).await?;
        finished(phase.name(), t);
    }
    let data_digest = {
        let m = model.clone();
        tokio::task::spawn_blocking(move || crate::sample::digest(&crate::sample::tables(&m)))
            .await
            .expect("sampling does not panic")
    };
    if window != postgres::Window::Closed {
        let t = Instant::now();
        let counts = retrying_when_gone(&warn, |_| {
            postgres::close_window(pool, config, &data_digest)
        })
        .await?;
        finished("window", t);
        progress.say(&format!("bulk-load window closed: {counts}"));
    }

    // Keys and indexes, every table's statistics, then the foreign keys (see rebuild.rs).
    let t = Instant::now();
    let rebuilds = rebuild(
        pool,
        crate::fingerprint::run_id(config),
        options.jobs,
        &analyzed_tables(),
        postgres::SPLIT_REFERENCED_BYTES,
        &warn,
    )
    .await?;
    finished("indexes", t);
    progress.say("keys and indexes built, tables analyzed, foreign keys validated");

    let t = Instant::now();
    // A refresh recomputes the whole table in one transaction: safe to repeat.
    retrying_when_gone(&warn, |_| async {
        sqlx::query("SELECT shop.refresh_product_analytics()")
            .execute(pool)
            .await
            .map_err(crate::error::db("refreshing shop.product_analytics"))
    })
    .await?;
    finished("analytics", t);

    // Every loaded table vacuumed now, as `pgbench -i` does, rather than by autovacuum during
    // the first benchmark (see vacuum.rs).
    if let Some(url) = &targets.maintenance {
        let t = Instant::now();
        match vacuum::vacuum(url, options.jobs, &warn).await? {
            vacuum::Vacuumed::Done { tables, bytes } => {
                finished("vacuum", t);
                progress.say(&format!(
                    "vacuumed {tables} tables ({:.0} MB): autovacuum has nothing left to do",
                    bytes as f64 / 1e6
                ));
            }
            vacuum::Vacuumed::NotOwner { user } => warn(&format!(
                "the loaded tables are not vacuumed: {user} is neither a superuser nor a member of \
                 shopbench_owner, so autovacuum will vacuum every one of them after the seed, while \
                 the first benchmark runs (seed with the DATABASE_URL that applied the schema)"
            )),
        }
    }

    if let Some(url) = &targets.search {
        let t = Instant::now();
        let m = model.clone();
        let n = search::index_catalog(url, &m, 5_000).await?;
        count(&counters, "search.products".into(), n, 0);
        finished("search", t);
    }

    if let Some(target) = &targets.clickhouse {
        let hours = clickhouse::Hours::new(&model);
        let mut resumed_facts = false;
        for phase in Phase::CLICKHOUSE {
            let t = Instant::now();
            let resumed = load_clickhouse_phase(
                &model, pool, target, phase, &hours, options, &progress, &counters,
            )
            .await?;
            resumed_facts |= resumed && phase == Phase::ChOrderFacts;
            finished(phase.name(), t);
        }
        if resumed_facts {
            clickhouse::optimize_facts(target).await?;
        }
    }
    progress.clear();

    let counters = counters.lock().expect("counters lock").clone();
    let table_figures = counters
        .into_iter()
        .map(|(name, (rows, bytes))| {
            let phase = summary::phase_of(&name);
            let seconds = phase_seconds.get(phase).copied().unwrap_or(0.0);
            TableFigures::new(name, rows, bytes, seconds)
        })
        .collect();
    Ok(SeedSummary {
        data_digest: Some(data_digest),
        rebuilds,
        ..summary::summary(
            &model,
            plan,
            table_figures,
            phase_seconds,
            started.elapsed().as_secs_f64(),
            options.jobs,
        )
    })
}
