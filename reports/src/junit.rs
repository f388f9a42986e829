//! `junit.xml` (written by `quick-junit`): each SLO target a test case (an operation's p95, p99
//! and error rate) read from the verdict's checks, so CI systems list them beside the other
//! tests. An operation that never ran is skipped, not passed.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::format::ms;
use results::run::{OperationResult, RunResults};
use results::slo::{self, Check, Figure, Status};

pub fn render(r: &RunResults) -> String {
    let suite_name = format!("shopbench.{}", r.config.mix);
    let time = Duration::from_secs_f64(r.measured_s.max(0.0));
    let mut suite = TestSuite::new(suite_name.as_str());
    suite.set_time(time);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&r.started_at) {
        suite.set_timestamp(t);
    }
    suite.extra.insert(
        "hostname".into(),
        r.environment.machine.hostname.as_str().into(),
    );
    let e = &r.environment;
    suite.add_properties([
        Property::new("shopbench_version", e.shopbench_version.as_str()),
        Property::new("git_revision", e.git_revision.as_str()),
        Property::new("scale", e.scale.as_str()),
        Property::new("data_fingerprint", e.data_fingerprint.as_str()),
        Property::new("kind", r.kind.name()),
    ]);
    for op in &r.operations {
        suite.add_test_cases(cases(op, &suite_name, time));
    }
    let mut report = Report::new("shopbench");
    report.set_time(time);
    report.add_test_suite(suite);
    report.to_string().expect("a report in memory serializes")
}

fn cases(op: &OperationResult, suite: &str, time: Duration) -> Vec<TestCase> {
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
    Figure::TARGETS
        .into_iter()
        .filter_map(|figure| {
            let target = op.slo.target(figure)?;
            let status = match op.verdict.check(figure) {
                _ if op.verdict.status == Status::NoData => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message("no operation was scheduled in the measured window");
                    s
                }
                Some(c @ Check { pass: false, .. }) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_type("slo")
                        .set_message(c.to_string())
                        .set_description(detail.as_str());
                    s
                }
                _ => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(
                format!("{} <= {}", figure.name(), figure.show(target)),
                status,
            );
            case.set_classname(format!("{suite}.{}", op.name))
                .set_time(time)
                .set_system_out(detail.as_str());
            Some(case)
        })
        .collect()
}
