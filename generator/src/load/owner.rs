//! Which seed a store's data belongs to. PostgreSQL holds one seed per database, but the
//! analytics database, the object store's bucket and the search index can be shared by several
//! PostgreSQL databases (the managed one and an external `DATABASE_URL`, say), and a second seed
//! into them would double their rows. So each seed has an instance id (random, recorded in
//! `shopbench_meta.seed_runs`), and before writing anything anywhere it checks each store it will
//! write to: empty, or marked as its own (a resumed seed), or it refuses, naming the store, what
//! it holds and the fix. Then it marks each store as its own: a `seed_owner` table in ClickHouse,
//! an object `shopbench-seed-owner.json` in the bucket, a document in the index
//! `<index>-owner`. `schema reset` removes the marks with the data.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{ch, Error, Result};

use super::clickhouse::Target as ClickHouse;
use super::images::Store;

/// The seed that writes: its instance id and the PostgreSQL database it loads (no password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    pub instance: uuid::Uuid,
    pub database: String,
}

impl Owner {
    /// The owner `instance` loading the database at `url`, named by host, port and database.
    pub fn new(instance: uuid::Uuid, url: &platform::SecretUrl) -> Owner {
        let u = url.expose();
        Owner {
            instance,
            database: format!(
                "{}:{}{}",
                u.host_str().unwrap_or("?"),
                u.port().unwrap_or(5432),
                u.path()
            ),
        }
    }
}

/// What a store holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Holding {
    Empty,
    /// Marked as this seed's: a resumed seed continues.
    Ours,
    /// Another seed's data, described.
    Foreign(String),
}

/// The object the bucket's mark is kept in.
pub const MARK_OBJECT: &str = "shopbench-seed-owner.json";
const MARK_TABLE: &str = "seed_owner";

/// The index the search index's mark is kept in.
pub fn mark_index(index: &str) -> String {
    format!("{index}-owner")
}

fn refused(store: String, holds: String, fix: &str) -> Error {
    Error::Claimed {
        store,
        holds,
        fix: fix.to_string(),
    }
}

fn of_mark(mark: Option<Owner>, owner: &Owner, rows: impl FnOnce() -> Option<String>) -> Holding {
    match mark {
        Some(m) if m.instance == owner.instance => Holding::Ours,
        Some(m) => Holding::Foreign(format!("the data of the seed of {}", m.database)),
        None => rows().map_or(Holding::Empty, |r| {
            Holding::Foreign(format!("{r} of an earlier seed (no owner recorded)"))
        }),
    }
}

/// ClickHouse's analytics database.
pub async fn clickhouse(target: &ClickHouse, owner: &Owner) -> Result<Holding> {
    let tables: Vec<String> = target
        .client
        .query("SELECT name FROM system.tables WHERE database = ?")
        .bind(&target.database)
        .fetch_all()
        .await
        .map_err(ch(format!("listing the tables of {}", target.database)))?;
    let mark = if tables.iter().any(|t| t == MARK_TABLE) {
        let marks: Vec<String> = target
            .client
            .query(&format!(
                "SELECT owner FROM {}.{MARK_TABLE} LIMIT 1",
                target.database
            ))
            .fetch_all()
            .await
            .map_err(ch(format!("reading {}.{MARK_TABLE}", target.database)))?;
        marks.first().and_then(|m| serde_json::from_str(m).ok())
    } else {
        None
    };
    let mut rows = Vec::new();
    for table in ["events", "page_views", "order_facts"] {
        if tables.iter().any(|t| t == table) {
            let n: u64 = target
                .client
                .query(&format!("SELECT count() FROM {}.{table}", target.database))
                .fetch_one()
                .await
                .map_err(ch(format!("counting {}.{table}", target.database)))?;
            if n > 0 {
                rows.push(format!("{n} rows in {table}"));
            }
        }
    }
    Ok(of_mark(mark, owner, || {
        (!rows.is_empty()).then(|| rows.join(", "))
    }))
}

