//! `point_read`: one product by primary key in a tenant transaction: the engine-overhead
//! reference (the same statements pgbench runs in the overhead benchmark).

use std::sync::Arc;

use uuid::Uuid;

use super::{Call, OpFuture, Operation};
use crate::context::Context;
use crate::failure::Failure;

pub struct PointRead(pub Arc<Context>);

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

/// A row the model says exists was not found: the data and the model disagree.
pub fn missing(what: &str, id: Uuid) -> Failure {
    Failure::service(
        "data",
        "missing_row",
        format!("{what} {id} is not in the database"),
    )
}
