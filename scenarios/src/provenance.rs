//! Provenance of a run: shopbench's version and git revision, the servers' versions, the
//! machine, and the seeded data (scale, seed, as-of date, fingerprint, the seed's summary).

use sqlx::PgPool;

use generator::load::postgres::RunRecord;
use platform::Settings;
use results::run::{Environment, Machine};

use crate::context::SearchBackend;

pub async fn collect(
    settings: &Settings,
    run: &RunRecord,
    sample: &str,
    admin: &PgPool,
    redis: Option<redis::aio::ConnectionManager>,
    clickhouse: Option<&clickhouse::Client>,
    search: &SearchBackend,
) -> Environment {
    let mut servers = std::collections::BTreeMap::new();
    let pg: Result<(String,), _> = sqlx::query_as("SELECT version()").fetch_one(admin).await;
    servers.insert(
        "postgresql".into(),
        pg.map(|v| v.0).unwrap_or_else(|e| format!("unknown ({e})")),
    );
    if let Some(mut r) = redis {
        let info: Result<String, _> = redis::cmd("INFO").arg("server").query_async(&mut r).await;
        let version = info
            .ok()
            .and_then(|i| {
                i.lines()
                    .find_map(|l| l.strip_prefix("redis_version:").map(str::to_string))
            })
            .unwrap_or_else(|| "unknown".into());
        servers.insert("redis".into(), version);
    }
    if let Some(c) = clickhouse {
        let v: Result<String, _> = c.query("SELECT version()").fetch_one().await;
        servers.insert(
            "clickhouse".into(),
            v.unwrap_or_else(|e| format!("unknown ({e})")),
        );
    }
    let search = match search {
        SearchBackend::Postgres => "PostgreSQL full-text search".into(),
        SearchBackend::Elastic { url, http } => {
            // The server's own answer to `GET /`: its distribution and version.
            let about: Option<serde_json::Value> = match http.get(url.clone()).send().await {
                Ok(r) => r.json().await.ok(),
                Err(_) => None,
            };
            let v = about.as_ref().map(|a| &a["version"]);
            match v.and_then(|v| v["number"].as_str()) {
                Some(number) => format!(
                    "{} {number} (SEARCH_URL)",
                    match v.and_then(|v| v["distribution"].as_str()) {
                        Some("opensearch") => "OpenSearch",
                        _ => "Elasticsearch",
                    }
                ),
                None => "Elasticsearch/OpenSearch (SEARCH_URL), version unknown".into(),
            }
        }
    };
    servers.insert("search".into(), search);
    if settings.s3.url.is_some() {
        servers.insert("s3".into(), "configured S3 endpoint".into());
    } else {
        servers.insert("s3".into(), "SeaweedFS (managed)".into());
    }
    Environment {
        shopbench_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: option_env!("SHOPBENCH_GIT_REVISION")
            .unwrap_or("unknown")
            .into(),
        servers,
        machine: machine(),
        scale: run.config.profile.name.clone(),
        data_seed: run.config.seed,
        as_of: chrono::DateTime::from_timestamp_micros(run.config.as_of_us)
            .map(|d| d.date_naive().to_string())
            .unwrap_or_default(),
        data_fingerprint: generator::fingerprint::of(&run.config, &run.plan, sample),
        seed_summary: run.summary.clone(),
    }
}

fn machine() -> Machine {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| {
            l.strip_prefix("PRETTY_NAME=")
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    Machine {
        hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
        os,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_bytes: platform::services::process::total_memory(),
    }
}
