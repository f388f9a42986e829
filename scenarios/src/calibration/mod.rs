//! The instrument's floor on this machine: the `point_read` operation, run by the engine exactly
//! as `shopbench run --mix point-read` runs it, beside pgbench on the same statements with the
//! same round trips (`BEGIN` and `set_config('app.tenant_id', …, true)` in one round trip, the
//! primary-key read, `COMMIT`; prepared; as the application role, under row-level security), on
//! 128 products picked the way the operation picks them (pgbench's script limit), with as many
//! connections and client threads on each side. What `shopbench calibrate` and
//! `cargo bench --bench parity` measure.
//!
//! 1. Open model at each rate (Poisson arrivals on both sides): pgbench `-R` with its
//!    per-transaction log (latency from the scheduled start, and the schedule lag) beside the
//!    engine (latency from the intended start, and the start lag), both as HDR histograms.
//! 2. Closed model, no think time: alternating rounds of a few seconds of the engine, pgbench
//!    `-M prepared` and the bare driver (`bare.rs`), the order rotated each round. This
//!    machine's speed drifts from one minute to the next (seen: pgbench alone at 24k/s in one
//!    round and 34k/s in the next), so each ratio is taken within one round and the median of
//!    the rounds' ratios is judged (`results::calibration`).
//!
//! Both sides' client CPU per operation is measured with `getrusage(2)` (`usage.rs`): this
//! process for the engine and the bare driver, the waited-for children for pgbench.

mod bare;
mod pgbench;
mod usage;

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use platform::{services, Settings};
use results::calibration::{Calibration, Closed, ClosedSide, Open, OpenSide, Round};
use results::histogram::Encoded;
use results::load::Shard;

use crate::alarm::Timer;
use crate::engine::{Outcome, Plan};
use crate::pacing::{Arrivals, Pacing, Profile};
use crate::session::{self, Session};

