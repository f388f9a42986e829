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
    /// The data model's intra-day traffic curve (quiet night, evening peak at full load), its 24
    /// hours compressed into the measured window.
    Day,
}

/// One load generator's share of a run split across `count` generators: the operations of the
/// one-generator run whose sequence number ≡ `index` (mod `count`) in the open model, the users
/// `u` with `u` ≡ `index` (mod `count`) in the closed model. `0/1` is the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole run on one generator.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`, or why not.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("a run has at least one shard".into());
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count} does not exist: shards are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether operation (or user) number `n` is this shard's.
    pub fn owns(self, n: u64) -> bool {
        n % self.count as u64 == self.index as u64
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N`, e.g. `0/3`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad =
            || format!("'{s}' is not a shard: write it as I/N, e.g. 0/3 for the first of three");
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index = i.trim().parse().map_err(|_| bad())?;
        let count = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }
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
    Shape { Constant => "constant", Ramp => "ramp", Step => "step", Day => "day" }
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

    #[test]
    fn shards_parse_as_index_over_count_and_split_the_sequence() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard { index: 2, count: 3 }.to_string(), "2/3");
        for bad in ["3/3", "1/0", "a/3", "2", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        // Every number belongs to exactly one shard.
        for n in 0..100u64 {
            let owners = (0..3)
                .filter(|&i| Shard { index: i, count: 3 }.owns(n))
                .count();
            assert_eq!(owners, 1);
            assert!(Shard::WHOLE.owns(n));
        }
    }
}
