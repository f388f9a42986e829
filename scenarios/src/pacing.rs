//! Pacing: when operations are meant to start.
//!
//! Open model: operations arrive at `rate` per second whatever the system does (constant spacing,
//! or Poisson arrivals with exponential gaps from a seeded generator, so the same `--seed` gives
//! the same schedule). Each operation's intended start comes from this schedule, and latency is
//! measured from it. Closed model: `users` loops, each waiting `think` between operations.

use std::time::Duration;

use generator::rng::Draw;

/// Constant: exactly 1/rate apart; Poisson: exponential gaps of mean 1/rate.
pub use results::load::Arrivals;
use results::load::Shape;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    Open { rate: f64, arrivals: Arrivals },
    Closed { users: u32, think: Duration },
}

/// How the load changes over the measured window: the share of the full rate (open model) or of
/// the users (closed model) at each moment. The warmup runs at the window's starting level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Profile {
    Constant,
    /// From 10% to 100% linearly over `over`, then 100%.
    Ramp {
        over: Duration,
    },
    /// `steps` equal steps up to 100%, each lasting window / steps.
    Step {
        steps: u32,
    },
    /// The generator's hourly traffic curve (`calibration::DAILY`) with its 24 hours spread over
    /// the window, linear between the hours' midpoints, 100% at its peak hour.
    Day,
}

impl Profile {
    /// The profile of `shape`: a ramp over `over`, or `steps` steps.
    pub fn of(shape: Shape, over: Duration, steps: u32) -> Self {
        match shape {
            Shape::Constant => Profile::Constant,
            Shape::Ramp => Profile::Ramp { over },
            Shape::Step => Profile::Step { steps },
            Shape::Day => Profile::Day,
        }
    }

    pub fn shape(&self) -> Shape {
        match self {
            Profile::Constant => Shape::Constant,
            Profile::Ramp { .. } => Shape::Ramp,
            Profile::Step { .. } => Shape::Step,
            Profile::Day => Shape::Day,
        }
    }

    /// Share of the full load (about 0.1–1) at `t` since the start of the measured window `window`.
    pub fn level(&self, t: Duration, window: Duration) -> f64 {
        match *self {
            Profile::Constant => 1.0,
            Profile::Ramp { over } => {
                if over.is_zero() {
                    1.0
                } else {
                    0.1 + 0.9 * (t.as_secs_f64() / over.as_secs_f64()).min(1.0)
                }
            }
            Profile::Step { steps } => {
                let steps = steps.max(1) as f64;
                let each = window.as_secs_f64() / steps;
                if each <= 0.0 {
                    1.0
                } else {
                    ((t.as_secs_f64() / each).floor() + 1.0).min(steps) / steps
                }
            }
            Profile::Day => {
                let curve = &generator::calibration::DAILY;
                let peak = curve.iter().cloned().fold(0.0, f64::max);
                let window = window.as_secs_f64();
                let hour = if window > 0.0 {
                    (t.as_secs_f64() / window).min(1.0) * 24.0
                } else {
                    0.0
                };
                // Hour h's value holds at its midpoint h + 0.5; wrap around midnight.
                let x = hour - 0.5;
                let lo = x.floor();
                let frac = x - lo;
                let at = |h: f64| curve[(h as i64).rem_euclid(24) as usize];
                (at(lo) * (1.0 - frac) + at(lo + 1.0) * frac) / peak
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Profile::Constant => "constant".into(),
            Profile::Ramp { over } => {
                format!("ramp from 10% to 100% over {} s", over.as_secs_f64())
            }
            Profile::Step { steps } => format!("{steps} equal steps up to 100%"),
            Profile::Day => {
                "the intra-day curve (24 hours over the window, 100% at the evening peak)".into()
            }
        }
    }
}

/// The open model's intended start offsets (from the run's start), in order.
#[derive(Debug, Clone)]
pub struct Schedule {
    gap_ns: f64,
    arrivals: Arrivals,
    profile: Profile,
    warmup_ns: f64,
    window: Duration,
    rng: Draw,
    /// Offset of the next operation, nanoseconds.
    next_ns: f64,
}

impl Schedule {
    /// `rate` in operations per second (> 0).
    pub fn new(rate: f64, arrivals: Arrivals, seed: u64) -> Self {
        assert!(rate > 0.0 && rate.is_finite(), "rate must be positive");
        let gap_ns = 1e9 / rate;
        let mut s = Schedule {
            gap_ns,
            arrivals,
            profile: Profile::Constant,
            warmup_ns: 0.0,
            window: Duration::ZERO,
            rng: Draw::new(seed),
            next_ns: 0.0,
        };
        // The first operation arrives one gap after the start, like every other.
        s.next_ns = s.gap();
        s
    }

    /// The same schedule under a load profile over a measured window that starts after `warmup`.
    pub fn shaped(mut self, profile: Profile, warmup: Duration, window: Duration) -> Self {
        self.profile = profile;
        self.warmup_ns = warmup.as_nanos() as f64;
        self.window = window;
        self.next_ns = 0.0;
        self.next_ns = self.gap();
        self
    }

