//! The one worker loop, parameterised by pacing (open: arrival rate; closed: users with think
//! time), and the collector that drains the workers' recorders once a second.
//!
//! Open model: workers take the next intended start from one seeded schedule, sleep until it and
//! run the operation; latency counts from the intended start, so a stall shows in the
//! percentiles even for operations that were queued behind it (no coordinated omission). An
//! operation that cannot start within `max_lag` of its intended start, or before the window
//! ends, is dropped and counted, never silently skipped. Closed model: each worker is a user
//! that runs an operation, thinks, and runs the next.
//!
//! Open-model workers wait for intended starts on a high-resolution [`Alarm`] (tokio's own
//! timer has 1 ms granularity: see `alarm.rs`).
//!
//! Workers record into their own recorders (one per operation and tenant tier). Once a second
//! the collector swaps each worker's buffer for an empty one (the worker's lock is held for the
//! swap only), adds what it took into the run's totals and that second's interval, and resets it
//! for the next swap, so memory does not grow with the run's length (apart from the per-second
//! series, encoded as it goes) and a worker never waits for a merge. After its first seconds a
//! worker allocates nothing per successful operation: its call and recorders are reused. An
//! operation that panics is a failure of class `panic`; its worker carries on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use hdrhistogram::Histogram;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use generator::rng::{mix, unit, Draw};
use results::histogram::Encoded;
use results::load::Shard;
use results::run::{Interval, IntervalOperation};
use results::FailureClass;

use crate::alarm::{Alarm, Budget, Timer};
use crate::operation::{Call, Operation, TierTag};
use crate::pacing::{Pacing, Profile, Schedule};
use crate::recorder::Recorder;

/// Recorder slots per operation: the three tenant tiers and "no tenant" (dropped operations,
/// tenant-less operations).
pub const TIER_SLOTS: usize = 4;

pub struct Entry {
    pub name: String,
    pub weight: f64,
    pub op: Arc<dyn Operation>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub pacing: Pacing,
    pub profile: Profile,
    pub warmup: Duration,
    pub duration: Duration,
    /// Workers (open model); the closed model has one worker per user.
    pub concurrency: usize,
    pub seed: u64,
    pub timeout: Duration,
    pub max_lag: Duration,
    /// The open model's clock: `HighResolution` for real runs, `Runtime` under a paused clock.
    pub timer: Timer,
    /// This generator's share of the run: the open model's operations whose sequence number is
    /// the shard's, the closed model's users whose number is. `Shard::WHOLE` runs everything.
    pub shard: Shard,
    /// The moment intended starts count from (several generators given one `--start-at` share
    /// it); `None`: when the run is called. A moment in the past is honoured: the operations
    /// already due start late, and their lag shows.
    pub start: Option<Instant>,
}

/// What the live terminal line shows, once a second.
#[derive(Debug, Clone)]
pub struct Tick {
    /// Seconds since the measured window started (negative during the warmup).
    pub t: f64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    pub p99_us: u64,
    /// Largest schedule lag of an operation started in this second, µs.
    pub lag_max_us: u64,
    /// Target operations per second at this moment (open model).
    pub target_rate: Option<f64>,
}

pub struct Outcome {
    /// Per operation (mix order), per tier slot (large, medium, small, none).
    pub totals: Vec<Vec<Recorder>>,
    /// Actual start − intended start of measured operations, µs.
    pub lag: Histogram<u64>,
    pub intervals: Vec<Interval>,
    /// Length of the measured window actually run.
    pub measured: Duration,
    pub interrupted: bool,
    pub pacing: PacingCost,
}

/// What waiting for intended starts cost the workers (open model).
#[derive(Debug, Clone, Copy, Default)]
pub struct PacingCost {
    /// Intended starts waited for.
    pub waits: u64,
    /// Time spent waiting out the last stretch before intended starts (yielding, not sleeping).
    pub spun: Duration,
}

impl Outcome {
    /// One operation's totals, tiers merged.
    pub fn operation(&self, op: usize) -> Recorder {
        let mut r = Recorder::default();
        for t in &self.totals[op] {
            r.merge(t);
        }
        r
    }
}

/// One worker's measurements since the collector last took them.
struct Slot {
    recs: Vec<Option<Recorder>>,
    lag: Histogram<u64>,
}

