//! Parity: the instrument's own error, measured against pgbench on identical work.
//!
//! On the seeded database, in one run, the `point_read` operation and pgbench execute the same
//! statements with the same round trips: `BEGIN` and `set_config('app.tenant_id', …, true)` in
//! one round trip (shopbench: both prepared and written together; pgbench: a `\startpipeline`
//! pair),
//! the primary-key read (prepared), `COMMIT`; as the application role (row-level security), on
//! 128 products picked the way the operation picks them, 8 connections each.
//!
//! 1. Open model at 50/s, 500/s and 2,000/s (Poisson arrivals on both sides): `pgbench -R` with
//!    its per-transaction log (`-l`: latency from the scheduled start, and the schedule lag) beside
//!    `shopbench`'s engine (latency from the intended start, start lag). Percentiles of both
//!    from the same kind of HDR histogram.
//! 2. Closed model, no think time: throughput and client CPU per operation beside
//!    `pgbench -M prepared` and beside the bare driver (the same transaction on the libpq
//!    connection alone, no engine, no pool: what separates the engine's own cost from the driver's), in
//!    fifteen rounds of a few seconds with the order rotated: the machine drifts from one minute
//!    to the next (seen: pgbench alone at 24k/s in one round and 34k/s in the next), so each
//!    ratio is taken within one round, the median of the rounds' ratios is judged, and its
//!    distribution-free 95% confidence interval printed beside it (how far this machine's noise
//!    lets one run tell the two apart).
//!
//! The engine's workers run on as many client threads as pgbench's (`-j 2`), each a
//! current-thread runtime with its own connections, as `shopbench run --client-threads 2` runs
//! them (see `scenarios/src/lanes.rs`).
//!
//! Targets: latency p50 ≤ 1.10× pgbench's, p99 ≤ 1.25×, start lag p50 ≤ 50 µs and p99 ≤ 200 µs,
//! closed throughput ≥ 1.0×. Printed with PASS/FAIL; the process exits 1 when one is missed.
//!
//! `cargo bench --bench parity [-- SECONDS CONNECTIONS [RATE…]]` (default 20 s, 8, and the rates
//! 50, 500 and 2000; a non-numeric rate such as `none` runs the closed model only) after
//! `shopbench seed` on the managed cluster (or with DATABASE_URL).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use generator::load::postgres as pgload;
use platform::services;
use results::load::Shard;
use scenarios::alarm::Timer;
use scenarios::engine::{self, Plan};
use scenarios::pacing::{Arrivals, Pacing, Profile};
use scenarios::session::{self, Session};

/// User + system CPU seconds of this process, or of its waited-for children.
fn cpu_seconds(children: bool) -> f64 {
    let stat = procfs::process::Process::myself()
        .and_then(|p| p.stat())
        .expect("/proc/self/stat");
    let ticks = if children {
        (stat.cutime + stat.cstime) as f64
    } else {
        (stat.utime + stat.stime) as f64
    };
    ticks / procfs::ticks_per_second() as f64
}

/// One side's figures of one open-model run, µs.
struct Open {
    latency: Histogram<u64>,
    lag: Histogram<u64>,
    done: u64,
    cpu_us: f64,
}

impl Open {
    fn q(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1e3
    }
}

struct Bench {
    /// The `point-read` mix's session, opened as `shopbench run` opens it.
    session: Session,
    app_url: String,
    pgbench: std::path::PathBuf,
    scripts: Vec<String>,
    /// The (tenant, product) pairs of the pgbench scripts, for the bare driver.
    picks: Vec<(uuid::Uuid, uuid::Uuid)>,
    connections: u32,
    seconds: u64,
    dir: std::path::PathBuf,
}

/// What the engine and the bare driver run before a closed round's measured seconds (the pools
/// are open already; pgbench's `tps` leaves out its connection time).
const CLOSED_WARMUP: Duration = Duration::from_secs(1);

