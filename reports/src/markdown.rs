//! `summary.md`: the verdict, the plain-language summary and the SLO table, short enough for a
//! pull-request comment.

use crate::format::{ms, ms_f, pct, rate};
use crate::summary;
use results::run::RunResults;
use results::slo::{self, Status};

pub fn render(r: &RunResults) -> String {
    let mut out = String::new();
    let mark = if r.verdict.pass {
        "✅ PASS"
    } else {
        "❌ FAIL"
    };
    out.push_str(&format!(
        "## shopbench {}: {} mix, {} dataset: {mark}\n\n",
        r.kind, r.config.mix, r.environment.scale
    ));
    out.push_str(&cell(&summary::paragraph(r)));
    out.push_str("\n\n");
    out.push_str(
        "| operation | ops/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | service p99 ms | error rate | target p95 / p99 / errors | verdict |\n",
    );
    out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for op in &r.operations {
        let l = &op.latency;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} |\n",
            cell(&op.name),
            rate(l.count as f64 / r.measured_s.max(1e-9)),
            ms(l.p50_us),
            ms(l.p95_us),
            ms(l.p99_us),
            ms(l.p999_us),
            ms(l.max_us),
            ms(op.service.p99_us),
            pct(slo::error_rate(op)),
            ms_f(op.slo.p95_ms),
            ms_f(op.slo.p99_ms),
            pct(op.slo.max_error_rate),
            match op.verdict.status {
                Status::Pass => "pass",
                Status::Fail => "**FAIL**",
                Status::NoData => "no data",
            }
        ));
    }
    if !r.verdict.failures.is_empty() {
        out.push_str("\n**Targets missed**\n\n");
        for f in &r.verdict.failures {
            out.push_str(&format!("- {}\n", cell(&f.to_string())));
        }
    }
    if let Some(c) = &r.capacity {
        out.push_str(&format!(
            "\n**Capacity**: {}\n",
            match c.sustainable_rate {
                Some(rate_) => format!(
                    "{} operations/s sustained with every target met",
                    rate(rate_)
                ),
                None => "no step met every target".into(),
            }
        ));
    }
    let e = &r.environment;
    out.push_str(&format!(
        "\n<sub>shopbench {} (git {}) · {} · {} CPUs · scale {} · data {} · started {}</sub>\n",
        cell(&e.shopbench_version),
        cell(&e.git_revision),
        cell(&e.machine.hostname),
        e.machine.cpus,
        cell(&e.scale),
        cell(e.data_fingerprint.get(..12).unwrap_or(&e.data_fingerprint)),
        cell(&r.started_at)
    ));
    out
}

/// Text safe inside a Markdown table cell (and free of markup a PR comment would render).
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
