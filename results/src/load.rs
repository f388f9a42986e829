//! How a run's load was shaped, as the values the results file names: the kind of run, the load
//! model, the open model's arrivals and the load profile's shape. Serialized lowercase (as every
//! results file so far); with the `clap` feature they are the command line's value enums too.

use serde::{Deserialize, Serialize};

/// What wrote the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `shopbench run`: one load.
    Run,
    /// `shopbench capacity`: a search over arrival rates (the steps are in `capacity`).
    Capacity,
}

/// The load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Operations arrive at a rate whatever the system does (latency from the intended start).
    Open,
    /// A fixed number of users, each waiting for its answer and thinking before the next.
    Closed,
}

/// How the open model spaces its arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Evenly spaced.
    Constant,
    /// Exponential gaps (independent users), seeded.
    Poisson,
}

/// The load profile's shape over the measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Full load throughout.
    Constant,
    /// From zero to full load over `--ramp-up`.
    Ramp,
    /// Full load reached in `--steps` equal steps.
    Step,
}

/// Each enum's name as the results file writes it, for text.
macro_rules! named {
    ($($t:ty { $($v:ident => $name:literal),+ })+) => {$(
        impl $t {
            pub fn name(self) -> &'static str {
                match self { $(<$t>::$v => $name),+ }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    )+};
}

named! {
    Kind { Run => "run", Capacity => "capacity" }
    Model { Open => "open", Closed => "closed" }
    Arrivals { Constant => "constant", Poisson => "poisson" }
    Shape { Constant => "constant", Ramp => "ramp", Step => "step" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_text() {
        for (value, name) in [
            (serde_json::to_value(Kind::Capacity), Kind::Capacity.name()),
            (serde_json::to_value(Model::Closed), Model::Closed.name()),
            (
                serde_json::to_value(Arrivals::Poisson),
                Arrivals::Poisson.name(),
            ),
            (serde_json::to_value(Shape::Ramp), Shape::Ramp.name()),
        ] {
            assert_eq!(value.unwrap(), serde_json::json!(name));
        }
    }
}
