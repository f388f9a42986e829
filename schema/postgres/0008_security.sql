-- Tenant isolation and the role model.
--
-- Every tenant table: RLS enabled and forced, one policy for shopbench_app, fail-closed through
-- shop.current_tenant() (no tenant set: zero rows visible, every write rejected). The application
-- role is granted on parent tables only: a grant on a partition would bypass the parent's policies.
-- shopbench_loader bypasses RLS (bulk loads, maintenance). shopbench_owner owns everything and
-- does not log in.

REVOKE ALL ON SCHEMA shop, audit, archive, monitoring FROM PUBLIC;
GRANT USAGE ON SCHEMA shop TO shopbench_app, shopbench_loader;
GRANT USAGE ON SCHEMA audit, archive TO shopbench_loader;

-- The tenant row itself: the application may read its own tenant.
ALTER TABLE shop.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.tenants AS PERMISSIVE FOR SELECT TO shopbench_app
    USING (id = shop.current_tenant());
GRANT SELECT ON shop.tenants TO shopbench_app;

ALTER TABLE shop.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.users AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE ON shop.users TO shopbench_app;

ALTER TABLE shop.user_data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.user_data_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.user_data_keys AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.user_data_keys TO shopbench_app;

ALTER TABLE shop.tenant_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.tenant_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.tenant_users AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.tenant_users TO shopbench_app;

ALTER TABLE shop.user_addresses ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.user_addresses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.user_addresses AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.user_addresses TO shopbench_app;

ALTER TABLE shop.user_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.user_preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.user_preferences AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE ON shop.user_preferences TO shopbench_app;

ALTER TABLE shop.user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.user_sessions AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.user_sessions TO shopbench_app;

ALTER TABLE shop.categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.categories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.categories AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.categories TO shopbench_app;

ALTER TABLE shop.products ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.products FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.products AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.products TO shopbench_app;

ALTER TABLE shop.product_variants ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.product_variants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.product_variants AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.product_variants TO shopbench_app;

ALTER TABLE shop.product_images ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.product_images FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.product_images AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.product_images TO shopbench_app;

ALTER TABLE shop.product_inventory ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.product_inventory FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.product_inventory AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE ON shop.product_inventory TO shopbench_app;

ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.orders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.orders AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE ON shop.orders TO shopbench_app;

ALTER TABLE shop.order_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.order_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.order_items AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.order_items TO shopbench_app;

ALTER TABLE shop.order_status_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.order_status_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.order_status_history AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.order_status_history TO shopbench_app;

ALTER TABLE shop.payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.payments AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT, UPDATE ON shop.payments TO shopbench_app;

ALTER TABLE shop.payment_idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.payment_idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.payment_idempotency_keys AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.payment_idempotency_keys TO shopbench_app;

ALTER TABLE shop.payment_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.payment_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.payment_transactions AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.payment_transactions TO shopbench_app;

ALTER TABLE shop.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.events AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.events TO shopbench_app;

ALTER TABLE shop.page_views ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.page_views FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shop.page_views AS PERMISSIVE FOR ALL TO shopbench_app
    USING (tenant_id = shop.current_tenant()) WITH CHECK (tenant_id = shop.current_tenant());
GRANT SELECT, INSERT ON shop.page_views TO shopbench_app;

-- The loader writes every table (COPY routes rows into partitions through the parent).
GRANT SELECT, INSERT ON shop.tenants, shop.users, shop.user_data_keys, shop.tenant_users, shop.user_addresses, shop.user_preferences, shop.user_sessions, shop.categories, shop.products, shop.product_variants, shop.product_images, shop.product_inventory, shop.orders, shop.order_items, shop.order_status_history, shop.payments, shop.payment_idempotency_keys, shop.payment_transactions, shop.events, shop.page_views TO shopbench_loader;
GRANT UPDATE ON shop.product_inventory, shop.orders, shop.payments TO shopbench_loader;
GRANT SELECT ON audit.log TO shopbench_loader;

-- Functions: EXECUTE is granted to PUBLIC by default; keep only what each role needs.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA shop, audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shop.uuidv7(timestamptz), shop.uuidv7_time(uuid), shop.current_tenant(),
    shop.touch_updated_at(), shop.luhn_valid(text), shop.contains_card_data(jsonb), shop.refuse_change(),
    shop.erase_user(uuid)
    TO shopbench_app, shopbench_loader;
GRANT EXECUTE ON FUNCTION audit.current_app_user(), audit.record_changes() TO shopbench_app, shopbench_loader;
GRANT EXECUTE ON FUNCTION shop.create_month_partition(regclass, date), shop.ensure_partitions(date, date),
    shop.archive_month(date), shop.drop_expired_partitions(timestamptz)
    TO shopbench_loader;
