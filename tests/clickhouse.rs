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

/// The ClickHouse server to test against, or None (the test is skipped) when there is none and
/// SHOPBENCH_REQUIRE_CLICKHOUSE is unset.
async fn server() -> Option<platform::SecretUrl> {
    let settings = settings();
    if !services::clickhouse_available(&settings) {
        assert!(
            std::env::var_os("SHOPBENCH_REQUIRE_CLICKHOUSE").is_none(),
            "SHOPBENCH_REQUIRE_CLICKHOUSE is set but ClickHouse is neither installed nor configured"
        );
        eprintln!("skipped: no ClickHouse installed or configured");
        return None;
    }
    Some(
        services::clickhouse_url(&settings)
            .await
            .expect("ClickHouse"),
    )
}

#[tokio::test]
async fn analytics_schema_applies_twice_and_answers_tenant_queries() {
    let Some(url) = server().await else {
        return;
    };
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

/// A loopback proxy in front of ClickHouse whose first connection carries the client's bytes to
/// the server but never carries the reply back: the server inserts the rows and the client never
/// hears of it. Later connections pass both ways. Returns the proxy's port.
async fn swallowing_first_reply(server: std::net::SocketAddr) -> u16 {
    use tokio::io::AsyncWriteExt;
    crate::common::proxy::proxy(server, |mut client, mut upstream| async move {
        let (mut from_client, _to_client) = client.split();
        let (mut from_server, mut to_server) = upstream.split();
        let mut sink = tokio::io::sink();
        let _ = tokio::join!(
            tokio::io::copy(&mut from_client, &mut to_server),
            tokio::io::copy(&mut from_server, &mut sink),
        );
        let _ = upstream.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn a_seed_insert_that_gets_no_reply_times_out_and_is_inserted_again_exactly_once() {
    use generator::load::clickhouse::{self as chload, Hours, Target};
    use generator::phase::Phase;

    let Some(url) = server().await else {
        return;
    };
    let database = format!("sbtest_{}", Uuid::new_v4().simple());
    schema::clickhouse::apply(&url, &database).await.unwrap();

    let server = {
        let u = url.expose();
        let host = u.host_str().unwrap().to_string();
        tokio::net::lookup_host((host, u.port_or_known_default().unwrap()))
            .await
            .unwrap()
            .next()
            .unwrap()
    };
    let port = swallowing_first_reply(server).await;
    let mut proxied = url.expose().clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(port)).unwrap();
    let proxied = platform::SecretUrl::new(proxied);
    let mut target = Target::new(
        schema::clickhouse::client(&proxied, Some(&database)),
        database.clone(),
    );
    // Long enough that a healthy insert of the chunk (200k rows) on a busy machine is never cut
    // short; the swallowed reply is never coming, so the first attempt times out whatever this is.
    target.timeout = std::time::Duration::from_secs(10);

    let model = crate::common::tiny_model().await;
    let hours = Hours::new(&model);
    let warnings = std::sync::Mutex::new(Vec::new());
    let (rows, retried) = chload::insert_chunk_retrying(
        &target,
        &model,
        Phase::ChEvents,
        0,
        &hours,
        false,
        &|line| warnings.lock().unwrap().push(line.to_string()),
    )
    .await
    .expect("the second attempt goes through");
    let warnings = warnings.into_inner().unwrap();
    assert!(retried);
    // One warning at least: the first attempt's. A later attempt may also fail on a machine busy
    // enough, and is retried the same way; the counts below hold either way.
    assert!(!warnings.is_empty());
    assert!(
        warnings[0].contains("chunk 0 of") && warnings[0].contains("attempt 1 of"),
        "{}",
        warnings[0]
    );
    if let Some(password) = url.password() {
        assert!(!warnings[0].contains(&password), "no secret in a warning");
    }

    // The first attempt's rows reached the server; the retry deleted them before inserting again.
    let expected: u64 = Phase::ChEvents
        .range(&model, 0)
        .map(|h| hours.events[h as usize])
        .sum();
    assert!(expected > 0);
    assert_eq!(rows, expected);
    let direct = schema::clickhouse::client(&url, Some(&database));
    let stored: u64 = direct
        .query("SELECT count() FROM events")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(stored, expected, "every row of the chunk exactly once");
    let distinct: u64 = direct
        .query("SELECT uniqExact(event_id) FROM events")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(distinct, expected);

    schema::clickhouse::reset(&url, &database).await.unwrap();
}
