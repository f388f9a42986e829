//! Time series out of the per-second intervals, for the charts: per operation and time step, the
//! latency percentiles, completions, errors and drops. Long runs are thinned by merging adjacent
//! intervals' histograms exactly (never by averaging percentiles), so a chart keeps at most
//! `MAX_POINTS` points however long the run.

use std::collections::BTreeMap;

use results::histogram;
#[cfg(test)]
use results::histogram::Encoded;
use results::run::{Interval, IntervalOperation};

/// Points per line before adjacent intervals are merged: enough to show every second of a
/// 20-minute run, small enough to keep the HTML light.
pub const MAX_POINTS: usize = 1200;

/// One time step of one operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// End of the step, seconds since the start of the measured window.
    pub t_s: f64,
    /// Length of the step, seconds.
    pub width_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
}

impl Point {
    fn of(t_s: f64, width_s: f64, op: &IntervalOperation) -> Self {
        let l = &op.latency;
        Point {
            t_s,
            width_s,
            p50_ms: l.p50_us as f64 / 1e3,
            p95_ms: l.p95_us as f64 / 1e3,
            p99_ms: l.p99_us as f64 / 1e3,
            max_ms: l.max_us as f64 / 1e3,
            completed: op.completed,
            errors: op.errors,
            dropped: op.dropped,
        }
    }

    /// Completions per second over the step.
    pub fn throughput(&self) -> f64 {
        self.completed as f64 / self.width_s
    }
}

/// Operation name → its points in time order.
pub fn by_operation(
    intervals: &[Interval],
) -> Result<BTreeMap<String, Vec<Point>>, histogram::Error> {
    let group = intervals.len().div_ceil(MAX_POINTS).max(1);
    let mut out: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    let mut previous_end = 0.0;
    for chunk in intervals.chunks(group) {
        let end = chunk.last().map(|i| i.t_s as f64).unwrap_or(previous_end);
        let width = (end - previous_end).max(1.0);
        previous_end = end;
        let mut names: Vec<&String> = chunk.iter().flat_map(|i| i.operations.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let parts: Vec<&IntervalOperation> = chunk
                .iter()
                .filter_map(|i| i.operations.get(name))
                .collect();
            let point = if let [one] = parts.as_slice() {
                Point::of(end, width, one)
            } else {
                let merged = IntervalOperation {
                    completed: parts.iter().map(|p| p.completed).sum(),
                    errors: parts.iter().map(|p| p.errors).sum(),
                    dropped: parts.iter().map(|p| p.dropped).sum(),
                    latency: histogram::merge(parts.iter().map(|p| &p.latency))?,
                };
                Point::of(end, width, &merged)
            };
            out.entry(name.clone()).or_default().push(point);
        }
    }
    Ok(out)
}

/// All operations together per time step: (end s, completed/s, errors/s, dropped/s).
pub fn totals(intervals: &[Interval]) -> Vec<(f64, f64, f64, f64)> {
    let mut previous = 0.0;
    intervals
        .iter()
        .map(|i| {
            let t = i.t_s as f64;
            let width = (t - previous).max(1.0);
            previous = t;
            let sum = |f: fn(&IntervalOperation) -> u64| -> f64 {
                i.operations.values().map(f).sum::<u64>() as f64 / width
            };
            (
                t,
                sum(|o| o.completed),
                sum(|o| o.errors),
                sum(|o| o.dropped),
            )
        })
        .collect()
}

/// One operation's interval built from raw latencies, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_interval(t_s: u32, values: &[u64]) -> Interval {
    let mut h = histogram::empty();
    for v in values {
        h.record(*v).unwrap();
    }
    let mut operations = BTreeMap::new();
    operations.insert(
        "op".to_string(),
        IntervalOperation {
            completed: values.len() as u64,
            errors: 1,
            dropped: 0,
            latency: Encoded::new(&h),
        },
    );
    Interval { t_s, operations }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_interval as interval;

    #[test]
    fn long_runs_are_thinned_by_exact_merges() {
        let intervals: Vec<Interval> = (1..=(MAX_POINTS as u32 * 2 + 1))
            .map(|t| interval(t, &[1_000, 2_000 * t as u64]))
            .collect();
        let series = by_operation(&intervals).unwrap();
        let points = &series["op"];
        assert!(points.len() <= MAX_POINTS);
        // Every completion is still there, and each merged step's max is its slowest second's.
        let completed: u64 = points.iter().map(|p| p.completed).sum();
        assert_eq!(completed, intervals.len() as u64 * 2);
        assert_eq!(points[0].width_s, 3.0);
        assert!((points[0].max_ms - 6.0).abs() < 0.01);
        assert!((points[0].throughput() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn short_runs_keep_every_second() {
        let intervals: Vec<Interval> = (1..=20).map(|t| interval(t, &[500])).collect();
        assert_eq!(by_operation(&intervals).unwrap()["op"].len(), 20);
        let totals = totals(&intervals);
        assert_eq!(totals.len(), 20);
        assert_eq!(totals[3], (4.0, 1.0, 1.0, 0.0));
    }
}
