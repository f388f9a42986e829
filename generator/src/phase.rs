//! Load phases in dependency order. A phase is a list of chunks; a chunk is a pure function of
//! the model and its number, loaded in one transaction with its "done" record.

use serde::Serialize;

use crate::model::Model;
use crate::rows::{self, Batch, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Tenants,
    Categories,
    Users,
    Catalog,
    Orders,
    Events,
    PageViews,
    ChEvents,
    ChPageViews,
    ChOrderFacts,
}

/// Entities per chunk: large enough that a transaction's overhead is noise, small enough that a
/// chunk's buffers stay a few MB (memory = jobs × chunk).
const USERS_PER_CHUNK: u64 = 2_000;
const PRODUCTS_PER_CHUNK: u64 = 4_000;
const ORDERS_PER_CHUNK: u64 = 4_000;
const EVENTS_PER_CHUNK: u64 = 40_000;
const TENANTS_PER_CHUNK: u64 = 8;
const FACT_ORDERS_PER_CHUNK: u64 = 20_000;
const CH_ROWS_PER_CHUNK: u64 = 200_000;

fn hours_per_chunk(m: &Model, rows: u64) -> u64 {
    let hours = m.ch_events.hours() as u64;
    (CH_ROWS_PER_CHUNK * hours / rows.max(1)).clamp(1, hours)
}

impl Phase {
    pub const POSTGRES: [Phase; 7] = [
        Phase::Tenants,
        Phase::Categories,
        Phase::Users,
        Phase::Catalog,
        Phase::Orders,
        Phase::Events,
        Phase::PageViews,
    ];
    pub const CLICKHOUSE: [Phase; 3] = [Phase::ChEvents, Phase::ChPageViews, Phase::ChOrderFacts];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Tenants => "tenants",
            Phase::Categories => "categories",
            Phase::Users => "users",
            Phase::Catalog => "catalog",
            Phase::Orders => "orders",
            Phase::Events => "events",
            Phase::PageViews => "page_views",
            Phase::ChEvents => "clickhouse.events",
            Phase::ChPageViews => "clickhouse.page_views",
            Phase::ChOrderFacts => "clickhouse.order_facts",
        }
    }

    pub fn is_clickhouse(self) -> bool {
        Self::CLICKHOUSE.contains(&self)
    }

    /// The PostgreSQL tables a chunk of this phase writes.
    pub fn tables(self) -> &'static [Table] {
        match self {
            Phase::Tenants => rows::tenants::TABLES,
            Phase::Categories => rows::tenants::CATEGORY_TABLES,
            Phase::Users => rows::users::TABLES,
            Phase::Catalog => rows::catalog::TABLES,
            Phase::Orders => rows::orders::TABLES,
            Phase::Events => rows::events::EVENT_TABLES,
            Phase::PageViews => rows::events::PAGE_VIEW_TABLES,
            _ => &[],
        }
    }

    fn per_chunk(self, m: &Model) -> u64 {
        match self {
            Phase::Tenants => u64::MAX,
            Phase::Categories => TENANTS_PER_CHUNK,
            Phase::Users => USERS_PER_CHUNK,
            Phase::Catalog => PRODUCTS_PER_CHUNK,
            Phase::Orders => ORDERS_PER_CHUNK,
            Phase::Events | Phase::PageViews => EVENTS_PER_CHUNK,
            // Hours per chunk: about CH_ROWS_PER_CHUNK rows, at least one hour.
            Phase::ChEvents => hours_per_chunk(m, m.profile().ch_events),
            Phase::ChPageViews => hours_per_chunk(m, m.profile().ch_page_views),
            Phase::ChOrderFacts => FACT_ORDERS_PER_CHUNK,
        }
    }

    /// How many entities the phase walks (tenants, users, products, orders, events; hours for
    /// the ClickHouse firehose).
    pub fn entities(self, m: &Model) -> u64 {
        let p = m.profile();
        match self {
            Phase::Tenants => 1,
            Phase::Categories => p.tenants,
            Phase::Users => p.users,
            Phase::Catalog => p.products,
            Phase::Orders | Phase::ChOrderFacts => p.orders,
            Phase::Events => p.pg_events,
            Phase::PageViews => p.pg_page_views,
            Phase::ChEvents | Phase::ChPageViews => m.ch_events.hours() as u64,
        }
    }

    pub fn chunks(self, m: &Model) -> u64 {
        let n = self.entities(m);
        if self == Phase::Tenants {
            return 1;
        }
        n.div_ceil(self.per_chunk(m))
    }

    /// The entity range of chunk `c`.
    pub fn range(self, m: &Model, c: u64) -> std::ops::Range<u64> {
        let n = self.entities(m);
        if self == Phase::Tenants {
            return 0..1;
        }
        let start = c * self.per_chunk(m);
        start.min(n)..(start + self.per_chunk(m)).min(n)
    }

    /// The PostgreSQL rows of chunk `c` (not for ClickHouse phases).
    pub fn generate(self, m: &Model, c: u64) -> Batch {
        let mut batch = Batch::new(self.tables());
        let range = self.range(m, c);
        match self {
            Phase::Tenants => rows::tenants::tenants(m, &mut batch),
            Phase::Categories => rows::tenants::categories(m, range, &mut batch),
            Phase::Users => rows::users::users(m, range, &mut batch),
            Phase::Catalog => rows::catalog::products(m, range, &mut batch),
            Phase::Orders => rows::orders::orders(m, range, &mut batch),
            Phase::Events => rows::events::events(m, range, &mut batch),
            Phase::PageViews => rows::events::page_views(m, range, &mut batch),
            _ => panic!("{} is loaded into ClickHouse", self.name()),
        }
        batch.finish();
        batch
    }
}
