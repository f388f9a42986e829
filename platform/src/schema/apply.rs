//! `shopbench schema apply` and `reset` on PostgreSQL.
//!
//! The bootstrap runs as the connecting administrator (roles and extensions need a superuser);
//! each pending migration then runs in one transaction under `SET LOCAL ROLE shopbench_owner`
//! together with its row in `shopbench_meta.schema_migrations`, so a migration is applied
//! entirely or not at all. A session advisory lock serialises concurrent applies to one database.

use sqlx::{Connection, PgConnection};

use super::{snapshot, Migration, BOOTSTRAP, MIGRATIONS, SCHEMAS};
use crate::error::{Error, Result};
use crate::services::PostgresTarget;

/// What an apply did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Migrations applied by this call, in order.
    pub applied: Vec<&'static str>,
    /// Migrations that were already there.
    pub already_applied: usize,
}

const LOCK_KEY: i64 = 0x5348_4f50_4245_4e43; // "SHOPBENC"

pub(crate) async fn connect_admin(target: &PostgresTarget) -> Result<PgConnection> {
    PgConnection::connect(target.admin.expose().as_str())
        .await
        .map_err(|e| Error::Unreachable {
            service: "PostgreSQL",
            url: target.admin.to_string(),
            reason: crate::error::describe_sqlx(&e),
        })
}

async fn require_superuser(conn: &mut PgConnection) -> Result<()> {
    let is_super: bool =
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| Error::db("cannot read the connecting role", e))?;
    if !is_super {
        return Err(Error::service(
            "PostgreSQL",
            "schema apply needs a superuser connection (it creates the roles, one with BYPASSRLS, and the \
             pg_stat_statements extension); point DATABASE_URL at a superuser",
        ));
    }
    Ok(())
}

/// Applies the bootstrap and every pending migration. A second call applies nothing.
pub async fn apply(
    target: &PostgresTarget,
    app_password: Option<&str>,
    loader_password: Option<&str>,
) -> Result<ApplyReport> {
    let mut conn = connect_admin(target).await?;
    require_superuser(&mut conn).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut conn)
        .await
        .map_err(|e| Error::db("cannot take the schema lock", e))?;
    let result = apply_locked(&mut conn, app_password, loader_password).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK_KEY)
        .execute(&mut conn)
        .await;
    result
}

async fn apply_locked(
    conn: &mut PgConnection,
    app_password: Option<&str>,
    loader_password: Option<&str>,
) -> Result<ApplyReport> {
    sqlx::raw_sql(BOOTSTRAP)
        .execute(&mut *conn)
        .await
        .map_err(|source| Error::Migration {
            file: "bootstrap.sql".into(),
            source,
        })?;
    for (role, password) in [
        ("shopbench_app", app_password),
        ("shopbench_loader", loader_password),
    ] {
        if let Some(password) = password {
            set_password(conn, role, password).await?;
        }
    }

    let applied: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT version, name, checksum FROM shopbench_meta.schema_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| Error::db("cannot read shopbench_meta.schema_migrations", e))?;
    if let Some((version, name, _)) = applied
        .iter()
        .find(|(v, _, _)| !MIGRATIONS.iter().any(|m| m.version == *v))
    {
        return Err(Error::service(
            "PostgreSQL",
            format!("the database has migration {version} ({name}) that this shopbench does not know; use the shopbench that applied it, or `shopbench schema reset`"),
        ));
    }
    let mut report = ApplyReport::default();
    for migration in MIGRATIONS {
        match applied.iter().find(|(v, _, _)| *v == migration.version) {
            Some((_, _, checksum)) if *checksum == migration.checksum() => report.already_applied += 1,
            Some(_) => {
                return Err(Error::service(
                    "PostgreSQL",
                    format!(
                        "migration {} was applied with different contents than this shopbench carries; \
                         migrations are never edited after release: run `shopbench schema reset` on a disposable database",
                        migration.name
                    ),
                ))
            }
            None => {
                apply_one(conn, migration).await?;
                report.applied.push(migration.name);
            }
        }
    }
    if !report.applied.is_empty() {
        snapshot::store(conn).await?;
    }
    Ok(report)
}

async fn apply_one(conn: &mut PgConnection, migration: &Migration) -> Result<()> {
    let fail = |source| Error::Migration {
        file: migration.name.to_string(),
        source,
    };
    let mut tx = conn.begin().await.map_err(fail)?;
    sqlx::query("SET LOCAL ROLE shopbench_owner")
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    sqlx::query("SET LOCAL search_path TO pg_catalog, public")
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    sqlx::raw_sql(migration.sql)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    sqlx::query("INSERT INTO shopbench_meta.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
        .bind(migration.version)
        .bind(migration.name)
        .bind(migration.checksum())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    tx.commit().await.map_err(fail)
}

/// Sets a role's password without the statement (which holds it) reaching pg_stat_statements or
/// the server log.
async fn set_password(conn: &mut PgConnection, role: &str, password: &str) -> Result<()> {
    let fail = |e| Error::db(format!("cannot set the password of {role}"), e);
    let mut tx = conn.begin().await.map_err(fail)?;
    for setting in [
        "SET LOCAL log_statement = 'none'",
        "SET LOCAL log_min_duration_statement = -1",
        "SET LOCAL pg_stat_statements.track_utility = off",
    ] {
        let _ = sqlx::query(setting).execute(&mut *tx).await;
    }
    let statement: String =
        sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
            .bind(role)
            .bind(password)
            .fetch_one(&mut *tx)
            .await
            .map_err(fail)?;
    sqlx::raw_sql(&statement)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    tx.commit().await.map_err(fail)
}

/// Drops shopbench's schemas (all data!) and applies everything again.
pub async fn reset(
    target: &PostgresTarget,
    app_password: Option<&str>,
    loader_password: Option<&str>,
) -> Result<ApplyReport> {
    let mut conn = connect_admin(target).await?;
    require_superuser(&mut conn).await?;
    let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", SCHEMAS.join(", "));
    sqlx::raw_sql(&drop)
        .execute(&mut conn)
        .await
        .map_err(|e| Error::db("cannot drop shopbench's schemas", e))?;
    drop_conn(conn).await;
    apply(target, app_password, loader_password).await
}

async fn drop_conn(conn: PgConnection) {
    let _ = conn.close().await;
}
