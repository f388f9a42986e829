//! Managed local services and the resolution of every server's address.
//!
//! A server with a configured URL is external: shopbench only connects to it. Otherwise
//! shopbench runs its own from the binaries installed on the machine (`postgres.rs`, `redis.rs`,
//! `clickhouse.rs`, `s3.rs`), under the work folder (`state.rs`), started by `up` or on first
//! need, kept between commands, stopped by `down`.

pub mod clickhouse;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod s3;
pub mod state;

use std::time::Duration;

use sqlx::Connection;

use crate::config::Settings;
use crate::error::{describe_sqlx, Error, Result};
use crate::secret::SecretUrl;
use state::Workdir;

/// A server shopbench can manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Service {
    Postgres,
    Redis,
    #[cfg_attr(feature = "clap", value(name = "clickhouse"))]
    ClickHouse,
    S3,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Postgres,
        Service::Redis,
        Service::ClickHouse,
        Service::S3,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Redis => "redis",
            Service::ClickHouse => "clickhouse",
            Service::S3 => "s3",
        }
    }
}

/// The PostgreSQL connections of one database: the administrator (schema apply), and the
/// application and loader roles when their credentials are known.
#[derive(Debug, Clone)]
pub struct PostgresTarget {
    pub admin: SecretUrl,
    pub app: SecretUrl,
    pub loader: SecretUrl,
    pub managed: bool,
}

impl PostgresTarget {
    /// The same server with another database name (tests use one database each).
    pub fn with_database(&self, database: &str) -> PostgresTarget {
        let swap = |url: &SecretUrl| {
            let mut u = url.expose().clone();
            u.set_path(&format!("/{database}"));
            SecretUrl::new(u)
        };
        PostgresTarget {
            admin: swap(&self.admin),
            app: swap(&self.app),
            loader: swap(&self.loader),
            managed: self.managed,
        }
    }

    pub fn database(&self) -> String {
        self.admin
            .expose()
            .path()
            .trim_start_matches('/')
            .to_string()
    }
}

fn role_url(admin: &SecretUrl, user: &str, password: Option<&str>) -> SecretUrl {
    let mut url = admin.expose().clone();
    let _ = url.set_username(user);
    let _ = url.set_password(password);
    SecretUrl::new(url)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(Error::service(
            "shopbench",
            format!("a service task panicked: {e}"),
        ))
    })
}

/// PostgreSQL: the configured server, or the managed cluster (started if needed).
pub async fn postgres(settings: &Settings) -> Result<PostgresTarget> {
    if let Some(url) = &settings.postgres.url {
        return Ok(PostgresTarget {
            admin: url.clone(),
            app: role_url(url, "shopbench_app", settings.app_password.as_deref()),
            loader: role_url(url, "shopbench_loader", settings.loader_password.as_deref()),
            managed: false,
        });
    }
    let workdir = Workdir::new(&settings.workdir);
    let pg = blocking(move || postgres::ensure(&workdir)).await?;
    Ok(PostgresTarget {
        admin: postgres::admin_url(&pg),
        app: postgres::app_url(&pg),
        loader: postgres::loader_url(&pg),
        managed: true,
    })
}

/// Redis: the configured server, or the managed one (started if needed).
pub async fn redis_url(settings: &Settings) -> Result<SecretUrl> {
    if let Some(url) = &settings.redis.url {
        return Ok(url.clone());
    }
    let workdir = Workdir::new(&settings.workdir);
    let r = blocking(move || redis::ensure(&workdir)).await?;
    Ok(redis::url(&r))
}

/// ClickHouse: the configured server, or the managed one (started if needed).
pub async fn clickhouse_url(settings: &Settings) -> Result<SecretUrl> {
    if let Some(url) = &settings.clickhouse.url {
        return Ok(url.clone());
    }
    let workdir = Workdir::new(&settings.workdir);
    let c = blocking(move || clickhouse::ensure(&workdir)).await?;
    Ok(clickhouse::url(&c))
}

/// Whether ClickHouse is configured or can be managed here.
pub fn clickhouse_available(settings: &Settings) -> bool {
    settings.clickhouse.url.is_some()
        || process::find_binary("clickhouse-server", &[]).is_some()
        || process::find_binary("clickhouse", &[]).is_some()
}

/// The S3 endpoint and its credentials: the configured server, or the managed SeaweedFS.
pub async fn s3(settings: &Settings) -> Result<(SecretUrl, Option<(String, String)>)> {
    if let Some(url) = &settings.s3.url {
        let keys = settings
            .s3_access_key
            .clone()
            .zip(settings.s3_secret_key.clone());
        return Ok((url.clone(), keys));
    }
    let workdir = Workdir::new(&settings.workdir);
    let bucket = settings.s3_bucket.clone();
    let s = blocking(move || s3::ensure(&workdir, &bucket)).await?;
    Ok((
        s3::endpoint(&s),
        Some((s.access_key.clone(), s.secret_key.clone())),
    ))
}

