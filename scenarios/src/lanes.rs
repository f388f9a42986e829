//! Client threads ("lanes"): the load generator's workers spread over N threads, each running a
//! current-thread tokio runtime with its own connections, as `pgbench -j` spreads its clients
//! over threads that do their own socket I/O.
//!
//! Why not tokio's multi-thread runtime: its idle workers are woken to steal work after every
//! completion, and a connection's I/O task drifts between threads, so each round trip pays
//! cross-thread wake-ups. Measured with `cargo bench --bench parity` on this project's 2-core
//! machine (point reads, closed model, 8 connections, against `pgbench -M prepared -j 2`):
//! multi-thread runtime 0.62–0.69×, one current-thread lane 0.67–0.85×, two lanes each with
//! its own pool 0.84–0.92×. A connection is opened on its lane's runtime (so its I/O task lives
//! there) and used only by that lane's workers.

use std::thread::JoinHandle;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// Running lane threads; dropping them stops the threads (their tasks and connections end).
pub struct Lanes {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Lanes {
    /// `n` threads (at least one), each with a current-thread runtime (I/O and timers enabled).
    pub fn start(n: usize) -> std::io::Result<Lanes> {
        let mut lanes = Lanes {
            handles: Vec::new(),
            stops: Vec::new(),
            threads: Vec::new(),
        };
        for i in 0..n.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            lanes.handles.push(runtime.handle().clone());
            lanes.stops.push(stop);
            lanes.threads.push(
                std::thread::Builder::new()
                    .name(format!("shopbench-lane-{i}"))
                    .spawn(move || {
                        // The runtime runs its tasks while it waits for the stop.
                        runtime.block_on(async move {
                            let _ = stopped.await;
                        });
                    })?,
            );
        }
        Ok(lanes)
    }

    /// The default: half the machine's cores (at least one), the other half left to the
    /// database when both share the machine.
    pub fn default_count() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    pub fn len(&self) -> usize {
        self.handles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }
}

impl Drop for Lanes {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_their_lane_and_the_lanes_stop_when_dropped() {
        let lanes = Lanes::start(2).unwrap();
        assert_eq!(lanes.len(), 2);
        let (tx, rx) = std::sync::mpsc::channel();
        for h in lanes.handles() {
            let tx = tx.clone();
            h.spawn(async move {
                let name = std::thread::current()
                    .name()
                    .unwrap_or_default()
                    .to_string();
                tx.send(name).unwrap();
            });
        }
        let mut names: Vec<String> = (0..2).map(|_| rx.recv().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["shopbench-lane-0", "shopbench-lane-1"]);
        drop(lanes);
    }
}
