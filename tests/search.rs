//! The Elasticsearch/OpenSearch backend (`SEARCH_URL`) against a real server: osmem-server, an
//! in-memory OpenSearch-compatible server (API compatibility, not performance). `seed` creates
//! the index and bulk-indexes every product, `verify` counts them, the `search` operation's
//! query finds a tenant's products by common and rare words and never another tenant's,
//! `catalog_update`'s partial update is visible to the next search, the report names the
//! backend, and an unreachable `SEARCH_URL` is exit 3 in one line.

use std::collections::BTreeMap;

use generator::load::postgres as pgload;
use generator::Model;
use scenarios::operation::search::{elastic_query, Query};
use uuid::Uuid;

use crate::common::search::SearchServer;
use crate::common::seeder::Seeder;
use crate::common::text;

async fn seeded(search: &SearchServer) -> Seeder {
    let s = Seeder::new().await;
    let out = s.run(&[
        "--search-url",
        &search.url,
        "seed",
        "--scale",
        "tiny",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    s
}

/// The seeded model, rebuilt from the seed's record.
async fn model(s: &Seeder) -> Model {
    let pool = pgload::connect(&s.db.target.loader, 1).await.unwrap();
    let run = pgload::existing_run(&pool).await.unwrap().unwrap();
    tokio::task::spawn_blocking(move || Model::new(run.config))
        .await
        .unwrap()
}

/// Hits of `body` on the product index: (tenant, product) of each.
async fn search(server: &SearchServer, body: &serde_json::Value) -> Vec<(String, String)> {
    let answer: serde_json::Value =
        platform::objects::http_client(std::time::Duration::from_secs(30))
            .unwrap()
            .post(format!(
                "{}/{}/_search",
                server.url,
                generator::load::search::INDEX
            ))
            .json(body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
    answer["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["_source"]["tenant_id"].as_str().unwrap().to_string(),
                h["_source"]["product_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
}

/// Word → the products (index) whose names hold it, for tenant `t` of `m`.
fn vocabulary(m: &Model, t: &generator::model::Tenant) -> BTreeMap<String, Vec<u64>> {
    let mut by_word: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut name = String::new();
    for p in t.product_start..t.product_start + t.products {
        generator::rows::catalog::product_name(m, t, p, &mut name);
        for w in words(&name) {
            let ps = by_word.entry(w).or_default();
            if ps.last() != Some(&p) {
                ps.push(p);
            }
        }
    }
    by_word
}

fn query(text: &str) -> Query {
    Query {
        text: text.to_string(),
        category: None,
        price: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_indexes_every_product_and_searches_stay_within_their_tenant() {
    let Some(server) = SearchServer::start() else {
        return;
    };
    let s = seeded(&server).await;
    let m = model(&s).await;
    let url = platform::SecretUrl::new(server.url.parse().unwrap());
    assert_eq!(
        generator::load::search::count(&url).await.unwrap(),
        m.profile().products,
        "every product indexed"
    );
    let verified = s.run(&["--search-url", &server.url, "verify"]);
    let out = text(&verified);
    assert!(verified.status.success(), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok") && l.contains("search index")),
        "{out}"
    );

    let (a, b) = (&m.tenants[0], &m.tenants[1]);
    let (words_a, words_b) = (vocabulary(&m, a), vocabulary(&m, b));
    // A common word of tenant A's names finds A's products, and only A's.
    let (common, holders) = words_a
        .iter()
        .max_by_key(|(_, ps)| ps.len())
        .expect("tenant A has products");
    assert!(holders.len() > 1);
    let hits = search(&server, &elastic_query(a.id, &query(common))).await;
    assert!(!hits.is_empty(), "'{common}' found nothing");
    assert!(hits.iter().all(|(t, _)| *t == a.id.to_string()), "{hits:?}");
    // A rare word (one product of A) finds that product.
    let (rare, only) = words_a
        .iter()
        .find(|(_, ps)| ps.len() == 1)
        .expect("a word only one of A's products has");
    let hits = search(&server, &elastic_query(a.id, &query(rare))).await;
    assert!(
        hits.iter()
            .any(|(_, p)| *p == m.product_id(only[0]).to_string()),
        "'{rare}': {hits:?}"
    );
    // A word only tenant B's names hold: B finds it, A finds nothing.
    let (foreign, _) = words_b
        .iter()
        .find(|(w, _)| !words_a.contains_key(*w))
        .expect("a word of B's that A's names lack");
    assert!(!search(&server, &elastic_query(b.id, &query(foreign)))
        .await
        .is_empty());
    let leaked = search(&server, &elastic_query(a.id, &query(foreign))).await;
    assert!(leaked.is_empty(), "tenant A saw {leaked:?}");
    // Not even a tenant id that is no tenant's sees anything.
    assert!(search(&server, &elastic_query(Uuid::nil(), &query(common)))
        .await
        .is_empty());

    // Another database seeding into the same index is refused before it writes anything.
    let other = Seeder::new().await;
    let out = other.run(&[
        "--search-url",
        &server.url,
        "seed",
        "--scale",
        "tiny",
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        err.contains("search index") && err.contains("the seed of"),
        "{err}"
    );
    assert_eq!(
        generator::load::search::count(&url).await.unwrap(),
        m.profile().products
    );
    other.finish().await;
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn searches_run_on_the_index_and_catalog_updates_show_in_the_next_search() {
    let Some(server) = SearchServer::start() else {
        return;
    };
    let s = seeded(&server).await;
    let dir = std::env::temp_dir().join(format!("{}-search", s.db.name));
    let mix = std::env::temp_dir().join(format!("{}-mix.toml", s.db.name));
    std::fs::write(
        &mix,
        "description = \"searches and merchant edits\"\n\n[operations.search]\nweight = 3\n\n[operations.catalog_update]\nweight = 1\n",
    )
    .unwrap();
    let out = s.run(&[
        "--search-url",
        &server.url,
        "run",
        "--mix",
        mix.to_str().unwrap(),
        "--rate",
        "30",
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let r = crate::common::results::checked(&dir);
    assert_eq!(r.config.search_backend, "elasticsearch");
    assert!(
        r.environment.servers["search"].starts_with("OpenSearch "),
        "{:?}",
        r.environment.servers
    );
    for name in ["search", "catalog_update"] {
        let op = r.operation(name).unwrap();
        assert!(op.succeeded > 0, "{name}: {op:?}");
        assert!(op.failed.is_empty(), "{name}: {:?}", op.failed);
    }
    // Every edited product's new description is in the index: found by a search for it, within
    // its own tenant.
    let edited = search(
        &server,
        &serde_json::json!({
            "size": 100,
            "query": {"multi_match": {"query": "merchant", "fields": ["description"]}},
            "_source": ["tenant_id", "product_id"],
        }),
    )
    .await;
    assert!(!edited.is_empty(), "no edited product is searchable");
    let (tenant, product) = &edited[0];
    let hits = search(
        &server,
        &elastic_query(tenant.parse().unwrap(), &query("merchant")),
    )
    .await;
    assert!(hits.iter().any(|(_, p)| p == product), "{hits:?}");
    let reported = s.run(&["report", dir.to_str().unwrap()]);
    assert!(reported.status.success(), "{}", text(&reported));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Elasticsearch/OpenSearch at SEARCH_URL"));

    // An unreachable search server: exit 3, one line, before anything runs.
    let down = "http://127.0.0.1:9";
    for args in [
        vec![
            "run",
            "--mix",
            mix.to_str().unwrap(),
            "--rate",
            "5",
            "--duration",
            "2s",
            "--out",
            dir.to_str().unwrap(),
        ],
        vec!["verify"],
    ] {
        let out = s.run(&[&["--search-url", down][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("search") && err.contains("127.0.0.1:9"),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&mix);
    s.finish().await;
}
