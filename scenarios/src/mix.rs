//! Mixes: `mixes/*.toml` (compiled in) or a file of the same form: the operations, their
//! relative weights and SLO targets (milliseconds; each operation's defaults otherwise), and
//! `hot_products` to concentrate product picks on each tenant's best sellers.

use std::collections::BTreeMap;

use serde::Deserialize;

use results::slo::Slo;

use crate::operation;

pub const BUILT_IN: &[(&str, &str)] = &[
    ("storefront", include_str!("../mixes/storefront.toml")),
    ("black-friday", include_str!("../mixes/black-friday.toml")),
    ("analytics", include_str!("../mixes/analytics.toml")),
    ("point-read", include_str!("../mixes/point-read.toml")),
];

/// Share of failed or dropped operations an SLO tolerates unless the mix says otherwise.
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("mix '{0}' is neither a built-in mix ({list}) nor a readable .toml file", list = BUILT_IN.iter().map(|m| m.0).collect::<Vec<_>>().join(", "))]
    Unknown(String),
    #[error("mix {mix}: {detail}")]
    Invalid { mix: String, detail: String },
    #[error("--slo '{0}': write it as OPERATION.p95=DURATION or OPERATION.p99=DURATION, e.g. browse.p99=250ms")]
    Override(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    /// Where the weights come from (a source, or "assumption: why").
    source: Option<String>,
    hot_products: Option<u64>,
    operations: BTreeMap<String, Spec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    weight: f64,
    p95_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_error_rate: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct MixOperation {
    pub name: String,
    /// The registry's entry (the name is known: mixes are checked when read).
    pub spec: &'static operation::Spec,
    pub weight: f64,
    pub slo: Slo,
}

#[derive(Debug, Clone)]
pub struct Mix {
    pub name: String,
    pub description: String,
    /// Where the weights come from, when the mix says.
    pub source: Option<String>,
    pub hot_products: Option<u64>,
    pub operations: Vec<MixOperation>,
}

/// A built-in mix by name, or a mix file by path.
pub fn load(name: &str) -> Result<Mix, Error> {
    if let Some((n, text)) = BUILT_IN.iter().find(|m| m.0 == name) {
        return parse(n, text);
    }
    if name.ends_with(".toml") {
        if let Ok(text) = std::fs::read_to_string(name) {
            return parse(name, &text);
        }
    }
    Err(Error::Unknown(name.to_string()))
}

pub fn parse(name: &str, text: &str) -> Result<Mix, Error> {
    let invalid = |detail: String| Error::Invalid {
        mix: name.to_string(),
        detail,
    };
    let file: File = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
    if file.operations.is_empty() {
        return Err(invalid("no [operations.NAME] table".into()));
    }
    let mut operations = Vec::new();
    for (op, spec) in file.operations {
        let d = operation::spec(&op).ok_or_else(|| {
            invalid(format!(
                "unknown operation '{op}' (known: {})",
                operation::names()
            ))
        })?;
        if !(spec.weight > 0.0 && spec.weight.is_finite()) {
            return Err(invalid(format!("{op}: weight must be positive")));
        }
        let slo = Slo {
            p95_ms: spec.p95_ms.unwrap_or(d.p95_ms),
            p99_ms: spec.p99_ms.unwrap_or(d.p99_ms),
            max_error_rate: spec.max_error_rate.unwrap_or(DEFAULT_MAX_ERROR_RATE),
        };
        check(&slo).map_err(|e| invalid(format!("{op}: {e}")))?;
        operations.push(MixOperation {
            name: op,
            spec: d,
            weight: spec.weight,
            slo,
        });
    }
    if file.hot_products == Some(0) {
        return Err(invalid("hot_products must be at least 1".into()));
    }
    Ok(Mix {
        name: name.to_string(),
        description: file.description,
        source: file.source,
        hot_products: file.hot_products,
        operations,
    })
}

fn check(slo: &Slo) -> Result<(), String> {
    if !(slo.p95_ms > 0.0 && slo.p99_ms > 0.0) {
        return Err("SLO targets must be positive".into());
    }
    if slo.p95_ms > slo.p99_ms {
        return Err(format!(
            "p95 target {} ms above p99 target {} ms",
            slo.p95_ms, slo.p99_ms
        ));
    }
    if !(0.0..=1.0).contains(&slo.max_error_rate) {
        return Err("max_error_rate is a share between 0 and 1".into());
    }
    Ok(())
}

impl Mix {
    /// Applies `OPERATION.p95=DURATION` / `OPERATION.p99=DURATION` overrides (milliseconds).
    pub fn override_slo(
        &mut self,
        spec: &str,
        millis: impl Fn(&str) -> Option<f64>,
    ) -> Result<(), Error> {
        let bad = || Error::Override(spec.to_string());
        let (target, value) = spec.split_once('=').ok_or_else(bad)?;
        let (op, q) = target.split_once('.').ok_or_else(bad)?;
        let ms = millis(value).ok_or_else(bad)?;
        let entry = self
            .operations
            .iter_mut()
            .find(|o| o.name == op)
            .ok_or_else(|| Error::Invalid {
                mix: self.name.clone(),
                detail: format!("--slo names '{op}', which is not in this mix"),
            })?;
        match q {
            "p95" => entry.slo.p95_ms = ms,
            "p99" => entry.slo.p99_ms = ms,
            _ => return Err(bad()),
        }
        check(&entry.slo).map_err(|detail| Error::Invalid {
            mix: self.name.clone(),
            detail: format!("{op}: {detail}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_mixes_parse_and_name_known_operations() {
        for (name, _) in BUILT_IN {
            let mix = load(name).unwrap();
            assert!(!mix.operations.is_empty());
            for op in &mix.operations {
                assert!(
                    op.slo.p99_ms < 1000.0,
                    "{name}/{}: sub-second targets",
                    op.name
                );
            }
        }
        assert_eq!(load("black-friday").unwrap().hot_products, Some(20));
    }

    #[test]
    fn bad_mixes_say_what_is_wrong() {
        let e = parse("x", "description = 'x'\n[operations.teleport]\nweight = 1").unwrap_err();
        assert!(
            e.to_string().contains("unknown operation 'teleport'"),
            "{e}"
        );
        let e = parse("x", "description = 'x'\n[operations.browse]\nweight = 0").unwrap_err();
        assert!(e.to_string().contains("weight must be positive"), "{e}");
        let e = parse(
            "x",
            "description = 'x'\n[operations.browse]\nweight = 1\np95_ms = 500\np99_ms = 100",
        )
        .unwrap_err();
        assert!(e.to_string().contains("above p99"), "{e}");
        assert!(matches!(load("nope"), Err(Error::Unknown(_))));
        let mut mix = load("storefront").unwrap();
        mix.override_slo("browse.p99=250", |v| v.parse().ok())
            .unwrap();
        assert_eq!(
            mix.operations
                .iter()
                .find(|o| o.name == "browse")
                .unwrap()
                .slo
                .p99_ms,
            250.0
        );
        assert!(mix.override_slo("browse=3", |v| v.parse().ok()).is_err());
        assert!(mix
            .override_slo("dashboard.p99=3", |v| v.parse().ok())
            .is_err());
    }
}
