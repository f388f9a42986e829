//! `report.html`: the verdict first, then the figures over time, the spectrum, failures, the
//! schedule, tenant tiers, capacity, the database side and the provenance (`provenance.rs`).

use std::collections::BTreeMap;

use super::page::{Cell, Kind, Page, Table};
use super::provenance;
use crate::format::{count, ms, ms_f, pct, rate};
use crate::plot;
use crate::series;
use crate::summary;
use results::run::{OperationResult, RunResults};
use results::slo::{self, Figure, Status};

pub fn render(r: &RunResults) -> Result<String, plot::Error> {
    let mut page = Page::default();
    let title = format!(
        "shopbench {}: {} mix, {} dataset",
        r.kind, r.config.mix, r.environment.scale
    );
    verdict(&mut page, r);
    over_time(&mut page, r)?;
    spectrum(&mut page, r)?;
    failures(&mut page, r)?;
    schedule(&mut page, r);
    tiers(&mut page, r);
    if r.capacity.is_some() {
        capacity(&mut page, r)?;
    }
    provenance::database(&mut page, r);
    provenance::provenance(&mut page, r);
    Ok(page.render(&title))
}

fn status_cell(status: Status) -> Cell {
    match status {
        Status::Pass => Cell::new("pass", Kind::Good),
        Status::Fail => Cell::new("FAIL", Kind::Bad),
        Status::NoData => Cell::new("no data", Kind::Quiet),
    }
}

fn verdict(page: &mut Page, r: &RunResults) {
    page.section("verdict", "Verdict");
    let (text, kind) = if r.verdict.pass {
        ("PASS: every operation met its targets", Kind::Good)
    } else {
        ("FAIL: some operations missed their targets", Kind::Bad)
    };
    page.banner(text, kind);
    page.para(&summary::paragraph(r));
    let mut t = Table::new(&[
        "operation",
        "p50",
        "p95",
        "p99",
        "p99.9",
        "max",
        "p50",
        "p95",
        "p99",
        "p99.9",
        "max",
        "ops/s",
        "error rate",
        "p95",
        "p99",
        "errors",
        "verdict",
    ])
    .groups(&[
        ("", 1),
        ("latency from intended start (ms)", 5),
        ("service time (ms)", 5),
        ("", 2),
        ("target", 3),
        ("", 1),
    ]);
    for op in &r.operations {
        let l = &op.latency;
        let s = &op.service;
        // Marked where the verdict says a target broke; nothing is judged here.
        let judged = |figure| match op.verdict.check(figure) {
            Some(c) if !c.pass => Kind::Bad,
            _ => Kind::Number,
        };
        let rate_ = slo::error_rate(op);
        t.row(vec![
            Cell::text(&op.name),
            Cell::num(ms(l.p50_us)),
            Cell::new(ms(l.p95_us), judged(Figure::P95)),
            Cell::new(ms(l.p99_us), judged(Figure::P99)),
            Cell::num(ms(l.p999_us)),
            Cell::num(ms(l.max_us)),
            Cell::num(ms(s.p50_us)),
            Cell::num(ms(s.p95_us)),
            Cell::num(ms(s.p99_us)),
            Cell::num(ms(s.p999_us)),
            Cell::num(ms(s.max_us)),
            Cell::num(rate(l.count as f64 / r.measured_s.max(1e-9))),
            Cell::new(pct(rate_), judged(Figure::ErrorRate)),
            Cell::num(ms_f(op.slo.p95_ms)),
            Cell::num(ms_f(op.slo.p99_ms)),
            Cell::num(pct(op.slo.max_error_rate)),
            status_cell(op.verdict.status),
        ]);
    }
    page.table(&t);
    page.para(
        "Latency is measured from each operation's intended start on the schedule, so time spent \
         waiting behind a stalled system counts (no coordinated omission); service time is from \
         the actual start. Error rate counts system failures and dropped operations, not business \
         outcomes such as a declined payment.",
    );
    if !r.verdict.failures.is_empty() {
        page.heading("Targets missed");
        let listed: Vec<String> = r.verdict.failures.iter().map(|b| b.to_string()).collect();
        page.list(&listed);
    }
}

