//! Errors of seeding and verifying, each with what was being done.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{context}: {}", platform::error::describe_sqlx(.source))]
    Database {
        context: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("ClickHouse {context}: {source}")]
    ClickHouse {
        context: String,
        #[source]
        source: clickhouse::error::Error,
    },
    #[error("{service} {context}: {detail}")]
    Http {
        service: &'static str,
        context: String,
        detail: String,
    },
    #[error("this database already holds a seed ({0}); run `shopbench seed --resume` to finish it, or `shopbench schema reset` to start over")]
    AlreadySeeded(String),
    #[error("no seed in this database: run `shopbench seed --scale tiny` first")]
    NoSeed,
    #[error("the disk holding {path} has {free} free but the plan needs about {needed}: choose a smaller --scale or free space")]
    DiskTooSmall {
        path: String,
        free: String,
        needed: String,
    },
    #[error("{store} holds {holds}: a second seed would add to it; {fix}")]
    Claimed {
        store: String,
        holds: String,
        fix: String,
    },
    #[error("{0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, Error>;

pub fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let context = context.into();
    move |source| Error::Database { context, source }
}

pub fn ch(context: impl Into<String>) -> impl FnOnce(clickhouse::error::Error) -> Error {
    let context = context.into();
    move |source| Error::ClickHouse { context, source }
}