/// pgbench's limit on script files, and so the number of (tenant, product) picks both sides use.
const PICKS: usize = 128;
/// What the engine and the bare driver run before a closed round's measured seconds (their
/// connections are open already; pgbench's `tps` leaves out its connection time).
const CLOSED_WARMUP: Duration = Duration::from_secs(1);
/// What the engine runs before an open-model run's measured seconds.
const OPEN_WARMUP: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("pgbench is not installed: install the PostgreSQL client programs (apt-get install -y postgresql-contrib, or postgresql-client-15 on some systems) or give --pgbench PATH")]
    NoPgbench,
    #[error("{0}: {1}")]
    Io(&'static str, std::io::Error),
    #[error("pgbench failed: {0}")]
    Pgbench(String),
    #[error("the bare driver failed: {0}")]
    Bare(String),
    #[error("point_read failed during calibration ({failures} of {scheduled} operations: {classes}); is the database the seeded one?")]
    Operation {
        failures: u64,
        scheduled: u64,
        classes: String,
    },
    #[error(transparent)]
    Session(#[from] session::Error),
    #[error(transparent)]
    Platform(#[from] platform::Error),
}

impl Error {
    /// Bad input (exit 2: no seed, a bad URL) or the environment (exit 3).
    pub fn kind(&self) -> platform::ErrorKind {
        match self {
            Error::Session(e) => e.kind(),
            Error::Platform(e) => e.kind(),
            _ => platform::ErrorKind::Environment,
        }
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Measured seconds of each open-model run; closed rounds are a sixth of it (3 s at least).
    pub seconds: u64,
    /// Connections on each side.
    pub connections: u32,
    /// Client threads on each side (`pgbench -j`); at most `connections`.
    pub client_threads: u32,
    /// Open-model arrival rates, operations per second.
    pub rates: Vec<f64>,
    /// Closed-model rounds (0: none).
    pub rounds: usize,
    /// pgbench to run (default: beside the PostgreSQL binaries, or on the PATH).
    pub pgbench: Option<std::path::PathBuf>,
}

/// What is about to be measured, for a progress line.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Open { rate: f64 },
    Round { number: usize, of: usize },
}

/// Measures the floor: every rate of `options`, then the closed rounds. Fails before measuring
/// anything if pgbench or the seeded database is missing.
pub async fn calibrate(
    settings: &Settings,
    options: &Options,
    mut on_step: impl FnMut(Step),
) -> Result<Calibration, Error> {
    let path = match &options.pgbench {
        Some(p) if p.is_file() => p.clone(),
        Some(_) => return Err(Error::NoPgbench),
        None => pgbench::locate()?,
    };
    let threads = options.client_threads.clamp(1, options.connections.max(1));
    let target = services::postgres(settings).await?;
    let session = Session::open(
        settings,
        crate::mix::load("point-read").expect("the point-read mix ships with shopbench"),
        &session::Options {
            timeout: Duration::from_secs(10),
            client_threads: Some(threads as usize),
            connections: options.connections as usize,
        },
    )
    .await?;
    let picks = picks(&session);
    let app = target.app.expose().clone();
    let pgbench = pgbench::Pgbench::new(path, &app, &picks, options.connections, threads)?;
    // Before measuring: a pgbench that cannot run fails now, not after the runs.
    let version = pgbench.version()?;
    let bench = Bench {
        session: &session,
        app_url: app.to_string(),
        picks,
        pgbench,
        connections: options.connections,
        threads,
    };
    let mut open = Vec::new();
    for &rate in &options.rates {
        on_step(Step::Open { rate });
        open.push(bench.open(rate, options.seconds).await?);
    }
    let closed = match options.rounds {
        0 => None,
        n => {
            let round_seconds = (options.seconds / 6).max(3);
            let mut rounds = Vec::with_capacity(n);
            for k in 0..n {
                on_step(Step::Round {
                    number: k + 1,
                    of: n,
                });
                rounds.push(bench.round(round_seconds, k).await?);
            }
            Some(Closed {
                round_seconds,
                rounds,
            })
        }
    };
    Ok(Calibration {
        schema_version: results::calibration::SCHEMA_VERSION,
        scale: session.environment.scale.clone(),
        connections: options.connections,
        client_threads: threads,
        seconds: options.seconds,
        cores: session.environment.machine.cpus as usize,
        pgbench: version,
        open,
        closed,
    })
}

/// 128 (tenant, product) pairs picked as `point_read` picks them (the tenant by the power law,
/// the product by popularity), from a fixed seed.
fn picks(session: &Session) -> Vec<(Uuid, Uuid)> {
    let (ctx, model) = (&session.ctx, &session.ctx.model);
    let mut rng = generator::rng::Draw::new(1);
    (0..PICKS)
        .map(|_| {
            let t = ctx.pick_tenant(&mut rng);
            (t.id, model.product_id(ctx.pick_product(t, &mut rng)))
        })
        .collect()
}

struct Bench<'a> {
    session: &'a Session,
    app_url: String,
    picks: Vec<(Uuid, Uuid)>,
    pgbench: pgbench::Pgbench,
    connections: u32,
    threads: u32,
}

impl Bench<'_> {
    fn plan(&self, pacing: Pacing, seconds: u64, warmup: Duration) -> Plan {
        Plan {
            pacing,
            profile: Profile::Constant,
            warmup,
            duration: Duration::from_secs(seconds),
            concurrency: self.connections as usize,
            seed: 1,
            timeout: Duration::from_secs(10),
            max_lag: Duration::from_secs(5),
            timer: Timer::HighResolution,
            shard: Shard::WHOLE,
            start: None,
        }
    }

    /// The engine under `pacing`: its outcome and its CPU per measured operation, µs.
    async fn engine(
        &self,
        pacing: Pacing,
        seconds: u64,
        warmup: Duration,
    ) -> Result<(Outcome, f64), Error> {
        let cpu0 = usage::own_cpu();
        let out = self
            .session
            .run(
                &self.plan(pacing, seconds, warmup),
                CancellationToken::new(),
                |_| {},
            )
            .await;
        let cpu = usage::own_cpu() - cpu0;
        let r = out.operation(0);
        if r.failures() > 0 || r.dropped > 0 {
            return Err(Error::Operation {
                failures: r.failures() + r.dropped,
                scheduled: r.scheduled,
                classes: r
                    .failed
                    .iter()
                    .map(|(class, n)| format!("{class} {n}"))
                    .chain((r.dropped > 0).then(|| format!("dropped {}", r.dropped)))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        // The warmup's CPU is in the total but its operations are not counted.
        let share = seconds as f64 / (seconds as f64 + warmup.as_secs_f64());
        Ok((out, cpu * share / r.succeeded.max(1) as f64 * 1e6))
    }

    async fn open(&self, rate: f64, seconds: u64) -> Result<Open, Error> {
        let pacing = Pacing::Open {
            rate,
            arrivals: Arrivals::Poisson,
        };
        let (out, cpu_us) = self.engine(pacing, seconds, OPEN_WARMUP).await?;
        let r = out.operation(0);
        let pacing_us = out.pacing.spun.as_secs_f64() * 1e6 / out.pacing.waits.max(1) as f64;
        let shopbench = OpenSide {
            latency: Encoded::new(&r.latency),
            lag: Encoded::new(&out.lag),
            cpu_us,
        };
        // pgbench and the bare driver block this thread for their seconds: nothing else runs on
        // it meanwhile (the engine's client threads are idle).
        let logged = self.pgbench.open(rate, seconds)?;
        let pgbench = OpenSide {
            latency: Encoded::new(&logged.latency),
            lag: Encoded::new(&logged.lag),
            cpu_us: logged.cpu_s / logged.done.max(1) as f64 * 1e6,
        };
        Ok(Open {
            rate,
            pgbench,
            shopbench,
            pacing_us,
        })
    }

    /// One closed-model round of each side; `k` rotates who runs first.
    async fn round(&self, seconds: u64, k: usize) -> Result<Round, Error> {
        let mut r = Round::default();
        for side in (0..3).map(|i| (i + k) % 3) {
            match side {
                0 => {
                    let pacing = Pacing::Closed {
                        users: self.connections,
                        think: Duration::ZERO,
                    };
                    let (out, cpu_us) = self.engine(pacing, seconds, CLOSED_WARMUP).await?;
                    r.shopbench = ClosedSide {
                        per_s: out.operation(0).succeeded as f64 / out.measured.as_secs_f64(),
                        cpu_us,
                    };
                }
                1 => {
                    let (per_s, cpu_us) = self.pgbench.closed(seconds)?;
                    r.pgbench = ClosedSide { per_s, cpu_us };
                }
                _ => {
                    let (per_s, cpu_us) = bare::closed(
                        &self.app_url,
                        &self.picks,
                        self.connections,
                        self.threads,
                        seconds,
                        CLOSED_WARMUP,
                    )?;
                    r.bare = ClosedSide { per_s, cpu_us };
                }
            }
        }
        Ok(r)
    }
}
