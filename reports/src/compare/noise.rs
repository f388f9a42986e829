//! How much a run's percentile would move if the same run were repeated, estimated from the run
//! itself by the method of batch means: the per-second interval histograms are merged (exactly)
//! into `BATCHES` (20) consecutive batches, the percentile is read from each, and the spread of those
//! readings, divided by √batches, is the standard error of the whole-run figure. Slow drifts
//! and bursts inside the run widen it; a steady run narrows it.
//!
//! Batch percentiles of a tail read few samples each (a 9-sample batch's "p99" is its maximum),
//! so for tails the batches understate the noise. The whole run's own sampling error is
//! therefore estimated too, distribution-free from order statistics: the number of samples
//! above the true q-quantile is Binomial(n, 1 − q), so the reading moves by about the values
//! one binomial standard deviation of rank either side. The larger of the two estimates counts.

use hdrhistogram::Histogram;

use results::histogram::{self, Encoded};
use results::run::Interval;

/// Batches per run: twenty readings give the spread 19 degrees of freedom (Student's t stays
/// near the normal), and a 20-second CI run still has a whole second per batch.
pub const BATCHES: usize = 20;
/// Fewer seconds with data than this and no spread is estimated.
pub const MIN_BATCHES: usize = 4;

/// One operation's interval histograms merged into consecutive batches.
pub struct Batches(Vec<Histogram<u64>>);

impl Batches {
    pub fn of(intervals: &[Interval], operation: &str) -> Result<Self, histogram::Error> {
        let parts: Vec<&Encoded> = intervals
            .iter()
            .filter_map(|i| i.operations.get(operation))
            .map(|o| &o.latency)
            .filter(|l| l.count > 0)
            .collect();
        let n = parts.len().min(BATCHES);
        if n == 0 {
            return Ok(Batches(Vec::new()));
        }
        let mut batches = Vec::with_capacity(n);
        // Spread the seconds as evenly as the division allows (sizes differ by at most one).
        for b in 0..n {
            let (from, to) = (b * parts.len() / n, (b + 1) * parts.len() / n);
            let mut h = histogram::empty();
            for part in &parts[from..to] {
                histogram::add(&mut h, part)?;
            }
            batches.push(h);
        }
        Ok(Batches(batches))
    }

    /// Batches that hold data.
    pub fn len(&self) -> usize {
        self.0.iter().filter(|h| !h.is_empty()).count()
    }

    /// Standard error of the whole-run value at quantile `q`, ms; `None` with too few batches.
    pub fn standard_error_ms(&self, q: f64) -> Option<f64> {
        let readings: Vec<f64> = self
            .0
            .iter()
            .filter(|h| !h.is_empty())
            .map(|h| h.value_at_quantile(q) as f64 / 1e3)
            .collect();
        let k = readings.len();
        if k < MIN_BATCHES {
            return None;
        }
        let mean = readings.iter().sum::<f64>() / k as f64;
        let variance = readings.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
        Some(variance.sqrt() / (k as f64).sqrt())
    }
}

/// Sampling error of the value at quantile `q` of `h`, ms: half the spread between the
/// values at q ± √(q(1 − q)/n) (clamped to the histogram's range, so a tail with too few samples
/// to pin it down gets a wide error, as it should).
pub fn order_statistic_error_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    if h.is_empty() {
        return None;
    }
    let delta = (q * (1.0 - q) / h.len() as f64).sqrt();
    let upper = h.value_at_quantile((q + delta).min(1.0)) as f64;
    let lower = h.value_at_quantile((q - delta).max(0.0)) as f64;
    Some((upper - lower) / 2.0 / 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::test_interval;

    fn intervals(values_per_second: &[Vec<u64>]) -> Vec<Interval> {
        values_per_second
            .iter()
            .enumerate()
            .map(|(t, values)| test_interval(t as u32 + 1, values))
            .collect()
    }

    #[test]
    fn a_steady_run_has_no_spread_and_a_drifting_one_has() {
        let steady = intervals(&vec![vec![1_000, 2_000, 3_000]; 20]);
        let b = Batches::of(&steady, "op").unwrap();
        assert_eq!(b.standard_error_ms(0.5), Some(0.0));
        let drifting: Vec<Vec<u64>> = (0..20).map(|t| vec![1_000 * (t + 1); 3]).collect();
        let se = Batches::of(&intervals(&drifting), "op")
            .unwrap()
            .standard_error_ms(0.5)
            .unwrap();
        assert!(se > 1.0, "{se}");
    }

    #[test]
    fn a_thin_tail_has_a_wide_sampling_error() {
        let mut few = histogram::empty();
        let mut many = histogram::empty();
        // The same uniform 1–11 ms distribution, 100 samples and 100,000.
        for i in 0..100_000u64 {
            many.record(1_000 + (i * 7_919) % 10_000).unwrap();
        }
        for i in 0..100u64 {
            few.record(1_000 + i * 100).unwrap();
        }
        let thin = order_statistic_error_ms(&few, 0.99).unwrap();
        let thick = order_statistic_error_ms(&many, 0.99).unwrap();
        assert!(thin > 5.0 * thick.max(0.001), "{thin} vs {thick}");
        assert_eq!(order_statistic_error_ms(&histogram::empty(), 0.5), None);
    }

    #[test]
    fn too_short_a_run_gives_no_estimate() {
        let short = intervals(&vec![vec![1_000]; 3]);
        assert_eq!(
            Batches::of(&short, "op").unwrap().standard_error_ms(0.99),
            None
        );
        assert_eq!(
            Batches::of(&short, "other")
                .unwrap()
                .standard_error_ms(0.99),
            None
        );
    }
}
