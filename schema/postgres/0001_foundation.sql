-- Schemas and the helper functions every table relies on. Runs as shopbench_owner.
--
--   shop        tenant data (every table carries tenant_id, RLS forced)
--   audit       the append-only audit log (no access for the application role)
--   archive     detached month partitions of orders and their children
--   monitoring  slow queries and table sizes, for pg_monitor

CREATE SCHEMA shop;
CREATE SCHEMA audit;
CREATE SCHEMA archive;
CREATE SCHEMA monitoring;

-- Time-ordered UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, random rest.
-- PostgreSQL 15 has no uuidv7(); this is the usual overlay of the timestamp onto a v4 UUID.
CREATE FUNCTION shop.uuidv7(ts timestamptz DEFAULT clock_timestamp()) RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;

-- The creation instant a UUIDv7 carries (millisecond precision). Orders store exactly this as
-- created_at, so a lookup by id alone computes the partition key and prunes to one partition.
CREATE FUNCTION shop.uuidv7_time(id uuid) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_timestamp((('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint) / 1000.0)
$$;

-- The tenant of the current transaction, fail-closed: NULL when unset or reset to '' by a pooler,
-- so `tenant_id = shop.current_tenant()` matches nothing.
CREATE FUNCTION shop.current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid
$$;

-- updated_at maintenance.
CREATE FUNCTION shop.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- Luhn checksum over a string of digits.
CREATE FUNCTION shop.luhn_valid(digits text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    total integer := 0;
    d integer;
    doubled boolean := false;
BEGIN
    FOR i IN REVERSE length(digits)..1 LOOP
        d := ascii(substr(digits, i, 1)) - 48;
        IF doubled THEN
            d := d * 2;
            IF d > 9 THEN d := d - 9; END IF;
        END IF;
        total := total + d;
        doubled := NOT doubled;
    END LOOP;
    RETURN total % 10 = 0;
END
$$;

-- PCI DSS: true when a JSON document carries cardholder data: a key naming a card number, CVV or
-- track data, or a 13-19 digit run (spaces or dashes allowed) that starts like a card number
-- (2-6: Mastercard, Amex, Diners, JCB, Visa, Discover, UnionPay, Maestro) and passes Luhn.
-- Millisecond timestamps (1...) and short ids pass; gateway ids should be alphanumeric tokens.
CREATE FUNCTION shop.contains_card_data(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    body text;
    hit text[];
BEGIN
    IF doc IS NULL THEN
        RETURN false;
    END IF;
    body := doc::text;
    IF body ~* '"(cvv2?|cvc2?|cid|csc|cav2|security_?code|card_?number|card_?no|pan|primary_account_number|track_?[12]|track_?data|magstripe|pin_?block)"\s*:' THEN
        RETURN true;
    END IF;
    FOR hit IN SELECT regexp_matches(body, '(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])', 'g') LOOP
        IF shop.luhn_valid(regexp_replace(hit[1], '[^0-9]', '', 'g')) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
