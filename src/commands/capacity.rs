//! `capacity`: steps the arrival rate (×factor per step) until an SLO fails, then reports the
//! highest rate whose every operation met its targets, with the latency-vs-throughput curve.
//! DIR/results.json holds the highest passing step's full results and the whole curve.

use anyhow::Result;

use platform::Settings;
use reports::results::{Capacity, CapacityStep, RunResults};
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
    for n in 0..args.max_steps {
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
        };
        println!(
            "step {}: {rate:.1} operations/s for {:?}",
            n + 1,
            plan.duration
        );
        let config = workload::config(&session.mix, &plan, "capacity step", &session.ctx.search);
        let started = chrono::Utc::now();
        let (outcome, database) = session
            .measure(&plan, shutdown.clone(), args.engine.quiet)
            .await;
        let results = session.results("capacity", &plan, config, started, &outcome, database);
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
        let pass = results.verdict.pass && !results.interrupted;
        steps.push(CapacityStep {
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
        });
        println!(
            "step {}: {rate:.1}/s → {:.1}/s achieved, worst p99 {worst_p99:.1} ms: {}",
            n + 1,
            results.schedule.achieved_rate,
            if pass {
                "pass".to_string()
            } else {
                format!("FAIL ({})", results.verdict.failures.join("; "))
            }
        );
        if first.is_none() {
            first = Some(results.clone());
        }
        if results.interrupted {
            limit = Some("interrupted".to_string());
            break;
        }
        if !pass {
            limit = Some(format!(
                "{rate:.1} operations/s: {}",
                results.verdict.failures.join("; ")
            ));
            break;
        }
        best = Some(results);
        rate *= args.factor;
    }
    let sustainable = best.as_ref().and_then(|b| b.config.rate);
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
