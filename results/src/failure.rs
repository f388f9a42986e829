//! Why an operation failed, as the class the results count it under. Serialized as the text
//! every results file has used (`sqlstate:40P01`, `timeout`, `connection`, `business:out_of_stock`,
//! `redis:timeout`, `unavailable:s3`, `panic`), parsed back into the same value, and ordered by that
//! text so maps of classes keep their order in the file.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum FailureClass {
    /// An outcome the shop expects (out of stock, payment declined, nothing to refund): counted
    /// and reported, never held against an SLO.
    Business(String),
    /// PostgreSQL answered with this SQLSTATE.
    SqlState(String),
    /// The operation did not finish within the run's timeout.
    Timeout,
    /// The connection to PostgreSQL was lost or could not be made.
    Connection,
    /// The operation panicked (a bug in shopbench): its worker carries on.
    Panic,
    /// A service this operation needs is not configured for the run.
    Unavailable(String),
    /// Another service failed (`redis`, `clickhouse`, `s3`, `search`, `postgres`) with this kind.
    Service { service: String, kind: String },
}

impl FailureClass {
    /// Business outcomes are not errors: every other class is a system failure.
    pub fn is_business(&self) -> bool {
        matches!(self, FailureClass::Business(_))
    }

    /// The business outcome's name (`out_of_stock`), for business classes.
    pub fn business(&self) -> Option<&str> {
        match self {
            FailureClass::Business(what) => Some(what),
            _ => None,
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureClass::Business(what) => write!(f, "business:{what}"),
            FailureClass::SqlState(state) => write!(f, "sqlstate:{state}"),
            FailureClass::Timeout => f.write_str("timeout"),
            FailureClass::Connection => f.write_str("connection"),
            FailureClass::Panic => f.write_str("panic"),
            FailureClass::Unavailable(service) => write!(f, "unavailable:{service}"),
            FailureClass::Service { service, kind } => write!(f, "{service}:{kind}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a failure class (expected e.g. `timeout`, `sqlstate:40001`, `business:out_of_stock`, `redis:timeout`)")]
pub struct UnknownClass(String);

impl FromStr for FailureClass {
    type Err = UnknownClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let owned = |v: &str| v.to_string();
        Ok(match s.split_once(':') {
            None => match s {
                "timeout" => FailureClass::Timeout,
                "connection" => FailureClass::Connection,
                "panic" => FailureClass::Panic,
                _ => return Err(UnknownClass(s.into())),
            },
            Some((_, "")) | Some(("", _)) => return Err(UnknownClass(s.into())),
            Some(("business", what)) => FailureClass::Business(owned(what)),
            Some(("sqlstate", state)) => FailureClass::SqlState(owned(state)),
            Some(("unavailable", service)) => FailureClass::Unavailable(owned(service)),
            Some((service, kind)) => FailureClass::Service {
                service: owned(service),
                kind: owned(kind),
            },
        })
    }
}

impl From<FailureClass> for String {
    fn from(c: FailureClass) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for FailureClass {
    type Error = UnknownClass;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Ordered as their text, as in every results file so far.
impl Ord for FailureClass {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl PartialOrd for FailureClass {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for FailureClass {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FailureClass".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_reads_back_as_itself() {
        for text in [
            "business:out_of_stock",
            "sqlstate:40P01",
            "timeout",
            "connection",
            "panic",
            "unavailable:s3",
            "redis:timeout",
            "search:http_503",
        ] {
            let class: FailureClass = text.parse().unwrap();
            assert_eq!(class.to_string(), text);
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<FailureClass>(&json).unwrap(), class);
        }
        assert!("business:out_of_stock"
            .parse::<FailureClass>()
            .unwrap()
            .is_business());
        assert!(!"sqlstate:40001"
            .parse::<FailureClass>()
            .unwrap()
            .is_business());
    }

    #[test]
    fn nonsense_is_refused() {
        for text in ["", "nonsense", "business:", ":timeout"] {
            assert!(text.parse::<FailureClass>().is_err(), "{text}");
        }
    }

    #[test]
    fn maps_keep_the_text_order() {
        let map: std::collections::BTreeMap<FailureClass, u64> = [
            ("timeout", 1),
            ("business:declined", 2),
            ("redis:error", 3),
            ("connection", 4),
        ]
        .into_iter()
        .map(|(k, v)| (k.parse().unwrap(), v))
        .collect();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(
            json,
            r#"{"business:declined":2,"connection":4,"redis:error":3,"timeout":1}"#
        );
    }
}
