//! The instrument's own floor on this machine (`shopbench calibrate`, `cargo bench --bench
//! parity`): the `point_read` operation beside pgbench on the same statements, typed, with the
//! targets judged once, here.
//!
//! Open model: at each rate, both sides' latency from the intended (pgbench: scheduled) start and
//! their start lag, as histograms (µs). Closed model: alternating rounds of shopbench, pgbench and
//! the bare driver (the engine's driver alone), each round's sides measured seconds apart; the
//! median of the rounds' ratios is judged, with its distribution-free confidence interval.

use serde::{Deserialize, Serialize};

use crate::histogram::Encoded;

pub const SCHEMA_VERSION: u32 = 1;

/// Latency p50 at most this multiple of pgbench's.
pub const P50_RATIO: f64 = 1.10;
/// Latency p99 at most this multiple of pgbench's.
pub const P99_RATIO: f64 = 1.25;
/// Start lag p50 at most this, µs.
pub const LAG_P50_US: u64 = 50;
/// Start lag p99 at most this, µs.
pub const LAG_P99_US: u64 = 200;
/// Closed-model throughput at least this multiple of pgbench's.
pub const CLOSED_RATIO: f64 = 1.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub schema_version: u32,
    /// The seeded scale the statements ran on.
    pub scale: String,
    /// Connections on each side.
    pub connections: u32,
    /// Client threads on each side (`pgbench -j`).
    pub client_threads: u32,
    /// Measured seconds of each open-model run.
    pub seconds: u64,
    /// Cores of this machine (the database shares them).
    pub cores: usize,
    /// `pgbench --version`.
    pub pgbench: String,
    pub open: Vec<Open>,
    pub closed: Option<Closed>,
}

/// One side of an open-model run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSide {
    /// Latency from the intended (scheduled) start, µs.
    pub latency: Encoded,
    /// Actual start − intended start, µs.
    pub lag: Encoded,
    /// The client's CPU (user + system) per operation, µs.
    pub cpu_us: f64,
}

/// Both sides at one arrival rate (Poisson arrivals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Open {
    /// Operations per second.
    pub rate: f64,
    pub pgbench: OpenSide,
    pub shopbench: OpenSide,
    /// What shopbench's workers spent waiting out the last stretch before an intended start
    /// (yielding, not sleeping), µs per operation.
    pub pacing_us: f64,
}

/// What a figure is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Latency p50 ÷ pgbench's.
    P50Ratio,
    /// Latency p99 ÷ pgbench's.
    P99Ratio,
    /// Start lag p50, µs.
    LagP50,
    /// Start lag p99, µs.
    LagP99,
    /// Closed-model throughput ÷ pgbench's (median of the rounds).
    ClosedRatio,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::P50Ratio => "p50 ≤ 1.10×",
            Target::P99Ratio => "p99 ≤ 1.25×",
            Target::LagP50 => "start lag p50 ≤ 50 µs",
            Target::LagP99 => "start lag p99 ≤ 200 µs",
            Target::ClosedRatio => "throughput ≥ 1.0×",
        }
    }
}

/// One target judged: the measured figure and whether it held.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub target: Target,
    pub measured: f64,
    pub pass: bool,
}

/// shopbench's figure ÷ pgbench's (0 when pgbench's is 0).
fn ratio(a: u64, b: u64) -> f64 {
    match b {
        0 => 0.0,
        _ => a as f64 / b as f64,
    }
}

impl Open {
    /// shopbench ÷ pgbench at p50, p90 and p99.
    pub fn ratios(&self) -> [f64; 3] {
        let (s, p) = (&self.shopbench.latency, &self.pgbench.latency);
        [
            ratio(s.p50_us, p.p50_us),
            ratio(s.p90_us, p.p90_us),
            ratio(s.p99_us, p.p99_us),
        ]
    }

    pub fn checks(&self) -> Vec<Check> {
        let [p50, _, p99] = self.ratios();
        let lag = &self.shopbench.lag;
        vec![
            Check {
                target: Target::P50Ratio,
                measured: p50,
                pass: p50 <= P50_RATIO,
            },
            Check {
                target: Target::P99Ratio,
                measured: p99,
                pass: p99 <= P99_RATIO,
            },
            Check {
                target: Target::LagP50,
                measured: lag.p50_us as f64,
                pass: lag.p50_us <= LAG_P50_US,
            },
            Check {
                target: Target::LagP99,
                measured: lag.p99_us as f64,
                pass: lag.p99_us <= LAG_P99_US,
            },
        ]
    }
}

/// One side of a closed-model round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ClosedSide {
    /// Operations (pgbench: transactions) per second.
    pub per_s: f64,
    /// The client's CPU (user + system) per operation, µs.
    pub cpu_us: f64,
}

/// The three sides of one round, measured within the same minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub shopbench: ClosedSide,
    pub pgbench: ClosedSide,
    /// The same transaction on the engine's driver alone: no engine, no pool.
    pub bare: ClosedSide,
}

/// Closed model, no think time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    /// Seconds measured per side per round.
    pub round_seconds: u64,
    pub rounds: Vec<Round>,
}

/// A median and its distribution-free confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Median {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    /// The interval's coverage (e.g. 0.965).
    pub coverage: f64,
}

impl Closed {
    /// The median over the rounds of `f`.
    pub fn median(&self, f: impl Fn(&Round) -> f64) -> f64 {
        self.interval(f).median
    }