async fn mark_clickhouse(target: &ClickHouse, owner: &Owner) -> Result<()> {
    let db = &target.database;
    let context = || ch(format!("marking {db} as this seed's"));
    target
        .client
        .query(&format!(
            "CREATE TABLE IF NOT EXISTS {db}.{MARK_TABLE} (owner String) ENGINE = TinyLog"
        ))
        .execute()
        .await
        .map_err(context())?;
    // A resumed seed finds its mark there already.
    target
        .client
        .query(&format!(
            "INSERT INTO {db}.{MARK_TABLE} SELECT ? FROM system.one WHERE (SELECT count() FROM {db}.{MARK_TABLE}) = 0"
        ))
        .bind(serde_json::to_string(owner).expect("an owner serializes"))
        .execute()
        .await
        .map_err(context())
}

fn objects(store: &Store) -> Result<platform::objects::Objects> {
    platform::objects::Objects::new(
        &platform::SecretUrl::new(store.endpoint.clone()),
        &store.bucket,
        store.credentials.clone(),
    )
    .map_err(s3)
}

fn s3(e: platform::Error) -> Error {
    Error::Http {
        service: "S3",
        context: "checking which seed the bucket's images belong to".into(),
        detail: e.to_string(),
    }
}

/// The object store's bucket: its mark, else its sample images.
pub async fn bucket(store: &Store, owner: &Owner) -> Result<Holding> {
    let objects = objects(store)?;
    let mark = objects
        .get(MARK_OBJECT)
        .await
        .map_err(s3)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let images = if mark.is_none() {
        objects.list("products/").await.map_err(s3)?.len()
    } else {
        0
    };
    Ok(of_mark(mark, owner, || {
        (images > 0).then(|| format!("{images} product images"))
    }))
}

async fn mark_bucket(store: &Store, owner: &Owner) -> Result<()> {
    let objects = objects(store)?;
    objects.ensure_bucket().await.map_err(s3)?;
    objects
        .put(
            MARK_OBJECT,
            serde_json::to_vec(owner).expect("an owner serializes"),
            "application/json",
        )
        .await
        .map_err(s3)
}

fn search_err(context: &str, detail: impl ToString) -> Error {
    Error::Http {
        service: "search",
        context: context.to_string(),
        detail: platform::secret::scrub(&detail.to_string()),
    }
}

/// The search server's product index: its mark, else its documents. An unreachable server is
/// an error here, before anything is written.
pub async fn index(url: &platform::SecretUrl, index: &str, owner: &Owner) -> Result<Holding> {
    let http = super::http_client(Duration::from_secs(30))
        .map_err(|e| search_err("starting the HTTP client", e))?;
    let base = url.expose().as_str().trim_end_matches('/').to_string();
    let context = format!("checking which seed the index {index} at {url} belongs to");
    let get = |path: String| {
        let http = http.clone();
        let context = context.clone();
        async move {
            let response = http
                .get(path)
                .send()
                .await
                .map_err(|e| search_err(&context, e.without_url()))?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let status = response.status();
            let body: serde_json::Value = response
                .json()
                .await
                .map_err(|e| search_err(&context, e.without_url()))?;
            if !status.is_success() {
                return Err(search_err(&context, format!("{status}: {body}")));
            }
            Ok(Some(body))
        }
    };
    let mark = get(format!("{base}/{}/_doc/owner", mark_index(index)))
        .await?
        .and_then(|doc| serde_json::from_value(doc["_source"].clone()).ok());
    let docs = match mark {
        Some(_) => 0,
        None => get(format!("{base}/{index}/_count"))
            .await?
            .and_then(|c| c["count"].as_u64())
            .unwrap_or(0),
    };
    Ok(of_mark(mark, owner, || {
        (docs > 0).then(|| format!("{docs} product documents"))
    }))
}