/// One side of a closed-model round: operations (or pgbench transactions) per second and the
/// client's CPU per operation.
#[derive(Debug, Clone, Copy, Default)]
struct Side {
    per_s: f64,
    cpu_us: f64,
}

/// One closed-model round: the three sides measured within the same minute.
#[derive(Debug, Default)]
struct Round {
    engine: Side,
    pgbench: Side,
    bare: Side,
}

impl Bench {
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

    async fn engine(
        &self,
        pacing: Pacing,
        seconds: u64,
        warmup: Duration,
    ) -> (engine::Outcome, f64) {
        let cpu0 = cpu_seconds(false);
        let out = self
            .session
            .run(
                &self.plan(pacing, seconds, warmup),
                Default::default(),
                |_| {},
            )
            .await;
        let cpu = cpu_seconds(false) - cpu0;
        let r = out.operation(0);
        assert!(
            r.is_consistent() && r.failures() == 0,
            "point_read failed: {:?}",
            r.failed
        );
        // The warmup's CPU is in the total but its operations are not counted.
        let share = seconds as f64 / (seconds as f64 + warmup.as_secs_f64());
        let cpu_us = cpu * share / r.succeeded as f64 * 1e6;
        (out, cpu_us)
    }

    fn pgbench(&self, extra: &[String], seconds: u64) -> (String, f64) {
        let cpu0 = cpu_seconds(true);
        let mut cmd = Command::new(&self.pgbench);
        cmd.args(["-n", "-M", "prepared"])
            .args(["-c", &self.connections.to_string()])
            .args(["-j", &self.connections.min(2).to_string()])
            .args(["-T", &seconds.to_string()])
            .args(extra);
        for f in &self.scripts {
            cmd.args(["-f", f]);
        }
        let out = cmd.arg(&self.app_url).output().expect("pgbench runs");
        assert!(
            out.status.success(),
            "pgbench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            cpu_seconds(true) - cpu0,
        )
    }

