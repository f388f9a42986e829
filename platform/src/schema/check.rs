//! `shopbench schema check`: what is wrong with the provisioned schema.
//!
//! Problems (exit code 1): migrations pending, edited or unknown; catalog drift from what the
//! migrations made; foreign keys without a supporting index; duplicate or redundant indexes;
//! tenant tables without RLS, without FORCE or without a policy for the application role; grants
//! on partitions (they bypass the parent's policies); an application role that owns objects,
//! bypasses RLS, or can read a materialized view or a view that is not `security_invoker`.
//! Notes (reported, exit code unaffected): pg_stat_statements not preloaded.

use std::fmt;

use sqlx::PgConnection;

use super::{snapshot, MIGRATIONS};
use crate::error::{Error, Result};
use crate::services::PostgresTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Problem,
    Note,
}

/// One thing `check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Short stable name: `migrations`, `drift`, `unindexed-fk`, `duplicate-index`,
    /// `redundant-index`, `rls`, `partition-grant`, `app-role`, `monitoring`.
    pub category: &'static str,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.severity {
            Severity::Problem => "problem",
            Severity::Note => "note",
        };
        write!(f, "{mark} [{}] {}", self.category, self.detail)
    }
}

fn problem(category: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        severity: Severity::Problem,
        category,
        detail: detail.into(),
    }
}

/// Schemas audited for keys and indexes (archived months included).
const AUDITED_SCHEMAS: &str = "'shop', 'audit', 'archive', 'monitoring', 'shopbench_meta'";

const UNINDEXED_FK_SQL: &str = r#"
SELECT format('%s.%s', n.nspname, r.relname), con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con
  JOIN pg_class r ON r.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
 WHERE con.contype = 'f' AND con.conparentid = 0 AND NOT r.relispartition
   AND n.nspname IN (__SCHEMAS__)
   AND NOT EXISTS (
       SELECT 1
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = con.conrelid AND i.indpred IS NULL AND am.amname = 'btree'
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(con.conkey, 1)] @> con.conkey
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(con.conkey, 1)] <@ con.conkey)
 ORDER BY 1, 2
"#;

const DUPLICATE_INDEX_SQL: &str = r#"
WITH idx AS (
    SELECT i.indrelid, i.indexrelid, i.indkey::text AS keys, i.indclass::text AS classes, i.indisunique,
           coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
           coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred,
           ic.relam, format('%s.%s', n.nspname, ic.relname) AS name
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE NOT t.relispartition AND n.nspname IN (__SCHEMAS__)
)
SELECT 'duplicate-index', a.name, b.name
  FROM idx a JOIN idx b ON a.indrelid = b.indrelid AND a.indexrelid < b.indexrelid
 WHERE a.keys = b.keys AND a.classes = b.classes AND a.exprs = b.exprs AND a.pred = b.pred AND a.relam = b.relam
UNION ALL
SELECT 'redundant-index', a.name, b.name
  FROM idx a JOIN idx b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
 WHERE NOT a.indisunique AND a.exprs = '' AND b.exprs = '' AND a.pred = b.pred AND a.relam = b.relam
   AND a.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')
   AND b.keys LIKE a.keys || ' %' AND b.classes LIKE a.classes || ' %'
ORDER BY 1, 2, 3
"#;

/// Indexes queries cannot use: a failed `CREATE INDEX CONCURRENTLY`, or an index of a partitioned
/// table built `ON ONLY` the parent (none of its partitions has it).
const INVALID_INDEX_SQL: &str = r#"
SELECT format('%s.%s', n.nspname, ic.relname), t.relkind = 'p'
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE NOT i.indisvalid AND NOT t.relispartition AND n.nspname IN (__SCHEMAS__)
 ORDER BY 1
"#;

/// Tenant tables: ordinary or partitioned tables of `shop` with a tenant_id column, and tenants.
const RLS_SQL: &str = r#"
SELECT format('shop.%s', c.relname), c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p
                WHERE p.polrelid = c.oid
                  AND (0 = ANY (p.polroles) OR (SELECT oid FROM pg_roles WHERE rolname = 'shopbench_app') = ANY (p.polroles)))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'shop' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a
                                          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
 ORDER BY 1
