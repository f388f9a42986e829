//! A chunk's attempt watched from the server's side. While the client waits on an attempt, every
//! [`CHECK`] it reads the attempt's session in `pg_stat_activity` (the loader may read its own
//! sessions) and decides, from what the server is doing, whether to wait on:
//!
//! - working (on CPU, on I/O, on a buffer or an internal lock): wait;
//! - waiting on a lock another session holds: wait, however long (the seed's [`super::watch`]
//!   names the holder once a minute: ending that session is the user's call, not the seed's);
//! - waiting on the client while the client waits on the server, seen at two checks in a row
//!   with no round trip completed between them: a lost message, a desynchronised connection,
//!   or both sides blocked writing to each other. Nothing will ever move: the attempt is
//!   abandoned;
//! - the session gone (a backend that died, a connection cut without a word): abandoned;
//! - anything else still unanswered after [`CHUNK_TIMEOUT`]: abandoned.
//!
//! An abandoned attempt's session is terminated before the error is returned, so its open
//! transaction cannot commit behind the next attempt's back, and the error says what the server
//! was doing (state, wait event, blockers), which a plain timeout could not.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::error::{Error, Result};

/// How often the session of an unanswered attempt is looked at.
pub const CHECK: Duration = Duration::from_secs(15);

/// How long an attempt that is neither working nor waiting on a lock is given in all. A chunk is
/// the same size at every scale and loads in seconds (the largest, an orders chunk of ~40 MB with
/// its audit entries, in 2–3 s at `small` on this project's 2-core machine); ten minutes leaves
/// room for a machine far slower.
pub const CHUNK_TIMEOUT: Duration = Duration::from_secs(600);

/// Where the client side of an attempt stands: how many round trips have completed, and whether
/// it is pushing COPY data (the server then waits on the client, as it should).
#[derive(Debug, Default)]
pub struct Steps {
    done: AtomicU32,
    sending: AtomicBool,
}

impl Steps {
    /// A round trip completed.
    pub fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// The client starts (`true`) or stops pushing COPY data.
    pub fn sending(&self, on: bool) {
        self.sending.store(on, Ordering::Relaxed);
    }

    fn now(&self) -> (u32, bool) {
        (
            self.done.load(Ordering::Relaxed),
            self.sending.load(Ordering::Relaxed),
        )
    }
}

/// An attempt's session as `pg_stat_activity` shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Session {
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    pub blocked_by: Vec<i32>,
}

impl Session {
    /// The server waits on a client that is itself waiting: blocked writing to a client that is
    /// not reading (it is pushing COPY data), or, while the client is not pushing data, waiting
    /// for the next command (idle, possibly in a transaction) or the rest of one (ClientRead).
    fn stuck_on_client(&self, sending: bool) -> bool {
        match self.wait_event.as_deref() {
            Some("ClientWrite") => true,
            Some("ClientRead") => !sending,
            _ => !sending && self.state.as_deref().is_some_and(|s| s.starts_with("idle")),
        }
    }

    fn waits_on_lock(&self) -> bool {
        self.wait_event_type.as_deref() == Some("Lock")
    }
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}",
            self.state.as_deref().unwrap_or("state not visible")
        )?;
        match (&self.wait_event_type, &self.wait_event) {
            (Some(t), Some(e)) => write!(f, ", waiting on {t}/{e}")?,
            _ => write!(f, ", not waiting")?,
        }
        if !self.blocked_by.is_empty() {
            let pids: Vec<String> = self.blocked_by.iter().map(|p| p.to_string()).collect();
            write!(f, ", blocked by pid {}", pids.join(", "))?;
        }
        Ok(())
    }
}

/// What a look at the session decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Wait,
    Abandon(String),
}

/// What a look found that the next one needs: the round trips done then, and whether the server
/// was stuck on its client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    done: u32,
    stuck: bool,
}

/// The decision on a look at the session (`None`: gone), given the client's steps then (round
/// trips done, pushing data), the previous look and how long the attempt has run; with what
/// this look found, for the next.
pub fn verdict(
    now: Option<&Session>,
    (done, sending): (u32, bool),
    before: Option<Look>,
    elapsed: Duration,
) -> (Verdict, Look) {
    let stuck = now.is_some_and(|s| s.stuck_on_client(sending));
    let look = Look { done, stuck };
    let Some(session) = now else {
        return (
            Verdict::Abandon("its session is gone from the server".into()),
            look,
        );
    };
    let verdict = if session.waits_on_lock() {
        Verdict::Wait
    } else if stuck && before.is_some_and(|b| b.stuck && b.done == done) {
        Verdict::Abandon(format!(
            "the server waits on the client while the client waits on the server ({session})"
        ))
    } else if elapsed >= CHUNK_TIMEOUT {
        Verdict::Abandon(format!("its session is {session}"))
    } else {
        Verdict::Wait
    };
    (verdict, look)
}

/// The session of backend `pid`, or `None` if there is none; `Err` if it could not be read.
async fn look(pool: &PgPool, pid: i32) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(
        "SELECT state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by \
           FROM pg_stat_activity WHERE pid = $1",
    )
    .bind(pid)
    .fetch_optional(pool)
    .await
}

