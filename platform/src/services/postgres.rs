//! The managed PostgreSQL cluster: the machine's own PostgreSQL binaries, a data folder under
//! `.shopbench/postgres/`, a free loopback port, scram-sha-256 passwords generated on creation,
//! `pg_stat_statements` preloaded and memory sized to the machine.
//!
//! PostgreSQL refuses to run as root: when shopbench runs as root the cluster runs as the
//! `postgres` user (or `SHOPBENCH_SERVICE_USER`). If that user cannot reach the working
//! directory (e.g. a checkout under `/root`), the data folder goes to `/var/tmp/shopbench-pg-<hash>/`
//! instead, and `status` says where.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use super::process::{self, RunAs};
use super::state::{PostgresState, Workdir};
use crate::error::{Error, Result};
use crate::secret::SecretUrl;

const SERVICE: &str = "PostgreSQL";
/// The cluster's superuser (created by initdb).
pub const SUPERUSER: &str = "shopbench";
/// The database the managed cluster creates for shopbench.
pub const DATABASE: &str = "shopbench";

fn missing(binary: &str) -> Error {
    Error::MissingBinary {
        service: SERVICE,
        binary: binary.to_string(),
        hint: "install it (Debian/Ubuntu: apt-get install -y postgresql) or set DATABASE_URL to a PostgreSQL you run".into(),
    }
}

/// The folder holding initdb, pg_ctl, postgres and psql: `SHOPBENCH_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/<version>/bin`, else wherever `initdb` is on PATH.
pub fn locate_bindir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("SHOPBENCH_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").exists() {
            Ok(dir)
        } else {
            Err(missing("initdb"))
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let initdb = process::find_binary("initdb", &[]).ok_or_else(|| missing("initdb"))?;
    let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
    Ok(real.parent().map(Path::to_path_buf).unwrap_or_default())
}

/// The superuser URL of the managed cluster.
pub fn admin_url(pg: &PostgresState) -> SecretUrl {
    url_for(pg, &pg.superuser, &pg.password)
}

/// The application role's URL (`shopbench_app`, RLS applies).
pub fn app_url(pg: &PostgresState) -> SecretUrl {
    url_for(pg, "shopbench_app", &pg.app_password)
}

/// The loader role's URL (`shopbench_loader`).
pub fn loader_url(pg: &PostgresState) -> SecretUrl {
    url_for(pg, "shopbench_loader", &pg.loader_password)
}

fn url_for(pg: &PostgresState, user: &str, password: &str) -> SecretUrl {
    let url = Url::parse(&format!(
        "postgres://{user}:{password}@127.0.0.1:{}/{}",
        pg.port, pg.database
    ))
    .expect("managed URL is well-formed");
    SecretUrl::new(url)
}

/// Whether the cluster's postmaster runs (pg_ctl status) and accepts connections.
pub fn is_running(pg: &PostgresState) -> bool {
    let run_as = process::unprivileged_user(SERVICE, pg.os_user.as_deref().unwrap_or("postgres"))
        .ok()
        .flatten();
    let status = process::command(&pg.bindir.join("pg_ctl"), run_as.as_ref())
        .arg("status")
        .arg("-D")
        .arg(&pg.data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    matches!(status, Ok(s) if s.success()) && process::listening(pg.port)
}

/// Starts the managed cluster if it does not run (creating it the first time) and returns it.
pub fn ensure(workdir: &Workdir) -> Result<PostgresState> {
    let _lock = workdir.lock()?;
    let mut state = workdir.load()?;
    if let Some(pg) = &state.postgres {
        if is_running(pg) {
            return Ok(pg.clone());
        }
    }
    let run_as = process::unprivileged_user(SERVICE, "postgres")?;
    let mut pg = match state.postgres.take() {
        Some(pg) if pg.data_dir.join("PG_VERSION").exists() => pg,
        _ => {
            let pg = init(workdir, run_as.as_ref())?;
            state.postgres = Some(pg.clone());
            workdir.save(&state)?;
            pg
        }
    };
    pg.port = process::reuse_or_free_port(Some(pg.port))?;
    start(&pg, run_as.as_ref())?;
    provision(&pg)?;
    state.postgres = Some(pg.clone());
    workdir.save(&state)?;
    Ok(pg)
}

/// Stops the managed cluster; `Ok(false)` when it was not running.
pub fn stop(pg: &PostgresState) -> Result<bool> {
    if !is_running(pg) {
        return Ok(false);
    }
    let run_as = process::unprivileged_user(SERVICE, pg.os_user.as_deref().unwrap_or("postgres"))?;
    process::run_checked(
        SERVICE,
        "pg_ctl stop",
        process::command(&pg.bindir.join("pg_ctl"), run_as.as_ref())
            .args(["stop", "-m", "fast", "-w", "-t", "120", "-D"])
            .arg(&pg.data_dir),
    )?;
    Ok(true)
}

fn chown(path: &Path, run_as: Option<&RunAs>) -> Result<()> {
    if let Some(user) = run_as {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| {
            Error::io(
                format!("cannot hand {} to user {}", path.display(), user.name),
                e,
            )
        })?;
    }
    Ok(())
}

