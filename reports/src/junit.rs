//! `junit.xml`: each SLO target a test case (an operation's p95, p99 and error rate), so CI
//! systems list them beside the other tests. An operation that never ran is skipped, not passed.

use crate::format::{esc, ms, ms_f, pct};
use crate::results::{OperationResult, RunResults};
use crate::slo::{self, Status};

struct Case {
    name: String,
    /// Failure message, when the target was missed.
    failure: Option<String>,
    skipped: Option<String>,
    detail: String,
}

pub fn render(r: &RunResults) -> String {
    let cases: Vec<(String, Case)> = r
        .operations
        .iter()
        .flat_map(|op| cases(op).into_iter().map(move |c| (op.name.clone(), c)))
        .collect();
    let failures = cases.iter().filter(|(_, c)| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|(_, c)| c.skipped.is_some()).count();
    let suite = format!("shopbench.{}", r.config.mix);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"shopbench\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
        cases.len(),
        r.measured_s
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\" timestamp=\"{}\" hostname=\"{}\">\n",
        esc(&suite),
        cases.len(),
        r.measured_s,
        esc(&r.started_at),
        esc(&r.environment.machine.hostname)
    ));
    out.push_str("    <properties>\n");
    let e = &r.environment;
    for (k, v) in [
        ("shopbench_version", e.shopbench_version.as_str()),
        ("git_revision", &e.git_revision),
        ("scale", &e.scale),
        ("data_fingerprint", &e.data_fingerprint),
        ("kind", &r.kind),
    ] {
        out.push_str(&format!(
            "      <property name=\"{k}\" value=\"{}\"/>\n",
            esc(v)
        ));
    }
    out.push_str("    </properties>\n");
    for (op, case) in &cases {
        out.push_str(&format!(
            "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\">\n",
            esc(&suite),
            esc(op),
            esc(&case.name),
            r.measured_s
        ));
        if let Some(message) = &case.failure {
            out.push_str(&format!(
                "      <failure type=\"slo\" message=\"{}\">{}</failure>\n",
                esc(message),
                esc(&case.detail)
            ));
        }
        if let Some(message) = &case.skipped {
            out.push_str(&format!("      <skipped message=\"{}\"/>\n", esc(message)));
        }
        out.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            esc(&case.detail)
        ));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn cases(op: &OperationResult) -> Vec<Case> {
    let l = &op.latency;
    let detail = format!(
        "{} scheduled, {} succeeded, {} system failures, {} dropped; p50 {} ms, p95 {} ms, p99 {} ms, max {} ms (from the intended start); service p99 {} ms",
        op.scheduled,
        op.succeeded,
        slo::errors(op),
        op.dropped,
        ms(l.p50_us),
        ms(l.p95_us),
        ms(l.p99_us),
        ms(l.max_us),
        ms(op.service.p99_us)
    );
    let rate = slo::error_rate(op);
    let targets = [
        (
            format!("p95 <= {} ms", ms_f(op.slo.p95_ms)),
            l.p95_us as f64 / 1e3 > op.slo.p95_ms,
            format!("p95 {} ms > {} ms", ms(l.p95_us), ms_f(op.slo.p95_ms)),
        ),
        (
            format!("p99 <= {} ms", ms_f(op.slo.p99_ms)),
            l.p99_us as f64 / 1e3 > op.slo.p99_ms,
            format!("p99 {} ms > {} ms", ms(l.p99_us), ms_f(op.slo.p99_ms)),
        ),
        (
            format!("error rate <= {}", pct(op.slo.max_error_rate)),
            rate > op.slo.max_error_rate,
            format!("error rate {} > {}", pct(rate), pct(op.slo.max_error_rate)),
        ),
    ];
    targets
        .into_iter()
        .map(|(name, broken, message)| {
            let no_data = op.verdict.status == Status::NoData;
            Case {
                name,
                failure: (broken && !no_data).then_some(message),
                skipped: no_data
                    .then(|| "no operation was scheduled in the measured window".into()),
                detail: detail.clone(),
            }
        })
        .collect()
}
