//! The engine's outcome as parts of `RunResults`: the run's configuration, operations with their
//! verdicts, the tenant-tier breakdown, and whether the schedule was kept.

use std::collections::BTreeMap;

use results::histogram::Encoded;
use results::load::Model;
use results::run::{OperationResult, RunConfig, ScheduleSummary, TierResult};
use results::slo;

use crate::context::SearchBackend;
use crate::engine::{Outcome, Plan};
use crate::mix::Mix;
use crate::operation::TierTag;
use crate::pacing::Pacing;
use crate::recorder::Recorder;

/// One result per operation of the mix, in mix order, judged against its SLO.
pub fn operations(mix: &Mix, outcome: &Outcome) -> Vec<OperationResult> {
    mix.operations
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let r = outcome.operation(i);
            debug_assert!(r.is_consistent());
            let tiers = TierTag::ALL
                .iter()
                .enumerate()
                .filter(|(t, _)| !outcome.totals[i][*t].latency.is_empty())
                .map(|(t, tag)| {
                    (
                        tag.name().to_string(),
                        Encoded::new(&outcome.totals[i][t].latency),
                    )
                })
                .collect();
            let mut op = OperationResult {
                name: m.name.clone(),
                weight: m.weight,
                slo: m.slo,
                scheduled: r.scheduled,
                succeeded: r.succeeded,
                failed: r.failed.clone(),
                dropped: r.dropped,
                late: r.late,
                retries: r.retries,
                notes: r
                    .notes
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect::<BTreeMap<_, _>>(),
                latency: Encoded::new(&r.latency),
                service: Encoded::new(&r.service),
                tiers,
                verdict: slo::Verdict {
                    status: slo::Status::NoData,
                    checks: Vec::new(),
                },
            };
            op.verdict = slo::judge(&op);
            op
        })
        .collect()
}

/// Latency per tenant tier over all operations: a large tenant's load slowing a small tenant's
/// requests shows here.
pub fn tiers(outcome: &Outcome) -> Vec<TierResult> {
    TierTag::ALL
        .iter()
        .enumerate()
        .map(|(t, tag)| {
            let mut all = Recorder::default();
            for op in &outcome.totals {
                all.merge(&op[t]);
            }
            TierResult {
                tier: tag.name().to_string(),
                operations: all.succeeded + all.failures(),
                latency: Encoded::new(&all.latency),
            }
        })
        .filter(|t| t.operations > 0)
        .collect()
}

/// Lag beyond which the run is reported as not keeping up, µs.
const BEHIND_US: u64 = 1_000_000;

pub fn schedule(plan: &Plan, outcome: &Outcome) -> ScheduleSummary {
    let mut all = Recorder::default();
    for i in 0..outcome.totals.len() {
        all.merge(&outcome.operation(i));
    }
    let started = all.succeeded + all.failures();
    let secs = outcome.measured.as_secs_f64().max(1e-9);
    let lag = Encoded::new(&outcome.lag);
    // A shard's target is its share of the run's rate.
    let target_rate = match plan.pacing {
        Pacing::Open { rate, .. } => Some(rate / plan.shard.count as f64),
        Pacing::Closed { .. } => None,
    };
    let keeping_up = all.dropped == 0 && lag.p99_us < BEHIND_US;
    let note = if keeping_up {
        match target_rate {
            Some(rate) => format!(
                "kept to the schedule: {:.1} of {rate:.1} operations/s started, lag p99 {:.1} ms",
                started as f64 / secs,
                lag.p99_us as f64 / 1e3
            ),
            None => {
                "closed model: the users' pace follows the system (latency is service time)".into()
            }
        }
    } else {
        format!(
            "NOT KEEPING UP: {} of {} operations dropped (more than {} s late or past the window's end), lag p99 {:.1} ms; the latency figures include the queueing, and the target rate was not reached",
            all.dropped,
            all.scheduled,
            plan.max_lag.as_secs_f64(),
            lag.p99_us as f64 / 1e3
        )
    };
    ScheduleSummary {
        target_rate,
        achieved_rate: started as f64 / secs,
        scheduled: all.scheduled,
        dropped: all.dropped,
        late: all.late,
        lag,
        keeping_up,
        note,
        pacing_us_per_op: (outcome.pacing.waits > 0)
            .then(|| outcome.pacing.spun.as_secs_f64() * 1e6 / outcome.pacing.waits as f64),
    }
}

/// The run's configuration as recorded; `command_line` with secrets scrubbed.
pub fn config(
    mix: &Mix,
    plan: &Plan,
    search: &SearchBackend,
    command_line: &[String],
) -> RunConfig {
    let (model, rate, arrivals, users, think_ms) = match plan.pacing {
        Pacing::Open { rate, arrivals } => (Model::Open, Some(rate), Some(arrivals), None, None),
        Pacing::Closed { users, think } => (
            Model::Closed,
            None,
            None,
            Some(users),
            Some(think.as_secs_f64() * 1e3),
        ),
    };
    RunConfig {
        mix: mix.name.clone(),
        model,
        rate,
        arrivals,
        users,
        think_ms,
        profile: plan.profile.shape(),
        profile_detail: plan.profile.describe(),
        warmup_s: plan.warmup.as_secs_f64(),
        duration_s: plan.duration.as_secs_f64(),
        concurrency: match plan.pacing {
            Pacing::Open { .. } => plan.concurrency as u32,
            Pacing::Closed { users, .. } => users,
        },
        seed: plan.seed,
        timeout_ms: plan.timeout.as_secs_f64() * 1e3,
        max_lag_ms: plan.max_lag.as_secs_f64() * 1e3,
        search_backend: search.name().into(),
        command_line: command_line
            .iter()
            .map(|a| platform::secret::scrub(a))
            .collect(),
    }
}
