//! `schema apply` is idempotent and `schema check` is clean after it; planted defects are found.

use platform::schema::{self, Severity};

use crate::common::TestDb;

#[tokio::test]
async fn apply_twice_is_a_no_op_and_check_is_clean() {
    let db = TestDb::empty().await;
    let first = schema::apply(&db.target, None, None).await.unwrap();
    assert_eq!(first.applied.len(), schema::MIGRATIONS.len());
    let second = schema::apply(&db.target, None, None).await.unwrap();
    assert!(second.applied.is_empty());
    assert_eq!(second.already_applied, schema::MIGRATIONS.len());
    let problems: Vec<_> = schema::check(&db.target)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.severity == Severity::Problem)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    db.finish().await;
}

#[tokio::test]
async fn check_finds_planted_defects() {
    let db = TestDb::new().await;
    let mut conn = db.admin().await;
    sqlx::raw_sql(
        "CREATE TABLE shop.planted (tenant_id uuid NOT NULL, id uuid NOT NULL, product_id uuid,
                                     PRIMARY KEY (tenant_id, id),
                                     FOREIGN KEY (tenant_id, product_id) REFERENCES shop.products (tenant_id, id));
         ALTER TABLE shop.planted OWNER TO shopbench_owner;
         CREATE INDEX planted_twin ON shop.orders (tenant_id, user_id, created_at DESC);
         CREATE INDEX planted_prefix ON shop.categories (tenant_id);
         CREATE INDEX planted_parent_only ON ONLY shop.orders (tenant_id, currency);
         GRANT SELECT ON shop.orders_default TO shopbench_app;
         ALTER TABLE shop.products NO FORCE ROW LEVEL SECURITY;
         DROP POLICY tenant_isolation ON shop.user_sessions;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let findings = schema::check(&db.target).await.unwrap();
    let has = |category: &str, needle: &str| {
        findings
            .iter()
            .any(|f| f.category == category && f.detail.contains(needle))
    };
    assert!(has("unindexed-fk", "shop.planted"), "{findings:#?}");
    assert!(has("duplicate-index", "planted_twin"), "{findings:#?}");
    assert!(has("redundant-index", "planted_prefix"), "{findings:#?}");
    assert!(
        has("invalid-index", "shop.planted_parent_only is invalid"),
        "{findings:#?}"
    );
    assert!(
        has("partition-grant", "shop.orders_default"),
        "{findings:#?}"
    );
    assert!(
        has("rls", "shop.products: row-level security is not forced"),
        "{findings:#?}"
    );
    assert!(has("rls", "shop.user_sessions: no policy"), "{findings:#?}");
    assert!(
        has("rls", "shop.planted: row-level security is not enabled"),
        "{findings:#?}"
    );
    assert!(has("drift", "shop.planted"), "{findings:#?}");
    assert!(has("drift", "tenant_isolation"), "{findings:#?}");

    // an edited migration is drift, and apply refuses to continue on it
    sqlx::query(
        "UPDATE shopbench_meta.schema_migrations SET checksum = 'edited' WHERE version = 3",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let findings = schema::check(&db.target).await.unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.category == "migrations" && f.detail.contains("0003_catalog.sql")),
        "{findings:#?}"
    );
    let err = schema::apply(&db.target, None, None).await.unwrap_err();
    assert!(err.to_string().contains("0003_catalog.sql"), "{err}");
    db.finish().await;
}
