//! Elasticsearch/OpenSearch bulk indexing of the catalog, when `SEARCH_URL` is set. Written
//! against the documented REST API (`PUT /<index>` with schema/search/products.json, then
//! `POST /_bulk` with NDJSON); documents are keyed by product id, so a resumed seed indexes them
//! again without duplicates. Tested against osmem-server (an in-memory OpenSearch-compatible
//! server, tests/search.rs): API compatibility, not performance (docker-compose.yml has
//! OpenSearch for that).

use std::fmt::Write;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::rows::catalog::{product_name, sku};

pub const INDEX: &str = "shopbench-products";
pub const MAPPING: &str = include_str!("../../../schema/search/products.json");

fn err(context: &str, detail: impl ToString) -> Error {
    Error::Http {
        service: "search",
        context: context.to_string(),
        detail: platform::secret::scrub(&detail.to_string()),
    }
}

/// NDJSON bulk body for products `range`.
pub fn bulk_body(m: &Model, range: std::ops::Range<u64>) -> String {
    let mut body = String::new();
    let mut name = String::new();
    let mut sku_buf = String::new();
    for p in range {
        let t = m.tenant_of_product(p);
        product_name(m, t, p, &mut name);
        sku(p - t.product_start, &mut sku_buf);
        let id = m.product_id(p);
        let doc = serde_json::json!({
            "tenant_id": t.id.to_string(),
            "product_id": id.to_string(),
            "sku": sku_buf,
            "name": name,
            "brand": name.split(' ').next().unwrap_or(""),
            "description": name,
            "category_id": m.category_id(t, m.product_category(t, p)).to_string(),
            "price": m.variant_price(t, p, 0) as f64 / 10_000.0,
            "is_active": true,
            "created_at": m.product_created_us(t, p) / 1000,
        });
        let _ = writeln!(body, r#"{{"index":{{"_index":"{INDEX}","_id":"{id}"}}}}"#);
        let _ = writeln!(body, "{doc}");
    }
    body
}

pub async fn index_catalog(url: &platform::SecretUrl, m: &Model, chunk: u64) -> Result<u64> {
    let http = super::http_client(Duration::from_secs(120))
        .map_err(|e| err("starting the HTTP client", e))?;
    let base = url.expose().as_str().trim_end_matches('/').to_string();
    let created = http
        .put(format!("{base}/{INDEX}"))
        .header("content-type", "application/json")
        .body(MAPPING)
        .send()
        .await
        .map_err(|e| err(&format!("creating index {INDEX} at {url}"), e))?;
    // 400 resource_already_exists_exception: the index is there from an earlier seed.
    if !created.status().is_success() && created.status().as_u16() != 400 {
        return Err(err(
            &format!("creating index {INDEX} at {url}"),
            created.status(),
        ));
    }
    let total = m.profile().products;
    let mut start = 0;
    while start < total {
        let end = (start + chunk).min(total);
        let response = http
            .post(format!("{base}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body(bulk_body(m, start..end))
            .send()
            .await
            .map_err(|e| err(&format!("bulk indexing at {url}"), e.without_url()))?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| err(&format!("bulk indexing at {url}"), e))?;
        if !status.is_success() || body["errors"].as_bool().unwrap_or(true) {
            return Err(err(
                &format!("bulk indexing at {url}"),
                format!(
                    "{status}: {}",
                    body.to_string().chars().take(300).collect::<String>()
                ),
            ));
        }
        start = end;
    }
    // Searchable now, not after the server's next refresh.
    http.post(format!("{base}/{INDEX}/_refresh"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| err(&format!("refreshing {INDEX} at {url}"), e.without_url()))?;
    Ok(total)
}

/// The documents in the product index.
pub async fn count(url: &platform::SecretUrl) -> Result<u64> {
    let http = super::http_client(Duration::from_secs(30))
        .map_err(|e| err("starting the HTTP client", e))?;
    let base = url.expose().as_str().trim_end_matches('/');
    let context = format!("counting the documents of {INDEX} at {url}");
    let body: serde_json::Value = http
        .get(format!("{base}/{INDEX}/_count"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| err(&context, e.without_url()))?
        .json()
        .await
        .map_err(|e| err(&context, e.without_url()))?;
    body["count"]
        .as_u64()
        .ok_or_else(|| err(&context, format!("no count in {body}")))
}
