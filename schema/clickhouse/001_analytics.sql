-- Analytics tables on ClickHouse. `{database}` is replaced by the configured database name.
-- Compatible with ClickHouse 18.16 (Debian 12) and current releases: plain MergeTree family,
-- custom monthly partitioning, no DateTime64, no LowCardinality, no TTL (18.16 has none:
-- retention drops whole months with ALTER TABLE ... DROP PARTITION).
-- Sorting keys start with tenant_id and time: a tenant's dashboard over a time range reads one
-- contiguous slice of each part.

CREATE DATABASE IF NOT EXISTS {database};

-- Behavioural events: the 1B+/month firehose. Anonymous events carry the nil UUID as user_id.
CREATE TABLE IF NOT EXISTS {database}.events (
    tenant_id   UUID,
    created_at  DateTime,
    event_type  String,
    event_id    UUID,
    user_id     UUID,
    session_id  UUID,
    product_id  UUID,
    properties  String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant_id, created_at, event_type)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS {database}.page_views (
    tenant_id   UUID,
    created_at  DateTime,
    view_id     UUID,
    user_id     UUID,
    session_id  UUID,
    page_url    String,
    page_title  String,
    referrer    String,
    user_agent  String,
    ip_address  String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant_id, created_at)
SETTINGS index_granularity = 8192;

-- Sales facts: one row per order line, re-inserted with a higher version when the order's status
-- changes (ReplacingMergeTree keeps the latest; query with FINAL or argMax for exact figures).
CREATE TABLE IF NOT EXISTS {database}.order_facts (
    tenant_id      UUID,
    created_at     DateTime,
    order_id       UUID,
    order_item_id  UUID,
    user_id        UUID,
    product_id     UUID,
    variant_id     UUID,
    category_id    UUID,
    quantity       UInt32,
    unit_price     Decimal(18, 4),  -- Decimal64: 14 integer digits, enough for any order line
    line_total     Decimal(18, 4),
    currency       FixedString(3),
    status         String,
    version        UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant_id, created_at, order_id, order_item_id)
SETTINGS index_granularity = 8192;
