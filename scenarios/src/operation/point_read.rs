//! `point_read`: one product by primary key in a tenant transaction: the engine-overhead
//! reference (the same statements pgbench runs in the overhead benchmark).

use std::sync::Arc;

use super::shared::missing;
use super::{Call, OpFuture, Operation, Spec};
use crate::context::Context;

pub struct PointRead(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "point_read",
    description: "one product by primary key in a tenant transaction (the pgbench reference)",
    p95_ms: 20.0,
    p99_ms: 50.0,
    needs: &[],
    build: |ctx| Arc::new(PointRead(ctx)),
};

pub const SQL: &str = "SELECT id, name, sku FROM shop.products WHERE tenant_id = $1 AND id = $2";

impl Operation for PointRead {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let t = c.tenant_for(call);
            let id = c.model.product_id(c.pick_product(t, &mut call.rng));
            let mut tx = c.begin(t.id).await?;
            let row = tx.opt(SQL, &[&t.id, &id]).await?;
            tx.commit().await?;
            row.map(|_| ()).ok_or_else(|| missing("product", id))
        })
    }
}
