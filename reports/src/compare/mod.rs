//! Baseline comparison for CI: per operation, p50, p95, p99 and the error rate of the current
//! run against the baseline's, each judged improved, unchanged or regressed.
//!
//! A change counts only when it is larger than all of: the noise of the difference at the
//! chosen confidence, `min_change` of the baseline, and `floor_ms`. The noise is each run's
//! standard error from its own interval histograms (`noise.rs`), added in quadrature; the
//! critical value is Student's t for the batches' degrees of freedom, Bonferroni-corrected for
//! the number of figures compared, so `confidence` bounds the chance that a rerun of the same
//! build shows *any* change, not each figure's. The error rate uses the binomial standard error
//! of two proportions and `error_floor`. So a rerun stays unchanged while a doubled p99 is
//! flagged.
//!
//! Layout: `noise.rs` (batch-means standard error), `render.rs` (compare.md and compare.html).

mod noise;
mod render;

pub use render::{html, markdown};

use results::histogram::{self, Quantile};
use results::run::{OperationResult, RunResults};
use results::slo::{self, Figure};

/// What counts as a change. Defaults: 99% confidence, 10%, 0.2 ms, 0.5 percentage points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Confidence that a rerun of the same build is reported unchanged in every figure
    /// (0.99: at most a 1% chance of any false alarm in the whole comparison).
    pub confidence: f64,
    /// Smallest relative change of a percentile that counts (0.10 = 10%).
    pub min_change: f64,
    /// Smallest absolute change of a percentile that counts, ms.
    pub floor_ms: f64,
    /// Smallest change of the error rate that counts (0.005 = half a percentage point).
    pub error_floor: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            confidence: 0.99,
            min_change: 0.10,
            floor_ms: 0.2,
            error_floor: 0.005,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Improved,
    Unchanged,
    Regressed,
}

/// One figure of one operation in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub operation: String,
    /// p50, p95, p99 or the error rate.
    pub figure: Figure,
    /// ms for percentiles, a share (0–1) for the error rate.
    pub baseline: f64,
    pub current: f64,
    /// Standard error of the difference (same unit), when it could be estimated.
    pub noise: Option<f64>,
    pub change: Change,
}

impl Row {
    pub fn relative(&self) -> Option<f64> {
        (self.baseline > 0.0).then(|| (self.current - self.baseline) / self.baseline)
    }
}

#[derive(Debug, Clone)]
pub struct Comparison {
    pub baseline: String,
    pub current: String,
    pub thresholds: Thresholds,
    pub rows: Vec<Row>,
    /// Differences between the runs' setups that make the comparison less meaningful.
    pub warnings: Vec<String>,
    pub only_in_baseline: Vec<String>,
    pub only_in_current: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.change == Change::Regressed)
    }
    pub fn regressed(&self) -> bool {
        self.regressions().next().is_some()
    }
}

/// The latency figures compared (with the error rate).
const LATENCY: [(Figure, Quantile); 3] = [
    (Figure::P50, Quantile::P50),
    (Figure::P95, Quantile::P95),
    (Figure::P99, Quantile::P99),
];

/// `baseline` and `current` name the runs in the output (their folders, usually).
pub fn compare(
    base: &RunResults,
    cur: &RunResults,
    names: (&str, &str),
    t: Thresholds,
) -> Result<Comparison, histogram::Error> {
    let mut rows = Vec::new();
    let both: Vec<(&OperationResult, &OperationResult)> = base
        .operations
        .iter()
        .filter_map(|b| Some((b, cur.operation(&b.name)?)))
        .collect();
    let figures = both
        .iter()
        .map(|(b, c)| {
            1 + if b.latency.count > 0 && c.latency.count > 0 {
                LATENCY.len()
            } else {
                0
            }
        })
        .sum::<usize>()
        .max(1);
    // Two-sided, shared out over every figure (Bonferroni).
    let alpha = (1.0 - t.confidence).max(1e-12) / figures as f64;
    for (b, c) in both {
        if b.latency.count > 0 && c.latency.count > 0 {
            let nb = noise::Batches::of(&base.intervals, &b.name)?;
            let nc = noise::Batches::of(&cur.intervals, &b.name)?;
            let (hb, hc) = (b.latency.decode()?, c.latency.decode()?);
            // Each run's error: the larger of its batch-means and order-statistic estimates, and
            // whether it is the batches' (then it carries only their degrees of freedom).
            let error = |batches: &noise::Batches, h: &hdrhistogram::Histogram<u64>, q: f64| match (
                batches.standard_error_ms(q),
                noise::order_statistic_error_ms(h, q),
            ) {
                (Some(x), Some(y)) => Some((x.max(y), x > y)),
                _ => None,
            };
            for (figure, quantile) in LATENCY {
                let q = quantile.fraction();
                let (vb, vc) = (
                    b.latency.quantile_ms(quantile),
                    c.latency.quantile_ms(quantile),
                );
                let (noise, dof) = match (error(&nb, &hb, q), error(&nc, &hc, q)) {
                    (Some((x, bx)), Some((y, by))) => {
                        // Batch estimates: Student's t on the smaller run's batches less one
                        // (conservative); order statistics: the binomial's normal limit.
                        let dof = (bx || by).then(|| nb.len().min(nc.len()).saturating_sub(1));
                        (Some((x * x + y * y).sqrt()), dof)
                    }
                    _ => (None, None),
                };
                let delta = vc - vb;
                let counts = delta.abs() > t.floor_ms
                    && delta.abs() > t.min_change * vb
                    && noise.is_none_or(|n| delta.abs() > critical(alpha, dof) * n);
                rows.push(Row {
                    operation: b.name.clone(),
                    figure,
                    baseline: vb,
                    current: vc,
                    noise,
                    change: direction(counts, delta),
                });
            }
        }
        rows.push(error_rate(b, c, &t, critical(alpha, None)));
    }
    let names_of =
        |r: &RunResults| -> Vec<String> { r.operations.iter().map(|o| o.name.clone()).collect() };
    let (in_base, in_cur) = (names_of(base), names_of(cur));
    Ok(Comparison {
        baseline: names.0.to_string(),
        current: names.1.to_string(),
        thresholds: t,
        rows,
        warnings: warnings(base, cur),
        only_in_baseline: in_base
            .iter()
            .filter(|n| !in_cur.contains(n))
            .cloned()
            .collect(),
        only_in_current: in_cur
            .iter()
            .filter(|n| !in_base.contains(n))
            .cloned()
            .collect(),
    })
}