impl Slot {
    fn new(ops: usize) -> Slot {
        Slot {
            recs: (0..ops * TIER_SLOTS).map(|_| None).collect(),
            lag: results::histogram::empty(),
        }
    }

    fn rec(&mut self, op: usize, tier: Option<TierTag>) -> &mut Recorder {
        let t = match tier {
            Some(TierTag::Large) => 0,
            Some(TierTag::Medium) => 1,
            Some(TierTag::Small) => 2,
            None => 3,
        };
        self.recs[op * TIER_SLOTS + t].get_or_insert_with(Recorder::default)
    }
}

/// Where a worker's next operation comes from.
enum Source {
    Open(Arc<Mutex<(Schedule, u64)>>),
    Closed {
        worker: u64,
        n: u64,
        think: Duration,
        start_at: Instant,
    },
}

/// Where a share of the workers runs: a runtime (a [`crate::lanes::Lanes`] thread, or the
/// caller's) and the mix's operations bound to that lane's own connections. Every lane has the
/// same operations in the same order.
pub struct Lane {
    pub handle: tokio::runtime::Handle,
    pub entries: Vec<Entry>,
}

struct Shared {
    plan: Plan,
    /// Per lane, the mix's operations (the first lane's names and weights stand for all).
    lanes: Vec<Vec<Entry>>,
    cumulative: Vec<f64>,
    t0: Instant,
    stop: CancellationToken,
    /// What the workers' alarms may spend on pacing, together.
    pacing: Arc<Budget>,
}

impl Shared {
    fn measured_start(&self) -> Instant {
        self.t0 + self.plan.warmup
    }

    fn end(&self) -> Instant {
        self.t0 + self.plan.warmup + self.plan.duration
    }

    fn pick(&self, seq: u64) -> usize {
        pick(self.plan.seed, &self.cumulative, seq)
    }

    fn rng(&self, seq: u64) -> Draw {
        Draw::new(mix(self.plan.seed.wrapping_add(mix(seq ^ 0x5eed))))
    }
}

