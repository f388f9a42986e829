-- Behavioural events kept in PostgreSQL for operational use (recent funnels, a customer's
-- activity). The full firehose (1B+ events a month) goes to ClickHouse. Partitioned by month and
-- kept 90 days: expired months are dropped whole (shop.drop_expired_partitions).

CREATE TABLE shop.events (
    tenant_id   uuid NOT NULL REFERENCES shop.tenants (id),
    id          uuid NOT NULL DEFAULT shop.uuidv7(),
    user_id     uuid,
    session_id  uuid,
    event_type  varchar(100) NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_.]*$'),
    event_data  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, created_at),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id)
) PARTITION BY RANGE (created_at);
CREATE INDEX events_user_idx ON shop.events (tenant_id, user_id, created_at);
CREATE INDEX events_type_idx ON shop.events (tenant_id, event_type, created_at);

CREATE TABLE shop.page_views (
    tenant_id   uuid NOT NULL REFERENCES shop.tenants (id),
    id          uuid NOT NULL DEFAULT shop.uuidv7(),
    user_id     uuid,
    session_id  uuid,
    page_url    varchar(500) NOT NULL,
    page_title  varchar(255),
    referrer    varchar(500),
    user_agent  text,
    ip_address  inet,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, created_at),
    FOREIGN KEY (tenant_id, user_id) REFERENCES shop.users (tenant_id, id)
) PARTITION BY RANGE (created_at);
CREATE INDEX page_views_user_idx ON shop.page_views (tenant_id, user_id, created_at);
