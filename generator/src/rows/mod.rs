//! Row encoders: one file per group of tables loaded together. Each group turns one chunk of the
//! model (a range of users, products, orders or events) into COPY BINARY buffers, one per table.

pub mod analytics;
pub mod audit;
pub mod catalog;
pub mod events;
pub mod orders;
pub mod tenants;
pub mod users;

use crate::copy::CopyBuffer;

/// A PostgreSQL table the seed writes, with the columns it sends (generated columns excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Tenants,
    Categories,
    Users,
    UserDataKeys,
    TenantUsers,
    UserAddresses,
    UserPreferences,
    UserSessions,
    Products,
    ProductVariants,
    ProductImages,
    ProductInventory,
    Orders,
    OrderItems,
    OrderStatusHistory,
    Payments,
    PaymentIdempotencyKeys,
    PaymentTransactions,
    Events,
    PageViews,
    /// `audit.log`: the financial rows' audit entries, written as data in a bulk-load window.
    AuditLog,
}

impl Table {
    /// The shop tables (the audit log is not one).
    pub const ALL: [Table; 20] = [
        Table::Tenants,
        Table::Categories,
        Table::Users,
        Table::UserDataKeys,
        Table::TenantUsers,
        Table::UserAddresses,
        Table::UserPreferences,
        Table::UserSessions,
        Table::Products,
        Table::ProductVariants,
        Table::ProductImages,
        Table::ProductInventory,
        Table::Orders,
        Table::OrderItems,
        Table::OrderStatusHistory,
        Table::Payments,
        Table::PaymentIdempotencyKeys,
        Table::PaymentTransactions,
        Table::Events,
        Table::PageViews,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Tenants => "tenants",
            Table::Categories => "categories",
            Table::Users => "users",
            Table::UserDataKeys => "user_data_keys",
            Table::TenantUsers => "tenant_users",
            Table::UserAddresses => "user_addresses",
            Table::UserPreferences => "user_preferences",
            Table::UserSessions => "user_sessions",
            Table::Products => "products",
            Table::ProductVariants => "product_variants",
            Table::ProductImages => "product_images",
            Table::ProductInventory => "product_inventory",
            Table::Orders => "orders",
            Table::OrderItems => "order_items",
            Table::OrderStatusHistory => "order_status_history",
            Table::Payments => "payments",
            Table::PaymentIdempotencyKeys => "payment_idempotency_keys",
            Table::PaymentTransactions => "payment_transactions",
            Table::Events => "events",
            Table::PageViews => "page_views",
            Table::AuditLog => "log",
        }
    }

    /// `schema.table`.
    pub fn qualified(self) -> String {
        match self {
            Table::AuditLog => "audit.log".into(),
            t => format!("shop.{}", t.name()),
        }
    }

    /// The columns in the order the encoders write them.
    pub fn columns(self) -> &'static str {
        match self {
            Table::Tenants => "id, name, domain, status, plan, created_at, updated_at, settings, billing_info",
            Table::Categories => "tenant_id, id, name, slug, description, parent_id, image_url, sort_order, is_active, created_at, updated_at",
            Table::Users => "tenant_id, id, email, email_hash, password_hash, first_name, last_name, phone, encrypted_phone, date_of_birth, status, email_verified, phone_verified, created_at, updated_at, last_login_at, erased_at, metadata",
            Table::UserDataKeys => "tenant_id, user_id, wrapped_key, kek_id, created_at",
            Table::TenantUsers => "tenant_id, id, user_id, role, permissions, created_at",
            Table::UserAddresses => "tenant_id, id, user_id, type, is_default, first_name, last_name, company, address_line_1, address_line_2, city, state, postal_code, country, phone, encrypted_phone, created_at, updated_at",
            Table::UserPreferences => "tenant_id, id, user_id, currency, language, timezone, notification_settings, privacy_settings, created_at, updated_at",
            Table::UserSessions => "tenant_id, id, user_id, session_token, device_info, ip_address, user_agent, expires_at, created_at, last_activity_at",
            Table::Products => "tenant_id, id, sku, name, slug, description, short_description, category_id, brand, model, weight, dimensions, is_active, is_digital, requires_shipping, created_at, updated_at",
            Table::ProductVariants => "tenant_id, id, product_id, sku, name, attributes, price, compare_price, cost_price, currency, weight, is_active, created_at, updated_at",
            Table::ProductImages => "tenant_id, id, product_id, variant_id, url, alt_text, sort_order, is_primary, created_at",
            Table::ProductInventory => "tenant_id, id, variant_id, quantity, reserved_quantity, low_stock_threshold, reorder_point, created_at, updated_at",
            Table::Orders => "tenant_id, id, created_at, user_id, status, subtotal, tax_amount, shipping_amount, discount_amount, total_amount, currency, shipping_address, billing_address, notes, updated_at, shipped_at, delivered_at",
            Table::OrderItems => "tenant_id, id, order_id, order_created_at, product_id, variant_id, sku, name, quantity, unit_price, total_price, created_at",
            Table::OrderStatusHistory => "tenant_id, id, order_id, order_created_at, status, notes, created_by, created_at",
            Table::Payments => "tenant_id, id, order_id, order_created_at, payment_method, payment_provider, external_payment_id, idempotency_key, amount, currency, status, gateway_token, card_brand, card_last4, card_exp_month, card_exp_year, gateway_response, created_at, updated_at",
            Table::PaymentIdempotencyKeys => "tenant_id, idempotency_key, payment_id, order_created_at, created_at",
            Table::PaymentTransactions => "tenant_id, id, payment_id, order_created_at, transaction_type, amount, currency, status, gateway_transaction_id, gateway_response, created_at",
            Table::Events => "tenant_id, id, user_id, session_id, event_type, event_data, created_at",
            Table::PageViews => "tenant_id, id, user_id, session_id, page_url, page_title, referrer, user_agent, ip_address, created_at",
            Table::AuditLog => "id, logged_at, tenant_id, table_name, operation, row_id, new_row, bulk_load",
        }
    }

    pub fn copy_statement(self) -> String {
        format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            self.qualified(),
            self.columns()
        )
    }

    /// Number of columns sent.
    pub fn width(self) -> i16 {
        self.columns().split(',').count() as i16
    }
}

