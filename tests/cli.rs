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
        "demo", "up", "down", "status", "schema", "seed", "verify", "run", "capacity", "report",
        "compare",
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

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    assert_bad_input(
        &shopbench(&["seed", "--scale", "huge"]),
        &["huge", "tiny"],
        None,
    );
    assert_bad_input(
        &shopbench(&["run", "--mix", "storefront", "--rate", "fast", "--out", "x"]),
        &["fast"],
        None,
    );
    assert_bad_input(
        &shopbench(&[
            "--database-url",
            "mysql://app:pw-secret-1@db.example/shop",
            "status",
        ]),
        &["--database-url", "postgres://"],
        Some("pw-secret-1"),
    );
    assert_bad_input(
        &shopbench(&["--redis-url", "not a url", "status"]),
        &["--redis-url"],
        None,
    );
    assert_bad_input(
        &shopbench(&["--config", "/nonexistent/shopbench.toml", "status"]),
        &["/nonexistent/shopbench.toml"],
        None,
    );

    let dir = temp_dir();
    let config = dir.join("shopbench.toml");
    std::fs::write(
        &config,
        "redis_url = \"redis://127.0.0.1:6379\"\ndatabase = \"postgres://h/db\"\n",
    )
    .unwrap();
    assert_bad_input(
        &shopbench(&["--config", config.to_str().unwrap(), "status"]),
        &["line 2", "unknown field `database`"],
        None,
    );
    std::fs::write(&config, "redis_url = [broken\n").unwrap();
    assert_bad_input(
        &shopbench(&["--config", config.to_str().unwrap(), "status"]),
        &["shopbench.toml"],
        None,
    );
}

#[test]
fn report_and_compare_refuse_bad_results_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("shopbench-bad-results-{}", std::process::id()));
    let garbage = dir.join("garbage");
    let old = dir.join("old");
    for (d, text) in [
        (&garbage, "{ not json"),
        (&old, r#"{"schema_version": 99, "kind": "run"}"#),
    ] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("results.json"), text).unwrap();
    }
    let (g, o) = (garbage.to_str().unwrap(), old.to_str().unwrap());
    let missing = dir.join("missing");
    let m = missing.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 7] = [
        (&["report", m], &["no such folder"]),
        (&["report", g], &["not JSON"]),
        (&["report", o], &["schema_version 99"]),
        (&["compare", m, g], &["no such folder"]),
        (&["compare", g, g], &["not JSON"]),
        (
            &["compare", g, g, "--confidence", "150%"],
            &["--confidence", "between"],
        ),
        (&["report", "merge", g, o, "--out", m], &["not JSON"]),
    ];
    for (args, needles) in cases {
        assert_bad_input(&shopbench(args), needles, None);
    }
    // Nothing half-written: the failed report left no file beside the bad results.
    assert_eq!(std::fs::read_dir(&garbage).unwrap().count(), 1);
    assert!(!missing.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn run_and_capacity_refuse_bad_flags_with_exit_code_2() {
    let cases: [(&[&str], &[&str]); 15] = [
        (
            &["run", "--mix", "nope", "--rate", "5", "--out", "x"],
            &["nope", "storefront"],
        ),
        (
            &["run", "--mix", "storefront", "--out", "x"],
            &["--rate", "--users"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--users",
                "3",
                "--out",
                "x",
            ],
            &["--users"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--slo",
                "browse.p99",
                "--out",
                "x",
            ],
            &["browse.p99", "OPERATION.p95"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--slo",
                "dashboard.p99=5ms",
                "--out",
                "x",
            ],
            &["dashboard", "not in this mix"],
        ),
        (
            &[
                "capacity",
                "--mix",
                "storefront",
                "--factor",
                "0.5",
                "--out",
                "x",
            ],
            &["--factor", "above 1"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--client-threads",
                "0",
                "--out",
                "x",
            ],
            &["--client-threads"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--shard",
                "3/3",
                "--start-at",
                "2030-01-01T00:00:00Z",
                "--out",
                "x",
            ],
            &["shard 3 of 3", "0 to 2"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--shard",
                "1of3",
                "--start-at",
                "2030-01-01T00:00:00Z",
                "--out",
                "x",
            ],
            &["I/N"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--shard",
                "0/3",
                "--out",
                "x",
            ],
            &["--start-at"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--start-at",
                "tomorrow",
                "--out",
                "x",
            ],
            &["tomorrow", "RFC 3339"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--shards",
                "3",
                "--start-at",
                "2030-01-01T00:00:00Z",
                "--out",
                "x",
            ],
            &["JOB_COMPLETION_INDEX", "--shard I/3"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--users",
                "2",
                "--shard",
                "0/3",
                "--start-at",
                "2030-01-01T00:00:00Z",
                "--out",
                "x",
            ],
            &["--users 2", "3 shards"],
        ),
        (
            &[
                "run",
                "--mix",
                "storefront",
                "--rate",
                "5",
                "--out",
                "s3://UPPER/x",
            ],
            &["UPPER", "bucket"],
        ),
        (
            &["report", "merge", "/nonexistent/shards", "--out", "x"],
            &["/nonexistent/shards"],
        ),
    ];
    for (args, wanted) in cases {
        assert_bad_input(&shopbench(args), wanted, None);
    }
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