/// The operation (index into the mix) of sequence number `seq`: a pure function of the seed,
/// the mix's cumulative weights and `seq`.
fn pick(seed: u64, cumulative: &[f64], seq: u64) -> usize {
    let u = unit(mix(seed ^ mix(seq.wrapping_add(1))));
    let total = *cumulative.last().expect("a mix has operations");
    cumulative
        .partition_point(|&c| c <= u * total)
        .min(cumulative.len() - 1)
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// The open model's first `n` operations under `plan` for a mix of `weights`: (operation index,
/// intended start from the run's start), exactly as the workers take them. What the golden
/// schedule test holds: the same seed, the same operations at the same moments.
pub fn first_operations(plan: &Plan, weights: &[f64], n: usize) -> Vec<(usize, Duration)> {
    scheduled(plan, weights)
        .take(n)
        .map(|(_, op, at)| (op, at))
        .collect()
}

/// The open model's operations under `plan` for a mix of `weights`, in order and without end:
/// (sequence number in the one-generator run, operation index, intended start from the run's
/// start), only those of the plan's shard; what a sharded run's workers take.
pub fn scheduled(plan: &Plan, weights: &[f64]) -> impl Iterator<Item = (u64, usize, Duration)> {
    let cumulative = cumulative(weights.iter().copied());
    let (seed, shard) = (plan.seed, plan.shard);
    let schedule = match plan.pacing {
        Pacing::Open { rate, arrivals } => Some(Schedule::new(rate, arrivals, seed).shaped(
            plan.profile,
            plan.warmup,
            plan.duration,
        )),
        Pacing::Closed { .. } => None,
    };
    schedule
        .into_iter()
        .flatten()
        .zip(0u64..)
        .filter(move |(_, seq)| shard.owns(*seq))
        .map(move |(at, seq)| (seq, pick(seed, &cumulative, seq), at))
}

async fn worker(
    shared: Arc<Shared>,
    lane: usize,
    slot: Arc<Mutex<Slot>>,
    mut source: Source,
) -> PacingCost {
    let measured_start = shared.measured_start();
    let end = shared.end();
    let mut alarm = Alarm::new(shared.plan.timer, shared.pacing.clone());
    let cost = |alarm: &Alarm| PacingCost {
        waits: alarm.waits(),
        spun: alarm.spun(),
    };
    if let Source::Closed { start_at, .. } = &source {
        tokio::select! {
            _ = tokio::time::sleep_until(*start_at) => {}
            _ = shared.stop.cancelled() => return cost(&alarm),
        }
    }
    // One call, reused: its notes keep their memory from one operation to the next.
    let mut call = Call::new(shared.rng(0));
    // One timeout per worker, moved to each operation's deadline: moving a registered timer
    // later is one atomic exchange in tokio (the wheel is touched only when the old deadline
    // comes up and the timer is filed again), where `tokio::time::timeout` inserts and removes
    // a wheel entry under the driver's lock for every operation (measured with callgrind:
    // ~1,300 of ~33,000 instructions per point read).
    // (At most a year, so that adding it to an instant cannot overflow: `--timeout` is the
    // user's, and a longer one means the same as a year.)
    let timeout = shared.plan.timeout.min(Duration::from_secs(365 * 86_400));
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        // The next operation: its intended start and sequence number.
        let (intended, seq) = match &mut source {
            Source::Open(schedule) => {
                let (at, seq) = {
                    let mut s = schedule.lock().expect("schedule lock");
                    // The one-generator schedule, less the other shards' operations.
                    loop {
                        let at = s.0.next().expect("the schedule never ends");
                        s.1 += 1;
                        if shared.plan.shard.owns(s.1 - 1) {
                            break (at, s.1 - 1);
                        }
                    }
                };
                let intended = shared.t0 + at;
                if intended >= end {
                    return cost(&alarm);
                }
                tokio::select! {
                    _ = alarm.wait_until(intended) => {}
                    _ = shared.stop.cancelled() => return cost(&alarm),
                }
                (intended, seq)
            }
            Source::Closed { worker, n, .. } => {
                if Instant::now() >= end || shared.stop.is_cancelled() {
                    return cost(&alarm);
                }
                *n += 1;
                (Instant::now(), *worker << 40 | (*n - 1))
            }
        };
        let op = shared.pick(seq);
        let measured = intended >= measured_start;
        let started = Instant::now();
        let lag = started.saturating_duration_since(intended);
        if lag > shared.plan.max_lag || started >= end {
            // Too late to be worth running, or the window is over: dropped, and counted.
            if measured {
                slot.lock().expect("slot lock").rec(op, None).dropped();
            }
            continue;
        }
        call.reset(shared.rng(seq));
        let run =
            std::panic::AssertUnwindSafe(shared.lanes[lane][op].op.run(&mut call)).catch_unwind();
        deadline.as_mut().reset(started + timeout);
        let result = tokio::select! {
            biased;
            done = run => Some(done),
            () = &mut deadline => None,
        };
        let finished = Instant::now();
        if measured {
            let mut s = slot.lock().expect("slot lock");
            s.lag
                .record(lag.as_micros() as u64)
                .expect("auto-resizing histogram");
            let r = s.rec(op, call.tier);
            let (i, st, f) = (intended.into_std(), started.into_std(), finished.into_std());
            match result {
                Some(Ok(Ok(()))) => r.success(i, st, f),
                Some(Ok(Err(failure))) => r.failure(failure.class(), i, st, f),
                Some(Err(_panic)) => r.failure(FailureClass::Panic, i, st, f),
                None => r.failure(FailureClass::Timeout, i, st, f),
            }
            r.retries += call.retries as u64;
            for note in &call.notes {
                r.note(note);
            }
        }
        if let Source::Closed { think, .. } = &source {
            if !think.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(*think) => {}
                    _ = shared.stop.cancelled() => return cost(&alarm),
                }
            }
        }
    }
}

