//! The command line as a user meets it: exit codes 0/1/2/3, bad input on one line, no secret in
//! any output. Runs the real binary; one case also runs in-process through `shopbench::run`.

use std::process::{Command, Output};

use clap::Parser;

use crate::common::TestDb;

fn shopbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopbench"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("CLICKHOUSE_URL")
        .env_remove("SHOPBENCH_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run shopbench")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Exit 2, nothing on stdout, exactly one line on stderr containing every `needle`.
fn assert_bad_input(o: &Output, needles: &[&str], secret: Option<&str>) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(2), "stdout: {out}\nstderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from: {err}");
    }
    if let Some(s) = secret {
        assert!(
            !out.contains(s) && !err.contains(s),
            "secret leaked: {out}{err}"
        );
    }
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shopbench-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn help_lists_every_command_of_the_contract() {
    let o = shopbench(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let (out, _) = text(&o);
    for cmd in [
        "demo",
        "up",
        "down",
        "status",
        "schema",
        "seed",
        "verify",
        "run",
        "capacity",
        "report",
        "compare",
        "calibrate",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(cmd)),
            "{cmd} missing from --help:\n{out}"
        );
    }
    let (seed_help, _) = text(&shopbench(&["seed", "--help"]));
    for flag in [
        "--scale",
        "--scale-factor",
        "--seed",
        "--jobs",
        "--resume",
        "--dry-run",
    ] {
        assert!(seed_help.contains(flag), "{flag}");
    }
}

/// Every path under `dir`, for "nothing written".
fn tree(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(tree(&e.path()));
        }
    }
    out.sort();
    out
}