    fn gap(&mut self) -> f64 {
        let since = Duration::from_nanos((self.next_ns - self.warmup_ns).max(0.0) as u64);
        let gap_ns = self.gap_ns / self.profile.level(since, self.window);
        match self.arrivals {
            Arrivals::Constant => gap_ns,
            Arrivals::Poisson => {
                let u = self.rng.unit();
                -(1.0 - u).ln() * gap_ns
            }
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let at = Duration::from_nanos(self.next_ns as u64);
        self.next_ns += self.gap();
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_within(s: Schedule, window: Duration) -> usize {
        s.take_while(|at| *at < window).count()
    }

    #[test]
    fn constant_arrivals_are_exact() {
        let s = Schedule::new(250.0, Arrivals::Constant, 1);
        let first: Vec<Duration> = s.clone().take(3).collect();
        assert_eq!(
            first,
            [
                Duration::from_millis(4),
                Duration::from_millis(8),
                Duration::from_millis(12)
            ]
        );
        assert_eq!(count_within(s, Duration::from_secs(10)), 2499);
    }

    #[test]
    fn poisson_arrivals_keep_the_rate_and_are_reproducible() {
        let s = Schedule::new(1000.0, Arrivals::Poisson, 42);
        let n = count_within(s.clone(), Duration::from_secs(100));
        // 100,000 expected; the standard deviation of a Poisson count is sqrt(100,000) ≈ 316.
        assert!((98_500..101_500).contains(&n), "{n}");
        let a: Vec<Duration> = s.clone().take(100).collect();
        let b: Vec<Duration> = Schedule::new(1000.0, Arrivals::Poisson, 42)
            .take(100)
            .collect();
        assert_eq!(a, b);
        assert_ne!(
            a,
            Schedule::new(1000.0, Arrivals::Poisson, 43)
                .take(100)
                .collect::<Vec<_>>()
        );
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn profiles_shape_the_rate() {
        let window = Duration::from_secs(40);
        let step = Profile::Step { steps: 4 };
        assert_eq!(step.level(Duration::from_secs(0), window), 0.25);
        assert_eq!(step.level(Duration::from_secs(25), window), 0.75);
        assert_eq!(step.level(Duration::from_secs(45), window), 1.0);
        let s = Schedule::new(100.0, Arrivals::Constant, 1).shaped(step, Duration::ZERO, window);
        let per_step: Vec<usize> = (0..4)
            .map(|k| {
                s.clone()
                    .take_while(|at| *at < Duration::from_secs(10 * (k + 1)))
                    .filter(|at| *at >= Duration::from_secs(10 * k))
                    .count()
            })
            .collect();
        // 25, 50, 75 and 100 operations per second for 10 s each (±1 at the step edges).
        for (got, want) in per_step.iter().zip([250, 500, 750, 1000]) {
            assert!((*got as i64 - want).abs() <= 1, "{per_step:?}");
        }
        let ramp = Profile::Ramp {
            over: Duration::from_secs(10),
        };
        assert!((ramp.level(Duration::from_secs(5), window) - 0.55).abs() < 1e-9);
    }

    #[test]
    fn the_day_profile_follows_the_intra_day_curve() {
        let window = Duration::from_secs(240);
        let day = Profile::Day;
        let curve = &generator::calibration::DAILY;
        let peak = curve.iter().cloned().fold(0.0, f64::max);
        // At each hour's midpoint (10 s per hour here) the level is that hour's share of the peak.
        for (h, w) in curve.iter().enumerate() {
            let at = Duration::from_secs(10 * h as u64 + 5);
            assert!((day.level(at, window) - w / peak).abs() < 1e-9, "hour {h}");
        }
        // Arrivals per hour follow the curve: the evening peak against the day's mean.
        let s = Schedule::new(200.0, Arrivals::Constant, 1).shaped(day, Duration::ZERO, window);
        let per_hour: Vec<usize> = (0..24)
            .map(|h| {
                s.clone()
                    .take_while(|at| *at < Duration::from_secs(10 * (h + 1)))
                    .filter(|at| *at >= Duration::from_secs(10 * h))
                    .count()
            })
            .collect();
        let mean = per_hour.iter().sum::<usize>() as f64 / 24.0;
        let evening = (per_hour[20] + per_hour[21]) as f64 / 2.0;
        let ratio = evening / mean;
        assert!(
            (ratio - generator::calibration::EVENING_PEAK_RATIO).abs() < 0.1,
            "{ratio:.2} {per_hour:?}"
        );
    }

    /// Pacing under tokio's paused clock: a loop sleeping until each intended start achieves the
    /// target rate within 1% when every operation keeps up.
    #[tokio::test(start_paused = true)]
    async fn paced_loop_achieves_the_rate() {
        for (rate, arrivals) in [(200.0, Arrivals::Constant), (2_000.0, Arrivals::Poisson)] {
            let start = tokio::time::Instant::now();
            let window = Duration::from_secs(30);
            let mut done = 0u64;
            for at in Schedule::new(rate, arrivals, 7) {
                if at >= window {
                    break;
                }
                tokio::time::sleep_until(start + at).await;
                done += 1;
            }
            let achieved = done as f64 / window.as_secs_f64();
            assert!(
                (achieved / rate - 1.0).abs() < 0.01,
                "{arrivals:?}: {achieved} of {rate}"
            );
        }
    }
}
