-- Product catalog: categories (a tree per tenant), products, variants, images, inventory.

CREATE TABLE shop.categories (
    tenant_id    uuid NOT NULL REFERENCES shop.tenants (id),
    id           uuid NOT NULL DEFAULT shop.uuidv7(),
    name         varchar(255) NOT NULL,
    slug         varchar(255) NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description  text,
    parent_id    uuid,
    image_url    varchar(500),
    sort_order   integer NOT NULL DEFAULT 0,
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES shop.categories (tenant_id, id),
    CONSTRAINT categories_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX categories_parent_idx ON shop.categories (tenant_id, parent_id);

CREATE TABLE shop.products (
    tenant_id          uuid NOT NULL REFERENCES shop.tenants (id),
    id                 uuid NOT NULL DEFAULT shop.uuidv7(),
    sku                varchar(100) NOT NULL,
    name               varchar(255) NOT NULL,
    slug               varchar(255) NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description        text,
    short_description  text,
    category_id        uuid,
    brand              varchar(100),
    model              varchar(100),
    weight             numeric(10,3) CHECK (weight >= 0),            -- kilograms
    dimensions         jsonb NOT NULL DEFAULT '{}',                  -- {length, width, height} in cm
    is_active          boolean NOT NULL DEFAULT true,
    is_digital         boolean NOT NULL DEFAULT false,
    requires_shipping  boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- Full-text search without Elasticsearch: name weighs most, then brand and sku, then description.
    search_vector      tsvector GENERATED ALWAYS AS (
                           setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') ||
                           setweight(to_tsvector('english'::regconfig, coalesce(brand, '') || ' ' || coalesce(sku, '')), 'B') ||
                           setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
                       ) STORED,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, sku),
    UNIQUE (tenant_id, slug),
    FOREIGN KEY (tenant_id, category_id) REFERENCES shop.categories (tenant_id, id),
    CONSTRAINT products_digital_not_shipped CHECK (NOT (is_digital AND requires_shipping))
);
-- Category pages: keyset pagination by id within a category (also the category foreign key's index).
CREATE INDEX products_category_idx ON shop.products (tenant_id, category_id, id);

CREATE TABLE shop.product_variants (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL DEFAULT shop.uuidv7(),
    product_id     uuid NOT NULL,
    sku            varchar(100) NOT NULL,
    name           varchar(255) NOT NULL,
    attributes     jsonb NOT NULL DEFAULT '{}',                     -- {"color": "red", "size": "L"}
    price          numeric(19,4) NOT NULL CHECK (price >= 0),
    compare_price  numeric(19,4),                                   -- >= price >= 0 (below)
    cost_price     numeric(19,4) CHECK (cost_price >= 0),
    currency       char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    weight         numeric(10,3) CHECK (weight >= 0),
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, product_id, sku),
    FOREIGN KEY (tenant_id, product_id) REFERENCES shop.products (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT product_variants_compare_not_below_price CHECK (compare_price IS NULL OR compare_price >= price)
);

CREATE TABLE shop.product_images (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT shop.uuidv7(),
    product_id  uuid NOT NULL,
    variant_id  uuid,
    url         varchar(500) NOT NULL CHECK (url ~ '^(https?|s3)://'),
    alt_text    varchar(255),
    sort_order  integer NOT NULL DEFAULT 0,
    is_primary  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES shop.products (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, variant_id) REFERENCES shop.product_variants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX product_images_product_idx ON shop.product_images (tenant_id, product_id, sort_order);
CREATE INDEX product_images_variant_idx ON shop.product_images (tenant_id, variant_id);
-- One primary image per product.
CREATE UNIQUE INDEX product_images_one_primary ON shop.product_images (tenant_id, product_id) WHERE is_primary;

CREATE TABLE shop.product_inventory (
    tenant_id            uuid NOT NULL,
    id                   uuid NOT NULL DEFAULT shop.uuidv7(),
    variant_id           uuid NOT NULL,
    quantity             integer NOT NULL DEFAULT 0,                   -- >= reserved_quantity >= 0 (below)
    reserved_quantity    integer NOT NULL DEFAULT 0,
    available_quantity   integer GENERATED ALWAYS AS (quantity - reserved_quantity) STORED,
    low_stock_threshold  integer NOT NULL DEFAULT 10 CHECK (low_stock_threshold >= 0),
    reorder_point        integer NOT NULL DEFAULT 5 CHECK (reorder_point >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, variant_id),
    FOREIGN KEY (tenant_id, variant_id) REFERENCES shop.product_variants (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT product_inventory_reserved_within_quantity CHECK (reserved_quantity >= 0 AND reserved_quantity <= quantity)
);

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.categories FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.products FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.product_variants FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON shop.product_inventory FOR EACH ROW EXECUTE FUNCTION shop.touch_updated_at();
