//! The workload's PostgreSQL transport (libpq on tokio, `scenarios::pq` behind
//! `scenarios::db`) against a real server: values in both directions in the binary format,
//! server errors classified by SQLSTATE with the connection usable after them, a statement
//! abandoned half-way drained and rolled back before its connection is reused, a lost
//! connection replaced, bad URLs refused without repeating the password.

use std::time::Duration;

use scenarios::db::{ConnectError, Db};
use scenarios::failure::Failure;
use scenarios::pq::{Connection, Settings};
use sqlx::types::Decimal;
use uuid::Uuid;

use crate::common::{tenant, TestDb};

async fn pool(db: &TestDb, size: usize) -> Db {
    Db::connect(
        db.target.app.expose().as_str(),
        "shopbench-test",
        size,
        size,
        Duration::from_secs(30),
        Duration::from_secs(30),
    )
    .await
    .expect("a pool as the application role")
}

#[tokio::test]
async fn values_round_trip_in_the_binary_format() {
    let db = TestDb::new().await;
    let app = pool(&db, 1).await;
    let id = Uuid::now_v7();
    let price = Decimal::new(-123_456_789, 4);
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-01T12:34:56.789012Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let doc = serde_json::json!({"status": "captured", "n": [1, 2]});
    let ids = vec![Uuid::now_v7(), Uuid::now_v7()];
    let none: Option<String> = None;
    let mut tx = app.begin(tenant('a')).await.unwrap();
    let row = tx
        .one(
            "SELECT $1::uuid, $2::text, $3::numeric, $4::timestamptz, $5::bool, $6::int8,
                    $7::jsonb, $8::uuid[], $9::text, 7::int4, current_setting('app.tenant_id')",
            &[
                &id,
                &"naïve ☃",
                &price,
                &at,
                &true,
                &-42i64,
                &doc,
                &ids,
                &none,
            ],
        )
        .await
        .unwrap();
    assert_eq!(row.len(), 11);
    assert_eq!(row.try_get::<Uuid>(0).unwrap(), id);
    assert_eq!(row.try_get::<&str>(1).unwrap(), "naïve ☃");
    assert_eq!(row.try_get::<Decimal>(2).unwrap(), price);
    assert_eq!(row.try_get::<chrono::DateTime<chrono::Utc>>(3).unwrap(), at);
    assert!(row.try_get::<bool>(4).unwrap());
    assert_eq!(row.try_get::<i64>(5).unwrap(), -42);
    assert_eq!(row.try_get::<serde_json::Value>(6).unwrap(), doc);
    assert_eq!(row.try_get::<Vec<Uuid>>(7).unwrap(), ids);
    assert_eq!(row.try_get::<Option<String>>(8).unwrap(), None);
    assert_eq!(row.try_get::<i32>(9).unwrap(), 7);
    assert_eq!(
        row.try_get::<String>(10).unwrap(),
        tenant('a').to_string(),
        "the tenant is set for the transaction"
    );
    // A NULL into a non-Option, a column of another type, a column that is not there: errors
    // of the client, not panics and not wrong values.
    assert!(row.try_get::<String>(8).is_err());
    assert!(row.try_get::<i64>(9).is_err());
    assert!(row.try_get::<i32>(11).is_err());
    let many = tx
        .query("SELECT g FROM generate_series(1, 1000) g", &[])
        .await
        .unwrap();
    let sum: i64 = many
        .iter()
        .map(|r| i64::from(r.try_get::<i32>(0).unwrap()))
        .sum();
    assert_eq!((many.len(), sum), (1000, 500_500));
    assert!(tx.opt("SELECT 1 WHERE false", &[]).await.unwrap().is_none());
    // A parameter of the wrong type is refused before anything is sent.
    let wrong = tx.one("SELECT $1::uuid", &[&5i32]).await;
    assert!(matches!(wrong, Err(Failure::Service { .. })), "{wrong:?}");
    tx.commit().await.unwrap();
    db.finish().await;
}

