//! SLO targets and verdicts, typed: each target an operation has (its p95 and p99 latency,
//! measured from the intended start, and its error rate: system failures and dropped operations,
//! not business outcomes such as out-of-stock) is judged once, here, into a `Check` with its
//! target, its measured value and whether it held. Renderers only read the checks.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::histogram::Quantile;
use crate::run::OperationResult;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Slo {
    /// 95th percentile target, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile target, milliseconds.
    pub p99_ms: f64,
    /// Highest share of failed or dropped operations (0.01 = 1%).
    pub max_error_rate: f64,
}

impl Slo {
    /// The target for `figure` (ms, or a share), if the SLO bounds it.
    pub fn target(&self, figure: Figure) -> Option<f64> {
        match figure {
            Figure::P95 => Some(self.p95_ms),
            Figure::P99 => Some(self.p99_ms),
            Figure::ErrorRate => Some(self.max_error_rate),
            Figure::P50 => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Nothing was measured (the operation never ran in the window): neither pass nor fail.
    NoData,
}

/// A figure the results are judged on: by an SLO (p95, p99, error rate) or by a baseline
/// comparison (p50 too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Median latency from the intended start, ms.
    P50,
    /// 95th percentile latency from the intended start, ms.
    P95,
    /// 99th percentile latency from the intended start, ms.
    P99,
    /// Share of scheduled operations that failed for system reasons or were dropped.
    ErrorRate,
}

impl Figure {
    /// The figures an SLO bounds.
    pub const TARGETS: [Figure; 3] = [Figure::P95, Figure::P99, Figure::ErrorRate];

    /// The latency quantile the figure is (none for the error rate).
    pub fn quantile(self) -> Option<Quantile> {
        match self {
            Figure::P50 => Some(Quantile::P50),
            Figure::P95 => Some(Quantile::P95),
            Figure::P99 => Some(Quantile::P99),
            Figure::ErrorRate => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Figure::P50 => "p50",
            Figure::P95 => "p95",
            Figure::P99 => "p99",
            Figure::ErrorRate => "error rate",
        }
    }

    /// `value` written in this figure's unit (ms, or a percentage).
    pub fn show(self, value: f64) -> String {
        match self {
            Figure::P50 | Figure::P95 | Figure::P99 => format!("{} ms", trim(value, 1)),
            Figure::ErrorRate => format!("{}%", trim(value * 100.0, 2)),
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `value` with at most `places` decimals and no trailing zeros.
fn trim(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// One target of one operation, judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    pub figure: Figure,
    /// The target (ms for latency, a share for the error rate).
    pub target: f64,
    /// What was measured, in the target's unit.
    pub measured: f64,
    pub pass: bool,
}

/// `p99 12.3 ms > 10 ms` (or `≤` when it held).
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.figure.name(),
            self.figure.show(self.measured),
            if self.pass { "≤" } else { ">" },
            self.figure.show(self.target)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Verdict {
    pub status: Status,
    /// Every target, judged (empty when nothing was measured).
    #[serde(default)]
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    pub fn check(&self, figure: Figure) -> Option<&Check> {
        self.checks.iter().find(|c| c.figure == figure)
    }

    /// The targets that broke.
    pub fn broken(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.pass)
    }
}

/// A target one operation broke, in a run's (or a capacity step's) verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Broken {
    pub operation: String,
    #[serde(flatten)]
    pub check: Check,
}

/// `checkout: p99 812 ms > 500 ms`.
impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.check)
    }
}

/// Every broken target of `operations`, in their order.
pub fn broken(operations: &[OperationResult]) -> Vec<Broken> {
    operations
        .iter()
        .flat_map(|op| {
            op.verdict.broken().map(|c| Broken {
                operation: op.name.clone(),
                check: *c,
            })
        })
        .collect()
}

/// System failures: every class but business outcomes.
pub fn errors(op: &OperationResult) -> u64 {
    op.failed
        .iter()
        .filter(|(class, _)| !class.is_business())
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

/// The operation's verdict: every target judged against what was measured. Latency targets
/// hold trivially when nothing completed (every operation dropped): the error rate catches that.
pub fn judge(op: &OperationResult) -> Verdict {
    if op.scheduled == 0 {
        return Verdict {
            status: Status::NoData,
            checks: Vec::new(),
        };
    }
    let l = &op.latency;
    let checks: Vec<Check> = Figure::TARGETS
        .into_iter()
        .filter_map(|figure| {
            let target = op.slo.target(figure)?;
            let (measured, pass) = match figure {
                Figure::ErrorRate => {
                    let rate = error_rate(op);
                    (rate, rate <= target)
                }
                _ => {
                    let ms = l.quantile_ms(figure.quantile()?);
                    (ms, l.count == 0 || ms <= target)
                }
            };
            Some(Check {
                figure,
                target,
                measured,
                pass,
            })
        })
        .collect();
    Verdict {
        status: if checks.iter().all(|c| c.pass) {
            Status::Pass
        } else {
            Status::Fail
        },
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_read_as_sentences() {
        let c = Check {
            figure: Figure::P99,
            target: 500.0,
            measured: 812.26,
            pass: false,
        };
        assert_eq!(c.to_string(), "p99 812.3 ms > 500 ms");
        let e = Check {
            figure: Figure::ErrorRate,
            target: 0.01,
            measured: 0.0125,
            pass: false,
        };
        assert_eq!(e.to_string(), "error rate 1.25% > 1%");
        let b = Broken {
            operation: "checkout".into(),
            check: c,
        };
        assert_eq!(b.to_string(), "checkout: p99 812.3 ms > 500 ms");
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["operation"], "checkout");
        assert_eq!(json["figure"], "p99");
        assert_eq!(serde_json::from_value::<Broken>(json).unwrap(), b);
    }
}
