//! One operation's measurements in one worker: latency from the intended start (what a user
//! waited, stalls included: no coordinated omission) and service time from the actual start,
//! both in HDR histograms (microseconds, 3 significant digits); outcomes counted so that
//! scheduled = succeeded + failed + dropped. Recorders merge exactly (histograms are added).

use std::collections::BTreeMap;
use std::time::Instant;

use hdrhistogram::Histogram;
use results::FailureClass;

/// Histograms start small and resize to the values they get (1 µs to whatever was recorded, 3
/// significant digits), so an idle operation costs little memory and nothing is clipped.
fn histogram() -> Histogram<u64> {
    results::histogram::empty()
}

#[derive(Debug, Clone)]
pub struct Recorder {
    /// Intended start → end, µs.
    pub latency: Histogram<u64>,
    /// Actual start → end, µs.
    pub service: Histogram<u64>,
    pub scheduled: u64,
    pub succeeded: u64,
    /// Failures by class (SQLSTATE, timeout, connection, business outcome).
    pub failed: BTreeMap<FailureClass, u64>,
    /// Never started: the schedule ran too far ahead of what the system could take.
    pub dropped: u64,
    /// Started more than `results::run::LATE_US` after the intended start (the difference
    /// is in `latency`, not in `service`).
    pub late: u64,
    /// Serialization failures and deadlocks retried inside operations.
    pub retries: u64,
    /// Counted outcomes that are neither failures nor plain successes (cache hit, cache miss…).
    pub notes: BTreeMap<&'static str, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            latency: histogram(),
            service: histogram(),
            scheduled: 0,
            succeeded: 0,
            failed: BTreeMap::new(),
            dropped: 0,
            late: 0,
            retries: 0,
            notes: BTreeMap::new(),
        }
    }
}

fn micros(from: Instant, to: Instant) -> u64 {
    to.saturating_duration_since(from).as_micros().max(1) as u64
}

impl Recorder {
    fn timed(&mut self, intended: Instant, started: Instant, finished: Instant) {
        self.scheduled += 1;
        if micros(intended, started) > results::run::LATE_US {
            self.late += 1;
        }
        self.latency
            .record(micros(intended, finished))
            .expect("auto-resizing histogram accepts any value");
        self.service
            .record(micros(started, finished))
            .expect("auto-resizing histogram accepts any value");
    }

    pub fn success(&mut self, intended: Instant, started: Instant, finished: Instant) {
        self.timed(intended, started, finished);
        self.succeeded += 1;
    }

    /// A failure is data: timed like a success and counted by `class`.
    pub fn failure(
        &mut self,
        class: FailureClass,
        intended: Instant,
        started: Instant,
        finished: Instant,
    ) {
        self.timed(intended, started, finished);
        *self.failed.entry(class).or_default() += 1;
    }

    /// A counted outcome (`cache_hit`, …).
    pub fn note(&mut self, what: &'static str) {
        *self.notes.entry(what).or_default() += 1;
    }

    pub fn dropped(&mut self) {
        self.scheduled += 1;
        self.dropped += 1;
    }

    pub fn failures(&self) -> u64 {
        self.failed.values().sum()
    }

    /// System failures: every class but business outcomes (which SLOs do not count).
    pub fn errors(&self) -> u64 {
        self.failed
            .iter()
            .filter(|(class, _)| !class.is_business())
            .map(|(_, n)| n)
            .sum()
    }

    /// Adds `other` into `self`: counts summed, histograms added bucket by bucket.
    pub fn merge(&mut self, other: &Recorder) {
        self.latency
            .add(&other.latency)
            .expect("same bounds, auto-resizing");
        self.service
            .add(&other.service)
            .expect("same bounds, auto-resizing");
        self.scheduled += other.scheduled;
        self.succeeded += other.succeeded;
        self.dropped += other.dropped;
        self.late += other.late;
        self.retries += other.retries;
        for (class, &n) in other.failed.iter().filter(|(_, &n)| n > 0) {
            match self.failed.get_mut(class) {
                Some(into) => *into += n,
                None => {
                    self.failed.insert(class.clone(), n);
                }
            }
        }
        for (note, &n) in other.notes.iter().filter(|(_, &n)| n > 0) {
            *self.notes.entry(note).or_default() += n;
        }
    }

    /// Back to empty, keeping the memory of the histograms and of the classes and notes seen
    /// (counted from zero again; merges skip zeros), so a reused recorder allocates nothing.
    pub fn reset(&mut self) {
        self.latency.reset();
        self.service.reset();
        self.scheduled = 0;
        self.succeeded = 0;
        self.failed.values_mut().for_each(|n| *n = 0);
        self.dropped = 0;
        self.late = 0;
        self.retries = 0;
        self.notes.values_mut().for_each(|n| *n = 0);
    }

    /// Counts add up: every scheduled operation succeeded, failed or was dropped.
    pub fn is_consistent(&self) -> bool {
        self.scheduled == self.succeeded + self.failures() + self.dropped
            && self.latency.len() == self.succeeded + self.failures()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn latency_counts_from_the_intended_start_and_service_from_the_actual_one() {
        let mut r = Recorder::default();
        let t0 = Instant::now();
        // Intended at t0, started 900 ms late (a stall), served in 10 ms.
        r.success(
            t0,
            t0 + Duration::from_millis(900),
            t0 + Duration::from_millis(910),
        );
        assert!((r.latency.max() as i64 - 910_000).abs() < 1_000);
        assert!((r.service.max() as i64 - 10_000).abs() < 100);
        assert_eq!(r.late, 1);
    }

    #[test]
    fn merging_adds_histograms_exactly_and_counts_add_up() {
        let t0 = Instant::now();
        let mut workers: Vec<Recorder> = (0..4).map(|_| Recorder::default()).collect();
        let mut single = Recorder::default();
        for i in 0..10_000u64 {
            let end = t0 + Duration::from_micros(100 + (i * 7919) % 50_000);
            let w = &mut workers[(i % 4) as usize];
            match i % 10 {
                0 => {
                    w.failure(FailureClass::SqlState("40001".into()), t0, t0, end);
                    single.failure(FailureClass::SqlState("40001".into()), t0, t0, end);
                }
                1 => {
                    w.dropped();
                    single.dropped();
                }
                _ => {
                    w.success(t0, t0, end);
                    single.success(t0, t0, end);
                }
            }
        }
        let mut merged = Recorder::default();
        for w in &workers {
            merged.merge(w);
        }
        assert!(merged.is_consistent());
        assert_eq!(merged.scheduled, 10_000);
        assert_eq!(merged.dropped, 1_000);
        assert_eq!(
            merged.failed[&FailureClass::SqlState("40001".into())],
            1_000
        );
        for q in [0.5, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(
                merged.latency.value_at_quantile(q),
                single.latency.value_at_quantile(q)
            );
        }
        assert_eq!(merged.latency, single.latency);
    }
}
