-- Monthly partitions: made ahead, a default partition for anything outside them, archiving by
-- detaching whole months, and retention by dropping expired months.
--
-- Partition names are <table>_pYYYY_MM (UTC months) and <table>_default. Our own functions rather
-- than pg_partman: they also attach the audit and append-only triggers to every partition, and
-- they run wherever PostgreSQL does (pg_partman is not in every managed service or image).

CREATE TABLE shopbench_meta.partition_policy (
    parent        regclass PRIMARY KEY,
    archive_rank  integer UNIQUE,     -- order of detaching when a month is archived (children first); NULL: never archived
    retention     interval,           -- drop months that ended longer ago than this (archived months for archived tables)
    audited       boolean NOT NULL DEFAULT false,
    append_only   boolean NOT NULL DEFAULT false
);

INSERT INTO shopbench_meta.partition_policy (parent, archive_rank, retention, audited, append_only) VALUES
    ('shop.payment_transactions', 1, interval '7 years', true,  true),   -- SOX: 7 years
    ('shop.payments',             2, interval '7 years', true,  false),
    ('shop.order_status_history', 3, interval '7 years', false, false),
    ('shop.order_items',          4, interval '7 years', true,  false),
    ('shop.orders',               5, interval '7 years', true,  false),
    ('shop.events',               NULL, interval '90 days', false, false),
    ('shop.page_views',           NULL, interval '90 days', false, false),
    ('audit.log',                 NULL, interval '7 years', false, true);

