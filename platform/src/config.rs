//! Settings: where every server is, resolved as flags > environment > `shopbench.toml` >
//! defaults. A connection left unset means "shopbench runs it" (managed local service) for
//! PostgreSQL, Redis, ClickHouse and S3, and "PostgreSQL full-text search" for search.
//!
//! Every URL is validated here, once, with a message that names where it came from and what a
//! correct one looks like, and never echoes the value (it may hold a password).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::secret::{self, SecretUrl};

/// Values given on the command line (`None`: not given).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub workdir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub clickhouse_url: Option<String>,
    pub search_url: Option<String>,
    pub s3_endpoint: Option<String>,
}

/// Where a setting came from (shown by `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::File(path) => write!(f, "config file {}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One server's address; `url: None` means shopbench manages it (or, for search, uses
/// PostgreSQL full-text search).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: Option<SecretUrl>,
    pub source: Source,
}

impl Endpoint {
    pub fn is_external(&self) -> bool {
        self.url.is_some()
    }
}

/// The resolved settings of one shopbench invocation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Folder of the managed services' data and state (default `./.shopbench`).
    pub workdir: PathBuf,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub postgres: Endpoint,
    pub redis: Endpoint,
    pub clickhouse: Endpoint,
    pub search: Endpoint,
    pub s3: Endpoint,
    /// ClickHouse database holding the analytics tables.
    pub clickhouse_database: String,
    pub s3_bucket: String,
    pub s3_access_key: Option<String>,
    pub s3_secret_key: Option<String>,
    /// Password set on `shopbench_app` / `shopbench_loader` by `schema apply` on an external
    /// PostgreSQL (the managed cluster makes its own).
    pub app_password: Option<String>,
    pub loader_password: Option<String>,
}

/// The keys `shopbench.toml` accepts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    workdir: Option<PathBuf>,
    database_url: Option<String>,
    redis_url: Option<String>,
    clickhouse_url: Option<String>,
    clickhouse_database: Option<String>,
    search_url: Option<String>,
    s3_endpoint: Option<String>,
    s3_bucket: Option<String>,
    s3_access_key: Option<String>,
    s3_secret_key: Option<String>,
    app_password: Option<String>,
    loader_password: Option<String>,
}

/// What one kind of URL must look like.
struct UrlRule {
    service: &'static str,
    flag: &'static str,
    env: &'static str,
    key: &'static str,
    schemes: &'static [&'static str],
    example: &'static str,
}

const POSTGRES: UrlRule = UrlRule {
    service: "PostgreSQL",
    flag: "--database-url",
    env: "DATABASE_URL",
    key: "database_url",
    schemes: &["postgres", "postgresql"],
    example: "postgres://user:password@127.0.0.1:5432/shopbench",
};
const REDIS: UrlRule = UrlRule {
    service: "Redis",
    flag: "--redis-url",
    env: "REDIS_URL",
    key: "redis_url",
    schemes: &["redis", "rediss"],
    example: "redis://:password@127.0.0.1:6379/0",
};
const CLICKHOUSE: UrlRule = UrlRule {
    service: "ClickHouse",
    flag: "--clickhouse-url",
    env: "CLICKHOUSE_URL",
    key: "clickhouse_url",
    schemes: &["http", "https"],
    example: "http://default:password@127.0.0.1:8123",
};
const SEARCH: UrlRule = UrlRule {
    service: "search",
    flag: "--search-url",
    env: "SEARCH_URL",
    key: "search_url",
    schemes: &["http", "https"],
    example: "http://127.0.0.1:9200",
};
const S3: UrlRule = UrlRule {
    service: "S3",
    flag: "--s3-endpoint",
    env: "S3_ENDPOINT",
    key: "s3_endpoint",
    schemes: &["http", "https"],
    example: "http://127.0.0.1:8333",
};

impl Settings {
    /// Resolves settings from `overrides`, the process environment and the config file.
    pub fn load(overrides: &Overrides) -> Result<Settings> {
        Self::load_with_env(overrides, &|name| std::env::var(name).ok())
    }

