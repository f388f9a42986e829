//! `order_detail`: one of a customer's orders (from the model: its id and creation time, so every
//! query prunes to one partition) with its lines, payments, ledger and status history.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::Rng;
use rust_decimal::Decimal;

use super::shared::missing;
use super::{Call, OpFuture, Operation, Spec};
use crate::context::{timestamp, Context};
use crate::db::Params;

pub struct OrderDetail(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "order_detail",
    description: "one order with its lines, payments, ledger and history",
    p95_ms: 150.0,
    p99_ms: 400.0,
    needs: &[],
    build: |ctx| Arc::new(OrderDetail(ctx)),
};

impl Operation for OrderDetail {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let (u, t) = c.customer_for(call);
            let orders = m.user_orders(u);
            let o = call.rng.random_range(orders);
            let order = m.order(o, u, t);
            let at = timestamp(order.created_us);
            let mut tx = c.begin(t.id).await?;
            let key: Params = &[&t.id, &order.id, &at];
            let head = tx
                .opt(
                    "SELECT status, total_amount, shipped_at FROM shop.orders
                      WHERE tenant_id = $1 AND id = $2 AND created_at = $3",
                    key,
                )
                .await?;
            let Some(head) = head else {
                return Err(missing("order", order.id));
            };
            let _: (String, Decimal, Option<DateTime<Utc>>) =
                (head.try_get(0)?, head.try_get(1)?, head.try_get(2)?);
            tx.query(
                "SELECT product_id, name, quantity, total_price FROM shop.order_items
                  WHERE tenant_id = $1 AND order_id = $2 AND order_created_at = $3",
                key,
            )
            .await?;
            tx.query(
                "SELECT p.id, p.status, p.amount, p.payment_method,
                        (SELECT count(*) FROM shop.payment_transactions x
                          WHERE x.tenant_id = p.tenant_id AND x.payment_id = p.id
                            AND x.order_created_at = p.order_created_at)
                   FROM shop.payments p
                  WHERE p.tenant_id = $1 AND p.order_id = $2 AND p.order_created_at = $3",
                key,
            )
            .await?;
            tx.query(
                "SELECT status, created_at FROM shop.order_status_history
                  WHERE tenant_id = $1 AND order_id = $2 AND order_created_at = $3
                  ORDER BY created_at",
                key,
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
