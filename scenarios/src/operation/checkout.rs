//! `checkout`: one transaction writes the order, its lines and its first status, then reserves
//! stock as the last step, by conditional UPDATE (`available >= quantity`) in a fixed lock order
//! (variant id), so two checkouts of the same products never deadlock and locks are held for the
//! shortest time. Out of stock is a business outcome (the transaction rolls back). Prices are
//! read from the database, not trusted from the cart. Placed orders wait for `payment`.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::shared::missing;
use super::{Call, OpFuture, Operation, Spec};
use crate::context::{timestamp, Context, Placed};
use crate::failure::Failure;

pub struct Checkout(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "checkout",
    description: "order, lines and history in one transaction; stock reserved last",
    p95_ms: 400.0,
    p99_ms: 900.0,
    needs: &[],
    build: |ctx| Arc::new(Checkout(ctx)),
};

type VariantRow = (Uuid, Uuid, String, String, Decimal, bool);

struct Cart {
    tenant: usize,
    user: u64,
    user_id: Uuid,
    order_id: Uuid,
    created_us: i64,
    /// variant → quantity, in lock order.
    lines: BTreeMap<Uuid, i32>,
    address: Vec<u8>,
}

impl Operation for Checkout {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let (u, t) = c.user_for(call);
            let n = 1 + (call.rng.random::<f64>().powi(2) * 4.0) as usize;
            let mut lines = BTreeMap::new();
            for _ in 0..n {
                let p = c.pick_product(t, &mut call.rng);
                let v = call.rng.random_range(0..m.variants(p));
                let q = if call.rng.random_bool(0.8) { 1 } else { 2 };
                *lines.entry(m.variant_id(t, p, v)).or_insert(0) += q;
            }
            let now_ms = chrono::Utc::now().timestamp_millis();
            let address = format!(
                "{} Checkout Street, Shopbench City",
                call.rng.random_range(1..999)
            );
            // A fresh nonce, not the seeded draw: two runs of one seed encrypt under the same user's key.
            let nonce: [u8; platform::crypto::NONCE_LEN] = rand::random();
            let cart = Cart {
                tenant: t.index as usize,
                user: u,
                user_id: m.user_id(u),
                order_id: c.new_id(now_ms, call.rng.random()),
                created_us: now_ms * 1000,
                lines,
                address: m.data_key(u).encrypt_with_nonce(
                    nonce,
                    address.as_bytes(),
                    b"orders.shipping_address",
                ),
            };
            let placed = crate::retrying!(call, place(c, &cart))?;
            c.to_pay.push(placed);
            Ok(())
        })
    }
}

async fn place(c: &Context, cart: &Cart) -> Result<Placed, Failure> {
    let t = &c.model.tenants[cart.tenant];
    let created_at = timestamp(cart.created_us);
    let variants: Vec<Uuid> = cart.lines.keys().copied().collect();
    let mut tx = c.begin(t.id).await?;
    let rows = tx
        .query(
            "SELECT id, product_id, sku, name, price, is_active FROM shop.product_variants
              WHERE tenant_id = $1 AND id = ANY($2)",
            &[&t.id, &variants],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            ))
        })
        .collect::<Result<Vec<VariantRow>, crate::pq::Error>>()?;
    if rows.len() != variants.len() {
        let found: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let absent = variants
            .iter()
            .find(|v| !found.contains(v))
            .copied()
            .unwrap_or_default();
        return Err(missing("variant", absent));
    }
    if rows.iter().any(|r| !r.5) {
        // The merchant withdrew a variant the shopper had in the cart.
        return Err(Failure::Business("variant_unavailable"));
    }
    let mut subtotal = Decimal::ZERO;
    let (mut products, mut skus, mut names, mut quantities, mut prices, mut totals) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut ids = vec![];
    for (id, product, sku, name, price, _) in &rows {
        let q = cart.lines[id];
        let line = *price * Decimal::from(q);
        subtotal += line;
        ids.push(*id);
        products.push(*product);
        skus.push(sku.clone());
        names.push(name.clone());
        quantities.push(q);
        prices.push(*price);
        totals.push(line);
    }
    let tax = (subtotal * Decimal::new(t.tax_bp, 4)).round_dp(2);
    let shipping = if subtotal < Decimal::from(50) {
        Decimal::new(499, 2)
    } else {
        Decimal::ZERO
    };
    let total = subtotal + tax + shipping;
    tx.execute(
        "INSERT INTO shop.orders (tenant_id, id, created_at, user_id, status, subtotal, tax_amount,
                                  shipping_amount, discount_amount, total_amount, currency,
                                  shipping_address, billing_address)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, 0, $8, $9, $10, $10)",
        &[
            &t.id,
            &cart.order_id,
            &created_at,
            &cart.user_id,
            &subtotal,
            &tax,
            &shipping,
            &total,
            &t.currency,
            &cart.address,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO shop.order_items (tenant_id, order_id, order_created_at, product_id, variant_id,
                                       sku, name, quantity, unit_price, total_price)
         SELECT $1, $2, $3, l.product_id, l.variant_id, l.sku, l.name, l.quantity, l.unit_price, l.total_price
           FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::int[], $9::numeric[], $10::numeric[])
                AS l(product_id, variant_id, sku, name, quantity, unit_price, total_price)",
        &[
            &t.id,
            &cart.order_id,
            &created_at,
            &products,
            &ids,
            &skus,
            &names,
            &quantities,
            &prices,
            &totals,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO shop.order_status_history (tenant_id, order_id, order_created_at, status, created_by)
         VALUES ($1, $2, $3, 'pending', $4)",
        &[&t.id, &cart.order_id, &created_at, &cart.user_id],
    )
    .await?;
    // Last: reserve stock, in variant id order.
    for (variant, q) in &cart.lines {
        let reserved = tx
            .execute(
                "UPDATE shop.product_inventory SET reserved_quantity = reserved_quantity + $3
                  WHERE tenant_id = $1 AND variant_id = $2 AND quantity - reserved_quantity >= $3",
                &[&t.id, variant, q],
            )
            .await?;
        if reserved == 0 {
            tx.rollback().await?;
            return Err(Failure::Business("out_of_stock"));
        }
    }
    tx.commit().await?;
    Ok(Placed {
        tenant: cart.tenant,
        user: cart.user,
        order_id: cart.order_id,
        created_at,
        total,
        currency: t.currency,
        items: cart.lines.iter().map(|(v, q)| (*v, *q)).collect(),
    })
}
