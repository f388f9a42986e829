//! A run split across generators (`run --shard I/N --start-at T`), through the real binary
//! against a seeded database and the real services: three shard processes started together run
//! the one-generator run's operations (same counts per operation), their results go to the
//! managed S3 and merge exactly (the merged histogram is the sum of the shards'), the merged
//! report renders; a stall while shards run shows in the merged p99 as in a single run; a
//! missing or foreign shard is refused with one line.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use sqlx::Connection;

use crate::common::seeder::Seeder;
use crate::common::text;
use results::run::RunResults;

async fn seeded() -> Seeder {
    let s = Seeder::new().await;
    let out = s.run(&["seed", "--scale", "tiny", "--quiet"]);
    assert!(out.status.success(), "{}", text(&out));
    s
}

/// A start far enough ahead for every process to be connected and ready (debug builds sample
/// the data first); a generator that is late still keeps the schedule, so nothing below
/// depends on it.
fn start_at(ahead: Duration) -> String {
    (chrono::Utc::now() + chrono::Duration::from_std(ahead).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn spawn(s: &Seeder, args: &[&str], env: Option<(&str, &str)>) -> Child {
    let mut cmd = s.command(args);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shopbench")
}

async fn wait(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn temp(s: &Seeder, what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}-{what}", s.db.name))
}

/// Exit 0 (every SLO met) or 1 (one missed, on a busy machine): the run itself worked.
fn ran(out: &Output) {
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(out));
}

#[tokio::test(flavor = "multi_thread")]
async fn three_shards_run_the_one_generator_schedule_into_s3_and_merge_exactly() {
    let s = seeded().await;
    let prefix = format!("s3://shopbench-test-results/{}/", s.db.name);
    let whole = temp(&s, "whole");
    let at = start_at(Duration::from_secs(15));
    let common = [
        "run",
        "--mix",
        "storefront",
        "--rate",
        "60",
        "--duration",
        "6s",
        "--warmup",
        "1s",
        "--seed",
        "9",
        "--concurrency",
        "4",
        "--quiet",
        "--start-at",
        &at,
    ];
    fn args<'a>(common: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [common, extra].concat()
    }
    let shards = vec![
        spawn(
            &s,
            &args(&common, &["--shard", "0/3", "--out", &prefix]),
            None,
        ),
        // The Indexed Job's way: the index from the environment.
        spawn(
            &s,
            &args(&common, &["--shards", "3", "--out", &prefix]),
            Some(("JOB_COMPLETION_INDEX", "1")),
        ),
        spawn(
            &s,
            &args(&common, &["--shard", "2/3", "--out", &prefix]),
            None,
        ),
    ];
    let one = spawn(
        &s,
        &args(&common, &["--out", whole.to_str().unwrap()]),
        None,
    );
    let mut outputs = Vec::new();
    for c in shards {
        outputs.push(wait(c).await);
    }
    let one = wait(one).await;
    for o in outputs.iter().chain([&one]) {
        ran(o);
    }
    for (i, o) in outputs.iter().enumerate() {
        let t = text(o);
        assert!(
            t.contains(&format!("{prefix}shard-{i}/results.json")),
            "{t}"
        );
    }

    // The shards' files, read back from S3.
    let settings = crate::common::settings();
    let store = platform::objects::Objects::connect(&settings, "shopbench-test-results")
        .await
        .unwrap();
    let mut parts = Vec::new();
    for i in 0..3 {
        let key = format!("{}/shard-{i}/results.json", s.db.name);
        let bytes = store.get(&key).await.unwrap().expect("the shard's results");
        let r = RunResults::parse(&String::from_utf8(bytes).unwrap(), &key).unwrap();
        let shard = r.shard.as_ref().expect("a shard's results say so");
        assert_eq!(shard.shard.to_string(), format!("{i}/3"));
        parts.push(r);
    }
    let run_ids: Vec<&str> = parts
        .iter()
        .map(|r| r.shard.as_ref().unwrap().run_id.as_str())
        .collect();
    assert!(run_ids.iter().all(|id| *id == run_ids[0]), "{run_ids:?}");

    // The union of the shards is the one-generator run, operation by operation.
    let one_r = crate::common::results::checked(&whole);
    for op in &one_r.operations {
        let sum: u64 = parts
            .iter()
            .map(|r| r.operation(&op.name).map_or(0, |o| o.scheduled))
            .sum();
        assert_eq!(sum, op.scheduled, "{}: shards vs one generator", op.name);
    }

    // Merged from S3 into a folder: the merged histogram is the sum of the shards'.
    let merged_dir = temp(&s, "merged");
    let merged = s.run(&[
        "report",
        "merge",
        &prefix,
        "--out",
        merged_dir.to_str().unwrap(),
    ]);
    ran(&merged);
    assert!(
        text(&merged).contains("merged 3 load generators"),
        "{}",
        text(&merged)
    );
    let m = crate::common::results::checked(&merged_dir);
    assert_eq!(m.merged_from.len(), 3);
    for op in &m.operations {
        let summed = results::histogram::merge(
            parts
                .iter()
                .filter_map(|r| r.operation(&op.name))
                .map(|o| &o.latency),
        )
        .unwrap();
        assert_eq!(op.latency.count, summed.count, "{}", op.name);
        assert_eq!(
            op.latency.decode().unwrap(),
            summed.decode().unwrap(),
            "{}: merged histogram = sum of the shards'",
            op.name
        );
        let scheduled: u64 = parts
            .iter()
            .filter_map(|r| r.operation(&op.name))
            .map(|o| o.scheduled)
            .sum();
        assert_eq!(op.scheduled, scheduled);
    }
    assert_eq!(
        m.config.rate,
        Some(60.0),
        "the run's rate, not three times it"
    );
    let target: f64 = m.merged_from.iter().filter_map(|g| g.target_rate).sum();
    assert!((target - 60.0).abs() < 1e-9, "{target}");
    let html = std::fs::read_to_string(merged_dir.join("report.html")).unwrap();
    assert!(html.contains("Load generators") && html.contains("shard 2/3"));

    // Merged into S3 as well: the report lands beside the shards (and is not taken for one).
    let into_s3 = format!("{prefix}report/");
    ran(&s.run(&["report", "merge", &prefix, "--out", &into_s3]));
    let key = format!("{}/report/report.html", s.db.name);
    assert!(store.get(&key).await.unwrap().is_some());
    ran(&s.run(&[
        "report",
        "merge",
        &prefix,
        "--out",
        merged_dir.to_str().unwrap(),
    ]));

    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&merged_dir);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stall_while_shards_run_shows_in_the_merged_p99_and_a_missing_shard_is_refused() {
    let s = seeded().await;
    let dir = temp(&s, "shards");
    let at = start_at(Duration::from_secs(12));
    let children: Vec<Child> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            spawn(
                &s,
                &[
                    "run",
                    "--mix",
                    "point-read",
                    "--rate",
                    "120",
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
                    "--shard",
                    &shard,
                    "--out",
                    dir.to_str().unwrap(),
                ],
                None,
            )
        })
        .collect();
    // In the middle of the measured window (start + 1 s warmup + 3 s), another session holds
    // an exclusive lock on the table every shard reads, for 1 s.
    let start = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    let lock_at = start + chrono::Duration::seconds(4);
    let until = (lock_at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(until).await;
    let mut conn = sqlx::PgConnection::connect(s.db.target.admin.expose().as_str())
        .await
        .unwrap();
    sqlx::raw_sql(
        "BEGIN; LOCK TABLE shop.products IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for c in children {
        ran(&wait(c).await);
    }
    let merged_dir = temp(&s, "merged");
    let merge = || {
        s.run(&[
            "report",
            "merge",
            dir.to_str().unwrap(),
            "--out",
            merged_dir.to_str().unwrap(),
        ])
    };
    // Refused: exit 2, one line on stderr.
    let refused = || {
        let out = merge();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let merged = merge();
    // The stall breaks the 50 ms p99 target on the merged figures: exit 1.
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged));
    let m = crate::common::results::checked(&merged_dir);
    let op = m.operation("point_read").unwrap();
    // ~120 operations across the shards queued behind the 1 s stall: the top 1% waited most
    // of it, as in a single run (tests/run.rs); service time does not show it.
    assert!(
        op.latency.p99_us > 600_000,
        "merged p99 {} µs",
        op.latency.p99_us
    );
    assert!(
        op.service.p99_us < 300_000,
        "service p99 {} µs",
        op.service.p99_us
    );
    assert!(!m.verdict.pass);

    // A shard missing: exit 2, one line naming it.
    std::fs::remove_dir_all(dir.join("shard-1")).unwrap();
    let err = refused();
    assert!(
        err.contains("shard 1/3") && err.contains("missing"),
        "{err}"
    );

    // A foreign shard (another run's shard 1) in its place: exit 2, naming it.
    copy_foreign_shard(&dir.join("shard-0"), &dir.join("shard-1"));
    let err = refused();
    assert!(
        err.contains("shard-1") && err.contains("not of run"),
        "{err}"
    );

    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&merged_dir);
    s.finish().await;
}

/// Writes into `to` shard 0's results as shard 1 of a run started a minute later.
fn copy_foreign_shard(from: &Path, to: &Path) {
    let mut r = RunResults::read(from).unwrap();
    let shard = r.shard.as_mut().unwrap();
    shard.shard = results::load::Shard::new(1, 3).unwrap();
    shard.start_at = "2030-01-01T00:01:00Z".into();
    let start_at = shard.start_at.clone();
    r.shard.as_mut().unwrap().run_id = results::shard::run_id(&r, 3, &start_at);
    std::fs::create_dir_all(to).unwrap();
    r.write(to).unwrap();
}
