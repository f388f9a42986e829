-- The audit log's row images kept as `json` (the text as written) instead of `jsonb`.
--
-- The audit log is the most written table (two of every five rows a seed loads, about half its
-- bytes) and the least read: entries are found by (tenant, table, row) through
-- audit_log_row_idx, and an image is read whole, or one field of it, only when someone
-- investigates. `jsonb` parses every image into its binary form on the way in, which only pays
-- for queries that search inside many images; none does, and no index is on them. `json` only
-- checks that the text is JSON and keeps it as it came: the image is exactly what was written,
-- and `->>`, `->` and `json_each` still read it (`::jsonb` where an equality is wanted).
--
-- Measured on this project's machine (PostgreSQL 15, 2 cores):
-- - COPY of 828k images taken from a seeded audit log (434 MB): jsonb 7.0-7.6 s, json 4.4 s,
--   text 3.2-3.6 s. perf had shown parsing jsonb as 13% of a seed's orders phase.
-- - The INSERT audit trigger below, on 111,562 payment_transactions rows loaded by one COPY:
--   2.7-3.6 s with `to_jsonb` and `->>`, 1.1-1.3 s with `to_json` and the rows' columns. Every
--   audited write of the workload (checkout, payment, refund) pays this.
-- - The images as json take 4% less room (477.8 MB against 497.6 MB).
-- The new images equal the old ones as jsonb (all 111,562 compared).
--
-- On a seeded database this migration rewrites the audit log (ALTER COLUMN TYPE): minutes at
-- `medium`. A seed made after it writes the same text the trigger writes (rows/audit.rs).

ALTER TABLE audit.log ALTER COLUMN old_row TYPE json, ALTER COLUMN new_row TYPE json;
-- As migration 0014 set them: no statistics on the images.
ALTER TABLE audit.log ALTER COLUMN new_row SET STATISTICS 0, ALTER COLUMN old_row SET STATISTICS 0;

-- The same entries as before, from `to_json` of each row (column order, as the row is), with the
-- tenant and row id read from the transition table's columns rather than parsed back out of the
-- image. Every audited table has both (schema-requirements: a composite (tenant_id, id) key).
CREATE OR REPLACE FUNCTION audit.record_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    who uuid := audit.current_app_user();
    tbl text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit.log (tenant_id, table_name, operation, row_id, new_row, app_user)
        SELECT n.tenant_id, tbl, 'INSERT', n.id, to_json(n), who FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit.log (tenant_id, table_name, operation, row_id, old_row, new_row, app_user)
        SELECT n.tenant_id, tbl, 'UPDATE', n.id, to_json(o), to_json(n), who
          FROM old_rows o JOIN new_rows n ON (o.tenant_id, o.id) = (n.tenant_id, n.id);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit.log (tenant_id, table_name, operation, row_id, old_row, app_user)
        SELECT o.tenant_id, tbl, 'DELETE', o.id, to_json(o), who FROM old_rows o;
    END IF;
    RETURN NULL;
END
$$;
