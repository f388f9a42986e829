//! The managed Redis: `redis-server` from the machine, a config file (mode 0600, it holds the
//! password) under `.shopbench/redis/`, a free loopback port, no persistence (sessions, carts and
//! cache are rebuilt by the workload), `volatile-lru` eviction so keys without a TTL (carts)
//! survive memory pressure.

use std::time::Duration;

use url::Url;

use super::process;
use super::state::{RedisState, Workdir};
use crate::error::{Error, Result};
use crate::secret::SecretUrl;

const SERVICE: &str = "Redis";

fn binary() -> Result<std::path::PathBuf> {
    process::find_binary("redis-server", &[]).ok_or_else(|| Error::MissingBinary {
        service: SERVICE,
        binary: "redis-server".into(),
        hint: "install it (Debian/Ubuntu: apt-get install -y redis-server) or set REDIS_URL to a Redis you run".into(),
    })
}

pub fn url(r: &RedisState) -> SecretUrl {
    SecretUrl::new(
        Url::parse(&format!("redis://:{}@127.0.0.1:{}/0", r.password, r.port))
            .expect("managed URL"),
    )
}

fn pid(r: &RedisState) -> Option<u32> {
    std::fs::read_to_string(r.dir.join("redis.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn is_running(r: &RedisState) -> bool {
    pid(r).is_some_and(process::pid_alive) && process::listening(r.port)
}

pub fn ensure(workdir: &Workdir) -> Result<RedisState> {
    let _lock = workdir.lock()?;
    let mut state = workdir.load()?;
    if let Some(r) = &state.redis {
        if is_running(r) {
            return Ok(r.clone());
        }
    }
    let server = binary()?;
    let mut r = state.redis.take().unwrap_or_else(|| RedisState {
        port: 0,
        password: process::random_secret(),
        dir: workdir.path("redis"),
    });
    r.port = process::reuse_or_free_port((r.port != 0).then_some(r.port))?;
    std::fs::create_dir_all(&r.dir)
        .map_err(|e| Error::io(format!("cannot create {}", r.dir.display()), e))?;
    let conf = r.dir.join("redis.conf");
    process::write_private(&conf, &config(&r))?;
    let log = r.dir.join("redis.log");
    process::run_checked(
        SERVICE,
        "redis-server",
        process::command(&server, None).arg(&conf),
    )?;
    if !process::wait_listening(r.port, Duration::from_secs(20)) {
        return Err(Error::service(
            SERVICE,
            format!(
                "did not start on 127.0.0.1:{}: {}",
                r.port,
                process::log_tail(&log, 5)
            ),
        ));
    }
    state.redis = Some(r.clone());
    workdir.save(&state)?;
    Ok(r)
}

pub fn stop(r: &RedisState) -> Result<bool> {
    Ok(process::stop_pid(pid(r), Duration::from_secs(20)))
}

fn config(r: &RedisState) -> String {
    let maxmemory_mb = (process::total_memory() / (1 << 20) / 8).max(256);
    format!(
        "bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize yes\n\
         pidfile {dir}/redis.pid\nlogfile {dir}/redis.log\ndir {dir}\n\
         save \"\"\nappendonly no\nrequirepass {password}\n\
         maxmemory {maxmemory_mb}mb\nmaxmemory-policy volatile-lru\n",
        port = r.port,
        dir = r.dir.display(),
        password = r.password,
    )
}
