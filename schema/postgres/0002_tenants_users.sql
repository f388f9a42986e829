-- Tenants, customers and their personal data.
--
-- GDPR: personal data (email, names, phone, date of birth, addresses) is encrypted by the
-- application with a per-user data key (AES-256-GCM) before it reaches the database; the key is
-- stored wrapped by the application's key-encryption key in shop.user_data_keys. Erasure deletes
-- that key (crypto-shredding): every ciphertext of the user, in any table or backup, becomes
-- unreadable while orders and payments stay intact. Lookup hashes (HMAC-SHA-256 with an
-- application secret) allow finding a user by email or phone without decrypting.

CREATE TABLE shop.tenants (
    id            uuid PRIMARY KEY DEFAULT shop.uuidv7(),
    name          varchar(255) NOT NULL,
    domain        varchar(255) NOT NULL UNIQUE,
    status        text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'suspended', 'closed')),
    plan          text NOT NULL DEFAULT 'basic'
                  CHECK (plan IN ('basic', 'pro', 'enterprise')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    settings      jsonb NOT NULL DEFAULT '{}',
    billing_info  jsonb NOT NULL DEFAULT '{}'
                  CHECK (NOT shop.contains_card_data(billing_info)),
    CONSTRAINT tenants_domain_check CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$')
);

-- Customers belong to one tenant: the same email may register at two tenants.
CREATE TABLE shop.users (
    tenant_id        uuid NOT NULL REFERENCES shop.tenants (id),
    id               uuid NOT NULL DEFAULT shop.uuidv7(),
    email            bytea NOT NULL,           -- ciphertext
    email_hash       bytea,                    -- lookup hash; NULL once erased
    password_hash    varchar(255) NOT NULL,
    first_name       bytea NOT NULL,           -- ciphertext
    last_name        bytea NOT NULL,           -- ciphertext
    phone            bytea,                    -- lookup hash of the E.164 number
    encrypted_phone  bytea,                    -- ciphertext of the number
    date_of_birth    bytea,                    -- ciphertext
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'inactive', 'suspended', 'erased')),
    email_verified   boolean NOT NULL DEFAULT false,
    phone_verified   boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_login_at    timestamptz,
    erased_at        timestamptz,
    metadata         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email_hash),
    CHECK (octet_length(email_hash) = 32),
    CHECK (octet_length(phone) = 32),
    CONSTRAINT users_erased_at_matches_status CHECK ((status = 'erased') = (erased_at IS NOT NULL)),
    CONSTRAINT users_email_hash_unless_erased CHECK (status = 'erased' OR email_hash IS NOT NULL),
    CONSTRAINT users_erased_has_no_hashes CHECK (status <> 'erased' OR (email_hash IS NULL AND phone IS NULL))
);
CREATE INDEX users_phone_idx ON shop.users (tenant_id, phone) WHERE phone IS NOT NULL;

-- Per-user data keys, wrapped by the application's key-encryption key (never stored here).
CREATE TABLE shop.user_data_keys (
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    wrapped_key  bytea NOT NULL,
    kek_id       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id),
    CHECK (octet_length(wrapped_key) BETWEEN 40 AND 128)
);

-- A user's role within the tenant (customers, staff, administrators).
CREATE TABLE shop.tenant_users (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT shop.uuidv7(),
    user_id      uuid NOT NULL,
    role         text NOT NULL DEFAULT 'user'
                 CHECK (role IN ('user', 'staff', 'admin', 'owner')),
    permissions  jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id)
);

CREATE TABLE shop.user_addresses (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL DEFAULT shop.uuidv7(),
    user_id         uuid NOT NULL,
    type            text NOT NULL DEFAULT 'shipping' CHECK (type IN ('shipping', 'billing')),
    is_default      boolean NOT NULL DEFAULT false,
    first_name      bytea NOT NULL,            -- ciphertext
    last_name       bytea NOT NULL,            -- ciphertext
    company         bytea,                     -- ciphertext
    address_line_1  bytea NOT NULL,            -- ciphertext
    address_line_2  bytea,                     -- ciphertext
    city            bytea NOT NULL,            -- ciphertext
    state           bytea NOT NULL,            -- ciphertext
    postal_code     bytea NOT NULL,            -- ciphertext
    country         char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),  -- ISO 3166-1 alpha-2
    phone           bytea,                     -- lookup hash
    encrypted_phone bytea,                     -- ciphertext
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id),
    CHECK (octet_length(phone) = 32)
);
CREATE INDEX user_addresses_user_idx ON shop.user_addresses (tenant_id, user_id);
-- One default address per user and type.
CREATE UNIQUE INDEX user_addresses_one_default ON shop.user_addresses (tenant_id, user_id, type) WHERE is_default;

CREATE TABLE shop.user_preferences (
    tenant_id              uuid NOT NULL,
    id                     uuid NOT NULL DEFAULT shop.uuidv7(),
    user_id                uuid NOT NULL,
    currency               char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    language               varchar(10) NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    timezone               varchar(50) NOT NULL DEFAULT 'UTC',
    notification_settings  jsonb NOT NULL DEFAULT '{}',
    privacy_settings       jsonb NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id)
);

-- Sessions live in Redis; this is the durable backup. Only a SHA-256 of the token is stored.
CREATE TABLE shop.user_sessions (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL DEFAULT shop.uuidv7(),
    user_id           uuid NOT NULL,
    session_token     bytea NOT NULL CHECK (octet_length(session_token) = 32),
    device_info       jsonb NOT NULL DEFAULT '{}',
    ip_address        inet,
    user_agent        text,
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, session_token),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id),
    CONSTRAINT user_sessions_expire_after_creation CHECK (expires_at > created_at),
    CONSTRAINT user_sessions_activity_after_creation CHECK (last_activity_at >= created_at)
);
CREATE INDEX user_sessions_user_idx ON shop.user_sessions (tenant_id, user_id);

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.tenants FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.users FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.user_addresses FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.user_preferences FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
