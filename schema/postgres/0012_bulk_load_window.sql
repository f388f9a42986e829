-- The bulk-load window: how a seed writes the audit trail as data without weakening it.
--
-- A seed writes millions of financial rows. Through the per-row audit triggers each one is turned
-- into JSON inside PostgreSQL (most of a seed's CPU) and every audit row is dated at load time. In
-- a window instead, the loader writes each row's audit entry itself (the content the trigger
-- would have written, dated at the row's own time, tied to the window's run id) in the same
-- transaction as the rows it audits. The window is itself audited: opening it records
-- BULK_LOAD_STARTED (run id, configuration digest, tables) and disables only the INSERT audit
-- triggers of the audited tables and grants the loader INSERT on the log; closing it re-enables
-- them, revokes the grant and records BULK_LOAD_FINISHED with per-table counts and the data's
-- digest. Only the loader may call these functions; the application role never can, and
-- `schema check` reports a window left open, a lingering grant, or a disabled audit trigger.

ALTER TABLE audit.log ADD COLUMN bulk_load uuid;
COMMENT ON COLUMN audit.log.bulk_load IS 'the bulk-load window (run id) that wrote this entry as data; NULL for entries written by the triggers';

DO $$
DECLARE
    c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint
     WHERE conrelid = 'audit.log'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%operation%';
    EXECUTE format('ALTER TABLE audit.log DROP CONSTRAINT %I', c);
END
$$;
ALTER TABLE audit.log ADD CONSTRAINT log_operation_check
    CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'ERASE', 'BULK_LOAD_STARTED', 'BULK_LOAD_FINISHED'));

CREATE TABLE shopbench_meta.bulk_load_windows (
    run_id         uuid PRIMARY KEY,
    opened_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at      timestamptz,
    config_digest  text NOT NULL,
    tables         text[] NOT NULL,
    -- At the close: table -> {"rows": rows in the table, "audited": bulk entries for it}.
    counts         jsonb,
    digest         text
);
-- At most one window open at a time.
CREATE UNIQUE INDEX bulk_load_windows_one_open ON shopbench_meta.bulk_load_windows ((true)) WHERE closed_at IS NULL;
GRANT SELECT ON shopbench_meta.bulk_load_windows TO shopbench_loader;

ALTER TABLE shopbench_meta.seed_runs ADD COLUMN run_id uuid;

-- The audited tables and their partitions that carry the INSERT audit trigger.
CREATE FUNCTION shopbench_meta.audited_relations() RETURNS SETOF regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.relid
      FROM shopbench_meta.partition_policy p, pg_partition_tree(p.parent) t
     WHERE p.audited
       AND EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = t.relid AND g.tgname = 'audit_insert')
$$;

-- Opens the window of seed run `run` (or finds it open: a resumed seed continues inside it).
-- Returns 'opened', 'open' (already, same run) or 'closed' (this run's window is over).
CREATE FUNCTION shopbench_meta.open_bulk_load(run uuid, config_digest text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w shopbench_meta.bulk_load_windows;
    other uuid;
    audited text[];
    rel regclass;
BEGIN
    SELECT * INTO w FROM shopbench_meta.bulk_load_windows WHERE run_id = run;
    IF FOUND THEN
        RETURN CASE WHEN w.closed_at IS NULL THEN 'open' ELSE 'closed' END;
    END IF;
    SELECT run_id INTO other FROM shopbench_meta.bulk_load_windows WHERE closed_at IS NULL;
    IF FOUND THEN
        RAISE EXCEPTION 'bulk-load window % is still open', other
            USING ERRCODE = 'object_in_use', HINT = 'finish that seed with `shopbench seed --resume`';
    END IF;
    SELECT array_agg(p.parent::text ORDER BY p.parent::text) INTO audited
      FROM shopbench_meta.partition_policy p WHERE p.audited;
    INSERT INTO shopbench_meta.bulk_load_windows (run_id, config_digest, tables)
    VALUES (run, config_digest, audited);
    INSERT INTO audit.log (tenant_id, table_name, operation, row_id, new_row, bulk_load)
    VALUES (NULL, 'shopbench_meta.bulk_load_windows', 'BULK_LOAD_STARTED', run,
            jsonb_build_object('run_id', run, 'config_digest', config_digest, 'tables', to_jsonb(audited),
                               'by', session_user),
            run);
    FOR rel IN SELECT shopbench_meta.audited_relations() LOOP
        EXECUTE format('ALTER TABLE %s DISABLE TRIGGER audit_insert', rel);
    END LOOP;
    GRANT INSERT ON audit.log TO shopbench_loader;
    RETURN 'opened';
END
$$;

-- Closes the window of run `run`: the INSERT audit triggers enabled again, the grant revoked,
-- and BULK_LOAD_FINISHED recorded with each audited table's rows and bulk entries, and
-- `data_digest` (the generated data's sample digest).
CREATE FUNCTION shopbench_meta.close_bulk_load(run uuid, data_digest text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w shopbench_meta.bulk_load_windows;
    rel regclass;
    t text;
    n bigint;
    audited jsonb;
    totals jsonb := '{}';
BEGIN
    SELECT * INTO w FROM shopbench_meta.bulk_load_windows WHERE run_id = run FOR UPDATE;
    IF NOT FOUND OR w.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'no open bulk-load window %', run USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    FOR rel IN SELECT shopbench_meta.audited_relations() LOOP
        EXECUTE format('ALTER TABLE %s ENABLE TRIGGER audit_insert', rel);
    END LOOP;
    REVOKE INSERT ON audit.log FROM shopbench_loader;
    SELECT coalesce(jsonb_object_agg(table_name, entries), '{}') INTO audited
      FROM (SELECT l.table_name, count(*) AS entries FROM audit.log l
             WHERE l.bulk_load = run AND l.operation = 'INSERT' GROUP BY l.table_name) per_table;
    FOREACH t IN ARRAY w.tables LOOP
        EXECUTE format('SELECT count(*) FROM %s', t) INTO n;
        totals := totals || jsonb_build_object(t, jsonb_build_object('rows', n, 'audited', coalesce((audited->>t)::bigint, 0)));
    END LOOP;
    UPDATE shopbench_meta.bulk_load_windows
       SET closed_at = clock_timestamp(), counts = totals, digest = data_digest
     WHERE run_id = run;
    INSERT INTO audit.log (tenant_id, table_name, operation, row_id, new_row, bulk_load)
    VALUES (NULL, 'shopbench_meta.bulk_load_windows', 'BULK_LOAD_FINISHED', run,
            jsonb_build_object('run_id', run, 'counts', totals, 'digest', data_digest, 'by', session_user),
            run);
    RETURN totals;
END
$$;

REVOKE EXECUTE ON FUNCTION shopbench_meta.audited_relations(), shopbench_meta.open_bulk_load(uuid, text),
    shopbench_meta.close_bulk_load(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shopbench_meta.open_bulk_load(uuid, text), shopbench_meta.close_bulk_load(uuid, text)
    TO shopbench_loader;
