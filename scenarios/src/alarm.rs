//! The open model's alarm clock: wakes a worker at an operation's intended start, to within tens
//! of microseconds, without a core spinning.
//!
//! tokio's timer wheel has 1 ms granularity and rounds a deadline up, so `sleep_until(intended)`
//! starts operations 0–1 ms late (on this project's 2-core machine: start lag p50 1.1–1.5 ms at
//! 50–2,000/s). Options measured there, 8 workers, 5 s each (lag p50 / p99):
//!
//! | timer | 50/s | 500/s | 2,000/s |
//! |---|---|---|---|
//! | `tokio::time::sleep_until` | 1,321 / 1,904 µs | 1,266 / 1,688 µs | 954 / 1,740 µs |
//! | timerfd in tokio's reactor | 112 / 303 µs | 40 / 103 µs | 41 / 91 µs |
//!
//! A timerfd (`CLOCK_MONOTONIC`, absolute, no timer slack) registered with the runtime's own epoll
//! wakes the waiting task directly: one wake-up, no extra thread. A dedicated pacer thread with
//! `clock_nanosleep` has the same kernel timer but needs a second wake-up (that thread, then a
//! runtime worker) for every operation. What remains is the machine's wake-up latency from idle,
//! which at low rates dominates (a halted virtual CPU takes ~100 µs to run again). So the alarm
//! is set a little early, by what recent wake-ups overshot (their median, less a 20 µs allowance,
//! at most 250 µs), and the last stretch is waited out by yielding to the runtime: the task stays
//! runnable, other tasks still run, and the wait is short because it only covers the wake-up
//! latency just measured. Its cost is counted ([`Alarm::spun`]) and bounded: a worker that has
//! spent 1% of its time so sets its alarm on time until it is under budget again, so on a
//! saturated machine (late wake-ups because the CPUs are busy) pacing takes no CPU from the
//! database it measures.
//!
//! What is left of the start lag's tail is the operating system's, not the timer's: a thread the
//! alarm wakes queues behind whatever runs on its core. Real-time priority for the client threads
//! was measured and not adopted (2026-12-07, `shopbench run --mix point-read --concurrency 8
//! --client-threads 2`, `small`, 15 s runs alternated; start lag p50 / p99 / p99.9 and the
//! operation's service time p50, µs):
//!
//! | client threads | 50/s lag | 2,000/s lag | 500/s service p50 |
//! |---|---|---|---|
//! | normal scheduling | 2 / 97–133 / 2,239–3,343 | 17–18 / 168–179 / 2,163–2,251 | 296–317 |
//! | `SCHED_FIFO` 1 throughout | 2 / 75–83 / 123–184 | 12–15 / 65–82 / 121–186 | 433–491 |
//!
//! The lag's tail all but vanished, and the database looked half as slow again: a thread woken
//! at real-time priority by a reply runs at once on its own core, preempting the backend that
//! just answered, where at normal priority it is placed on the idle core and the two run side by
//! side. Raised only from the timer's wake-up to the operation's first message (lowered before
//! it waits for a reply), the tail barely moved (p99.9 0.7–1.4 ms against 1.0–2.5 ms) and the
//! service time p50 was still higher in 6 pairs of 6 (by 4–17%). An instrument that changes
//! what it measures is worse than a late start that it reports, so the threads run as an
//! application's would (and as pgbench's do).
//!
//! Under tokio's paused clock (the engine's tests) time is virtual, so [`Timer::Runtime`] uses
//! tokio's own timer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// Which clock the open model's workers wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// tokio's timer (1 ms granularity); follows a paused test clock.
    Runtime,
    /// A timerfd per worker in the runtime's reactor, set early by the measured wake-up
    /// latency; microsecond precision. Falls back to `Runtime` where timerfd is unavailable.
    HighResolution,
}

/// Recent wake-up overshoots kept to choose how early to set the alarm.
const WINDOW: usize = 32;
/// The lateness accepted rather than waited out.
const ALLOWANCE: Duration = Duration::from_micros(20);
/// Never set the alarm earlier than this before the intended start.
const MAX_EARLY: Duration = Duration::from_micros(250);
/// The share of one core all of a run's alarms together may spend waiting out last stretches.
const BUDGET: f64 = 0.01;

