-- Orders and payments, partitioned by the order's creation month.
--
-- Every child of an order (items, status history, payments, ledger rows) carries the order's
-- creation time as order_created_at and is partitioned the same way, so a month is archived by
-- detaching one partition of each table. An order id is a UUIDv7 whose timestamp IS created_at
-- (CHECK below), so a lookup by id computes the partition key: shop.uuidv7_time(id).
-- Money: numeric(19,4) with an ISO 4217 currency; statuses are CHECK lists.
-- Financial foreign keys are NO ACTION: nothing cascades into financial history.

CREATE TABLE shop.orders (
    tenant_id         uuid NOT NULL,           -- the tenant's existence follows from the user foreign key
    id                uuid NOT NULL,
    created_at        timestamptz NOT NULL,
    -- Unique by construction (derived from the id): a UNIQUE index cannot span partitions.
    order_number      varchar(50) GENERATED ALWAYS AS ('ORD-' || upper(encode(uuid_send(id), 'hex'))) STORED,
    user_id           uuid NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded')),
    subtotal          numeric(19,4) NOT NULL CHECK (subtotal >= 0),
    tax_amount        numeric(19,4) NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
    shipping_amount   numeric(19,4) NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
    discount_amount   numeric(19,4) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    total_amount      numeric(19,4) NOT NULL CHECK (total_amount >= 0),
    currency          char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    shipping_address  bytea NOT NULL,          -- ciphertext (the customer's data key)
    billing_address   bytea NOT NULL,          -- ciphertext (the customer's data key)
    notes             text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    shipped_at        timestamptz,
    delivered_at      timestamptz,
    PRIMARY KEY (tenant_id, id, created_at),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id),
    CONSTRAINT orders_created_at_is_id_time CHECK (created_at = shop.uuidv7_time(id)),
    CONSTRAINT orders_total_adds_up CHECK (total_amount = subtotal + tax_amount + shipping_amount - discount_amount),
    CONSTRAINT orders_shipped_after_created CHECK (shipped_at IS NULL OR shipped_at >= created_at),
    CONSTRAINT orders_delivered_after_shipped CHECK (delivered_at IS NULL OR (shipped_at IS NOT NULL AND delivered_at >= shipped_at)),
    CONSTRAINT orders_shipped_status_has_time CHECK (status NOT IN ('shipped', 'delivered') OR shipped_at IS NOT NULL),
    CONSTRAINT orders_delivered_status_has_time CHECK (status <> 'delivered' OR delivered_at IS NOT NULL)
) PARTITION BY RANGE (created_at);
-- A customer's order history, newest first (also the user foreign key's index).
CREATE INDEX orders_user_idx ON shop.orders (tenant_id, user_id, created_at DESC);
-- Fulfilment queues and status dashboards.
CREATE INDEX orders_status_idx ON shop.orders (tenant_id, status, created_at);

CREATE TABLE shop.order_items (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL DEFAULT shop.uuidv7(),
    order_id          uuid NOT NULL,
    order_created_at  timestamptz NOT NULL,
    product_id        uuid NOT NULL,
    variant_id        uuid,
    sku               varchar(100) NOT NULL,
    name              varchar(255) NOT NULL,
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price        numeric(19,4) NOT NULL CHECK (unit_price >= 0),
    total_price       numeric(19,4) NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, order_created_at),
    FOREIGN KEY (tenant_id, order_id, order_created_at) REFERENCES shop.orders (tenant_id, id, created_at),
    FOREIGN KEY (tenant_id, product_id) REFERENCES shop.products (tenant_id, id),
    FOREIGN KEY (tenant_id, variant_id) REFERENCES shop.product_variants (tenant_id, id),
    CONSTRAINT order_items_line_total CHECK (total_price = unit_price * quantity)
) PARTITION BY RANGE (order_created_at);
CREATE INDEX order_items_order_idx ON shop.order_items (tenant_id, order_id, order_created_at);
CREATE INDEX order_items_product_idx ON shop.order_items (tenant_id, product_id);
CREATE INDEX order_items_variant_idx ON shop.order_items (tenant_id, variant_id);

CREATE TABLE shop.order_status_history (
    tenant_id         uuid NOT NULL,
    id                uuid NOT NULL DEFAULT shop.uuidv7(),
    order_id          uuid NOT NULL,
    order_created_at  timestamptz NOT NULL,
    status            text NOT NULL
                      CHECK (status IN ('pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded')),
    notes             text,
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, order_created_at),
    FOREIGN KEY (tenant_id, order_id, order_created_at) REFERENCES shop.orders (tenant_id, id, created_at),
    FOREIGN KEY (tenant_id, created_by) REFERENCES shop.users (tenant_id, id),
    CONSTRAINT order_status_history_after_order CHECK (created_at >= order_created_at)
) PARTITION BY RANGE (order_created_at);
CREATE INDEX order_status_history_order_idx ON shop.order_status_history (tenant_id, order_id, order_created_at);
CREATE INDEX order_status_history_created_by_idx ON shop.order_status_history (tenant_id, created_by);