    /// Like [`Settings::load`] with the environment supplied by `env` (for tests).
    pub fn load_with_env(
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let (file, config_file) = read_config_file(overrides, &env)?;
        let file_source = || Source::File(config_file.clone().unwrap_or_default());

        let endpoint = |rule: &UrlRule,
                        flag: &Option<String>,
                        from_file: &Option<String>|
         -> Result<Endpoint> {
            let (raw, source) = if let Some(v) = flag {
                (Some(v.clone()), Source::Flag(rule.flag))
            } else if let Some(v) = env(rule.env) {
                (Some(v), Source::Env(rule.env))
            } else if let Some(v) = from_file {
                (Some(v.clone()), file_source())
            } else {
                (None, Source::Default)
            };
            let url = raw.map(|raw| parse_url(rule, &raw, &source)).transpose()?;
            Ok(Endpoint { url, source })
        };

        let postgres = endpoint(&POSTGRES, &overrides.database_url, &file.database_url)?;
        let redis = endpoint(&REDIS, &overrides.redis_url, &file.redis_url)?;
        let clickhouse = endpoint(&CLICKHOUSE, &overrides.clickhouse_url, &file.clickhouse_url)?;
        let search = endpoint(&SEARCH, &overrides.search_url, &file.search_url)?;
        let s3 = endpoint(&S3, &overrides.s3_endpoint, &file.s3_endpoint)?;

        let workdir = overrides
            .workdir
            .clone()
            .or_else(|| env("SHOPBENCH_HOME").map(PathBuf::from))
            .or(file.workdir)
            .unwrap_or_else(|| PathBuf::from(".shopbench"));
        let workdir = absolute(&workdir)?;

        let clickhouse_database = env("CLICKHOUSE_DATABASE")
            .or(file.clickhouse_database)
            .unwrap_or_else(|| "shopbench".to_string());
        if !clickhouse_database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || clickhouse_database.is_empty()
        {
            return Err(Error::BadInput(format!(
                "clickhouse_database must be letters, digits and underscores (got {clickhouse_database:?})"
            )));
        }
        let s3_bucket = env("S3_BUCKET")
            .or(file.s3_bucket)
            .unwrap_or_else(|| "shopbench".to_string());
        let s3_access_key = env("AWS_ACCESS_KEY_ID").or(file.s3_access_key);
        let s3_secret_key = env("AWS_SECRET_ACCESS_KEY").or(file.s3_secret_key);
        let app_password = env("SHOPBENCH_APP_PASSWORD").or(file.app_password);
        let loader_password = env("SHOPBENCH_LOADER_PASSWORD").or(file.loader_password);
        for s in [&s3_secret_key, &app_password, &loader_password]
            .into_iter()
            .flatten()
        {
            secret::register(s);
        }

        Ok(Settings {
            workdir,
            config_file,
            postgres,
            redis,
            clickhouse,
            search,
            s3,
            clickhouse_database,
            s3_bucket,
            s3_access_key,
            s3_secret_key,
            app_password,
            loader_password,
        })
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    Ok(cwd.join(path))
}

/// Reads `--config`, else `SHOPBENCH_CONFIG`, else `./shopbench.toml` when it exists.
fn read_config_file(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(FileConfig, Option<PathBuf>)> {
    let (path, required) = match (&overrides.config, env("SHOPBENCH_CONFIG")) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) => (PathBuf::from(p), true),
        (None, None) => (PathBuf::from("shopbench.toml"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((FileConfig::default(), None))
        }
        Err(e) => {
            return Err(Error::ConfigFile {
                path,
                message: format!(
                "cannot be read ({e}); pass an existing file with --config or remove the option"
            ),
            })
        }
    };
    let parsed: FileConfig = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().replace('\n', " ");
        let message = match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        };
        let hint = if message.contains("unknown field") {
            "; remove or rename the key (see README, Configuration)"
        } else {
            "; fix the TOML syntax"
        };
        Error::ConfigFile {
            path: path.clone(),
            message: format!("{message}{hint}"),
        }
    })?;
    Ok((parsed, Some(path)))
}