/// The rows of one chunk, per table, in load order.
#[derive(Debug, Default)]
pub struct Batch {
    pub tables: Vec<(Table, CopyBuffer)>,
    sink: CopyBuffer,
}

impl Batch {
    pub fn new(tables: &[Table]) -> Self {
        Batch {
            tables: tables.iter().map(|&t| (t, CopyBuffer::default())).collect(),
            sink: CopyBuffer::default(),
        }
    }

    /// The buffer of `table`, or a sink that drops rows when the batch was made without it
    /// (benchmarks encode one table of a group at a time).
    pub fn buffer(&mut self, table: Table) -> &mut CopyBuffer {
        match self.tables.iter().position(|(t, _)| *t == table) {
            Some(i) => &mut self.tables[i].1,
            None => {
                self.sink.clear();
                &mut self.sink
            }
        }
    }

    /// Whether the batch holds `table` (encoders skip the work for tables it does not).
    #[inline]
    pub fn wants(&self, table: Table) -> bool {
        self.tables.iter().any(|(t, _)| *t == table)
    }

    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, b)| b.rows()).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.tables.iter().map(|(_, b)| b.len() as u64).sum()
    }

    pub fn finish(&mut self) {
        for (_, b) in &mut self.tables {
            b.finish();
        }
    }
}

/// `prefix` then `h` in 14 lowercase letters: gateway ids and tokens. Letters only, so no run of
/// digits can ever look like a card number to the schema's card-data check.
pub fn token(prefix: &str, mut h: u64, out: &mut String) {
    out.clear();
    out.push_str(prefix);
    for _ in 0..14 {
        out.push((b'a' + (h % 26) as u8) as char);
        h /= 26;
    }
}
