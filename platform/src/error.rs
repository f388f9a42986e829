//! Errors of the platform crate. Every variant carries what a user needs to act on it, and its
//! `Display` never contains a secret (URLs are shown through [`crate::SecretUrl`]).

use std::path::PathBuf;

/// How the binary should treat an error: exit code 2 or 3 (design.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A flag, a config file, a URL: the user must change what they gave us. Exit code 2.
    BadInput,
    /// A server unreachable, a binary missing, a database refusing: exit code 3.
    Environment,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadInput(String),

    #[error("{service} is needed but `{binary}` is not installed: {hint}")]
    MissingBinary {
        service: &'static str,
        binary: String,
        hint: String,
    },

    #[error("{service} at {url} is unreachable: {reason}")]
    Unreachable {
        service: &'static str,
        url: String,
        reason: String,
    },

    #[error("{service}: {message}")]
    Service {
        service: &'static str,
        message: String,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{context}: {}", describe_sqlx(.source))]
    Database {
        context: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("migration {file} failed: {}", describe_sqlx(.source))]
    Migration {
        file: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("ClickHouse {context}: {source}")]
    ClickHouse {
        context: String,
        #[source]
        source: clickhouse::error::Error,
    },

    #[error("config file {path}: {message}")]
    ConfigFile { path: PathBuf, message: String },
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::BadInput(_) | Error::ConfigFile { .. } => ErrorKind::BadInput,
            _ => ErrorKind::Environment,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn db(context: impl Into<String>, source: sqlx::Error) -> Self {
        Error::Database {
            context: context.into(),
            source,
        }
    }

    pub fn service(service: &'static str, message: impl Into<String>) -> Self {
        Error::Service {
            service,
            message: message.into(),
        }
    }
}

/// A database error in one line with its SQLSTATE, e.g.
/// `new row violates check constraint "x" (SQLSTATE 23514)`.
pub fn describe_sqlx(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_string(),
        },
        other => crate::secret::scrub(&other.to_string()),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