    /// The median over the rounds of `f` and its confidence interval.
    pub fn interval(&self, f: impl Fn(&Round) -> f64) -> Median {
        let mut v: Vec<f64> = self.rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return Median {
                median: 0.0,
                low: 0.0,
                high: 0.0,
                coverage: 0.0,
            };
        }
        let (lo, hi, coverage) = median_interval(v.len());
        let n = v.len();
        Median {
            // Of an even count, the mean of the two middle values.
            median: match n % 2 {
                1 => v[n / 2],
                _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
            },
            low: v[lo],
            high: v[hi],
            coverage,
        }
    }

    /// shopbench's throughput ÷ pgbench's, per round.
    pub fn ratio(r: &Round) -> f64 {
        match r.pgbench.per_s {
            x if x > 0.0 => r.shopbench.per_s / x,
            _ => 0.0,
        }
    }

    /// shopbench's client CPU per operation ÷ pgbench's, per round (a figure, not a target:
    /// the client cost the instrument adds, beside pgbench's).
    pub fn cpu_ratio(r: &Round) -> f64 {
        match r.pgbench.cpu_us {
            x if x > 0.0 => r.shopbench.cpu_us / x,
            _ => 0.0,
        }
    }

    pub fn check(&self) -> Check {
        let m = self.median(Closed::ratio);
        Check {
            target: Target::ClosedRatio,
            measured: m,
            pass: m >= CLOSED_RATIO,
        }
    }
}

impl Calibration {
    /// Every target judged, in order: each rate's four, then the closed model's.
    pub fn checks(&self) -> Vec<Check> {
        let mut all: Vec<Check> = self.open.iter().flat_map(Open::checks).collect();
        all.extend(self.closed.as_ref().map(Closed::check));
        all
    }

    pub fn pass(&self) -> bool {
        self.checks().iter().all(|c| c.pass)
    }
}

/// The distribution-free confidence interval of a median from `n` sorted samples: the indices
/// (0-based) of the order statistics that bound it and its coverage, the widest interval
/// symmetric in rank whose coverage is at least 95% (from the binomial distribution of how many
/// samples fall below the median; nothing is assumed about the samples' distribution). Fewer
/// than 6 samples cannot reach 95%: the whole range is given, with its lower coverage.
pub fn median_interval(n: usize) -> (usize, usize, f64) {
    // P(Binomial(n, 1/2) ≤ k), summed term by term.
    let below = |k: usize| {
        let mut term = 0.5f64.powi(n as i32);
        let mut sum = term;
        for i in 0..k {
            term *= (n - i) as f64 / (i + 1) as f64;
            sum += term;
        }
        sum
    };
    // The median lies below the (k+1)-th smallest sample when at most k samples are below it.
    let mut k = 0;
    while k + 1 < n / 2 && 1.0 - 2.0 * below(k + 1) >= 0.95 {
        k += 1;
    }
    (k, n - 1 - k, 1.0 - 2.0 * below(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_interval_of_fifteen_is_the_4th_and_12th() {
        let (lo, hi, coverage) = median_interval(15);
        assert_eq!((lo, hi), (3, 11));
        assert!((coverage - 0.9648).abs() < 1e-3, "{coverage}");
        // One sample: itself, covering nothing beyond it.
        assert_eq!(median_interval(1).0, 0);
        assert_eq!(median_interval(1).1, 0);
    }

    fn side(p50: u64, p99: u64, lag50: u64, lag99: u64) -> OpenSide {
        let mut latency = crate::histogram::empty();
        latency.record_n(p50, 98).unwrap();
        latency.record_n(p99, 2).unwrap();
        let mut lag = crate::histogram::empty();
        lag.record_n(lag50, 98).unwrap();
        lag.record_n(lag99, 2).unwrap();
        OpenSide {
            latency: Encoded::new(&latency),
            lag: Encoded::new(&lag),
            cpu_us: 30.0,
        }
    }

    #[test]
    fn each_target_is_judged_on_its_own_figure() {
        let open = Open {
            rate: 500.0,
            pgbench: side(400, 1600, 100, 250),
            shopbench: side(420, 2400, 10, 150),
            pacing_us: 5.0,
        };
        let checks = open.checks();
        let by = |t| checks.iter().find(|c| c.target == t).unwrap();
        assert!(by(Target::P50Ratio).pass, "{checks:?}");
        assert!(
            !by(Target::P99Ratio).pass,
            "2400/1600 = 1.5× > 1.25×: {checks:?}"
        );
        assert!(by(Target::LagP50).pass && by(Target::LagP99).pass);
        let closed = Closed {
            round_seconds: 3,
            rounds: [0.9, 1.1, 1.2]
                .iter()
                .map(|&r| Round {
                    shopbench: ClosedSide {
                        per_s: 1000.0 * r,
                        cpu_us: 30.0,
                    },
                    pgbench: ClosedSide {
                        per_s: 1000.0,
                        cpu_us: 30.0,
                    },
                    bare: ClosedSide::default(),
                })
                .collect(),
        };
        assert!((closed.check().measured - 1.1).abs() < 1e-9);
        let all = Calibration {
            schema_version: SCHEMA_VERSION,
            scale: "tiny".into(),
            connections: 8,
            client_threads: 2,
            seconds: 20,
            cores: 2,
            pgbench: "pgbench (PostgreSQL) 15".into(),
            open: vec![open],
            closed: Some(closed),
        };
        assert_eq!(all.checks().len(), 5);
        assert!(!all.pass(), "the p99 target failed");
    }
}
