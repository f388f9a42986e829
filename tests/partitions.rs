//! Partitioning: lookups by order id prune to one partition, rows outside the made months land in
//! the default partition, archiving detaches whole months (children first) with their foreign keys
//! re-pointed inside the archive, retention drops expired months.

use crate::common::{load_fixture, rejected, tenant, TestDb};

#[tokio::test]
async fn order_lookup_by_id_prunes_to_one_partition() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    let id = "018e0e7c-2200-7000-8000-0000000000a1";
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN (COSTS OFF) SELECT * FROM shop.orders WHERE tenant_id = '{}' AND id = '{id}' AND created_at = shop.uuidv7_time('{id}')",
        tenant('a')
    ))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("orders_p2024_03"), "{plan}");
    assert_eq!(
        plan.matches("on orders_").count(),
        1,
        "more than one partition scanned:\n{plan}"
    );

    // a prepared statement with a generic plan prunes at executor start-up
    sqlx::raw_sql(
        "SET plan_cache_mode = force_generic_plan;
         PREPARE by_id(uuid, uuid) AS SELECT total_amount FROM shop.orders WHERE tenant_id = $1 AND id = $2 AND created_at = shop.uuidv7_time($2)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE by_id('{}', '{id}')",
        tenant('a')
    ))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("Subplans Removed"), "{plan}");
    assert_eq!(plan.matches("on orders_").count(), 1, "{plan}");
    db.finish().await;
}

#[tokio::test]
async fn an_order_ids_time_is_read_inline_and_equals_the_text_form() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    let known: String = sqlx::query_scalar(
        "SELECT to_char(shop.uuidv7_time('018e0e7c-2200-7000-8000-0000000000a1') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(known, "2024-03-05 12:00:00.000"); // 0x018e0e7c2200 ms = 1709640000000
                                                  // migration 0015 reads the bytes; 0001 went through the text form: same instant for any id
    let (differ, compared): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE shop.uuidv7_time(id) IS DISTINCT FROM
                    to_timestamp((('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint) / 1000.0)),
                count(*)
           FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 20000)
                 UNION ALL SELECT shop.uuidv7(t) FROM generate_series(timestamptz '1970-01-01', '2100-01-01', interval '7 days') t) AS ids",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((differ, compared > 20_000), (0, true));
    // inlined, not called: a SET clause on the function would make every CHECK and lookup call it
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (VERBOSE, COSTS OFF) SELECT shop.uuidv7_time(id) FROM (VALUES (gen_random_uuid())) AS v(id)",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("to_timestamp") && !plan.contains("uuidv7_time"),
        "{plan}"
    );
    db.finish().await;
}

#[tokio::test]
async fn rows_outside_the_made_months_land_in_the_default_partition() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    let part: String = sqlx::query_scalar(
        "INSERT INTO shop.events (tenant_id, event_type, created_at) VALUES ($1, 'legacy.import', '2010-06-01') RETURNING tableoid::regclass::text",
    )
    .bind(tenant('a'))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(part, "shop.events_default");
    // the month cannot be made while its rows sit in the default partition: a clear error says so
    let err = rejected(
        &mut conn,
        "SELECT shop.create_month_partition('shop.events', '2010-06-01')",
    )
    .await;
    assert!(
        err.message().contains("default partition"),
        "{}",
        err.message()
    );
    // months ahead exist for every time-partitioned table
    let ahead: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE c.relname LIKE 'orders_p%' AND c.relname = 'orders_p' || to_char(now() + interval '2 months', 'YYYY_MM')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(ahead, 1);
    db.finish().await;
}

#[tokio::test]
async fn archiving_a_month_detaches_it_whole() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM shop.orders")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(before, 4);

    let mut loader = db.loader().await;
    let archived: Vec<String> = sqlx::query_scalar("SELECT shop.archive_month('2024-03-01')")
        .fetch_all(&mut loader)
        .await
        .unwrap();
    assert_eq!(
        archived,
        vec![
            "archive.payment_transactions_p2024_03",
            "archive.payments_p2024_03",
            "archive.order_status_history_p2024_03",
            "archive.order_items_p2024_03",
            "archive.orders_p2024_03",
        ]
    );
    for (live, archive, rows) in [
        ("shop.orders", "archive.orders_p2024_03", 4),
        ("shop.order_items", "archive.order_items_p2024_03", 2),
        ("shop.payments", "archive.payments_p2024_03", 2),
        (
            "shop.payment_transactions",
            "archive.payment_transactions_p2024_03",
            4,
        ),
        (
            "shop.order_status_history",
            "archive.order_status_history_p2024_03",
            2,
        ),
    ] {
        let left: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {live}"))
            .fetch_one(&mut admin)
            .await
            .unwrap();
        let kept: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {archive}"))
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!((left, kept), (0, rows), "{live}");
    }
    // the archive keeps its integrity: foreign keys between archived months, ledger append-only
    let fks: Vec<String> = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'archive.order_items_p2024_03'::regclass AND contype = 'f'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        fks.iter()
            .any(|d| d.contains("REFERENCES archive.orders_p2024_03")),
        "{fks:?}"
    );
    let err = rejected(
        &mut admin,
        "DELETE FROM archive.payment_transactions_p2024_03",
    )
    .await;
    assert!(err.message().contains("append-only"));
    let err = rejected(
        &mut admin,
        "UPDATE archive.order_items_p2024_03 SET order_id = gen_random_uuid()",
    )
    .await;
    assert_eq!(err.code().as_deref(), Some("23503"));
    // the application role sees nothing of it
    let mut app = db.app(Some(tenant('a'))).await;
    let err = rejected(&mut app, "SELECT count(*) FROM archive.orders_p2024_03").await;
    assert_eq!(err.code().as_deref(), Some("42501"));
    db.finish().await;
}

#[tokio::test]
async fn retention_drops_expired_event_months_and_keeps_financial_ones() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let mut loader = db.loader().await;
    let dropped: Vec<String> = sqlx::query_scalar("SELECT shop.drop_expired_partitions()")
        .fetch_all(&mut loader)
        .await
        .unwrap();
    assert!(
        dropped.contains(&"shop.events_p2024_03".to_string()),
        "{dropped:?}"
    );
    assert!(
        dropped.contains(&"shop.page_views_p2024_03".to_string()),
        "{dropped:?}"
    );
    assert!(
        !dropped
            .iter()
            .any(|d| d.contains("order") || d.contains("payment") || d.contains("log")),
        "{dropped:?}"
    );
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM shop.orders")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(orders, 4);
    // archived order months go only after seven years
    sqlx::query("SELECT shop.archive_month('2024-03-01')")
        .execute(&mut loader)
        .await
        .unwrap();
    let later: Vec<String> =
        sqlx::query_scalar("SELECT shop.drop_expired_partitions('2031-04-02')")
            .fetch_all(&mut loader)
            .await
            .unwrap();
    assert_eq!(
        later.first().map(String::as_str),
        Some("archive.payment_transactions_p2024_03"),
        "{later:?}"
    );
    assert!(
        later.contains(&"archive.orders_p2024_03".to_string()),
        "{later:?}"
    );
    db.finish().await;
}