async fn mark_index_as(url: &platform::SecretUrl, index: &str, owner: &Owner) -> Result<()> {
    let http = super::http_client(Duration::from_secs(30))
        .map_err(|e| search_err("starting the HTTP client", e))?;
    let base = url.expose().as_str().trim_end_matches('/').to_string();
    let context = format!("marking the index {index} at {url} as this seed's");
    http.put(format!(
        "{base}/{}/_doc/owner?refresh=true",
        mark_index(index)
    ))
    .json(owner)
    .send()
    .await
    .and_then(|r| r.error_for_status())
    .map_err(|e| search_err(&context, e.without_url()))?;
    Ok(())
}

/// Empties the stores a reset database shared: the bucket's product images and mark, the search
/// index and its mark (the ClickHouse database is dropped whole by `schema reset`). Returns what
/// was removed, per store.
pub async fn release(
    store: Option<&Store>,
    search: Option<&platform::SecretUrl>,
) -> Result<Vec<String>> {
    let mut done = Vec::new();
    if let Some(store) = store {
        let objects = objects(store)?;
        let keys = objects.list("products/").await.map_err(s3)?;
        for key in keys.iter().map(String::as_str).chain([MARK_OBJECT]) {
            objects.delete(key).await.map_err(s3)?;
        }
        done.push(format!(
            "S3 bucket {}: {} product images and the seed's mark deleted",
            store.bucket,
            keys.len()
        ));
    }
    if let Some(url) = search {
        let http = super::http_client(Duration::from_secs(30))
            .map_err(|e| search_err("starting the HTTP client", e))?;
        let base = url.expose().as_str().trim_end_matches('/').to_string();
        let index = super::search::INDEX;
        for name in [index.to_string(), mark_index(index)] {
            let response = http
                .delete(format!("{base}/{name}"))
                .send()
                .await
                .map_err(|e| {
                    search_err(
                        &format!("deleting the index {name} at {url}"),
                        e.without_url(),
                    )
                })?;
            if !response.status().is_success()
                && response.status() != reqwest::StatusCode::NOT_FOUND
            {
                return Err(search_err(
                    &format!("deleting the index {name} at {url}"),
                    response.status(),
                ));
            }
        }
        done.push(format!("search {url}: index {index} and its mark deleted"));
    }
    Ok(done)
}

/// Refuses unless every store the seed writes to is empty or already this seed's.
pub async fn check(targets: &super::Targets, owner: &Owner) -> Result<()> {
    let reset = "use another one, or `shopbench schema reset` to drop it with the data";
    if let Some(target) = &targets.clickhouse {
        if let Holding::Foreign(holds) = clickhouse(target, owner).await? {
            return Err(refused(
                format!("the ClickHouse database {}", target.database),
                holds,
                &format!(
                    "set clickhouse_database in shopbench.toml to another database, or {reset}"
                ),
            ));
        }
    }
    if let Some(store) = &targets.store {
        if let Holding::Foreign(holds) = bucket(store, owner).await? {
            return Err(refused(
                format!("the S3 bucket {}", store.bucket),
                holds,
                &format!("set s3_bucket in shopbench.toml to another bucket, or {reset}"),
            ));
        }
    }
    if let Some(url) = &targets.search {
        let name = super::search::INDEX;
        if let Holding::Foreign(holds) = index(url, name, owner).await? {
            return Err(refused(
                format!("the search index {name} at {url}"),
                holds,
                &format!("point SEARCH_URL at another server, or {reset}"),
            ));
        }
    }
    Ok(())
}

/// Marks every store the seed writes to as this seed's (after `check`).
pub async fn claim(targets: &super::Targets, owner: &Owner) -> Result<()> {
    if let Some(target) = &targets.clickhouse {
        mark_clickhouse(target, owner).await?;
    }
    if let Some(store) = &targets.store {
        mark_bucket(store, owner).await?;
    }
    if let Some(url) = &targets.search {
        mark_index_as(url, super::search::INDEX, owner).await?;
    }
    Ok(())
}
