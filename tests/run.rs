//! `run` through the real binary against a seeded database and the real services: a database
//! stall shows in latency from the intended start but not in service time; a storefront mix
//! touches every service and its writes land; lost connections are re-established; Ctrl-C
//! writes partial results; counts add up in every results file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Connection;

use crate::common::seeder::Seeder;
use crate::common::text;
use results::run::RunResults;

async fn seeded() -> Seeder {
    let s = Seeder::new().await;
    let out = s.run(&["seed", "--scale", "tiny", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

fn out_dir(s: &Seeder) -> PathBuf {
    std::env::temp_dir().join(format!("{}-run", s.db.name))
}

/// Reads the results: validated against the schema, counts checked.
fn results(dir: &Path) -> RunResults {
    crate::common::results::checked(dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_stall_shows_in_latency_not_in_service_time() {
    let s = seeded().await;
    let dir = out_dir(&s);
    // A start far enough ahead for the run to be connected and ready however loaded the machine
    // is; the lock is then taken at a known moment of the measured window.
    let start = chrono::Utc::now() + chrono::Duration::seconds(10);
    let at = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let child = s
        .command(&[
            "run",
            "--mix",
            "point-read",
            "--rate",
            "100",
            "--arrivals",
            "constant",
            "--duration",
            "6s",
            "--warmup",
            "1s",
            "--concurrency",
            "2",
            "--quiet",
            "--start-at",
            &at,
            "--out",
            dir.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Another session holds an exclusive lock on the table the operation reads for 1 s, in the
    // middle of the measured window (its second 2).
    let lock_at = start + chrono::Duration::seconds(3);
    if let Ok(d) = (lock_at - chrono::Utc::now()).to_std() {
        tokio::time::sleep(d).await;
    }
    let mut conn = sqlx::PgConnection::connect(s.db.target.admin.expose().as_str())
        .await
        .unwrap();
    sqlx::raw_sql(
        "BEGIN; LOCK TABLE shop.products IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    // The stall breaks the 50 ms p99 target: exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = results(&dir);
    let op = r.operation("point_read").unwrap();
    assert!(op.scheduled >= 590 && op.dropped == 0, "{op:?}");
    // ~100 operations queued behind the 1 s stall: the top 1% waited most of it.
    assert!(
        op.latency.p99_us > 600_000,
        "latency p99 {} µs should include the stall",
        op.latency.p99_us
    );
    assert!(op.latency.max_us > 900_000);
    // Only the two operations that were running when the lock was taken served that long.
    assert!(
        op.service.p99_us < 300_000,
        "service p99 {} µs should not include the stall",
        op.service.p99_us
    );
    assert!(op.late > 50, "{}", op.late);
    assert!(
        !r.verdict.pass
            && r.verdict
                .failures
                .iter()
                .any(|f| f.check.figure == results::slo::Figure::P99)
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn storefront_exercises_every_service_and_its_writes_land() {
    let s = seeded().await;
    let dir = out_dir(&s);
    let mut admin = s.admin().await;
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let orders_before = count("SELECT count(*) FROM shop.orders")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let images_before = count("SELECT count(*) FROM shop.product_images")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let url = platform::services::clickhouse_url(&crate::common::settings())
        .await
        .unwrap();
    let ch = platform::schema::clickhouse::client(&url, Some(&s.clickhouse_db));
    let events = || async {
        ch.query("SELECT count() FROM events")
            .fetch_one::<u64>()
            .await
            .unwrap()
    };
    let events_before = events().await;
    let out = s.run(&[
        // No warmup: every write of the run is then counted in its results.
        "run",
        "--mix",
        "storefront",
        "--rate",
        "60",
        "--duration",
        "8s",
        "--warmup",
        "0s",
        "--seed",
        "3",
        "--slo",
        "payment.p99=5s",
        "--slo",
        "payment.p95=5s",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("results: "), "{}", text(&out));
    let r = results(&dir);
    assert_eq!(r.config.mix, "storefront");
    assert!(
        r.environment.servers.contains_key("redis")
            && r.environment.servers.contains_key("clickhouse")
    );
    assert_eq!(r.environment.scale, "tiny");
    for op in &r.operations {
        for class in op.failed.keys() {
            assert!(
                class.is_business(),
                "{}: unexpected failure class {class}: {op:?}",
                op.name
            );
        }
    }
    let ran = |name: &str| r.operation(name).map(|o| o.succeeded).unwrap_or(0);
    for name in [
        "browse",
        "product_detail",
        "search",
        "cart",
        "login",
        "checkout",
        "analytics_ingest",
    ] {
        assert!(ran(name) > 0, "{name} never succeeded");
    }
    // Orders placed by the run are in PostgreSQL, with their lines and history.
    let orders_after = count("SELECT count(*) FROM shop.orders")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!((orders_after - orders_before) as u64, ran("checkout"));
    let orphans = count(
        "SELECT count(*) FROM shop.orders o WHERE o.created_at > now() - interval '1 hour'
            AND NOT EXISTS (SELECT 1 FROM shop.order_items i WHERE i.tenant_id = o.tenant_id AND i.order_id = o.id AND i.order_created_at = o.created_at)",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    let images_after = count("SELECT count(*) FROM shop.product_images")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!((images_after - images_before) as u64, ran("catalog_update"));
    // Statements seen by pg_stat_statements (the managed cluster preloads it).
    if r.database.statements_note.is_none() {
        assert!(r
            .database
            .statements
            .iter()
            .any(|st| st.query.contains("shop.products")));
    }
    assert!(r.database.hit_ratio.is_some() && r.database.commits > 0);
    // The events ingested went to ClickHouse.
    assert_eq!(
        events().await - events_before,
        ran("analytics_ingest") * 200
    );
    // Integrity after the benchmark: the seeded rows still match the plan, the workload's rows
    // are counted beside them, and orphan and invariant checks cover both.
    let verified = s.run(&["verify"]);
    let out = text(&verified);
    assert!(verified.status.success(), "{out}");
    assert!(
        out.contains(&format!(
            "20000 of 20000 planned, + {} written by workloads",
            ran("checkout")
        )),
        "{out}"
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_connections_are_reestablished_and_ctrl_c_writes_partial_results() {
    let s = seeded().await;
    let dir = out_dir(&s);
    let child = s
        .command(&[
            "run",
            "--mix",
            "point-read",
            "--rate",
            "50",
            "--duration",
            "60s",
            "--warmup",
            "0s",
            "--concurrency",
            "4",
            "--quiet",
            "--out",
            dir.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the run's connections are open (the session is ready and measuring: no warmup),
    // let it run, then kill them.
    let mut admin = s.admin().await;
    for _ in 0..600 {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
              AND application_name = 'shopbench-run' AND usename = 'shopbench_app'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if open > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'shopbench-run' AND usename = 'shopbench_app') k",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(killed > 0, "the run's connections were found");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let r = results(&dir);
    assert!(r.interrupted, "{}", text(&out));
    assert!(text(&out).contains("partial results"), "{}", text(&out));
    let op = r.operation("point_read").unwrap();
    // Interrupted well before the 60 s window; at 50/s over at least the 6 s between the
    // connections opening and Ctrl-C, the four connections lost cost at most a few operations.
    assert!(r.measured_s < 60.0, "{}", r.measured_s);
    assert!(op.scheduled >= 200, "{op:?}");
    let failed: u64 = op.failed.values().sum();
    assert!(failed <= 8 && op.dropped == 0, "{op:?}");
    assert_eq!(op.succeeded + failed, op.scheduled);
    for class in op.failed.keys() {
        assert!(
            *class == results::FailureClass::Connection
                || *class == results::FailureClass::SqlState("57P01".into()),
            "{class}"
        );
    }
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn running_without_a_seed_is_bad_input() {
    let s = Seeder::new().await;
    let out = s.run(&[
        "run",
        "--mix",
        "point-read",
        "--rate",
        "5",
        "--duration",
        "1s",
        "--out",
        out_dir(&s).to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("seed"),
        "{}",
        text(&out)
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn data_from_another_generator_is_refused() {
    // The workload picks entities by the model's arithmetic, so a run against data that another
    // generator made (an earlier release's seed) would query rows that do not exist: refused.
    let s = seeded().await;
    let args = |dir: &str| {
        vec![
            "run".to_string(),
            "--mix".into(),
            "point-read".into(),
            "--rate".into(),
            "5".into(),
            "--duration".into(),
            "1s".into(),
            "--warmup".into(),
            "0s".into(),
            "--out".into(),
            dir.into(),
        ]
    };
    let dir = out_dir(&s);
    let dir = dir.to_str().unwrap();
    for tamper in [
        "UPDATE shopbench_meta.seed_runs SET summary = summary - 'data_digest'",
        "UPDATE shopbench_meta.seed_runs SET summary = jsonb_set(summary, '{data_digest}', '\"0123456789abcdef\"')",
    ] {
        let mut admin = s.admin().await;
        sqlx::query(tamper).execute(&mut admin).await.unwrap();
        let line: Vec<String> = args(dir);
        let out = s.run(&line.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(2), "{tamper}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("reseed"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    s.finish().await;
}