#[tokio::test]
async fn a_server_error_is_classified_and_the_connection_is_used_again() {
    let db = TestDb::new().await;
    let app = pool(&db, 1).await;
    let mut tx = app.begin(tenant('a')).await.unwrap();
    let pid: i32 = tx
        .one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let e = tx.one("SELECT 1 / 0", &[]).await.unwrap_err();
    assert_eq!(e.class().to_string(), "sqlstate:22012", "{e}");
    // The transaction is aborted; dropping it rolls it back before the connection is reused.
    drop(tx);
    let mut tx = app.begin(tenant('b')).await.unwrap();
    let row = tx
        .one(
            "SELECT pg_backend_pid(), current_setting('app.tenant_id')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.try_get::<i32>(0).unwrap(), pid, "the same connection");
    assert_eq!(row.try_get::<String>(1).unwrap(), tenant('b').to_string());
    tx.commit().await.unwrap();
    let e = app
        .execute("SELECT no_such_column FROM shop.products", &[])
        .await;
    assert_eq!(e.unwrap_err().class().to_string(), "sqlstate:42703");
    assert_eq!(app.execute("SELECT 1", &[]).await.unwrap(), 1);
    // In a pipeline (one round trip, one Sync): the first error wins, the statements after it
    // are not run, and the connection leaves pipeline mode usable.
    let settings = Settings::new(
        db.target.app.expose().as_str(),
        "shopbench-test",
        Duration::from_secs(30),
        Duration::from_secs(10),
    )
    .unwrap();
    let mut conn = Connection::connect(&settings).await.unwrap();
    let e = conn
        .pipeline(&[
            ("BEGIN", &[]),
            ("SELECT 1 / $1::int", &[&0i32]),
            ("SELECT set_config('shopbench.after', 'ran', true)", &[]),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, scenarios::pq::Error::Server { state, .. } if state == "22012"),
        "{e}"
    );
    conn.execute("ROLLBACK", &[]).await.unwrap();
    conn.pipeline(&[("BEGIN", &[]), ("SELECT 1", &[])])
        .await
        .unwrap();
    let row = conn
        .query_one(
            "SELECT coalesce(current_setting('shopbench.after', true), '')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.try_get::<&str>(0).unwrap(), "");
    conn.execute("COMMIT", &[]).await.unwrap();
    assert!(conn.is_idle());
    db.finish().await;
}

#[tokio::test]
async fn an_abandoned_statement_is_drained_and_rolled_back_before_reuse() {
    let db = TestDb::new().await;
    let app = pool(&db, 1).await;
    let mut tx = app.begin(tenant('a')).await.unwrap();
    tx.execute("SELECT set_config('shopbench.mark', 'dirty', false)", &[])
        .await
        .unwrap();
    // The operation's timeout fires while the statement runs: its future is dropped with the
    // result still on its way (3 s away: the timeout fires first even on a starved thread).
    let late = tokio::time::timeout(
        Duration::from_millis(50),
        tx.one("SELECT 'late' FROM pg_sleep(3)", &[]),
    )
    .await;
    assert!(late.is_err(), "the timeout fired first");
    drop(tx);
    // The next transaction on the one connection sees its own result, not the late one, and
    // nothing of the abandoned transaction (rolled back: the session setting is undone).
    let mut tx = app.begin(tenant('a')).await.unwrap();
    let row = tx
        .one(
            "SELECT 'fresh', coalesce(current_setting('shopbench.mark', true), '')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.try_get::<&str>(0).unwrap(), "fresh");
    assert_ne!(row.try_get::<&str>(1).unwrap(), "dirty");
    tx.commit().await.unwrap();
    db.finish().await;
}

#[tokio::test]
async fn a_lost_connection_fails_one_operation_and_is_replaced() {
    let db = TestDb::new().await;
    let app = pool(&db, 1).await;
    let pid = |app: Db| async move {
        let mut tx = app.begin(tenant('a')).await?;
        let pid: i32 = tx.one("SELECT pg_backend_pid()", &[]).await?.try_get(0)?;
        tx.commit().await?;
        Ok::<_, Failure>(pid)
    };
    let first = pid(app.clone()).await.unwrap();
    let mut admin = db.admin().await;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(first)
        .execute(&mut admin)
        .await
        .unwrap();
    // The server is gone from under the idle connection: the next operation fails, with a
    // class a report counts (the server's 57P01 or the lost connection), not a panic.
    let e = pid(app.clone()).await.unwrap_err();
    let class = e.class().to_string();
    assert!(class == "connection" || class == "sqlstate:57P01", "{e}");
    // The one after is served by a new connection.
    let second = pid(app.clone()).await.unwrap();
    assert_ne!(first, second);
    db.finish().await;
}

/// What connecting to `url` fails with (it must fail), checked not to repeat the password.
async fn refused(url: &str) -> ConnectError {
    let e = Db::connect(
        url,
        "t",
        1,
        1,
        Duration::from_secs(1),
        Duration::from_secs(5),
    )
    .await
    .err()
    .unwrap_or_else(|| panic!("{url} is refused"));
    assert!(!e.to_string().contains("s3cret-pw"), "{e}");
    e
}

#[tokio::test]
async fn bad_urls_are_refused_without_the_password() {
    let e = refused("postgres://u:s3cret-pw@127.0.0.1:5432/db?no_such_option=1").await;
    assert!(matches!(e, ConnectError::Url(_)), "{e}");
    // Nothing listens on port 1: a connection error, not a hang.
    let e = refused("postgres://u:s3cret-pw@127.0.0.1:1/db").await;
    assert!(
        matches!(e, ConnectError::Connect(Failure::Connection(_))),
        "{e}"
    );
}

/// Results far larger than libpq's input buffer and the socket's: read whole, many rows and one
/// huge value, without the socket's readiness ever being lost half-way (which would hang).
#[tokio::test]
async fn large_results_arrive_whole() {
    let db = TestDb::new().await;
    let app = pool(&db, 1).await;
    let mut tx = app.begin(tenant('a')).await.unwrap();
    let big = tokio::time::timeout(
        Duration::from_secs(60),
        tx.query(
            "SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) g",
            &[],
        ),
    )
    .await
    .expect("20 MB of rows, not a hang")
    .unwrap();
    assert_eq!(big.len(), 20_000);
    assert_eq!(big[19_999].try_get::<i32>(0).unwrap(), 20_000);
    assert_eq!(big[7].try_get::<&str>(1).unwrap().len(), 1000);
    let huge = tokio::time::timeout(
        Duration::from_secs(60),
        tx.one("SELECT repeat('y', 30000000)", &[]),
    )
    .await
    .expect("one 30 MB value, not a hang")
    .unwrap();
    assert_eq!(huge.try_get::<&str>(0).unwrap().len(), 30_000_000);
    tx.commit().await.unwrap();
    db.finish().await;
}
