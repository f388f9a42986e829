//! The SQL shopbench provisions, compiled into the binary from `schema/` at the repository root,
//! and the code that applies and audits it.
//!
//! - `apply.rs`: bootstrap (roles, extensions, the ledger) then the numbered migrations, each in
//!   its own transaction as `shopbench_owner`, recorded with its checksum; a catalog snapshot is
//!   stored after the last one.
//! - `snapshot.rs`: the catalog as text lines, compared by `check` to find drift.
//! - `check.rs`: drift, unindexed foreign keys, duplicate indexes, RLS and grant audit.
//! - `clickhouse.rs`: the analytics tables on ClickHouse.

pub mod apply;
pub mod check;
pub mod clickhouse;
pub mod snapshot;

use sha2::{Digest, Sha256};

pub use apply::{apply, reset, ApplyReport};
pub use check::{check, Finding, Severity};

/// One numbered migration of `schema/postgres/`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the migration's text: a migration edited after it was applied is drift.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// Runs as the administrator before the migrations, on every apply.
pub const BOOTSTRAP: &str = include_str!("../../../schema/postgres/bootstrap.sql");

/// The numbered migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_foundation.sql",
        sql: include_str!("../../../schema/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "0002_tenants_users.sql",
        sql: include_str!("../../../schema/postgres/0002_tenants_users.sql"),
    },
    Migration {
        version: 3,
        name: "0003_catalog.sql",
        sql: include_str!("../../../schema/postgres/0003_catalog.sql"),
    },
    Migration {
        version: 4,
        name: "0004_orders_payments.sql",
        sql: include_str!("../../../schema/postgres/0004_orders_payments.sql"),
    },
    Migration {
        version: 5,
        name: "0005_events.sql",
        sql: include_str!("../../../schema/postgres/0005_events.sql"),
    },
    Migration {
        version: 6,
        name: "0006_audit.sql",
        sql: include_str!("../../../schema/postgres/0006_audit.sql"),
    },
    Migration {
        version: 7,
        name: "0007_partitions.sql",
        sql: include_str!("../../../schema/postgres/0007_partitions.sql"),
    },
    Migration {
        version: 8,
        name: "0008_security.sql",
        sql: include_str!("../../../schema/postgres/0008_security.sql"),
    },
    Migration {
        version: 9,
        name: "0009_search.sql",
        sql: include_str!("../../../schema/postgres/0009_search.sql"),
    },
    Migration {
        version: 10,
        name: "0010_monitoring.sql",
        sql: include_str!("../../../schema/postgres/0010_monitoring.sql"),
    },
    Migration {
        version: 11,
        name: "0011_bulk_load.sql",
        sql: include_str!("../../../schema/postgres/0011_bulk_load.sql"),
    },
    Migration {
        version: 12,
        name: "0012_bulk_load_window.sql",
        sql: include_str!("../../../schema/postgres/0012_bulk_load_window.sql"),
    },
    Migration {
        version: 13,
        name: "0013_seed_instance.sql",
        sql: include_str!("../../../schema/postgres/0013_seed_instance.sql"),
    },
    Migration {
        version: 14,
        name: "0014_rebuild_fixes.sql",
        sql: include_str!("../../../schema/postgres/0014_rebuild_fixes.sql"),
    },
    Migration {
        version: 15,
        name: "0015_cheaper_load.sql",
        sql: include_str!("../../../schema/postgres/0015_cheaper_load.sql"),
    },
    Migration {
        version: 16,
        name: "0016_analyzed_record.sql",
        sql: include_str!("../../../schema/postgres/0016_analyzed_record.sql"),
    },
    Migration {
        version: 17,
        name: "0017_foreign_keys_per_partition.sql",
        sql: include_str!("../../../schema/postgres/0017_foreign_keys_per_partition.sql"),
    },
    Migration {
        version: 18,
        name: "0018_audit_images_as_json.sql",
        sql: include_str!("../../../schema/postgres/0018_audit_images_as_json.sql"),
    },
];

/// Schemas shopbench owns in the database (dropped by `schema reset`).
pub const SCHEMAS: &[&str] = &["shop", "audit", "archive", "monitoring", "shopbench_meta"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/postgres");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql") && n.as_bytes()[0].is_ascii_digit())
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = MIGRATIONS.iter().map(|m| m.name.to_string()).collect();
        assert_eq!(on_disk, embedded, "add new migration files to MIGRATIONS");
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version as usize,
                i + 1,
                "versions are 1, 2, 3, ... without gaps"
            );
        }
    }
}