fn mkdir_for(path: &Path, run_as: Option<&RunAs>) -> Result<()> {
    std::fs::create_dir_all(path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io(format!("cannot set permissions of {}", path.display()), e))?;
    chown(path, run_as)
}

/// Whether `user` can write into `dir` (every parent folder must let it through).
fn user_can_use(dir: &Path, user: &RunAs) -> bool {
    process::command(Path::new("/bin/sh"), Some(user))
        .args(["-c", "test -w \"$1\" && test -x \"$1\"", "sh"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The folder that will hold `data/` and the server log.
fn choose_home(workdir: &Workdir, run_as: Option<&RunAs>) -> Result<PathBuf> {
    let home = workdir.path("postgres");
    mkdir_for(&home, run_as)?;
    let Some(user) = run_as else { return Ok(home) };
    if user_can_use(&home, user) {
        return Ok(home);
    }
    let digest = hex::encode(&Sha256::digest(workdir.root.to_string_lossy().as_bytes())[..6]);
    let fallback = PathBuf::from(format!("/var/tmp/shopbench-pg-{digest}"));
    mkdir_for(&fallback, run_as)?;
    Ok(fallback)
}

fn init(workdir: &Workdir, run_as: Option<&RunAs>) -> Result<PostgresState> {
    let bindir = locate_bindir()?;
    for binary in ["initdb", "pg_ctl", "postgres", "psql"] {
        if !bindir.join(binary).exists() {
            return Err(missing(binary));
        }
    }
    let home = choose_home(workdir, run_as)?;
    let data_dir = home.join("data");
    if data_dir.exists() {
        // a previous initdb that did not finish
        std::fs::remove_dir_all(&data_dir)
            .map_err(|e| Error::io(format!("cannot clear {}", data_dir.display()), e))?;
    }
    let pg = PostgresState {
        bindir: bindir.clone(),
        data_dir: data_dir.clone(),
        port: process::free_port()?,
        os_user: run_as.map(|u| u.name.clone()),
        superuser: SUPERUSER.to_string(),
        password: process::random_secret(),
        app_password: process::random_secret(),
        loader_password: process::random_secret(),
        database: DATABASE.to_string(),
    };
    let pwfile = home.join("initdb.pw");
    std::fs::write(&pwfile, &pg.password)
        .map_err(|e| Error::io(format!("cannot write {}", pwfile.display()), e))?;
    std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("cannot protect the password file", e))?;
    chown(&pwfile, run_as)?;
    let result = process::run_checked(
        SERVICE,
        "initdb",
        process::command(&bindir.join("initdb"), run_as)
            .arg("-D")
            .arg(&data_dir)
            .args(["-U", SUPERUSER, "-E", "UTF8", "--no-locale"])
            .args(["--auth-host=scram-sha-256", "--auth-local=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display())),
    );
    let _ = std::fs::remove_file(&pwfile);
    result?;

    let conf = data_dir.join("shopbench.conf");
    std::fs::write(&conf, tuned_settings(wal_compression(&bindir)))
        .map_err(|e| Error::io(format!("cannot write {}", conf.display()), e))?;
    chown(&conf, run_as)?;
    let main_conf = data_dir.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&main_conf)
        .map_err(|e| Error::io("cannot read postgresql.conf", e))?;
    text.push_str("\n# shopbench: settings for benchmarking, sized to this machine\ninclude = 'shopbench.conf'\n");
    std::fs::write(&main_conf, text).map_err(|e| Error::io("cannot write postgresql.conf", e))?;
    Ok(pg)
}

/// How full-page images in the WAL are compressed: `lz4` where the server has it (PostgreSQL 15
/// and later, built `--with-lz4`, as `pg_config` in `bindir` says), else `on` (pglz). An index
/// build writes every page it makes as a full-page image: a 3M-row index took 5.4-5.9 s with pglz
/// and 3.8 s with lz4 on this project's machine, and pglz was 4.5% of a whole `small` seed's CPU.
pub fn wal_compression(bindir: &Path) -> &'static str {
    // one line each: "PostgreSQL 15.x (…)", then the configure arguments
    let answer = process::run_checked(
        SERVICE,
        "pg_config",
        std::process::Command::new(bindir.join("pg_config")).args(["--version", "--configure"]),
    )
    .unwrap_or_default();
    let major = answer
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
        .unwrap_or(0);
    if major >= 15 && answer.contains("--with-lz4") {
        "lz4"
    } else {
        "on"
    }
}

/// Settings for benchmarking, sized to the machine: durability stays on (results must mean what
/// production would see), memory follows the usual 25% / 60% rules, JIT off (it adds latency
/// spikes to short OLTP queries), pg_stat_statements preloaded, full-page images compressed by
/// `wal_compression` (see [`wal_compression`]).
pub fn tuned_settings(wal_compression: &str) -> String {
    let mib = process::total_memory() / (1 << 20);
    let cpus = process::cpu_count();
    let shared_buffers = (mib / 4).clamp(128, 8192);
    let effective_cache = (mib * 6 / 10).max(256);
    let maintenance = (mib / 16).clamp(64, 2048);
    let half = (cpus / 2).max(1);
    format!(
        "listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = ''\n\
         max_connections = 300\n\
         shared_buffers = {shared_buffers}MB\n\
         effective_cache_size = {effective_cache}MB\n\
         maintenance_work_mem = {maintenance}MB\n\
         work_mem = 32MB\n\
         wal_buffers = 64MB\n\
         max_wal_size = 16GB\n\
         min_wal_size = 2GB\n\
         checkpoint_timeout = 15min\n\
         checkpoint_completion_target = 0.9\n\
         wal_compression = {wal_compression}\n\
         random_page_cost = 1.1\n\
         effective_io_concurrency = 200\n\
         max_worker_processes = {workers}\n\
         max_parallel_workers = {cpus}\n\
         max_parallel_workers_per_gather = {half}\n\
         max_parallel_maintenance_workers = {half}\n\
         jit = off\n\
         shared_preload_libraries = 'pg_stat_statements'\n\
         pg_stat_statements.max = 10000\n\
         pg_stat_statements.track = top\n\
         track_io_timing = on\n\
         track_activity_query_size = 4096\n\
         log_min_duration_statement = 1000\n\
         log_checkpoints = on\n\
         log_lock_waits = on\n\
         log_temp_files = 0\n\
         timezone = 'UTC'\n",
        workers = cpus + 8,
    )
}

fn start(pg: &PostgresState, run_as: Option<&RunAs>) -> Result<()> {
    let log = pg
        .data_dir
        .parent()
        .unwrap_or(&pg.data_dir)
        .join("postgres.log");
    let result = process::run_checked(
        SERVICE,
        "pg_ctl start",
        process::command(&pg.bindir.join("pg_ctl"), run_as)
            .arg("start")
            .arg("-D")
            .arg(&pg.data_dir)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(format!("-p {}", pg.port))
            .args(["-w", "-t", "120"]),
    );
    if let Err(e) = result {
        return Err(Error::service(
            SERVICE,
            format!("{e}; server log: {}", process::log_tail(&log, 5)),
        ));
    }
    if !process::wait_listening(pg.port, Duration::from_secs(30)) {
        return Err(Error::service(
            SERVICE,
            format!(
                "started but does not accept connections on 127.0.0.1:{}; see {}",
                pg.port,
                log.display()
            ),
        ));
    }
    Ok(())
}

/// Creates shopbench's roles (with their generated passwords) and database, once.
fn provision(pg: &PostgresState) -> Result<()> {
    let sql = format!(
        "SET pg_stat_statements.track_utility = off;\n\
         SELECT format('CREATE ROLE shopbench_owner NOLOGIN BYPASSRLS NOINHERIT') \
           WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shopbench_owner') \\gexec\n\
         SELECT format('CREATE ROLE shopbench_app LOGIN NOBYPASSRLS NOINHERIT') \
           WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shopbench_app') \\gexec\n\
         SELECT format('CREATE ROLE shopbench_loader LOGIN BYPASSRLS NOINHERIT') \
           WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shopbench_loader') \\gexec\n\
         ALTER ROLE shopbench_app PASSWORD '{app}';\n\
         ALTER ROLE shopbench_loader PASSWORD '{loader}';\n\
         SELECT format('CREATE DATABASE %I', '{db}') \
           WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{db}') \\gexec\n",
        app = pg.app_password,
        loader = pg.loader_password,
        db = pg.database,
    );
    let mut child = std::process::Command::new(pg.bindir.join("psql"))
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-d",
            "postgres",
        ])
        .arg("-p")
        .arg(pg.port.to_string())
        .arg("-U")
        .arg(&pg.superuser)
        .env("PGPASSWORD", &pg.password)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("PostgreSQL: cannot run psql", e))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(sql.as_bytes())
            .map_err(|e| Error::io("PostgreSQL: cannot talk to psql", e))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| Error::io("PostgreSQL: psql did not finish", e))?;
    if !output.status.success() {
        return Err(Error::service(
            SERVICE,
            format!(
                "creating roles and database failed: {}",
                crate::secret::scrub(String::from_utf8_lossy(&output.stderr).trim())
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_compression_falls_back_to_pglz_without_a_pg_config() {
        assert_eq!(wal_compression(Path::new("/nonexistent/bin")), "on");
        assert!(tuned_settings("lz4").contains("\nwal_compression = lz4\n"));
    }

    #[test]
    fn wal_compression_is_lz4_where_pg_config_says_the_server_has_it() {
        let Ok(bindir) = locate_bindir() else {
            return; // no PostgreSQL on this machine: nothing to ask
        };
        let configure = std::process::Command::new(bindir.join("pg_config"))
            .arg("--configure")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let version = std::process::Command::new(bindir.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let major: u32 = version
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.split('.').next()?.parse().ok())
            .unwrap_or(0);
        let expected = if major >= 15 && configure.contains("--with-lz4") {
            "lz4"
        } else {
            "on"
        };
        assert_eq!(wal_compression(&bindir), expected, "{version} {configure}");
    }
}