fn parse_url(rule: &UrlRule, raw: &str, source: &Source) -> Result<SecretUrl> {
    let origin = match source {
        Source::Flag(flag) => (*flag).to_string(),
        Source::Env(var) => (*var).to_string(),
        Source::File(path) => format!("{} in {}", rule.key, path.display()),
        Source::Default => rule.key.to_string(),
    };
    let bad = |reason: String| {
        Error::BadInput(format!(
            "invalid {} URL from {origin}: {reason}; expected something like {}",
            rule.service, rule.example
        ))
    };
    let url = Url::parse(raw.trim()).map_err(|e| bad(e.to_string()))?;
    let url = SecretUrl::new(url);
    if !rule.schemes.contains(&url.expose().scheme()) {
        return Err(bad(format!(
            "scheme '{}' is not one of {}",
            url.expose().scheme(),
            rule.schemes.join(", ")
        )));
    }
    if url.expose().host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_string()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn write_config(text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shopbench-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shopbench.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn flags_beat_env_beat_file_beat_default() {
        let path = write_config(
            "database_url = \"postgres://file@h/db\"\nredis_url = \"redis://file:6379\"\nclickhouse_url = \"http://file:8123\"\n",
        );
        let overrides = Overrides {
            config: Some(path.clone()),
            database_url: Some("postgres://flag@h/db".into()),
            ..Default::default()
        };
        let env = env_of(&[
            ("DATABASE_URL", "postgres://env@h/db"),
            ("REDIS_URL", "redis://env:6379"),
        ]);
        let s = Settings::load_with_env(&overrides, &env).unwrap();
        assert_eq!(s.postgres.url.unwrap().username(), "flag");
        assert_eq!(s.postgres.source, Source::Flag("--database-url"));
        assert_eq!(s.redis.url.unwrap().expose().host_str(), Some("env"));
        assert_eq!(s.redis.source, Source::Env("REDIS_URL"));
        assert_eq!(s.clickhouse.url.unwrap().expose().host_str(), Some("file"));
        assert_eq!(s.clickhouse.source, Source::File(path));
        assert!(s.s3.url.is_none());
        assert_eq!(s.s3.source, Source::Default);
    }

    #[test]
    fn malformed_url_names_its_origin_and_hides_the_password() {
        let overrides = Overrides {
            database_url: Some("mysql://u:topsecret-pw@h/db".into()),
            ..Default::default()
        };
        let err = Settings::load_with_env(&overrides, &env_of(&[])).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.kind(), crate::ErrorKind::BadInput);
        assert!(msg.contains("--database-url"), "{msg}");
        assert!(msg.contains("postgres://"), "{msg}");
        assert!(!msg.contains("topsecret-pw"), "{msg}");

        let err = Settings::load_with_env(
            &Overrides::default(),
            &env_of(&[("REDIS_URL", "not a url")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("REDIS_URL"), "{err}");
    }

    #[test]
    fn unknown_key_in_config_file_is_bad_input_with_line() {
        let path = write_config("database_url = \"postgres://h/db\"\ndatabse_url = \"x\"\n");
        let overrides = Overrides {
            config: Some(path),
            ..Default::default()
        };
        let err = Settings::load_with_env(&overrides, &env_of(&[])).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.kind(), crate::ErrorKind::BadInput);
        assert!(
            msg.contains("line 2") && msg.contains("databse_url"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn missing_explicit_config_file_is_bad_input() {
        let overrides = Overrides {
            config: Some(PathBuf::from("/nonexistent/shopbench.toml")),
            ..Default::default()
        };
        let err = Settings::load_with_env(&overrides, &env_of(&[])).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadInput);
    }

    #[test]
    fn empty_environment_values_count_as_unset() {
        let s = Settings::load_with_env(&Overrides::default(), &env_of(&[("DATABASE_URL", "  ")]))
            .unwrap();
        assert!(s.postgres.url.is_none());
    }
}