/// Runs `attempt`, whose session is backend `pid` and whose progress `steps` shows, until it ends
/// or is abandoned as the Layout above says; `context` names it in the error.
pub async fn watched<T>(
    pool: &PgPool,
    pid: i32,
    steps: &Steps,
    context: String,
    attempt: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let started = Instant::now();
    let mut attempt = std::pin::pin!(attempt);
    let mut before: Option<Look> = None;
    loop {
        if let Ok(done) = tokio::time::timeout(CHECK, &mut attempt).await {
            return done;
        }
        let now = steps.now();
        // The attempt goes on while its session is looked at. A look that cannot be had in time
        // (the server itself stalled, no connection to spare) decides nothing but the overall
        // bound.
        let looked = tokio::select! {
            done = &mut attempt => return done,
            looked = tokio::time::timeout(CHECK, look(pool, pid)) => looked,
        };
        let session = match looked {
            Ok(Ok(session)) => session,
            _ => {
                if started.elapsed() >= CHUNK_TIMEOUT {
                    return Err(Error::Stalled {
                        context,
                        after: started.elapsed(),
                        why: "its session could not be looked at".into(),
                    });
                }
                continue;
            }
        };
        let (decided, look) = verdict(session.as_ref(), now, before, started.elapsed());
        before = Some(look);
        match decided {
            Verdict::Wait => {}
            Verdict::Abandon(why) => {
                // So the abandoned transaction cannot commit behind the next attempt's back.
                // (Were it to, the chunk's record would make the next attempt's commit fail on
                // its key rather than load the rows twice.)
                let ended = tokio::time::timeout(
                    CHECK,
                    sqlx::query_scalar::<_, bool>("SELECT pg_terminate_backend($1)")
                        .bind(pid)
                        .fetch_one(pool),
                )
                .await;
                let ended = match ended {
                    Ok(Ok(true)) => "terminated",
                    Ok(Ok(false)) => "already gone",
                    Ok(Err(_)) | Err(_) => "not terminated (no answer)",
                };
                return Err(Error::Stalled {
                    context,
                    after: started.elapsed(),
                    why: format!("{why}; session pid {pid} {ended}"),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict on `now`, the previous look (if any) having seen that session with those
    /// steps.
    fn decide(
        now: Option<&Session>,
        steps: (u32, bool),
        before: Option<&(Option<Session>, (u32, bool))>,
        elapsed: Duration,
    ) -> Verdict {
        let before = before.map(|(s, st)| verdict(s.as_ref(), *st, None, Duration::ZERO).1);
        verdict(now, steps, before, elapsed).0
    }

    fn session(state: &str, wait: Option<(&str, &str)>) -> Session {
        Session {
            state: Some(state.into()),
            wait_event_type: wait.map(|w| w.0.into()),
            wait_event: wait.map(|w| w.1.into()),
            blocked_by: vec![],
        }
    }

    #[test]
    fn a_server_waiting_on_a_waiting_client_is_abandoned_at_the_second_look() {
        let read = session("active", Some(("Client", "ClientRead")));
        let early = Duration::from_secs(30);
        // The first look alone decides nothing: the client may have been between two messages.
        assert_eq!(decide(Some(&read), (3, false), None, early), Verdict::Wait);
        let first = (Some(read.clone()), (3, false));
        let second = decide(Some(&read), (3, false), Some(&first), early);
        assert!(
            matches!(&second, Verdict::Abandon(why) if why.contains("ClientRead")),
            "{second:?}"
        );
        // A round trip completed between the looks: progress, so wait.
        assert_eq!(
            decide(Some(&read), (4, false), Some(&first), early),
            Verdict::Wait
        );
        // The client is pushing COPY data: the server waits on it as it should, unless it is
        // blocked writing to the client (which is not reading while it pushes).
        let pushing = (Some(read.clone()), (3, true));
        assert_eq!(
            decide(Some(&read), (3, true), Some(&pushing), early),
            Verdict::Wait
        );
        let write = session("active", Some(("Client", "ClientWrite")));
        let first = (Some(write.clone()), (3, true));
        assert!(matches!(
            decide(Some(&write), (3, true), Some(&first), early),
            Verdict::Abandon(why) if why.contains("ClientWrite")
        ));
        // Idle in a transaction while the client waits for an answer: the same stall.
        let idle = session("idle in transaction", None);
        let first = (Some(idle.clone()), (5, false));
        assert!(matches!(
            decide(Some(&idle), (5, false), Some(&first), early),
            Verdict::Abandon(_)
        ));
    }

    #[test]
    fn a_lock_wait_is_waited_out_and_anything_else_is_bounded() {
        let late = CHUNK_TIMEOUT + Duration::from_secs(1);
        let mut lock = session("active", Some(("Lock", "relation")));
        lock.blocked_by = vec![4242];
        assert_eq!(decide(Some(&lock), (1, false), None, late), Verdict::Wait);
        assert_eq!(
            lock.to_string(),
            "active, waiting on Lock/relation, blocked by pid 4242"
        );
        let working = session("active", None);
        assert_eq!(
            decide(Some(&working), (1, false), None, CHECK),
            Verdict::Wait
        );
        assert!(matches!(
            decide(Some(&working), (1, false), None, late),
            Verdict::Abandon(why) if why.contains("active, not waiting")
        ));
        assert!(matches!(
            decide(None, (1, false), None, CHECK),
            Verdict::Abandon(why) if why.contains("gone")
        ));
    }
}
