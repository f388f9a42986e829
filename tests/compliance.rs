//! PCI DSS (no card data can be stored), SOX (append-only ledger and audit log, audit trail of
//! financial changes), GDPR (erasure by deleting the user's data key), updated_at triggers, and
//! tenant-scoped search.

use platform::crypto::{lookup_hash, DataKey, KeyEncryptionKey};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::common::{accepted, load_fixture, rejected, tenant, TestDb};

async fn contains_card_data(conn: &mut PgConnection, doc: &str) -> bool {
    sqlx::query_scalar("SELECT shop.contains_card_data($1::jsonb)")
        .bind(doc)
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn gateway_payloads_with_card_data_are_rejected() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    for doc in [
        r#"{"source": {"number": "4111111111111111"}}"#,
        r#"{"pan": "0"}"#,
        r#"{"card": {"cvc": "123", "brand": "visa"}}"#,
        r#"{"CVV2": 123}"#,
        r#"{"note": "customer read out 5555-5555-5555-4444 on the phone"}"#,
        r#"{"raw": "amex 3782 822463 10005"}"#,
        r#"{"value": 4012888888881881}"#,
        r#"{"track2": ";4111111111111111=2512"}"#,
    ] {
        assert!(
            contains_card_data(&mut conn, doc).await,
            "not detected: {doc}"
        );
        let err = rejected(
            &mut conn,
            &format!(
                "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status, gateway_response) \
                 VALUES ('{}', 'a0000000-0000-7000-8000-0000000000f1', '2024-03-05 12:00:00+00', 'refund', 1, 'succeeded', '{}')",
                tenant('a'),
                doc.replace('\'', "''")
            ),
        )
        .await;
        assert_eq!(
            err.constraint(),
            Some("payment_transactions_no_card_data"),
            "{doc}"
        );
    }
    for doc in [
        r#"{"card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}}"#,
        r#"{"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "created": 1709640000123}"#,
        r#"{"id": "pi_1234567890123456"}"#,
        r#"{"reference": "4111111111111112"}"#,
        r#"{"order": "018e0e7c-2200-7000-8000-0000000000a1", "amount": 499999}"#,
    ] {
        assert!(
            !contains_card_data(&mut conn, doc).await,
            "false positive: {doc}"
        );
    }
    db.finish().await;
}

