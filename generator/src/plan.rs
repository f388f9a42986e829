//! The plan: rows per table (computed by walking the model, exactly or from a sample of chunks)
//! and an estimate of the disk it needs, from encoding sample chunks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::phase::Phase;
use crate::rng::{key, Stream};
use crate::rows::{users, Table};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// Rows per table: `shop.<table>`, `audit.log`, `clickhouse.<table>`.
    pub rows: BTreeMap<String, u64>,
    /// Estimated bytes on disk per table (heap, indexes, TOAST; ClickHouse compressed).
    pub bytes: BTreeMap<String, u64>,
    /// False when the counts of the order tables were extrapolated from a sample of chunks.
    pub exact: bool,
}

impl Plan {
    pub fn total_rows(&self) -> u64 {
        self.rows.values().sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.bytes.values().sum()
    }

    pub fn postgres_bytes(&self) -> u64 {
        self.bytes
            .iter()
            .filter(|(k, _)| !k.starts_with("clickhouse."))
            .map(|(_, v)| v)
            .sum()
    }
}

pub fn qualified(t: Table) -> String {
    t.qualified()
}

/// Order-table counts of the orders in `range`, per table.
fn count_orders(m: &Model, range: std::ops::Range<u64>, acc: &mut BTreeMap<Table, u64>) {
    let as_of = m.config.as_of_us;
    crate::rows::orders::for_each_order(m, range, |o, _| {
        *acc.entry(Table::Orders).or_default() += 1;
        *acc.entry(Table::OrderItems).or_default() += o.items.len() as u64;
        *acc.entry(Table::OrderStatusHistory).or_default() += o.history.len() as u64;
        *acc.entry(Table::Payments).or_default() += o.payments.len() as u64;
        *acc.entry(Table::PaymentTransactions).or_default() += o.ledger_rows() as u64;
        *acc.entry(Table::PaymentIdempotencyKeys).or_default() += o
            .payments
            .iter()
            .filter(|p| as_of - p.created_us < crate::rows::orders::IDEMPOTENCY_WINDOW_US)
            .count() as u64;
    });
}

/// Indexes per table (primary key included), for the disk estimate.
fn indexes(t: Table) -> u64 {
    match t {
        Table::UserDataKeys | Table::Tenants => 1,
        Table::TenantUsers
        | Table::UserPreferences
        | Table::ProductVariants
        | Table::ProductInventory => 2,
        Table::Payments
        | Table::PaymentIdempotencyKeys
        | Table::PaymentTransactions
        | Table::PageViews => 2,
        Table::Products | Table::ProductImages | Table::OrderItems => 4,
        _ => 3,
    }
}

pub fn compute(m: &Model, exact: bool) -> Plan {
    let mut rows: BTreeMap<Table, u64> = BTreeMap::new();
    let p = m.profile();
    rows.insert(Table::Tenants, p.tenants);
    rows.insert(
        Table::Categories,
        m.tenants.iter().map(|t| t.categories).sum(),
    );
    for u in 0..p.users {
        let h = key(m.seed(), Stream::User, u);
        let erased = users::is_erased(h);
        *rows.entry(Table::Users).or_default() += 1;
        *rows.entry(Table::UserDataKeys).or_default() += !erased as u64;
        *rows.entry(Table::TenantUsers).or_default() += 1;
        *rows.entry(Table::UserAddresses).or_default() += users::addresses(h);
        *rows.entry(Table::UserPreferences).or_default() += 1;
        *rows.entry(Table::UserSessions).or_default() +=
            if erased { 0 } else { users::sessions(h) };
    }
    for prod in 0..p.products {
        *rows.entry(Table::Products).or_default() += 1;
        *rows.entry(Table::ProductVariants).or_default() += m.variants(prod);
        *rows.entry(Table::ProductInventory).or_default() += m.variants(prod);
        *rows.entry(Table::ProductImages).or_default() += m.images(prod);
    }
    // Orders: every chunk when exact (in parallel), else every k-th chunk scaled up.
    let chunks = Phase::Orders.chunks(m);
    let step = if exact || p.orders <= 2_000_000 {
        1
    } else {
        (chunks / 200).max(1)
    };
    let sampled: Vec<u64> = (0..chunks).step_by(step as usize).collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let parts: Vec<BTreeMap<Table, u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let sampled = &sampled;
                s.spawn(move || {
                    let mut acc = BTreeMap::new();
                    for c in sampled.iter().skip(k).step_by(threads) {
                        count_orders(m, Phase::Orders.range(m, *c), &mut acc);
                    }
                    acc
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("counting thread"))
            .collect()
    });
    let mut order_rows: BTreeMap<Table, u64> = BTreeMap::new();
    for part in parts {
        for (t, n) in part {
            *order_rows.entry(t).or_default() += n;
        }
    }
    let counted = order_rows.get(&Table::Orders).copied().unwrap_or(0).max(1);
    for (t, n) in order_rows {
        let n = if step == 1 {
            n
        } else {
            (n as f64 * p.orders as f64 / counted as f64).round() as u64
        };
        rows.insert(t, n);
    }
    rows.entry(Table::Orders).or_insert(0);
    rows.insert(Table::Events, p.pg_events);
    rows.insert(Table::PageViews, p.pg_page_views);

    let mut plan = Plan {
        exact: step == 1,
        ..Plan::default()
    };
    let per_row = sample_bytes_per_row(m);
    let mut audited_bytes = 0u64;
    let mut audited_rows = 0u64;
    for (t, n) in &rows {
        let copy = per_row.get(t).copied().unwrap_or(100.0);
        // Heap: the COPY bytes minus the 4-byte length words, plus a 24-byte tuple header and a
        // 4-byte line pointer, 10% page overhead; each index about 40 bytes an entry.
        let heap = (copy + 16.0) * 1.1;
        let bytes = (*n as f64 * (heap + 40.0 * indexes(*t) as f64)) as u64;
        plan.rows.insert(qualified(*t), *n);
        plan.bytes.insert(qualified(*t), bytes);
        if matches!(
            t,
            Table::Orders | Table::OrderItems | Table::Payments | Table::PaymentTransactions
        ) {
            audited_rows += n;
            // The audit row holds the row as JSON: about twice its binary size, plus its own index.
            audited_bytes += (*n as f64 * (copy * 2.2 + 150.0)) as u64;
        }
    }
    plan.rows.insert("audit.log".into(), audited_rows);
    plan.bytes.insert("audit.log".into(), audited_bytes);
    let facts = rows.get(&Table::OrderItems).copied().unwrap_or(0);
    for (name, n, per) in [
        ("clickhouse.events", p.ch_events, 25u64),
        ("clickhouse.page_views", p.ch_page_views, 30),
        ("clickhouse.order_facts", facts, 40),
    ] {
        plan.rows.insert(name.into(), n);
        plan.bytes.insert(name.into(), n * per);
    }
    plan
}

/// COPY bytes per row of each table, from encoding the first chunk of every phase.
fn sample_bytes_per_row(m: &Model) -> BTreeMap<Table, f64> {
    let mut out = BTreeMap::new();
    for phase in Phase::POSTGRES {
        if phase.chunks(m) == 0 {
            continue;
        }
        let batch = phase.generate(m, 0);
        for (t, buf) in &batch.tables {
            if buf.rows() > 0 {
                out.insert(*t, buf.len() as f64 / buf.rows() as f64);
            }
        }
    }
    out
}
