//! Samplers and allocations: power-law shares, Zipf popularity, Pareto repeat customers, log-normal
//! prices, and the small discrete distributions (items per order, quantities).

use crate::rng::Draw;

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

/// Zipf over ranks 0..n with exponent s (> 0), by rejection-inversion (Hormann and Derflinger,
/// "Rejection-inversion to generate variates from monotone discrete distributions", 1996): O(1)
/// per draw whatever n, no table. Written here rather than taken from `rand_distr` so that its
/// output, which decides which products every order holds, is ours and cannot change with a
/// dependency's release.
#[derive(Debug, Clone)]
pub struct Zipf {
    n: f64,
    s: f64,
    /// H(1.5) - 1 and H(n + 0.5): the interval the uniform is mapped onto.
    h_x1: f64,
    h_n: f64,
    /// The squeeze: values of x this close to k are accepted without the test.
    squeeze: f64,
}

impl Zipf {
    pub fn new(n: u64, s: f64) -> Self {
        assert!(s > 0.0, "a Zipf exponent is positive");
        let n = n.max(1) as f64;
        let mut z = Zipf {
            n,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            squeeze: 0.0,
        };
        z.h_x1 = z.big_h(1.5) - 1.0;
        z.h_n = z.big_h(n + 0.5);
        z.squeeze = 2.0 - z.big_h_inv(z.big_h(2.5) - z.h(2.0));
        z
    }

    /// A rank in 0..n; rank 0 is the most popular.
    #[inline]
    pub fn sample(&self, rng: &mut Draw) -> u64 {
        loop {
            let u = self.h_n + rng.unit() * (self.h_x1 - self.h_n);
            let x = self.big_h_inv(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.squeeze || u >= self.big_h(k + 0.5) - self.h(k) {
                return k as u64 - 1;
            }
        }
    }

    /// The unnormalised probability of rank x: x^-s.
    #[inline]
    fn h(&self, x: f64) -> f64 {
        (-self.s * x.ln()).exp()
    }

    /// An antiderivative of h: (x^(1-s) - 1) / (1 - s), or ln x at s = 1.
    #[inline]
    fn big_h(&self, x: f64) -> f64 {
        let log_x = x.ln();
        expm1_over_x((1.0 - self.s) * log_x) * log_x
    }

    /// The inverse of `big_h`.
    #[inline]
    fn big_h_inv(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.s)).max(-1.0);
        (log1p_over_x(t) * x).exp()
    }
}

/// ln(1 + x) / x, continuous at 0.
#[inline]
fn log1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// (e^x - 1) / x, continuous at 0.
#[inline]
fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
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

pub use crate::calibration::ITEMS_PER_ORDER;

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
    fn zipf_follows_its_probabilities() {
        for (n, exponent) in [(50u64, 0.99), (7, 1.2), (1_000_000, 0.8)] {
            let z = Zipf::new(n, exponent);
            let mut rng = Draw::new(11);
            let draws = 200_000;
            let mut counts = [0u64; 10];
            for _ in 0..draws {
                let k = z.sample(&mut rng);
                assert!(k < n);
                if k < 10 {
                    counts[k as usize] += 1;
                }
            }
            // Exact probabilities of the first ranks (the normaliser summed directly, or by its
            // integral for a million ranks).
            let norm: f64 = if n <= 1000 {
                (1..=n).map(|k| (k as f64).powf(-exponent)).sum()
            } else {
                (1..=1000).map(|k| (k as f64).powf(-exponent)).sum::<f64>()
                    + ((n as f64 + 0.5).powf(1.0 - exponent) - 1000.5f64.powf(1.0 - exponent))
                        / (1.0 - exponent)
            };
            for (k, &c) in counts.iter().enumerate().take(n.min(10) as usize) {
                let p = ((k + 1) as f64).powf(-exponent) / norm;
                let expected = p * draws as f64;
                // Five binomial standard deviations.
                let tolerance = 5.0 * (expected * (1.0 - p)).sqrt();
                assert!(
                    (c as f64 - expected).abs() <= tolerance,
                    "n {n}, s {exponent}, rank {k}: {c} drawn, {expected:.0} expected"
                );
            }
        }
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let z = Zipf::new(1000, 1.0);
        let mut rng = Draw::new(7);
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
