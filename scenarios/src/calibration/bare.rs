//! The bare driver: `point_read`'s transaction on the engine's libpq connection alone (no
//! engine, no pool, no recording), as many threads as pgbench's, each a current-thread runtime
//! with its share of the connections, each connection looping over pgbench's picks. What the
//! closed model could reach with this driver: the engine's own cost is the rest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::usage::own_cpu;
use super::Error;
use crate::db::SET_TENANT;
use crate::pq::{Connection, Settings};

/// Operations per second and the process's CPU per operation (µs) over `seconds` after
/// `warmup`. Blocks the calling thread for the whole run.
pub fn closed(
    app_url: &str,
    picks: &[(Uuid, Uuid)],
    connections: u32,
    threads: u32,
    seconds: u64,
    warmup: Duration,
) -> Result<(f64, f64), Error> {
    let settings = Settings::new(
        app_url,
        "shopbench-calibrate-bare",
        Duration::from_secs(30),
        Duration::from_secs(10),
    )
    .map_err(|e| Error::Bare(e.to_string()))?;
    let threads = threads.clamp(1, connections.max(1)) as usize;
    let done = AtomicU64::new(0);
    let measure_from = Instant::now() + warmup;
    let end = measure_from + Duration::from_secs(seconds);
    let cpu0 = own_cpu();
    let outcomes: Vec<Result<(), Error>> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads)
            .map(|thread| {
                let (done, settings) = (&done, &settings);
                let share = (thread..connections as usize).step_by(threads).count();
                scope.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| Error::Io("starting a client thread's runtime", e))?;
                    rt.block_on(async move {
                        let loops = (0..share).map(|c| {
                            let first = thread + c * threads;
                            connection_loop(settings, picks, first, done, measure_from, end)
                        });
                        futures_util::future::try_join_all(loops).await.map(|_| ())
                    })
                })
            })
            .collect();
        running
            .into_iter()
            .map(|t| t.join().expect("a bare-driver thread does not panic"))
            .collect()
    });
    outcomes.into_iter().collect::<Result<(), Error>>()?;
    let cpu = own_cpu() - cpu0;
    let done = done.load(Ordering::Relaxed) as f64;
    // The warmup's CPU is in the total but its operations are not counted.
    let share = seconds as f64 / (seconds as f64 + warmup.as_secs_f64());
    Ok((done / seconds as f64, cpu * share / done.max(1.0) * 1e6))
}

/// One connection's loop over the picks, from `first`.
async fn connection_loop(
    settings: &Settings,
    picks: &[(Uuid, Uuid)],
    first: usize,
    done: &AtomicU64,
    measure_from: Instant,
    end: Instant,
) -> Result<(), Error> {
    let bare = |e: crate::pq::Error| Error::Bare(e.to_string());
    let mut conn = Connection::connect(settings).await.map_err(bare)?;
    let read = crate::operation::point_read_sql();
    let mut i = first;
    loop {
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        let (tenant, product) = picks[i % picks.len()];
        i += 1;
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let t: &str = tenant.hyphenated().encode_lower(&mut text);
        conn.pipeline(&[("BEGIN", &[]), (SET_TENANT, &[&t])])
            .await
            .map_err(bare)?;
        let row = conn
            .query_opt(read, &[&tenant, &product])
            .await
            .map_err(bare)?;
        if row.is_none() {
            return Err(Error::Bare(format!("product {product} not found")));
        }
        conn.execute("COMMIT", &[]).await.map_err(bare)?;
        if now >= measure_from {
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
}
