//! `run`: one mix at an arrival rate (open model) or with users (closed model); writes
//! DIR/results.json and exits 1 when an SLO fails.

use anyhow::Result;

use platform::Settings;
use results::load::Kind;
use scenarios::alarm::Timer;
use scenarios::engine::Plan;
use scenarios::pacing::{Pacing, Profile};

use super::workload;
use crate::cli::RunArgs;
use crate::Outcome;

pub async fn run(settings: &Settings, args: RunArgs) -> Result<Outcome> {
    let mix = workload::mix(&args.mix, &args.engine.slo)?;
    workload::out_dir(&args.out)?;
    let pacing = match (args.rate, args.users) {
        (Some(rate), _) => Pacing::Open {
            rate,
            arrivals: args.engine.arrivals,
        },
        (None, Some(users)) => Pacing::Closed {
            users,
            think: args.think,
        },
        (None, None) => unreachable!("clap requires --rate or --users"),
    };
    let plan = Plan {
        pacing,
        profile: Profile::of(args.profile, args.ramp_up, args.steps),
        warmup: args.warmup,
        duration: args.duration,
        concurrency: args.engine.concurrency as usize,
        seed: args.engine.seed,
        timeout: args.engine.timeout,
        max_lag: args.engine.max_lag,
        timer: Timer::HighResolution,
    };
    let connections = match pacing {
        Pacing::Open { .. } => args.engine.concurrency,
        Pacing::Closed { users, .. } => users,
    };
    let session = workload::open(mix, &args.engine, connections, settings).await?;
    println!(
        "running {} ({}) for {:?} after {:?} of warmup against the {} seed",
        session.mix.name,
        session.mix.description,
        plan.duration,
        plan.warmup,
        session.environment.scale
    );
    let started = chrono::Utc::now();
    let (outcome, database) = session
        .measure(
            &plan,
            workload::ctrl_c(),
            workload::ticker(args.engine.quiet),
        )
        .await;
    let results = session.results(
        Kind::Run,
        &plan,
        started,
        (&outcome, database),
        &workload::command_line(),
    );
    let path = results.write(&args.out)?;
    workload::print_summary(&results);
    if results.interrupted {
        println!(
            "interrupted after {:.1} s of measurement: partial results",
            results.measured_s
        );
    }
    println!("results: {}", path.display());
    Ok(if results.verdict.pass {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
