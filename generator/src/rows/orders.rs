//! Orders with their lines, status history, payments, idempotency keys and ledger rows; one
//! chunk is a range of global order indexes (customer-major: a customer's orders are adjacent).

use super::audit::{self, Entry, RowJson};
use super::{token, Batch, Table};
use crate::lifecycle::{Order, Status};
use crate::model::{uuid7, Model, Tenant, DAY_US};
use crate::rng::{key, Stream};
use crate::rows::users::nonce;

pub const TABLES: &[Table] = &[
    Table::Orders,
    Table::OrderItems,
    Table::OrderStatusHistory,
    Table::Payments,
    Table::PaymentIdempotencyKeys,
    Table::PaymentTransactions,
    Table::AuditLog,
];

/// Idempotency keys are kept for this long after their payment (then purged by the application).
pub const IDEMPOTENCY_WINDOW_US: i64 = DAY_US;

/// Calls `f` for every order in `range` with its customer and tenant.
pub fn for_each_order(m: &Model, range: std::ops::Range<u64>, mut f: impl FnMut(&Order, &Tenant)) {
    if range.is_empty() {
        return;
    }
    let mut u = m.user_of_order(range.start);
    let mut t = m.tenant_of_user(u);
    for o in range {
        while !m.user_orders(u).contains(&o) {
            u += 1;
            if u >= t.user_start + t.users {
                t = m.tenant_of_user(u);
            }
        }
        f(&m.order(o, u, t), t);
    }
}