fn direction(counts: bool, delta: f64) -> Change {
    match (counts, delta > 0.0) {
        (false, _) => Change::Unchanged,
        (true, true) => Change::Regressed,
        (true, false) => Change::Improved,
    }
}

/// The multiple of the standard error a two-sided change at level `alpha` must exceed:
/// Student's t with `dof` degrees of freedom, or the normal distribution without.
fn critical(alpha: f64, dof: Option<usize>) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
    let p = 1.0 - alpha / 2.0;
    match dof {
        Some(d) if d > 0 => StudentsT::new(0.0, 1.0, d as f64)
            .map(|t| t.inverse_cdf(p))
            .unwrap_or(f64::INFINITY),
        _ => Normal::standard().inverse_cdf(p),
    }
}

/// Two proportions: the change counts when it exceeds `critical` binomial standard errors of
/// the difference and the floor.
fn error_rate(b: &OperationResult, c: &OperationResult, t: &Thresholds, critical: f64) -> Row {
    let (rb, rc) = (slo::error_rate(b), slo::error_rate(c));
    let (nb, nc) = (b.scheduled as f64, c.scheduled as f64);
    let noise = (nb > 0.0 && nc > 0.0).then(|| {
        let pooled = (rb * nb + rc * nc) / (nb + nc);
        (pooled * (1.0 - pooled) * (1.0 / nb + 1.0 / nc)).sqrt()
    });
    let delta = rc - rb;
    let counts = delta.abs() > t.error_floor && noise.is_none_or(|n| delta.abs() > critical * n);
    Row {
        operation: b.name.clone(),
        figure: Figure::ErrorRate,
        baseline: rb,
        current: rc,
        noise,
        change: direction(counts, delta),
    }
}

fn warnings(base: &RunResults, cur: &RunResults) -> Vec<String> {
    let mut w = Vec::new();
    let mut differs = |what: &str, a: String, b: String| {
        if a != b {
            w.push(format!("{what} differs: baseline {a}, current {b}"));
        }
    };
    differs("mix", base.config.mix.clone(), cur.config.mix.clone());
    differs(
        "data (fingerprint)",
        short(&base.environment.data_fingerprint),
        short(&cur.environment.data_fingerprint),
    );
    differs(
        "load model",
        base.config.model.to_string(),
        cur.config.model.to_string(),
    );
    differs(
        "rate",
        format!("{:?}", base.config.rate),
        format!("{:?}", cur.config.rate),
    );
    differs(
        "users",
        format!("{:?}", base.config.users),
        format!("{:?}", cur.config.users),
    );
    differs(
        "concurrency",
        base.config.concurrency.to_string(),
        cur.config.concurrency.to_string(),
    );
    differs(
        "machine",
        format!("{} CPUs", base.environment.machine.cpus),
        format!("{} CPUs", cur.environment.machine.cpus),
    );
    if base.interrupted || cur.interrupted {
        w.push("a run was interrupted: it covers only part of its window".into());
    }
    if !base.schedule.keeping_up || !cur.schedule.keeping_up {
        w.push("a run did not keep to its schedule (operations dropped or late)".into());
    }
    w
}

fn short(fingerprint: &str) -> String {
    fingerprint.get(..12).unwrap_or(fingerprint).to_string()
}
