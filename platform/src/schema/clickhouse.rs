//! The analytics tables on ClickHouse (`schema/clickhouse/`), applied by `schema apply` when
//! ClickHouse is configured or managed. Statements are `IF NOT EXISTS`, so applying twice
//! changes nothing.

use crate::error::{Error, Result};
use crate::secret::SecretUrl;

/// The analytics DDL, with `{database}` standing for the database name.
pub const ANALYTICS: &str = include_str!("../../../schema/clickhouse/001_analytics.sql");

/// The tables `apply` creates.
pub const TABLES: &[&str] = &["events", "page_views", "order_facts"];

/// A client for `url` (user and password taken from the URL), optionally bound to `database`.
/// Validation is off: ClickHouse 18.16 cannot describe its result types the way the crate's
/// validation expects.
pub fn client(url: &SecretUrl, database: Option<&str>) -> clickhouse::Client {
    let u = url.expose();
    let mut base = u.clone();
    let _ = base.set_username("");
    let _ = base.set_password(None);
    base.set_query(None);
    let mut client = clickhouse::Client::default()
        .with_url(base.as_str().trim_end_matches('/'))
        .with_validation(false);
    if !u.username().is_empty() {
        client = client.with_user(u.username());
    }
    if let Some(password) = url.password() {
        client = client.with_password(password);
    }
    if let Some(db) = database {
        client = client.with_database(db);
    }
    client
}

/// The statements of [`ANALYTICS`] for `database`, without comments.
pub fn statements(database: &str) -> Vec<String> {
    let text: String = ANALYTICS
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    text.split(';')
        .map(|s| s.trim().replace("{database}", database))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Creates the database and the analytics tables if missing.
pub async fn apply(url: &SecretUrl, database: &str) -> Result<()> {
    let client = client(url, None);
    for statement in statements(database) {
        client
            .query(&statement)
            .execute()
            .await
            .map_err(|source| Error::ClickHouse {
                context: format!("schema at {url}"),
                source,
            })?;
    }
    Ok(())
}

/// Drops the analytics database.
pub async fn reset(url: &SecretUrl, database: &str) -> Result<()> {
    client(url, None)
        .query(&format!("DROP DATABASE IF EXISTS {database}"))
        .execute()
        .await
        .map_err(|source| Error::ClickHouse {
            context: format!("dropping {database} at {url}"),
            source,
        })
}

/// The analytics tables missing from `database`.
pub async fn missing_tables(url: &SecretUrl, database: &str) -> Result<Vec<String>> {
    let present: Vec<String> = client(url, None)
        .query("SELECT name FROM system.tables WHERE database = ?")
        .bind(database)
        .fetch_all::<String>()
        .await
        .map_err(|source| Error::ClickHouse {
            context: format!("listing tables at {url}"),
            source,
        })?;
    Ok(TABLES
        .iter()
        .filter(|t| !present.iter().any(|p| p == *t))
        .map(|t| t.to_string())
        .collect())
}
