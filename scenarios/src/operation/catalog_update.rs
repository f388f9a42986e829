//! `catalog_update`: a merchant edits a product: a new image goes to the S3 store first (a
//! presigned PUT), then one transaction updates the description, reprices the variants (within
//! ±5%, keeping compare-at prices above), restocks them (in variant order, the checkout's lock
//! order) and records the image in `product_images`. Then the cached product page is dropped
//! from Redis and the search index kept current: PostgreSQL's `search_vector` is a generated
//! column (current at commit); Elasticsearch gets a partial document update.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use redis::AsyncCommands;
use uuid::Uuid;

use super::product_detail::cache_key;
use super::{Call, Need, OpFuture, Operation, Spec};
use crate::context::{Context, SearchBackend};
use crate::failure::{self, Failure};

pub struct CatalogUpdate(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "catalog_update",
    description: "a merchant edits a product: S3 image, prices, stock, cache and index",
    p95_ms: 500.0,
    p99_ms: 950.0,
    needs: &[Need::Redis, Need::ObjectStore],
    build: |ctx| Arc::new(CatalogUpdate(ctx)),
};

impl Operation for CatalogUpdate {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let t = c.tenant_for(call);
            // Merchants edit any product, not only best sellers.
            let p = t.product_start + call.rng.random_range(0..t.products);
            let product = m.product_id(p);
            let mut variants: Vec<Uuid> =
                (0..m.variants(p)).map(|v| m.variant_id(t, p, v)).collect();
            variants.sort();
            let store = c.store.as_ref().ok_or(Failure::Unavailable("s3"))?;
            let object = format!(
                "products/{}/{}/{}.png",
                t.id,
                product,
                Uuid::from_u128(call.rng.random())
            );
            let body = generator::load::images::png(m.seed(), call.rng.random_range(0..64));
            upload(store, &object, body).await?;
            let url = format!("{}/{}", store.base_url, object);
            let factor = rust_decimal::Decimal::new(call.rng.random_range(9_500..=10_500), 4);
            let mut name = String::new();
            generator::rows::catalog::product_name(m, t, p, &mut name);
            let description = format!(
                "{name}: updated by the merchant, now with {} more colours.",
                call.rng.random_range(1..9)
            );
            crate::retrying!(call, async {
                let mut tx = c.begin(t.id).await?;
                tx.execute(
                    "UPDATE shop.products SET description = $3, short_description = $4 WHERE tenant_id = $1 AND id = $2",
                    &[&t.id, &product, &description, &name],
                )
                .await?;
                tx.execute(
                    "UPDATE shop.product_variants
                        SET price = round(price * $3, 2),
                            compare_price = CASE WHEN compare_price IS NULL THEN NULL
                                                 ELSE greatest(compare_price, round(price * $3, 2)) END
                      WHERE tenant_id = $1 AND product_id = $2",
                    &[&t.id, &product, &factor],
                )
                .await?;
                for v in &variants {
                    tx.execute(
                        "UPDATE shop.product_inventory SET quantity = quantity + 25 WHERE tenant_id = $1 AND variant_id = $2",
                        &[&t.id, v],
                    )
                    .await?;
                }
                tx.execute(
                    "INSERT INTO shop.product_images (tenant_id, product_id, url, alt_text, sort_order)
                     SELECT $1, $2, $3, $4, coalesce(max(sort_order), 0) + 1
                       FROM shop.product_images WHERE tenant_id = $1 AND product_id = $2",
                    &[&t.id, &product, &url, &name],
                )
                .await?;
                tx.commit().await?;
                Ok::<_, Failure>(())
            })?;
            let _: i64 = c.redis()?.del(cache_key(t.id, product)).await?;
            if let SearchBackend::Elastic { url, http } = &c.search {
                let endpoint = format!(
                    "{}/{}/_update/{product}",
                    url.as_str().trim_end_matches('/'),
                    generator::load::search::INDEX
                );
                http.post(endpoint)
                    .json(&serde_json::json!({"doc": {"description": description}}))
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| failure::http("search", e))?;
            }
            Ok(())
        })
    }
}

async fn upload(
    store: &crate::context::ObjectStore,
    object: &str,
    body: Vec<u8>,
) -> Result<(), Failure> {
    use rusty_s3::S3Action;
    let action = store.bucket.put_object(store.credentials.as_ref(), object);
    let url = action.sign(Duration::from_secs(300));
    store
        .http
        .put(url)
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| failure::http("s3", e))?;
    Ok(())
}
