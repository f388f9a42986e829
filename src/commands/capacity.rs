//! `capacity`: steps the arrival rate (×factor per step) until an SLO fails, then reports the
//! highest rate whose every operation met its targets, with the latency-vs-throughput curve.
//! DIR/results.json holds the highest passing step's full results and the whole curve.

use anyhow::Result;

use platform::Settings;
use results::load::{Kind, Shard};
use results::run::{Capacity, CapacityStep, Limit, RunResults};
use scenarios::alarm::Timer;
use scenarios::engine::Plan;
use scenarios::pacing::{Pacing, Profile};
use scenarios::session::Session;

use super::workload;
use crate::cli::CapacityArgs;
use crate::exit::UsageError;
use crate::Outcome;

pub async fn capacity(settings: &Settings, args: CapacityArgs) -> Result<Outcome> {
    if args.factor <= 1.0 {
        return Err(UsageError(format!(
            "--factor {} must be above 1 (each step multiplies the rate)",
            args.factor
        ))
        .into());
    }
    let mix = workload::mix(&args.mix, &args.engine.slo)?;
    workload::out_dir(&args.out)?;
    let session = workload::open(mix, &args.engine, args.engine.concurrency, settings).await?;
    let shutdown = workload::ctrl_c();
    let mut steps: Vec<CapacityStep> = Vec::new();
    let mut best: Option<RunResults> = None;
    let mut first: Option<RunResults> = None;
    let mut limit = None;
    let mut rate = args.start_rate;
    // Geometric steps until one fails, then `refine` bisections between the last pass and it.
    let (mut passed, mut failed): (Option<f64>, Option<f64>) = (None, None);
    let mut refinements = 0;
    for n in 0..args.max_steps + args.refine {
        if failed.is_none() && n >= args.max_steps {
            break;
        }
        let results = step(&session, &args, rate, n, shutdown.clone()).await;
        let point = CapacityStep::of(&results, rate);
        let pass = point.pass;
        steps.push(point);
        let shown: Vec<String> = results
            .verdict
            .failures
            .iter()
            .take(3)
            .map(|b| b.to_string())
            .collect();
        let more = results.verdict.failures.len().saturating_sub(3);
        println!(
            "step {}: {rate:.1}/s → {:.1}/s achieved, worst p99 {:.1} ms: {}",
            n + 1,
            results.schedule.achieved_rate,
            steps.last().map(|s| s.worst_p99_ms).unwrap_or(0.0),
            if pass {
                "pass".to_string()
            } else {
                format!(
                    "FAIL ({}{})",
                    shown.join("; "),
                    if more > 0 {
                        format!("; {more} more")
                    } else {
                        String::new()
                    }
                )
            }
        );
        if first.is_none() {
            first = Some(results.clone());
        }
        if results.interrupted {
            limit = Some(Limit::Interrupted { rate });
            break;
        }
        if pass {
            passed = Some(rate);
            best = Some(results);
        } else {
            failed = Some(rate);
            limit = results.verdict.failures.first().map(|broken| Limit::Broke {
                rate,
                broken: broken.clone(),
            });
        }
        rate = match (passed, failed) {
            (_, None) => rate * args.factor,
            (Some(p), Some(f)) if refinements < args.refine => {
                refinements += 1;
                (p + f) / 2.0
            }
            _ => break,
        };
    }
    let sustainable = passed;
    let mut results = best.or(first).expect("at least one step ran");
    results.capacity = Some(Capacity {
        steps,
        sustainable_rate: sustainable,
        limit: limit.clone(),
    });
    let path = results.write(&args.out)?;
    match sustainable {
        Some(r) => println!(
            "capacity of {}: {r:.1} operations/s sustained with every SLO met{}",
            session.mix.name,
            limit
                .map(|l| format!("; the next step failed at {l}"))
                .unwrap_or_else(|| "; no step failed (raise --max-steps)".into())
        ),
        None => println!(
            "capacity of {}: even {:.1} operations/s failed an SLO; lower --start-rate",
            session.mix.name, args.start_rate
        ),
    }
    println!("results: {}", path.display());
    Ok(if sustainable.is_some() {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

async fn step(
    session: &Session,
    args: &CapacityArgs,
    rate: f64,
    n: u32,
    shutdown: tokio_util::sync::CancellationToken,
) -> RunResults {
    let plan = Plan {
        pacing: Pacing::Open {
            rate,
            arrivals: args.engine.arrivals,
        },
        profile: Profile::Constant,
        warmup: args.warmup,
        duration: args.step_duration,
        concurrency: args.engine.concurrency as usize,
        seed: args.engine.seed.wrapping_add(n as u64),
        timeout: args.engine.timeout,
        max_lag: args.engine.max_lag,
        timer: Timer::HighResolution,
        shard: Shard::WHOLE,
        start: None,
    };
    println!(
        "step {}: {rate:.1} operations/s for {:?}",
        n + 1,
        plan.duration
    );
    let started = chrono::Utc::now();
    let (outcome, database) = session
        .measure(&plan, shutdown, workload::ticker(args.engine.quiet))
        .await;
    session.results(
        Kind::Capacity,
        &plan,
        started,
        (&outcome, database),
        &workload::command_line(),
    )
}
