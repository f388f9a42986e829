//! pgbench on the same statements as `point_read`: one script per picked (tenant, product), with
//! the tenant's `set_config` pipelined after `BEGIN` as the operation sends it; run closed
//! (`-M prepared`) or at a fixed rate with its per-transaction log (`-l`), whose latency counts
//! from the scheduled start, as the engine's counts from the intended one.
//!
//! The password travels in `PGPASSWORD`, not on pgbench's command line (which any local user
//! can read in `ps`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use hdrhistogram::Histogram;
use url::Url;
use uuid::Uuid;

use super::usage::children_cpu;
use super::Error;

/// pgbench, its scripts and how it connects.
pub struct Pgbench {
    path: PathBuf,
    /// The application role's URL without its password.
    url: String,
    password: Option<String>,
    /// `-f FILE@1` for each script.
    scripts: Vec<String>,
    connections: u32,
    threads: u32,
    /// The scripts and the per-transaction logs; removed on drop.
    dir: tempfile::TempDir,
}

/// One fixed-rate run: latency from the scheduled start and schedule lag (µs), transactions
/// logged and the client's CPU seconds.
pub struct Logged {
    pub latency: Histogram<u64>,
    pub lag: Histogram<u64>,
    pub done: u64,
    pub cpu_s: f64,
}

/// pgbench beside the PostgreSQL binaries this machine has (what the managed cluster runs), or
/// on the PATH.
pub fn locate() -> Result<PathBuf, Error> {
    if let Ok(dir) = platform::services::postgres::locate_bindir() {
        let path = dir.join("pgbench");
        if path.exists() {
            return Ok(path);
        }
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("pgbench"))
        .find(|p| p.is_file())
        .ok_or(Error::NoPgbench)
}

impl Pgbench {
    /// Writes one script per pick into a temporary folder.
    pub fn new(
        path: PathBuf,
        app: &Url,
        picks: &[(Uuid, Uuid)],
        connections: u32,
        threads: u32,
    ) -> Result<Pgbench, Error> {
        let dir = tempfile::Builder::new()
            .prefix("shopbench-calibrate-")
            .tempdir()
            .map_err(|e| Error::Io("creating a folder for pgbench's scripts", e))?;
        let mut scripts = Vec::with_capacity(picks.len());
        for (i, (tenant, product)) in picks.iter().enumerate() {
            let file = dir.path().join(format!("read-{i}.sql"));
            std::fs::write(&file, script(*tenant, *product))
                .map_err(|e| Error::Io("writing pgbench's scripts", e))?;
            scripts.push(format!("{}@1", file.display()));
        }
        let mut url = app.clone();
        let password = url.password().map(percent_decode);
        let _ = url.set_password(None);
        Ok(Pgbench {
            path,
            url: url.to_string(),
            password,
            scripts,
            connections,
            threads,
            dir,
        })
    }

    /// `pgbench --version`'s line.
    pub fn version(&self) -> Result<String, Error> {
        let out = Command::new(&self.path)
            .arg("--version")
            .output()
            .map_err(|e| Error::Io("running pgbench --version", e))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Closed model for `seconds`: transactions per second (pgbench's `tps`, which leaves out
    /// its connection time) and the client's CPU per transaction, µs.
    pub fn closed(&self, seconds: u64) -> Result<(f64, f64), Error> {
        let cpu0 = children_cpu();
        let text = self.run(&[], seconds)?;
        let cpu = children_cpu() - cpu0;
        let tps: f64 = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("tps = ")
                    .and_then(|v| v.split_whitespace().next()?.parse().ok())
            })
            .ok_or_else(|| Error::Pgbench("it printed no `tps = ` line".into()))?;
        let done = tps * seconds as f64;
        Ok((tps, cpu / done.max(1.0) * 1e6))
    }

    /// Open model at `rate` for `seconds`, Poisson arrivals (`-R`), every transaction logged.
    pub fn open(&self, rate: f64, seconds: u64) -> Result<Logged, Error> {
        let prefix = self.dir.path().join(format!("log-{rate}"));
        let cpu0 = children_cpu();
        self.run(
            &[
                "-R".into(),
                format!("{rate}"),
                "-l".into(),
                format!("--log-prefix={}", prefix.display()),
            ],
            seconds,
        )?;
        let cpu_s = children_cpu() - cpu0;
        let (latency, lag, done) = read_logs(self.dir.path(), &format!("log-{rate}"))?;
        Ok(Logged {
            latency,
            lag,
            done,
            cpu_s,
        })
    }

