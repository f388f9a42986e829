//! The JSON Schema of `results.json`, generated from the model itself. The checked-in copy
//! (`results/results.schema.json`) is what other tools validate against; a test keeps the two
//! equal, so the schema cannot drift from the files shopbench writes.

/// The schema as JSON (draft 2020-12), pretty-printed with a trailing newline.
pub fn results_schema() -> String {
    let schema = schemars::schema_for!(crate::run::RunResults);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
