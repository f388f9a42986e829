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
    /// PostgreSQL had not answered after `after` and never would, or not in time (`why`: what
    /// its session was doing, `load/stall.rs`).
    #[error("{context}: no answer from PostgreSQL after {} s: {why}", .after.as_secs())]
    Stalled {
        context: String,
        after: std::time::Duration,
        why: String,
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

impl Error {
    /// The server went away, or would not answer, while something was being done: a connection
    /// lost, a backend terminated (`57P01`, a restart's first sign), a server starting up or
    /// shutting down, no connection to be had, no answer in time. Worth another attempt on a new
    /// connection; anything else (a constraint, bad data, a missing table) is not.
    pub fn is_server_gone(&self) -> bool {
        match self {
            Error::Stalled { .. } => true,
            Error::Database { source, .. } => match source {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
                // Class 08 (connection exceptions) but a protocol violation; a shutdown, a
                // crash, a server still starting.
                sqlx::Error::Database(e) => e.code().is_some_and(|c| {
                    (c.starts_with("08") && c != "08P01")
                        || matches!(&*c, "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

pub fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let context = context.into();
    move |source| Error::Database { context, source }
}

pub fn ch(context: impl Into<String>) -> impl FnOnce(clickhouse::error::Error) -> Error {
    let context = context.into();
    move |source| Error::ClickHouse { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_server_going_away_is_worth_another_attempt() {
        let gone = [
            db("x")(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
            db("x")(sqlx::Error::PoolTimedOut),
            Error::Stalled {
                context: "x".into(),
                after: std::time::Duration::from_secs(1),
                why: "its session is gone from the server".into(),
            },
        ];
        assert!(gone.iter().all(Error::is_server_gone));
        let not = [
            db("x")(sqlx::Error::RowNotFound),
            db("x")(sqlx::Error::Protocol("unexpected message".into())),
            Error::NoSeed,
            Error::Io("disk full".into()),
        ];
        assert!(!not.iter().any(Error::is_server_gone));
    }
}