/// Takes every worker's measurements (swapping in the spare buffer under the worker's lock, then
/// merging outside it), adds them into the totals and returns this interval (per operation).
fn drain(
    slots: &[Arc<Mutex<Slot>>],
    spares: &mut [Slot],
    totals: &mut [Vec<Recorder>],
    lag: &mut Histogram<u64>,
    ops: usize,
) -> (Vec<Recorder>, u64) {
    let mut interval: Vec<Recorder> = (0..ops).map(|_| Recorder::default()).collect();
    let mut lag_max = 0;
    for (slot, spare) in slots.iter().zip(spares.iter_mut()) {
        std::mem::swap(&mut *slot.lock().expect("slot lock"), spare);
        for (i, rec) in spare.recs.iter_mut().enumerate() {
            if let Some(r) = rec {
                if r.scheduled > 0 {
                    totals[i / TIER_SLOTS][i % TIER_SLOTS].merge(r);
                    interval[i / TIER_SLOTS].merge(r);
                    r.reset();
                }
            }
        }
        if !spare.lag.is_empty() {
            lag_max = lag_max.max(spare.lag.max());
            lag.add(&spare.lag).expect("auto-resizing histogram");
            spare.lag.reset();
        }
    }
    (interval, lag_max)
}

/// The per-second series: a second's measurements are encoded once the next second begins, and
/// a drain that lands in a second already seen (a late tick, the final drain) is added to it, so
/// the seconds are unique and increasing.
struct Series {
    done: Vec<Interval>,
    open: Option<(u32, Vec<Recorder>)>,
}

impl Series {
    fn add(&mut self, t_s: u32, interval: Vec<Recorder>, entries: &[Entry]) {
        if interval.iter().all(|r| r.scheduled == 0) {
            return;
        }
        match &mut self.open {
            Some((open_s, recs)) if t_s <= *open_s => {
                for (into, r) in recs.iter_mut().zip(&interval) {
                    into.merge(r);
                }
            }
            _ => {
                if let Some((open_s, recs)) = self.open.take() {
                    self.done.push(encode_interval(open_s, entries, &recs));
                }
                self.open = Some((t_s, interval));
            }
        }
    }

    fn finish(mut self, entries: &[Entry]) -> Vec<Interval> {
        if let Some((open_s, recs)) = self.open.take() {
            self.done.push(encode_interval(open_s, entries, &recs));
        }
        self.done
    }
}

fn encode_interval(t_s: u32, entries: &[Entry], interval: &[Recorder]) -> Interval {
    Interval {
        t_s,
        operations: entries
            .iter()
            .zip(interval)
            .filter(|(_, r)| r.scheduled > 0)
            .map(|(e, r)| {
                (
                    e.name.clone(),
                    IntervalOperation {
                        completed: r.succeeded + r.failures(),
                        errors: r.errors(),
                        dropped: r.dropped,
                        latency: Encoded::new(&r.latency),
                    },
                )
            })
            .collect(),
    }
}

/// Runs the plan on the caller's runtime until its window ends or `shutdown` is cancelled (then
/// the partial results are returned with `interrupted` set). `on_tick` is called once a second.
pub async fn run(
    plan: &Plan,
    entries: Vec<Entry>,
    shutdown: CancellationToken,
    on_tick: impl FnMut(&Tick),
) -> Outcome {
    let lane = Lane {
        handle: tokio::runtime::Handle::current(),
        entries,
    };
    run_on(plan, vec![lane], shutdown, on_tick).await
}