"#;

const PARTITION_GRANT_SQL: &str = r#"
SELECT format('%s.%s', n.nspname, c.relname),
       string_agg(DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(acl.grantee) END || ':' || acl.privilege_type, ', ')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL aclexplode(c.relacl) acl
 WHERE c.relispartition AND c.relacl IS NOT NULL AND acl.grantee <> c.relowner
 GROUP BY 1
 ORDER BY 1
"#;

const APP_ROLE_SQL: &str = r#"
SELECT 'owns ' || format('%s.%s', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = 'shopbench_app')
UNION ALL
SELECT 'has BYPASSRLS or SUPERUSER'
  FROM pg_roles WHERE rolname = 'shopbench_app' AND (rolbypassrls OR rolsuper)
UNION ALL
SELECT 'can read materialized view ' || format('%s.%s', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'm' AND n.nspname IN (__SCHEMAS__)
   AND has_table_privilege('shopbench_app', c.oid, 'SELECT')
UNION ALL
SELECT 'can read view ' || format('%s.%s', n.nspname, c.relname) || ' which is not security_invoker'
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'v' AND n.nspname IN (__SCHEMAS__)
   AND has_table_privilege('shopbench_app', c.oid, 'SELECT')
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions) OR 'security_invoker=on' = ANY (c.reloptions), false)
ORDER BY 1
"#;

fn sql(template: &str) -> String {
    template.replace("__SCHEMAS__", AUDITED_SCHEMAS)
}

/// Everything `check` finds; no problem means the schema is as the migrations made it.
pub async fn check(target: &PostgresTarget) -> Result<Vec<Finding>> {
    let mut conn = super::apply::connect_admin(target).await?;
    check_connection(&mut conn).await
}

/// [`check`] on an open connection.
pub async fn check_connection(conn: &mut PgConnection) -> Result<Vec<Finding>> {
    let db = |context: &'static str| move |e| Error::db(context, e);
    let mut findings = Vec::new();

    let provisioned: bool =
        sqlx::query_scalar("SELECT to_regclass('shopbench_meta.schema_migrations') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(db("cannot read the catalog"))?;
    if !provisioned {
        findings.push(problem(
            "migrations",
            "the schema is not provisioned: run `shopbench schema apply`",
        ));
        return Ok(findings);
    }

    let applied: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT version, name, checksum FROM shopbench_meta.schema_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("cannot read shopbench_meta.schema_migrations"))?;
    for m in MIGRATIONS {
        match applied.iter().find(|(v, _, _)| *v == m.version) {
            None => findings.push(problem(
                "migrations",
                format!("{} is not applied: run `shopbench schema apply`", m.name),
            )),
            Some((_, _, sum)) if *sum != m.checksum() => findings.push(problem(
                "migrations",
                format!(
                    "{} was applied with different contents than this shopbench carries",
                    m.name
                ),
            )),
            Some(_) => {}
        }
    }
    for (version, name, _) in &applied {
        if !MIGRATIONS.iter().any(|m| m.version == *version) {
            findings.push(problem(
                "migrations",
                format!("{name} (version {version}) is unknown to this shopbench"),
            ));
        }
    }

    let (removed, added) = snapshot::diff(conn).await?;
    for item in removed {
        findings.push(problem("drift", format!("missing: {item}")));
    }
    for item in added {
        findings.push(problem("drift", format!("not from the migrations: {item}")));
    }

    let rows: Vec<(String, String, String)> = sqlx::query_as(&sql(UNINDEXED_FK_SQL))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("cannot list foreign keys"))?;
    for (table, name, def) in rows {
        findings.push(problem(
            "unindexed-fk",
            format!("{table}: {name} {def} has no index starting with its columns"),
        ));
    }

    let rows: Vec<(String, String, String)> = sqlx::query_as(&sql(DUPLICATE_INDEX_SQL))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("cannot list indexes"))?;
    for (kind, a, b) in rows {
        if kind == "duplicate-index" {
            findings.push(problem(
                "duplicate-index",
                format!("{a} and {b} index the same columns"),
            ));
        } else {
            findings.push(problem(
                "redundant-index",
                format!("{a} is a prefix of {b}"),
            ));
        }
    }

    let rows: Vec<(String, bool)> = sqlx::query_as(&sql(INVALID_INDEX_SQL))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("cannot list indexes"))?;
    for (index, partitioned) in rows {
        findings.push(problem(
            "invalid-index",
            match partitioned {
                true => format!(
                    "{index} is invalid: it exists on the partitioned parent only, not on its \
                     partitions; drop it and create it again without ONLY"
                ),
                false => format!("{index} is invalid: drop it and create it again (or REINDEX it)"),
            },
        ));
    }

    let rows: Vec<(String, bool, bool, bool)> = sqlx::query_as(RLS_SQL)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("cannot list tenant tables"))?;
    for (table, enabled, forced, has_policy) in rows {
        if !enabled {
            findings.push(problem(
                "rls",
                format!("{table}: row-level security is not enabled"),
            ));
        } else if !forced {
            findings.push(problem(
                "rls",
                format!("{table}: row-level security is not forced"),
            ));
        }
        if !has_policy {
            findings.push(problem(
                "rls",
                format!("{table}: no policy for shopbench_app"),
            ));
        }
    }

    let rows: Vec<(String, String)> = sqlx::query_as(PARTITION_GRANT_SQL)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("cannot list partition grants"))?;
    for (part, grants) in rows {
        findings.push(problem(
            "partition-grant",
            format!("{part} grants {grants}: grants on a partition bypass the parent's policies"),
        ));
    }

    let rows: Vec<String> = sqlx::query_scalar(&sql(APP_ROLE_SQL))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("cannot audit shopbench_app"))?;
    for what in rows {
        findings.push(problem("app-role", format!("shopbench_app {what}")));
    }

    findings.extend(bulk_load(conn).await?);

    let preloaded: bool = sqlx::query_scalar(
        "SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db("cannot read shared_preload_libraries"))?;
    if !preloaded {
        findings.push(Finding {
            severity: Severity::Note,
            category: "monitoring",
            detail: "pg_stat_statements is not in shared_preload_libraries: monitoring.slow_queries and run \
                     statistics will be empty (add it and restart the server)"
                .into(),
        });
    }
    Ok(findings)
}

