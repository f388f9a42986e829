//! Samplers and allocations: power-law shares, Zipf popularity, Pareto repeat customers, log-normal
//! prices, and the small discrete distributions (items per order, quantities).

use rand::Rng;

/// Splits `total` into `n` integer parts proportional to `weights`, each at least `min`, summing
/// exactly to `total` (largest remainder). Requires `total >= n * min`.
pub fn allocate(total: u64, weights: &[f64], min: u64) -> Vec<u64> {
    let n = weights.len() as u64;
    assert!(
        n > 0 && total >= n * min,
        "cannot give {n} parts at least {min} of {total}"
    );
    let spare = (total - n * min) as f64;
    let sum: f64 = weights.iter().sum();
    let mut parts: Vec<u64> = Vec::with_capacity(weights.len());
    let mut fractions: Vec<(f64, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = spare * w / sum;
        parts.push(min + exact.floor() as u64);
        fractions.push((exact - exact.floor(), i));
    }
    let given: u64 = parts.iter().sum();
    let mut left = total - given;
    // Largest fractions first; ties by index so the result is deterministic.
    fractions.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in fractions.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// Power-law weights 1/(i+1)^alpha for ranks 0..n.
pub fn power_law_weights(n: usize, alpha: f64) -> Vec<f64> {
    (0..n).map(|i| 1.0 / ((i + 1) as f64).powf(alpha)).collect()
}

/// Zipf over ranks 0..n with exponent s, by inverse transform on a precomputed CDF when n is
/// small and by rand_distr's rejection sampler otherwise.
#[derive(Debug, Clone)]
pub struct Zipf {
    n: u64,
    inner: rand_distr::Zipf<f64>,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Self {
        let n = n.max(1);
        Zipf {
            n,
            inner: rand_distr::Zipf::new(n as f64, s).expect("n >= 1 and s >= 0"),
        }
    }

    /// A rank in 0..n; rank 0 is the most popular.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let k: f64 = rng.sample(self.inner);
        (k as u64).clamp(1, self.n) - 1
    }
}

/// A Pareto weight (shape `alpha`, scale 1): most customers order a few times, a few very often.
#[inline]
pub fn pareto(u: f64, alpha: f64) -> f64 {
    (1.0 - u).max(1e-12).powf(-1.0 / alpha)
}

/// A log-normal value with the given median and shape sigma, from two uniforms (Box–Muller).
#[inline]
pub fn log_normal(u1: f64, u2: f64, median: f64, sigma: f64) -> f64 {
    let z = (-2.0 * (1.0 - u1).max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// Picks an index by cumulative weights (`cum` ascending, last = total).
#[inline]
pub fn pick_cumulative(cum: &[f64], u: f64) -> usize {
    let target = u * cum[cum.len() - 1];
    cum.partition_point(|&c| c <= target).min(cum.len() - 1)
}

/// Items per order: 1–8, mean about 2.5.
pub const ITEMS_PER_ORDER: [(u32, f64); 8] = [
    (1, 0.25),
    (2, 0.30),
    (3, 0.22),
    (4, 0.12),
    (5, 0.06),
    (6, 0.03),
    (7, 0.015),
    (8, 0.005),
];

#[inline]
pub fn discrete(table: &[(u32, f64)], u: f64) -> u32 {
    let mut acc = 0.0;
    for &(v, p) in table {
        acc += p;
        if u < acc {
            return v;
        }
    }
    table[table.len() - 1].0
}

/// Mean of a discrete table.
pub fn mean(table: &[(u32, f64)]) -> f64 {
    table.iter().map(|&(v, p)| v as f64 * p).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn allocation_is_exact_and_respects_minimum() {
        let w = power_law_weights(37, 1.1);
        for total in [37 * 3, 1000, 123_457] {
            let parts = allocate(total, &w, 3);
            assert_eq!(parts.iter().sum::<u64>(), total);
            assert!(parts.iter().all(|&p| p >= 3));
            assert!(parts.windows(2).all(|p| p[0] >= p[1]), "{parts:?}");
        }
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let z = Zipf::new(1000, 1.0);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[z.sample(&mut rng) as usize] += 1;
        }
        assert!(counts[0] > counts[9] * 5);
        // H(1000) ~ 7.49: rank 0 holds about 13%.
        let share = counts[0] as f64 / 100_000.0;
        assert!((0.11..0.16).contains(&share), "{share}");
    }

    #[test]
    fn items_per_order_mean_is_about_two_and_a_half() {
        let m = mean(&ITEMS_PER_ORDER);
        assert!((2.4..2.7).contains(&m), "{m}");
        let total: f64 = ITEMS_PER_ORDER.iter().map(|x| x.1).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn log_normal_median() {
        let mut v: Vec<f64> = (0..10_001)
            .map(|i| {
                let u1 = crate::rng::unit(crate::rng::mix(i));
                let u2 = crate::rng::unit(crate::rng::mix(i + 1_000_000));
                log_normal(u1, u2, 30.0, 0.8)
            })
            .collect();
        v.sort_by(f64::total_cmp);
        let median = v[5000];
        assert!((26.0..34.0).contains(&median), "{median}");
    }
}
