//! Shared test harness: each test gets its own fresh database on the managed cluster (or on
//! `DATABASE_URL` when set), with the schema applied, so tests run in parallel.
#![allow(dead_code)]

use std::path::PathBuf;

use platform::services::{self, PostgresTarget};
use platform::{Overrides, Settings};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

pub mod proxy;
pub mod results;
pub mod search;
pub mod seeder;

/// A finished command's stdout and stderr together, for assertion messages.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Settings the tests use: the repository's `.shopbench/` for managed services.
pub fn settings() -> Settings {
    let overrides = Overrides {
        workdir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".shopbench")),
        ..Default::default()
    };
    Settings::load(&overrides).expect("test settings")
}

pub struct TestDb {
    pub target: PostgresTarget,
    pub name: String,
    server: PostgresTarget,
}

impl TestDb {
    /// A new database with the schema applied.
    pub async fn new() -> TestDb {
        let db = TestDb::empty().await;
        platform::schema::apply(&db.target, None, None)
            .await
            .expect("schema apply");
        db
    }

    /// A new database without the schema.
    pub async fn empty() -> TestDb {
        let server = services::postgres(&settings())
            .await
            .expect("a PostgreSQL for tests");
        let name = format!("sbtest_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(server.admin.expose().as_str())
            .await
            .expect("connect as admin");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let target = server.with_database(&name);
        TestDb {
            target,
            name,
            server,
        }
    }

    pub async fn admin(&self) -> PgConnection {
        PgConnection::connect(self.target.admin.expose().as_str())
            .await
            .expect("connect as admin")
    }

    /// A connection as the application role (RLS applies), with `tenant` set for the session
    /// (`None`: no tenant set).
    pub async fn app(&self, tenant: Option<Uuid>) -> PgConnection {
        let mut conn = PgConnection::connect(self.target.app.expose().as_str())
            .await
            .expect("connect as shopbench_app");
        if let Some(t) = tenant {
            sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
                .bind(t.to_string())
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn
    }

    pub async fn loader(&self) -> PgConnection {
        PgConnection::connect(self.target.loader.expose().as_str())
            .await
            .expect("connect as shopbench_loader")
    }

    /// Drops the database (best effort).
    pub async fn finish(self) {
        if let Ok(mut conn) = PgConnection::connect(self.server.admin.expose().as_str()).await {
            let _ = sqlx::raw_sql(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}

/// Tenant A and tenant B of the fixture.
pub const TENANT_A: &str = "a0000000-0000-7000-8000-000000000000";
pub const TENANT_B: &str = "b0000000-0000-7000-8000-000000000000";

/// The `tiny` model as of 2025-12-01, seed 42 (built off the runtime: it samples the catalog).
pub async fn tiny_model() -> generator::Model {
    use generator::{Model, Profile, Scale, SeedConfig};
    tokio::task::spawn_blocking(|| {
        Model::new(SeedConfig {
            profile: Profile::of(Scale::Tiny),
            seed: 42,
            as_of_us: 1_764_547_200_000_000,
            images: 16,
            image_base: "s3://shopbench-images".into(),
            product_zipf: generator::model::PRODUCT_ZIPF,
        })
    })
    .await
    .unwrap()
}

pub fn tenant(t: char) -> Uuid {
    Uuid::parse_str(&format!("{t}0000000-0000-7000-8000-000000000000")).unwrap()
}

/// One complete graph of rows per tenant: every tenant table has at least one row. `{t}` is the
/// tenant letter (a or b); ids are `{t}0000000-0000-7000-8000-0000000000NN`. Both tenants'
/// users share one email hash: the same email registers at two tenants.
const FIXTURE: &str = r#"
INSERT INTO shop.tenants (id, name, domain, billing_info)
VALUES ('{t}0000000-0000-7000-8000-000000000000', 'Tenant {t}', '{t}.example', '{"plan_token": "tok_{t}"}');
INSERT INTO shop.users (tenant_id, id, email, email_hash, password_hash, first_name, last_name, phone, encrypted_phone)
VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', '\x0102', decode(repeat('ab', 32), 'hex'), '$argon2id$x',
        '\x03', '\x04', decode(repeat('cd', 32), 'hex'), '\x05');
INSERT INTO shop.users (tenant_id, id, email, email_hash, password_hash, first_name, last_name)
VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000002', '\x0102', decode(repeat('ef', 32), 'hex'), '$argon2id$y', '\x03', '\x04');
INSERT INTO shop.user_data_keys (tenant_id, user_id, wrapped_key, kek_id)
VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', decode(repeat('00', 60), 'hex'), 'kek-test');
INSERT INTO shop.tenant_users (tenant_id, user_id, role) VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', 'user');
INSERT INTO shop.user_addresses (tenant_id, id, user_id, type, is_default, first_name, last_name, address_line_1, city, state, postal_code, country)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000a1', '{t}0000000-0000-7000-8000-000000000001', 'shipping', true, '\x01', '\x02', '\x03', '\x04', '\x05', '\x06', 'DE');
INSERT INTO shop.user_preferences (tenant_id, user_id, currency, language) VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', 'EUR', 'de-DE');
INSERT INTO shop.user_sessions (tenant_id, user_id, session_token, expires_at, created_at, last_activity_at)
VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', decode(repeat('11', 32), 'hex'), '2030-01-01', '2024-03-01', '2024-03-01');
INSERT INTO shop.categories (tenant_id, id, name, slug) VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000c1', 'Home', 'home');
INSERT INTO shop.categories (tenant_id, id, name, slug, parent_id)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000c2', 'Kitchen', 'kitchen', '{t}0000000-0000-7000-8000-0000000000c1');
INSERT INTO shop.products (tenant_id, id, sku, name, slug, description, category_id, brand)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000d1', 'SKU-1', 'Cast iron skillet', 'cast-iron-skillet',
        'A heavy skillet for searing', '{t}0000000-0000-7000-8000-0000000000c2', 'Lodge');
INSERT INTO shop.products (tenant_id, id, sku, name, slug, category_id)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000d2', 'SKU-2', 'Chef knife', 'chef-knife', '{t}0000000-0000-7000-8000-0000000000c2');
INSERT INTO shop.product_variants (tenant_id, id, product_id, sku, name, price, compare_price, cost_price)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000e1', '{t}0000000-0000-7000-8000-0000000000d1', 'SKU-1-L', 'Large', 49.99, 59.99, 20);
INSERT INTO shop.product_images (tenant_id, product_id, variant_id, url, is_primary)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000d1', '{t}0000000-0000-7000-8000-0000000000e1', 'https://img.example/1.jpg', true);
INSERT INTO shop.product_inventory (tenant_id, variant_id, quantity, reserved_quantity)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000e1', 100, 100);
INSERT INTO shop.orders (tenant_id, id, created_at, user_id, status, subtotal, tax_amount, shipping_amount, discount_amount,
                         total_amount, currency, shipping_address, billing_address, shipped_at, delivered_at)
VALUES ('{T}', '018e0e7c-2200-7000-8000-0000000000{t}1', '2024-03-05 12:00:00+00', '{t}0000000-0000-7000-8000-000000000001',
        'delivered', 99999999999.9980, 1.5, 0.25, 1.75, 99999999999.9980, 'KWD', '\x01', '\x02',
        '2024-03-06 00:00:00+00', '2024-03-06 00:00:00+00');
INSERT INTO shop.orders (tenant_id, id, created_at, user_id, subtotal, total_amount, shipping_address, billing_address)
VALUES ('{T}', '018e0e7c-2200-7000-8000-0000000000{t}2', '2024-03-05 12:00:00+00', '{t}0000000-0000-7000-8000-000000000001',
        10.125, 10.125, '\x01', '\x02');
INSERT INTO shop.order_items (tenant_id, id, order_id, order_created_at, product_id, variant_id, sku, name, quantity, unit_price, total_price)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000b1', '018e0e7c-2200-7000-8000-0000000000{t}1', '2024-03-05 12:00:00+00',
        '{t}0000000-0000-7000-8000-0000000000d1', '{t}0000000-0000-7000-8000-0000000000e1', 'SKU-1-L', 'Large', 2, 49.999, 99.998);
INSERT INTO shop.order_status_history (tenant_id, order_id, order_created_at, status, created_by, created_at)
VALUES ('{T}', '018e0e7c-2200-7000-8000-0000000000{t}1', '2024-03-05 12:00:00+00', 'paid', '{t}0000000-0000-7000-8000-000000000001', '2024-03-05 12:00:01+00');
INSERT INTO shop.payments (tenant_id, id, order_id, order_created_at, payment_method, payment_provider, idempotency_key, amount, currency,
                           status, gateway_token, card_brand, card_last4, card_exp_month, card_exp_year, gateway_response, created_at)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000f1', '018e0e7c-2200-7000-8000-0000000000{t}1', '2024-03-05 12:00:00+00',
        'credit_card', 'stripe', 'idem-{t}-1', 99999999999.9980, 'KWD', 'captured', 'tok_visa_{t}', 'visa', '4242', 12, 2030,
        '{"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "created": 1709640000123, "card": {"brand": "visa", "last4": "4242"}}', '2024-03-05 12:00:02+00');
INSERT INTO shop.payment_idempotency_keys (tenant_id, idempotency_key, payment_id, order_created_at)
VALUES ('{T}', 'idem-{t}-1', '{t}0000000-0000-7000-8000-0000000000f1', '2024-03-05 12:00:00+00');
INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, currency, status, gateway_transaction_id, created_at)
VALUES ('{T}', '{t}0000000-0000-7000-8000-0000000000f1', '2024-03-05 12:00:00+00', 'authorize', 99999999999.9980, 'KWD', 'succeeded', 'txn_{t}1', '2024-03-05 12:00:03+00'),
       ('{T}', '{t}0000000-0000-7000-8000-0000000000f1', '2024-03-05 12:00:00+00', 'capture', 99999999999.9980, 'KWD', 'succeeded', 'txn_{t}2', '2024-03-05 12:00:04+00');
