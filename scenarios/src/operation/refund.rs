//! `refund`: a customer returns a delivered order (picked from the model's lifecycle): the
//! payment is locked, what is left to refund computed from the ledger, the refund request
//! appended; the gateway answers outside the transaction; the answer is appended and the payment
//! (and, for a full refund, the order) moves on. Nothing left to refund is a business outcome.

use std::sync::Arc;

use rand::Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Call, OpFuture, Operation, Spec};
use crate::context::{timestamp, Context};
use crate::db::Tx;
use crate::failure::Failure;

pub struct Refund(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "refund",
    description: "a delivered order refunded against its ledger",
    p95_ms: 500.0,
    p99_ms: 900.0,
    needs: &[],
    build: |ctx| Arc::new(Refund(ctx)),
};

impl Operation for Refund {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            // A delivered order of a customer: their most recent orders first.
            let mut found = None;
            for _ in 0..8 {
                let u = c.pick_customer(&mut call.rng);
                let t = m.tenant_of_user(u);
                let orders = m.user_orders(u);
                for o in orders.rev().take(8) {
                    let order = m.order(o, u, t);
                    if order.status == generator::lifecycle::Status::Delivered {
                        found = Some((t, order));
                        break;
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let Some((t, order)) = found else {
                return Err(Failure::Business("nothing_to_refund"));
            };
            call.tier = Some(t.tier.into());
            let created_at = timestamp(order.created_us);
            let full = call.rng.random_bool(0.6);
            let request = crate::retrying!(call, async {
                let mut tx = c.begin(t.id).await?;
                let payment = tx
                    .opt(
                        "SELECT id, amount, currency FROM shop.payments
                          WHERE tenant_id = $1 AND order_id = $2 AND order_created_at = $3
                            AND status IN ('captured', 'partially_refunded')
                          LIMIT 1 FOR UPDATE",
                        &[&t.id, &order.id, &created_at],
                    )
                    .await?;
                let Some(payment) = payment else {
                    return Ok::<_, Failure>(None);
                };
                let (payment, amount, currency): (Uuid, Decimal, String) = (
                    payment.try_get(0)?,
                    payment.try_get(1)?,
                    payment.try_get(2)?,
                );
                // Requested refunds (their request rows), whatever the gateway answered yet.
                let requested: Decimal = tx
                    .one(
                        "SELECT coalesce(sum(amount), 0) FROM shop.payment_transactions
                          WHERE tenant_id = $1 AND payment_id = $2 AND order_created_at = $3
                            AND transaction_type = 'refund' AND status = 'pending'",
                        &[&t.id, &payment, &created_at],
                    )
                    .await?
                    .try_get(0)?;
                let left = amount - requested;
                if left <= Decimal::ZERO {
                    return Ok(None);
                }
                let refund = if full {
                    left
                } else {
                    (left / Decimal::from(2)).round_dp(2)
                };
                let refund = if refund <= Decimal::ZERO {
                    left
                } else {
                    refund
                };
                append(
                    &mut tx, t.id, payment, created_at, refund, &currency, "pending",
                )
                .await?;
                tx.commit().await?;
                Ok(Some((payment, refund, currency, refund == left)))
            })?;
            let Some((payment, refund, currency, complete)) = request else {
                return Err(Failure::Business("nothing_to_refund"));
            };
            c.gateway.call(&mut call.rng).await;
            crate::retrying!(call, async {
                let mut tx = c.begin(t.id).await?;
                append(
                    &mut tx,
                    t.id,
                    payment,
                    created_at,
                    refund,
                    &currency,
                    "succeeded",
                )
                .await?;
                let status = if complete {
                    "refunded"
                } else {
                    "partially_refunded"
                };
                tx.execute(
                    "UPDATE shop.payments SET status = $4 WHERE tenant_id = $1 AND id = $2 AND order_created_at = $3",
                    &[&t.id, &payment, &created_at, &status],
                )
                .await?;
                if complete {
                    tx.execute(
                        "UPDATE shop.orders SET status = 'refunded' WHERE tenant_id = $1 AND id = $2 AND created_at = $3",
                        &[&t.id, &order.id, &created_at],
                    )
                    .await?;
                    super::shared::history(&mut tx, t.id, order.id, created_at, "refunded").await?;
                }
                tx.commit().await?;
                Ok::<_, Failure>(())
            })?;
            Ok(())
        })
    }
}

async fn append(
    tx: &mut Tx,
    tenant: Uuid,
    payment: Uuid,
    created_at: chrono::DateTime<chrono::Utc>,
    amount: Decimal,
    currency: &str,
    status: &str,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type,
                                                amount, currency, status, gateway_response)
         VALUES ($1, $2, $3, 'refund', $4, $5, $6, jsonb_build_object('status', $6::text))",
        &[&tenant, &payment, &created_at, &amount, &currency, &status],
    )
    .await?;
    Ok(())
}
