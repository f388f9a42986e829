//! Real-time priority for the client threads of an open-model run, so that an operation starts
//! when its timer fires rather than when the operating system gets round to its thread.
//!
//! The alarm ([`crate::alarm`]) fires within microseconds, but a thread it wakes is scheduled
//! like any other: behind whatever runs on that core (the database's backends, other tenants'
//! processes), and Linux's fair scheduler may let the running task finish its slice first. On
//! this project's 2-core machine that put the start lag's tail at milliseconds. Measured with
//! `shopbench run --mix point-read --concurrency 8 --client-threads 2` at `small`, 15 s each, two
//! alternating pairs, start lag p50 / p99 / p99.9 (µs):
//!
//! | client threads | 50/s | 2,000/s |
//! |---|---|---|
//! | normal scheduling | 2 / 97–133 / 2,239–3,343 | 17–18 / 168–179 / 2,163–2,251 |
//! | `SCHED_FIFO`, priority 1 | 2 / 75–83 / 123–184 | 12–15 / 65–82 / 121–186 |
//!
//! So the client threads run at the lowest real-time priority (`SCHED_FIFO` 1: ahead of every
//! normally scheduled process, behind the kernel's own real-time threads) for the open model's
//! runs, where a start has a moment to keep. Nothing spins: a thread that waits sleeps, and
//! the CPU it uses is only what its operations take. The kernel's real-time throttling (by
//! default 95% of each second) bounds it whatever happens. The closed model keeps normal
//! scheduling: its starts have no schedule to keep, and a client that could always preempt the
//! server would change the balance of CPU that its throughput measures.
//!
//! Raising needs root, `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` of at least 1 (`ulimit -r`). Where
//! it is not permitted the run goes on with normal scheduling (`--priority auto`) or is refused
//! (`--priority realtime`); the results say which (`schedule.client_priority`).
//!
//! `SCHED_RESET_ON_FORK` makes threads and processes started from a raised thread (tokio's
//! blocking pool, say) start at normal priority. The calls are `sched_setscheduler(2)` through
//! `libc`, the one way to do it; a crate would wrap the same two calls.

pub use results::load::Priority;
use results::run::ClientPriority;

/// The real-time priority used: the lowest.
const REALTIME: libc::c_int = 1;

/// The calling thread to `SCHED_FIFO` (priority 1); its future children to normal scheduling.
pub fn raise_current() -> std::io::Result<()> {
    set_current(libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK, REALTIME)
}

/// The calling thread back to normal scheduling (always permitted).
pub fn lower_current() -> std::io::Result<()> {
    set_current(libc::SCHED_OTHER, 0)
}

fn set_current(policy: libc::c_int, priority: libc::c_int) -> std::io::Result<()> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is a valid sched_param for the call's duration; pid 0 is the calling
    // thread.
    match unsafe { libc::sched_setscheduler(0, policy, &param) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Whether this process may raise a thread to real-time priority (tried on a thread made for
/// the purpose, which then ends).
pub fn permitted() -> bool {
    std::thread::spawn(|| raise_current().is_ok())
        .join()
        .unwrap_or(false)
}

/// What a run's client threads got, from whether it was wanted and whether raising worked.
pub fn outcome(wanted: bool, raised: bool) -> ClientPriority {
    match (wanted, raised) {
        (false, _) => ClientPriority::Normal,
        (true, true) => ClientPriority::Realtime,
        (true, false) => ClientPriority::NotPermitted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_real_time_for_the_open_model_only() {
        assert!(Priority::Auto.wanted(true));
        assert!(!Priority::Auto.wanted(false));
        assert!(Priority::Realtime.wanted(false));
        assert!(!Priority::Normal.wanted(true));
        assert_eq!(outcome(false, true), ClientPriority::Normal);
        assert_eq!(outcome(true, false), ClientPriority::NotPermitted);
    }

    /// Raising works where permitted and is undone; a thread started by a raised thread starts
    /// at normal priority.
    #[test]
    fn a_raised_thread_is_real_time_and_its_children_are_not() {
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let (raised, child) = std::thread::spawn(move || {
            let raised = raise_current().is_ok();
            let me = policy() & !libc::SCHED_RESET_ON_FORK;
            let child = std::thread::spawn(policy).join().unwrap();
            lower_current().unwrap();
            assert_eq!(policy(), libc::SCHED_OTHER);
            (raised.then_some(me), child)
        })
        .join()
        .unwrap();
        assert_eq!(raised.is_some(), permitted());
        if let Some(me) = raised {
            assert_eq!(me, libc::SCHED_FIFO);
        }
        assert_eq!(child, libc::SCHED_OTHER);
    }
}
