//! The managed ClickHouse: `clickhouse-server` from the machine (Debian ships 18.16; newer
//! single-binary installs as `clickhouse server` work too), its own config under
//! `.shopbench/clickhouse/`, HTTP and native ports on loopback, the `default` user protected by a
//! generated password (stored as SHA-256 in users.xml).

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use super::process;
use super::state::{ClickHouseState, Workdir};
use crate::error::{Error, Result};
use crate::secret::SecretUrl;

const SERVICE: &str = "ClickHouse";

/// The server program and the arguments that precede its options.
fn binary() -> Result<(PathBuf, Vec<&'static str>)> {
    if let Some(server) = process::find_binary("clickhouse-server", &[]) {
        return Ok((server, vec![]));
    }
    if let Some(single) = process::find_binary("clickhouse", &[]) {
        return Ok((single, vec!["server", "--"]));
    }
    Err(Error::MissingBinary {
        service: SERVICE,
        binary: "clickhouse-server".into(),
        hint: "install it (Debian/Ubuntu: apt-get install -y clickhouse-server) or set CLICKHOUSE_URL to a ClickHouse you run".into(),
    })
}

pub fn url(c: &ClickHouseState) -> SecretUrl {
    SecretUrl::new(
        Url::parse(&format!(
            "http://default:{}@127.0.0.1:{}",
            c.password, c.http_port
        ))
        .expect("managed URL"),
    )
}

fn pid(c: &ClickHouseState) -> Option<u32> {
    std::fs::read_to_string(c.dir.join("clickhouse.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn is_running(c: &ClickHouseState) -> bool {
    pid(c).is_some_and(process::pid_alive) && process::listening(c.http_port)
}

pub fn ensure(workdir: &Workdir) -> Result<ClickHouseState> {
    let _lock = workdir.lock()?;
    let mut state = workdir.load()?;
    if let Some(c) = &state.clickhouse {
        if is_running(c) {
            return Ok(c.clone());
        }
    }
    let (server, prefix) = binary()?;
    let mut c = state.clickhouse.take().unwrap_or_else(|| ClickHouseState {
        http_port: 0,
        tcp_port: 0,
        password: process::random_secret(),
        dir: workdir.path("clickhouse"),
    });
    c.http_port = process::reuse_or_free_port((c.http_port != 0).then_some(c.http_port))?;
    c.tcp_port = process::reuse_or_free_port((c.tcp_port != 0).then_some(c.tcp_port))?;
    if c.tcp_port == c.http_port {
        c.tcp_port = process::free_port()?;
    }
    for sub in ["data", "tmp", "user_files", "format_schemas"] {
        let dir = c.dir.join(sub);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let config = c.dir.join("config.xml");
    process::write_private(&config, &server_config(&c))?;
    process::write_private(&c.dir.join("users.xml"), &users_config(&c))?;
    let _ = std::fs::remove_file(c.dir.join("clickhouse.pid"));
    process::run_checked(
        SERVICE,
        "clickhouse-server --daemon",
        process::command(&server, None)
            .args(&prefix)
            .arg(format!("--config-file={}", config.display()))
            .arg(format!(
                "--pid-file={}",
                c.dir.join("clickhouse.pid").display()
            ))
            .arg("--daemon")
            .current_dir(&c.dir),
    )?;
    if !process::wait_listening(c.http_port, Duration::from_secs(60)) {
        return Err(Error::service(
            SERVICE,
            format!(
                "did not start on 127.0.0.1:{}: {}",
                c.http_port,
                process::log_tail(&c.dir.join("server.err.log"), 5)
            ),
        ));
    }
    state.clickhouse = Some(c.clone());
    workdir.save(&state)?;
    Ok(c)
}

pub fn stop(c: &ClickHouseState) -> Result<bool> {
    Ok(process::stop_pid(pid(c), Duration::from_secs(30)))
}

fn server_config(c: &ClickHouseState) -> String {
    let dir = c.dir.display();
    let mark_cache = (process::total_memory() / 32).clamp(256 << 20, 5 << 30);
    format!(
        r#"<?xml version="1.0"?>
<!-- shopbench managed ClickHouse; regenerated on every start -->
<yandex>
    <logger>
        <level>warning</level>
        <log>{dir}/server.log</log>
        <errorlog>{dir}/server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <http_port>{http}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <path>{dir}/data/</path>
    <tmp_path>{dir}/tmp/</tmp_path>
    <user_files_path>{dir}/user_files/</user_files_path>
    <format_schema_path>{dir}/format_schemas/</format_schema_path>
    <users_config>{dir}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>{mark_cache}</mark_cache_size>
    <max_concurrent_queries>200</max_concurrent_queries>
    <timezone>UTC</timezone>
</yandex>
"#,
        http = c.http_port,
        tcp = c.tcp_port,
    )
}

fn users_config(c: &ClickHouseState) -> String {
    let hash = hex::encode(Sha256::digest(c.password.as_bytes()));
    let max_memory = process::total_memory() / 4;
    format!(
        r#"<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>{max_memory}</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password_sha256_hex>{hash}</password_sha256_hex>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"#
    )
}