/// Starts the managed servers among `which` that have no configured URL. One result per
/// service: what runs where, or why it could not start.
pub async fn up(settings: &Settings, which: &[Service]) -> Vec<(Service, Result<String>)> {
    let mut out = Vec::new();
    for &service in which {
        let result = match service {
            Service::Postgres => postgres(settings)
                .await
                .map(|t| describe(t.managed, &t.admin)),
            Service::Redis => redis_url(settings)
                .await
                .map(|u| describe(settings.redis.url.is_none(), &u)),
            Service::ClickHouse => clickhouse_url(settings)
                .await
                .map(|u| describe(settings.clickhouse.url.is_none(), &u)),
            Service::S3 => s3(settings)
                .await
                .map(|(u, _)| describe(settings.s3.url.is_none(), &u)),
        };
        out.push((service, result));
    }
    out
}

fn describe(managed: bool, url: &SecretUrl) -> String {
    if managed {
        format!("managed, {url}")
    } else {
        format!("external, {url}")
    }
}

/// Stops the managed servers among `which` (all of them when empty) that run. Returns the ones
/// it stopped. Their state stays: `up` starts them again on the same ports.
pub fn down(settings: &Settings, which: &[Service]) -> Result<Vec<Service>> {
    let workdir = Workdir::new(&settings.workdir);
    if !workdir.root.exists() {
        return Ok(vec![]);
    }
    let _lock = workdir.lock()?;
    let state = workdir.load()?;
    let wanted = |s: Service| which.is_empty() || which.contains(&s);
    let mut stopped = Vec::new();
    if let Some(s) = state.s3.as_ref().filter(|_| wanted(Service::S3)) {
        if s3::stop(s)? {
            stopped.push(Service::S3);
        }
    }
    if let Some(c) = state
        .clickhouse
        .as_ref()
        .filter(|_| wanted(Service::ClickHouse))
    {
        if clickhouse::stop(c)? {
            stopped.push(Service::ClickHouse);
        }
    }
    if let Some(r) = state.redis.as_ref().filter(|_| wanted(Service::Redis)) {
        if redis::stop(r)? {
            stopped.push(Service::Redis);
        }
    }
    if let Some(pg) = state
        .postgres
        .as_ref()
        .filter(|_| wanted(Service::Postgres))
    {
        if postgres::stop(pg)? {
            stopped.push(Service::Postgres);
        }
    }
    Ok(stopped)
}

/// One line of `shopbench status`.
#[derive(Debug, Clone)]
pub struct StatusLine {
    pub service: &'static str,
    /// "managed", "external", "built-in" or "not installed".
    pub mode: &'static str,
    /// Redacted address, when there is one.
    pub address: Option<String>,
    pub running: bool,
    /// Version or reason.
    pub detail: String,
}

/// Where every server is and whether it answers. Starts nothing.
pub async fn status(settings: &Settings) -> Result<Vec<StatusLine>> {
    let workdir = Workdir::new(&settings.workdir);
    let state = if workdir.root.exists() {
        workdir.load()?
    } else {
        state::State::default()
    };
    let mut lines = Vec::new();

    // PostgreSQL
    let (mode, url) = match (&settings.postgres.url, &state.postgres) {
        (Some(url), _) => ("external", Some(url.clone())),
        (None, Some(pg)) => ("managed", Some(postgres::admin_url(pg))),
        (None, None) => ("managed", None),
    };
    let mut line = StatusLine {
        service: "postgres",
        mode,
        address: url.as_ref().map(|u| u.to_string()),
        running: false,
        detail: String::new(),
    };
    match (&url, &state.postgres, settings.postgres.url.is_some()) {
        (Some(url), pg, external) if external || pg.as_ref().is_some_and(postgres::is_running) => {
            match probe_postgres(url).await {
                Ok(version) => {
                    line.running = true;
                    line.detail = version;
                    if let (false, Some(pg)) = (external, pg) {
                        line.detail
                            .push_str(&format!("; data {}", pg.data_dir.display()));
                    }
                }
                Err(e) => line.detail = e,
            }
        }
        (_, Some(pg), _) => line.detail = format!("stopped; data {}", pg.data_dir.display()),
        _ => {
            line.detail = match postgres::locate_bindir() {
                Ok(dir) => format!("not created yet (binaries in {})", dir.display()),
                Err(e) => {
                    line.mode = "not installed";
                    e.to_string()
                }
            }
        }
    }
    lines.push(line);

    // Redis and ClickHouse: managed or external, probed for their version when running.
    let url = settings
        .redis
        .url
        .clone()
        .or_else(|| state.redis.as_ref().map(redis::url));
    let external = settings.redis.url.is_some();
    let running = external || state.redis.as_ref().is_some_and(redis::is_running);
    let installed = external || process::find_binary("redis-server", &[]).is_some();
    lines.push(
        server_line(
            "redis",
            (external, installed),
            (url, running),
            "apt-get install -y redis-server, or set REDIS_URL",
            |u| Box::pin(probe_redis(u)),
        )
        .await,
    );
    let url = settings
        .clickhouse
        .url
        .clone()
        .or_else(|| state.clickhouse.as_ref().map(clickhouse::url));
    let external = settings.clickhouse.url.is_some();
    let running = external
        || state
            .clickhouse
            .as_ref()
            .is_some_and(clickhouse::is_running);
    lines.push(
        server_line(
            "clickhouse",
            (external, clickhouse_available(settings)),
            (url, running),
            "apt-get install -y clickhouse-server, or set CLICKHOUSE_URL",
            |u| Box::pin(probe_clickhouse(u)),
        )
        .await,
    );

    // S3
    let url = settings
        .s3
        .url
        .clone()
        .or_else(|| state.s3.as_ref().map(s3::endpoint));
    let mut line = StatusLine {
        service: "s3",
        mode: if settings.s3.url.is_some() {
            "external"
        } else {
            "managed"
        },
        address: url.as_ref().map(|u| u.to_string()),
        running: false,
        detail: "not started".into(),
    };
    if let Some(url) = &url {
        if tcp_probe(url).await {
            line.running = true;
            line.detail = format!("bucket {}", settings.s3_bucket);
        } else if settings.s3.url.is_some() {
            line.detail = "no answer".into();
        }
    }
    lines.push(line);

    // Search
    let line = match &settings.search.url {
        Some(url) => StatusLine {
            service: "search",
            mode: "external",
            address: Some(url.to_string()),
            running: tcp_probe(url).await,
            detail: "Elasticsearch/OpenSearch".into(),
        },
        None => StatusLine {
            service: "search",
            mode: "built-in",
            address: None,
            running: true,
            detail: "PostgreSQL full-text search (set SEARCH_URL for Elasticsearch/OpenSearch)"
                .into(),
        },
    };
    lines.push(line);
    Ok(lines)
}

