//! `capacity`: steps the arrival rate (×factor per step) until an SLO fails, then reports the
//! highest rate whose every operation met its targets, with the latency-vs-throughput curve.
//! DIR/results.json holds the highest passing step's full results and the whole curve.

use anyhow::Result;

use platform::Settings;
use reports::results::{Capacity, CapacityStep, RunResults};
use scenarios::alarm::Timer;
use scenarios::engine::Plan;
use scenarios::pacing::{Pacing, Profile};

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
    workload::check_out(&args.out)?;
    let session = workload::prepare(settings, mix, &args.engine, args.engine.concurrency).await?;
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
        let pass = results.verdict.pass && !results.interrupted;
        steps.push(curve_point(&results, rate, pass));
        let shown: Vec<&String> = results.verdict.failures.iter().take(3).collect();
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
                    shown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
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
            limit = Some("interrupted".to_string());
            break;
        }
        if pass {
            passed = Some(rate);
            best = Some(results);
        } else {
            failed = Some(rate);
            limit = Some(format!(
                "{rate:.1} operations/s: {}",
                results
                    .verdict
                    .failures
                    .first()
                    .cloned()
                    .unwrap_or_default()
            ));
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
    session: &workload::Session,
    args: &CapacityArgs,
    rate: f64,
    n: u32,
    shutdown: tokio_util::sync::CancellationToken,
) -> RunResults {
    let plan = Plan {
        pacing: Pacing::Open {
            rate,
            arrivals: workload::arrivals(args.engine.arrivals),
        },
        profile: Profile::Constant,
        warmup: args.warmup,
        duration: args.step_duration,
        concurrency: args.engine.concurrency as usize,
        seed: args.engine.seed.wrapping_add(n as u64),
        timeout: args.engine.timeout,
        max_lag: args.engine.max_lag,
        timer: Timer::HighResolution,
    };
    println!(
        "step {}: {rate:.1} operations/s for {:?}",
        n + 1,
        plan.duration
    );
    let config = workload::config(&session.mix, &plan, "capacity step", &session.ctx.search);
    let started = chrono::Utc::now();
    let (outcome, database) = session.measure(&plan, shutdown, args.engine.quiet).await;
    session.results("capacity", &plan, config, started, &outcome, database)
}

/// One point of the latency-vs-throughput curve.
fn curve_point(results: &RunResults, rate: f64, pass: bool) -> CapacityStep {
    let (worst, worst_p99) = results
        .operations
        .iter()
        .map(|o| (o.name.clone(), o.latency.p99_us as f64 / 1e3))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_default();
    let scheduled: u64 = results.operations.iter().map(|o| o.scheduled).sum();
    let bad: u64 = results
        .operations
        .iter()
        .map(|o| reports::slo::errors(o) + o.dropped)
        .sum();
    CapacityStep {
        target_rate: rate,
        achieved_rate: results.schedule.achieved_rate,
        worst_p99_ms: worst_p99,
        worst_operation: worst,
        error_rate: if scheduled > 0 {
            bad as f64 / scheduled as f64
        } else {
            0.0
        },
        pass,
        reasons: results.verdict.failures.clone(),
        p99_ms: results
            .operations
            .iter()
            .map(|o| (o.name.clone(), o.latency.p99_us as f64 / 1e3))
            .collect(),
    }
}