-- Statement-level triggers are not inherited by partitions: add ours to each partition.
CREATE FUNCTION shop.guard_partition(parent regclass, part regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    policy shopbench_meta.partition_policy;
BEGIN
    SELECT * INTO policy FROM shopbench_meta.partition_policy p WHERE p.parent = guard_partition.parent;
    IF policy.audited THEN
        PERFORM audit.attach(part);
    END IF;
    IF policy.append_only THEN
        EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION shop.refuse_change()', part);
    END IF;
END
$$;

CREATE FUNCTION shop.create_default_partition(parent regclass) RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nsp text;
    rel text;
    part regclass;
BEGIN
    SELECT n.nspname, c.relname INTO nsp, rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', nsp, rel || '_default', parent);
    part := format('%I.%I', nsp, rel || '_default')::regclass;
    PERFORM shop.guard_partition(parent, part);
    RETURN part;
END
$$;

-- Creates the partition of `parent` for the UTC month containing `month`, unless it exists.
CREATE FUNCTION shop.create_month_partition(parent regclass, month date) RETURNS regclass
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    nsp text;
    rel text;
    part_name text;
    part regclass;
BEGIN
    SELECT n.nspname, c.relname INTO nsp, rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    part_name := rel || '_p' || to_char(first_day, 'YYYY_MM');
    part := to_regclass(format('%I.%I', nsp, part_name));
    IF part IS NOT NULL THEN
        RETURN part;
    END IF;
    BEGIN
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                       nsp, part_name, parent,
                       first_day::timestamp AT TIME ZONE 'UTC',
                       (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    EXCEPTION WHEN check_violation THEN
        RAISE EXCEPTION 'cannot create %.%: rows for % are in the default partition of %', nsp, part_name, to_char(first_day, 'YYYY-MM'), parent
            USING HINT = 'Move those rows out of the default partition first, then create the month.';
    END;
    part := format('%I.%I', nsp, part_name)::regclass;
    PERFORM shop.guard_partition(parent, part);
    RETURN part;
END
$$;

-- Makes every month in [from_month, to_month] exist for every time-partitioned table.
-- Returns how many partitions exist in that range afterwards.
CREATE FUNCTION shop.ensure_partitions(from_month date, to_month date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    policy record;
    m date;
    made integer := 0;
BEGIN
    FOR policy IN SELECT parent FROM shopbench_meta.partition_policy ORDER BY archive_rank DESC NULLS LAST, parent::text LOOP
        m := date_trunc('month', from_month)::date;
        WHILE m <= to_month LOOP
            PERFORM shop.create_month_partition(policy.parent, m);
            made := made + 1;
            m := (m + interval '1 month')::date;
        END LOOP;
    END LOOP;
    RETURN made;
END
$$;

-- Archives one month: detaches that month's partition of every archived table, children first,
-- moves them to the `archive` schema, and re-creates the foreign keys between the archived
-- tables (orders_pYYYY_MM <- order_items_pYYYY_MM ...). Nothing is copied; the rows stay where
-- they are. Returns the archived tables.
CREATE FUNCTION shop.archive_month(month date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    suffix text := '_p' || to_char(date_trunc('month', month), 'YYYY_MM');
    policy record;
    fk record;
    nsp text;
    rel text;
    pending_fks text[] := '{}';
    stmt text;
BEGIN
    FOR policy IN SELECT p.* FROM shopbench_meta.partition_policy p WHERE p.archive_rank IS NOT NULL ORDER BY p.archive_rank LOOP
        SELECT n.nspname, c.relname INTO nsp, rel
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = policy.parent;
        IF NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = policy.parent AND c.relname = rel || suffix) THEN
            CONTINUE;
        END IF;
        IF policy.parent = 'shop.payments'::regclass THEN
            -- idempotency keys outlive their retry window by far; they would block the detach
            DELETE FROM shop.payment_idempotency_keys
             WHERE order_created_at >= first_day::timestamp AT TIME ZONE 'UTC'
               AND order_created_at < (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        END IF;
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %I.%I', policy.parent, nsp, rel || suffix);
        FOR fk IN
            SELECT con.conname, pg_get_constraintdef(con.oid) AS def, rc.relname AS ref_rel
              FROM pg_constraint con JOIN pg_class rc ON rc.oid = con.confrelid
             WHERE con.conrelid = format('%I.%I', nsp, rel || suffix)::regclass AND con.contype = 'f'
               AND con.confrelid IN (SELECT parent FROM shopbench_meta.partition_policy WHERE archive_rank IS NOT NULL)
        LOOP
            EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', nsp, rel || suffix, fk.conname);
            pending_fks := pending_fks || format('ALTER TABLE archive.%I ADD CONSTRAINT %I %s',
                rel || suffix, fk.conname,
                regexp_replace(fk.def, 'REFERENCES \S+\(', format('REFERENCES archive.%I(', fk.ref_rel || suffix)));
        END LOOP;
        EXECUTE format('ALTER TABLE %I.%I SET SCHEMA archive', nsp, rel || suffix);
        IF policy.append_only THEN
            -- the row-level trigger was a clone of the parent's and went with the detach
            EXECUTE format('CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON archive.%I '
                           'FOR EACH ROW EXECUTE FUNCTION shop.refuse_change()', rel || suffix);
        END IF;
        RETURN NEXT 'archive.' || rel || suffix;
    END LOOP;
    FOREACH stmt IN ARRAY pending_fks LOOP
        EXECUTE stmt;
    END LOOP;
END
$$;

-- Drops months past their retention: live partitions of unarchived tables (events, page views,
-- the audit log) and archived months of the order tables (children first). Returns what it dropped.
CREATE FUNCTION shop.drop_expired_partitions(as_of timestamptz DEFAULT now()) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    policy record;
    part record;
BEGIN
    FOR policy IN SELECT p.*, c.relname AS rel, n.nspname AS nsp
                    FROM shopbench_meta.partition_policy p
                    JOIN pg_class c ON c.oid = p.parent JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE p.retention IS NOT NULL
                   ORDER BY p.archive_rank NULLS LAST LOOP
        FOR part IN
            SELECT pn.nspname AS nsp, pc.relname AS rel
              FROM pg_class pc JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE pn.nspname = CASE WHEN policy.archive_rank IS NULL THEN policy.nsp ELSE 'archive' END
               AND pc.relkind = 'r'
               AND pc.relname ~ ('^' || policy.rel || '_p[0-9]{4}_[0-9]{2}$')
               AND (to_date(right(pc.relname, 7), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                   <= as_of - policy.retention
             ORDER BY pc.relname
        LOOP
            EXECUTE format('DROP TABLE %I.%I', part.nsp, part.rel);
            RETURN NEXT part.nsp || '.' || part.rel;
        END LOOP;
    END LOOP;
END
$$;

SELECT shop.create_default_partition(parent) FROM shopbench_meta.partition_policy ORDER BY archive_rank DESC NULLS LAST, parent::text;
-- The month before, this month and the three ahead; `seed` makes the months its data needs.
SELECT shop.ensure_partitions((date_trunc('month', now()) - interval '1 month')::date,
                              (date_trunc('month', now()) + interval '3 months')::date);
