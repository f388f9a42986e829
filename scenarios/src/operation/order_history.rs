//! `order_history`: a customer's last 20 orders of the past year with their line counts. The
//! orders are found by (tenant, customer) with created_at bounds, so partitions are pruned and
//! the `(tenant_id, user_id, created_at)` index serves it; the lines by the page's bounds.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Call, OpFuture, Operation, Spec};
use crate::context::Context;

pub struct OrderHistory(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "order_history",
    description: "a customer's last 20 orders of the past year",
    p95_ms: 200.0,
    p99_ms: 500.0,
    needs: &[],
    build: |ctx| Arc::new(OrderHistory(ctx)),
};

impl Operation for OrderHistory {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let (u, t) = c.customer_for(call);
            let mut tx = c.begin(t.id).await?;
            let rows = tx
                .query(
                    "SELECT id, created_at, order_number, status, total_amount, currency
                       FROM shop.orders
                      WHERE tenant_id = $1 AND user_id = $2 AND created_at >= now() - interval '1 year'
                      ORDER BY created_at DESC
                      LIMIT 20",
                    &[&t.id, &m.user_id(u)],
                )
                .await?;
            let orders = rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<(Uuid, DateTime<Utc>)>, crate::pq::Error>>()?;
            if let (Some(newest), Some(oldest)) = (orders.first(), orders.last()) {
                let ids: Vec<Uuid> = orders.iter().map(|o| o.0).collect();
                tx.query(
                    "SELECT order_id, count(*) FROM shop.order_items
                      WHERE tenant_id = $1 AND order_id = ANY($2)
                        AND order_created_at BETWEEN $3 AND $4
                      GROUP BY order_id",
                    &[&t.id, &ids, &oldest.1, &newest.1],
                )
                .await?;
            } else {
                call.note("no_recent_orders");
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