/// Bad input, one invocation per row: exit 2, one line on stderr naming the problem and the fix
/// (the needles), no secret, and nothing written (the working folder, which holds the managed
/// services' folder and every `--out`, is unchanged). `{dir}` is that folder, which holds a config
/// file with an unknown key, a broken one, a mix with an unknown operation, a plain file, and
/// results folders with garbage and with a future schema version.
#[test]
fn bad_input_is_one_line_exit_code_2_and_nothing_written() {
    let dir = temp_dir();
    let fixtures = [
        (
            "bad.toml",
            "redis_url = \"redis://127.0.0.1:6379\"\ndatabase = \"postgres://h/db\"\n",
        ),
        ("broken.toml", "redis_url = [broken\n"),
        (
            "mix.toml",
            "description = \"x\"\n[operations.teleport]\nweight = 1\n",
        ),
        ("file", "not a folder"),
        ("garbage/results.json", "{ not json"),
        (
            "old/results.json",
            r#"{"schema_version": 99, "kind": "run"}"#,
        ),
    ];
    for (path, text) in fixtures {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let run = "run --mix storefront --rate 5 --out out";
    let at = "--start-at 2030-01-01T00:00:00Z";
    let cases: Vec<(String, &[&str])> = vec![
        ("seed --scale huge".into(), &["huge", "tiny"]),
        ("seed --jobs 0".into(), &["--jobs", "0"]),
        ("verify --jobs 0".into(), &["--jobs", "0"]),
        ("seed --scale-factor=-1".into(), &["-1", "positive"]),
        (
            "seed --as-of 2026-13-01".into(),
            &["2026-13-01", "YYYY-MM-DD"],
        ),
        ("seed --images 0".into(), &["--images"]),
        (
            "seed --product-zipf 0".into(),
            &["--product-zipf", "positive"],
        ),
        (
            "seed --product-zipf 7".into(),
            &["--product-zipf", "THETA <= 3"],
        ),
        (
            "run --mix storefront --rate fast --out out".into(),
            &["fast", "1.5k"],
        ),
        (
            "run --mix storefront --rate 0 --out out".into(),
            &["positive"],
        ),
        (
            "run --mix storefront --rate=-5 --out out".into(),
            &["positive"],
        ),
        (
            "run --mix nope --rate 5 --out out".into(),
            &["nope", "storefront"],
        ),
        (
            "run --mix {dir}/mix.toml --rate 5 --out out".into(),
            &["teleport"],
        ),
        (
            "run --mix storefront --out out".into(),
            &["--rate", "--users"],
        ),
        (format!("{run} --users 3"), &["--users"]),
        (
            format!("{run} --duration 0s"),
            &["--duration", "longer than zero"],
        ),
        (format!("{run} --duration soon"), &["soon", "30s"]),
        (
            format!("{run} --timeout 0s"),
            &["--timeout", "longer than zero"],
        ),
        (
            format!("{run} --timeout 100000000h"),
            &["--timeout", "statement_timeout", "24 days"],
        ),
        (
            format!("{run} --max-lag 0ms"),
            &["--max-lag", "longer than zero"],
        ),
        (format!("{run} --concurrency 0"), &["--concurrency", "0"]),
        (
            "run --mix storefront --users 0 --out out".into(),
            &["--users", "0"],
        ),
        (format!("{run} --client-threads 0"), &["--client-threads"]),
        (
            format!("{run} --slo browse.p99"),
            &["browse.p99", "OPERATION.p95"],
        ),
        (
            format!("{run} --slo dashboard.p99=5ms"),
            &["dashboard", "not in this mix"],
        ),
        (
            format!("{run} --shard 3/3 {at}"),
            &["shard 3 of 3", "0 to 2"],
        ),
        (format!("{run} --shard 1of3 {at}"), &["1of3", "I/N"]),
        (format!("{run} --shard 0/3"), &["--start-at"]),
        (
            format!("{run} --start-at tomorrow"),
            &["tomorrow", "RFC 3339"],
        ),
        (
            format!("{run} --shards 3 {at}"),
            &["JOB_COMPLETION_INDEX", "--shard I/3"],
        ),
        (
            format!("run --mix storefront --users 2 --shard 0/3 {at} --out out"),
            &["--users 2", "3 shards"],
        ),
        (
            "run --mix storefront --rate 5 --out s3://UPPER/x".into(),
            &["UPPER", "bucket"],
        ),
        (
            "run --mix storefront --rate 5 --out {dir}/file".into(),
            &["not a folder", "folder path"],
        ),
        (
            "capacity --mix storefront --factor 0.5 --out out".into(),
            &["--factor", "above 1"],
        ),
        (
            "capacity --mix storefront --step-duration 0s --out out".into(),
            &["--step-duration", "longer than zero"],
        ),
        (
            "capacity --mix storefront --start-rate 0 --out out".into(),
            &["positive"],
        ),
        ("calibrate --rate 0".into(), &["positive"]),
        (
            "calibrate --duration 1500ms".into(),
            &["1500ms", "whole seconds"],
        ),
        ("calibrate --connections 0".into(), &["--connections", "0"]),
        (
            "calibrate --pgbench {dir}/nonexistent/pgbench --out out".into(),
            &["--pgbench", "no such file"],
        ),
        ("report {dir}/missing".into(), &["no such folder"]),
        ("report {dir}/garbage".into(), &["not JSON"]),
        (
            "report {dir}/old".into(),
            &["schema_version 99", "use the shopbench that wrote it"],
        ),
        (
            "compare {dir}/missing {dir}/garbage".into(),
            &["no such folder"],
        ),
        (
            "compare {dir}/garbage {dir}/garbage --confidence 150%".into(),
            &["--confidence", "between"],
        ),
        (
            "report merge {dir}/garbage {dir}/old --out out".into(),
            &["not JSON"],
        ),
        (
            "report merge {dir}/missing --out out".into(),
            &["no such folder"],
        ),
        (
            "--database-url mysql://app:pw-secret-1@db.example/shop status".into(),
            &["--database-url", "postgres://"],
        ),
        ("--redis-url notaurl status".into(), &["--redis-url"]),
        (
            "--clickhouse-url ftp://ch.example status".into(),
            &["--clickhouse-url"],
        ),
        (
            "--config {dir}/nonexistent.toml status".into(),
            &["nonexistent.toml"],
        ),
        (
            "--config {dir}/bad.toml status".into(),
            &["line 2", "unknown field `database`"],
        ),
        ("--config {dir}/broken.toml status".into(), &["broken.toml"]),
        ("schema frobnicate".into(), &["frobnicate"]),
    ];
    assert!(cases.len() >= 30);
    let before = tree(&dir);
    for (line, needles) in &cases {
        let line = line.replace("{dir}", dir.to_str().unwrap());
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = Command::new(env!("CARGO_BIN_EXE_shopbench"))
            .arg("--workdir")
            .arg(dir.join(".shopbench"))
            .args(&args)
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("CLICKHOUSE_URL")
            .env_remove("SHOPBENCH_CONFIG")
            .env_remove("JOB_COMPLETION_INDEX")
            .current_dir(&dir)
            .output()
            .expect("run shopbench");
        assert_bad_input(&out, needles, Some("pw-secret-1"));
        assert_eq!(tree(&dir), before, "{line}: wrote something");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unreachable_database_is_exit_code_3_without_the_password() {
    let o = shopbench(&[
        "--database-url",
        "postgres://app:pw-secret-2@127.0.0.1:1/shop",
        "schema",
        "apply",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    assert!(err.contains("127.0.0.1:1") && err.contains("***"), "{err}");
    assert!(
        !out.contains("pw-secret-2") && !err.contains("pw-secret-2"),
        "{out}{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn status_never_prints_a_password() {
    let dir = temp_dir();
    let o = shopbench(&[
        "--workdir",
        dir.to_str().unwrap(),
        "--redis-url",
        "redis://:pw-secret-3@127.0.0.1:1/0",
        "--clickhouse-url",
        "http://default:pw-secret-4@127.0.0.1:1",
        "--s3-endpoint",
        "http://127.0.0.1:1/?secret_key=pw-secret-5",
        "status",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    for secret in ["pw-secret-3", "pw-secret-4", "pw-secret-5"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked:\n{out}{err}"
        );
    }
    assert!(out.contains("redis://:***@127.0.0.1:1/0"), "{out}");
}

#[tokio::test]
async fn schema_check_exit_codes_against_an_external_database_url() {
    let db = TestDb::new().await;
    let url = db.target.admin.expose().to_string();
    let password = db.target.admin.password().unwrap_or_default();
    // in-process, as the design asks of integration tests (also creates the ClickHouse tables
    // that `schema check` verifies when ClickHouse is managed here)
    let cli = shopbench::cli::Cli::try_parse_from([
        "shopbench",
        "--database-url",
        &url,
        "schema",
        "apply",
    ])
    .unwrap();
    assert_eq!(shopbench::run(cli).await.unwrap(), shopbench::Outcome::Ok);

    let o = tokio::task::spawn_blocking({
        let url = url.clone();
        move || shopbench(&["--database-url", &url, "schema", "check"])
    })
    .await
    .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("0 problems"), "{out}");
    if !password.is_empty() {
        assert!(
            !out.contains(&password) && !err.contains(&password),
            "password leaked: {out}{err}"
        );
    }

    let mut conn = db.admin().await;
    sqlx::raw_sql("ALTER TABLE shop.orders NO FORCE ROW LEVEL SECURITY")
        .execute(&mut conn)
        .await
        .unwrap();
    let cli = shopbench::cli::Cli::try_parse_from([
        "shopbench",
        "--database-url",
        &url,
        "schema",
        "check",
    ])
    .unwrap();
    assert_eq!(
        shopbench::run(cli).await.unwrap(),
        shopbench::Outcome::CheckFailed
    );
    let o = tokio::task::spawn_blocking(move || {
        shopbench(&["--database-url", &url, "schema", "check"])
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
    db.finish().await;
}