    /// One closed-model round of each side; `k` rotates who runs first.
    async fn closed(&self, seconds: u64, k: usize) -> Round {
        let mut r = Round::default();
        for side in (0..3).map(|i| (i + k) % 3) {
            match side {
                0 => {
                    let (out, cpu_us) = self
                        .engine(
                            Pacing::Closed {
                                users: self.connections,
                                think: Duration::ZERO,
                            },
                            seconds,
                            CLOSED_WARMUP,
                        )
                        .await;
                    r.engine = Side {
                        per_s: out.operation(0).succeeded as f64 / out.measured.as_secs_f64(),
                        cpu_us,
                    };
                }
                1 => {
                    let (text, cpu) = self.pgbench(&[], seconds);
                    let tps: f64 = text
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("tps = ")
                                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                        })
                        .expect("pgbench prints tps");
                    r.pgbench = Side {
                        per_s: tps,
                        cpu_us: cpu / (tps * seconds as f64) * 1e6,
                    };
                }
                _ => r.bare = self.bare_driver(seconds, CLOSED_WARMUP),
            }
        }
        r
    }

    /// The same transaction on the engine's driver alone (libpq on tokio, no engine, no pool):
    /// as many threads as pgbench's, each a current-thread runtime with its share of the
    /// connections, each connection looping over the scripts' products. What the closed model
    /// could reach with this driver.
    fn bare_driver(&self, seconds: u64, warmup: Duration) -> Side {
        let threads = self.connections.min(2) as usize;
        let done = AtomicU64::new(0);
        let measure_from = std::time::Instant::now() + warmup;
        let end = measure_from + Duration::from_secs(seconds);
        let cpu0 = cpu_seconds(false);
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let (done, url, picks) = (&done, &self.app_url, &self.picks);
                let share = (thread..self.connections as usize).step_by(threads).count();
                scope.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    rt.block_on(async move {
                        let loops = (0..share).map(|c| async move {
                            let settings = scenarios::pq::Settings::new(
                                url,
                                "shopbench-parity-bare",
                                Duration::from_secs(30),
                                Duration::from_secs(10),
                            )
                            .expect("the application role's URL");
                            let mut conn = scenarios::pq::Connection::connect(&settings)
                                .await
                                .expect("connect as the application role");
                            let read = scenarios::operation::point_read_sql();
                            let mut i = thread + c * threads;
                            loop {
                                let now = std::time::Instant::now();
                                if now >= end {
                                    break;
                                }
                                let (tenant, product) = picks[i % picks.len()];
                                i += 1;
                                let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                                let t: &str = tenant.hyphenated().encode_lower(&mut text);
                                conn.pipeline(&[
                                    ("BEGIN", &[]),
                                    (scenarios::db::SET_TENANT, &[&t]),
                                ])
                                .await
                                .expect("BEGIN and the tenant");
                                let row = conn.query_opt(read, &[&tenant, &product]).await;
                                assert!(row.expect("the read").is_some(), "product {product}");
                                conn.execute("COMMIT", &[]).await.expect("COMMIT");
                                if now >= measure_from {
                                    done.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        });
                        futures_util::future::join_all(loops).await;
                    });
                });
            }
        });
        let cpu = cpu_seconds(false) - cpu0;
        let done = done.load(Ordering::Relaxed) as f64;
        let share = seconds as f64 / (seconds as f64 + warmup.as_secs_f64());
        Side {
            per_s: done / seconds as f64,
            cpu_us: cpu * share / done.max(1.0) * 1e6,
        }
    }

    async fn open(&self, rate: f64) -> (Open, Open, f64) {
        let (out, cpu_us) = self
            .engine(
                Pacing::Open {
                    rate,
                    arrivals: Arrivals::Poisson,
                },
                self.seconds,
                Duration::from_secs(2),
            )
            .await;
        let r = out.operation(0);
        let spun_us = out.pacing.spun.as_secs_f64() * 1e6 / out.pacing.waits.max(1) as f64;
        let engine = Open {
            latency: r.latency.clone(),
            lag: out.lag.clone(),
            done: r.succeeded,
            cpu_us,
        };
        let prefix = self.dir.join(format!("log-{rate}"));
        let (_, cpu) = self.pgbench(
            &[
                "-R".into(),
                format!("{rate}"),
                "-l".into(),
                format!("--log-prefix={}", prefix.display()),
            ],
            self.seconds,
        );
        let pg = read_logs(&self.dir, &format!("log-{rate}"));
        let pg = Open {
            cpu_us: cpu / pg.done.max(1) as f64 * 1e6,
            ..pg
        };
        (engine, pg, spun_us)
    }
}

/// pgbench's per-transaction logs (`client txn latency_us script epoch us lag_us`, one file per
/// thread) into histograms.
fn read_logs(dir: &Path, prefix: &str) -> Open {
    let mut latency = results::histogram::empty();
    let mut lag = results::histogram::empty();
    let mut done = 0;
    for entry in std::fs::read_dir(dir).expect("log folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with(prefix) {
            continue;
        }
        for line in std::fs::read_to_string(&path).expect("log").lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            // A skipped transaction (-L) logs "skipped" instead of a latency: none without -L.
            let (Some(us), Some(l)) = (f.get(2), f.get(6)) else {
                continue;
            };
            let (Ok(us), Ok(l)) = (us.parse::<u64>(), l.parse::<u64>()) else {
                continue;
            };
            latency.record(us.max(1)).expect("auto-resizing");
            lag.record(l).expect("auto-resizing");
            done += 1;
        }
    }
    assert!(
        done > 0,
        "pgbench wrote no per-transaction log under {prefix}"
    );
    Open {
        latency,
        lag,
        done,
        cpu_us: 0.0,
    }
}

