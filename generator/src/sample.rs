//! A deterministic sample of the generated data and its digest: the first chunk of every
//! PostgreSQL phase (each table's COPY BINARY bytes, exactly what the seed sends), and the first
//! rows of each ClickHouse table (as JSON). Cheap at any scale (a chunk is a fixed number of
//! entities), so the data fingerprint can cover the data itself and not only the recipe, and the
//! golden determinism test can hold a digest per table.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::load::clickhouse::Hours;
use crate::model::Model;
use crate::phase::Phase;
use crate::rows::analytics;

/// Rows of each ClickHouse table in the sample.
const CLICKHOUSE_ROWS: u64 = 2_000;

/// One table's sample: its rows and the SHA-256 of their encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSample {
    pub table: String,
    pub rows: u64,
    pub sha256: String,
}

/// Every table's sample, in load order. The object store's address (chosen at `up`) is where
/// the images live, not what the data is: the sample is taken with it blanked, as the
/// fingerprint leaves it out of the configuration, so two seeds that differ only in the managed
/// S3 port have the same digest.
pub fn tables(model: &Model) -> Vec<TableSample> {
    let mut blanked = model.clone();
    blanked.config.image_base = String::new();
    let m = &blanked;
    let mut out = Vec::new();
    for phase in Phase::POSTGRES {
        if phase.chunks(m) == 0 {
            continue;
        }
        let batch = phase.generate(m, 0);
        for (table, buffer) in &batch.tables {
            out.push(TableSample {
                table: table.qualified(),
                rows: buffer.rows(),
                sha256: hex::encode(Sha256::digest(buffer.bytes())),
            });
        }
    }
    let hours = Hours::new(m);
    let first = |counts: &[u64]| counts.iter().position(|&n| n > 0);
    if let Some(h) = first(&hours.events) {
        let mut rows = Vec::new();
        let n = hours.events[h].min(CLICKHOUSE_ROWS);
        analytics::events(m, h, hours.event_start[h], hours.events[h], 0..n, &mut rows);
        out.push(json_sample("clickhouse.events", &rows));
    }
    if let Some(h) = first(&hours.views) {
        let mut rows = Vec::new();
        let n = hours.views[h].min(CLICKHOUSE_ROWS);
        analytics::page_views(m, h, hours.view_start[h], hours.views[h], 0..n, &mut rows);
        out.push(json_sample("clickhouse.page_views", &rows));
    }
    let mut facts = Vec::new();
    let orders = m.profile().orders.min(CLICKHOUSE_ROWS);
    analytics::order_facts(m, 0..orders, &mut facts);
    out.push(json_sample("clickhouse.order_facts", &facts));
    out
}

fn json_sample<T: Serialize>(table: &str, rows: &[T]) -> TableSample {
    let mut hasher = Sha256::new();
    for row in rows {
        hasher.update(serde_json::to_vec(row).expect("rows serialize"));
        hasher.update(b"\n");
    }
    TableSample {
        table: table.into(),
        rows: rows.len() as u64,
        sha256: hex::encode(hasher.finalize()),
    }
}

/// One digest over every table's sample.
pub fn digest(samples: &[TableSample]) -> String {
    let mut hasher = Sha256::new();
    for s in samples {
        hasher.update(format!("{} {} {}\n", s.table, s.rows, s.sha256));
    }
    hex::encode(hasher.finalize())
}
