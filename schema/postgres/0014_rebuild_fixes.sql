-- Rebuilding what a seed deferred (0011), fixed and made schedulable.
--
-- 1. An index of a partitioned table is rebuilt on every partition. `pg_get_indexdef` writes such
--    an index as `CREATE INDEX … ON ONLY parent`, which makes the parent's index alone: invalid,
--    never used, and absent from every partition. Until now a seed left the secondary indexes of
--    the partitioned tables in that state; `restore_load_object` now builds them whole, and the
--    ones earlier seeds left behind are rebuilt here.
-- 2. A deferred foreign key records the table it references, so that the loader can schedule
--    rebuilds whose locks do not collide (adding a foreign key takes SHARE ROW EXCLUSIVE on both
--    tables, which conflicts with itself: two foreign keys that reference `orders` never run
--    together) and start a foreign key once the keys it references are back.

ALTER TABLE shopbench_meta.deferred_objects ADD COLUMN references_table text;
COMMENT ON COLUMN shopbench_meta.deferred_objects.references_table IS
    'a foreign key''s referenced table (schema-qualified); NULL for keys and indexes, and for foreign keys deferred before 0014';

-- A deferred index's definition as it must be run: on the whole table, partitions included.
CREATE FUNCTION shopbench_meta.whole_index_definition(definition text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT regexp_replace(definition, '^(CREATE (UNIQUE )?INDEX \S+ ON )ONLY ', '\1')
$$;

CREATE OR REPLACE FUNCTION shopbench_meta.defer_load_objects() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj record;
BEGIN
    FOR obj IN
        SELECT * FROM (
            SELECT 1 AS step, format('%I.%I', n.nspname, con.conname) AS name,
                   CASE con.contype WHEN 'f' THEN 'foreign key' ELSE 'key' END AS kind,
                   format('%I.%I', n.nspname, c.relname) AS table_name,
                   format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname, con.conname,
                          pg_get_constraintdef(con.oid)) AS definition,
                   CASE WHEN con.contype = 'f' THEN format('%I.%I', rn.nspname, rc.relname) END AS references_table
              FROM pg_constraint con
              JOIN pg_class c ON c.oid = con.conrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN pg_class rc ON rc.oid = con.confrelid
              LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
             WHERE n.nspname = 'shop' AND con.contype IN ('f', 'p', 'u') AND con.conparentid = 0
               AND NOT c.relispartition
            UNION ALL
            SELECT 2, format('%I.%I', n.nspname, ic.relname), 'index',
                   format('%I.%I', n.nspname, c.relname),
                   shopbench_meta.whole_index_definition(pg_get_indexdef(i.indexrelid)), NULL
              FROM pg_index i
              JOIN pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE (n.nspname = 'shop' OR (n.nspname = 'audit' AND c.relname = 'log'))
               AND NOT c.relispartition AND c.relkind IN ('r', 'p') AND NOT i.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
        ) objects
        -- Foreign keys before the keys they reference.
        ORDER BY step, kind = 'key', name
    LOOP
        INSERT INTO shopbench_meta.deferred_objects (name, kind, table_name, definition, references_table)
        VALUES (obj.name, obj.kind, obj.table_name, obj.definition, obj.references_table);
        IF obj.kind = 'index' THEN
            EXECUTE format('DROP INDEX %s', obj.name);
        ELSE
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', obj.table_name,
                           split_part(obj.name, '.', 2));
        END IF;
    END LOOP;
    RETURN (SELECT count(*) FROM shopbench_meta.deferred_objects);
END
$$;

-- Indexes deferred before this migration still hold `ON ONLY`: built whole all the same.
CREATE OR REPLACE FUNCTION shopbench_meta.restore_load_object(object_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    def text;
    what text;
BEGIN
    DELETE FROM shopbench_meta.deferred_objects WHERE name = object_name RETURNING definition, kind INTO def, what;
    IF def IS NULL THEN
        RETURN false;
    END IF;
    IF what = 'index' THEN
        def := shopbench_meta.whole_index_definition(def);
    END IF;
    EXECUTE def;
    RETURN true;
END
$$;

-- The parent-only indexes earlier seeds left: dropped (with whatever partitions gained them since)
-- and built whole.
DO $$
DECLARE
    idx record;
BEGIN
    FOR idx IN
        SELECT format('%I.%I', n.nspname, ic.relname) AS name, pg_get_indexdef(i.indexrelid) AS def
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = ic.relnamespace
         WHERE NOT i.indisvalid AND t.relkind = 'p' AND NOT t.relispartition
           AND n.nspname IN ('shop', 'audit')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    LOOP
        EXECUTE format('DROP INDEX %s', idx.name);
        EXECUTE shopbench_meta.whole_index_definition(idx.def);
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION shopbench_meta.whole_index_definition(text) FROM PUBLIC;

-- 3. No statistics for the audit log's row images: no query filters or joins on them, and
--    computing them (sorting and comparing ~650-byte jsonb values in every sample) was the most
--    expensive part of the seed's ANALYZE (audit.log at `small`: 10.6 s with them, 6.2 s without).
--    SET STATISTICS recurses to the partitions that exist; `analyze_table` extends a parent's
--    zero targets to partitions created since, before it analyzes.
ALTER TABLE audit.log ALTER COLUMN new_row SET STATISTICS 0, ALTER COLUMN old_row SET STATISTICS 0;

CREATE OR REPLACE FUNCTION shopbench_meta.analyze_table(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
BEGIN
    IF (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target)
       NOT IN ('shop', 'audit') THEN
        RAISE EXCEPTION '% is not a shop or audit table', target USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR col IN
        SELECT a.attname FROM pg_attribute a
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget = 0
           AND EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_attribute p ON p.attrelid = i.inhrelid
                        WHERE i.inhparent = target AND p.attname = a.attname AND p.attstattarget <> 0)
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 0', target, col);
    END LOOP;
    EXECUTE format('ANALYZE %s', target);
END
$$;
