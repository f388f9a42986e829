//! The engine's own code allocates nothing per successful operation: a counting allocator
//! (counting on this thread only, so tests running beside it do not count) over two runs of an
//! operation that allocates nothing itself, at two rates; the extra operations of the faster run
//! must bring no extra allocations. What the collector allocates once a second (the interval's
//! encoding) is the same in both runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use results::load::Shard;
use scenarios::alarm::Timer;
use scenarios::engine::{self, Entry, Plan};
use scenarios::failure::Failure;
use scenarios::operation::{Call, OpFuture, Operation, TierTag};
use scenarios::pacing::{Arrivals, Pacing, Profile};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is passed to the system allocator unchanged; counting touches a
// thread-local `Cell` that neither allocates nor has a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// A finished future of no size: boxing it allocates nothing.
struct Done;

impl Future for Done {
    type Output = Result<(), Failure>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(()))
    }
}

/// Succeeds at once, tagged with a tier and a counted note, as real operations are.
struct Free;

impl Operation for Free {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        call.tier = Some(TierTag::Medium);
        call.note("cache_hit");
        Box::pin(Done)
    }
}

/// Allocations on this thread during a 10 s run at `rate`, and the operations it ran.
async fn allocations(rate: f64) -> (u64, u64) {
    let plan = Plan {
        pacing: Pacing::Open {
            rate,
            arrivals: Arrivals::Poisson,
        },
        profile: Profile::Constant,
        warmup: Duration::from_secs(2),
        duration: Duration::from_secs(10),
        concurrency: 4,
        seed: 3,
        timeout: Duration::from_secs(1),
        max_lag: Duration::from_secs(1),
        timer: Timer::Runtime,
        shard: Shard::WHOLE,
        start: None,
    };
    let entries = vec![Entry {
        name: "free".into(),
        weight: 1.0,
        op: Arc::new(Free),
    }];
    let before = ALLOCATIONS.with(Cell::get);
    let out = engine::run(&plan, entries, Default::default(), |_| {}).await;
    let after = ALLOCATIONS.with(Cell::get);
    let r = out.operation(0);
    assert!(r.is_consistent());
    assert_eq!(r.succeeded + r.dropped, r.scheduled);
    assert_eq!(r.notes["cache_hit"], r.succeeded);
    (after - before, r.succeeded)
}

/// The paused clock runs everything on this thread (current-thread runtime).
#[tokio::test(start_paused = true)]
async fn no_allocation_per_successful_operation() {
    let (slow, slow_ops) = allocations(500.0).await;
    let (fast, fast_ops) = allocations(4_000.0).await;
    assert!(fast_ops > slow_ops + 30_000, "{slow_ops} vs {fast_ops}");
    let extra = fast.saturating_sub(slow);
    let per_op = extra as f64 / (fast_ops - slow_ops) as f64;
    eprintln!(
        "allocations: {slow} for {slow_ops} operations, {fast} for {fast_ops}: {per_op:.5} per extra operation"
    );
    // A few allocations may differ with the histograms' contents (their encodings); one per
    // operation would be 35,000 more.
    assert!(per_op < 0.005, "{per_op:.4} allocations per operation");
}