/// The distribution-free confidence interval of a median from `n` sorted samples: the indices
/// (0-based) of the order statistics that bound it and its coverage, the widest interval
/// symmetric in rank whose coverage is at least 95% (from the binomial distribution of how many
/// samples fall below the median; nothing is assumed about the samples' distribution).
fn median_interval(n: usize) -> (usize, usize, f64) {
    // P(Binomial(n, 1/2) ≤ k), summed term by term.
    let below = |k: usize| {
        let mut term = 0.5f64.powi(n as i32);
        let mut sum = term;
        for i in 0..k {
            term *= (n - i) as f64 / (i + 1) as f64;
            sum += term;
        }
        sum
    };
    // The median lies below the (k+1)-th smallest sample when at most k samples are below it.
    let mut k = 0;
    while k + 1 < n / 2 && 1.0 - 2.0 * below(k + 1) >= 0.95 {
        k += 1;
    }
    (k, n - 1 - k, 1.0 - 2.0 * below(k))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let connections: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let rates: Vec<f64> = match args.get(2..) {
        Some(more) if !more.is_empty() => more.iter().filter_map(|a| a.parse().ok()).collect(),
        _ => vec![50.0, 500.0, 2_000.0],
    };
    let settings = platform::Settings::load(&platform::Overrides::default()).unwrap();
    let target = services::postgres(&settings).await.unwrap();
    let loader = pgload::connect(&target.loader, 1).await.unwrap();
    let seeded = pgload::existing_run(&loader).await.unwrap_or(None);
    let Some(run) = seeded.filter(|r| r.finished) else {
        eprintln!(
            "parity: no finished seed in {}: run `shopbench seed --scale tiny` first",
            target.admin
        );
        std::process::exit(2);
    };
    let app_url = target.app.expose().to_string();
    // As many client threads as pgbench gets (-j).
    let session = Session::open(
        &settings,
        scenarios::mix::load("point-read").unwrap(),
        &session::Options {
            timeout: Duration::from_secs(10),
            client_threads: Some(connections.min(2) as usize),
            connections: connections as usize,
        },
    )
    .await
    .unwrap();
    let (ctx, model) = (session.ctx.clone(), session.ctx.model.clone());

    // pgbench scripts: 128 (its limit) products picked as the operation picks them.
    let dir = std::env::temp_dir().join(format!("shopbench-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = generator::rng::Draw::new(1);
    let mut scripts = Vec::new();
    let mut picks = Vec::new();
    for i in 0..128 {
        let t = ctx.pick_tenant(&mut rng);
        let p = model.product_id(ctx.pick_product(t, &mut rng));
        picks.push((t.id, p));
        let path = dir.join(format!("read-{i}.sql"));
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "\\startpipeline").unwrap();
        writeln!(f, "BEGIN;").unwrap();
        writeln!(f, "SELECT set_config('app.tenant_id', '{}', true);", t.id).unwrap();
        writeln!(f, "\\endpipeline").unwrap();
        let read = scenarios::operation::point_read_sql()
            .replace("$1", &format!("'{}'", t.id))
            .replace("$2", &format!("'{p}'"));
        writeln!(f, "{read};").unwrap();
        writeln!(f, "COMMIT;").unwrap();
        scripts.push(format!("{}@1", path.display()));
    }
    let bench = Bench {
        session,
        pgbench: services::postgres::locate_bindir().unwrap().join("pgbench"),
        app_url,
        scripts,
        picks,
        connections,
        seconds,
        dir: dir.clone(),
    };

    println!(
        "parity: point_read vs pgbench, same statements and round trips, scale {}, {connections} connections, {seconds} s per run, {} cores",
        run.config.profile.name,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut pass = true;
    for rate in rates {
        let (sb, pg, spun_us) = bench.open(rate).await;
        println!("\nopen model, {rate}/s (Poisson)   latency p50    p90      p99     start lag p50  p99    client CPU/op");
        for (name, o) in [("pgbench -R", &pg), ("shopbench", &sb)] {
            println!(
                "  {name:<28} {:>7.3} ms {:>7.3} ms {:>7.3} ms {:>7} µs {:>6} µs {:>7.1} µs   ({} done)",
                o.q(0.5),
                o.q(0.9),
                o.q(0.99),
                o.lag.value_at_quantile(0.5),
                o.lag.value_at_quantile(0.99),
                o.cpu_us,
                o.done
            );
        }
        let (r50, r90, r99) = (
            sb.q(0.5) / pg.q(0.5),
            sb.q(0.9) / pg.q(0.9),
            sb.q(0.99) / pg.q(0.99),
        );
        let (lag50, lag99) = (
            sb.lag.value_at_quantile(0.5),
            sb.lag.value_at_quantile(0.99),
        );
        println!(
            "  {:<28} {r50:>7.2}×    {r90:>7.2}×    {r99:>7.2}×",
            "shopbench / pgbench"
        );
        println!("  pacing: {spun_us:.1} µs per operation waited out by yielding before the intended start");
        let ok = [r50 <= 1.10, r99 <= 1.25, lag50 <= 50, lag99 <= 200];
        println!(
            "  targets: p50 ≤ 1.10× {}   p99 ≤ 1.25× {}   start lag p50 ≤ 50 µs {}   p99 ≤ 200 µs {}",
            verdict(ok[0]),
            verdict(ok[1]),
            verdict(ok[2]),
            verdict(ok[3])
        );
        pass &= ok.iter().all(|&o| o);
    }

    // This machine's throughput drifts by tens of percent from one minute to the next (other
    // tenants, the hypervisor): alternate short rounds, so that the sides compared within a round
    // ran seconds apart, and judge the median of the rounds' ratios, with its confidence interval.
    const ROUNDS: usize = 15;
    let round = (seconds / 6).max(3);
    println!(
        "\nclosed model, {connections} connections, no think time, {ROUNDS} alternating rounds of {round} s"
    );
    let mut rounds = Vec::new();
    for k in 0..ROUNDS {
        let r = bench.closed(round, k).await;
        println!(
            "  round {:>2}: shopbench {:>7.0}/s ({:.1} µs CPU/op)   pgbench {:>7.0}/s ({:.1} µs)   bare driver {:>7.0}/s ({:.1} µs)   {:.2}×",
            k + 1,
            r.engine.per_s,
            r.engine.cpu_us,
            r.pgbench.per_s,
            r.pgbench.cpu_us,
            r.bare.per_s,
            r.bare.cpu_us,
            r.engine.per_s / r.pgbench.per_s
        );
        rounds.push(r);
    }
    let sorted = |f: &dyn Fn(&Round) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let median = |f: &dyn Fn(&Round) -> f64| sorted(f)[rounds.len() / 2];
    println!("  medians                     throughput       client CPU/op");
    for (name, side) in [
        ("pgbench -M prepared", (|r| r.pgbench) as fn(&Round) -> Side),
        ("shopbench", |r| r.engine),
        ("bare driver (libpq on tokio)", |r| r.bare),
    ] {
        println!(
            "  {name:<28} {:>8.0}/s {:>9.1} µs",
            median(&|r| side(r).per_s),
            median(&|r| side(r).cpu_us)
        );
    }
    let ratios = sorted(&|r| r.engine.per_s / r.pgbench.per_s);
    let ratio = ratios[ratios.len() / 2];
    let (lo, hi, coverage) = median_interval(ratios.len());
    println!(
        "  bare driver / pgbench {:.2}×: the driver's floor; shopbench / bare driver {:.2}×: the engine's own cost",
        median(&|r| r.bare.per_s / r.pgbench.per_s),
        median(&|r| r.engine.per_s / r.bare.per_s)
    );
    println!(
        "  shopbench / pgbench (median of the rounds' ratios) {ratio:.2}× ({:.0}% confidence interval of the median {:.2}–{:.2}×)   target ≥ 1.0× {}",
        coverage * 100.0,
        ratios[lo],
        ratios[hi],
        verdict(ratio >= 1.0)
    );
    pass &= ratio >= 1.0;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nparity: {}",
        if pass {
            "every target met"
        } else {
            "a target was missed"
        }
    );
    if !pass {
        std::process::exit(1);
    }
}