/// Migration 0015 rewrote the check for speed; it must accept and refuse exactly what 0001's
/// patterns did. The oracle below is 0001's definition, written out.
#[tokio::test]
async fn card_data_check_decides_as_the_original_patterns_did() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    let words = [
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cid",
        "csc",
        "cav2",
        "securitycode",
        "security_code",
        "cardnumber",
        "card_number",
        "cardno",
        "card_no",
        "pan",
        "primary_account_number",
        "track1",
        "track_1",
        "track2",
        "track_2",
        "trackdata",
        "track_data",
        "magstripe",
        "pinblock",
        "pin_block",
        // near misses
        "cvv3",
        "cv",
        "cards",
        "card",
        "card_num",
        "span",
        "pans",
        "track3",
        "track_",
        "pin",
        "primary_account",
        "security",
        "magstripes",
        "xcvv",
    ];
    let mut docs = Vec::new();
    for w in words {
        let upper = w.to_uppercase();
        docs.push(format!(r#"{{"{w}": 1}}"#));
        docs.push(format!(r#"{{"a": {{"{upper}": "x"}}}}"#));
        docs.push(format!(r#"{{"note": "{w}"}}"#));
        docs.push(format!(r#"{{"list": ["{w}", 2]}}"#));
    }
    for digits in [
        "4111111111111111",
        "4111111111111112",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "378282246310005",
        "3782 822463 10005",
        "6011111111111117",
        "5555555555554444",
        "1709640000123",
        "41111111111",
        "94111111111111111",
        "4111111111111111111",
        "22223000102400",
        "2222 4000 7000 0005",
        "4111  1111 1111 1111",
    ] {
        docs.push(format!(r#"{{"n": "{digits}"}}"#));
        docs.push(format!(r#"{{"n": "ref {digits} end"}}"#));
    }
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        r#"SELECT d, shop.contains_card_data(d::jsonb),
                  d::jsonb::text ~* '"(cvv2?|cvc2?|cid|csc|cav2|security_?code|card_?number|card_?no|pan|primary_account_number|track_?[12]|track_?data|magstripe|pin_?block)"\s*:'
                  OR EXISTS (SELECT 1 FROM regexp_matches(d::jsonb::text, '(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])', 'g') AS m
                              WHERE shop.luhn_valid(regexp_replace(m[1], '[^0-9]', '', 'g')))
             FROM unnest($1::text[]) AS d"#,
    )
    .bind(&docs)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), docs.len());
    let differ: Vec<&str> = rows
        .iter()
        .filter(|(_, now, then)| now != then)
        .map(|(d, _, _)| d.as_str())
        .collect();
    assert!(differ.is_empty(), "decided differently: {differ:?}");
    let refused = rows.iter().filter(|r| r.2).count();
    assert!(
        refused >= 24 * 2 + 8 && refused < rows.len() - 24,
        "{refused} of {} refused",
        rows.len()
    );
    db.finish().await;
}

#[tokio::test]
async fn ledger_and_audit_log_are_append_only_even_for_the_owner() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    for role in ["", "SET ROLE shopbench_owner; "] {
        for sql in [
            "UPDATE shop.payment_transactions SET amount = 0",
            "DELETE FROM shop.payment_transactions",
            "TRUNCATE shop.payment_transactions",
            "UPDATE shop.payment_transactions_p2024_03 SET amount = 0",
            "DELETE FROM shop.payment_transactions_p2024_03",
            "TRUNCATE shop.payment_transactions_p2024_03",
            "TRUNCATE shop.payment_transactions_default",
            "UPDATE audit.log SET operation = 'DELETE'",
            "DELETE FROM audit.log",
            "TRUNCATE audit.log",
        ] {
            let err = rejected(&mut conn, &format!("{role}{sql}")).await;
            assert!(
                err.message().contains("append-only"),
                "{role}{sql}: {}",
                err.message()
            );
        }
    }
    // appending a compensating entry is how the ledger is corrected
    accepted(
        &mut conn,
        "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, currency, status)
         VALUES ('a0000000-0000-7000-8000-000000000000', 'a0000000-0000-7000-8000-0000000000f1', '2024-03-05 12:00:00+00', 'refund', 1, 'KWD', 'succeeded')",
    )
    .await;
    db.finish().await;
}

#[tokio::test]
async fn financial_changes_are_audited_with_who_did_them() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let inserted: Vec<(String, i64)> = sqlx::query_as(
        "SELECT table_name, count(*) FROM audit.log WHERE operation = 'INSERT' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(
        inserted,
        vec![
            ("shop.order_items".to_string(), 2),
            ("shop.orders".to_string(), 4),
            ("shop.payment_transactions".to_string(), 4),
            ("shop.payments".to_string(), 2),
        ]
    );

    let clerk = Uuid::parse_str("a0000000-0000-7000-8000-000000000002").unwrap();
    let mut app = db.app(Some(tenant('a'))).await;
    sqlx::query("SELECT set_config('app.user_id', $1, false)")
        .bind(clerk.to_string())
        .execute(&mut app)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE shop.orders SET status = 'paid' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'",
    )
    .execute(&mut app)
    .await
    .unwrap();
    let (old, new, who, db_user): (String, String, Option<Uuid>, String) = sqlx::query_as(
        "SELECT old_row->>'status', new_row->>'status', app_user, db_user FROM audit.log
          WHERE table_name = 'shop.orders' AND operation = 'UPDATE'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(
        (old.as_str(), new.as_str(), who, db_user.as_str()),
        ("pending", "paid", Some(clerk), "shopbench_app")
    );

    // a write that names a partition directly is audited as well
    sqlx::query("UPDATE shop.payments_p2024_03 SET status = 'refunded' WHERE tenant_id = 'b0000000-0000-7000-8000-000000000000'")
        .execute(&mut admin)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit.log WHERE table_name = 'shop.payments_p2024_03' AND operation = 'UPDATE'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // the application role cannot read or write the log
    let err = rejected(
        &mut app,
        "INSERT INTO audit.log (table_name, operation) VALUES ('x', 'INSERT')",
    )
    .await;
    assert_eq!(err.code().as_deref(), Some("42501"));
    db.finish().await;
}

#[tokio::test]
async fn updated_at_is_maintained_on_every_table_that_has_it() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'shop' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'updated_at')
          ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables.len(), 10, "{tables:?}");
    for table in tables {
        let key = if table == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        let mut tx = sqlx::Connection::begin(&mut conn).await.unwrap();
        // an explicit stale value is overridden by the trigger with the transaction's time
        let fresh: Vec<bool> = sqlx::query_scalar(&format!(
            "UPDATE shop.{table} SET updated_at = '2000-01-01' WHERE {key} = $1 RETURNING updated_at = now()"
        ))
        .bind(tenant('a'))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert!(
            !fresh.is_empty() && fresh.iter().all(|f| *f),
            "{table}: {fresh:?}"
        );
    }
    db.finish().await;
}

#[tokio::test]
async fn erasure_deletes_the_key_keeps_the_orders_and_leaves_personal_data_unreadable() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let kek = KeyEncryptionKey::new("kek-test", [9u8; 32]);
    let hmac_secret = b"lookup-secret";
    let user = Uuid::now_v7();
    let key = DataKey::generate();

    let mut app = db.app(Some(tenant('a'))).await;
    sqlx::query(
        "INSERT INTO shop.users (tenant_id, id, email, email_hash, password_hash, first_name, last_name, phone, encrypted_phone)
         VALUES ($1, $2, $3, $4, 'x', $5, $6, $7, $8)",
    )
    .bind(tenant('a'))
    .bind(user)
    .bind(key.encrypt(b"erin@example.com", b"users.email"))
    .bind(lookup_hash(hmac_secret, "erin@example.com").to_vec())
    .bind(key.encrypt(b"Erin", b"users.first_name"))
    .bind(key.encrypt(b"Example", b"users.last_name"))
    .bind(lookup_hash(hmac_secret, "+4930123456").to_vec())
    .bind(key.encrypt(b"+4930123456", b"users.phone"))
    .execute(&mut app)
    .await
    .unwrap();
    sqlx::query("INSERT INTO shop.user_data_keys (tenant_id, user_id, wrapped_key, kek_id) VALUES ($1, $2, $3, $4)")
        .bind(tenant('a'))
        .bind(user)
        .bind(kek.wrap(&key))
        .bind(&kek.id)
        .execute(&mut app)
        .await
        .unwrap();
    let order: Uuid = sqlx::query_scalar(
        "INSERT INTO shop.orders (tenant_id, id, created_at, user_id, subtotal, total_amount, shipping_address, billing_address)
         SELECT $1, id, shop.uuidv7_time(id), $2, 25, 25, $3, $3 FROM (SELECT shop.uuidv7() AS id) AS new_id RETURNING id",
    )
    .bind(tenant('a'))
    .bind(user)
    .bind(key.encrypt(b"Hauptstrasse 1, Berlin", b"orders.shipping_address"))
    .fetch_one(&mut app)
    .await
    .unwrap();

    // before: the application can find the user by email and read their data
    let (wrapped, email): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT k.wrapped_key, u.email FROM shop.users u JOIN shop.user_data_keys k ON (k.tenant_id, k.user_id) = (u.tenant_id, u.id)
          WHERE u.email_hash = $1",
    )
    .bind(lookup_hash(hmac_secret, "Erin@Example.com").to_vec())
    .fetch_one(&mut app)
    .await
    .unwrap();
    let opened = kek
        .unwrap_key(&wrapped)
        .unwrap()
        .decrypt(&email, b"users.email")
        .unwrap();
    assert_eq!(opened, b"erin@example.com");

    let erased: bool = sqlx::query_scalar("SELECT shop.erase_user($1)")
        .bind(user)
        .fetch_one(&mut app)
        .await
        .unwrap();
    assert!(erased);

    // after: no key, no lookup hashes, status erased; the order is intact
    let keys: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shop.user_data_keys WHERE user_id = $1")
            .bind(user)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(keys, 0);
    type ErasedUser = (String, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>);
    let (status, hash, phone, email_ct): ErasedUser =
        sqlx::query_as("SELECT status, email_hash, phone, email FROM shop.users WHERE id = $1")
            .bind(user)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!((status.as_str(), hash, phone), ("erased", None, None));
    let (total, address): (sqlx::types::Decimal, Vec<u8>) =
        sqlx::query_as("SELECT total_amount, shipping_address FROM shop.orders WHERE id = $1")
            .bind(order)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(total.to_string(), "25.0000");
    // the ciphertexts are still there, but no key in the database opens them
    let remaining_keys: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT wrapped_key FROM shop.user_data_keys")
            .fetch_all(&mut admin)
            .await
            .unwrap();
    for wrapped in remaining_keys {
        if let Ok(other) = kek.unwrap_key(&wrapped) {
            assert!(other.decrypt(&email_ct, b"users.email").is_err());
            assert!(other.decrypt(&address, b"orders.shipping_address").is_err());
        }
    }
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit.log WHERE operation = 'ERASE' AND row_id = $1",
    )
    .bind(user)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // erasing twice does nothing; erasing without a tenant is refused
    let again: bool = sqlx::query_scalar("SELECT shop.erase_user($1)")
        .bind(user)
        .fetch_one(&mut app)
        .await
        .unwrap();
    assert!(!again);
    let mut anonymous = db.app(None).await;
    let err = rejected(&mut anonymous, &format!("SELECT shop.erase_user('{user}')")).await;
    assert_eq!(err.code().as_deref(), Some("42501"));
    db.finish().await;
}

