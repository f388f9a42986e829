//! `search`: a shopper's query (words of a product name the tenant sells, picked by popularity)
//! with optional category and price filters; PostgreSQL full-text search (`shop.search_products`,
//! trigram fallback) by default, the Elasticsearch/OpenSearch index when `SEARCH_URL` is set.
//! Empty result pages are counted.

use std::sync::Arc;

use rand::Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Call, OpFuture, Operation, Spec};
use crate::context::{money, Context, SearchBackend};
use crate::failure::{self, Failure};

pub struct Search(pub Arc<Context>);

pub const SPEC: Spec = Spec {
    name: "search",
    description: "a shopper's query with filters (PostgreSQL full-text, or SEARCH_URL's index)",
    p95_ms: 300.0,
    p99_ms: 800.0,
    needs: &[],
    build: |ctx| Arc::new(Search(ctx)),
};

/// A shopper's query: words, and optionally a category and a price range.
pub struct Query {
    pub text: String,
    pub category: Option<Uuid>,
    pub price: Option<(Decimal, Decimal)>,
}

impl Operation for Search {
    fn run<'a>(&'a self, call: &'a mut Call) -> OpFuture<'a> {
        Box::pin(async move {
            let c = &self.0;
            let m = &c.model;
            let t = c.tenant_for(call);
            let p = c.pick_product(t, &mut call.rng);
            let mut name = String::new();
            generator::rows::catalog::product_name(m, t, p, &mut name);
            let words: Vec<&str> = name.split_whitespace().filter(|w| w.len() > 2).collect();
            let text = match words.len() {
                0 => name.clone(),
                1 => words[0].to_string(),
                n => {
                    let i = call.rng.random_range(0..n - 1);
                    if call.rng.random_bool(0.5) {
                        format!("{} {}", words[i], words[i + 1])
                    } else {
                        words[i].to_string()
                    }
                }
            };
            let category = call
                .rng
                .random_bool(0.3)
                .then(|| m.category_id(t, m.product_category(t, p)));
            let price = call.rng.random_bool(0.3).then(|| {
                let v = m.variant_price(t, p, 0);
                (money(v / 2), money(v * 2))
            });
            let q = Query {
                text,
                category,
                price,
            };
            let hits = match &c.search {
                SearchBackend::Postgres => postgres(c, t.id, &q).await?,
                SearchBackend::Elastic { url, http } => elastic(url, http, t.id, &q).await?,
            };
            if hits == 0 {
                call.note("no_results");
            }
            Ok(())
        })
    }
}

async fn postgres(c: &Context, tenant: Uuid, q: &Query) -> Result<usize, Failure> {
    let mut tx = c.begin(tenant).await?;
    let rows = tx
        .query(
            "SELECT product_id, name, price FROM shop.search_products($1, 20, $2, $3, $4)",
            &[
                &q.text,
                &q.category,
                &q.price.map(|p| p.0),
                &q.price.map(|p| p.1),
            ],
        )
        .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// The `_search` body of `q` for `tenant`: a `multi_match` on name, brand and description,
/// filtered by tenant (and category, price) in filter context, 20 hits.
pub fn elastic_query(tenant: Uuid, q: &Query) -> serde_json::Value {
    let mut filter = vec![
        serde_json::json!({"term": {"tenant_id": tenant.to_string()}}),
        serde_json::json!({"term": {"is_active": true}}),
    ];
    if let Some(cat) = q.category {
        filter.push(serde_json::json!({"term": {"category_id": cat.to_string()}}));
    }
    if let Some((lo, hi)) = q.price {
        filter.push(
            serde_json::json!({"range": {"price": {"gte": lo.to_string(), "lte": hi.to_string()}}}),
        );
    }
    serde_json::json!({
        "size": 20,
        "query": {"bool": {
            "must": [{"multi_match": {"query": q.text, "fields": ["name^3", "brand^2", "description"]}}],
            "filter": filter,
        }},
        "_source": ["tenant_id", "product_id", "name", "price"],
    })
}

/// The documented `_search` API with [`elastic_query`]'s body.
async fn elastic(
    url: &url::Url,
    http: &reqwest::Client,
    tenant: Uuid,
    q: &Query,
) -> Result<usize, Failure> {
    let body = elastic_query(tenant, q);
    let endpoint = format!(
        "{}/{}/_search",
        url.as_str().trim_end_matches('/'),
        generator::load::search::INDEX
    );
    let answer: serde_json::Value = http
        .post(endpoint)
        .json(&body)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| failure::http("search", e))?
        .json()
        .await
        .map_err(|e| failure::http("search", e))?;
    Ok(answer["hits"]["hits"]
        .as_array()
        .map(|h| h.len())
        .unwrap_or(0))
}
