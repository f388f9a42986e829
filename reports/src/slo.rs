//! SLO targets and verdicts. An operation passes when its p95 and p99 latency, measured from the
//! intended start, are within target and its error rate (system failures and dropped operations,
//! not business outcomes such as out-of-stock) is within budget.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::results::OperationResult;

/// Prefix of failure classes that are business outcomes (out of stock, payment declined):
/// counted and reported, never held against the SLO.
pub const BUSINESS: &str = "business:";

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Slo {
    /// 95th percentile target, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile target, milliseconds.
    pub p99_ms: f64,
    /// Highest share of failed or dropped operations (0.01 = 1%).
    pub max_error_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Nothing was measured (the operation never ran in the window): neither pass nor fail.
    NoData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    pub status: Status,
    /// Why it failed, one line per broken target.
    pub reasons: Vec<String>,
}

impl Verdict {
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }
}

/// System failures: every class but business outcomes.
pub fn errors(op: &OperationResult) -> u64 {
    op.failed
        .iter()
        .filter(|(class, _)| !class.starts_with(BUSINESS))
        .map(|(_, n)| n)
        .sum()
}

pub fn error_rate(op: &OperationResult) -> f64 {
    if op.scheduled == 0 {
        0.0
    } else {
        (errors(op) + op.dropped) as f64 / op.scheduled as f64
    }
}

pub fn judge(op: &OperationResult) -> Verdict {
    if op.scheduled == 0 {
        return Verdict {
            status: Status::NoData,
            reasons: vec!["no operation was scheduled in the measured window".into()],
        };
    }
    let mut reasons = Vec::new();
    let l = &op.latency;
    let (p95, p99) = (l.p95_us as f64 / 1e3, l.p99_us as f64 / 1e3);
    if l.count > 0 && p95 > op.slo.p95_ms {
        reasons.push(format!("p95 {p95:.1} ms > {} ms", op.slo.p95_ms));
    }
    if l.count > 0 && p99 > op.slo.p99_ms {
        reasons.push(format!("p99 {p99:.1} ms > {} ms", op.slo.p99_ms));
    }
    let rate = error_rate(op);
    if rate > op.slo.max_error_rate {
        reasons.push(format!(
            "error rate {:.2}% > {:.2}% ({} failed, {} dropped of {})",
            rate * 100.0,
            op.slo.max_error_rate * 100.0,
            errors(op),
            op.dropped,
            op.scheduled
        ));
    }
    Verdict {
        status: if reasons.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        reasons,
    }
}