#[tokio::test]
async fn search_is_tenant_scoped_ranked_and_typo_tolerant() {
    let db = TestDb::new().await;
    let mut admin = db.admin().await;
    load_fixture(&mut admin).await;
    let mut app = db.app(Some(tenant('a'))).await;
    let hits: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT product_id, name::text FROM shop.search_products('iron skillet')")
            .fetch_all(&mut app)
            .await
            .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits[0].0.to_string(),
        "a0000000-0000-7000-8000-0000000000d1"
    );
    let typo: Vec<Uuid> =
        sqlx::query_scalar("SELECT product_id FROM shop.search_products('skilet')")
            .fetch_all(&mut app)
            .await
            .unwrap();
    assert_eq!(
        typo.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
        vec!["a0000000-0000-7000-8000-0000000000d1"]
    );
    let by_brand: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shop.search_products('lodge', 20, NULL, 40, 60)")
            .fetch_one(&mut app)
            .await
            .unwrap();
    assert_eq!(by_brand, 1);
    let priced_out: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM shop.search_products('lodge', 20, NULL, 60, NULL)",
    )
    .fetch_one(&mut app)
    .await
    .unwrap();
    assert_eq!(priced_out, 0);
    let mut anonymous = db.app(None).await;
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM shop.search_products('skillet')")
        .fetch_one(&mut anonymous)
        .await
        .unwrap();
    assert_eq!(none, 0);
    db.finish().await;
}
