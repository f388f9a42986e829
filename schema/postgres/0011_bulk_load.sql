-- Bulk loading (shopbench seed): exactly-once chunk bookkeeping, and keys, indexes and foreign
-- keys deferred while loading, as pg_restore does: primary keys and unique constraints are added
-- back first (a duplicated row would fail there, loudly), then the other indexes, then the
-- foreign keys, which validate every row. The loader owns no table, so the deferral runs through
-- SECURITY DEFINER functions that do only this.

GRANT USAGE ON SCHEMA shopbench_meta TO shopbench_loader;

-- One seed per database: its configuration and plan (resume reads them back).
CREATE TABLE shopbench_meta.seed_runs (
    id           integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    config       jsonb NOT NULL,
    plan         jsonb NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    summary      jsonb
);

-- A chunk's rows and this record commit in the same transaction (ClickHouse chunks: after the
-- insert; a chunk found started but not done is deleted there before it is loaded again).
CREATE TABLE shopbench_meta.seed_chunks (
    phase    text NOT NULL,
    chunk    bigint NOT NULL,
    rows     bigint NOT NULL CHECK (rows >= 0),
    bytes    bigint NOT NULL CHECK (bytes >= 0),
    done_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (phase, chunk)
);

CREATE TABLE shopbench_meta.seed_chunks_started (
    phase    text NOT NULL,
    chunk    bigint NOT NULL,
    PRIMARY KEY (phase, chunk)
);

-- Definitions of the indexes and foreign keys dropped for the load, until they are rebuilt.
CREATE TABLE shopbench_meta.deferred_objects (
    name        text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('key', 'index', 'foreign key')),
    table_name  text NOT NULL,
    definition  text NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON shopbench_meta.seed_runs TO shopbench_loader;
GRANT SELECT, INSERT ON shopbench_meta.seed_chunks TO shopbench_loader;
GRANT SELECT, INSERT, DELETE ON shopbench_meta.seed_chunks_started TO shopbench_loader;
GRANT SELECT ON shopbench_meta.deferred_objects TO shopbench_loader;

-- Drops the foreign keys, primary keys, unique constraints and other indexes of the shop tables
-- (and the audit log's secondary index), keeping their definitions. Idempotent: what is already
-- deferred stays deferred. Returns how many objects are deferred.
CREATE FUNCTION shopbench_meta.defer_load_objects() RETURNS integer
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
                          pg_get_constraintdef(con.oid)) AS definition
              FROM pg_constraint con
              JOIN pg_class c ON c.oid = con.conrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'shop' AND con.contype IN ('f', 'p', 'u') AND con.conparentid = 0
               AND NOT c.relispartition
            UNION ALL
            SELECT 2, format('%I.%I', n.nspname, ic.relname), 'index',
                   format('%I.%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
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
        INSERT INTO shopbench_meta.deferred_objects (name, kind, table_name, definition)
        VALUES (obj.name, obj.kind, obj.table_name, obj.definition);
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

-- Rebuilds one deferred object (keys first, then indexes, then foreign keys, which validate
-- every row);
-- called once per object so that the loader can rebuild several in parallel.
CREATE FUNCTION shopbench_meta.restore_load_object(object_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    def text;
BEGIN
    DELETE FROM shopbench_meta.deferred_objects WHERE name = object_name RETURNING definition INTO def;
    IF def IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE def;
    RETURN true;
END
$$;

-- ANALYZE of one shop or audit table, for the loader at the end of a seed.
CREATE FUNCTION shopbench_meta.analyze_table(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target)
       NOT IN ('shop', 'audit') THEN
        RAISE EXCEPTION '% is not a shop or audit table', target USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('ANALYZE %s', target);
END
$$;

REVOKE EXECUTE ON FUNCTION shopbench_meta.defer_load_objects(), shopbench_meta.restore_load_object(text),
    shopbench_meta.analyze_table(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shopbench_meta.defer_load_objects(), shopbench_meta.restore_load_object(text),
    shopbench_meta.analyze_table(regclass) TO shopbench_loader;
