-- Bootstrap: runs before the numbered migrations, on every `shopbench schema apply`, as the
-- connecting administrator (a superuser). Idempotent and safe to run from several sessions at once
-- (tests apply the schema to many databases of one cluster in parallel, and roles are cluster-wide).
--
-- Roles
--   shopbench_owner   NOLOGIN, owns every object. BYPASSRLS so that the SECURITY DEFINER functions it
--                     owns (search, erasure, refresh, archiving) can do their job; nobody logs in as it.
--   shopbench_app     LOGIN, owns nothing, NOBYPASSRLS: the application; every tenant table is
--                     filtered by the policy for this role.
--   shopbench_loader  LOGIN, BYPASSRLS: bulk loads and maintenance jobs.

DO $roles$
DECLARE
    spec record;
BEGIN
    FOR spec IN
        SELECT * FROM (VALUES
            ('shopbench_owner',  'NOLOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT'),
            ('shopbench_app',    'LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT'),
            ('shopbench_loader', 'LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')
        ) AS r(name, attrs)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = spec.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I %s', spec.name, spec.attrs);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another session created it a moment ago
            END;
        END IF;
    END LOOP;

    -- Repair attributes of roles that existed before (only when wrong, so parallel applies do not
    -- update the same pg_authid rows).
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'shopbench_owner' AND (rolcanlogin OR NOT rolbypassrls OR rolsuper)) THEN
        ALTER ROLE shopbench_owner NOLOGIN BYPASSRLS NOSUPERUSER;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'shopbench_app' AND (NOT rolcanlogin OR rolbypassrls OR rolsuper)) THEN
        ALTER ROLE shopbench_app LOGIN NOBYPASSRLS NOSUPERUSER;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'shopbench_loader' AND (NOT rolcanlogin OR rolsuper)) THEN
        ALTER ROLE shopbench_loader LOGIN BYPASSRLS NOSUPERUSER;
    END IF;

    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO shopbench_app, shopbench_loader', current_database());
    EXECUTE format('GRANT CREATE ON DATABASE %I TO shopbench_owner', current_database());
END
$roles$;

-- Extensions need a superuser (pg_stat_statements is not a trusted extension).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- The migrations ledger.
CREATE SCHEMA IF NOT EXISTS shopbench_meta AUTHORIZATION shopbench_owner;
CREATE TABLE IF NOT EXISTS shopbench_meta.schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text NOT NULL DEFAULT session_user
);
-- The catalog as the migrations left it; `schema check` diffs the live catalog against it.
CREATE TABLE IF NOT EXISTS shopbench_meta.catalog_snapshot (
    item text PRIMARY KEY
);
ALTER TABLE shopbench_meta.schema_migrations OWNER TO shopbench_owner;
ALTER TABLE shopbench_meta.catalog_snapshot OWNER TO shopbench_owner;
