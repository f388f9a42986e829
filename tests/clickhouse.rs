//! The ClickHouse analytics schema applied and queried on a real server (the managed one, or
//! CLICKHOUSE_URL). Skipped only when no ClickHouse is installed or configured, and then only if
//! SHOPBENCH_REQUIRE_CLICKHOUSE is unset (CI sets it).

use clickhouse::Row;
use serde::Serialize;
use uuid::Uuid;

use crate::common::settings;
use platform::schema;
use platform::services;

#[derive(Row, Serialize)]
struct Event {
    #[serde(with = "clickhouse::serde::uuid")]
    tenant_id: Uuid,
    created_at: u32,
    event_type: String,
    #[serde(with = "clickhouse::serde::uuid")]
    event_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    user_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    session_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    product_id: Uuid,
    properties: String,
}

#[derive(Row, Serialize)]
struct OrderFact {
    #[serde(with = "clickhouse::serde::uuid")]
    tenant_id: Uuid,
    created_at: u32,
    #[serde(with = "clickhouse::serde::uuid")]
    order_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    order_item_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    user_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    product_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    variant_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    category_id: Uuid,
    quantity: u32,
    /// Decimal(18, 4) travels as an Int64 of ten-thousandths
    unit_price: i64,
    line_total: i64,
    currency: [u8; 3],
    status: String,
    version: u64,
}

#[tokio::test]
async fn analytics_schema_applies_twice_and_answers_tenant_queries() {
    let settings = settings();
    if !services::clickhouse_available(&settings) {
        assert!(
            std::env::var_os("SHOPBENCH_REQUIRE_CLICKHOUSE").is_none(),
            "SHOPBENCH_REQUIRE_CLICKHOUSE is set but ClickHouse is neither installed nor configured"
        );
        eprintln!("skipped: no ClickHouse installed or configured");
        return;
    }
    let url = services::clickhouse_url(&settings)
        .await
        .expect("ClickHouse");
    let database = format!("sbtest_{}", Uuid::new_v4().simple());
    schema::clickhouse::apply(&url, &database).await.unwrap();
    schema::clickhouse::apply(&url, &database).await.unwrap();
    assert!(schema::clickhouse::missing_tables(&url, &database)
        .await
        .unwrap()
        .is_empty());

    let client = schema::clickhouse::client(&url, Some(&database));
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let day = 1_709_640_000u32; // 2024-03-05 12:00:00 UTC
    let mut insert = client.insert::<Event>("events").await.unwrap();
    for i in 0..1000u32 {
        insert
            .write(&Event {
                tenant_id: if i % 4 == 0 { b } else { a },
                created_at: day + i * 60,
                event_type: ["product.viewed", "cart.added", "checkout.started"][(i % 3) as usize]
                    .to_string(),
                event_id: Uuid::now_v7(),
                user_id: Uuid::nil(),
                session_id: Uuid::now_v7(),
                product_id: Uuid::now_v7(),
                properties: "{}".into(),
            })
            .await
            .unwrap();
    }
    insert.end().await.unwrap();

    let per_tenant: u64 = client
        .query(
            "SELECT count() FROM events WHERE tenant_id = ? AND created_at >= ? AND created_at < ?",
        )
        .bind(a)
        .bind(day)
        .bind(day + 86_400)
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(per_tenant, 750);

    let mut insert = client.insert::<OrderFact>("order_facts").await.unwrap();
    for (version, status) in [(1u64, "pending"), (2, "paid")] {
        insert
            .write(&OrderFact {
                tenant_id: a,
                created_at: day,
                order_id: Uuid::from_u128(1),
                order_item_id: Uuid::from_u128(2),
                user_id: Uuid::from_u128(3),
                product_id: Uuid::from_u128(4),
                variant_id: Uuid::from_u128(5),
                category_id: Uuid::from_u128(6),
                quantity: 2,
                unit_price: 499_990,
                line_total: 999_980,
                currency: *b"EUR",
                status: status.into(),
                version,
            })
            .await
            .unwrap();
    }
    insert.end().await.unwrap();
    let (revenue, status): (f64, String) = client
        .query("SELECT toFloat64(sum(line_total)), any(status) FROM order_facts FINAL WHERE tenant_id = ?")
        .bind(a)
        .fetch_one()
        .await
        .unwrap();
    assert!((revenue - 99.998).abs() < 1e-9, "{revenue}");
    assert_eq!(status, "paid", "the latest version of the row wins");

    schema::clickhouse::reset(&url, &database).await.unwrap();
}