INSERT INTO shop.events (tenant_id, user_id, event_type, event_data, created_at)
VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', 'product.viewed', '{"product": "SKU-1"}', '2024-03-05 11:59:00+00');
INSERT INTO shop.page_views (tenant_id, user_id, page_url, ip_address, created_at)
VALUES ('{T}', '{t}0000000-0000-7000-8000-000000000001', '/p/cast-iron-skillet', '192.0.2.1', '2024-03-05 11:59:00+00');
"#;

/// Loads the fixture for tenants a and b (as the administrator, who bypasses RLS).
pub async fn load_fixture(conn: &mut PgConnection) {
    sqlx::query("SELECT shop.ensure_partitions('2024-03-01', '2024-03-01')")
        .execute(&mut *conn)
        .await
        .expect("partitions for the fixture month");
    for t in ['a', 'b'] {
        let sql = FIXTURE
            .replace("{T}", &tenant(t).to_string())
            .replace("{t}", &t.to_string());
        sqlx::raw_sql(&sql)
            .execute(&mut *conn)
            .await
            .expect("fixture loads: every constraint accepts valid rows");
    }
}

/// The database error of `sql`, run in a transaction that is rolled back. Panics if it succeeds.
pub async fn rejected(conn: &mut PgConnection, sql: &str) -> Box<dyn sqlx::error::DatabaseError> {
    let mut tx = conn.begin().await.unwrap();
    let result = sqlx::raw_sql(sql).execute(&mut *tx).await;
    let _ = tx.rollback().await;
    match result {
        Err(sqlx::Error::Database(e)) => e,
        Err(other) => panic!("{sql}\nfailed without a database error: {other}"),
        Ok(_) => panic!("accepted but must be rejected:\n{sql}"),
    }
}

/// Runs `sql` in a transaction that is rolled back; panics if it fails.
pub async fn accepted(conn: &mut PgConnection, sql: &str) {
    let mut tx = conn.begin().await.unwrap();
    let result = sqlx::raw_sql(sql).execute(&mut *tx).await;
    let _ = tx.rollback().await;
    if let Err(e) = result {
        panic!("rejected but must be accepted:\n{sql}\n{e}");
    }
}
