//! Engine overhead: the `point-read` operation at full speed (closed model, no think time)
//! against the seeded database, beside `pgbench -M prepared` running the same four statements
//! (BEGIN; set_config of the tenant; the primary-key read; COMMIT) on the same products at the
//! same number of connections, in one run. Prints both throughputs, their ratio (target ≥ 0.8)
//! and the CPU each side's client spends per operation (PostgreSQL's own CPU is not counted).
//!
//! `cargo bench --bench engine_overhead [-- CONNECTIONS SECONDS]` (default 8 connections, 15 s)
//! after `shopbench seed` on the managed cluster (or with DATABASE_URL).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use sqlx::postgres::PgPoolOptions;

use generator::load::postgres as pgload;
use platform::services;
use scenarios::context::{Context, Gateway, Queue, SearchBackend};
use scenarios::engine::{self, Entry, Plan};
use scenarios::pacing::{Pacing, Profile};

/// User and system CPU seconds of this process (`self`) or of its waited-for children.
fn cpu_seconds(children: bool) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // After the command name: utime is field 14 of the full line, index 11 here.
    let (u, s) = if children { (13, 14) } else { (11, 12) };
    let ticks: f64 = fields[u].parse::<f64>().unwrap() + fields[s].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let connections: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(8);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let settings = platform::Settings::load(&platform::Overrides::default()).unwrap();
    let target = services::postgres(&settings).await.unwrap();
    let loader = pgload::connect(&target.loader, 1).await.unwrap();
    let run = match pgload::existing_run(&loader).await.unwrap() {
        Some(r) if r.finished => r,
        _ => {
            eprintln!(
                "engine_overhead: no finished seed in {}: run `shopbench seed` first",
                target.admin
            );
            std::process::exit(1);
        }
    };
    let model = Arc::new(generator::Model::new(run.config.clone()));
    let app = PgPoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .connect(target.app.expose().as_str())
        .await
        .unwrap();
    let ctx = Arc::new(Context {
        model: model.clone(),
        app,
        batch: None,
        redis: None,
        clickhouse: None,
        store: None,
        search: SearchBackend::Postgres,
        gateway: Gateway::default(),
        hot: None,
        to_pay: Queue::default(),
        to_fulfil: Queue::default(),
    });

    // pgbench scripts: 128 (its limit) (tenant, product) pairs picked like the engine picks them.
    let dir = std::env::temp_dir().join(format!("shopbench-overhead-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
    let mut files = Vec::new();
    for i in 0..128 {
        let t = ctx.pick_tenant(&mut rng);
        let p = model.product_id(ctx.pick_product(t, &mut rng));
        let path = dir.join(format!("read-{i}.sql"));
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "BEGIN;").unwrap();
        writeln!(f, "SELECT set_config('app.tenant_id', '{}', true);", t.id).unwrap();
        writeln!(f, "{};", scenarios_sql(t.id, p)).unwrap();
        writeln!(f, "COMMIT;").unwrap();
        files.push(format!("{}@1", path.display()));
    }

    println!(
        "engine overhead: point-read, {connections} connections, {seconds} s each, scale {}",
        run.config.profile.name
    );
    // The engine: closed model, one user per connection, no think time.
    let plan = Plan {
        pacing: Pacing::Closed {
            users: connections,
            think: Duration::ZERO,
        },
        profile: Profile::Constant,
        warmup: Duration::from_secs(2),
        duration: Duration::from_secs(seconds),
        concurrency: connections as usize,
        seed: 1,
        timeout: Duration::from_secs(10),
        max_lag: Duration::from_secs(5),
    };
    let op = scenarios::operation::build("point_read", &ctx).unwrap();
    let cpu0 = cpu_seconds(false);
    let out = engine::run(
        &plan,
        vec![Entry {
            name: "point_read".into(),
            weight: 1.0,
            op,
        }],
        Default::default(),
        |_| {},
    )
    .await;
    let cpu = cpu_seconds(false) - cpu0;
    let r = out.operation(0);
    assert!(r.is_consistent() && r.failures() == 0, "{:?}", r.failed);
    // The warmup's operations are not counted but their CPU is: scale CPU by the run's share.
    let measured_share = seconds as f64 / (seconds as f64 + 2.0);
    let engine_tps = r.succeeded as f64 / out.measured.as_secs_f64();
    let engine_cpu_us = cpu * measured_share / r.succeeded as f64 * 1e6;

    let bindir = services::postgres::locate_bindir().unwrap();
    let cpu0 = cpu_seconds(true);
    let mut cmd = std::process::Command::new(bindir.join("pgbench"));
    cmd.args([
        "-n",
        "-M",
        "prepared",
        "-c",
        &connections.to_string(),
        "-j",
        &connections.min(4).to_string(),
        "-T",
        &seconds.to_string(),
    ]);
    for f in &files {
        cmd.args(["-f", f]);
    }
    let pg = cmd.arg(target.app.expose().as_str()).output().unwrap();
    let cpu = cpu_seconds(true) - cpu0;
    let text = String::from_utf8_lossy(&pg.stdout);
    assert!(
        pg.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&pg.stderr)
    );
    let tps: f64 = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("tps = ")
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .expect("pgbench prints tps");
    let pgbench_cpu_us = cpu / (tps * seconds as f64) * 1e6;
    let _ = std::fs::remove_dir_all(&dir);

    println!("shopbench engine  {engine_tps:>10.0} operations/s   client CPU {engine_cpu_us:>6.1} µs/operation   (p99 {:.2} ms)", r.latency.value_at_quantile(0.99) as f64 / 1e3);
    println!("pgbench -M prepared {tps:>8.0} transactions/s client CPU {pgbench_cpu_us:>6.1} µs/transaction");
    println!(
        "engine / pgbench throughput: {:.2}x (target >= 0.8)",
        engine_tps / tps
    );
}

/// The engine's point-read statement with the literal ids pgbench needs.
fn scenarios_sql(tenant: uuid::Uuid, product: uuid::Uuid) -> String {
    scenarios::operation::point_read_sql()
        .replace("$1", &format!("'{tenant}'"))
        .replace("$2", &format!("'{product}'"))
}
