//! `calibrate`: the instrument's own floor on this machine, the point-read operation beside
//! pgbench on the same statements (`scenarios::calibration`); prints the tables, writes
//! calibration.json when asked, and exits 1 when a target is missed.

use anyhow::{Context, Result};

use platform::Settings;
use scenarios::calibration::{self, Options, Step};

use super::workload;
use crate::cli::CalibrateArgs;
use crate::exit::UsageError;
use crate::Outcome;

pub async fn calibrate(settings: &Settings, args: CalibrateArgs) -> Result<Outcome> {
    if let Some(p) = &args.pgbench {
        if !p.is_file() {
            return Err(UsageError(format!(
                "--pgbench {}: no such file; give the path of pgbench, or leave it out to use the one beside the PostgreSQL binaries",
                p.display()
            ))
            .into());
        }
    }
    if let Some(dir) = &args.out {
        workload::out_dir(dir)?;
    }
    let seconds = args.duration.as_secs();
    let options = Options {
        seconds,
        connections: args.connections,
        client_threads: args.client_threads,
        rates: args.rates.clone(),
        rounds: args.rounds as usize,
        pgbench: args.pgbench.clone(),
    };
    let calibration = calibration::calibrate(settings, &options, |step| match step {
        Step::Open { rate } => eprintln!(
            "calibrate: open model at {rate}/s: shopbench, then pgbench, {seconds} s each"
        ),
        Step::Round { number, of } => {
            eprintln!("calibrate: closed model, round {number} of {of}")
        }
    })
    .await?;
    print!("{}", reports::calibration::text(&calibration));
    if let Some(dir) = &args.out {
        let path = dir.join("calibration.json");
        let json = serde_json::to_vec_pretty(&calibration).expect("the calibration serializes");
        results::file::write_atomic(&path, &json)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("calibration: {}", path.display());
    }
    Ok(match calibration.pass() {
        true => Outcome::Ok,
        false => Outcome::CheckFailed,
    })
}
