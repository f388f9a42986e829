//! Exact merge of the results of several load generators that ran the same mix against the same
//! data at the same time: histograms are added bucket by bucket (never percentiles averaged),
//! counts summed, per-second intervals aligned by their second, and the verdict judged again on
//! the merged figures.

use std::collections::BTreeMap;

use crate::histogram::{self, Encoded};
use crate::load::Kind;
use crate::run::{
    Interval, IntervalOperation, LoadGenerator, OperationResult, RunResults, RunVerdict,
    ScheduleSummary, TierResult,
};
use crate::shard::{self, ShardRun};
use crate::slo;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Incompatible(String),
    #[error(transparent)]
    Histogram(#[from] histogram::Error),
}

/// `parts`: (a name for messages, its results). At least two, or the one shard of a run split
/// in one.
pub fn merge(parts: &[(String, RunResults)]) -> Result<RunResults, Error> {
    let [(first_name, first), ..] = parts else {
        return Err(Error::Incompatible("nothing to merge".into()));
    };
    for (name, r) in &parts[1..] {
        let refuse = |what: &str, a: &str, b: &str| {
            Error::Incompatible(format!(
                "{name} ran {what} {b} but {first_name} ran {a}: only runs of the same mix against the same data merge"
            ))
        };
        if r.kind != Kind::Run || first.kind != Kind::Run {
            return Err(Error::Incompatible(format!(
                "{name}: only `run` results merge (a capacity search's steps are not one load)"
            )));
        }
        if r.config.mix != first.config.mix {
            return Err(refuse("mix", &first.config.mix, &r.config.mix));
        }
        if r.environment.data_fingerprint != first.environment.data_fingerprint {
            return Err(refuse(
                "data",
                &first.environment.data_fingerprint,
                &r.environment.data_fingerprint,
            ));
        }
    }
    let sharded = shards(parts)?;
    // Shards in shard order, so the merged file lists its generators 0, 1, 2…
    let mut all: Vec<&RunResults> = parts.iter().map(|(_, r)| r).collect();
    all.sort_by_key(|r| r.shard.as_ref().map(|s| s.shard.index));
    let mut merged = first.clone();
    merged.shard = None;
    merged.operations = operations(&all)?;
    merged.tiers = tiers(&all)?;
    merged.intervals = intervals(&all)?;
    merged.schedule = schedule(&all)?;
    merged.measured_s = all.iter().map(|r| r.measured_s).fold(0.0, f64::max);
    merged.interrupted = all.iter().any(|r| r.interrupted);
    merged.started_at = all
        .iter()
        .map(|r| r.started_at.clone())
        .min()
        .unwrap_or_default();
    merged.finished_at = all
        .iter()
        .map(|r| r.finished_at.clone())
        .max()
        .unwrap_or_default();
    if !sharded {
        // Independent generators, each at its own rate: the load was their sum. A sharded run's
        // shards each recorded the whole run's rate and users (and each ran its share).
        merged.config.rate = all.iter().map(|r| r.config.rate).sum();
        merged.config.users = all.iter().map(|r| r.config.users).sum();
    }
    merged.config.concurrency = all.iter().map(|r| r.config.concurrency).sum();
    merged.verdict = RunVerdict::of(&merged.operations);
    merged.merged_from = all
        .iter()
        .flat_map(|r| {
            if r.merged_from.is_empty() {
                vec![LoadGenerator {
                    hostname: r.environment.machine.hostname.clone(),
                    started_at: r.started_at.clone(),
                    git_revision: r.environment.git_revision.clone(),
                    scheduled: r.schedule.scheduled,
                    target_rate: r.schedule.target_rate,
                    achieved_rate: Some(r.schedule.achieved_rate),
                    keeping_up: Some(r.schedule.keeping_up),
                    shard: r.shard.clone(),
                }]
            } else {
                r.merged_from.clone()
            }
        })
        .collect();
    Ok(merged)
}