/// [`run`] with the workers spread over `lanes` (worker `w` on lane `w mod lanes`); the
/// collector stays on the caller's runtime.
pub async fn run_on(
    plan: &Plan,
    lanes: Vec<Lane>,
    shutdown: CancellationToken,
    mut on_tick: impl FnMut(&Tick),
) -> Outcome {
    assert!(!lanes.is_empty(), "a run has a lane");
    let entries = &lanes[0].entries;
    assert!(!entries.is_empty(), "a mix has operations");
    assert!(
        lanes.iter().all(|l| l.entries.len() == entries.len()),
        "every lane has the mix's operations"
    );
    let ops = entries.len();
    let cumulative = cumulative(entries.iter().map(|e| e.weight));
    let t0 = plan.start.unwrap_or_else(Instant::now);
    // Workers stop on this token, which only the collector cancels (after noting the moment).
    let stop = CancellationToken::new();
    let handles: Vec<tokio::runtime::Handle> = lanes.iter().map(|l| l.handle.clone()).collect();
    let shared = Arc::new(Shared {
        plan: plan.clone(),
        lanes: lanes.into_iter().map(|l| l.entries).collect(),
        cumulative,
        t0,
        stop: stop.clone(),
        pacing: Budget::new(),
    });
    let window = plan.duration;
    let (workers, open) = match plan.pacing {
        Pacing::Open { rate, arrivals } => {
            let schedule =
                Schedule::new(rate, arrivals, plan.seed).shaped(plan.profile, plan.warmup, window);
            (
                plan.concurrency.max(1),
                Some(Arc::new(Mutex::new((schedule, 0u64)))),
            )
        }
        Pacing::Closed { users, .. } => (users.max(1) as usize, None),
    };
    // Worker numbers: the open model's workers are this generator's own; the closed model's are
    // the run's users, of which this shard runs its share.
    let ids: Vec<u64> = match open {
        Some(_) => (0..workers as u64).collect(),
        None => (0..workers as u64)
            .filter(|&u| plan.shard.owns(u))
            .collect(),
    };
    let slots: Vec<Arc<Mutex<Slot>>> = ids
        .iter()
        .map(|_| Arc::new(Mutex::new(Slot::new(ops))))
        .collect();
    let mut spares: Vec<Slot> = ids.iter().map(|_| Slot::new(ops)).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (local, (slot, &w)) in slots.iter().zip(&ids).enumerate() {
        let w = w as usize;
        let source = match (&open, plan.pacing) {
            (Some(s), _) => Source::Open(s.clone()),
            (None, Pacing::Closed { users, think }) => Source::Closed {
                worker: w as u64,
                n: 0,
                think,
                start_at: match closed_start(plan.profile, w, users, window) {
                    // Users in from the start also run the warmup.
                    Duration::ZERO => t0,
                    later => t0 + plan.warmup + later,
                },
            },
            (None, Pacing::Open { .. }) => unreachable!("open pacing has a schedule"),
        };
        let lane = local % handles.len();
        tasks.spawn_on(
            worker(shared.clone(), lane, slot.clone(), source),
            &handles[lane],
        );
    }

    let mut totals: Vec<Vec<Recorder>> = (0..ops)
        .map(|_| (0..TIER_SLOTS).map(|_| Recorder::default()).collect())
        .collect();
    let mut lag = results::histogram::empty();
    let mut series = Series {
        done: Vec::new(),
        open: None,
    };
    let mut pacing = PacingCost::default();
    let mut add_cost = |c: PacingCost| {
        pacing.waits += c.waits;
        pacing.spun += c.spun;
    };
    let measured_start = t0 + plan.warmup;
    let mut ticker = tokio::time::interval_at(t0 + Duration::from_secs(1), Duration::from_secs(1));
    let mut interrupted_at = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let now = Instant::now();
                let (interval, lag_max) = drain(&slots, &mut spares, &mut totals, &mut lag, ops);
                let t = if now >= measured_start {
                    now.duration_since(measured_start).as_secs_f64()
                } else {
                    -measured_start.duration_since(now).as_secs_f64()
                };
                on_tick(&tick(t, &interval, lag_max, plan, window));
                if t > 0.0 {
                    series.add(t.round() as u32, interval, &shared.lanes[0]);
                }
            }
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok(c)) => add_cost(c),
                // Operations' panics are caught in the worker; this would be the engine's own.
                Some(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            },
            _ = shutdown.cancelled(), if interrupted_at.is_none() => {
                interrupted_at = Some(Instant::now());
                stop.cancel();
                // In-flight operations get a moment to finish; the rest are abandoned uncounted.
                let grace = tokio::time::sleep(Duration::from_secs(2));
                tokio::pin!(grace);
                loop {
                    tokio::select! {
                        j = tasks.join_next() => match j {
                            None => break,
                            Some(Ok(c)) => add_cost(c),
                            Some(Err(_)) => {}
                        },
                        _ = &mut grace => { tasks.abort_all(); while tasks.join_next().await.is_some() {} break }
                    }
                }
                break;
            }
        }
    }
    let (last, _) = drain(&slots, &mut spares, &mut totals, &mut lag, ops);
    let end = interrupted_at
        .unwrap_or_else(Instant::now)
        .min(shared.end());
    let measured = end.saturating_duration_since(measured_start);
    let t = measured.as_secs_f64().ceil() as u32;
    series.add(t.max(1), last, &shared.lanes[0]);
    Outcome {
        totals,
        lag,
        intervals: series.finish(&shared.lanes[0]),
        measured,
        interrupted: interrupted_at.is_some(),
        pacing,
    }
}

