//! The renderers on fixed results files (golden files), the JSON Schema, comparison on
//! constructed regressions and reruns, and exact merges.

mod common;

use common::{fixture, golden, synthetic, Shape, BASELINE};
use reports::compare::{self, Change, Thresholds};
use reports::{html, junit, markdown};
use results::slo::Figure;
use results::{histogram, merge, schema};

#[test]
fn the_checked_in_schema_is_the_models() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/results.schema.json");
    let generated = schema::results_schema();
    if std::env::var_os("SHOPBENCH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).expect("results/results.schema.json");
    assert!(
        checked_in == generated,
        "results/results.schema.json is stale: the results model changed (SHOPBENCH_UPDATE_GOLDEN=1 rewrites it; bump SCHEMA_VERSION if old files would be misread)"
    );
}

#[test]
fn the_fixtures_validate_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(&schema::results_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // What shopbench writes: the fixtures as read (capacity.json is a version 1 file, upgraded).
    for name in ["storefront.json", "capacity.json"] {
        let value = serde_json::to_value(fixture(name)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    // And the schema does reject what is not a results file.
    let broken = serde_json::json!({"schema_version": 1, "kind": "run"});
    assert!(!validator.is_valid(&broken));
}

#[test]
fn renderers_match_their_golden_files() {
    for (file, dir) in [
        ("storefront.json", "storefront"),
        ("capacity.json", "capacity"),
    ] {
        let r = fixture(file);
        let page = html::render(&r).unwrap();
        golden(&format!("{dir}/report.html"), &page);
        golden(&format!("{dir}/summary.md"), &markdown::render(&r));
        golden(&format!("{dir}/junit.xml"), &junit::render(&r));
        assert!(!page.contains("<script"), "no JavaScript");
        for fetch in ["<link", "src=", "@import", "href=\"http", "url("] {
            assert!(!page.contains(fetch), "{dir}: nothing is fetched ({fetch})");
        }
        // Throughput, the spectrum, errors, and one latency chart per operation (+ capacity).
        let charts = page.matches("<svg").count();
        let expected = 2 + r.operations.len() + usize::from(r.capacity.is_some());
        assert!(
            charts >= expected,
            "{dir}: {charts} charts, expected {expected}"
        );
    }
}

#[test]
fn junit_has_a_case_per_target_and_fails_the_broken_ones() {
    let r = fixture("capacity.json");
    let xml = junit::render(&r);
    assert_eq!(xml.matches("<testcase ").count(), 3 * r.operations.len());
    let broken: usize = r
        .operations
        .iter()
        .map(|o| o.verdict.broken().count())
        .sum();
    assert_eq!(xml.matches("<failure ").count(), broken);
}

#[test]
fn a_ten_minute_report_stays_small() {
    let long = synthetic(Shape {
        seconds: 600,
        ..BASELINE
    });
    let page = html::render(&long).unwrap();
    assert!(page.len() < 2 << 20, "{} bytes", page.len());
}

#[test]
fn a_rerun_of_the_same_build_is_not_a_regression() {
    let base = synthetic(BASELINE);
    for seed in 2..=11 {
        let rerun = synthetic(Shape { seed, ..BASELINE });
        let c = compare::compare(&base, &rerun, ("a", "b"), Thresholds::default()).unwrap();
        let flagged: Vec<String> = c
            .rows
            .iter()
            .filter(|r| r.change != Change::Unchanged)
            .map(|r| {
                format!(
                    "{} {} {:.2} → {:.2}",
                    r.operation, r.figure, r.baseline, r.current
                )
            })
            .collect();
        assert!(flagged.is_empty(), "seed {seed}: {flagged:?}");
        assert!(!c.regressed());
    }
}

#[test]
fn a_doubled_p99_is_flagged_and_the_median_is_not() {
    let base = synthetic(BASELINE);
    let slower = synthetic(Shape {
        seed: 2,
        tail: 2.0,
        ..BASELINE
    });
    let c = compare::compare(
        &base,
        &slower,
        ("baseline", "current"),
        Thresholds::default(),
    )
    .unwrap();
    assert!(c.regressed());
    for op in &base.operations {
        let row = |figure: Figure| {
            c.rows
                .iter()
                .find(|r| r.operation == op.name && r.figure == figure)
                .unwrap()
                .change
        };
        assert_eq!(row(Figure::P99), Change::Regressed, "{} p99", op.name);
        assert_eq!(row(Figure::P50), Change::Unchanged, "{} p50", op.name);
    }
    golden("compare/compare.md", &compare::markdown(&c));
    // The other way round it is an improvement, and a generous threshold forgives it.
    let back = compare::compare(&slower, &base, ("a", "b"), Thresholds::default()).unwrap();
    assert!(!back.regressed());
    assert!(back.rows.iter().any(|r| r.change == Change::Improved));
    let lenient = Thresholds {
        min_change: 1.5,
        ..Thresholds::default()
    };
    assert!(!compare::compare(&base, &slower, ("a", "b"), lenient)
        .unwrap()
        .regressed());
}

#[test]
fn a_rise_in_errors_is_a_regression() {
    let base = synthetic(BASELINE);
    let mut worse = synthetic(Shape {
        seed: 2,
        ..BASELINE
    });
    let op = &mut worse.operations[0];
    let failures = op.scheduled / 20;
    op.succeeded -= failures;
    op.failed.insert(results::FailureClass::Timeout, failures);
    let name = op.name.clone();
    let c = compare::compare(&base, &worse, ("a", "b"), Thresholds::default()).unwrap();
    let row = c
        .rows
        .iter()
        .find(|r| r.operation == name && r.figure == Figure::ErrorRate)
        .unwrap();
    assert_eq!(row.change, Change::Regressed);
}

#[test]
fn merged_results_add_histograms_exactly() {
    let a = synthetic(BASELINE);
    let b = synthetic(Shape {
        seed: 7,
        ..BASELINE
    });
    let m = merge::merge(&[("a".into(), a.clone()), ("b".into(), b.clone())]).unwrap();
    assert_eq!(m.merged_from.len(), 2);
    assert_eq!(
        m.schedule.scheduled,
        a.schedule.scheduled + b.schedule.scheduled
    );
    for op in &m.operations {
        let (oa, ob) = (
            a.operation(&op.name).unwrap(),
            b.operation(&op.name).unwrap(),
        );
        assert_eq!(op.scheduled, oa.scheduled + ob.scheduled);
        let mut expected = oa.latency.decode().unwrap();
        expected.add(ob.latency.decode().unwrap()).unwrap();
        assert_eq!(op.latency.decode().unwrap(), expected, "{}", op.name);
        let direct = histogram::Encoded::new(&expected);
        assert_eq!(
            (op.latency.p99_us, op.latency.max_us),
            (direct.p99_us, direct.max_us)
        );
    }
    let per_second: u64 = m.intervals[0]
        .operations
        .values()
        .map(|o| o.completed)
        .sum();
    let both: u64 = [&a, &b]
        .iter()
        .flat_map(|r| r.intervals[0].operations.values())
        .map(|o| o.completed)
        .sum();
    assert_eq!(per_second, both);
    assert_eq!(m.intervals.len(), a.intervals.len());
}

#[test]
fn merge_refuses_runs_that_are_not_one_load() {
    let a = synthetic(BASELINE);
    let mut other_mix = synthetic(BASELINE);
    other_mix.config.mix = "analytics".into();
    let err = merge::merge(&[("a".into(), a.clone()), ("b".into(), other_mix)]).unwrap_err();
    assert!(err.to_string().contains("mix"), "{err}");
    let capacity = fixture("capacity.json");
    assert!(merge::merge(&[("a".into(), a), ("c".into(), capacity)]).is_err());
}

#[test]
fn results_files_read_back_as_written() {
    // capacity.json is a version 1 file: read (upgraded), written as the current version, and
    // read again, it is the same results.
    let dir = std::env::temp_dir().join(format!("shopbench-roundtrip-{}", std::process::id()));
    for name in ["storefront.json", "capacity.json"] {
        let r = fixture(name);
        assert_eq!(r.schema_version, results::run::SCHEMA_VERSION);
        let path = r.write(&dir).unwrap();
        let again = results::RunResults::read(&path).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&r).unwrap(),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    // The capacity search's verdicts were judged again from its figures.
    let c = fixture("capacity.json");
    let limit = c.capacity.and_then(|c| c.limit).expect("a limit");
    assert!(
        matches!(limit, results::run::Limit::Broke { .. }),
        "{limit}"
    );
}
