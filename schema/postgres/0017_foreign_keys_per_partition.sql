-- A deferred foreign key of a partitioned table validated one partition at a time, so that the
-- foreign keys that reference one table no longer wait for each other.
--
-- `ALTER TABLE parent ADD FOREIGN KEY` holds SHARE ROW EXCLUSIVE on the referenced table while it
-- validates every partition, and that lock conflicts with itself: the three foreign keys into
-- `orders` and the one into `payments` ran one after another, 110 s of a `medium` seed's 191 s
-- rebuild, with a core idle for the last 45 s. `VALIDATE CONSTRAINT` takes only SHARE UPDATE
-- EXCLUSIVE on the partition and ROW SHARE on the referenced table, which do not conflict across
-- foreign keys: measured on the seeded `medium` database, `order_items → orders` and
-- `order_status_history → orders` took 24.4 s and 27.9 s one after the other, and 27.5 s together
-- one partition at a time. PostgreSQL 15 refuses NOT VALID on a partitioned table, so each
-- partition gets its own constraint, under the parent's name; the parent's `ADD FOREIGN KEY`
-- (`restore_load_object`, unchanged) then attaches each validated one without validating it again
-- (0.4 s), and the catalog is the same as a direct `ADD` makes (the same constraints on both sides,
-- names, parents and triggers, compared). A partition without a validated constraint is validated
-- by the parent's `ADD` as before: this only moves work earlier.
--
-- One call per transaction, as the loader calls it: adding a NOT VALID constraint takes SHARE ROW
-- EXCLUSIVE on the referenced table only for that short transaction; a VALIDATE in the same
-- transaction would keep it. Returns what it did: 'added' (call again to validate), 'validated', or
-- 'valid' (nothing left to do, e.g. for a resumed seed).
CREATE FUNCTION shopbench_meta.validate_foreign_key_on(object_name text, part regclass) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj record;
    fk_name text;
    prefix text;
    valid boolean;
BEGIN
    SELECT * INTO obj FROM shopbench_meta.deferred_objects WHERE name = object_name AND kind = 'foreign key';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no deferred foreign key %', object_name USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = part AND inhparent = obj.table_name::regclass) THEN
        RAISE EXCEPTION '% is not a partition of %', part, obj.table_name USING ERRCODE = 'insufficient_privilege';
    END IF;
    fk_name := split_part(object_name, '.', 2);
    prefix := format('ALTER TABLE %s ADD CONSTRAINT %I ', obj.table_name, fk_name);
    IF NOT starts_with(obj.definition, prefix) THEN
        RAISE EXCEPTION 'unexpected definition of %', object_name;
    END IF;
    SELECT con.convalidated INTO valid FROM pg_constraint con WHERE con.conrelid = part AND con.conname = fk_name;
    IF valid IS NULL THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I ', part, fk_name)
             || substr(obj.definition, length(prefix) + 1) || ' NOT VALID';
        RETURN 'added';
    ELSIF NOT valid THEN
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', part, fk_name);
        RETURN 'validated';
    END IF;
    RETURN 'valid';
END
$$;
REVOKE EXECUTE ON FUNCTION shopbench_meta.validate_foreign_key_on(text, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shopbench_meta.validate_foreign_key_on(text, regclass) TO shopbench_loader;
