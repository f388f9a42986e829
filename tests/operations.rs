//! Schema behaviour the workload relies on: stock reservation by one conditional UPDATE under
//! concurrency, product_analytics refreshed concurrently, monitoring views for pg_monitor.

use sqlx::{Connection, PgConnection};

use crate::common::{load_fixture, tenant, TestDb};

/// 16 clients try 800 reservations of one unit against a stock of 100: exactly 100 succeed, the
/// rest see zero rows (out of stock), and the CHECK keeps reserved within quantity.
#[tokio::test]
async fn conditional_update_reserves_exactly_the_stock() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    sqlx::query("UPDATE shop.product_inventory SET quantity = 100, reserved_quantity = 0 WHERE tenant_id = $1")
        .bind(tenant('a'))
        .execute(&mut admin)
        .await
        .unwrap();

    let mut workers = Vec::new();
    for _ in 0..16 {
        let mut conn = db.app(Some(tenant('a'))).await;
        workers.push(tokio::spawn(async move {
            let mut reserved = 0u32;
            for _ in 0..50 {
                let mut tx = conn.begin().await.unwrap();
                let hit = sqlx::query(
                    "UPDATE shop.product_inventory SET reserved_quantity = reserved_quantity + 1
                      WHERE tenant_id = shop.current_tenant() AND variant_id = 'a0000000-0000-7000-8000-0000000000e1'
                        AND quantity - reserved_quantity >= 1
                  RETURNING available_quantity",
                )
                .fetch_optional(&mut *tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
                if hit.is_some() {
                    reserved += 1;
                }
            }
            reserved
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    assert_eq!(total, 100);
    let (quantity, reserved, available): (i32, i32, i32) = sqlx::query_as(
        "SELECT quantity, reserved_quantity, available_quantity FROM shop.product_inventory WHERE tenant_id = $1",
    )
    .bind(tenant('a'))
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!((quantity, reserved, available), (100, 100, 0));
    db.finish().await;
}

#[tokio::test]
async fn product_analytics_counts_products_per_category_and_refreshes_concurrently() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let mut loader = db.loader().await;
    sqlx::query("SELECT shop.refresh_product_analytics()")
        .execute(&mut loader)
        .await
        .unwrap();
    let rows: Vec<(uuid::Uuid, String, i64, i64)> = sqlx::query_as(
        "SELECT tenant_id, category_name::text, product_count, total_inventory::bigint FROM shop.product_analytics ORDER BY 1",
    )
    .fetch_all(&mut loader)
    .await
    .unwrap();
    // per tenant: both products sit in Kitchen; one has a variant with 100 in stock
    assert_eq!(
        rows,
        vec![
            (tenant('a'), "Kitchen".to_string(), 2, 100),
            (tenant('b'), "Kitchen".to_string(), 2, 100)
        ]
    );
    // the refresh is CONCURRENTLY: readers are not blocked (it needs the unique index)
    let unique: bool = sqlx::query_scalar(
        "SELECT bool_or(indisunique) FROM pg_index WHERE indrelid = 'shop.product_analytics'::regclass",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(unique);
    db.finish().await;
}

#[tokio::test]
async fn monitoring_views_serve_pg_monitor_with_partitions_summed() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let role = format!("sbmon_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE ROLE {role} LOGIN; GRANT pg_monitor TO {role}; GRANT CONNECT ON DATABASE {} TO {role}", db.name))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = db.target.admin.expose().clone();
    let _ = url.set_username(&role);
    let _ = url.set_password(None);
    // the managed cluster uses passwords; give the probe role one when needed
    sqlx::raw_sql(&format!("ALTER ROLE {role} PASSWORD 'monitor-pw'"))
        .execute(&mut admin)
        .await
        .unwrap();
    let _ = url.set_password(Some("monitor-pw"));
    let mut monitor = PgConnection::connect(url.as_str()).await.unwrap();
    let (partitions, total): (i64, i64) = sqlx::query_as(
        "SELECT partitions, total_bytes::bigint FROM monitoring.table_sizes WHERE schemaname = 'shop' AND tablename = 'orders'",
    )
    .fetch_one(&mut monitor)
    .await
    .unwrap();
    assert!(partitions >= 6, "{partitions}");
    assert!(total > 0);
    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM monitoring.slow_queries")
        .fetch_one(&mut monitor)
        .await
        .unwrap();
    drop(monitor);
    sqlx::raw_sql(&format!(
        "REVOKE ALL ON DATABASE {} FROM {role}; DROP ROLE {role}",
        db.name
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    db.finish().await;
}