fn over_time(page: &mut Page, r: &RunResults) -> Result<(), plot::Error> {
    page.section("over-time", "Over time");
    if r.intervals.is_empty() {
        page.para("No interval was recorded (the run measured nothing).");
        return Ok(());
    }
    page.figure(
        &plot::throughput(&series::totals(&r.intervals))?,
        "All operations, per second of the measured window.",
    );
    let by_op = series::by_operation(&r.intervals)?;
    let mut figures = Vec::new();
    for op in &r.operations {
        if let Some(points) = by_op.get(&op.name) {
            figures.push(plot::latency(&op.name, points, &op.slo, r.measured_s)?);
        }
    }
    page.heading("Latency percentiles over time, per operation");
    page.para(
        "Green p50, orange p95, red p99, from the intended start, per second of the measured \
         window; dashed: the operation's p99 target when it is within the chart's range.",
    );
    page.grid(&figures);
    Ok(())
}

fn spectrum(page: &mut Page, r: &RunResults) -> Result<(), plot::Error> {
    page.section("spectrum", "Percentile spectrum");
    let lines: Vec<(&str, usize, &results::Encoded)> = r
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| (op.name.as_str(), i, &op.latency))
        .collect();
    page.figure(
        &plot::spectrum(&lines)?,
        "Each line is one operation's whole-run latency histogram: the further right, the rarer \
         the latency (90%, 99%, 99.9% …).",
    );
    Ok(())
}

fn failures(page: &mut Page, r: &RunResults) -> Result<(), plot::Error> {
    page.section("failures", "Errors by class");
    // Class text → (count, business outcome).
    let mut totals: BTreeMap<String, (u64, bool)> = BTreeMap::new();
    let mut t = Table::new(&["operation", "class", "count", "share of scheduled", "kind"]);
    for op in &r.operations {
        let rows = op
            .failed
            .iter()
            .map(|(class, &n)| (class.to_string(), n, class.is_business()))
            .chain((op.dropped > 0).then(|| ("dropped".to_string(), op.dropped, false)));
        for (class, n, business) in rows {
            t.row(failure_row(op, &class, n, business));
            totals.entry(class).or_insert((0, business)).0 += n;
        }
    }
    if t.is_empty() {
        page.para("No operation failed, was dropped or ended in a business outcome.");
    } else {
        let mut classes: Vec<(String, u64, bool)> = totals
            .into_iter()
            .map(|(c, (n, business))| (c, n, business))
            .collect();
        classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        page.figure(
            &plot::by_class(&classes)?,
            "Failures of all operations together.",
        );
        page.table(&t);
    }
    let mut notes = Table::new(&[
        "operation",
        "retried (not failures)",
        "other outcomes counted",
    ]);
    for op in &r.operations {
        if op.retries > 0 || !op.notes.is_empty() {
            let listed: Vec<String> = op
                .notes
                .iter()
                .map(|(k, v)| format!("{k}: {}", count(*v)))
                .collect();
            notes.row(vec![
                Cell::text(&op.name),
                Cell::num(count(op.retries)),
                Cell::text(listed.join(", ")),
            ]);
        }
    }
    if !notes.is_empty() {
        page.heading("Retries and other outcomes");
        page.table(&notes);
    }
    Ok(())
}

fn failure_row(op: &OperationResult, class: &str, n: u64, business: bool) -> Vec<Cell> {
    vec![
        Cell::text(&op.name),
        Cell::new(class, Kind::Code),
        Cell::num(count(n)),
        Cell::num(pct(n as f64 / op.scheduled.max(1) as f64)),
        if business {
            Cell::new("business outcome", Kind::Quiet)
        } else {
            Cell::new("system failure", Kind::Bad)
        },
    ]
}

fn schedule(page: &mut Page, r: &RunResults) {
    page.section("schedule", "Schedule");
    let s = &r.schedule;
    if s.keeping_up {
        page.banner(&s.note, Kind::Good);
    } else {
        page.banner(&s.note, Kind::Bad);
    }
    let mut t = Table::new(&["figure", "value"]);
    let rows = [
        (
            "target rate (operations/s)",
            s.target_rate
                .map(rate)
                .unwrap_or_else(|| "closed model".into()),
        ),
        ("achieved rate (operations/s)", rate(s.achieved_rate)),
        ("scheduled", count(s.scheduled)),
        ("dropped (too late to start)", count(s.dropped)),
        ("started more than 10 ms late", count(s.late)),
        (
            "start lag p50 / p99 / max (ms)",
            format!(
                "{} / {} / {}",
                ms(s.lag.p50_us),
                ms(s.lag.p99_us),
                ms(s.lag.max_us)
            ),
        ),
    ];
    for (k, v) in rows {
        t.row(vec![Cell::text(k), Cell::num(v)]);
    }
    if let Some(us) = s.pacing_us_per_op {
        t.row(vec![
            Cell::text("pacing: waited out before intended starts (µs per operation)"),
            Cell::num(format!("{us:.1}")),
        ]);
    }
    page.table(&t);
}

