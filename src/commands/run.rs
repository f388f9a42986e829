//! `run`: one mix at an arrival rate (open model) or with users (closed model); writes
//! results.json to a folder or an S3 prefix and exits 1 when an SLO fails. With `--shard I/N`
//! (or `--shards N` in a Kubernetes Indexed Job) it runs one shard of a run split across N
//! generators, from the shared `--start-at`.

use anyhow::Result;

use platform::Settings;
use results::load::{Kind, Shard};
use results::shard::{self, ShardRun};
use scenarios::alarm::Timer;
use scenarios::clock;
use scenarios::engine::Plan;
use scenarios::pacing::{Pacing, Profile};

use super::{store, workload};
use crate::cli::RunArgs;
use crate::exit::UsageError;
use crate::Outcome;

/// The index a Kubernetes Indexed Job gives each of its pods.
const JOB_INDEX: &str = "JOB_COMPLETION_INDEX";

/// The shard this generator runs: `--shard I/N`, or `--shards N` with I from the environment.
fn shard(args: &RunArgs) -> Result<Shard> {
    match (args.shard, args.shards) {
        (Some(s), _) => Ok(s),
        (None, Some(count)) => {
            let index = std::env::var(JOB_INDEX).map_err(|_| {
                UsageError(format!(
                    "--shards {count} takes this generator's index from {JOB_INDEX} (set by a Kubernetes Indexed Job), which is not set: give --shard I/{count} instead"
                ))
            })?;
            let index: u32 = index.trim().parse().map_err(|_| {
                UsageError(format!(
                    "{JOB_INDEX}={index} is not a shard index: it must be a number from 0 to {}",
                    count - 1
                ))
            })?;
            Ok(Shard::new(index, count).map_err(|e| UsageError(format!("{JOB_INDEX}: {e}")))?)
        }
        (None, None) => Ok(Shard::WHOLE),
    }
}

pub async fn run(settings: &Settings, args: RunArgs) -> Result<Outcome> {
    let mix = workload::mix(&args.mix, &args.engine.slo)?;
    let shard = shard(&args)?;
    let sharded = args.shard.is_some() || args.shards.is_some();
    let place = match sharded {
        true => args.out.for_shard(shard),
        false => args.out.clone(),
    };
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
    if let Pacing::Closed { users, .. } = pacing {
        if users < shard.count {
            return Err(UsageError(format!(
                "--users {users} cannot be split across {} shards: give at least one user per shard",
                shard.count
            ))
            .into());
        }
    }
    let target = store::open(&place, settings).await?;
    let mut plan = Plan {
        pacing,
        profile: Profile::of(args.profile, args.ramp_up, args.steps),
        warmup: args.warmup,
        duration: args.duration,
        concurrency: args.engine.concurrency as usize,
        seed: args.engine.seed,
        timeout: args.engine.timeout,
        max_lag: args.engine.max_lag,
        timer: Timer::HighResolution,
        shard,
        start: None,
    };
    let connections = match pacing {
        Pacing::Open { .. } => args.engine.concurrency,
        // This shard's users, each with its connection.
        Pacing::Closed { users, .. } => (0..users).filter(|&u| shard.owns(u as u64)).count() as u32,
    };
    let session = workload::open(mix, &args.engine, connections, settings).await?;
    println!(
        "running {} ({}) for {:?} after {:?} of warmup against the {} seed{}",
        session.mix.name,
        session.mix.description,
        plan.duration,
        plan.warmup,
        session.environment.scale,
        match sharded {
            true => format!(", shard {shard}"),
            false => String::new(),
        }
    );
    // The shared start, read now that this generator is ready.
    let late = match args.start_at {
        Some(at) => {
            let (instant, late) = clock::instant_of(at);
            plan.start = Some(instant);
            let when = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            if late.is_zero() {
                println!("starting at {when}");
            } else {
                println!(
                    "could not start by {when}: ready {:.3} s late; this generator keeps the shared schedule, so its first operations start late and their lag counts",
                    late.as_secs_f64()
                );
            }
            Some((when, late))
        }
        None => None,
    };
    let started = chrono::Utc::now();
    let (outcome, database) = session
        .measure(
            &plan,
            workload::ctrl_c(),
            workload::ticker(args.engine.quiet),
        )
        .await;
    let mut results = session.results(
        Kind::Run,
        &plan,
        started,
        (&outcome, database),
        &workload::command_line(),
    );
    if sharded {
        let (start_at, late) = late.expect("clap requires --start-at with --shard");
        let clock = clock::status();
        if clock.synchronized == Some(false) {
            println!(
                "warning: this machine's clock is not synchronized (the kernel's NTP state): generators on other machines may have started up to its error apart{}",
                clock
                    .max_error_us
                    .map(|e| format!(" ({:.1} s)", e as f64 / 1e6))
                    .unwrap_or_default()
            );
        }
        results.shard = Some(ShardRun {
            shard,
            run_id: shard::run_id(&results, shard.count, &start_at),
            start_at,
            start_offset_ms: late.as_secs_f64() * 1e3,
            clock,
        });
    }
    let written = store::write(&target, &results, false).await?;
    workload::print_summary(&results);
    if results.interrupted {
        println!(
            "interrupted after {:.1} s of measurement: partial results",
            results.measured_s
        );
    }
    if let Some(s) = &results.shard {
        println!(
            "shard {} of run {}: {}",
            s.shard,
            s.run_id,
            if results.schedule.keeping_up {
                "kept to its schedule"
            } else {
                "did NOT keep to its schedule"
            }
        );
    }
    for w in written {
        println!("results: {w}");
    }
    Ok(if results.verdict.pass {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