/// The bulk-load window (migration 0012): a window left open (a seed running or interrupted),
/// and, outside a window, the loader's INSERT on the audit log or a disabled audit trigger.
async fn bulk_load(conn: &mut PgConnection) -> Result<Vec<Finding>> {
    let db = |context: &'static str| move |e| Error::db(context, e);
    let mut findings = Vec::new();
    let present: bool =
        sqlx::query_scalar("SELECT to_regclass('shopbench_meta.bulk_load_windows') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(db("cannot read the catalog"))?;
    if !present {
        return Ok(findings); // reported above as a migration not applied
    }
    let open: Vec<(String, String)> = sqlx::query_as(
        "SELECT run_id::text, to_char(opened_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM shopbench_meta.bulk_load_windows \
          WHERE closed_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("cannot read shopbench_meta.bulk_load_windows"))?;
    for (run, since) in &open {
        findings.push(problem(
            "bulk-load",
            format!("bulk-load window {run} open since {since}: audit triggers off and the loader may write audit.log until the seed finishes (`shopbench seed --resume`)"),
        ));
    }
    if !open.is_empty() {
        return Ok(findings);
    }
    let granted: bool =
        sqlx::query_scalar("SELECT has_table_privilege('shopbench_loader', 'audit.log', 'INSERT')")
            .fetch_one(&mut *conn)
            .await
            .map_err(db("cannot read audit.log's privileges"))?;
    if granted {
        findings.push(problem(
            "bulk-load",
            "shopbench_loader may INSERT into audit.log outside a bulk-load window",
        ));
    }
    let disabled: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger t \
          WHERE t.tgname LIKE 'audit\\_%' AND t.tgenabled = 'D' ORDER BY 1, 2",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("cannot list audit triggers"))?;
    for (table, trigger) in disabled {
        findings.push(problem(
            "audit",
            format!("{table}: audit trigger {trigger} is disabled outside a bulk-load window"),
        ));
    }
    Ok(findings)
}