    fn run(&self, extra: &[String], seconds: u64) -> Result<String, Error> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-n", "-M", "prepared"])
            .args(["-c", &self.connections.to_string()])
            .args(["-j", &self.threads.to_string()])
            .args(["-T", &seconds.to_string()])
            .args(extra);
        for f in &self.scripts {
            cmd.args(["-f", f]);
        }
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        let out = cmd
            .arg(&self.url)
            .output()
            .map_err(|e| Error::Io("running pgbench", e))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            let line = why
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message");
            return Err(Error::Pgbench(format!("{} ({})", line.trim(), out.status)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The statements `point_read` sends for one (tenant, product), as a pgbench script.
fn script(tenant: Uuid, product: Uuid) -> String {
    let read = crate::operation::point_read_sql()
        .replace("$1", &format!("'{tenant}'"))
        .replace("$2", &format!("'{product}'"));
    let mut s = Vec::new();
    writeln!(s, "\\startpipeline").expect("in memory");
    writeln!(s, "BEGIN;").expect("in memory");
    writeln!(s, "SELECT set_config('app.tenant_id', '{tenant}', true);").expect("in memory");
    writeln!(s, "\\endpipeline").expect("in memory");
    writeln!(s, "{read};").expect("in memory");
    writeln!(s, "COMMIT;").expect("in memory");
    String::from_utf8(s).expect("UTF-8")
}

/// A URL's percent-encoded password as pgbench's environment wants it.
fn percent_decode(p: &str) -> String {
    percent_encoding::percent_decode_str(p)
        .decode_utf8_lossy()
        .into_owned()
}

/// pgbench's per-transaction logs (`client txn latency_us script epoch us lag_us`, one file per
/// thread) into histograms of latency and schedule lag, µs.
fn read_logs(dir: &Path, prefix: &str) -> Result<(Histogram<u64>, Histogram<u64>, u64), Error> {
    let mut latency = results::histogram::empty();
    let mut lag = results::histogram::empty();
    let mut done = 0;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Io("reading pgbench's logs", e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix));
        if !named {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::Io("reading pgbench's logs", e))?;
        for line in text.lines() {
            let (us, l) = parse_line(line)?;
            latency.record(us.max(1)).expect("auto-resizing histogram");
            lag.record(l).expect("auto-resizing histogram");
            done += 1;
        }
    }
    if done == 0 {
        return Err(Error::Pgbench(format!(
            "it wrote no per-transaction log under {}",
            dir.display()
        )));
    }
    Ok((latency, lag, done))
}

/// One log line's latency and schedule lag, µs. Every transaction is logged with both (no `-L`,
/// so none is skipped); any other line means the format is not the one this reads.
fn parse_line(line: &str) -> Result<(u64, u64), Error> {
    let f: Vec<&str> = line.split_whitespace().collect();
    match (f.get(2).map(|s| s.parse()), f.get(6).map(|s| s.parse())) {
        (Some(Ok(us)), Some(Ok(lag))) => Ok((us, lag)),
        _ => Err(Error::Pgbench(format!(
            "a per-transaction log line is not `client txn latency_us script epoch us lag_us`: {line:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_gives_its_latency_and_lag() {
        assert_eq!(
            parse_line("3 117 512 42 1733400000 123456 87").unwrap(),
            (512, 87)
        );
        assert!(parse_line("3 117 skipped 42 1733400000 123456 87").is_err());
        assert!(parse_line("3 117 512 42 1733400000 123456").is_err());
    }

    #[test]
    fn the_script_is_the_operations_statements_with_literals() {
        let (t, p) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let s = script(t, p);
        assert!(s.starts_with("\\startpipeline\nBEGIN;\nSELECT set_config('app.tenant_id', '00000000-0000-0000-0000-000000000001', true);\n\\endpipeline\n"), "{s}");
        assert!(s.contains("tenant_id = '00000000-0000-0000-0000-000000000001' AND id = '00000000-0000-0000-0000-000000000002';\nCOMMIT;\n"), "{s}");
    }

    #[test]
    fn a_percent_encoded_password_is_decoded() {
        assert_eq!(percent_decode("a%40b%2Bc+d"), "a@b+c+d");
    }
}
