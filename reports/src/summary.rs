//! The plain-language paragraph a capacity planner reads first: what was offered, against what
//! data on what machine, whether every target held, what was slowest, what failed, and whether
//! the load generator kept up. Plain text; each renderer escapes it.

use crate::format::{count, ms, ms_f, pct, rate, seconds};
use results::run::RunResults;
use results::slo::{self, Status};

pub fn paragraph(r: &RunResults) -> String {
    let mut s = Vec::new();
    s.push(offered(r));
    s.push(verdict(r));
    if let Some(slowest) = slowest(r) {
        s.push(slowest);
    }
    s.push(failures(r));
    s.push(schedule(r));
    if let Some(c) = capacity(r) {
        s.push(c);
    }
    if r.interrupted {
        s.push(format!(
            "The run was interrupted after {}: every figure covers only that part.",
            seconds(r.measured_s)
        ));
    }
    if !r.merged_from.is_empty() {
        s.push(generators(r));
    }
    s.join(" ")
}

/// How many generators ran, as shards of one run or independently, and which fell behind.
fn generators(r: &RunResults) -> String {
    let g = &r.merged_from;
    let behind: Vec<String> = g
        .iter()
        .enumerate()
        .filter(|(_, x)| x.keeping_up == Some(false))
        .map(|(i, x)| match &x.shard {
            Some(s) => format!("shard {}", s.shard),
            None => format!("generator {}", i + 1),
        })
        .collect();
    let how = match g.first().and_then(|x| x.shard.as_ref()) {
        Some(s) => format!(
            "{} load generators, the {} shards of run {} started together at {},",
            g.len(),
            s.shard.count,
            s.run_id,
            s.start_at
        ),
        None => format!("{} load generators", g.len()),
    };
    let kept = if behind.is_empty() {
        "every one kept to its schedule".to_string()
    } else {
        format!("{} did NOT keep to its schedule", behind.join(", "))
    };
    format!("These are the results of {how} added together (histograms merged exactly); {kept}.")
}

fn offered(r: &RunResults) -> String {
    let c = &r.config;
    let load = match (c.rate, c.users) {
        (Some(rate_), _) => format!(
            "{} operations/s offered ({} arrivals, {} profile)",
            rate(rate_),
            c.arrivals.map_or("scheduled", |a| a.name()),
            c.profile
        ),
        (None, Some(users)) => format!(
            "{users} simulated users, each thinking {} ms between operations",
            c.think_ms.unwrap_or(0.0)
        ),
        (None, None) => "an unrecorded load".into(),
    };
    let m = &r.environment.machine;
    format!(
        "The {} mix ran with {load} for {} (after a {} warm-up) against the {} dataset (data seed {}) on {} ({} CPUs, {:.0} GiB).",
        c.mix,
        seconds(r.measured_s),
        seconds(c.warmup_s),
        r.environment.scale,
        r.environment.data_seed,
        m.hostname,
        m.cpus,
        m.memory_bytes as f64 / (1u64 << 30) as f64
    )
}

fn verdict(r: &RunResults) -> String {
    let failed: Vec<_> = r
        .operations
        .iter()
        .filter(|o| o.verdict.status == Status::Fail)
        .collect();
    let no_data = r
        .operations
        .iter()
        .filter(|o| o.verdict.status == Status::NoData)
        .count();
    let judged = r.operations.len() - no_data;
    let mut text = if failed.is_empty() {
        format!("All {judged} operations met their latency and error targets.")
    } else {
        let list: Vec<String> = failed
            .iter()
            .map(|o| {
                let broken: Vec<String> = o.verdict.broken().map(|c| c.to_string()).collect();
                format!("{} ({})", o.name, broken.join("; "))
            })
            .collect();
        format!(
            "{} of {judged} operations missed their targets: {}.",
            failed.len(),
            list.join(", ")
        )
    };
    if no_data > 0 {
        text.push_str(&format!(
            " {no_data} never ran in the measured window and are not judged."
        ));
    }
    text
}

fn slowest(r: &RunResults) -> Option<String> {
    let op = r
        .operations
        .iter()
        .filter(|o| o.latency.count > 0)
        .max_by_key(|o| o.latency.p99_us)?;
    let fastest = r
        .operations
        .iter()
        .filter(|o| o.latency.count > 0)
        .min_by_key(|o| o.latency.p50_us)?;
    Some(format!(
        "The slowest operation at the 99th percentile was {} at {} ms (target {} ms); the quickest median was {} at {} ms.",
        op.name,
        ms(op.latency.p99_us),
        ms_f(op.slo.p99_ms),
        fastest.name,
        ms(fastest.latency.p50_us)
    ))
}

