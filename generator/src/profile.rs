//! Scale profiles: `full` is the specification's volume; the others are fractions of it.

use serde::{Deserialize, Serialize};

/// Data volume: `full` is the specification's (1M users, 10M products, 100M orders, 500M payment
/// transactions, 1B events a month); each step down is about ten times smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Tiny,
    Small,
    Medium,
    Large,
    Full,
}

impl Scale {
    /// The fraction of `full`.
    pub fn factor(self) -> f64 {
        match self {
            Scale::Tiny => 0.0002,
            Scale::Small => 0.002,
            Scale::Medium => 0.02,
            Scale::Large => 0.2,
            Scale::Full => 1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
            Scale::Full => "full",
        }
    }
}

/// The entity counts everything else follows from. Children (items, payments, ledger rows,
/// addresses, sessions …) come out of the model per parent, so their exact counts are computed,
/// not set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// "tiny" … "full", or "factor"
    pub name: String,
    pub factor: f64,
    pub tenants: u64,
    pub users: u64,
    pub products: u64,
    pub orders: u64,
    /// Operational events kept in PostgreSQL (the last 90 days).
    pub pg_events: u64,
    pub pg_page_views: u64,
    /// The analytics firehose in ClickHouse (the last 30 days).
    pub ch_events: u64,
    pub ch_page_views: u64,
}

struct Counts {
    tenants: u64,
    users: u64,
    products: u64,
    orders: u64,
    pg_events: u64,
    pg_page_views: u64,
    ch_events: u64,
    ch_page_views: u64,
}

/// The specification: 1M users over 100+ tenants, 10M products, 100M orders (over 3 years),
/// 500M payment transactions (about 5 ledger rows per order, from the model), 1B events a month.
const FULL: Counts = Counts {
    tenants: 120,
    users: 1_000_000,
    products: 10_000_000,
    orders: 100_000_000,
    pg_events: 30_000_000,
    pg_page_views: 30_000_000,
    ch_events: 1_000_000_000,
    ch_page_views: 300_000_000,
};

impl Profile {
    pub fn of(scale: Scale) -> Self {
        let mut p = Self::with_factor(scale.factor());
        p.name = scale.name().to_string();
        p
    }

    /// `full` × `factor`. Tenants shrink slower (factor^¼) so that small scales still show
    /// tenant skew; every tenant keeps at least a few users and products.
    pub fn with_factor(factor: f64) -> Self {
        let f = |n: u64, min: u64| ((n as f64 * factor).round() as u64).max(min);
        let tenants = ((FULL.tenants as f64 * factor.powf(0.25)).round() as u64).clamp(3, 10_000);
        Profile {
            name: "factor".to_string(),
            factor,
            tenants,
            users: f(FULL.users, tenants * 5),
            products: f(FULL.products, tenants * 10),
            orders: f(FULL.orders, 10),
            pg_events: f(FULL.pg_events, 10),
            pg_page_views: f(FULL.pg_page_views, 10),
            ch_events: f(FULL.ch_events, 10),
            ch_page_views: f(FULL.ch_page_views, 10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_is_the_specification() {
        let p = Profile::of(Scale::Full);
        assert_eq!(p.users, 1_000_000);
        assert_eq!(p.products, 10_000_000);
        assert_eq!(p.orders, 100_000_000);
        assert_eq!(p.ch_events, 1_000_000_000);
        assert!(p.tenants >= 100);
    }

    #[test]
    fn each_step_is_ten_times_smaller() {
        let m = Profile::of(Scale::Medium);
        let l = Profile::of(Scale::Large);
        assert_eq!(l.orders, m.orders * 10);
        assert!(Profile::of(Scale::Tiny).tenants >= 3);
    }
}
