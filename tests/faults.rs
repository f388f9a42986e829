//! The fault suite: during one storefront-like run, Redis, ClickHouse, the S3 server and the
//! search server are stopped and started again in turn (the test's own managed servers and its
//! own search server, so no other test is disturbed; PostgreSQL's restart is `tests/run.rs`'s).
//! The run keeps going; each outage's failures are classified under its service; counts add up;
//! the exit code follows the SLO verdict; the report says when the errors came; and a run right
//! after has no system error: every service serves again.

use std::path::Path;
use std::time::Duration;

use results::FailureClass;

use crate::common::search::SearchServer;
use crate::common::seeder::Seeder;
use crate::common::text;

/// Every operation of the suite, each needing one of the services that go away (or none).
const MIX: &str = r#"description = "one operation per service, for the fault suite"
[operations.browse]
weight = 1
[operations.cart]
weight = 1
[operations.login]
weight = 1
[operations.analytics_ingest]
weight = 1
[operations.catalog_update]
weight = 1
[operations.search]
weight = 1
"#;

fn sb(s: &Seeder, search: &str, args: &[&str]) -> std::process::Output {
    s.run(&[&["--search-url", search][..], args].concat())
}

/// Every document of the product index, to restore it after the in-memory server restarts.
async fn export(url: &str) -> Vec<(String, serde_json::Value)> {
    let http = platform::objects::http_client(Duration::from_secs(60)).unwrap();
    let answer: serde_json::Value = http
        .post(format!("{url}/{}/_search", generator::load::search::INDEX))
        .json(&serde_json::json!({"size": 10_000, "query": {"match_all": {}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["_id"].as_str().unwrap().to_string(), h["_source"].clone()))
        .collect()
}

/// The index created again from the schema's mapping, its documents bulk-loaded: what an
/// operator restores after the server comes back (osmem keeps its data in memory).
async fn restore(url: &str, docs: &[(String, serde_json::Value)]) {
    let http = platform::objects::http_client(Duration::from_secs(60)).unwrap();
    let index = generator::load::search::INDEX;
    // Writes that reach the empty server may create the index with guessed mappings (osmem
    // creates an index on a partial update), even between our delete and create: until ours
    // is the one there.
    let mut tries = 0;
    loop {
        http.delete(format!("{url}/{index}")).send().await.unwrap();
        let created = http
            .put(format!("{url}/{index}"))
            .header("content-type", "application/json")
            .body(generator::load::search::MAPPING)
            .send()
            .await
            .unwrap();
        if created.status().is_success() {
            break;
        }
        tries += 1;
        assert!(tries < 50, "cannot create {index}: {}", created.status());
    }
    let mut body = String::new();
    for (id, doc) in docs {
        body.push_str(&format!(
            "{{\"index\":{{\"_index\":\"{index}\",\"_id\":\"{id}\"}}}}\n{doc}\n"
        ));
    }
    let answer: serde_json::Value = http
        .post(format!("{url}/_bulk?refresh=true"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errors"], false, "restoring the index");
}

fn classes_of(r: &results::RunResults, service: &str) -> u64 {
    r.operations
        .iter()
        .flat_map(|o| &o.failed)
        .filter(|(c, _)| matches!(c, FailureClass::Service { service: s, .. } if s == service))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_survives_each_service_going_away_and_coming_back() {
    let Some(mut search) = SearchServer::start() else {
        return;
    };
    assert!(
        platform::services::clickhouse_available(&crate::common::settings()),
        "the fault suite needs ClickHouse (scripts/install-deps.sh)"
    );
    let workdir = std::env::temp_dir().join(format!("shopbench-faults-{}", std::process::id()));
    let s = Seeder::with_workdir(workdir.clone()).await;
    let url = search.url.clone();
    let up = |service: &str| {
        let out = s.run(&["up", service]);
        assert!(out.status.success(), "up {service}: {}", text(&out));
    };
    let down = |service: &str| {
        let out = s.run(&["down", service]);
        assert!(out.status.success(), "down {service}: {}", text(&out));
    };
    for service in ["redis", "clickhouse", "s3"] {
        up(service);
    }
    let seeded = sb(&s, &url, &["seed", "--scale", "tiny", "--quiet"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let mix = workdir.join("faults.toml");
    std::fs::write(&mix, MIX).unwrap();
    let dir = workdir.join("run");

    // One run; its measured window starts 2 s after `start`. Each service is away for 3 s, in
    // turn, ClickHouse last (it takes ~10 s to stop and as long to start, more on a loaded
    // machine: the outages after it would slide towards the window's end), and the window runs
    // on for a good while after the last one is back.
    let start = chrono::Utc::now() + chrono::Duration::seconds(12);
    let at = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let child = s
        .command(&[
            "--search-url",
            &url,
            "run",
            "--mix",
            mix.to_str().unwrap(),
            "--rate",
            "60",
            "--duration",
            "55s",
            "--warmup",
            "2s",
            "--timeout",
            "2s",
            "--concurrency",
            "16",
            "--start-at",
            &at,
            "--quiet",
            "--out",
            dir.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // At the earliest `t` s into the window (later if the previous outage took longer).
    let until = |t: i64| async move {
        let when = start + chrono::Duration::seconds(2 + t);
        if let Ok(d) = (when - chrono::Utc::now()).to_std() {
            tokio::time::sleep(d).await;
        }
    };
    for (t, service) in [(2, "redis"), (7, "search"), (12, "s3"), (17, "clickhouse")] {
        until(t).await;
        if service == "search" {
            let docs = export(&url).await;
            let port = search.port();
            drop(search);
            until(t + 3).await;
            search = SearchServer::start_on(port).unwrap();
            restore(&url, &docs).await;
        } else {
            down(service);
            until(t + 3).await;
            up(service);
        }
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();

    let r = crate::common::results::checked(&dir);
    // The exit code follows the SLOs, whatever they say.
    assert_eq!(
        out.status.code(),
        Some(if r.verdict.pass { 0 } else { 1 }),
        "{}",
        text(&out)
    );
    // Each outage's failures under its own service.
    for service in ["redis", "clickhouse", "s3", "search"] {
        assert!(
            classes_of(&r, service) > 0,
            "no {service} failures: {:?}",
            r.operations
                .iter()
                .map(|o| (&o.name, &o.failed))
                .collect::<Vec<_>>()
        );
    }
    // Each service's operation succeeded again after its outage: a second after its last error
    // in which it completed without one. The fault table, for the record.
    eprintln!(
        "service     operation         failures by class                  error seconds   back in"
    );
    for (service, op) in [
        ("redis", "cart"),
        ("clickhouse", "analytics_ingest"),
        ("s3", "catalog_update"),
        ("search", "search"),
    ] {
        let per_second: Vec<(u32, u64, u64)> = r
            .intervals
            .iter()
            .filter_map(|i| i.operations.get(op).map(|o| (i.t_s, o.completed, o.errors)))
            .collect();
        let errors: Vec<u32> = per_second
            .iter()
            .filter(|(_, _, e)| *e > 0)
            .map(|(t, _, _)| *t)
            .collect();
        let (first, last) = (errors[0], *errors.last().unwrap());
        let back = per_second
            .iter()
            .find(|(t, c, e)| *t > last && *c > 0 && *e == 0)
            .map(|(t, _, _)| *t);
        assert!(
            back.is_some(),
            "{op} never succeeded again after second {last}: {per_second:?}"
        );
        // Its service's classes, over every operation, and the operation's own timeouts.
        let mut failed: Vec<String> = r
            .operations
            .iter()
            .flat_map(|o| &o.failed)
            .filter(|(c, _)| matches!(c, FailureClass::Service { service: s, .. } if s == service))
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        if let Some(n) = r.operation(op).unwrap().failed.get(&FailureClass::Timeout) {
            failed.push(format!("{op} timeout {n}"));
        }
        eprintln!(
            "{service:<11} {op:<17} {:<40} {first:>3} to {last:<3}      {}",
            failed.join(", "),
            back.unwrap() - last
        );
    }
    // The run kept going through every outage: operations completed in every second.
    assert!(r.intervals.len() >= 30, "{} seconds", r.intervals.len());
    assert!(r
        .intervals
        .iter()
        .all(|i| i.operations.values().any(|o| o.completed > o.errors)));
    // The report says when the errors came.
    let reported = s.run(&["report", dir.to_str().unwrap()]);
    assert!(reported.status.success(), "{}", text(&reported));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("System errors came in seconds"),
        "{summary}"
    );

    // Every service serves again: a short run right after has no system error.
    let after = workdir.join("after");
    let out = sb(
        &s,
        &url,
        &[
            "run",
            "--mix",
            mix.to_str().unwrap(),
            "--rate",
            "30",
            "--duration",
            "4s",
            "--warmup",
            "1s",
            "--quiet",
            "--out",
            after.to_str().unwrap(),
        ],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let r = crate::common::results::checked(&after);
    for op in &r.operations {
        assert_eq!(results::slo::errors(op), 0, "{}: {:?}", op.name, op.failed);
        assert!(op.succeeded > 0, "{}", op.name);
    }

    let _ = s.run(&["down"]);
    s.finish().await;
    let _ = std::fs::remove_dir_all(Path::new(&workdir));
    drop(search);
}
