-- Product search on PostgreSQL (the default search backend; Elasticsearch/OpenSearch when
-- SEARCH_URL is set).
--
-- Indexes: the weighted tsvector (name A, brand/sku B, description C) and the product name's
-- trigrams (typos), each together with tenant_id through btree_gin so one index scan serves one
-- tenant.
--
-- Under RLS the planner will not use these indexes for @@ or % (they are not leakproof, so they
-- may not run before the policy's qual): 70-110 ms per query at 25k products per tenant, growing
-- with the table. shop.search_products is SECURITY DEFINER and applies the tenant filter itself,
-- from the same fail-closed shop.current_tenant(), so the index serves both conditions.

CREATE INDEX products_search_idx ON shop.products USING gin (tenant_id, search_vector);
CREATE INDEX products_name_trgm_idx ON shop.products USING gin (tenant_id, name public.gin_trgm_ops);

-- Ranked full-text search within the current tenant, with optional category and price filters
-- (on the lowest active variant price). Falls back to trigram similarity on the name when the
-- words match nothing (typos). No tenant set: no rows.
CREATE FUNCTION shop.search_products(
    query text,
    max_results integer DEFAULT 20,
    category uuid DEFAULT NULL,
    min_price numeric DEFAULT NULL,
    max_price numeric DEFAULT NULL
) RETURNS TABLE (product_id uuid, name varchar, brand varchar, price numeric, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    tenant uuid := shop.current_tenant();
    tsq tsquery := websearch_to_tsquery('english', query);
BEGIN
    IF tenant IS NULL OR coalesce(btrim(query), '') = '' THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT p.id, p.name, p.brand, v.price, ts_rank_cd(p.search_vector, tsq) AS rank
          FROM shop.products p
          CROSS JOIN LATERAL (SELECT min(pv.price) AS price FROM shop.product_variants pv
                               WHERE pv.tenant_id = p.tenant_id AND pv.product_id = p.id AND pv.is_active) v
         WHERE p.tenant_id = tenant AND p.search_vector @@ tsq AND p.is_active
           AND (category IS NULL OR p.category_id = category)
           AND (min_price IS NULL OR v.price >= min_price)
           AND (max_price IS NULL OR v.price <= max_price)
         ORDER BY rank DESC, p.id
         LIMIT max_results;
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT p.id, p.name, p.brand, v.price, similarity(p.name, query) AS rank
          FROM shop.products p
          CROSS JOIN LATERAL (SELECT min(pv.price) AS price FROM shop.product_variants pv
                               WHERE pv.tenant_id = p.tenant_id AND pv.product_id = p.id AND pv.is_active) v
         WHERE p.tenant_id = tenant AND p.name % query AND p.is_active
           AND (category IS NULL OR p.category_id = category)
           AND (min_price IS NULL OR v.price >= min_price)
           AND (max_price IS NULL OR v.price <= max_price)
         ORDER BY rank DESC, p.id
         LIMIT max_results;
END
$$;
REVOKE EXECUTE ON FUNCTION shop.search_products(text, integer, uuid, numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shop.search_products(text, integer, uuid, numeric, numeric) TO shopbench_app, shopbench_loader;
