//! Every CHECK, UNIQUE, PRIMARY KEY and FOREIGN KEY of the schema rejects what it must (one
//! targeted statement each, the constraint that fired is checked by name) and accepts what it
//! must (the fixture: two complete tenants with boundary values). A constraint added to the
//! schema without a case here fails `every_constraint_has_a_rejecting_case`.

use std::collections::BTreeSet;

use sqlx::PgConnection;

use crate::common::{accepted, load_fixture, rejected, TestDb};

const NEW_USER: &str = "INSERT INTO shop.users (tenant_id, id, email, email_hash, password_hash, first_name, last_name) VALUES";

/// (constraint expected to fire, statement). `{A}`/`{B}`: tenants; `{a:NN}`: fixture id NN of tenant a.
const CASES: &[(&str, &str)] = &[
    // tenants
    ("tenants_pkey", "INSERT INTO shop.tenants (id, name, domain) VALUES ('{A}', 'x', 'x.example')"),
    ("tenants_domain_key", "INSERT INTO shop.tenants (name, domain) VALUES ('x', 'a.example')"),
    ("tenants_status_check", "UPDATE shop.tenants SET status = 'deleted' WHERE id = '{A}'"),
    ("tenants_plan_check", "UPDATE shop.tenants SET plan = 'gold' WHERE id = '{A}'"),
    ("tenants_billing_info_check", r#"UPDATE shop.tenants SET billing_info = '{"card_number": "4111111111111111"}' WHERE id = '{A}'"#),
    ("tenants_domain_check", "UPDATE shop.tenants SET domain = 'Shop Example' WHERE id = '{A}'"),
    // users
    ("users_pkey", "{NEW_USER} ('{A}', '{a:01}', '\\x01', decode(repeat('77', 32), 'hex'), 'x', '\\x01', '\\x01')"),
    ("users_tenant_id_fkey", "{NEW_USER} (gen_random_uuid(), gen_random_uuid(), '\\x01', decode(repeat('77', 32), 'hex'), 'x', '\\x01', '\\x01')"),
    ("users_tenant_id_email_hash_key", "{NEW_USER} ('{A}', gen_random_uuid(), '\\x01', decode(repeat('ab', 32), 'hex'), 'x', '\\x01', '\\x01')"),
    ("users_email_hash_check", "UPDATE shop.users SET email_hash = '\\x01' WHERE id = '{a:01}'"),
    ("users_phone_check", "UPDATE shop.users SET phone = '\\x01' WHERE id = '{a:01}'"),
    ("users_status_check", "UPDATE shop.users SET status = 'banned' WHERE id = '{a:01}'"),
    ("users_erased_at_matches_status", "UPDATE shop.users SET erased_at = now() WHERE id = '{a:01}'"),
    ("users_email_hash_unless_erased", "UPDATE shop.users SET email_hash = NULL WHERE id = '{a:01}'"),
    ("users_erased_has_no_hashes", "UPDATE shop.users SET status = 'erased', erased_at = now() WHERE id = '{a:01}'"),
    // user_data_keys
    ("user_data_keys_pkey", "INSERT INTO shop.user_data_keys (tenant_id, user_id, wrapped_key, kek_id) VALUES ('{A}', '{a:01}', decode(repeat('00', 60), 'hex'), 'k')"),
    ("user_data_keys_tenant_id_user_id_fkey", "INSERT INTO shop.user_data_keys (tenant_id, user_id, wrapped_key, kek_id) VALUES ('{A}', gen_random_uuid(), decode(repeat('00', 60), 'hex'), 'k')"),
    ("user_data_keys_wrapped_key_check", "UPDATE shop.user_data_keys SET wrapped_key = '\\x00' WHERE tenant_id = '{A}'"),
    // tenant_users
    ("tenant_users_pkey", "INSERT INTO shop.tenant_users (tenant_id, id, user_id) SELECT tenant_id, id, '{a:02}' FROM shop.tenant_users WHERE tenant_id = '{A}'"),
    ("tenant_users_tenant_id_user_id_key", "INSERT INTO shop.tenant_users (tenant_id, user_id) VALUES ('{A}', '{a:01}')"),
    ("tenant_users_tenant_id_user_id_fkey", "INSERT INTO shop.tenant_users (tenant_id, user_id) VALUES ('{A}', gen_random_uuid())"),
    ("tenant_users_role_check", "UPDATE shop.tenant_users SET role = 'god' WHERE tenant_id = '{A}'"),
    // user_addresses
    ("user_addresses_pkey", "INSERT INTO shop.user_addresses (tenant_id, id, user_id, first_name, last_name, address_line_1, city, state, postal_code, country) VALUES ('{A}', '{a:a1}', '{a:02}', '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', 'FR')"),
    ("user_addresses_tenant_id_user_id_fkey", "INSERT INTO shop.user_addresses (tenant_id, user_id, first_name, last_name, address_line_1, city, state, postal_code, country) VALUES ('{A}', gen_random_uuid(), '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', 'FR')"),
    ("user_addresses_one_default", "INSERT INTO shop.user_addresses (tenant_id, user_id, type, is_default, first_name, last_name, address_line_1, city, state, postal_code, country) VALUES ('{A}', '{a:01}', 'shipping', true, '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', 'FR')"),
    ("user_addresses_type_check", "UPDATE shop.user_addresses SET type = 'home' WHERE tenant_id = '{A}'"),
    ("user_addresses_country_check", "UPDATE shop.user_addresses SET country = 'de' WHERE tenant_id = '{A}'"),
    ("user_addresses_phone_check", "UPDATE shop.user_addresses SET phone = '\\x01' WHERE tenant_id = '{A}'"),
    // user_preferences
    ("user_preferences_pkey", "INSERT INTO shop.user_preferences (tenant_id, id, user_id) SELECT tenant_id, id, '{a:02}' FROM shop.user_preferences WHERE tenant_id = '{A}'"),
    ("user_preferences_tenant_id_user_id_key", "INSERT INTO shop.user_preferences (tenant_id, user_id) VALUES ('{A}', '{a:01}')"),
    ("user_preferences_tenant_id_user_id_fkey", "INSERT INTO shop.user_preferences (tenant_id, user_id) VALUES ('{A}', gen_random_uuid())"),
    ("user_preferences_currency_check", "UPDATE shop.user_preferences SET currency = 'eur' WHERE tenant_id = '{A}'"),
    ("user_preferences_language_check", "UPDATE shop.user_preferences SET language = 'German!' WHERE tenant_id = '{A}'"),
    // user_sessions
    ("user_sessions_pkey", "INSERT INTO shop.user_sessions (tenant_id, id, user_id, session_token, expires_at, created_at, last_activity_at) SELECT tenant_id, id, user_id, decode(repeat('22', 32), 'hex'), expires_at, created_at, last_activity_at FROM shop.user_sessions WHERE tenant_id = '{A}'"),
    ("user_sessions_tenant_id_session_token_key", "INSERT INTO shop.user_sessions (tenant_id, user_id, session_token, expires_at) VALUES ('{A}', '{a:02}', decode(repeat('11', 32), 'hex'), now() + interval '1 day')"),
    ("user_sessions_tenant_id_user_id_fkey", "INSERT INTO shop.user_sessions (tenant_id, user_id, session_token, expires_at) VALUES ('{A}', gen_random_uuid(), decode(repeat('33', 32), 'hex'), now() + interval '1 day')"),
    ("user_sessions_session_token_check", "UPDATE shop.user_sessions SET session_token = '\\x01' WHERE tenant_id = '{A}'"),
    ("user_sessions_expire_after_creation", "UPDATE shop.user_sessions SET expires_at = created_at WHERE tenant_id = '{A}'"),
    ("user_sessions_activity_after_creation", "UPDATE shop.user_sessions SET last_activity_at = created_at - interval '1 second' WHERE tenant_id = '{A}'"),
    // categories
    ("categories_pkey", "INSERT INTO shop.categories (tenant_id, id, name, slug) VALUES ('{A}', '{a:c1}', 'x', 'x')"),
    ("categories_tenant_id_slug_key", "INSERT INTO shop.categories (tenant_id, name, slug) VALUES ('{A}', 'x', 'home')"),
    ("categories_tenant_id_fkey", "INSERT INTO shop.categories (tenant_id, name, slug) VALUES (gen_random_uuid(), 'x', 'x')"),
    ("categories_tenant_id_parent_id_fkey", "UPDATE shop.categories SET parent_id = gen_random_uuid() WHERE id = '{a:c2}'"),
    ("categories_slug_check", "UPDATE shop.categories SET slug = 'Bad Slug' WHERE id = '{a:c2}'"),
    ("categories_not_own_parent", "UPDATE shop.categories SET parent_id = id WHERE id = '{a:c1}'"),
    // products
    ("products_pkey", "INSERT INTO shop.products (tenant_id, id, sku, name, slug) VALUES ('{A}', '{a:d1}', 'S9', 'x', 'x')"),
    ("products_tenant_id_sku_key", "INSERT INTO shop.products (tenant_id, sku, name, slug) VALUES ('{A}', 'SKU-1', 'x', 'x')"),
    ("products_tenant_id_slug_key", "INSERT INTO shop.products (tenant_id, sku, name, slug) VALUES ('{A}', 'S9', 'x', 'chef-knife')"),
    ("products_tenant_id_fkey", "INSERT INTO shop.products (tenant_id, sku, name, slug) VALUES (gen_random_uuid(), 'S9', 'x', 'x')"),
    ("products_tenant_id_category_id_fkey", "UPDATE shop.products SET category_id = gen_random_uuid() WHERE id = '{a:d2}'"),
    ("products_slug_check", "UPDATE shop.products SET slug = 'Chef Knife' WHERE id = '{a:d2}'"),
    ("products_weight_check", "UPDATE shop.products SET weight = -1 WHERE id = '{a:d2}'"),
    ("products_digital_not_shipped", "UPDATE shop.products SET is_digital = true, requires_shipping = true WHERE id = '{a:d2}'"),
    // product_variants
    ("product_variants_pkey", "INSERT INTO shop.product_variants (tenant_id, id, product_id, sku, name, price) VALUES ('{A}', '{a:e1}', '{a:d2}', 'V9', 'x', 1)"),
    ("product_variants_tenant_id_product_id_sku_key", "INSERT INTO shop.product_variants (tenant_id, product_id, sku, name, price) VALUES ('{A}', '{a:d1}', 'SKU-1-L', 'x', 1)"),
    ("product_variants_tenant_id_product_id_fkey", "INSERT INTO shop.product_variants (tenant_id, product_id, sku, name, price) VALUES ('{A}', gen_random_uuid(), 'V9', 'x', 1)"),
    ("product_variants_price_check", "UPDATE shop.product_variants SET price = -1, compare_price = NULL WHERE id = '{a:e1}'"),
    ("product_variants_cost_price_check", "UPDATE shop.product_variants SET cost_price = -1 WHERE id = '{a:e1}'"),
    ("product_variants_currency_check", "UPDATE shop.product_variants SET currency = 'usd' WHERE id = '{a:e1}'"),
    ("product_variants_weight_check", "UPDATE shop.product_variants SET weight = -0.001 WHERE id = '{a:e1}'"),
    ("product_variants_compare_not_below_price", "UPDATE shop.product_variants SET compare_price = 10 WHERE id = '{a:e1}'"),
    // product_images
    ("product_images_pkey", "INSERT INTO shop.product_images (tenant_id, id, product_id, url) SELECT tenant_id, id, product_id, url FROM shop.product_images WHERE tenant_id = '{A}'"),
    ("product_images_tenant_id_product_id_fkey", "UPDATE shop.product_images SET product_id = gen_random_uuid(), variant_id = NULL WHERE tenant_id = '{A}'"),
    ("product_images_tenant_id_variant_id_fkey", "UPDATE shop.product_images SET variant_id = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("product_images_url_check", "UPDATE shop.product_images SET url = 'ftp://img.example/1.jpg' WHERE tenant_id = '{A}'"),
    ("product_images_one_primary", "INSERT INTO shop.product_images (tenant_id, product_id, url, is_primary) VALUES ('{A}', '{a:d1}', 'https://img.example/2.jpg', true)"),
    // product_inventory
    ("product_inventory_pkey", "INSERT INTO shop.product_inventory (tenant_id, id, variant_id) SELECT tenant_id, id, gen_random_uuid() FROM shop.product_inventory WHERE tenant_id = '{A}'"),
    ("product_inventory_tenant_id_variant_id_key", "INSERT INTO shop.product_inventory (tenant_id, variant_id) VALUES ('{A}', '{a:e1}')"),
    ("product_inventory_tenant_id_variant_id_fkey", "INSERT INTO shop.product_inventory (tenant_id, variant_id) VALUES ('{A}', gen_random_uuid())"),
    ("product_inventory_reserved_within_quantity", "UPDATE shop.product_inventory SET reserved_quantity = quantity + 1 WHERE tenant_id = '{A}'"),
    ("product_inventory_low_stock_threshold_check", "UPDATE shop.product_inventory SET low_stock_threshold = -1 WHERE tenant_id = '{A}'"),
    ("product_inventory_reorder_point_check", "UPDATE shop.product_inventory SET reorder_point = -1 WHERE tenant_id = '{A}'"),
    // orders
    ("orders_pkey", "INSERT INTO shop.orders (tenant_id, id, created_at, user_id, subtotal, total_amount, shipping_address, billing_address) VALUES ('{A}', '018e0e7c-2200-7000-8000-0000000000a2', '2024-03-05 12:00:00+00', '{a:01}', 1, 1, '\\x01', '\\x01')"),
    ("orders_tenant_id_user_id_fkey", "UPDATE shop.orders SET user_id = gen_random_uuid() WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_created_at_is_id_time", "INSERT INTO shop.orders (tenant_id, id, created_at, user_id, subtotal, total_amount, shipping_address, billing_address) VALUES ('{A}', '018e0e7c-2200-7000-8000-0000000000a9', '2024-03-05 12:00:01+00', '{a:01}', 1, 1, '\\x01', '\\x01')"),
    ("orders_currency_check", "UPDATE shop.orders SET currency = 'kwd' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_status_check", "UPDATE shop.orders SET status = 'lost' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_subtotal_check", "UPDATE shop.orders SET subtotal = -1, tax_amount = 2, total_amount = 1 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_tax_amount_check", "UPDATE shop.orders SET subtotal = 10, tax_amount = -1, total_amount = 9 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_shipping_amount_check", "UPDATE shop.orders SET subtotal = 10, shipping_amount = -1, total_amount = 9 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_discount_amount_check", "UPDATE shop.orders SET subtotal = 10, discount_amount = -1, total_amount = 11 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_total_amount_check", "UPDATE shop.orders SET subtotal = 0, discount_amount = 1, total_amount = -1 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_total_adds_up", "UPDATE shop.orders SET total_amount = total_amount + 0.0001 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_shipped_after_created", "UPDATE shop.orders SET shipped_at = created_at - interval '1 second' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_delivered_after_shipped", "UPDATE shop.orders SET shipped_at = '2024-03-06', delivered_at = '2024-03-05 13:00+00' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_shipped_status_has_time", "UPDATE shop.orders SET status = 'shipped' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    ("orders_delivered_status_has_time", "UPDATE shop.orders SET status = 'delivered', shipped_at = '2024-03-06' WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'"),
    // order_items
    ("order_items_pkey", "INSERT INTO shop.order_items SELECT * FROM shop.order_items WHERE tenant_id = '{A}'"),
    ("order_items_tenant_id_order_id_order_created_at_fkey", "UPDATE shop.order_items SET order_id = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("order_items_tenant_id_product_id_fkey", "UPDATE shop.order_items SET product_id = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("order_items_tenant_id_variant_id_fkey", "UPDATE shop.order_items SET variant_id = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("order_items_quantity_check", "UPDATE shop.order_items SET quantity = 0, total_price = 0 WHERE tenant_id = '{A}'"),
    ("order_items_unit_price_check", "UPDATE shop.order_items SET unit_price = -1, total_price = -2 WHERE tenant_id = '{A}'"),
    ("order_items_line_total", "UPDATE shop.order_items SET total_price = 1 WHERE tenant_id = '{A}'"),
    // order_status_history
    ("order_status_history_pkey", "INSERT INTO shop.order_status_history SELECT * FROM shop.order_status_history WHERE tenant_id = '{A}'"),
    ("order_status_history_tenant_id_order_id_order_created_at_fkey", "UPDATE shop.order_status_history SET order_id = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("order_status_history_tenant_id_created_by_fkey", "UPDATE shop.order_status_history SET created_by = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("order_status_history_status_check", "UPDATE shop.order_status_history SET status = 'lost' WHERE tenant_id = '{A}'"),
    ("order_status_history_after_order", "UPDATE shop.order_status_history SET created_at = order_created_at - interval '1 second' WHERE tenant_id = '{A}'"),
    // payments
    ("payments_pkey", "INSERT INTO shop.payments SELECT * FROM shop.payments WHERE tenant_id = '{A}'"),
    ("payments_tenant_id_order_id_order_created_at_fkey", "UPDATE shop.payments SET order_id = gen_random_uuid() WHERE tenant_id = '{A}'"),
    ("payments_payment_method_check", "UPDATE shop.payments SET payment_method = 'iou' WHERE tenant_id = '{A}'"),
    ("payments_payment_provider_check", "UPDATE shop.payments SET payment_provider = 'Stripe!' WHERE tenant_id = '{A}'"),
    ("payments_amount_check", "UPDATE shop.payments SET amount = -1 WHERE tenant_id = '{A}'"),
    ("payments_currency_check", "UPDATE shop.payments SET currency = 'EU' WHERE tenant_id = '{A}'"),
    ("payments_status_check", "UPDATE shop.payments SET status = 'maybe' WHERE tenant_id = '{A}'"),
    ("payments_card_brand_check", "UPDATE shop.payments SET card_brand = 'visa-gold' WHERE tenant_id = '{A}'"),
    ("payments_card_last4_check", "UPDATE shop.payments SET card_last4 = '42a1' WHERE tenant_id = '{A}'"),
    ("payments_card_exp_month_check", "UPDATE shop.payments SET card_exp_month = 13 WHERE tenant_id = '{A}'"),
    ("payments_card_exp_year_check", "UPDATE shop.payments SET card_exp_year = 1999 WHERE tenant_id = '{A}'"),
    ("payments_no_card_data", r#"UPDATE shop.payments SET gateway_response = '{"source": {"number": "4242 4242 4242 4242"}}' WHERE tenant_id = '{A}'"#),
    ("payments_after_order", "UPDATE shop.payments SET created_at = order_created_at - interval '1 second' WHERE tenant_id = '{A}'"),
    // payment_idempotency_keys
    ("payment_idempotency_keys_pkey", "INSERT INTO shop.payment_idempotency_keys (tenant_id, idempotency_key, payment_id, order_created_at) VALUES ('{A}', 'idem-a-1', '{a:f1}', '2024-03-05 12:00:00+00')"),
    ("payment_idempotency_keys_payment_fkey", "INSERT INTO shop.payment_idempotency_keys (tenant_id, idempotency_key, payment_id, order_created_at) VALUES ('{A}', 'idem-new', gen_random_uuid(), '2024-03-05 12:00:00+00')"),
    // payment_transactions (append-only: rejected inserts only)
    ("payment_transactions_pkey", "INSERT INTO shop.payment_transactions SELECT * FROM shop.payment_transactions WHERE tenant_id = '{A}'"),
    ("payment_transactions_tenant_id_payment_id_order_created_at_fkey", "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status) VALUES ('{A}', gen_random_uuid(), '2024-03-05 12:00:00+00', 'refund', 1, 'succeeded')"),
    ("payment_transactions_transaction_type_check", "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'gift', 1, 'succeeded')"),
    ("payment_transactions_amount_check", "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'refund', -1, 'succeeded')"),
    ("payment_transactions_currency_check", "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, currency, status) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'refund', 1, 'Kwd', 'succeeded')"),
    ("payment_transactions_status_check", "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'refund', 1, 'ok')"),
    ("payment_transactions_no_card_data", r#"INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status, gateway_response) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'refund', 1, 'succeeded', '{"cvv": "123"}')"#),
    ("payment_transactions_after_order", "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status, created_at) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'refund', 1, 'succeeded', '2024-03-05 11:00:00+00')"),
    // events, page_views
    ("events_pkey", "INSERT INTO shop.events SELECT * FROM shop.events WHERE tenant_id = '{A}'"),
    ("events_tenant_id_fkey", "INSERT INTO shop.events (tenant_id, event_type) VALUES (gen_random_uuid(), 'cart.viewed')"),
    ("events_tenant_id_user_id_fkey", "INSERT INTO shop.events (tenant_id, user_id, event_type) VALUES ('{A}', gen_random_uuid(), 'cart.viewed')"),
    ("events_event_type_check", "INSERT INTO shop.events (tenant_id, event_type) VALUES ('{A}', 'Cart Viewed')"),
    ("page_views_pkey", "INSERT INTO shop.page_views SELECT * FROM shop.page_views WHERE tenant_id = '{A}'"),
    ("page_views_tenant_id_fkey", "INSERT INTO shop.page_views (tenant_id, page_url) VALUES (gen_random_uuid(), '/')"),
    ("page_views_tenant_id_user_id_fkey", "INSERT INTO shop.page_views (tenant_id, user_id, page_url) VALUES ('{A}', gen_random_uuid(), '/')"),
    // audit log
    ("log_pkey", "INSERT INTO audit.log (id, logged_at, table_name, operation) SELECT id, logged_at, 'x', 'INSERT' FROM audit.log LIMIT 1"),
    ("log_operation_check", "INSERT INTO audit.log (table_name, operation) VALUES ('shop.orders', 'TRUNCATE')"),
];

fn expand(sql: &str) -> String {
    let mut out = sql
        .replace("{NEW_USER}", NEW_USER)
        .replace("{A}", crate::common::TENANT_A)
        .replace("{B}", crate::common::TENANT_B);
    while let Some(start) = out.find("{a:") {
        let id = &out[start + 3..start + 5];
        out.replace_range(
            start..start + 6,
            &format!("a0000000-0000-7000-8000-0000000000{id}"),
        );
    }
    out
}

/// The constraint an error names, mapped from a partition's clone to the parent's constraint.
async fn parent_constraint(conn: &mut PgConnection, table: Option<&str>, name: &str) -> String {
    let Some(table) = table else {
        return name.to_string();
    };
    let parent: Option<String> = sqlx::query_scalar(
        "SELECT pc.conname FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
           JOIN pg_constraint pc ON pc.oid = c.conparentid
          WHERE c.conname = $1 AND r.relname = $2",
    )
    .bind(name)
    .bind(table)
    .fetch_optional(&mut *conn)
    .await
    .unwrap();
    parent.unwrap_or_else(|| name.to_string())
}

#[tokio::test]
async fn every_constraint_has_a_rejecting_case() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;

    let mut fired = BTreeSet::new();
    let mut wrong = Vec::new();
    for (expected, sql) in CASES {
        let sql = expand(sql);
        let err = rejected(&mut conn, &sql).await;
        let name = err.constraint().unwrap_or("<none>").to_string();
        let name = parent_constraint(&mut conn, err.table(), &name).await;
        if name != *expected {
            wrong.push(format!(
                "{expected}: fired {name} ({})\n  {sql}",
                err.message()
            ));
        }
        fired.insert(name);
    }
    assert!(
        wrong.is_empty(),
        "cases that tripped another constraint:\n{}",
        wrong.join("\n")
    );

    let all: Vec<String> = sqlx::query_scalar(
        "SELECT c.conname FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
           JOIN pg_namespace n ON n.oid = r.relnamespace
          WHERE n.nspname IN ('shop', 'audit') AND NOT r.relispartition AND c.conparentid = 0
            AND c.contype IN ('c', 'f', 'u', 'p') AND r.relkind IN ('r', 'p')
         UNION
         SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n ON n.oid = r.relnamespace
          WHERE n.nspname IN ('shop', 'audit') AND r.relkind IN ('r', 'p') AND NOT r.relispartition
            AND i.indisunique AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let missing: Vec<&String> = all.iter().filter(|c| !fired.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "constraints without a rejecting case: {missing:?}"
    );
    db.finish().await;
}

#[tokio::test]
async fn valid_boundaries_are_accepted() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    for sql in [
        // a second, non-default address and a default billing address beside the default shipping one
        "INSERT INTO shop.user_addresses (tenant_id, user_id, type, is_default, first_name, last_name, address_line_1, city, state, postal_code, country) VALUES ('{A}', '{a:01}', 'shipping', false, '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', 'FR'), ('{A}', '{a:01}', 'billing', true, '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', '\\x01', 'FR')",
        // a non-primary image beside the primary one
        "INSERT INTO shop.product_images (tenant_id, product_id, url, is_primary) VALUES ('{A}', '{a:d1}', 's3://bucket/2.jpg', false)",
        // all stock reserved, then released
        "UPDATE shop.product_inventory SET reserved_quantity = 0 WHERE tenant_id = '{A}'",
        // a refund appended to the ledger; a ledger row with a plain-token gateway payload
        r#"INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, currency, status, gateway_response) VALUES ('{A}', '{a:f1}', '2024-03-05 12:00:00+00', 'refund', 10.125, 'KWD', 'succeeded', '{"id": "re_1Nq2", "created": 1709640000123, "last4": "4242"}')"#,
        // the largest amount numeric(19,4) holds
        "UPDATE shop.orders SET subtotal = 999999999999999.9999, tax_amount = 0, shipping_amount = 0, discount_amount = 0, total_amount = 999999999999999.9999 WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'",
        // an order shipped and delivered at the same instant
        "UPDATE shop.orders SET status = 'delivered', shipped_at = created_at, delivered_at = created_at WHERE id = '018e0e7c-2200-7000-8000-0000000000a2'",
        // anonymous events
        "INSERT INTO shop.events (tenant_id, event_type) VALUES ('{A}', 'search.performed')",
    ] {
        accepted(&mut conn, &expand(sql)).await;
    }
    db.finish().await;
}

#[tokio::test]
async fn same_email_registers_at_two_tenants_but_once_per_tenant() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    load_fixture(&mut conn).await;
    let tenants_with_hash: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT tenant_id) FROM shop.users WHERE email_hash = decode(repeat('ab', 32), 'hex')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(tenants_with_hash, 2);
    db.finish().await;
}
