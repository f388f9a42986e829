//! Starting and stopping server processes: binaries on the machine, free loopback ports, an
//! unprivileged user when running as root, detached daemons.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, User};
use rand::distr::{Alphanumeric, SampleString};

use crate::error::{Error, Result};

/// The first executable called `name` on PATH or in `extra` folders.
pub fn find_binary(name: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    extra
        .iter()
        .cloned()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Error::io("cannot find a free loopback port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("cannot find a free loopback port", e))
}

/// `preferred` when it is still free (servers keep their port across restarts), else a new one.
pub fn reuse_or_free_port(preferred: Option<u16>) -> Result<u16> {
    match preferred {
        Some(port) if TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok() => {
            Ok(port)
        }
        _ => free_port(),
    }
}

/// Whether something accepts connections on 127.0.0.1:`port`.
pub fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// Waits until 127.0.0.1:`port` accepts connections, or `timeout` passes.
pub fn wait_listening(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if listening(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

pub fn pid_alive(pid: u32) -> bool {
    kill(Pid::from_raw(pid as i32), None).is_ok()
}

/// SIGTERM, then SIGKILL if the process is still there after `grace`.
pub fn terminate(pid: u32, grace: Duration) {
    let target = Pid::from_raw(pid as i32);
    if kill(target, Signal::SIGTERM).is_err() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < grace {
        if !pid_alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = kill(target, Signal::SIGKILL);
}

/// A random password for a managed server (alphanumeric, so it needs no escaping anywhere).
pub fn random_secret() -> String {
    let secret = Alphanumeric.sample_string(&mut rand::rng(), 32);
    crate::secret::register(&secret);
    secret
}

/// The OS user a server runs as when shopbench itself runs as root.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// `None` when not root; else the user named by `SHOPBENCH_SERVICE_USER` or `default_user`.
pub fn unprivileged_user(service: &'static str, default_user: &str) -> Result<Option<RunAs>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let name = std::env::var("SHOPBENCH_SERVICE_USER").unwrap_or_else(|_| default_user.to_string());
    match User::from_name(&name) {
        Ok(Some(user)) => Ok(Some(RunAs {
            name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        })),
        _ => Err(Error::service(
            service,
            format!(
                "running as root, {service} must run as an unprivileged user, and user '{name}' does not exist; \
                 create it (useradd --system {name}) or set SHOPBENCH_SERVICE_USER"
            ),
        )),
    }
}

/// A command run as `run_as` when given.
pub fn command(program: &Path, run_as: Option<&RunAs>) -> Command {
    let mut cmd = Command::new(program);
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
        cmd.env("HOME", "/tmp").env("USER", &user.name);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to completion; on failure the error carries the last lines it printed.
pub fn run_checked(service: &'static str, what: &str, cmd: &mut Command) -> Result<String> {
    let output = cmd
        .output()
        .map_err(|e| Error::io(format!("{service}: cannot run {what}"), e))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let tail = tail[tail.len().saturating_sub(3)..].join(" | ");
    Err(Error::service(
        service,
        format!("{what} failed ({}): {tail}", output.status),
    ))
}

/// Starts `cmd` as a daemon in its own session, output appended to `log`; returns its pid.
pub fn spawn_detached(service: &'static str, cmd: &mut Command, log: &Path) -> Result<u32> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(format!("cannot open {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| Error::io("cannot duplicate a log handle", e))?;
    cmd.stdout(out).stderr(err).stdin(Stdio::null());
    // SAFETY: setsid is async-signal-safe; it detaches the child from our session so it outlives us
    // and does not receive the terminal's Ctrl-C.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| Error::io(format!("{service}: cannot start"), e))?;
    Ok(child.id())
}

/// The last `n` lines of a log file, for error messages.
pub fn log_tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    crate::secret::scrub(&lines[lines.len().saturating_sub(n)..].join(" | "))
}

/// Total memory of the machine in bytes (4 GiB if /proc cannot say).
pub fn total_memory() -> u64 {
    use procfs::Current;
    procfs::Meminfo::current()
        .map(|m| m.mem_total)
        .unwrap_or(4 << 30)
}

/// Peak resident memory of this process in bytes (0 where /proc cannot say).
pub fn peak_memory() -> u64 {
    procfs::process::Process::myself()
        .and_then(|p| p.status())
        .ok()
        .and_then(|s| s.vmhwm)
        .map_or(0, |kib| kib * 1024)
}

pub fn cpu_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Stops the daemon with `pid` (SIGTERM, SIGKILL after `grace`); `false` when it was not running.
pub fn stop_pid(pid: Option<u32>, grace: Duration) -> bool {
    match pid {
        Some(pid) if pid_alive(pid) => {
            terminate(pid, grace);
            true
        }
        _ => false,
    }
}

/// Writes a file readable by its owner only (configs that hold a password).
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(format!("cannot protect {}", path.display()), e))
}

/// Free bytes for an unprivileged writer on the filesystem holding `path` (None if unknown).
pub fn free_disk(path: &Path) -> Option<u64> {
    let stat = nix::sys::statvfs::statvfs(path).ok()?;
    Some(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}
