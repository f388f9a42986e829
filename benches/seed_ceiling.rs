//! End to end: the real seed against PostgreSQL's own ceiling on this machine, in one run.
//!
//! The ceiling loads the very same chunks, encoded beforehand and streamed from memory, with the
//! same parallelism, the same per-chunk transactions and bookkeeping, the same deferred indexes,
//! foreign keys and ANALYZE, the same VACUUM; the seed generates while it loads. Ratio = ceiling
//! time / seed time (target ≥ 0.95). Then `pgbench -i` on the same server, compared in MB/s of
//! table data (target ≥ 0.7×, issue #13).
//!
//! `cargo bench --bench seed_ceiling -- [tiny|small|medium] [jobs]` (PostgreSQL only: ClickHouse
//! and the object store are left out of both sides).

use std::sync::Arc;
use std::time::Instant;

use generator::load::{self, postgres as pgload, progress::Mode};
use generator::{Model, Phase, Profile, Scale, SeedConfig};
use platform::services::{self, PostgresTarget};
use sqlx::{Connection, PgConnection};

async fn fresh_db(server: &PostgresTarget, name: &str, schema: bool) -> PostgresTarget {
    let mut admin = PgConnection::connect(server.admin.expose().as_str())
        .await
        .unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(&sql).execute(&mut admin).await.unwrap();
    }
    let target = server.with_database(name);
    if schema {
        platform::schema::apply(&target, None, None).await.unwrap();
    }
    target
}

async fn data_bytes(target: &PostgresTarget, schemas: &str) -> u64 {
    let mut c = PgConnection::connect(target.admin.expose().as_str())
        .await
        .unwrap();
    let sql = format!(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({schemas}) AND c.relkind = 'r'"
    );
    sqlx::query_scalar::<_, i64>(&sql)
        .fetch_one(&mut c)
        .await
        .unwrap() as u64
}