fn tick(t: f64, interval: &[Recorder], lag_max: u64, plan: &Plan, window: Duration) -> Tick {
    let mut all = Recorder::default();
    for r in interval {
        all.merge(r);
    }
    Tick {
        t,
        completed: all.succeeded + all.failures(),
        errors: all.errors(),
        dropped: all.dropped,
        p99_us: if all.latency.is_empty() {
            0
        } else {
            all.latency.value_at_quantile(0.99)
        },
        lag_max_us: lag_max,
        target_rate: match plan.pacing {
            Pacing::Open { rate, .. } => Some(
                rate * plan
                    .profile
                    .level(Duration::from_secs_f64(t.max(0.0)), window),
            ),
            Pacing::Closed { .. } => None,
        },
    }
}

/// When closed-model user `w` of `users` starts (after the warmup): as soon as the profile's
/// level lets that many users in. With a constant profile every user starts at once.
fn closed_start(profile: Profile, w: usize, users: u32, window: Duration) -> Duration {
    let mut t = Duration::ZERO;
    while t < window {
        if (profile.level(t, window) * users as f64).ceil() as usize > w {
            return t;
        }
        t += Duration::from_millis(10);
    }
    window
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::failure::Failure;
    use crate::operation::OpFuture;
    use crate::pacing::Arrivals;

    /// Takes `each` per call; the `stall_at`-th call (1-based, 0 = never) takes `stall` instead.
    struct Sleeper {
        each: Duration,
        stall: Duration,
        stall_at: u64,
        calls: AtomicU64,
    }

    impl Operation for Sleeper {
        fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                call.tier = Some(TierTag::Small);
                let d = if n == self.stall_at {
                    self.stall
                } else {
                    self.each
                };
                tokio::time::sleep(d).await;
                if n.is_multiple_of(10) {
                    return Err(Failure::Business("out_of_stock"));
                }
                Ok(())
            })
        }
    }

    /// Operations exactly 1/rate apart, over `workers` workers.
    fn constant_rate(rate: f64, workers: usize) -> Plan {
        plan(
            Pacing::Open {
                rate,
                arrivals: Arrivals::Constant,
            },
            workers,
        )
    }

    /// Runs `mix` under `p` to its end (not cancelled, ticks ignored).
    async fn run_to_end(p: &Plan, mix: Vec<Entry>) -> Outcome {
        run(p, mix, CancellationToken::new(), |_| {}).await
    }

    /// A mix of one operation.
    fn single(op: Arc<dyn Operation>) -> Vec<Entry> {
        vec![Entry {
            name: "a".into(),
            weight: 1.0,
            op,
        }]
    }

    fn seconds_increase(out: &Outcome) -> bool {
        out.intervals.windows(2).all(|w| w[0].t_s < w[1].t_s)
    }

    /// Panics on every 5th call.
    struct Panicky(AtomicU64);

    impl Operation for Panicky {
        fn run<'a>(&'a self, _call: &'a mut Call) -> OpFuture<'a> {
            Box::pin(async move {
                let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
                if n.is_multiple_of(5) {
                    panic!("operation bug (a test's deliberate panic)");
                }
                Ok(())
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_operation_is_a_failure_and_its_worker_carries_on() {
        let p = constant_rate(100.0, 2);
        let out = run_to_end(&p, single(Arc::new(Panicky(AtomicU64::new(0))))).await;
        let r = out.operation(0);
        assert!(r.is_consistent());
        // Two workers, every operation of the window ran although a fifth of them panicked.
        assert_eq!(r.scheduled, 2_000);
        assert_eq!(r.dropped, 0);
        assert!(
            r.failed[&FailureClass::Panic].abs_diff(400) <= 1,
            "{:?}",
            r.failed
        );
        assert_eq!(r.succeeded + r.failed[&FailureClass::Panic], 2_000);
    }

    #[test]
    fn a_second_drained_twice_stays_one_interval() {
        let entries = single(sleeper(1, 0, 0));
        let one = || {
            let mut r = Recorder::default();
            let t = std::time::Instant::now();
            r.success(t, t, t + Duration::from_millis(2));
            vec![r]
        };
        let mut series = Series {
            done: Vec::new(),
            open: None,
        };
        series.add(1, one(), &entries);
        series.add(2, one(), &entries);
        // A late tick and the final drain, both landing in second 2; then a drain whose
        // rounded second is behind (the window's end, capped).
        series.add(2, one(), &entries);
        series.add(1, one(), &entries);
        series.add(3, vec![Recorder::default()], &entries);
        let done = series.finish(&entries);
        let seconds: Vec<u32> = done.iter().map(|i| i.t_s).collect();
        assert_eq!(seconds, [1, 2]);
        assert_eq!(done[1].operations["a"].completed, 3);
    }

    fn sleeper(each_ms: u64, stall_ms: u64, stall_at: u64) -> Arc<dyn Operation> {
        Arc::new(Sleeper {
            each: Duration::from_millis(each_ms),
            stall: Duration::from_millis(stall_ms),
            stall_at,
            calls: AtomicU64::new(0),
        })
    }

    fn plan(pacing: Pacing, concurrency: usize) -> Plan {
        Plan {
            pacing,
            profile: Profile::Constant,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(20),
            concurrency,
            seed: 7,
            timeout: Duration::from_secs(10),
            max_lag: Duration::from_secs(5),
            timer: Timer::Runtime,
            shard: Shard::WHOLE,
            start: None,
        }
    }

    fn entries(a: Arc<dyn Operation>, b: Arc<dyn Operation>) -> Vec<Entry> {
        vec![
            Entry {
                name: "a".into(),
                weight: 3.0,
                op: a,
            },
            Entry {
                name: "b".into(),
                weight: 1.0,
                op: b,
            },
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn open_model_keeps_the_rate_and_counts_add_up() {
        for arrivals in [Arrivals::Constant, Arrivals::Poisson] {
            let p = plan(
                Pacing::Open {
                    rate: 500.0,
                    arrivals,
                },
                8,
            );
            let mut ticks = 0;
            let out = run(
                &p,
                entries(sleeper(3, 0, 0), sleeper(5, 0, 0)),
                CancellationToken::new(),
                |_| ticks += 1,
            )
            .await;
            let (a, b) = (out.operation(0), out.operation(1));
            let scheduled = a.scheduled + b.scheduled;
            let achieved = scheduled as f64 / p.duration.as_secs_f64();
            // Constant arrivals keep the rate exactly; a Poisson count varies by its square
            // root (four standard deviations allowed, whatever the seed's stream).
            let expected = 500.0 * p.duration.as_secs_f64();
            let tolerance = match arrivals {
                Arrivals::Constant => 0.01,
                Arrivals::Poisson => 4.0 / expected.sqrt(),
            };
            assert!(
                (achieved / 500.0 - 1.0).abs() < tolerance,
                "{arrivals:?}: {achieved}/s"
            );
            for r in [&a, &b] {
                assert!(r.is_consistent());
                assert_eq!(r.scheduled, r.succeeded + r.failures() + r.dropped);
                assert_eq!(r.dropped, 0);
            }
            // Split by weight 3:1.
            let share = a.scheduled as f64 / scheduled as f64;
            assert!((share - 0.75).abs() < 0.02, "{share}");
            // Every 10th call of an operation is a business outcome, counted as such.
            for r in [&a, &b] {
                let calls = r.succeeded + r.failures();
                assert!(
                    r.failed[&FailureClass::Business("out_of_stock".into())].abs_diff(calls / 10)
                        <= 1
                );
            }
            assert!(
                out.intervals.len() >= 20 && out.intervals.len() <= 22,
                "{}",
                out.intervals.len()
            );
            let in_intervals: u64 = out
                .intervals
                .iter()
                .flat_map(|i| i.operations.values())
                .map(|o| o.completed + o.dropped)
                .sum();
            assert_eq!(in_intervals, scheduled);
            assert!(seconds_increase(&out));
            assert!(ticks >= 21);
            assert!(!out.interrupted);
        }
    }

    /// A 1 s stall on one call with a single worker: the operations queued behind it wait, so
    /// their latency (from the intended start) includes the stall while their service time does not.
    #[tokio::test(start_paused = true)]
    async fn a_stall_shows_in_latency_not_in_service_time() {
        let p = constant_rate(100.0, 1);
        let out = run_to_end(&p, single(sleeper(1, 1_000, 1_000))).await;
        let r = out.operation(0);
        assert!(r.is_consistent());
        // ~100 operations were queued behind the stall: the top 5% waited up to a second.
        assert!(
            r.latency.value_at_quantile(0.99) > 800_000,
            "{}",
            r.latency.value_at_quantile(0.99)
        );
        assert!(r.latency.max() >= 1_000_000);
        assert!(
            r.service.value_at_quantile(0.99) < 5_000,
            "{}",
            r.service.value_at_quantile(0.99)
        );
        assert!(r.service.max() >= 1_000_000);
        assert!(r.late > 90);
        assert!(out.lag.max() > 900_000);
    }

    /// Each operation has its own timeout (one timer per worker, moved to each operation's
    /// deadline): the call that outlasts it fails with class `timeout` and the worker carries
    /// on, and calls that each stay within it never time out, however long the worker has run
    /// since its first deadline.
    #[tokio::test(start_paused = true)]
    async fn the_timeout_is_each_operations_own() {
        // One user, 600 ms per call against a 1 s timeout; the 10th call takes 2 s.
        let mut p = plan(
            Pacing::Closed {
                users: 1,
                think: Duration::ZERO,
            },
            1,
        );
        p.timeout = Duration::from_secs(1);
        let out = run_to_end(&p, single(sleeper(600, 2_000, 10))).await;
        let r = out.operation(0);
        assert!(r.is_consistent());
        assert_eq!(
            r.failed.get(&FailureClass::Timeout),
            Some(&1),
            "{:?}",
            r.failed
        );
        // 20 s of 600 ms calls, one of them cut at 1 s.
        assert!(r.succeeded + r.failures() >= 30, "{r:?}");
        assert!(r.service.max() >= 1_000_000 && r.service.max() < 1_100_000);
    }

    #[tokio::test(start_paused = true)]
    async fn an_overloaded_target_drops_and_says_so() {
        // One worker, 20 ms per call, 100 calls per second wanted: at most 50/s can start.
        let mut p = constant_rate(100.0, 1);
        p.max_lag = Duration::from_secs(1);
        let mut dropped_seen = 0;
        let out = run(
            &p,
            single(sleeper(20, 0, 0)),
            CancellationToken::new(),
            |t| dropped_seen += t.dropped,
        )
        .await;
        let r = out.operation(0);
        assert!(r.is_consistent());
        assert!(r.dropped > 500, "{}", r.dropped);
        assert!(r.succeeded + r.failures() < 1_100);
        assert_eq!(r.scheduled, 2_000);
        assert!(dropped_seen > 0);
    }

    #[tokio::test(start_paused = true)]
    async fn closed_model_users_think_and_the_same_seed_gives_the_same_sequence() {
        let p = plan(
            Pacing::Closed {
                users: 4,
                think: Duration::from_millis(20),
            },
            4,
        );
        let out = run_to_end(&p, entries(sleeper(5, 0, 0), sleeper(5, 0, 0))).await;
        let n = out.operation(0).scheduled + out.operation(1).scheduled;
        // 4 users, one operation per 25 ms each, for 20 s: 3,200 (±1 per user at the edges).
        assert!((3_190..=3_210).contains(&n), "{n}");
        let again = run_to_end(&p, entries(sleeper(5, 0, 0), sleeper(5, 0, 0))).await;
        assert_eq!(out.operation(0).scheduled, again.operation(0).scheduled);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_returns_partial_results() {
        let p = constant_rate(200.0, 4);
        let token = CancellationToken::new();
        let cancel = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(7)).await;
            cancel.cancel();
        });
        let out = run(&p, single(sleeper(2, 0, 0)), token, |_| {}).await;
        assert!(out.interrupted);
        assert!(seconds_increase(&out));
        let r = out.operation(0);
        assert!(r.is_consistent());
        assert!((990..=1_010).contains(&r.scheduled), "{}", r.scheduled);
        assert!((out.measured.as_secs_f64() - 5.0).abs() < 0.1);
    }
}
