-- Monitoring views (PostgreSQL 13+ column names; partitions summed into their table), for
-- members of pg_monitor, and the product_analytics materialized view.

CREATE VIEW monitoring.slow_queries WITH (security_invoker = true) AS
SELECT s.queryid,
       d.datname AS database,
       r.rolname AS role,
       s.query,
       s.calls,
       s.total_exec_time,
       s.mean_exec_time,
       s.max_exec_time,
       s.stddev_exec_time,
       s.rows,
       s.shared_blks_hit,
       s.shared_blks_read
  FROM public.pg_stat_statements s
  JOIN pg_catalog.pg_database d ON d.oid = s.dbid
  JOIN pg_catalog.pg_roles r ON r.oid = s.userid
 WHERE s.mean_exec_time > 1000   -- milliseconds: slower than the sub-second target
 ORDER BY s.mean_exec_time DESC;

CREATE VIEW monitoring.table_sizes WITH (security_invoker = true) AS
SELECT n.nspname AS schemaname,
       c.relname AS tablename,
       count(*) FILTER (WHERE leaf.relid <> c.oid) AS partitions,
       sum(pg_catalog.pg_relation_size(leaf.relid)) AS table_bytes,
       sum(pg_catalog.pg_indexes_size(leaf.relid)) AS index_bytes,
       sum(pg_catalog.pg_total_relation_size(leaf.relid)) AS total_bytes,
       pg_catalog.pg_size_pretty(sum(pg_catalog.pg_total_relation_size(leaf.relid))) AS size
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL pg_catalog.pg_partition_tree(c.oid) leaf
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND leaf.isleaf
   AND n.nspname IN ('shop', 'audit', 'archive', 'shopbench_meta')
 GROUP BY n.nspname, c.relname
 ORDER BY total_bytes DESC;

GRANT USAGE ON SCHEMA monitoring TO pg_monitor, shopbench_loader;
GRANT SELECT ON monitoring.slow_queries, monitoring.table_sizes TO pg_monitor, shopbench_loader;

-- Products per (tenant, category): one row per product (variants aggregated first), categories
-- joined within the tenant. No RLS on a materialized view, so it is not granted to the
-- application role. The unique index allows REFRESH ... CONCURRENTLY.
CREATE MATERIALIZED VIEW shop.product_analytics AS
WITH variant_stats AS (
    SELECT pv.tenant_id, pv.product_id,
           count(*) AS variants,
           avg(pv.price) AS avg_price,
           sum(inv.quantity) AS inventory
      FROM shop.product_variants pv
      LEFT JOIN shop.product_inventory inv ON inv.tenant_id = pv.tenant_id AND inv.variant_id = pv.id
     GROUP BY pv.tenant_id, pv.product_id
)
SELECT p.tenant_id,
       p.category_id,
       c.name AS category_name,
       count(*) AS product_count,
       coalesce(sum(vs.variants), 0) AS variant_count,
       round(avg(vs.avg_price), 4) AS avg_price,
       coalesce(sum(vs.inventory), 0) AS total_inventory
  FROM shop.products p
  JOIN shop.categories c ON c.tenant_id = p.tenant_id AND c.id = p.category_id
  LEFT JOIN variant_stats vs ON vs.tenant_id = p.tenant_id AND vs.product_id = p.id
 WHERE p.is_active
 GROUP BY p.tenant_id, p.category_id, c.name;
CREATE UNIQUE INDEX product_analytics_key ON shop.product_analytics (tenant_id, category_id);

CREATE FUNCTION shop.refresh_product_analytics() RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    REFRESH MATERIALIZED VIEW CONCURRENTLY shop.product_analytics;
$$;
REVOKE EXECUTE ON FUNCTION shop.refresh_product_analytics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shop.refresh_product_analytics() TO shopbench_loader;
GRANT SELECT ON shop.product_analytics TO shopbench_loader;
