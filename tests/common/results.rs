//! What every results file a test produces must satisfy: it validates against the checked-in
//! JSON Schema (`results/results.schema.json`), and its counts add up.

use std::path::Path;

use results::run::{RunResults, FILE_NAME};

/// Reads `dir/results.json`, validates it against the schema and checks its counts.
pub fn checked(dir: &Path) -> RunResults {
    validate(&dir.join(FILE_NAME));
    let r = RunResults::read(dir).expect("a readable results.json");
    for op in &r.operations {
        let failed: u64 = op.failed.values().sum();
        assert_eq!(
            op.scheduled,
            op.succeeded + failed + op.dropped,
            "{}: counts add up",
            op.name
        );
        assert_eq!(
            op.latency.count,
            op.succeeded + failed,
            "{}: one latency per run operation",
            op.name
        );
        assert_eq!(op.service.count, op.latency.count, "{}", op.name);
        assert!(
            op.latency.p99_us >= op.service.p99_us || op.latency.count == 0,
            "{}",
            op.name
        );
    }
    let in_intervals: u64 = r
        .intervals
        .iter()
        .flat_map(|i| i.operations.values())
        .map(|o| o.completed + o.dropped)
        .sum();
    assert_eq!(
        in_intervals,
        r.operations.iter().map(|o| o.scheduled).sum::<u64>(),
        "intervals add up to the totals"
    );
    r
}

/// Validates one results file against the checked-in schema, listing every violation.
pub fn validate(path: &Path) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/results.schema.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&schema_path).expect("the checked-in schema"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let instance: serde_json::Value = serde_json::from_str(&text).expect("results are JSON");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "{} does not match results.schema.json:\n{}",
        path.display(),
        errors.join("\n")
    );
}
