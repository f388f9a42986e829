//! The seed summary (`results::seed::SeedSummary`) of one seed run: which phase timed which
//! table, and the process's peak memory.

use std::collections::BTreeMap;

use results::seed::{per_second, SeedSummary, TableFigures};

use crate::model::Model;
use crate::plan::Plan;

/// The phase whose time a table's figures use.
pub fn phase_of(table: &str) -> &'static str {
    use crate::rows::Table;
    let by_phase = [
        (crate::phase::Phase::Tenants, crate::rows::tenants::TABLES),
        (
            crate::phase::Phase::Categories,
            crate::rows::tenants::CATEGORY_TABLES,
        ),
        (crate::phase::Phase::Users, crate::rows::users::TABLES),
        (crate::phase::Phase::Catalog, crate::rows::catalog::TABLES),
        (crate::phase::Phase::Orders, crate::rows::orders::TABLES),
        (
            crate::phase::Phase::Events,
            crate::rows::events::EVENT_TABLES,
        ),
        (
            crate::phase::Phase::PageViews,
            crate::rows::events::PAGE_VIEW_TABLES,
        ),
    ];
    for (phase, tables) in by_phase {
        if tables
            .iter()
            .any(|t: &Table| crate::plan::qualified(*t) == table)
        {
            return phase.name();
        }
    }
    match table {
        "clickhouse.events" => "clickhouse.events",
        "clickhouse.page_views" => "clickhouse.page_views",
        "clickhouse.order_facts" => "clickhouse.order_facts",
        "s3.product_images" => "images",
        "search.products" => "search",
        _ => "",
    }
}

/// The summary of a seed that loaded `tables` in `seconds` (its rebuilds and data digest are
/// the caller's to add).
pub fn summary(
    model: &Model,
    plan: &Plan,
    tables: Vec<TableFigures>,
    phases: BTreeMap<String, f64>,
    seconds: f64,
    jobs: usize,
) -> SeedSummary {
    let config = &model.config;
    let rows = tables
        .iter()
        .filter(|t| !t.table.starts_with("s3."))
        .map(|t| t.rows)
        .sum();
    let bytes = tables.iter().map(|t| t.bytes).sum();
    SeedSummary {
        shopbench_version: env!("CARGO_PKG_VERSION").to_string(),
        scale: config.profile.name.clone(),
        factor: config.profile.factor,
        seed: config.seed,
        as_of: chrono::DateTime::from_timestamp_micros(config.as_of_us)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default(),
        jobs,
        seconds,
        rows,
        bytes,
        rows_per_second: per_second(rows, seconds),
        peak_memory_bytes: platform::services::process::peak_memory(),
        planned_rows: plan.total_rows(),
        phases,
        tables,
        data_digest: None,
        rebuilds: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::phase_of;

    #[test]
    fn every_table_is_timed_by_the_phase_that_loads_it() {
        assert_eq!(phase_of("shop.orders"), "orders");
        // The audit entries are written with the financial rows they audit.
        assert_eq!(phase_of("audit.log"), "orders");
        assert_eq!(phase_of("shop.users"), "users");
        assert_eq!(phase_of("clickhouse.events"), "clickhouse.events");
        assert_eq!(phase_of("s3.product_images"), "images");
        assert_eq!(phase_of("nowhere.table"), "");
    }
}
