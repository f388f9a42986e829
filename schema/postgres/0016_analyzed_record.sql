-- Which tables a seed's rebuild has analyzed, so that a resumed seed does not analyze them again.
--
-- A seed killed in its rebuild, or stopped by a ClickHouse failure after it, resumes with only the
-- keys, indexes and foreign keys still in `deferred_objects` to rebuild, but it used to ANALYZE all
-- 21 tables again: 5.9 s at `small`, about 50 s at `medium`, about 40 minutes at `full`. An empty
-- `deferred_objects` does not say that every ANALYZE ran (a table without foreign keys can still
-- be waiting for its statistics when the last object is back), so each ANALYZE is recorded here in
-- the same transaction as the ANALYZE itself: a crash loses both or neither.
--
-- Sound to skip on a resume: a table's ANALYZE runs only once every key and index of it is back
-- (expression indexes have statistics of their own), and nothing is loaded into PostgreSQL after
-- the run's bulk-load window closed, which is before the rebuild starts. Records belong to one run
-- (its window): another run, or `schema reset`, does not find them.

CREATE TABLE shopbench_meta.seed_analyzed (
    run_id       uuid NOT NULL REFERENCES shopbench_meta.bulk_load_windows (run_id) ON DELETE CASCADE,
    table_name   text NOT NULL,
    analyzed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, table_name)
);
COMMENT ON TABLE shopbench_meta.seed_analyzed IS 'tables a seed run''s rebuild has analyzed (skipped when the seed is resumed)';
GRANT SELECT, INSERT ON shopbench_meta.seed_analyzed TO shopbench_loader;
