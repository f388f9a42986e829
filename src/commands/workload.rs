//! What `run` and `capacity` share: the mix with the command line's SLO overrides, the output
//! folder, the session (`scenarios::session`), the live line, Ctrl-C, the verdict table.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use results::run::RunResults;
use results::slo::{self, Status};
use scenarios::engine::Tick;
use scenarios::mix::Mix;
use scenarios::session::{self, Session};

use crate::cli::EngineArgs;
use crate::exit::UsageError;

/// The mix with the command line's SLO overrides, or a usage error.
pub fn mix(name: &str, overrides: &[String]) -> Result<Mix> {
    let mut mix = scenarios::mix::load(name).map_err(|e| UsageError(e.to_string()))?;
    for o in overrides {
        mix.override_slo(o, |v| {
            crate::cli::parse_duration(v)
                .ok()
                .map(|d| d.as_secs_f64() * 1e3)
        })
        .map_err(|e| UsageError(e.to_string()))?;
    }
    Ok(mix)
}

/// The output folder must be a folder we can write.
pub fn out_dir(dir: &std::path::Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(UsageError(format!(
            "--out {}: exists and is not a folder; give a folder path",
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        UsageError(format!(
            "--out {}: cannot create the folder ({e}); give a writable path",
            dir.display()
        ))
    })?;
    Ok(())
}

/// The session for `engine`'s options with `connections` application connections.
pub async fn open(
    mix: Mix,
    engine: &EngineArgs,
    connections: u32,
    settings: &platform::Settings,
) -> Result<Session> {
    let options = session::Options {
        timeout: engine.timeout,
        client_threads: engine.client_threads.map(|n| n as usize),
        connections: connections as usize,
    };
    Ok(Session::open(settings, mix, &options).await?)
}

/// The live line each second, unless `quiet`.
pub fn ticker(quiet: bool) -> impl FnMut(&Tick) {
    move |t| {
        if !quiet {
            eprintln!("{}", live_line(t));
        }
    }
}

/// The command line as typed (the results record it, secrets scrubbed).
pub fn command_line() -> Vec<String> {
    std::env::args().collect()
}

/// The live terminal line: one per second.
pub fn live_line(t: &Tick) -> String {
    if t.t < 0.0 {
        // Warmup operations run but are not recorded: nothing to show but the countdown.
        return format!("warming up, {:.0} s to go (not measured)", -t.t);
    }
    let when = format!("{:>6.0}s", t.t);
    let target = t
        .target_rate
        .map(|r| format!(" (target {r:.0})"))
        .unwrap_or_default();
    let behind = if t.dropped > 0 || t.lag_max_us > 1_000_000 {
        format!(
            "  NOT KEEPING UP: {} dropped, {:.1} s behind schedule",
            t.dropped,
            t.lag_max_us as f64 / 1e6
        )
    } else {
        String::new()
    };
    format!(
        "{when}  {:>8.1} ops/s{target}  p99 {:>8.1} ms  errors {}{behind}",
        t.completed as f64,
        t.p99_us as f64 / 1e3,
        t.errors
    )
}

/// A token cancelled by Ctrl-C.
pub fn ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "interrupted: finishing the operations in flight and writing the partial results"
            );
            t.cancel();
        }
    });
    token
}

/// Prints the verdict table.
pub fn print_summary(r: &RunResults) {
    println!(
        "{:<18} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7} {:>7}  verdict",
        "operation", "ops", "p50 ms", "p95 ms", "p99 ms", "max ms", "svc p99", "errors", "dropped"
    );
    for op in &r.operations {
        let l = &op.latency;
        println!(
            "{:<18} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>10.1} {:>7} {:>7}  {}",
            op.name,
            op.succeeded + op.failed.values().sum::<u64>(),
            l.p50_us as f64 / 1e3,
            l.p95_us as f64 / 1e3,
            l.p99_us as f64 / 1e3,
            l.max_us as f64 / 1e3,
            op.service.p99_us as f64 / 1e3,
            slo::errors(op),
            op.dropped,
            match op.verdict.status {
                Status::Pass => "pass".to_string(),
                Status::NoData => "no data".to_string(),
                Status::Fail => format!(
                    "FAIL: {}",
                    op.verdict
                        .broken()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            }
        );
    }
    println!("{}", r.schedule.note);
    if let Some(h) = r.database.hit_ratio {
        println!(
            "database: buffer hit ratio {:.4}, {} deadlocks, {} commits, {} rollbacks",
            h, r.database.deadlocks, r.database.commits, r.database.rollbacks
        );
    }
    if let Some(ratio) = r
        .database
        .statement_mix
        .as_ref()
        .and_then(|m| m.read_write_ratio())
    {
        println!("database: statements read:write {ratio:.1}:1 (pg_stat_statements)");
    }
}
