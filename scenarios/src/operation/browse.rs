//! `browse`: a category page, 24 products with their lowest price and first image, by keyset
//! pagination on (tenant, category, id); two shoppers in five go on to the next page.

use std::sync::Arc;

use rand::Rng;
use uuid::Uuid;

use super::{Call, OpFuture, Operation, Spec};
use crate::context::Context;

pub struct Browse(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "browse",
    description: "a category page of 24 products, keyset pagination",
    p95_ms: 150.0,
    p99_ms: 400.0,
    needs: &[],
    build: |ctx| Arc::new(Browse(ctx)),
};

const PAGE: &str = "\
SELECT p.id, p.name, p.slug, pr.price, img.url
  FROM shop.products p
 CROSS JOIN LATERAL (SELECT min(v.price) AS price FROM shop.product_variants v
                      WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id AND v.is_active) pr
  LEFT JOIN LATERAL (SELECT i.url FROM shop.product_images i
                      WHERE i.tenant_id = p.tenant_id AND i.product_id = p.id
                      ORDER BY i.sort_order LIMIT 1) img ON true
 WHERE p.tenant_id = $1 AND p.category_id = $2 AND p.is_active AND p.id > $3
 ORDER BY p.id
 LIMIT 24";

impl Operation for Browse {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let t = c.tenant_for(call);
            // Popular products sit in popular categories.
            let p = c.pick_product(t, &mut call.rng);
            let category = c.model.category_id(t, c.model.product_category(t, p));
            let pages = if call.rng.random_bool(0.4) { 2 } else { 1 };
            let mut tx = c.begin(t.id).await?;
            let mut after = Uuid::nil();
            for _ in 0..pages {
                let rows = tx.query(PAGE, &[&t.id, &category, &after]).await?;
                match rows.last() {
                    Some(last) if rows.len() == 24 => after = last.try_get(0)?,
                    _ => break,
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
