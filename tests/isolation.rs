//! Tenant isolation as the application role: RLS forced on every tenant table, fail-closed
//! without a tenant, composite keys that stop cross-tenant references even for a superuser.

use sqlx::PgConnection;

use crate::common::{load_fixture, rejected, tenant, TestDb};

/// Every ordinary or partitioned table of `shop` with a tenant_id column (the catalog decides,
/// so a new table is covered without touching this test).
async fn tenant_tables(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'shop' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
          ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn tenant_sees_only_its_rows_in_every_table() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let tables = tenant_tables(&mut admin).await;
    assert!(tables.len() >= 19, "{tables:?}");

    for (me, other) in [('a', 'b'), ('b', 'a')] {
        let mut app = db.app(Some(tenant(me))).await;
        for table in &tables {
            let (mine, theirs, total): (i64, i64, i64) = sqlx::query_as(&format!(
                "SELECT count(*) FILTER (WHERE tenant_id = $1), count(*) FILTER (WHERE tenant_id = $2), count(*) FROM shop.{table}"
            ))
            .bind(tenant(me))
            .bind(tenant(other))
            .fetch_one(&mut app)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
            assert!(mine > 0, "{table}: tenant {me} sees none of its own rows");
            assert_eq!(theirs, 0, "{table}: tenant {me} sees tenant {other}'s rows");
            assert_eq!(mine, total, "{table}");
        }
        let visible: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM shop.tenants")
            .fetch_all(&mut app)
            .await
            .unwrap();
        assert_eq!(visible, vec![tenant(me)]);
    }
    db.finish().await;
}

#[tokio::test]
async fn no_tenant_means_no_rows_and_no_writes() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let tables = tenant_tables(&mut admin).await;

    let mut app = db.app(None).await;
    // unset, then reset to '' as a transaction pooler does
    for setup in [
        "RESET app.tenant_id",
        "SELECT set_config('app.tenant_id', '', false)",
    ] {
        sqlx::raw_sql(setup).execute(&mut app).await.unwrap();
        for table in &tables {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM shop.{table}"))
                .fetch_one(&mut app)
                .await
                .unwrap_or_else(|e| panic!("{table}: {e}"));
            assert_eq!(n, 0, "{table} visible without a tenant ({setup})");
        }
        let err = rejected(
            &mut app,
            &format!(
                "INSERT INTO shop.categories (tenant_id, name, slug) VALUES ('{}', 'x', 'x')",
                tenant('a')
            ),
        )
        .await;
        assert_eq!(err.code().as_deref(), Some("42501"), "{}", err.message());
        let updated = sqlx::query("UPDATE shop.products SET name = 'hijacked'")
            .execute(&mut app)
            .await
            .unwrap();
        assert_eq!(updated.rows_affected(), 0);
    }
    db.finish().await;
}

#[tokio::test]
async fn writes_into_another_tenant_are_rejected() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let mut app = db.app(Some(tenant('a'))).await;
    let b = tenant('b');
    let err = rejected(
        &mut app,
        &format!("INSERT INTO shop.categories (tenant_id, name, slug) VALUES ('{b}', 'x', 'x')"),
    )
    .await;
    assert_eq!(err.code().as_deref(), Some("42501"));
    let err = rejected(
        &mut app,
        &format!("UPDATE shop.categories SET tenant_id = '{b}', slug = 'moved'"),
    )
    .await;
    assert_eq!(err.code().as_deref(), Some("42501"));
    // B's rows are invisible, so they cannot be changed or deleted either
    let n = sqlx::query("DELETE FROM shop.product_images WHERE tenant_id = $1")
        .bind(b)
        .execute(&mut app)
        .await
        .unwrap();
    assert_eq!(n.rows_affected(), 0);
    // switching the tenant per transaction (SET LOCAL) as behind a transaction pooler
    let mut tx = sqlx::Connection::begin(&mut app).await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(b.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM shop.orders")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(seen, 2);
    tx.commit().await.unwrap();
    let back: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM shop.orders")
        .fetch_all(&mut app)
        .await
        .unwrap();
    assert_eq!(back, vec![tenant('a')]);
    db.finish().await;
}

#[tokio::test]
async fn cross_tenant_reference_is_rejected_even_for_a_superuser() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    // tenant a's order line pointing at tenant b's product
    let err = rejected(
        &mut admin,
        "UPDATE shop.order_items SET product_id = 'b0000000-0000-7000-8000-0000000000d1', variant_id = NULL
          WHERE tenant_id = 'a0000000-0000-7000-8000-000000000000'",
    )
    .await;
    assert_eq!(err.code().as_deref(), Some("23503"));
    assert_eq!(
        err.constraint(),
        Some("order_items_tenant_id_product_id_fkey")
    );
    // tenant a's product in tenant b's category
    let err = rejected(
        &mut admin,
        "UPDATE shop.products SET category_id = 'b0000000-0000-7000-8000-0000000000c2' WHERE id = 'a0000000-0000-7000-8000-0000000000d2'",
    )
    .await;
    assert_eq!(err.code().as_deref(), Some("23503"));
    db.finish().await;
}

#[tokio::test]
async fn role_model_holds() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let roles: Vec<(String, bool, bool, bool)> = sqlx::query_as(
        "SELECT rolname::text, rolcanlogin, rolbypassrls, rolsuper FROM pg_roles WHERE rolname LIKE 'shopbench\\_%' ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        roles.contains(&("shopbench_app".into(), true, false, false)),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("shopbench_loader".into(), true, true, false)),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("shopbench_owner".into(), false, true, false)),
        "{roles:?}"
    );
    let not_owned_by_owner: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ('shop', 'audit', 'archive', 'monitoring') AND pg_get_userbyid(c.relowner) <> 'shopbench_owner'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(not_owned_by_owner, 0);

    // the application role: no audit log, no partitions, no materialized view, no archive
    let mut app = db.app(Some(tenant('a'))).await;
    for sql in [
        "SELECT count(*) FROM audit.log",
        "SELECT count(*) FROM shop.orders_p2024_03",
        "SELECT count(*) FROM shop.orders_default",
        "SELECT count(*) FROM shop.product_analytics",
        "SELECT shop.archive_month('2024-03-01')",
        "SELECT shop.refresh_product_analytics()",
    ] {
        let err = rejected(&mut app, sql).await;
        assert_eq!(
            err.code().as_deref(),
            Some("42501"),
            "{sql}: {}",
            err.message()
        );
    }
    // the loader bypasses RLS and sees both tenants
    let mut loader = db.loader().await;
    let tenants: i64 = sqlx::query_scalar("SELECT count(DISTINCT tenant_id) FROM shop.orders")
        .fetch_one(&mut loader)
        .await
        .unwrap();
    assert_eq!(tenants, 2);
    db.finish().await;
}
