//! `dashboard`: a merchant opens the analytics dashboard: revenue by day over 30 days and the
//! top 10 products of the week (from `order_facts`), and today's funnel (views → cart →
//! checkout → purchase, from `events`), three ClickHouse queries for one tenant.

use std::sync::Arc;

use serde::Deserialize;

use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::Context;

pub struct Dashboard(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "dashboard",
    description: "a merchant's dashboard: three ClickHouse queries",
    p95_ms: 600.0,
    p99_ms: 950.0,
    needs: &[Need::ClickHouse],
    build: |ctx| Arc::new(Dashboard(ctx)),
};

#[derive(Debug, Deserialize, clickhouse::Row)]
struct Day {
    _day: String,
    _revenue: f64,
    _orders: u64,
}

#[derive(Debug, Deserialize, clickhouse::Row)]
struct Top {
    _product: String,
    _revenue: f64,
    _units: u64,
}

#[derive(Debug, Deserialize, clickhouse::Row)]
struct Step {
    _event_type: String,
    _count: u64,
}

impl Operation for Dashboard {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let client = c.clickhouse()?;
            let t = c.tenant_for(call);
            let tenant = t.id.to_string();
            let _days: Vec<Day> = client
                .query(
                    "SELECT toString(toDate(created_at)) AS day, toFloat64(sum(line_total)) AS revenue,
                            toUInt64(uniqExact(order_id)) AS orders
                       FROM order_facts
                      WHERE tenant_id = toUUID(?) AND created_at >= now() - INTERVAL 30 DAY
                        AND status NOT IN ('cancelled', 'refunded')
                      GROUP BY day ORDER BY day",
                )
                .bind(&tenant)
                .fetch_all()
                .await?;
            let _top: Vec<Top> = client
                .query(
                    "SELECT toString(product_id) AS product, toFloat64(sum(line_total)) AS revenue,
                            toUInt64(sum(quantity)) AS units
                       FROM order_facts
                      WHERE tenant_id = toUUID(?) AND created_at >= now() - INTERVAL 7 DAY
                      GROUP BY product ORDER BY revenue DESC LIMIT 10",
                )
                .bind(&tenant)
                .fetch_all()
                .await?;
            let _funnel: Vec<Step> = client
                .query(
                    "SELECT event_type, toUInt64(count()) AS n
                       FROM events
                      WHERE tenant_id = toUUID(?) AND created_at >= now() - INTERVAL 1 DAY
                        AND event_type IN ('product.view', 'cart.add', 'checkout.start', 'checkout.complete')
                      GROUP BY event_type",
                )
                .bind(&tenant)
                .fetch_all()
                .await?;
            Ok(())
        })
    }
}
