//! `fulfilment`: the warehouse moves a paid order one step: paid → processing → shipped (the
//! reserved stock leaves the shelf: quantity and reservation both drop, in variant order) →
//! delivered. Each step writes the order's status and its history in one transaction; the order
//! waits for its next step in the queue. Nothing to fulfil is a business outcome.

use std::sync::Arc;

use super::shared::history;
use super::{Call, OpFuture, Operation, Spec};
use crate::context::Context;
use crate::failure::Failure;

pub struct Fulfilment(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "fulfilment",
    description: "a paid order moved one step towards delivery",
    p95_ms: 300.0,
    p99_ms: 800.0,
    needs: &[],
    build: |ctx| Arc::new(Fulfilment(ctx)),
};

impl Operation for Fulfilment {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let Some(order) = c.to_fulfil.pop() else {
                return Err(Failure::Business("no_order_to_fulfil"));
            };
            let t = &c.model.tenants[order.tenant];
            call.tier = Some(t.tier.into());
            let step = crate::retrying!(call, async {
                let mut tx = c.begin(t.id).await?;
                let status: Option<String> = tx
                    .opt(
                        "SELECT status FROM shop.orders WHERE tenant_id = $1 AND id = $2 AND created_at = $3 FOR UPDATE",
                        &[&t.id, &order.order_id, &order.created_at],
                    )
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
                let next = match status.as_deref() {
                    Some("paid") => "processing",
                    Some("processing") => "shipped",
                    Some("shipped") => "delivered",
                    _ => return Ok::<_, Failure>(None),
                };
                if next == "shipped" {
                    for (variant, q) in &order.items {
                        tx.execute(
                            "UPDATE shop.product_inventory
                                SET quantity = quantity - least($3, reserved_quantity),
                                    reserved_quantity = reserved_quantity - least($3, reserved_quantity)
                              WHERE tenant_id = $1 AND variant_id = $2",
                            &[&t.id, variant, q],
                        )
                        .await?;
                    }
                }
                tx.execute(
                    "UPDATE shop.orders
                        SET status = $4,
                            shipped_at = CASE WHEN $4 = 'shipped' THEN now() ELSE shipped_at END,
                            delivered_at = CASE WHEN $4 = 'delivered' THEN now() ELSE delivered_at END
                      WHERE tenant_id = $1 AND id = $2 AND created_at = $3",
                    &[&t.id, &order.order_id, &order.created_at, &next],
                )
                .await?;
                history(&mut tx, t.id, order.order_id, order.created_at, next).await?;
                tx.commit().await?;
                Ok(Some(next))
            })?;
            match step {
                Some("delivered") => Ok(()),
                Some(_) => {
                    c.to_fulfil.push(order);
                    Ok(())
                }
                None => Err(Failure::Business("order_not_fulfillable")),
            }
        })
    }
}
