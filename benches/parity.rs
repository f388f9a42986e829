//! Parity: the instrument's own error, measured against pgbench on identical work; the same
//! measurement as `shopbench calibrate` (`scenarios/src/calibration/`: what each side runs and
//! how), with the bench's defaults.
//!
//! Targets: latency p50 ≤ 1.10× pgbench's, p99 ≤ 1.25×, start lag p50 ≤ 50 µs and p99 ≤ 200 µs,
//! closed throughput ≥ 1.0× (`results::calibration`). Printed with PASS/FAIL; the process exits
//! 1 when one is missed.
//!
//! `cargo bench --bench parity [-- SECONDS CONNECTIONS [RATE…]]` (default 20 s, 8, and the rates
//! 50, 500 and 2000; a non-numeric rate such as `none` runs the closed model only) after
//! `shopbench seed` on the managed cluster (or with DATABASE_URL). Two client threads on each
//! side (`pgbench -j 2`), fifteen closed rounds.

use scenarios::calibration::{self, Options, Step};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let connections: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let rates: Vec<f64> = match args.get(2..) {
        Some(more) if !more.is_empty() => more.iter().filter_map(|a| a.parse().ok()).collect(),
        _ => vec![50.0, 500.0, 2_000.0],
    };
    let settings =
        platform::Settings::load(&platform::Overrides::default()).expect("shopbench's settings");
    let options = Options {
        seconds,
        connections,
        client_threads: 2,
        rates,
        rounds: 15,
        pgbench: None,
    };
    let calibration = calibration::calibrate(&settings, &options, |step| match step {
        Step::Open { rate } => eprintln!("parity: open model at {rate}/s"),
        Step::Round { number, of } => eprintln!("parity: closed round {number} of {of}"),
    })
    .await;
    match calibration {
        Ok(c) => {
            print!("{}", reports::calibration::text(&c));
            if !c.pass() {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("parity: {e}");
            std::process::exit(match e.kind() {
                platform::ErrorKind::BadInput => 2,
                platform::ErrorKind::Environment => 3,
            });
        }
    }
}
