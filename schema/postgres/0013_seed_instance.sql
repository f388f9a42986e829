-- Which seed the shared stores' data belongs to. ClickHouse's analytics database, the object
-- store's bucket and the search index can be shared by several PostgreSQL databases; a second
-- seed into them would double their rows. Each seed gets an instance id here, marks every store
-- it writes to with it, and refuses a store marked by another (generator/src/load/owner.rs).
-- Seeds recorded before this migration get one now (they never marked their stores).

ALTER TABLE shopbench_meta.seed_runs ADD COLUMN instance uuid NOT NULL DEFAULT gen_random_uuid();
COMMENT ON COLUMN shopbench_meta.seed_runs.instance IS 'this seed''s mark on the stores it shares with other databases (ClickHouse, S3, search)';
