//! The README's parameter table: every parameter of the data model (generator's
//! `calibration.rs`) and the shipped mixes' weights, each with its value, unit and source.
//! `tests/calibration.rs` keeps the README equal to it.

use generator::calibration::{parameters, SOURCES};

use crate::mix::{self, BUILT_IN};

/// Table cells hold no pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The table and the full citations below it, in Markdown.
pub fn markdown() -> String {
    let mut out =
        String::from("| parameter | value | unit | basis | source |\n|---|---|---|---|---|\n");
    for p in parameters() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(p.name),
            cell(&p.value),
            cell(p.unit),
            p.basis,
            cell(p.source)
        ));
    }
    for (name, _) in BUILT_IN {
        let mix = mix::load(name).expect("built-in mixes parse");
        let total: f64 = mix.operations.iter().map(|o| o.weight).sum();
        let mut ops: Vec<_> = mix.operations.iter().collect();
        ops.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.name.cmp(&b.name)));
        let weights = ops
            .iter()
            .map(|o| format!("{} {:.1}%", o.name, 100.0 * o.weight / total))
            .collect::<Vec<_>>()
            .join(", ");
        let source = mix.source.unwrap_or_default();
        let basis = if source.starts_with("assumption") {
            "assumption"
        } else {
            "choice"
        };
        out.push_str(&format!(
            "| `{name}` mix weights | {} | share of arrivals | {basis} | {} |\n",
            cell(&weights),
            cell(&source)
        ));
    }
    out.push_str("\nSources:\n\n");
    for s in SOURCES {
        out.push_str(&format!("- {s}\n"));
    }
    out
}
