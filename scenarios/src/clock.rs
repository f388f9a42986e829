//! The wall clock a sharded run's start is read on. Shards on different machines run one
//! schedule from one `--start-at`, so each turns that wall-clock moment into its own monotonic
//! instant and records how far its wall clock can be trusted: the kernel's NTP state, read with
//! `adjtimex(2)` in read-only mode (no privilege needed). Written by hand: it is one system call,
//! and no well-kept crate exposes the kernel's estimated and maximum error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use results::shard::Clock;
use tokio::time::Instant;

/// The monotonic instant of the wall-clock moment `at`, and how late we already are for it
/// (zero when `at` is still ahead).
pub fn instant_of(at: DateTime<Utc>) -> (Instant, Duration) {
    let (wall, now) = (Utc::now(), Instant::now());
    match (at - wall).to_std() {
        Ok(ahead) => (now + ahead, Duration::ZERO),
        Err(_) => {
            let late = (wall - at).to_std().unwrap_or_default();
            (now.checked_sub(late).unwrap_or(now), late)
        }
    }
}

/// The kernel's view of the wall clock.
pub fn status() -> Clock {
    // SAFETY: adjtimex with `modes` 0 only reads the kernel's state into the struct we own.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return Clock {
            source: format!(
                "system clock; its synchronization is unknown (adjtimex: {})",
                std::io::Error::last_os_error()
            ),
            synchronized: None,
            estimated_error_us: None,
            max_error_us: None,
        };
    }
    let unsynchronized = state == libc::TIME_ERROR || tx.status & libc::STA_UNSYNC != 0;
    Clock {
        source: "system clock, the kernel's NTP state (adjtimex)".into(),
        synchronized: Some(!unsynchronized),
        estimated_error_us: u64::try_from(tx.esterror).ok(),
        max_error_us: u64::try_from(tx.maxerror).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_ahead_is_waited_for_and_one_past_is_late() {
        let (at, late) = instant_of(Utc::now() + chrono::Duration::seconds(30));
        assert_eq!(late, Duration::ZERO);
        assert!(at > Instant::now());
        let (at, late) = instant_of(Utc::now() - chrono::Duration::seconds(2));
        assert!(late >= Duration::from_secs(2));
        assert!(at <= Instant::now());
    }

    #[test]
    fn the_clock_says_where_its_figures_come_from() {
        let c = status();
        assert!(c.source.contains("adjtimex"));
    }
}
