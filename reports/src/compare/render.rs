//! `compare.md` and `compare.html`: the same rows, regressions first.

use super::{Change, Comparison, Row};
use crate::format::{ms_f, pct};
use crate::html::page::{Cell, Kind, Page, Table};
use crate::markdown::cell;
use results::slo::Figure;

fn headline(c: &Comparison) -> String {
    let n = c.regressions().count();
    let improved = c
        .rows
        .iter()
        .filter(|r| r.change == Change::Improved)
        .count();
    match n {
        0 => format!("no regression ({improved} figures improved)"),
        1 => format!("1 regression ({improved} figures improved)"),
        n => format!("{n} regressions ({improved} figures improved)"),
    }
}

fn rule(c: &Comparison) -> String {
    let t = &c.thresholds;
    format!(
        "A percentile counts as changed when the difference exceeds its noise at {} confidence \
         over all {} figures (each run's standard error from its per-second histograms, Student's \
         t, Bonferroni-corrected), {} of the baseline and {} ms; the error rate when it exceeds \
         its binomial noise at the same confidence and {} percentage points.",
        pct(t.confidence),
        c.rows.len(),
        pct(t.min_change),
        t.floor_ms,
        t.error_floor * 100.0
    )
}

/// Regressions, then improvements, then the rest, each in the results' operation order.
fn ordered(c: &Comparison) -> Vec<&Row> {
    let rank = |r: &Row| match r.change {
        Change::Regressed => 0,
        Change::Improved => 1,
        Change::Unchanged => 2,
    };
    let mut rows: Vec<&Row> = c.rows.iter().collect();
    rows.sort_by_key(|r| rank(r));
    rows
}

fn value(row: &Row, v: f64) -> String {
    if row.figure == Figure::ErrorRate {
        pct(v)
    } else {
        format!("{} ms", ms_f(v))
    }
}

fn delta(row: &Row) -> String {
    if row.figure == Figure::ErrorRate {
        format!("{:+.2} pts", (row.current - row.baseline) * 100.0)
    } else {
        match row.relative() {
            Some(r) => format!("{:+.1}%", r * 100.0),
            None => format!("{:+.2} ms", row.current - row.baseline),
        }
    }
}

fn noise(row: &Row) -> String {
    match row.noise {
        None => "unknown".into(),
        Some(n) if row.figure == Figure::ErrorRate => format!("±{:.2} pts", n * 100.0),
        Some(n) => format!("±{} ms", ms_f(n)),
    }
}

fn verdict(row: &Row) -> &'static str {
    match row.change {
        Change::Regressed => "REGRESSED",
        Change::Improved => "improved",
        Change::Unchanged => "within noise",
    }
}

pub fn markdown(c: &Comparison) -> String {
    let mark = if c.regressed() { "❌" } else { "✅" };
    let mut out = format!(
        "## shopbench compare: {mark} {}\n\nBaseline `{}` against current `{}`. {}\n\n",
        headline(c),
        cell(&c.baseline),
        cell(&c.current),
        rule(c)
    );
    for w in &c.warnings {
        out.push_str(&format!("> ⚠️ {}\n", cell(w)));
    }
    if !c.warnings.is_empty() {
        out.push('\n');
    }
    out.push_str("| operation | figure | baseline | current | change | noise (1σ) | verdict |\n");
    out.push_str("|---|---|--:|--:|--:|--:|---|\n");
    for row in ordered(c) {
        let v = match row.change {
            Change::Regressed => "**REGRESSED**",
            _ => verdict(row),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {v} |\n",
            cell(&row.operation),
            row.figure.name(),
            value(row, row.baseline),
            value(row, row.current),
            delta(row),
            noise(row)
        ));
    }
    for (label, names) in [
        ("Only in the baseline", &c.only_in_baseline),
        ("Only in the current run", &c.only_in_current),
    ] {
        if !names.is_empty() {
            out.push_str(&format!("\n{label}: {}\n", cell(&names.join(", "))));
        }
    }
    out
}

pub fn html(c: &Comparison) -> String {
    let mut page = Page::default();
    page.section("verdict", "Verdict");
    page.banner(
        &headline(c),
        if c.regressed() { Kind::Bad } else { Kind::Good },
    );
    page.para(&format!(
        "Baseline: {}. Current: {}.",
        c.baseline, c.current
    ));
    page.para(&rule(c));
    if !c.warnings.is_empty() {
        page.heading("Differences between the runs");
        page.list(&c.warnings);
    }
    page.section("figures", "Figures");
    let mut t = Table::new(&[
        "operation",
        "figure",
        "baseline",
        "current",
        "change",
        "noise (1σ)",
        "verdict",
    ]);
    for row in ordered(c) {
        let kind = match row.change {
            Change::Regressed => Kind::Bad,
            Change::Improved => Kind::Good,
            Change::Unchanged => Kind::Quiet,
        };
        t.row(vec![
            Cell::text(&row.operation),
            Cell::text(row.figure.name()),
            Cell::num(value(row, row.baseline)),
            Cell::num(value(row, row.current)),
            Cell::num(delta(row)),
            Cell::num(noise(row)),
            Cell::new(verdict(row), kind),
        ]);
    }
    page.table(&t);
    let mut missing = Vec::new();
    for (label, names) in [
        ("only in the baseline", &c.only_in_baseline),
        ("only in the current run", &c.only_in_current),
    ] {
        if !names.is_empty() {
            missing.push(format!("{label}: {}", names.join(", ")));
        }
    }
    page.list(&missing);
    page.render("shopbench compare")
}