pub fn orders(m: &Model, range: std::ops::Range<u64>, batch: &mut Batch) {
    let mut name = String::new();
    let mut sku = String::new();
    let mut tok = String::new();
    let mut tok2 = String::new();
    let as_of = m.config.as_of_us;
    // A customer's orders are adjacent: their id and sealed address are made once per customer.
    // The address is sealed with a nonce of (customer, kind), so every order of the customer
    // carries the same ciphertext of the same plaintext (an equality leak only, never a reused
    // keystream on different data).
    let (want_items, want_history, want_ledger, want_audit) = (
        batch.wants(Table::OrderItems),
        batch.wants(Table::OrderStatusHistory),
        batch.wants(Table::PaymentTransactions),
        batch.wants(Table::AuditLog),
    );
    // The financial rows' audit entries (see audit.rs), tied to this seed's window.
    let run = crate::fingerprint::run_id(&m.config);
    let mut json = RowJson::default();
    let mut current: Option<(u64, uuid::Uuid, Vec<u8>, Vec<u8>)> = None;
    for_each_order(m, range, |o, t| {
        if current.as_ref().map(|c| c.0) != Some(o.user) {
            let dk = m.data_key(o.user);
            let ah = key(m.seed(), Stream::Address, o.user * 4);
            let address = format!(
                "{}\n{}, {} {}",
                m.pools.streets[(ah % 2048) as usize],
                m.pools.cities[(ah / 2048 % 2048) as usize],
                m.pools.states[(ah / 4096 % 2048) as usize],
                m.pools.zips[(ah / 8192 % 2048) as usize]
            );
            current = Some((
                o.user,
                m.user_id(o.user),
                dk.encrypt_with_nonce(nonce(7, 0), address.as_bytes(), b"orders.shipping_address"),
                dk.encrypt_with_nonce(nonce(7, 1), address.as_bytes(), b"orders.billing_address"),
            ));
        }
        let (_, user_id, shipping, billing) = current.as_ref().expect("set above");
        let user_id = *user_id;
        let h = key(m.seed(), Stream::Order, o.index);
        let notes = (h % 40 == 0).then_some("Please leave at the front door.");
        if batch.wants(Table::Orders) {
            batch
                .buffer(Table::Orders)
                .row(17)
                .uuid(t.id)
                .uuid(o.id)
                .ts_us(o.created_us)
                .uuid(user_id)
                .text(o.status.as_str())
                .numeric4(o.subtotal)
                .numeric4(o.tax)
                .numeric4(o.shipping)
                .numeric4(o.discount)
                .numeric4(o.total)
                .text(t.currency)
                .bytea(shipping)
                .bytea(billing)
                .opt_text(notes)
                .ts_us(o.updated_us())
                .opt_ts_us(o.shipped_us)
                .opt_ts_us(o.delivered_us);
        }
        if want_audit {
            let order_number = format!("ORD-{}", o.id.simple()).to_uppercase();
            let row = json
                .begin()
                .uuid("tenant_id", t.id)
                .uuid("id", o.id)
                .ts("created_at", o.created_us)
                .text("order_number", &order_number)
                .uuid("user_id", user_id)
                .text("status", o.status.as_str())
                .num4("subtotal", o.subtotal)
                .num4("tax_amount", o.tax)
                .num4("shipping_amount", o.shipping)
                .num4("discount_amount", o.discount)
                .num4("total_amount", o.total)
                .text("currency", t.currency)
                .bytea("shipping_address", shipping)
                .bytea("billing_address", billing)
                .opt_text("notes", notes)
                .ts("updated_at", o.updated_us())
                .opt_ts("shipped_at", o.shipped_us)
                .opt_ts("delivered_at", o.delivered_us)
                .end();
            audit::entry(
                batch,
                run,
                Entry {
                    tenant: t.id,
                    table: "shop.orders",
                    row_id: o.id,
                    at_us: o.created_us,
                    h,
                    row,
                },
            );
        }
        for (i, item) in o.items.iter().enumerate().filter(|_| want_items) {
            crate::rows::catalog::product_name(m, t, item.product, &mut name);
            crate::rows::catalog::sku(item.product - t.product_start, &mut sku);
            {
                use std::fmt::Write;
                let _ = write!(sku, "-{}", item.variant);
            }
            let line_id = uuid7(o.created_us / 1000, h ^ (100 + i as u64));
            let (product_id, variant_id) = (
                m.product_id(item.product),
                m.variant_id(t, item.product, item.variant),
            );
            let line_total = item.unit_price * item.quantity as i64;
            batch
                .buffer(Table::OrderItems)
                .row(12)
                .uuid(t.id)
                .uuid(line_id)
                .uuid(o.id)
                .ts_us(o.created_us)
                .uuid(product_id)
                .uuid(variant_id)
                .text(&sku)
                .text(&name)
                .i32(item.quantity)
                .numeric4(item.unit_price)
                .numeric4(line_total)
                .ts_us(o.created_us);
            if want_audit {
                let row = json
                    .begin()
                    .uuid("tenant_id", t.id)
                    .uuid("id", line_id)
                    .uuid("order_id", o.id)
                    .ts("order_created_at", o.created_us)
                    .uuid("product_id", product_id)
                    .uuid("variant_id", variant_id)
                    .text("sku", &sku)
                    .text("name", &name)
                    .int("quantity", item.quantity as i64)
                    .num4("unit_price", item.unit_price)
                    .num4("total_price", line_total)
                    .ts("created_at", o.created_us)
                    .end();
                audit::entry(
                    batch,
                    run,
                    Entry {
                        tenant: t.id,
                        table: "shop.order_items",
                        row_id: line_id,
                        at_us: o.created_us,
                        h: h ^ (100 + i as u64),
                        row,
                    },
                );
            }
        }
        for (i, (status, at)) in o.history.iter().enumerate().filter(|_| want_history) {
            let by_customer = matches!(status, Status::Pending);
            batch
                .buffer(Table::OrderStatusHistory)
                .row(8)
                .uuid(t.id)
                .uuid(uuid7(at / 1000, h ^ (200 + i as u64)))
                .uuid(o.id)
                .ts_us(o.created_us)
                .text(status.as_str())
                .opt_text(match status {
                    Status::Cancelled => Some("cancelled before fulfilment"),
                    Status::Refunded => Some("returned by the customer"),
                    _ => None,
                })
                .opt_uuid(by_customer.then_some(user_id))
                .ts_us(*at);
        }
        for (j, p) in o.payments.iter().enumerate() {
            let ph = h ^ (300 + j as u64);
            let pid = uuid7(p.created_us / 1000, ph);
            token("pi_", ph, &mut tok);
            token("idem_", ph ^ 1, &mut tok2);
            // The card's token, brand, last four digits and expiry (cards only).
            let card = matches!(p.method, "credit_card" | "debit_card").then(|| {
                let mut gt = String::new();
                token("tok_", ph ^ 2, &mut gt);
                let brands = ["visa", "mastercard", "amex", "discover"];
                (
                    gt,
                    brands[(ph % 4) as usize],
                    format!("{:04}", ph / 4 % 10_000),
                    1 + (ph / 40_000 % 12) as i16,
                    2026 + (ph / 480_000 % 6) as i16,
                )
            });
            let gateway = if p.declined {
                r#"{"code": "card_declined", "decline_code": "insufficient_funds"}"#
            } else {
                r#"{"code": "approved"}"#
            };
            if batch.wants(Table::Payments) {
                let b = batch.buffer(Table::Payments);
                b.row(19)
                    .uuid(t.id)
                    .uuid(pid)
                    .uuid(o.id)
                    .ts_us(o.created_us)
                    .text(p.method)
                    .text(p.provider)
                    .text(&tok)
                    .text(&tok2)
                    .numeric4(o.total)
                    .text(t.currency)
                    .text(p.status);
                match &card {
                    Some((gt, brand, last4, month, year)) => {
                        b.text(gt).text(brand).text(last4).i16(*month).i16(*year);
                    }
                    None => {
                        b.null().null().null().null().null();
                    }
                }
                b.jsonb(gateway).ts_us(p.created_us).ts_us(p.updated_us);
            }
            if want_audit {
                let row = json
                    .begin()
                    .uuid("tenant_id", t.id)
                    .uuid("id", pid)
                    .uuid("order_id", o.id)
                    .ts("order_created_at", o.created_us)
                    .text("payment_method", p.method)
                    .text("payment_provider", p.provider)
                    .text("external_payment_id", &tok)
                    .text("idempotency_key", &tok2)
                    .num4("amount", o.total)
                    .text("currency", t.currency)
                    .text("status", p.status)
                    .opt_text("gateway_token", card.as_ref().map(|c| c.0.as_str()))
                    .opt_text("card_brand", card.as_ref().map(|c| c.1))
                    .opt_text("card_last4", card.as_ref().map(|c| c.2.as_str()))
                    .opt_int("card_exp_month", card.as_ref().map(|c| c.3 as i64))
                    .opt_int("card_exp_year", card.as_ref().map(|c| c.4 as i64))
                    .raw("gateway_response", gateway)
                    .ts("created_at", p.created_us)
                    .ts("updated_at", p.updated_us)
                    .end();
                audit::entry(
                    batch,
                    run,
                    Entry {
                        tenant: t.id,
                        table: "shop.payments",
                        row_id: pid,
                        at_us: p.created_us,
                        h: ph,
                        row,
                    },
                );
            }
            if as_of - p.created_us < IDEMPOTENCY_WINDOW_US {
                batch
                    .buffer(Table::PaymentIdempotencyKeys)
                    .row(5)
                    .uuid(t.id)
                    .text(&tok2)
                    .uuid(pid)
                    .ts_us(o.created_us)
                    .ts_us(p.created_us);
            }
            for (k, l) in p.ledger.iter().enumerate().filter(|_| want_ledger) {
                let lh = ph ^ (0x10000 + k as u64);
                token("txn_", lh, &mut tok);
                let id = uuid7(l.at_us / 1000, lh);
                let gateway = match l.status {
                    "failed" => r#"{"code": "card_declined"}"#,
                    "pending" => r#"{"code": "requested"}"#,
                    _ => r#"{"code": "approved"}"#,
                };
                batch
                    .buffer(Table::PaymentTransactions)
                    .row(11)
                    .uuid(t.id)
                    .uuid(id)
                    .uuid(pid)
                    .ts_us(o.created_us)
                    .text(l.kind)
                    .numeric4(l.amount)
                    .text(t.currency)
                    .text(l.status)
                    .text(&tok)
                    .jsonb(gateway)
                    .ts_us(l.at_us);
                if want_audit {
                    let row = json
                        .begin()
                        .uuid("tenant_id", t.id)
                        .uuid("id", id)
                        .uuid("payment_id", pid)
                        .ts("order_created_at", o.created_us)
                        .text("transaction_type", l.kind)
                        .num4("amount", l.amount)
                        .text("currency", t.currency)
                        .text("status", l.status)
                        .text("gateway_transaction_id", &tok)
                        .raw("gateway_response", gateway)
                        .ts("created_at", l.at_us)
                        .end();
                    audit::entry(
                        batch,
                        run,
                        Entry {
                            tenant: t.id,
                            table: "shop.payment_transactions",
                            row_id: id,
                            at_us: l.at_us,
                            h: lh,
                            row,
                        },
                    );
                }
            }
        }
    });
}
