//! Operations: one file each, behind one trait. An operation picks its entities from the
//! generator's model with the call's seeded generator (never by querying for ids), does its work
//! against the real services of the [`Context`], and returns `Ok` or a [`Failure`] that the
//! engine counts by class.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rand::rngs::SmallRng;

use crate::context::Context;
use crate::failure::Failure;

mod analytics_ingest;
mod analytics_refresh;
mod browse;
mod cart;
mod catalog_update;
mod checkout;
mod dashboard;
mod fulfilment;
mod login;
mod order_detail;
mod order_history;
mod payment;
mod point_read;
mod product_detail;
mod refund;
mod search;

pub type OpFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send + 'a>>;

pub trait Operation: Send + Sync {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a>;
}

/// Tenant size tier of the call, for the noisy-neighbour breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierTag {
    Large,
    Medium,
    Small,
}

impl TierTag {
    pub const ALL: [TierTag; 3] = [TierTag::Large, TierTag::Medium, TierTag::Small];

    pub fn name(self) -> &'static str {
        match self {
            TierTag::Large => "large",
            TierTag::Medium => "medium",
            TierTag::Small => "small",
        }
    }
}

impl From<generator::model::Tier> for TierTag {
    fn from(t: generator::model::Tier) -> Self {
        match t {
            generator::model::Tier::Large => TierTag::Large,
            generator::model::Tier::Medium => TierTag::Medium,
            generator::model::Tier::Small => TierTag::Small,
        }
    }
}

/// One operation's call: its seeded generator (a pure function of the run's seed and the
/// operation's sequence number) and what it reports besides success or failure.
pub struct Call {
    pub rng: SmallRng,
    pub tier: Option<TierTag>,
    /// Serialization failures and deadlocks retried.
    pub retries: u32,
    /// Counted outcomes (`cache_hit`, `cache_miss`…).
    pub notes: Vec<&'static str>,
}

impl Call {
    pub fn new(rng: SmallRng) -> Self {
        Call {
            rng,
            tier: None,
            retries: 0,
            notes: Vec::new(),
        }
    }

    /// Ready for the next operation: a new generator, nothing reported yet (the notes keep
    /// their memory).
    pub fn reset(&mut self, rng: SmallRng) {
        self.rng = rng;
        self.tier = None;
        self.retries = 0;
        self.notes.clear();
    }

    pub fn note(&mut self, what: &'static str) {
        self.notes.push(what);
    }
}

/// Default SLO targets (milliseconds): p95, p99. Mixes may override them.
pub struct Defaults {
    pub name: &'static str,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// Every operation the mixes may name, with its default targets.
pub const ALL: &[Defaults] = &[
    Defaults {
        name: "point_read",
        p95_ms: 20.0,
        p99_ms: 50.0,
    },
    Defaults {
        name: "browse",
        p95_ms: 150.0,
        p99_ms: 400.0,
    },
    Defaults {
        name: "product_detail",
        p95_ms: 100.0,
        p99_ms: 300.0,
    },
    Defaults {
        name: "search",
        p95_ms: 300.0,
        p99_ms: 800.0,
    },
    Defaults {
        name: "login",
        p95_ms: 150.0,
        p99_ms: 400.0,
    },
    Defaults {
        name: "cart",
        p95_ms: 50.0,
        p99_ms: 150.0,
    },
    Defaults {
        name: "checkout",
        p95_ms: 400.0,
        p99_ms: 900.0,
    },
    Defaults {
        name: "payment",
        p95_ms: 600.0,
        p99_ms: 950.0,
    },
    Defaults {
        name: "refund",
        p95_ms: 500.0,
        p99_ms: 900.0,
    },
    Defaults {
        name: "order_history",
        p95_ms: 200.0,
        p99_ms: 500.0,
    },
    Defaults {
        name: "order_detail",
        p95_ms: 150.0,
        p99_ms: 400.0,
    },
    Defaults {
        name: "fulfilment",
        p95_ms: 300.0,
        p99_ms: 800.0,
    },
    Defaults {
        name: "catalog_update",
        p95_ms: 500.0,
        p99_ms: 950.0,
    },
    Defaults {
        name: "analytics_ingest",
        p95_ms: 300.0,
        p99_ms: 800.0,
    },
    Defaults {
        name: "dashboard",
        p95_ms: 600.0,
        p99_ms: 950.0,
    },
    Defaults {
        name: "analytics_refresh",
        p95_ms: 900.0,
        p99_ms: 990.0,
    },
];

pub fn defaults(name: &str) -> Option<&'static Defaults> {
    ALL.iter().find(|d| d.name == name)
}

/// The `point_read` statement (`$1` tenant, `$2` product): the overhead benchmark gives pgbench
/// the very same text.
pub fn point_read_sql() -> &'static str {
    point_read::SQL
}

/// The operation called `name`, bound to the run's services.
pub fn build(name: &str, ctx: &Arc<Context>) -> Option<Arc<dyn Operation>> {
    let c = ctx.clone();
    Some(match name {
        "point_read" => Arc::new(point_read::PointRead(c)),
        "browse" => Arc::new(browse::Browse(c)),
        "product_detail" => Arc::new(product_detail::ProductDetail(c)),
        "search" => Arc::new(search::Search(c)),
        "login" => Arc::new(login::Login(c)),
        "cart" => Arc::new(cart::Cart(c)),
        "checkout" => Arc::new(checkout::Checkout(c)),
        "payment" => Arc::new(payment::Payment(c)),
        "refund" => Arc::new(refund::Refund(c)),
        "order_history" => Arc::new(order_history::OrderHistory(c)),
        "order_detail" => Arc::new(order_detail::OrderDetail(c)),
        "fulfilment" => Arc::new(fulfilment::Fulfilment(c)),
        "catalog_update" => Arc::new(catalog_update::CatalogUpdate(c)),
        "analytics_ingest" => Arc::new(analytics_ingest::AnalyticsIngest(c)),
        "dashboard" => Arc::new(dashboard::Dashboard(c)),
        "analytics_refresh" => Arc::new(analytics_refresh::AnalyticsRefresh(c)),
        _ => return None,
    })
}
