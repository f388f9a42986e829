//! Why an operation failed, as a class the results count: `sqlstate:XXXXX`, `timeout`,
//! `connection`, `business:…` (an outcome the shop expects, such as out-of-stock), or the
//! service's own class (`redis:…`, `clickhouse:…`, `s3:…`, `search:…`). Failures are data: the
//! run goes on.

use std::fmt;

use results::FailureClass;

use crate::pq;

#[derive(Debug)]
pub enum Failure {
    /// An expected business outcome: out of stock, payment declined, nothing to refund.
    Business(&'static str),
    /// PostgreSQL answered with an error.
    Sql { state: String, message: String },
    /// The operation did not finish within the run's timeout.
    Timeout,
    /// The connection to PostgreSQL was lost or could not be made (the pool reconnects).
    Connection(String),
    /// Another service failed: `service` names it, `kind` is the class.
    Service {
        service: &'static str,
        kind: String,
        detail: String,
    },
    /// A service this operation needs is not configured for the run.
    Unavailable(&'static str),
}

impl Failure {
    pub fn class(&self) -> FailureClass {
        match self {
            Failure::Business(what) => FailureClass::Business((*what).into()),
            Failure::Sql { state, .. } => FailureClass::SqlState(state.clone()),
            Failure::Timeout => FailureClass::Timeout,
            Failure::Connection(_) => FailureClass::Connection,
            Failure::Service { service, kind, .. } => FailureClass::Service {
                service: (*service).into(),
                kind: kind.clone(),
            },
            Failure::Unavailable(service) => FailureClass::Unavailable((*service).into()),
        }
    }

    /// Serialization failure or deadlock: the transaction may simply be run again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Failure::Sql { state, .. } if state == "40001" || state == "40P01")
    }

    pub fn service(
        service: &'static str,
        kind: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Self {
        Failure::Service {
            service,
            kind: kind.into(),
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Sql { state, message } => write!(f, "SQLSTATE {state}: {message}"),
            Failure::Connection(detail) => write!(f, "connection: {detail}"),
            Failure::Service {
                service, detail, ..
            } => write!(f, "{service}: {detail}"),
            other => write!(f, "{}", other.class()),
        }
    }
}

impl From<pq::Error> for Failure {
    fn from(e: pq::Error) -> Self {
        match e {
            pq::Error::Server { state, message } => Failure::Sql { state, message },
            pq::Error::Connection(why) => Failure::Connection(why),
            other => Failure::service("postgres", "client", other),
        }
    }
}

impl From<deadpool::managed::PoolError<pq::Error>> for Failure {
    fn from(e: deadpool::managed::PoolError<pq::Error>) -> Self {
        use deadpool::managed::PoolError;
        match e {
            PoolError::Backend(e) => e.into(),
            PoolError::Timeout(_) => Failure::service("postgres", "pool_timeout", e),
            PoolError::Closed | PoolError::NoRuntimeSpecified => Failure::Connection(e.to_string()),
            PoolError::PostCreateHook(_) => Failure::service("postgres", "client", e),
        }
    }
}

impl From<redis::RedisError> for Failure {
    fn from(e: redis::RedisError) -> Self {
        let kind = if e.is_timeout() {
            "timeout"
        } else if e.is_connection_dropped() || e.is_connection_refusal() || e.is_io_error() {
            "connection"
        } else {
            "error"
        };
        Failure::service("redis", kind, e)
    }
}

impl From<clickhouse::error::Error> for Failure {
    fn from(e: clickhouse::error::Error) -> Self {
        let kind = match &e {
            clickhouse::error::Error::Network(_) => "connection",
            clickhouse::error::Error::TimedOut => "timeout",
            clickhouse::error::Error::BadResponse(_) => "server",
            _ => "client",
        };
        Failure::service("clickhouse", kind, e)
    }
}

/// HTTP services (the object store, the search server): `reqwest` errors and non-2xx answers.
pub fn http(service: &'static str, e: reqwest::Error) -> Failure {
    let kind = if e.is_timeout() {
        "timeout".to_string()
    } else if e.is_connect() {
        "connection".to_string()
    } else if let Some(status) = e.status() {
        format!("http_{}", status.as_u16())
    } else {
        "http".to_string()
    };
    Failure::service(service, kind, e.without_url())
}
