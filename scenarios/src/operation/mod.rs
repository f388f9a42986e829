//! Operations: one file each, behind one trait. An operation picks its entities from the
//! generator's model with the call's seeded generator (never by querying for ids), does its work
//! against the real services of the [`Context`], and returns `Ok` or a [`Failure`] that the
//! engine counts by class.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use generator::rng::Draw;

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
pub mod search;
mod shared;

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
    pub rng: Draw,
    pub tier: Option<TierTag>,
    /// Serialization failures and deadlocks retried.
    pub retries: u32,
    /// Counted outcomes (`cache_hit`, `cache_miss`…).
    pub notes: Vec<&'static str>,
}

impl Call {
    pub fn new(rng: Draw) -> Self {
        Call {
            rng,
            tier: None,
            retries: 0,
            notes: Vec::new(),
        }
    }

    /// Ready for the next operation: a new generator, nothing reported yet (the notes keep
    /// their memory).
    pub fn reset(&mut self, rng: Draw) {
        self.rng = rng;
        self.tier = None;
        self.retries = 0;
        self.notes.clear();
    }

    pub fn note(&mut self, what: &'static str) {
        self.notes.push(what);
    }
}

/// What an operation needs besides the application role's PostgreSQL (and the search backend,
/// which every run has): the run connects exactly these, and fails early when one is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Redis,
    ClickHouse,
    /// The S3 store product images go to.
    ObjectStore,
    /// The batch role's PostgreSQL pool (jobs a platform runs apart from the application).
    BatchRole,
}

impl Need {
    pub fn name(self) -> &'static str {
        match self {
            Need::Redis => "Redis",
            Need::ClickHouse => "ClickHouse",
            Need::ObjectStore => "S3",
            Need::BatchRole => "the batch role",
        }
    }
}

/// An operation as the registry knows it: its name in mixes, results and `--slo`, what it does,
/// its default targets (mixes may override them), the services it needs and how it is built.
pub struct Spec {
    pub name: &'static str,
    pub description: &'static str,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub needs: &'static [Need],
    pub build: fn(Arc<Context>) -> Arc<dyn Operation>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every operation, in the order the README lists them. Adding one: its file with its `SPEC`,
/// its `mod` line above and its line here.
pub const REGISTRY: &[Spec] = &[
    point_read::SPEC,
    browse::SPEC,
    product_detail::SPEC,
    search::SPEC,
    login::SPEC,
    cart::SPEC,
    checkout::SPEC,
    payment::SPEC,
    refund::SPEC,
    order_history::SPEC,
    order_detail::SPEC,
    fulfilment::SPEC,
    catalog_update::SPEC,
    analytics_ingest::SPEC,
    dashboard::SPEC,
    analytics_refresh::SPEC,
];

/// The operation called `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    REGISTRY.iter().find(|s| s.name == name)
}

/// Every operation's name, comma-separated (for messages).
pub fn names() -> String {
    REGISTRY
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The registry as a Markdown table (the README's operation list).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| operation | what it does | p95 / p99 target (ms) | needs besides PostgreSQL |\n|---|---|--:|---|\n",
    );
    for s in REGISTRY {
        let needs: Vec<&str> = s.needs.iter().map(|n| n.name()).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} / {} | {} |\n",
            s.name,
            s.description,
            s.p95_ms,
            s.p99_ms,
            if needs.is_empty() {
                "–".to_string()
            } else {
                needs.join(", ")
            }
        ));
    }
    out
}

/// The `point_read` statement (`$1` tenant, `$2` product): the parity benchmark gives pgbench
/// the very same text.
pub fn point_read_sql() -> &'static str {
    point_read::SQL
}
