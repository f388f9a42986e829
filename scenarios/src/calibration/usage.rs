//! CPU time (user + system) from `getrusage(2)`: of this process (every thread: the client
//! threads, the collector), or of its waited-for children (pgbench). Microsecond resolution,
//! where `/proc`'s tick counts have 10 ms.

fn seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes one `rusage` into memory we own; `who` is one of the two
    // constants below.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(usage.ru_utime) + s(usage.ru_stime)
}

/// CPU seconds of this process so far.
pub fn own_cpu() -> f64 {
    seconds(libc::RUSAGE_SELF)
}

/// CPU seconds of this process's children that have been waited for.
pub fn children_cpu() -> f64 {
    seconds(libc::RUSAGE_CHILDREN)
}