/// Before each timed side: the previous side's database dropped (its size is measured first)
/// and a checkpoint, so no side pays for flushing another's gigabytes of dirty pages and WAL.
async fn settle(server: &PostgresTarget, drop: Option<&str>) {
    let mut admin = PgConnection::connect(server.admin.expose().as_str())
        .await
        .unwrap();
    if let Some(name) = drop {
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    sqlx::raw_sql("CHECKPOINT")
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let scale = match args.first().map(String::as_str) {
        Some("tiny") => Scale::Tiny,
        Some("medium") => Scale::Medium,
        _ => Scale::Small,
    };
    let jobs: usize = args.get(1).and_then(|j| j.parse().ok()).unwrap_or(2);
    let settings = platform::Settings::load(&platform::Overrides::default()).unwrap();
    let server = services::postgres(&settings).await.unwrap();
    let config = SeedConfig {
        profile: Profile::of(scale),
        seed: 42,
        as_of_us: 1_764_547_200_000_000,
        images: 16,
        image_base: "s3://shopbench-images".into(),
        product_zipf: generator::model::PRODUCT_ZIPF,
    };
    let model = Arc::new(Model::new(config.clone()));
    let plan = generator::plan::compute(&model, true);
    println!(
        "scale {} ({} planned PostgreSQL rows), {jobs} jobs",
        scale.name(),
        plan.rows
            .iter()
            .filter(|(k, _)| !k.starts_with("clickhouse."))
            .map(|(_, v)| v)
            .sum::<u64>()
    );

    // Ceiling: every chunk encoded first, then streamed.
    let ceiling_db = fresh_db(&server, "shopbench_bench_ceiling", true).await;
    let t = Instant::now();
    let mut chunks = Vec::new();
    for phase in Phase::POSTGRES {
        for c in 0..phase.chunks(&model) {
            chunks.push((phase, c, phase.generate(&model, c)));
        }
    }
    let encode_secs = t.elapsed().as_secs_f64();
    let bytes: u64 = chunks.iter().map(|(_, _, b)| b.bytes()).sum();
    println!(
        "encoded {} chunks, {:.1} MB of COPY data, in {encode_secs:.1} s (not timed below)",
        chunks.len(),
        bytes as f64 / 1e6
    );
    let pool = pgload::connect(&ceiling_db.loader, jobs as u32 + 2)
        .await
        .unwrap();
    settle(&server, None).await;
    let t = Instant::now();
    pgload::prepare(
        &pool,
        model.history.start_us() - generator::model::DAY_US,
        config.as_of_us,
        true,
    )
    .await
    .unwrap();
    // The same audited bulk-load window as the seed's (its audit rows are in the chunks).
    pgload::open_window(&pool, &config).await.unwrap();
    let mut by_phase: Vec<Vec<_>> = Vec::new();
    let mut current = None;
    for (phase, c, b) in chunks {
        if current != Some(phase) {
            by_phase.push(Vec::new());
            current = Some(phase);
        }
        by_phase.last_mut().unwrap().push((phase, c, b));
    }
    for group in by_phase {
        let group = Arc::new(std::sync::Mutex::new(group));
        let mut tasks = Vec::new();
        for _ in 0..jobs {
            let (pool, group) = (pool.clone(), group.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = pool.acquire().await.unwrap();
                loop {
                    let next = group.lock().unwrap().pop();
                    let Some((phase, c, batch)) = next else { break };
                    pgload::load_chunk(&mut conn, phase, c, &batch, &Default::default())
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
    pgload::close_window(&pool, &config, "ceiling")
        .await
        .unwrap();
    let ceiling_load = t.elapsed().as_secs_f64();
    // The same rebuild as the seed's.
    load::rebuild(
        &pool,
        generator::fingerprint::run_id(&config),
        jobs,
        &load::analyzed_tables(),
        pgload::SPLIT_REFERENCED_BYTES,
        &|line| eprintln!("warning: {line}"),
    )
    .await
    .unwrap();
    // The same VACUUM as the seed's (`pgbench -i` vacuums too).
    let vacuumed = load::vacuum::vacuum(&ceiling_db.admin, jobs, &|line| {
        eprintln!("warning: {line}")
    })
    .await
    .unwrap();
    assert!(
        matches!(vacuumed, load::vacuum::Vacuumed::Done { .. }),
        "{vacuumed:?}"
    );
    let ceiling_total = t.elapsed().as_secs_f64();
    pool.close().await;

    // The real seed.
    let seed_db = fresh_db(&server, "shopbench_bench_seed", true).await;
    let pool = pgload::connect(&seed_db.loader, jobs as u32 + 2)
        .await
        .unwrap();
    settle(&server, Some("shopbench_bench_ceiling")).await;
    pgload::begin_run(&pool, &config, &plan, uuid::Uuid::new_v4())
        .await
        .unwrap();
    let targets = load::Targets {
        clickhouse: None,
        store: None,
        search: None,
        maintenance: Some(seed_db.admin.clone()),
    };
    let summary = load::run(
        model.clone(),
        &plan,
        &pool,
        &targets,
        &load::Options {
            jobs,
            progress: Mode::Quiet,
        },
    )
    .await
    .unwrap();
    let seed_load: f64 = Phase::POSTGRES
        .iter()
        .map(|p| summary.phases.get(p.name()).copied().unwrap_or(0.0))
        .sum::<f64>()
        + summary.phases.get("prepare").copied().unwrap_or(0.0)
        + summary.phases.get("window").copied().unwrap_or(0.0);
    let seed_total = seed_load
        + ["indexes", "vacuum"]
            .iter()
            .map(|p| summary.phases.get(*p).copied().unwrap_or(0.0))
            .sum::<f64>();
    pool.close().await;
    println!("seed phases (s): {:?}", summary.phases);
    for r in summary.rebuilds.iter().take(6) {
        println!(
            "  rebuild {:<70} {:>6.2} s ({} of {:.0} MB)",
            r.name,
            r.seconds,
            r.kind,
            r.table_bytes as f64 / 1e6
        );
    }
    let rows = summary.rows as f64;
    let ours = data_bytes(&seed_db, "'shop', 'audit'").await;

    // pgbench -i at a scale of about the same table data (scale 1 ~ 15 MB).
    let pgbench_db = fresh_db(&server, "shopbench_bench_pgbench", false).await;
    let pgbench_scale = ((ours as f64 / 15e6).round() as u64).max(1);
    let bindir = platform::services::postgres::locate_bindir().unwrap();
    settle(&server, Some("shopbench_bench_seed")).await;
    let t = Instant::now();
    let status = std::process::Command::new(bindir.join("pgbench"))
        .args([
            "-i",
            "-q",
            "-s",
            &pgbench_scale.to_string(),
            pgbench_db.admin.expose().as_str(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pgbench -i failed");
    let pgbench_secs = t.elapsed().as_secs_f64();
    let pgbench_bytes = data_bytes(&pgbench_db, "'public'").await;

    println!(
        "\n{:<44} {:>10} {:>12} {:>10}",
        "", "seconds", "rows/s", "MB/s"
    );
    println!(
        "{:<44} {:>10.2} {:>12.0} {:>10.1}",
        "ceiling: COPY of pre-encoded chunks",
        ceiling_load,
        rows / ceiling_load,
        ours as f64 / 1e6 / ceiling_total
    );
    println!(
        "{:<44} {:>10.2}",
        "ceiling: + indexes, FKs, ANALYZE, VACUUM", ceiling_total
    );
    println!(
        "{:<44} {:>10.2} {:>12.0} {:>10.1}",
        "seed: generating while loading",
        seed_load,
        rows / seed_load,
        ours as f64 / 1e6 / seed_total
    );
    println!(
        "{:<44} {:>10.2}",
        "seed: + indexes, FKs, ANALYZE, VACUUM", seed_total
    );
    println!(
        "{:<44} {:>10.2} {:>12} {:>10.1}",
        format!(
            "pgbench -i -s {pgbench_scale} ({:.0} MB)",
            pgbench_bytes as f64 / 1e6
        ),
        pgbench_secs,
        "",
        pgbench_bytes as f64 / 1e6 / pgbench_secs
    );
    println!(
        "\nseed / ceiling (load): {:.2}   (with indexes: {:.2})   target >= 0.95",
        ceiling_load / seed_load,
        ceiling_total / seed_total
    );
    println!(
        "seed vs pgbench -i, MB/s of table data (shop + audit, {:.0} MB): {:.2}x   target >= 0.70",
        ours as f64 / 1e6,
        (ours as f64 / seed_total) / (pgbench_bytes as f64 / pgbench_secs)
    );
    println!(
        "peak memory of this process: {:.0} MB (holds the ceiling's pre-encoded chunks)",
        platform::services::process::peak_memory() as f64 / 1e6
    );

    // The three databases hold gigabytes at `medium`: drop them.
    let mut admin = PgConnection::connect(server.admin.expose().as_str())
        .await
        .unwrap();
    for name in [
        "shopbench_bench_ceiling",
        "shopbench_bench_seed",
        "shopbench_bench_pgbench",
    ] {
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}