/// What a run's alarms have spent waiting out last stretches, against `BUDGET`.
#[derive(Debug)]
pub struct Budget {
    since: Instant,
    spent_ns: AtomicU64,
}

impl Budget {
    pub fn new() -> Arc<Budget> {
        Arc::new(Budget {
            since: Instant::now(),
            spent_ns: AtomicU64::new(0),
        })
    }

    /// The share of the budget spent so far (1.0: all of it).
    fn used(&self) -> f64 {
        let allowed = self.since.elapsed().as_nanos() as f64 * BUDGET;
        self.spent_ns.load(Ordering::Relaxed) as f64 / allowed.max(1.0)
    }

    fn spend(&self, d: Duration) {
        self.spent_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// One worker's alarm.
pub struct Alarm {
    fd: Option<fd::Fd>,
    budget: Arc<Budget>,
    /// How far the alarm's wake-ups overshot their deadline, ns (a ring).
    overshoot: [u64; WINDOW],
    seen: usize,
    /// How early to set the alarm: (by the overshoots' 90th percentile, by their median).
    early: (Duration, Duration),
    spun: Duration,
    waits: u64,
}

impl Alarm {
    /// An alarm whose last stretches are paid from `budget` (one per run, shared by its workers).
    pub fn new(timer: Timer, budget: Arc<Budget>) -> Alarm {
        Alarm {
            fd: match timer {
                Timer::Runtime => None,
                Timer::HighResolution => fd::Fd::new().ok(),
            },
            budget,
            overshoot: [0; WINDOW],
            seen: 0,
            early: (Duration::ZERO, Duration::ZERO),
            spun: Duration::ZERO,
            waits: 0,
        }
    }

    /// Returns at `at` or after it, never before.
    pub async fn wait_until(&mut self, at: Instant) {
        self.waits += 1;
        let Some(fd) = &self.fd else {
            tokio::time::sleep_until(at).await;
            return;
        };
        let used = self.budget.used();
        let early = if used < 0.5 {
            self.early.0
        } else if used < 1.0 {
            self.early.1
        } else {
            Duration::ZERO
        };
        let wake = at.checked_sub(early).unwrap_or(at);
        if wake > Instant::now() {
            fd.wait_until(wake.into_std()).await;
            let over = Instant::now().saturating_duration_since(wake);
            self.overshoot[self.seen % WINDOW] = over.as_nanos() as u64;
            self.seen += 1;
            self.early = self.next_early();
        }
        let from = Instant::now();
        if from < at {
            while Instant::now() < at {
                tokio::task::yield_now().await;
            }
            let spun = Instant::now().saturating_duration_since(from);
            self.spun += spun;
            self.budget.spend(spun);
        }
    }

    /// (90th percentile, median) of the recent overshoots, less the allowance, at most
    /// `MAX_EARLY`.
    fn next_early(&self) -> (Duration, Duration) {
        let n = self.seen.min(WINDOW);
        let mut recent = self.overshoot;
        let recent = &mut recent[..n];
        recent.sort_unstable();
        let early = |ns: u64| {
            Duration::from_nanos(ns)
                .saturating_sub(ALLOWANCE)
                .min(MAX_EARLY)
        };
        (early(recent[(n * 9 / 10).min(n - 1)]), early(recent[n / 2]))
    }

    /// Time spent waiting out the last stretch before intended starts (CPU the pacing costs).
    pub fn spun(&self) -> Duration {
        self.spun
    }

    /// Intended starts waited for.
    pub fn waits(&self) -> u64 {
        self.waits
    }

    /// Whether the high-resolution timer is in use.
    pub fn is_high_resolution(&self) -> bool {
        self.fd.is_some()
    }
}

#[cfg(target_os = "linux")]
mod fd {
    //! A timerfd on `CLOCK_MONOTONIC` (the clock of `std::time::Instant`), in tokio's reactor.

    use std::os::fd::{AsFd, AsRawFd, RawFd};
    use std::sync::OnceLock;
    use std::time::Instant;

    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    struct Raw(TimerFd);

    impl AsRawFd for Raw {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_fd().as_raw_fd()
        }
    }

    pub struct Fd(AsyncFd<Raw>);

    /// An `Instant` and `CLOCK_MONOTONIC` read together, to turn one into the other.
    fn anchor() -> (Instant, i128) {
        static ANCHOR: OnceLock<(Instant, i128)> = OnceLock::new();
        *ANCHOR.get_or_init(|| {
            let now = Instant::now();
            let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
                .expect("CLOCK_MONOTONIC is always there");
            (
                now,
                ts.tv_sec() as i128 * 1_000_000_000 + ts.tv_nsec() as i128,
            )
        })
    }

    impl Fd {
        pub fn new() -> std::io::Result<Fd> {
            let fd = TimerFd::new(
                ClockId::CLOCK_MONOTONIC,
                TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
            )?;
            // SAFETY: `Raw` owns the timerfd, so the descriptor stays open and the same for as
            // long as the `AsyncFd` that holds it.
            let registered =
                unsafe { AsyncFd::register_with_interest(Raw(fd), Interest::READABLE) };
            registered.map(Fd).map_err(|e| e.into_parts().1)
        }

        pub async fn wait_until(&self, at: Instant) {
            let (base, base_ns) = anchor();
            let ns = if at >= base {
                base_ns + at.duration_since(base).as_nanos() as i128
            } else {
                base_ns - base.duration_since(at).as_nanos() as i128
            };
            let when = TimeSpec::new((ns / 1_000_000_000) as _, (ns % 1_000_000_000) as _);
            if self
                .0
                .get_ref()
                .0
                .set(
                    Expiration::OneShot(when),
                    TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                )
                .is_err()
            {
                tokio::time::sleep_until(at.into()).await;
                return;
            }
            loop {
                let Ok(mut ready) = self.0.readable().await else {
                    tokio::time::sleep_until(at.into()).await;
                    return;
                };
                let mut expirations = [0u8; 8];
                match ready.try_io(|fd| {
                    nix::unistd::read(fd.get_ref().0.as_fd(), &mut expirations)
                        .map_err(std::io::Error::from)
                }) {
                    Ok(_) => return,
                    // Not expired yet (a spurious readiness): wait again.
                    Err(_would_block) => continue,
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod fd {
    pub struct Fd;

    impl Fd {
        pub fn new() -> std::io::Result<Fd> {
            Err(std::io::ErrorKind::Unsupported.into())
        }

        pub async fn wait_until(&self, _at: std::time::Instant) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the machine's load, the alarm never wakes before the intended start, and the
    /// high-resolution timer is available on Linux.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_early() {
        let mut alarm = Alarm::new(Timer::HighResolution, Budget::new());
        assert_eq!(alarm.is_high_resolution(), cfg!(target_os = "linux"));
        let start = Instant::now();
        for i in 1..=200u64 {
            let at = start + Duration::from_micros(1_500 * i + (i * 7919) % 700);
            alarm.wait_until(at).await;
            assert!(Instant::now() >= at, "woke before the intended start");
        }
        assert_eq!(alarm.waits(), 200);
        // A deadline already past returns at once.
        alarm.wait_until(start).await;
    }

    #[test]
    fn early_follows_the_recent_overshoot() {
        let mut alarm = Alarm::new(Timer::Runtime, Budget::new());
        for (i, us) in [100u64, 120, 80, 110, 90, 130, 100, 105].iter().enumerate() {
            alarm.overshoot[i] = us * 1_000;
            alarm.seen += 1;
        }
        // Of the eight, the 90th percentile (the largest, 130 µs) and the median (the 5th
        // smallest, 105 µs), less the 20 µs allowance.
        assert_eq!(
            alarm.next_early(),
            (Duration::from_micros(110), Duration::from_micros(85))
        );
        alarm.overshoot = [5_000_000; WINDOW];
        alarm.seen = WINDOW;
        assert_eq!(alarm.next_early(), (MAX_EARLY, MAX_EARLY));
    }

    /// The budget is a share of one core over the time since it was made.
    #[test]
    fn budget_is_a_share_of_one_core() {
        let budget = Budget::new();
        assert_eq!(budget.used(), 0.0);
        // 10 s of yielding is all of the budget of 1,000 s, far longer than this test takes.
        budget.spend(Duration::from_secs(10));
        assert!(budget.used() > 1.0);
    }
}
