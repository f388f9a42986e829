//! `product_detail`: product, variants with their stock, images, cache-aside through Redis
//! (5 minutes; `catalog_update` invalidates). Hits and misses are counted.

use std::sync::Arc;

use redis::AsyncCommands;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::shared::missing;
use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::Context;
use crate::db::Params;
use crate::failure::Failure;

pub struct ProductDetail(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "product_detail",
    description: "a product with variants, stock and images, cache-aside through Redis",
    p95_ms: 100.0,
    p99_ms: 300.0,
    needs: &[Need::Redis],
    build: |ctx| Arc::new(ProductDetail(ctx)),
};

pub const CACHE_SECONDS: u64 = 300;

pub fn cache_key(tenant: Uuid, product: Uuid) -> String {
    format!("shopbench:product:{tenant}:{product}")
}

type Product = (Uuid, String, Option<String>, Option<String>, String);
type Variant = (Uuid, String, String, Decimal, Option<i32>);

impl Operation for ProductDetail {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let t = c.tenant_for(call);
            let id = c.model.product_id(c.pick_product(t, &mut call.rng));
            let key = cache_key(t.id, id);
            let mut redis = c.redis()?;
            let cached: Option<String> = redis.get(&key).await?;
            if cached.is_some() {
                call.note("cache_hit");
                return Ok(());
            }
            call.note("cache_miss");
            let mut tx = c.begin(t.id).await?;
            let ids: Params = &[&t.id, &id];
            let Some(p) = tx
                .opt(
                    "SELECT id, name, description, brand, sku FROM shop.products WHERE tenant_id = $1 AND id = $2",
                    ids,
                )
                .await?
            else {
                return Err(missing("product", id));
            };
            let product: Product = (
                p.try_get(0)?,
                p.try_get(1)?,
                p.try_get(2)?,
                p.try_get(3)?,
                p.try_get(4)?,
            );
            let variants = tx
                .query(
                    "SELECT v.id, v.sku, v.name, v.price, i.available_quantity
                       FROM shop.product_variants v
                       LEFT JOIN shop.product_inventory i ON i.tenant_id = v.tenant_id AND i.variant_id = v.id
                      WHERE v.tenant_id = $1 AND v.product_id = $2 AND v.is_active
                      ORDER BY v.sku",
                    ids,
                )
                .await?
                .iter()
                .map(|v| {
                    Ok((
                        v.try_get(0)?,
                        v.try_get(1)?,
                        v.try_get(2)?,
                        v.try_get(3)?,
                        v.try_get(4)?,
                    ))
                })
                .collect::<Result<Vec<Variant>, crate::pq::Error>>()?;
            let images = tx
                .query(
                    "SELECT url, alt_text FROM shop.product_images WHERE tenant_id = $1 AND product_id = $2 ORDER BY sort_order",
                    ids,
                )
                .await?
                .iter()
                .map(|i| Ok((i.try_get(0)?, i.try_get(1)?)))
                .collect::<Result<Vec<(String, Option<String>)>, crate::pq::Error>>()?;
            tx.commit().await?;
            let page = serde_json::json!({
                "id": product.0, "name": product.1, "description": product.2,
                "brand": product.3, "sku": product.4,
                "variants": variants.iter().map(|v| serde_json::json!({
                    "id": v.0, "sku": v.1, "name": v.2, "price": v.3.to_string(), "available": v.4,
                })).collect::<Vec<_>>(),
                "images": images.iter().map(|i| serde_json::json!({"url": i.0, "alt": i.1})).collect::<Vec<_>>(),
            });
            let _: () = redis
                .set_ex(&key, page.to_string(), CACHE_SECONDS)
                .await
                .map_err(Failure::from)?;
            Ok(())
        })
    }
}
