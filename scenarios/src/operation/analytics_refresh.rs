//! `analytics_refresh`: the `product_analytics` materialized view refreshed concurrently (readers
//! are not blocked), as a scheduled batch job does: through the batch role, which owns the
//! refresh function's grant, not the application role.

use std::sync::Arc;

use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::Context;
use crate::failure::Failure;

pub struct AnalyticsRefresh(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "analytics_refresh",
    description: "the product_analytics view refreshed through the batch role",
    p95_ms: 900.0,
    p99_ms: 990.0,
    needs: &[Need::BatchRole],
    build: |ctx| Arc::new(AnalyticsRefresh(ctx)),
};

impl Operation for AnalyticsRefresh {
    fn run<'a>(&'a self, _call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let pool = self
                .0
                .batch
                .as_ref()
                .ok_or(Failure::Unavailable("batch role"))?;
            pool.execute("SELECT shop.refresh_product_analytics()", &[])
                .await?;
            Ok(())
        })
    }
}