fn tiers(page: &mut Page, r: &RunResults) {
    page.section("tiers", "Tenant tiers");
    if r.tiers.is_empty() {
        page.para("No operation was tagged with a tenant tier.");
        return;
    }
    let mut t = Table::new(&["tier", "operations", "p50", "p95", "p99", "p99.9", "max"]);
    for tier in &r.tiers {
        let l = &tier.latency;
        t.row(vec![
            Cell::text(&tier.tier),
            Cell::num(count(tier.operations)),
            Cell::num(ms(l.p50_us)),
            Cell::num(ms(l.p95_us)),
            Cell::num(ms(l.p99_us)),
            Cell::num(ms(l.p999_us)),
            Cell::num(ms(l.max_us)),
        ]);
    }
    page.para("Latency from the intended start (ms), all operations of each tier's tenants.");
    page.table(&t);
    let names: Vec<&str> = r.tiers.iter().map(|t| t.tier.as_str()).collect();
    let mut head = vec!["operation"];
    head.extend(names.iter().copied());
    let mut by_op = Table::new(&head);
    for op in r.operations.iter().filter(|o| !o.tiers.is_empty()) {
        let mut row = vec![Cell::text(&op.name)];
        for name in &names {
            row.push(Cell::num(
                op.tiers
                    .get(*name)
                    .filter(|h| h.count > 0)
                    .map(|h| format!("{} ({})", ms(h.p99_us), count(h.count)))
                    .unwrap_or_else(|| "–".into()),
            ));
        }
        by_op.row(row);
    }
    page.heading("p99 per operation and tier, ms (operations in brackets)");
    page.table(&by_op);
}

fn capacity(page: &mut Page, r: &RunResults) -> Result<(), plot::Error> {
    let Some(c) = &r.capacity else {
        return Ok(());
    };
    page.section("capacity", "Capacity");
    // The operation that broke first: the first reason of the lowest failing step.
    let mut failing: Vec<_> = c.steps.iter().filter(|s| !s.pass).collect();
    failing.sort_by(|a, b| a.target_rate.total_cmp(&b.target_rate));
    let limit_op = failing
        .first()
        .and_then(|s| s.broken.first())
        .and_then(|b| r.operation(&b.operation));
    page.figure(
        &plot::curve(c, limit_op.map(|o| (o.name.as_str(), o.slo.p99_ms)))?,
        "Each point is one step (green: every target met; red: not). The grey line is the worst \
         p99 of any operation, each judged against its own target; the blue line and the dashed \
         target are the operation that broke first; the knee is the highest step that passed.",
    );
    let mut t = Table::new(&[
        "target /s",
        "achieved /s",
        "worst p99 (ms)",
        "worst operation",
        "error rate",
        "verdict",
        "why",
    ]);
    let mut steps: Vec<_> = c.steps.iter().collect();
    steps.sort_by(|a, b| a.target_rate.total_cmp(&b.target_rate));
    for s in steps {
        t.row(vec![
            Cell::num(rate(s.target_rate)),
            Cell::num(rate(s.achieved_rate)),
            Cell::num(ms_f(s.worst_p99_ms)),
            Cell::text(&s.worst_operation),
            Cell::num(pct(s.error_rate)),
            status_cell(if s.pass { Status::Pass } else { Status::Fail }),
            Cell::text(listed(&s.broken, 3)),
        ]);
    }
    page.table(&t);
    Ok(())
}

/// The first `most` items, `; `-separated, and how many more there are.
fn listed(items: &[impl std::fmt::Display], most: usize) -> String {
    let shown: Vec<String> = items.iter().take(most).map(|i| i.to_string()).collect();
    match items.len().saturating_sub(most) {
        0 => shown.join("; "),
        more => format!("{}; and {more} more", shown.join("; ")),
    }
}
