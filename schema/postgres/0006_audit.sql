-- SOX audit log: every change to a financial table, written by SECURITY DEFINER triggers, kept
-- append-only and partitioned by month. The application role has no access to it.
--
-- The triggers are statement-level with transition tables, so a bulk COPY of a million rows costs
-- one INSERT ... SELECT instead of a million trigger calls. Statement triggers of a partitioned
-- table fire only when the parent is named; shop.create_month_partition adds the same triggers to
-- every partition, so writes that name a partition directly are audited too.

CREATE TABLE audit.log (
    id          uuid NOT NULL DEFAULT shop.uuidv7(),
    logged_at   timestamptz NOT NULL DEFAULT now(),
    tenant_id   uuid,
    table_name  text NOT NULL,
    operation   text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'ERASE')),
    row_id      uuid,
    old_row     jsonb,
    new_row     jsonb,
    db_user     text NOT NULL DEFAULT session_user,
    app_user    uuid,
    txid        bigint NOT NULL DEFAULT txid_current(),
    PRIMARY KEY (id, logged_at)
) PARTITION BY RANGE (logged_at);
CREATE INDEX audit_log_row_idx ON audit.log (tenant_id, table_name, row_id);

-- The application user behind the change, when the application says so (app.user_id); a value
-- that is not a UUID is ignored rather than failing the audited write.
CREATE FUNCTION audit.current_app_user() RETURNS uuid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s::uuid END
    FROM (SELECT current_setting('app.user_id', true) AS s) AS setting
$$;

CREATE FUNCTION audit.record_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    who uuid := audit.current_app_user();
    tbl text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit.log (tenant_id, table_name, operation, row_id, new_row, app_user)
        SELECT (j->>'tenant_id')::uuid, tbl, 'INSERT', (j->>'id')::uuid, j, who
        FROM (SELECT to_jsonb(n) AS j FROM new_rows n) AS changed;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit.log (tenant_id, table_name, operation, row_id, old_row, new_row, app_user)
        SELECT (nj->>'tenant_id')::uuid, tbl, 'UPDATE', (nj->>'id')::uuid, oj, nj, who
        FROM (SELECT to_jsonb(o) AS oj FROM old_rows o) AS before
        JOIN (SELECT to_jsonb(n) AS nj FROM new_rows n) AS after
          ON (before.oj->>'tenant_id', before.oj->>'id') = (after.nj->>'tenant_id', after.nj->>'id');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit.log (tenant_id, table_name, operation, row_id, old_row, app_user)
        SELECT (j->>'tenant_id')::uuid, tbl, 'DELETE', (j->>'id')::uuid, j, who
        FROM (SELECT to_jsonb(o) AS j FROM old_rows o) AS changed;
    END IF;
    RETURN NULL;
END
$$;

-- Attaches the three audit triggers to a table (a partitioned parent or one of its partitions).
CREATE FUNCTION audit.attach(target regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER audit_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit.record_changes()', target);
    EXECUTE format('CREATE TRIGGER audit_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit.record_changes()', target);
    EXECUTE format('CREATE TRIGGER audit_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit.record_changes()', target);
END
$$;

SELECT audit.attach('shop.orders');
SELECT audit.attach('shop.order_items');
SELECT audit.attach('shop.payments');
SELECT audit.attach('shop.payment_transactions');

-- The audit log itself is append-only.
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit.log
    FOR EACH ROW EXECUTE FUNCTION shop.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit.log
    FOR EACH STATEMENT EXECUTE FUNCTION shop.refuse_change();

-- GDPR erasure by crypto-shredding: delete the user's data key, drop the lookup hashes, end the
-- sessions, mark the user erased. Orders, payments and the ledger stay; every ciphertext of the
-- user (names, email, phone, addresses, order addresses) can no longer be decrypted.
CREATE FUNCTION shop.erase_user(target_user uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant uuid := shop.current_tenant();
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'shop.erase_user: no tenant set (app.tenant_id)' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE shop.users
       SET status = 'erased', erased_at = now(), email_hash = NULL, phone = NULL,
           password_hash = '!erased', metadata = '{}', last_login_at = NULL
     WHERE tenant_id = tenant AND id = target_user AND status <> 'erased';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM shop.user_data_keys WHERE tenant_id = tenant AND user_id = target_user;
    DELETE FROM shop.user_sessions WHERE tenant_id = tenant AND user_id = target_user;
    UPDATE shop.user_addresses SET phone = NULL WHERE tenant_id = tenant AND user_id = target_user;
    INSERT INTO audit.log (tenant_id, table_name, operation, row_id, app_user)
    VALUES (tenant, 'shop.users', 'ERASE', target_user, audit.current_app_user());
    RETURN true;
END
$$;