type Probe<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::result::Result<String, String>> + 'a>>;

/// The status of a server that is external or managed at `url`: when it should be `running`,
/// `probe` asks its version; not installed when it can be neither.
async fn server_line(
    service: &'static str,
    (external, installed): (bool, bool),
    (url, running): (Option<SecretUrl>, bool),
    install: &str,
    probe: impl for<'a> FnOnce(&'a SecretUrl) -> Probe<'a>,
) -> StatusLine {
    let mut line = StatusLine {
        service,
        mode: if external { "external" } else { "managed" },
        address: url.as_ref().map(|u| u.to_string()),
        running: false,
        detail: "not started".into(),
    };
    if let (Some(url), true) = (&url, running) {
        match probe(url).await {
            Ok(version) => {
                line.running = true;
                line.detail = version;
            }
            Err(e) => line.detail = e,
        }
    } else if !installed {
        line.mode = "not installed";
        line.detail = install.into();
    }
    line
}

async fn probe_postgres(url: &SecretUrl) -> std::result::Result<String, String> {
    let connect = sqlx::PgConnection::connect(url.expose().as_str());
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(describe_sqlx(&e)),
        Err(_) => return Err("no answer within 5 s".into()),
    };
    let row: (String, String) = sqlx::query_as(
        "SELECT current_setting('server_version'), current_setting('shared_preload_libraries')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| describe_sqlx(&e))?;
    let preload = if row.1.contains("pg_stat_statements") {
        "pg_stat_statements preloaded"
    } else {
        "pg_stat_statements NOT preloaded"
    };
    Ok(format!("PostgreSQL {}; {preload}", row.0))
}

async fn probe_redis(url: &SecretUrl) -> std::result::Result<String, String> {
    let client = ::redis::Client::open(url.expose().as_str())
        .map_err(|e| crate::secret::scrub(&e.to_string()))?;
    let work = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        let info: String = ::redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await?;
        Ok::<_, ::redis::RedisError>(info)
    };
    let info = match tokio::time::timeout(Duration::from_secs(5), work).await {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => return Err(crate::secret::scrub(&e.to_string())),
        Err(_) => return Err("no answer within 5 s".into()),
    };
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    Ok(format!("Redis {version}"))
}

async fn probe_clickhouse(url: &SecretUrl) -> std::result::Result<String, String> {
    let client = crate::schema::clickhouse::client(url, None);
    let work = client.query("SELECT version()").fetch_one::<String>();
    match tokio::time::timeout(Duration::from_secs(5), work).await {
        Ok(Ok(v)) => Ok(format!("ClickHouse {v}")),
        Ok(Err(e)) => Err(crate::secret::scrub(&e.to_string())),
        Err(_) => Err("no answer within 5 s".into()),
    }
}

async fn tcp_probe(url: &SecretUrl) -> bool {
    let u = url.expose();
    let (Some(host), Some(port)) = (u.host_str(), u.port_or_known_default()) else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    matches!(
        tokio::time::timeout(
            Duration::from_secs(3),
            tokio::net::TcpStream::connect((host.as_str(), port))
        )
        .await,
        Ok(Ok(_))
    )
}