-- PCI DSS: no column holds a card number or CVV. Only the gateway's token, the brand, the last
-- four digits and the expiry are kept, and gateway payloads carrying card data are rejected.
CREATE TABLE shop.payments (
    tenant_id            uuid NOT NULL,
    id                   uuid NOT NULL DEFAULT shop.uuidv7(),
    order_id             uuid NOT NULL,
    order_created_at     timestamptz NOT NULL,
    payment_method       text NOT NULL
                         CHECK (payment_method IN ('credit_card', 'debit_card', 'paypal', 'bank_transfer', 'wallet', 'gift_card')),
    payment_provider     text NOT NULL CHECK (payment_provider ~ '^[a-z][a-z0-9_]{1,49}$'),
    external_payment_id  varchar(255),
    idempotency_key      varchar(255) NOT NULL,
    amount               numeric(19,4) NOT NULL CHECK (amount >= 0),
    currency             char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'failed', 'charged_back')),
    gateway_token        varchar(255),
    card_brand           text CHECK (card_brand IN ('visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'maestro')),
    card_last4           char(4) CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_exp_month       smallint CHECK (card_exp_month BETWEEN 1 AND 12),
    card_exp_year        smallint CHECK (card_exp_year BETWEEN 2000 AND 2100),
    gateway_response     jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, order_created_at),
    FOREIGN KEY (tenant_id, order_id, order_created_at) REFERENCES shop.orders (tenant_id, id, created_at),
    CONSTRAINT payments_no_card_data CHECK (NOT shop.contains_card_data(gateway_response)),
    CONSTRAINT payments_after_order CHECK (created_at >= order_created_at)
) PARTITION BY RANGE (order_created_at);
CREATE INDEX payments_order_idx ON shop.payments (tenant_id, order_id, order_created_at);

-- Idempotency keys cannot be UNIQUE on the partitioned payments table; they are kept here
-- (unpartitioned, purged after their retry window) and reference the payment they created.
CREATE TABLE shop.payment_idempotency_keys (
    tenant_id         uuid NOT NULL,
    idempotency_key   varchar(255) NOT NULL,
    payment_id        uuid NOT NULL,
    order_created_at  timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key),
    CONSTRAINT payment_idempotency_keys_payment_fkey
        FOREIGN KEY (tenant_id, payment_id, order_created_at) REFERENCES shop.payments (tenant_id, id, order_created_at)
);
CREATE INDEX payment_idempotency_keys_payment_idx ON shop.payment_idempotency_keys (tenant_id, payment_id, order_created_at);

-- The ledger. SOX: append-only; UPDATE, DELETE and TRUNCATE are refused by triggers (below and on
-- every partition), for the owner too.
CREATE TABLE shop.payment_transactions (
    tenant_id               uuid NOT NULL,
    id                      uuid NOT NULL DEFAULT shop.uuidv7(),
    payment_id              uuid NOT NULL,
    order_created_at        timestamptz NOT NULL,
    transaction_type        text NOT NULL
                            CHECK (transaction_type IN ('authorize', 'capture', 'charge', 'refund', 'void', 'chargeback')),
    amount                  numeric(19,4) NOT NULL CHECK (amount >= 0),
    currency                char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    status                  text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    gateway_transaction_id  varchar(255),
    gateway_response        jsonb NOT NULL DEFAULT '{}',
    created_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, order_created_at),
    FOREIGN KEY (tenant_id, payment_id, order_created_at) REFERENCES shop.payments (tenant_id, id, order_created_at),
    CONSTRAINT payment_transactions_no_card_data CHECK (NOT shop.contains_card_data(gateway_response)),
    CONSTRAINT payment_transactions_after_order CHECK (created_at >= order_created_at)
) PARTITION BY RANGE (order_created_at);
CREATE INDEX payment_transactions_payment_idx ON shop.payment_transactions (tenant_id, payment_id, order_created_at);

CREATE FUNCTION shop.refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Correct a ledger entry by appending a compensating transaction.';
END
$$;

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON shop.payment_transactions
    FOR EACH ROW EXECUTE FUNCTION shop.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON shop.payment_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION shop.refuse_change();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.payments FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