/// Whether `parts` are the shards of one split run, checked: either none is a shard, or every
/// part is one, all of one run id, each made from the configuration it records, each shard
/// once and none missing.
fn shards(parts: &[(String, RunResults)]) -> Result<bool, Error> {
    let refuse = |why: String| Err(Error::Incompatible(why));
    let tagged: Vec<(&str, &ShardRun)> = parts
        .iter()
        .filter_map(|(name, r)| r.shard.as_ref().map(|s| (name.as_str(), s)))
        .collect();
    if tagged.is_empty() {
        return Ok(false);
    }
    if let Some((name, _)) = parts.iter().find(|(_, r)| r.shard.is_none()) {
        return refuse(format!(
            "{name} is not a shard (it ran without --shard) but the others are: merge a run's shards together, or separate runs together"
        ));
    }
    // The run most parts belong to is the run; the others are foreign.
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, s) in &tagged {
        *votes.entry(s.run_id.as_str()).or_default() += 1;
    }
    let run = votes
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(id, _)| *id)
        .expect("at least one shard");
    if let Some((name, s)) = tagged.iter().find(|(_, s)| s.run_id != run) {
        return refuse(format!(
            "{name} is shard {} of run {}, not of run {run} like the others (another mix, rate, seed, start time or data): remove it",
            s.shard, s.run_id
        ));
    }
    for (name, r) in parts {
        let s = r.shard.as_ref().expect("every part is a shard");
        if shard::run_id(r, s.shard.count, &s.start_at) != s.run_id {
            return refuse(format!(
                "{name}: its configuration is not the one its run id {} was made from (edited, or written by another shopbench): rerun that shard",
                s.run_id
            ));
        }
    }
    let count = tagged[0].1.shard.count;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (name, s) in &tagged {
        if let Some(other) = seen.insert(s.shard.index, name) {
            return refuse(format!(
                "{other} and {name} are both shard {} of run {run}: keep one",
                s.shard
            ));
        }
    }
    if let Some(missing) = (0..count).find(|i| !seen.contains_key(i)) {
        return refuse(format!(
            "shard {missing}/{count} of run {run} is missing (found {}): wait for it to finish, or rerun it with --shard {missing}/{count} and the same --start-at",
            seen.values().copied().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(true)
}

fn sum_maps<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn operations(all: &[&RunResults]) -> Result<Vec<OperationResult>, Error> {
    // Operations in first appearance order, so the merged report lists them as the runs did.
    let mut names: Vec<&str> = Vec::new();
    for r in all {
        for op in &r.operations {
            if !names.contains(&op.name.as_str()) {
                names.push(&op.name);
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let same: Vec<&OperationResult> =
                all.iter().filter_map(|r| r.operation(name)).collect();
            let mut op = same[0].clone();
            for other in &same[1..] {
                op.scheduled += other.scheduled;
                op.succeeded += other.succeeded;
                op.dropped += other.dropped;
                op.late += other.late;
                op.retries += other.retries;
                sum_maps(&mut op.failed, &other.failed);
                sum_maps(&mut op.notes, &other.notes);
            }
            op.latency = histogram::merge(same.iter().map(|o| &o.latency))?;
            op.service = histogram::merge(same.iter().map(|o| &o.service))?;
            op.tiers = by_key(same.iter().map(|o| &o.tiers))?;
            op.verdict = slo::judge(&op);
            Ok(op)
        })
        .collect()
}

/// Histograms under the same key added together.
fn by_key<'a>(
    maps: impl Iterator<Item = &'a BTreeMap<String, Encoded>>,
) -> Result<BTreeMap<String, Encoded>, Error> {
    let mut grouped: BTreeMap<String, Vec<&Encoded>> = BTreeMap::new();
    for map in maps {
        for (k, h) in map {
            grouped.entry(k.clone()).or_default().push(h);
        }
    }
    grouped
        .into_iter()
        .map(|(k, hs)| Ok((k, histogram::merge(hs)?)))
        .collect()
}

fn tiers(all: &[&RunResults]) -> Result<Vec<TierResult>, Error> {
    let mut grouped: BTreeMap<String, (u64, Vec<&Encoded>)> = BTreeMap::new();
    for r in all {
        for t in &r.tiers {
            let entry = grouped.entry(t.tier.clone()).or_default();
            entry.0 += t.operations;
            entry.1.push(&t.latency);
        }
    }
    grouped
        .into_iter()
        .map(|(tier, (operations, hs))| {
            Ok(TierResult {
                tier,
                operations,
                latency: histogram::merge(hs)?,
            })
        })
        .collect()
}

fn intervals(all: &[&RunResults]) -> Result<Vec<Interval>, Error> {
    let mut by_second: BTreeMap<u32, BTreeMap<String, Vec<&IntervalOperation>>> = BTreeMap::new();
    for r in all {
        for i in &r.intervals {
            let second = by_second.entry(i.t_s).or_default();
            for (name, op) in &i.operations {
                second.entry(name.clone()).or_default().push(op);
            }
        }
    }
    by_second
        .into_iter()
        .map(|(t_s, ops)| {
            let operations = ops
                .into_iter()
                .map(|(name, parts)| {
                    Ok((
                        name,
                        IntervalOperation {
                            completed: parts.iter().map(|p| p.completed).sum(),
                            errors: parts.iter().map(|p| p.errors).sum(),
                            dropped: parts.iter().map(|p| p.dropped).sum(),
                            latency: histogram::merge(parts.iter().map(|p| &p.latency))?,
                        },
                    ))
                })
                .collect::<Result<_, Error>>()?;
            Ok(Interval { t_s, operations })
        })
        .collect()
}

fn schedule(all: &[&RunResults]) -> Result<ScheduleSummary, Error> {
    let s: Vec<&ScheduleSummary> = all.iter().map(|r| &r.schedule).collect();
    let keeping_up = s.iter().all(|x| x.keeping_up);
    let notes: Vec<String> = s
        .iter()
        .enumerate()
        .filter(|(_, x)| !x.keeping_up)
        .map(|(i, x)| format!("load generator {}: {}", i + 1, x.note))
        .collect();
    Ok(ScheduleSummary {
        target_rate: s.iter().map(|x| x.target_rate).sum(),
        achieved_rate: s.iter().map(|x| x.achieved_rate).sum(),
        scheduled: s.iter().map(|x| x.scheduled).sum(),
        dropped: s.iter().map(|x| x.dropped).sum(),
        late: s.iter().map(|x| x.late).sum(),
        lag: histogram::merge(s.iter().map(|x| &x.lag))?,
        keeping_up,
        // Weighted by each generator's scheduled operations; known only if every one says.
        pacing_us_per_op: s
            .iter()
            .map(|x| x.pacing_us_per_op.map(|p| p * x.scheduled as f64))
            .sum::<Option<f64>>()
            .map(|total| total / s.iter().map(|x| x.scheduled).sum::<u64>().max(1) as f64),
        note: if keeping_up {
            format!("all {} load generators kept to their schedules", s.len())
        } else {
            notes.join("; ")
        },
    })
}