fn failures(r: &RunResults) -> String {
    let completed: u64 = r.operations.iter().map(|o| o.latency.count).sum();
    let errors: u64 = r.operations.iter().map(slo::errors).sum();
    let scheduled: u64 = r.operations.iter().map(|o| o.scheduled).sum();
    let mut business: Vec<(String, u64)> = Vec::new();
    for op in &r.operations {
        for (what, n) in op
            .failed
            .iter()
            .filter_map(|(c, n)| Some((c.business()?, n)))
        {
            let class = what.replace('_', " ");
            match business.iter_mut().find(|(c, _)| *c == class) {
                Some(entry) => entry.1 += n,
                None => business.push((class, *n)),
            }
        }
    }
    business.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let business_total: u64 = business.iter().map(|b| b.1).sum();
    let share = |n: u64| {
        if scheduled == 0 {
            0.0
        } else {
            n as f64 / scheduled as f64
        }
    };
    let mut text = format!(
        "{} operations completed ({} per second); {} failed for system reasons ({} of those scheduled)",
        count(completed),
        rate(completed as f64 / r.measured_s.max(1e-9)),
        count(errors),
        pct(share(errors))
    );
    if business_total > 0 {
        let top: Vec<String> = business
            .iter()
            .take(3)
            .map(|(c, n)| format!("{c} {}", count(*n)))
            .collect();
        text.push_str(&format!(
            " and {} ended in business outcomes, which are not errors ({})",
            count(business_total),
            top.join(", ")
        ));
    }
    text.push('.');
    if let Some(window) = error_window(r) {
        text.push(' ');
        text.push_str(&window);
    }
    text
}

/// When the system errors happened (the per-second series) and of which classes: a server that
/// went away shows as a window.
fn error_window(r: &RunResults) -> Option<String> {
    let seconds: Vec<u32> = r
        .intervals
        .iter()
        .filter(|i| i.operations.values().any(|o| o.errors > 0))
        .map(|i| i.t_s)
        .collect();
    let (first, last) = (*seconds.first()?, *seconds.last()?);
    let mut classes: Vec<(String, u64)> = Vec::new();
    for op in &r.operations {
        for (class, n) in op.failed.iter().filter(|(c, _)| c.business().is_none()) {
            let class = class.to_string();
            match classes.iter_mut().find(|(c, _)| *c == class) {
                Some(entry) => entry.1 += n,
                None => classes.push((class, *n)),
            }
        }
    }
    classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<String> = classes
        .iter()
        .take(3)
        .map(|(c, n)| format!("{c} {}", count(*n)))
        .collect();
    let after = r
        .intervals
        .iter()
        .filter(|i| i.t_s > last)
        .map(|i| i.operations.values().map(|o| o.completed).sum::<u64>())
        .sum::<u64>();
    Some(format!(
        "System errors came in seconds {first} to {last} of the measured window ({}){}.",
        top.join(", "),
        if after > 0 {
            format!(
                "; after it, {} operations completed without one",
                count(after)
            )
        } else {
            String::new()
        }
    ))
}

fn schedule(r: &RunResults) -> String {
    let s = &r.schedule;
    if s.keeping_up {
        format!(
            "The load generator kept to its schedule (start lag p99 {} ms), so these latencies are what users would have seen at this load.",
            ms(s.lag.p99_us)
        )
    } else {
        format!(
            "The load generator could NOT keep to its schedule: {} operations were dropped and {} started more than 10 ms late (start lag p99 {} ms), so the system (or the load generator) was saturated at this rate; latencies include the waiting.",
            count(s.dropped),
            count(s.late),
            ms(s.lag.p99_us)
        )
    }
}

fn capacity(r: &RunResults) -> Option<String> {
    let c = r.capacity.as_ref()?;
    Some(match c.sustainable_rate {
        Some(rate_) => format!(
            "Capacity: the highest arrival rate at which every operation met its targets was {} operations/s ({} steps tried){}; the detailed figures above are that step's.",
            rate(rate_),
            c.steps.len(),
            c.limit
                .as_ref()
                .map(|l| format!("; the next step failed at {l}"))
                .unwrap_or_else(|| ", and no step failed: raise --max-steps to find the limit".into())
        ),
        None => format!(
            "Capacity: no step met every target, not even the first ({} operations/s); lower --start-rate.",
            c.steps.first().map(|s| rate(s.target_rate)).unwrap_or_default()
        ),
    })
}
