//! Fixtures for the reports tests: real results files (a storefront run and a capacity search
//! recorded on the development machine, in `tests/data/`), golden files, and synthetic runs
//! whose latency distribution is known, for the comparison tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use results::histogram::{self, Encoded};
use results::run::{Interval, IntervalOperation, RunResults, RunVerdict};
use results::slo;

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn fixture(name: &str) -> RunResults {
    RunResults::read(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Compares `actual` with `tests/golden/<name>`; with SHOPBENCH_UPDATE_GOLDEN=1 rewrites it.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("SHOPBENCH_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with SHOPBENCH_UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the renderer's output at line {} (SHOPBENCH_UPDATE_GOLDEN=1 rewrites it after a deliberate change):\n  golden: {:?}\n  actual: {:?}",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// How a synthetic run's latencies are drawn.
#[derive(Clone, Copy)]
pub struct Shape {
    pub seed: u64,
    /// Multiplies every latency.
    pub scale: f64,
    /// Multiplies the latencies above each operation's 95th percentile (a tail regression).
    pub tail: f64,
    pub seconds: u32,
}

pub const BASELINE: Shape = Shape {
    seed: 1,
    scale: 1.0,
    tail: 1.0,
    seconds: 60,
};

/// A run (60 seconds by default) shaped like the storefront fixture: every operation gets 50 latencies a
/// second from a log-normal distribution around the fixture's median (σ = 0.5), so reruns
/// (other seeds) differ only by sampling noise.
pub fn synthetic(shape: Shape) -> RunResults {
    let mut r = fixture("storefront.json");
    let mut rng = StdRng::seed_from_u64(shape.seed);
    let seconds = shape.seconds;
    let per_second = 50u64;
    let mut intervals: Vec<Interval> = (1..=seconds)
        .map(|t_s| Interval {
            t_s,
            operations: BTreeMap::new(),
        })
        .collect();
    for op in &mut r.operations {
        let median = (op.latency.p50_us.max(500)) as f64;
        // exp(σ · 1.645) is the log-normal's p95 over its median.
        let p95 = median * (0.5f64 * 1.645).exp();
        let mut total = histogram::empty();
        for interval in &mut intervals {
            let mut h = histogram::empty();
            for _ in 0..per_second {
                // Box–Muller: a standard normal from two uniforms.
                let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let mut v = median * (0.5 * z).exp() * shape.scale;
                if v > p95 * shape.scale {
                    v *= shape.tail;
                }
                h.record(v.max(1.0) as u64).unwrap();
            }
            total.add(&h).unwrap();
            interval.operations.insert(
                op.name.clone(),
                IntervalOperation {
                    completed: per_second,
                    errors: 0,
                    dropped: 0,
                    latency: Encoded::new(&h),
                },
            );
        }
        op.scheduled = total.len();
        op.succeeded = total.len();
        op.failed.clear();
        op.dropped = 0;
        op.latency = Encoded::new(&total);
        op.service = op.latency.clone();
        op.tiers.clear();
        op.verdict = slo::judge(op);
    }
    r.intervals = intervals;
    r.measured_s = seconds as f64;
    r.schedule.scheduled = r.operations.iter().map(|o| o.scheduled).sum();
    r.verdict = RunVerdict::of(&r.operations);
    r
}
