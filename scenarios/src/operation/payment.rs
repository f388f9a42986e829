//! `payment`: authorize and capture an order placed by `checkout`, the way a payment service
//! does it: the payment and its idempotency key and the ledger's request row commit before the
//! gateway is called; the gateway's answer (a simulated delay, outside any transaction) is
//! appended to the ledger after; the capture moves the order to `paid`. The ledger is
//! append-only: a status is never updated, a new row is written. Declines are a business
//! outcome (half of the customers try again). No card data is stored: a token and the last four.

use std::sync::Arc;

use rand::Rng;
use uuid::Uuid;

use super::{Call, OpFuture, Operation, Spec};
use crate::context::{Context, Placed};
use crate::db::Tx;
use crate::failure::Failure;

pub struct Payment(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "payment",
    description: "authorize and capture around a simulated gateway; append-only ledger",
    p95_ms: 600.0,
    p99_ms: 950.0,
    needs: &[],
    build: |ctx| Arc::new(Payment(ctx)),
};

impl Operation for Payment {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let Some(order) = c.to_pay.pop() else {
                return Err(Failure::Business("no_order_to_pay"));
            };
            let t = &c.model.tenants[order.tenant];
            call.tier = Some(t.tier.into());
            let now_ms = chrono::Utc::now().timestamp_millis();
            let payment = c.new_id(now_ms, call.rng.random());
            // Unique across runs (the seeded generator repeats itself run after run by design).
            let key = format!("pay-{}", Uuid::new_v4());
            crate::retrying!(call, authorize_request(c, &order, payment, &key))?;
            c.gateway.call(&mut call.rng).await;
            let declined = call.rng.random_bool(c.gateway.decline_rate);
            crate::retrying!(call, answer(c, &order, payment, declined))?;
            if declined {
                if call.rng.random_bool(0.5) {
                    c.to_pay.push(order);
                }
                return Err(Failure::Business("payment_declined"));
            }
            c.gateway.call(&mut call.rng).await;
            crate::retrying!(call, capture(c, &order, payment))?;
            c.to_fulfil.push(order);
            Ok(())
        })
    }
}

async fn ledger(
    tx: &mut Tx,
    order: &Placed,
    tenant: Uuid,
    payment: Uuid,
    kind: &str,
    status: &str,
) -> Result<(), Failure> {
    let gateway_id = format!("gw_{}", payment.simple());
    tx.execute(
        "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type,
                                                amount, currency, status, gateway_transaction_id, gateway_response)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, jsonb_build_object('status', $7::text))",
        &[
            &tenant,
            &payment,
            &order.created_at,
            &kind,
            &order.total,
            &order.currency,
            &status,
            &gateway_id,
        ],
    )
    .await?;
    Ok(())
}

async fn authorize_request(
    c: &Context,
    order: &Placed,
    payment: Uuid,
    key: &str,
) -> Result<(), Failure> {
    let t = &c.model.tenants[order.tenant];
    let mut tx = c.begin(t.id).await?;
    let token = format!("tok_{}", payment.simple());
    tx.execute(
        "INSERT INTO shop.payments (tenant_id, id, order_id, order_created_at, payment_method, payment_provider,
                                    idempotency_key, amount, currency, status, gateway_token, card_brand,
                                    card_last4, card_exp_month, card_exp_year)
         VALUES ($1, $2, $3, $4, 'credit_card', 'stripe', $5, $6, $7, 'pending', $8, 'visa', '4242', 12, 2030)",
        &[
            &t.id,
            &payment,
            &order.order_id,
            &order.created_at,
            &key,
            &order.total,
            &order.currency,
            &token,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO shop.payment_idempotency_keys (tenant_id, idempotency_key, payment_id, order_created_at)
         VALUES ($1, $2, $3, $4)",
        &[&t.id, &key, &payment, &order.created_at],
    )
    .await?;
    ledger(&mut tx, order, t.id, payment, "authorize", "pending").await?;
    tx.commit().await?;
    Ok(())
}

async fn answer(c: &Context, order: &Placed, payment: Uuid, declined: bool) -> Result<(), Failure> {
    let t = &c.model.tenants[order.tenant];
    let mut tx = c.begin(t.id).await?;
    let (status, payment_status) = if declined {
        ("failed", "failed")
    } else {
        ("succeeded", "authorized")
    };
    ledger(&mut tx, order, t.id, payment, "authorize", status).await?;
    if !declined {
        ledger(&mut tx, order, t.id, payment, "capture", "pending").await?;
    }
    set_payment_status(&mut tx, t.id, payment, order, payment_status).await?;
    tx.commit().await?;
    Ok(())
}

async fn capture(c: &Context, order: &Placed, payment: Uuid) -> Result<(), Failure> {
    let t = &c.model.tenants[order.tenant];
    let mut tx = c.begin(t.id).await?;
    ledger(&mut tx, order, t.id, payment, "capture", "succeeded").await?;
    set_payment_status(&mut tx, t.id, payment, order, "captured").await?;
    let moved = tx
        .execute(
            "UPDATE shop.orders SET status = 'paid'
              WHERE tenant_id = $1 AND id = $2 AND created_at = $3 AND status = 'pending'",
            &[&t.id, &order.order_id, &order.created_at],
        )
        .await?;
    if moved == 1 {
        super::shared::history(&mut tx, t.id, order.order_id, order.created_at, "paid").await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn set_payment_status(
    tx: &mut Tx,
    tenant: Uuid,
    payment: Uuid,
    order: &Placed,
    status: &str,
) -> Result<(), Failure> {
    tx.execute(
        "UPDATE shop.payments SET status = $4 WHERE tenant_id = $1 AND id = $2 AND order_created_at = $3",
        &[&tenant, &payment, &order.created_at, &status],
    )
    .await?;
    Ok(())
}
