//! The catalog of shopbench's schemas as a set of text lines: relations with their owner, RLS
//! flags and grants, columns, constraints, indexes, policies, triggers, functions (body hashed),
//! views, schemas and the three roles. Partitions and their clones are left out (they come and go
//! with time and archiving) and so is the `archive` schema. `apply` stores the set after the
//! migrations; `check` compares the live set with it.

use sqlx::PgConnection;

use crate::error::{Error, Result};

const SNAPSHOT_SQL: &str = r#"
WITH nsp AS (
    SELECT oid, nspname FROM pg_namespace
     WHERE nspname IN ('shop', 'audit', 'monitoring', 'shopbench_meta')
), rels AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relowner, c.relrowsecurity, c.relforcerowsecurity,
           c.relacl, c.reloptions
      FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace
     WHERE NOT c.relispartition AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
)
SELECT item FROM (
    SELECT format('relation %s.%s kind=%s owner=%s rls=%s force=%s acl=%s options=%s',
                  nspname, relname, relkind, pg_get_userbyid(relowner), relrowsecurity,
                  relforcerowsecurity, relacl::text, reloptions::text)
      FROM rels
    UNION ALL
    SELECT format('column %s.%s.%s %s notnull=%s default=%s generated=%s',
                  r.nspname, r.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attgenerated)
      FROM rels r
      JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    UNION ALL
    SELECT format('constraint %s.%s %s %s', r.nspname, r.relname, con.conname, pg_get_constraintdef(con.oid))
      FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
     WHERE con.conparentid = 0
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT format('policy %s.%s %s cmd=%s permissive=%s roles=%s using=%s check=%s',
                  r.nspname, r.relname, p.polname, p.polcmd, p.polpermissive,
                  (SELECT string_agg(CASE WHEN rid = 0 THEN 'public' ELSE pg_get_userbyid(rid) END, ',' ORDER BY 1)
                     FROM unnest(p.polroles) rid),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM rels r JOIN pg_policy p ON p.polrelid = r.oid
    UNION ALL
    SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s.%s(%s) secdef=%s volatility=%s owner=%s acl=%s body=%s config=%s',
                  n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prosecdef,
                  p.provolatile, pg_get_userbyid(p.proowner), p.proacl::text, md5(p.prosrc), p.proconfig::text)
      FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
    UNION ALL
    SELECT format('view %s.%s definition=%s', nspname, relname, md5(pg_get_viewdef(oid)))
      FROM rels WHERE relkind IN ('v', 'm')
    UNION ALL
    SELECT format('schema %s owner=%s acl=%s', n.nspname, pg_get_userbyid(s.nspowner), s.nspacl::text)
      FROM nsp n JOIN pg_namespace s ON s.oid = n.oid
    UNION ALL
    SELECT format('role %s login=%s bypassrls=%s superuser=%s', rolname, rolcanlogin, rolbypassrls, rolsuper)
      FROM pg_roles WHERE rolname IN ('shopbench_owner', 'shopbench_app', 'shopbench_loader')
) AS items(item)
ORDER BY item
"#;

/// The live catalog's lines, sorted. Runs in its own transaction with a fixed search_path so
/// that every name is printed schema-qualified the same way each time.
pub async fn take(conn: &mut PgConnection) -> Result<Vec<String>> {
    let mut tx = sqlx::Connection::begin(conn)
        .await
        .map_err(|e| Error::db("cannot read the catalog", e))?;
    sqlx::query("SET LOCAL search_path TO pg_catalog")
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::db("cannot read the catalog", e))?;
    let items: Vec<String> = sqlx::query_scalar(SNAPSHOT_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| Error::db("cannot read the catalog", e))?;
    tx.commit()
        .await
        .map_err(|e| Error::db("cannot read the catalog", e))?;
    Ok(items)
}

/// Replaces the stored snapshot with the live catalog.
pub async fn store(conn: &mut PgConnection) -> Result<()> {
    let items = take(conn).await?;
    let mut tx = sqlx::Connection::begin(conn)
        .await
        .map_err(|e| Error::db("cannot store the catalog snapshot", e))?;
    sqlx::query("DELETE FROM shopbench_meta.catalog_snapshot")
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::db("cannot store the catalog snapshot", e))?;
    sqlx::query("INSERT INTO shopbench_meta.catalog_snapshot (item) SELECT unnest($1::text[])")
        .bind(&items)
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::db("cannot store the catalog snapshot", e))?;
    tx.commit()
        .await
        .map_err(|e| Error::db("cannot store the catalog snapshot", e))
}

/// Lines only in the stored snapshot (removed since) and only in the live catalog (added).
pub async fn diff(conn: &mut PgConnection) -> Result<(Vec<String>, Vec<String>)> {
    let live = take(conn).await?;
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT item FROM shopbench_meta.catalog_snapshot ORDER BY item")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| Error::db("cannot read the catalog snapshot", e))?;
    let live_set: std::collections::BTreeSet<&String> = live.iter().collect();
    let stored_set: std::collections::BTreeSet<&String> = stored.iter().collect();
    let removed = stored_set
        .difference(&live_set)
        .map(|s| s.to_string())
        .collect();
    let added = live_set
        .difference(&stored_set)
        .map(|s| s.to_string())
        .collect();
    Ok((removed, added))
}
