//! Seeding through the real binary: the same rows whatever the number of jobs, exactly-once
//! resume after `kill -9`, `verify` catching damage, and bad input.

use std::process::{Child, Stdio};
use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::common::seeder::Seeder;
use crate::common::settings;

fn ok(out: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "shopbench failed: {text}");
    text
}

/// Order-independent checksums of every seeded table of `s`, with its bucket's name (in the
/// image URLs: where the images live, not what the data is) taken out.
async fn checksums(s: &Seeder) -> Vec<(String, String)> {
    let conn = &mut s.admin().await;
    let mut out = Vec::new();
    for t in generator::rows::Table::ALL {
        let sql = format!(
            "SELECT count(*)::text || ':' || coalesce(sum(('x' || left(md5(replace(t::text, '{}', '')), 15))::bit(60)::bigint), 0)::text \
             FROM shop.{} t",
            s.s3_bucket,
            t.name()
        );
        let sum: String = sqlx::query_scalar(&sql)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        out.push((t.name().to_string(), sum));
    }
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit.log")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    out.push(("audit.log rows".into(), audit.to_string()));
    out
}

async fn clickhouse_checksums(database: &str) -> Vec<(String, String)> {
    let url = platform::services::clickhouse_url(&settings())
        .await
        .unwrap();
    let client = platform::schema::clickhouse::client(&url, Some(database));
    let mut out = Vec::new();
    for (table, id) in [
        ("events", "event_id"),
        ("page_views", "view_id"),
        ("order_facts FINAL", "order_item_id"),
    ] {
        let (n, sum): (u64, u64) = client
            .query(&format!("SELECT count(), sum(cityHash64(toString(tenant_id), created_at, toString({id}))) FROM {table}"))
            .fetch_one()
            .await
            .unwrap();
        out.push((table.to_string(), format!("{n}:{sum}")));
    }
    out
}

const SMALL: &[&str] = &[
    "seed",
    "--scale-factor",
    "0.00005",
    "--as-of",
    "2026-01-15",
    "--quiet",
];

/// Twice [`SMALL`]'s rows: a load of a few seconds, long enough to be interrupted in each phase.
const LONGER: &[&str] = &[
    "seed",
    "--scale-factor",
    "0.0001",
    "--as-of",
    "2026-01-15",
    "--quiet",
];

#[tokio::test(flavor = "multi_thread")]
async fn jobs_do_not_change_a_single_row() {
    let (one, eight) = tokio::join!(Seeder::new(), Seeder::new());
    let a = [SMALL, &["--jobs", "1"]].concat();
    let b = [SMALL, &["--jobs", "8"]].concat();
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| one.run(&a));
        let hb = s.spawn(|| eight.run(&b));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    ok(&ra);
    ok(&rb);
    let sums_one = checksums(&one).await;
    let sums_eight = checksums(&eight).await;
    assert!(
        sums_one.iter().all(|(_, s)| !s.starts_with("0:")),
        "every table has rows: {sums_one:?}"
    );
    assert_eq!(sums_one, sums_eight);
    if platform::services::clickhouse_available(&settings()) {
        let ch_one = clickhouse_checksums(&one.clickhouse_db).await;
        assert!(
            ch_one.iter().all(|(_, s)| !s.starts_with("0:")),
            "{ch_one:?}"
        );
        assert_eq!(ch_one, clickhouse_checksums(&eight.clickhouse_db).await);
    }
    // A different seed gives different data.
    let c = Seeder::new().await;
    ok(&c.run(&[SMALL, &["--seed", "7"]].concat()));
    assert_ne!(checksums(&c).await, sums_one);
    ok(&one.run(&["verify"]));
    for s in [one, eight, c] {
        s.finish().await;
    }
}

/// Waits until `sql` (a count) is positive or the child exits; returns whether it was reached.
async fn wait_for(conn: &mut PgConnection, child: &mut Child, sql: &str) -> bool {
    loop {
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut *conn)
            .await
            .unwrap_or(0);
        if n > 0 {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seed_killed_at_any_stage_resumes_with_exact_counts() {
    let s = Seeder::new().await;
    let mut conn = s.admin().await;
    let args = [LONGER, &["--jobs", "3"]].concat();
    let resume = ["seed", "--resume", "--quiet", "--jobs", "2"];
    // Kill points: in the middle of the users, the orders, the events, the page views, while keys
    // and indexes are rebuilt, and in the ClickHouse firehose.
    let kill_points = [
        "SELECT count(*) FROM shopbench_meta.seed_chunks WHERE phase = 'users'",
        "SELECT count(*) FROM shopbench_meta.seed_chunks WHERE phase = 'orders' HAVING count(*) > 2",
        "SELECT count(*) FROM shopbench_meta.seed_chunks WHERE phase = 'events'",
        "SELECT count(*) FROM shopbench_meta.seed_chunks WHERE phase = 'page_views'",
        // The rebuild, with some keys and indexes rebuilt and some not: an index of a shop table
        // is back (the load dropped them all; the materialized view keeps its own) and some are
        // still deferred.
        "SELECT count(*) FROM shopbench_meta.deferred_objects \
          WHERE EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
                         WHERE c.relnamespace = 'shop'::regnamespace AND c.relkind IN ('r', 'p') \
                           AND NOT c.relispartition)",
        "SELECT count(*) FROM shopbench_meta.seed_chunks_started WHERE phase LIKE 'clickhouse.%'",
    ];
    let mut kills = 0;
    for (i, point) in kill_points.iter().enumerate() {
        let mut child = s.spawn(if i == 0 { &args[..] } else { &resume[..] });
        if wait_for(&mut conn, &mut child, point).await {
            child.kill().expect("kill -9");
            kills += 1;
            eprintln!("killed at point {i}");
        }
        child.wait().unwrap();
        let _ = PgConnection::ping(&mut conn).await;
        if i == 1 {
            // Killed inside the bulk-load window: it stays open (triggers off, the loader's
            // grant) until a resumed seed closes it, and `schema check` says so.
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM shopbench_meta.bulk_load_windows WHERE closed_at IS NULL",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            if open > 0 {
                let check = s.run(&["schema", "check"]);
                assert_eq!(
                    check.status.code(),
                    Some(1),
                    "{}",
                    String::from_utf8_lossy(&check.stdout)
                );
                assert!(String::from_utf8_lossy(&check.stdout).contains("bulk-load window"));
            }
        }
    }
    assert!(kills >= 3, "the seed was killed {kills} times");
    // Killed in the rebuild, then in ClickHouse, after the window closed: each resumed seed
    // rebuilds only what is still deferred (nothing, the last time) and leaves what was rebuilt
    // in place. A rebuild a killed seed had started still commits (the server finishes the
    // statement before it finds its client gone): counted once the loader's sessions have ended.
    for _ in 0..600 {
        let sessions: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND usename = 'shopbench_loader'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if sessions == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM shopbench_meta.deferred_objects")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    // Likewise the tables an earlier run analyzed are not analyzed again (all of them, when the
    // last kill came in ClickHouse, after the rebuild).
    let analyzed: i64 = sqlx::query_scalar("SELECT count(*) FROM shopbench_meta.seed_analyzed")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let unanalyzed = generator::load::analyzed_tables().len() as i64 - analyzed;
    let out = ok(&s.run(&resume));
    assert!(out.contains("resuming"), "{out}");
    assert!(
        out.contains(&format!(
            "rebuilt {left} keys, indexes and foreign keys and analyzed {unanalyzed} tables"
        )),
        "{left} left to rebuild, {unanalyzed} to analyze: {out}"
    );
    // verify: every table's count equals the plan (no duplicate, no gap), no orphans, invariants.
    let verified = ok(&s.run(&["verify"]));
    assert!(verified.contains("0 failed"), "{verified}");
    assert!(ok(&s.run(&resume)).contains("nothing to resume"));
    // Every key, index and foreign key rebuilt, valid, and the window closed: a clean check.
    ok(&s.run(&["schema", "check"]));
    s.finish().await;
}

/// Every foreign key of the shop schema as the catalog holds it, partitions' and the referenced
/// partitions' clones included: name, tables, validity, parent, and triggers (by function and
/// type: their names hold OIDs).
async fn foreign_key_catalog(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT format('%s on %s -> %s, valid %s, parent %s, triggers %s', c.conname,
                       c.conrelid::regclass, c.confrelid::regclass, c.convalidated,
                       (SELECT p.conname || ' on ' || p.conrelid::regclass::text || ' -> ' || p.confrelid::regclass::text
                          FROM pg_constraint p WHERE p.oid = c.conparentid),
                       (SELECT string_agg(g.tgfoid::regproc::text || '/' || g.tgtype || '/' || g.tgenabled::text, ', '
                                          ORDER BY g.tgfoid::regproc::text, g.tgtype)
                          FROM pg_trigger g WHERE g.tgconstraint = c.oid))
           FROM pg_constraint c
          WHERE c.contype = 'f' AND c.connamespace = 'shop'::regnamespace
          ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

/// Foreign keys validated one partition at a time, then attached by the parent's `ADD FOREIGN
/// KEY` (migration 0017), leave the catalog exactly as adding them whole does. The seed splits
/// only foreign keys into large tables (none at a test's scale), so this rebuilds a seeded
/// database's deferred objects with every foreign key split.
#[tokio::test(flavor = "multi_thread")]
async fn foreign_keys_validated_per_partition_match_those_added_whole() {
    let s = Seeder::new().await;
    ok(&s.run(SMALL));
    let mut conn = s.admin().await;
    let whole = foreign_key_catalog(&mut conn).await;
    assert!(whole.len() > 100, "{whole:?}");
    let pool = generator::load::postgres::connect(&s.db.target.loader, 4)
        .await
        .unwrap();
    let run: uuid::Uuid = sqlx::query_scalar("SELECT run_id FROM shopbench_meta.bulk_load_windows")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("SELECT shopbench_meta.defer_load_objects()")
        .execute(&pool)
        .await
        .unwrap();
    let parts = generator::load::postgres::fk_partitions(&pool, 0)
        .await
        .unwrap();
    let keys: std::collections::HashSet<&str> = parts.iter().map(|p| p.key.as_str()).collect();
    assert!(
        parts.len() > 20 && keys.len() > 5,
        "{} partitions of {} foreign keys",
        parts.len(),
        keys.len()
    );
    // One partition is half done, as a killed rebuild leaves it: its constraint added NOT VALID
    // (once the keys it references are back, as the rebuild orders it).
    let first = &parts[0];
    let referenced_keys: Vec<String> = sqlx::query_scalar(
        "SELECT k.name FROM shopbench_meta.deferred_objects d \
           JOIN shopbench_meta.deferred_objects k ON k.table_name = d.references_table AND k.kind = 'key' \
          WHERE d.name = $1",
    )
    .bind(&first.key)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!referenced_keys.is_empty());
    for key in &referenced_keys {
        generator::load::postgres::restore(&pool, key)
            .await
            .unwrap();
    }
    let added: String =
        sqlx::query_scalar("SELECT shopbench_meta.validate_foreign_key_on($1, $2::regclass)")
            .bind(&first.key)
            .bind(&first.partition)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(added, "added");
    // The loader cannot use the function on a table that is not one of the foreign key's
    // partitions, nor on anything but a deferred foreign key.
    for (key, table, error) in [
        (first.key.as_str(), "shop.tenants", "is not a partition of"),
        (
            "shop.orders_pkey",
            first.partition.as_str(),
            "no deferred foreign key",
        ),
    ] {
        let err = sqlx::query("SELECT shopbench_meta.validate_foreign_key_on($1, $2::regclass)")
            .bind(key)
            .bind(table)
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(error), "{err}");
    }
    let rebuilt = generator::load::rebuild(
        &pool,
        run,
        2,
        &generator::load::analyzed_tables(),
        0,
        &|line| panic!("{line}"),
    )
    .await
    .unwrap();
    assert!(rebuilt.iter().any(|r| r.kind == "foreign key"));
    let split = foreign_key_catalog(&mut conn).await;
    assert_eq!(whole, split);
    pool.close().await;
    ok(&s.run(&["schema", "check"]));
    assert!(ok(&s.run(&["verify"])).contains("0 failed"));
    s.finish().await;
}

/// The bulk-load window's own audit entries, oldest first.
async fn window_marks(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT operation FROM audit.log WHERE table_name = 'shopbench_meta.bulk_load_windows' ORDER BY logged_at",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

/// Terminates the seed's active sessions matching `filter` (SQL on `pg_stat_activity`); how
/// many.
fn terminate(filter: &str) -> String {
    format!(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = '{}' \
           AND state = 'active' AND {filter}",
        generator::load::postgres::APPLICATION
    )
}

/// Waits until the seed's session running `call` waits on a lock, and terminates it: 1, or 0
/// if the seed ended first.
async fn cut_while_waiting(conn: &mut PgConnection, child: &mut Child, call: &str) -> i64 {
    let sql = terminate(&format!(
        "wait_event_type = 'Lock' AND query LIKE '%{call}%'"
    ));
    while child.try_wait().unwrap().is_none() {
        let cut: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        if cut > 0 {
            return cut;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    0
}

/// A PostgreSQL restart as the seed sees it: its backends terminated in the middle of a COPY,
/// then of the bulk-load window's close, then of a rebuild (`57P01`, what a server shutting down
/// sends each session). The seed tries each again on a new connection and finishes in the same
/// run, with every row once, the window closed once and every key, index and foreign key in
/// place.
#[tokio::test(flavor = "multi_thread")]
async fn a_seed_rides_out_its_connections_being_terminated() {
    let s = Seeder::new().await;
    let mut conn = s.admin().await;
    let mut child = s
        .command(&[LONGER, &["--jobs", "2"]].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shopbench");
    // Terminate the seed's sessions while they COPY, a few times over the load.
    let mut terminated = 0;
    let mut holder = s.admin().await;
    let mut orders_holder = s.admin().await;
    while terminated < 3 && child.try_wait().unwrap().is_none() {
        let n: i64 = sqlx::query_scalar(&terminate("query LIKE 'COPY%'"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n > 0 && terminated == 0 {
            // The keys were dropped before the first COPY; rebuilding shop.tenants' primary key
            // (ACCESS EXCLUSIVE) will wait on this lock, which the load does not.
            sqlx::raw_sql("BEGIN; LOCK TABLE shop.tenants IN ACCESS SHARE MODE")
                .execute(&mut holder)
                .await
                .unwrap();
            // Closing the window turns the audit triggers back on (SHARE ROW EXCLUSIVE on each
            // orders partition), which waits on this; the COPYs (ROW EXCLUSIVE) do not.
            sqlx::raw_sql("BEGIN; LOCK TABLE shop.orders IN ROW EXCLUSIVE MODE")
                .execute(&mut orders_holder)
                .await
                .unwrap();
        }
        terminated += n;
        tokio::time::sleep(Duration::from_millis(if n > 0 { 500 } else { 20 })).await;
    }
    // Then the window's close, caught waiting on its lock, terminated once; its retry goes
    // through once the lock is released.
    let closes_cut = cut_while_waiting(&mut conn, &mut child, "close_bulk_load").await;
    sqlx::raw_sql("COMMIT")
        .execute(&mut orders_holder)
        .await
        .unwrap();
    // Then a rebuild, caught waiting on that lock (so surely running), terminated once.
    let rebuilds_cut = cut_while_waiting(&mut conn, &mut child, "restore_load_object").await;
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let out = child.wait_with_output().unwrap();
    let text = ok(&out);
    // Counted only if the seed was still loading when its sessions were cut (it always is on
    // this machine: the load takes seconds); each cut shows as a warning and a retry.
    assert!(terminated > 0, "no COPY was caught running: {text}");
    assert!(
        text.contains("warning: ") && text.contains("(attempt 1 of 5): trying again"),
        "{text}"
    );
    assert_eq!(
        closes_cut, 1,
        "the window's close was not caught waiting: {text}"
    );
    assert!(
        text.contains("warning: closing the bulk-load window"),
        "the close's retry: {text}"
    );
    assert_eq!(rebuilds_cut, 1, "no rebuild was caught waiting: {text}");
    assert!(
        text.contains("warning: rebuilding shop.tenants"),
        "the rebuild's retry: {text}"
    );
    // The window opened and closed once each, its close's retry notwithstanding.
    assert_eq!(
        window_marks(&mut conn).await,
        ["BULK_LOAD_STARTED", "BULK_LOAD_FINISHED"]
    );
    // Exactly once: every table's count equals the plan, no orphans, the invariants hold.
    let verified = ok(&s.run(&["verify"]));
    assert!(verified.contains("0 failed"), "{verified}");
    ok(&s.run(&["schema", "check"]));
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_on_damaged_data_and_bad_input_exits_2() {
    let s = Seeder::new().await;
    // No seed yet: resume and verify say what to do, exit 2.
    let out = s.run(&["seed", "--resume"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("seed --scale tiny"));
    let out = s.run(&["seed", "--as-of", "2026-13-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));

    ok(&s.run(SMALL));
    let out = s.run(SMALL);
    assert_eq!(out.status.code(), Some(2), "a second seed is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a seed"));

    // Remove one order line: verify must notice the count and the subtotal.
    let mut admin = s.admin().await;
    sqlx::raw_sql(
        "DELETE FROM shop.order_items_p2025_12 WHERE ctid = (SELECT ctid FROM shop.order_items_p2025_12 LIMIT 1)",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    // Remove a payment's audit entry and re-date a remaining order line's, past the log's
    // append-only trigger (as only a superuser could): verify must notice both.
    sqlx::raw_sql(
        "SET session_replication_role = replica;
         DELETE FROM audit.log_p2025_12 WHERE ctid = (SELECT ctid FROM audit.log_p2025_12
          WHERE table_name = 'shop.payments' AND operation = 'INSERT' LIMIT 1);
         UPDATE audit.log_p2025_12 SET logged_at = logged_at - interval '1 second' WHERE ctid = (
          SELECT ctid FROM audit.log_p2025_12 WHERE table_name = 'shop.order_items' AND operation = 'INSERT'
             AND logged_at > '2025-12-02' AND row_id IN (SELECT id FROM shop.order_items_p2025_12) LIMIT 1);
         RESET session_replication_role;",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let out = s.run(&["verify"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL rows shop.order_items"), "{text}");
    assert!(
        text.contains("FAIL order subtotal = sum of its lines"),
        "{text}"
    );
    for failed in [
        "FAIL audited shop.payments ",
        "1 rows without their audit entry",
        "FAIL audit entries dated at their rows",
        "1 entries dated otherwise",
        "FAIL window counts shop.payments",
    ] {
        assert!(text.contains(failed), "{failed}: {text}");
    }
    assert!(text.contains("ok   audited shop.orders "), "{text}");
    // The same report, line for line, however many checks run at once.
    let report = |jobs: &str| {
        let out = s.run(&["verify", "--jobs", jobs]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("verifying "))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let one = report("1");
    assert!(one.len() > 50, "{one:?}");
    assert_eq!(one, report("5"));
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_the_plan_and_refuses_a_disk_too_small() {
    let s = Seeder::new().await;
    let text = ok(&s.run(&["seed", "--scale", "tiny", "--dry-run"]));
    for table in [
        "shop.orders",
        "shop.payment_transactions",
        "clickhouse.events",
        "audit.log",
        "total",
    ] {
        assert!(text.contains(table), "{text}");
    }
    // `full` needs terabytes; no machine this test runs on has them free.
    let out = s.run(&["seed", "--scale", "full", "--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("choose a smaller --scale"), "{err}");
    let seeded: i64 = sqlx::query_scalar("SELECT count(*) FROM shopbench_meta.seed_runs")
        .fetch_one(&mut s.admin().await)
        .await
        .unwrap();
    assert_eq!(seeded, 0, "a dry run loads nothing");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bulk_load_window_leaves_a_sound_audit_trail() {
    let s = Seeder::new().await;
    ok(&s.run(&["seed", "--scale", "tiny", "--quiet"]));
    // verify: the window closed with its counts, every financial row audited, entries dated at
    // their rows and equal to their rows (as jsonb).
    let verified = ok(&s.run(&["verify"]));
    assert!(verified.contains("0 failed"), "{verified}");
    let mut admin = s.admin().await;
    // The window closed: every audit trigger on, the loader's INSERT on the log revoked.
    let disabled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit\\_%' AND tgenabled = 'D'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(disabled, 0);
    let granted: bool =
        sqlx::query_scalar("SELECT has_table_privilege('shopbench_loader', 'audit.log', 'INSERT')")
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert!(!granted, "the loader keeps INSERT on audit.log");
    let mut loader = s.db.loader().await;
    let err = sqlx::query("INSERT INTO audit.log (table_name, operation) VALUES ('x', 'INSERT')")
        .execute(&mut loader)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501")
    );
    // The window itself is in the log: opened and closed, with the counts.
    assert_eq!(
        window_marks(&mut admin).await,
        ["BULK_LOAD_STARTED", "BULK_LOAD_FINISHED"]
    );
    // The entries are dated at their rows: spread over the history's monthly partitions.
    let (partitions, oldest_days): (i64, f64) = sqlx::query_as(
        "SELECT count(DISTINCT tableoid), (extract(epoch FROM now() - min(logged_at)) / 86400)::float8 \
           FROM audit.log WHERE bulk_load IS NOT NULL AND operation = 'INSERT'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(
        partitions > 12 && oldest_days > 365.0,
        "{partitions} partitions, oldest {oldest_days} days"
    );
    // The application role cannot open a window.
    let mut app = s.db.app(None).await;
    let err = sqlx::query("SELECT shopbench_meta.open_bulk_load(gen_random_uuid(), 'x')")
        .execute(&mut app)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501")
    );
    // After the seed, a write is audited by the trigger again.
    sqlx::query(
        "INSERT INTO shop.payment_transactions (tenant_id, payment_id, order_created_at, transaction_type, amount, status) \
         SELECT tenant_id, id, order_created_at, 'void', 0, 'pending' FROM shop.payments LIMIT 1",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit.log WHERE bulk_load IS NULL AND operation = 'INSERT' \
            AND table_name = 'shop.payment_transactions'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // The seed's entries and the trigger's are the same text: `to_json` of the row (migration
    // 0018), nested gateway payload included. Both tables are append-only, so every entry is of
    // the row as it is.
    for table in ["shop.payment_transactions", "shop.order_items"] {
        let (same, seeded, live): (i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*) FILTER (WHERE a.new_row::text = to_json(x)::text), \
                    count(*) FILTER (WHERE a.bulk_load IS NOT NULL), count(*) FILTER (WHERE a.bulk_load IS NULL) \
               FROM {table} x JOIN audit.log a ON a.tenant_id = x.tenant_id AND a.row_id = x.id \
                AND a.table_name = '{table}' AND a.operation = 'INSERT' \
              WHERE a.bulk_load IS NULL OR a.id IN (SELECT id FROM audit.log \
                    WHERE bulk_load IS NOT NULL AND table_name = '{table}' AND operation = 'INSERT' LIMIT 300)"
        ))
        .fetch_one(&mut admin)
        .await
        .unwrap();
        assert_eq!(seeded, 300, "{table}: seeded entries sampled");
        assert_eq!(
            same,
            seeded + live,
            "{table}: entries that are not to_json of their row"
        );
    }
    // An open window (a seed running or killed) is a `schema check` problem.
    sqlx::query("SELECT shopbench_meta.open_bulk_load(gen_random_uuid(), 'x')")
        .execute(&mut loader)
        .await
        .unwrap();
    let check = s.run(&["schema", "check"]);
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("bulk-load window"), "{text}");
    s.finish().await;
}

/// The seed ends with the VACUUM `pgbench -i` does: every table it loaded (each partition, the
/// materialized view) vacuumed by the seed itself, a manual VACUUM's `last_vacuum` and not
/// autovacuum's, so the first benchmark does not run while autovacuum catches up. The loader may
/// not vacuum: a seed whose administrator is not the tables' owner says so and leaves it to
/// autovacuum.
#[tokio::test(flavor = "multi_thread")]
async fn a_seed_leaves_every_table_it_loaded_vacuumed() {
    let s = Seeder::new().await;
    let out = ok(&s.run(&["seed", "--scale", "tiny", "--quiet"]));
    assert!(out.contains("vacuumed every loaded table in"), "{out}");
    let mut admin = s.admin().await;
    let (tables, unvacuumed): (i64, Vec<String>) = sqlx::query_as(
        "SELECT count(*), coalesce(array_agg(format('%I.%I', n.nspname, c.relname)) \
                  FILTER (WHERE s.last_vacuum IS NULL), '{}') \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
          WHERE n.nspname IN ('shop', 'audit') AND c.relkind IN ('r', 'm')",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    // Every partition of the history's months, not only a few plain tables.
    assert!(tables > 100, "{tables} tables");
    assert!(
        unvacuumed.is_empty(),
        "not vacuumed by the seed: {unvacuumed:?}"
    );
    let refused = generator::load::vacuum::vacuum(&s.db.target.loader, 1, &|line| panic!("{line}"))
        .await
        .unwrap();
    assert_eq!(
        refused,
        generator::load::vacuum::Vacuumed::NotOwner {
            user: "shopbench_loader".into()
        }
    );
    s.finish().await;
}

/// Two PostgreSQL databases seeded into one ClickHouse database, or one S3 bucket: the second
/// seed is refused (exit 2, one line naming the store, what it holds and the fix) before it writes
/// anywhere; with stores of its own it seeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_database_seeding_into_the_first_ones_stores_is_refused() {
    let first = Seeder::new().await;
    ok(&first.run(&["seed", "--scale", "tiny", "--quiet"]));
    let second = Seeder::new().await;
    let own_bucket = second.s3_bucket.clone();
    let first_bucket = first.s3_bucket.clone();
    let events = || async {
        clickhouse_checksums(&first.clickhouse_db)
            .await
            .into_iter()
            .map(|(_, sum)| sum)
            .collect::<Vec<_>>()
    };
    let before = events().await;
    for (clickhouse_db, bucket, store) in [
        (&first.clickhouse_db, &own_bucket, "ClickHouse database"),
        (&second.clickhouse_db, &first_bucket, "S3 bucket"),
    ] {
        std::fs::write(
            &second.config,
            format!("clickhouse_database = \"{clickhouse_db}\"\ns3_bucket = \"{bucket}\"\n"),
        )
        .unwrap();
        let out = second.run(&["seed", "--scale", "tiny", "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(store) && err.contains("the seed of") && err.contains("schema reset"),
            "{err}"
        );
        // Nothing written: no seed recorded in the second database, the first's rows as they were.
        let mut conn = second.admin().await;
        let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM shopbench_meta.seed_runs")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(runs, 0);
        assert_eq!(events().await, before);
    }
    // Stores of its own: it seeds.
    std::fs::write(
        &second.config,
        format!(
            "clickhouse_database = \"{}\"\ns3_bucket = \"{own_bucket}\"\n",
            second.clickhouse_db
        ),
    )
    .unwrap();
    ok(&second.run(&["seed", "--scale", "tiny", "--quiet"]));
    second.finish().await;
    first.finish().await;
}

/// A seed waiting on a lock another session holds says which session, and finishes once it is
/// released (no duration asserted: the report is waited for, however long the machine takes).
#[tokio::test(flavor = "multi_thread")]
async fn a_seed_waiting_on_a_lock_names_the_session_holding_it() {
    use std::io::BufRead;
    let s = Seeder::new().await;
    let mut holder = s.admin().await;
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    // Before the seed starts: its deferral of keys (ALTER TABLE) waits for this lock.
    sqlx::raw_sql("BEGIN; LOCK TABLE shop.order_items IN ACCESS SHARE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let mut child = s
        .command(&["seed", "--scale", "tiny", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shopbench");
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let wanted = format!("held by pid {holder_pid} ");
    let mut lines = Vec::new();
    let reported = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(300)) {
            Ok(line) if line.contains(&wanted) => break Some(line),
            Ok(line) => lines.push(line),
            Err(_) => break None,
        }
    };
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let status = child.wait().unwrap();
    let reported = reported
        .unwrap_or_else(|| panic!("no lock report naming pid {holder_pid}; stderr: {lines:?}"));
    eprintln!("{reported}");
    assert!(reported.contains("idle in transaction"), "{reported}");
    assert!(
        status.success(),
        "the seed did not finish after the lock was released: {lines:?}"
    );
    drop(holder);
    s.finish().await;
}

/// A loopback proxy in front of PostgreSQL whose first connection carries the client's bytes up
/// to and including its first COPY statement and swallows everything the client sends after it
/// (the COPY's data, CopyDone): the server waits for the data (ClientRead) while the client,
/// having sent everything, waits for the COPY's answer. Nothing would ever move. Later
/// connections pass both ways. Returns the proxy's port.
async fn swallowing_after_first_copy(server: std::net::SocketAddr) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    crate::common::proxy::proxy(server, |client, upstream| async move {
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = upstream.into_split();
        // The server's side passes, and its end (the backend terminated) ends the client's.
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
            let _ = to_client.shutdown().await;
        });
        let mut buf = vec![0u8; 64 * 1024];
        let mut swallowing = false;
        while let Ok(n) = from_client.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if !swallowing {
                let _ = to_server.write_all(&buf[..n]).await;
                swallowing = buf[..n].windows(5).any(|w| w == b"COPY ");
            }
        }
    })
    .await
}

/// A chunk whose server waits on its client while the client waits on the server (a message
/// lost between them) is abandoned by the watchdog (`load/stall.rs`), its session terminated,
/// and loaded again on a new connection, exactly once. Without the watchdog this attempt waits
/// forever (a CI seed once did, for ten minutes, until its bound killed it).
#[tokio::test(flavor = "multi_thread")]
async fn a_chunk_stuck_between_client_and_server_is_abandoned_and_loaded_once() {
    use generator::load::postgres as pgload;
    use generator::phase::Phase;

    let s = Seeder::new().await;
    let loader = s.db.target.loader.expose().clone();
    let server = tokio::net::lookup_host((
        loader.host_str().unwrap().to_string(),
        loader.port_or_known_default().unwrap(),
    ))
    .await
    .unwrap()
    .next()
    .unwrap();
    let port = swallowing_after_first_copy(server).await;
    let mut proxied = loader.clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(port)).unwrap();
    let pool = pgload::connect(&platform::SecretUrl::new(proxied), 2)
        .await
        .unwrap();
    let model = crate::common::tiny_model().await;
    let batch = Phase::Tenants.generate(&model, 0);
    let warnings = std::sync::Mutex::new(Vec::new());
    pgload::load_chunk_retrying(&pool, Phase::Tenants, 0, &batch, &|line| {
        warnings.lock().unwrap().push(line.to_string())
    })
    .await
    .expect("the second attempt goes through");
    let warnings = warnings.into_inner().unwrap();
    eprintln!("{warnings:?}");
    assert!(
        warnings
            .first()
            .is_some_and(|w| w.contains("chunk 0 of tenants")
                && w.contains("the server waits on the client")
                && w.contains("ClientRead")
                && w.contains("terminated")
                && w.contains("(attempt 1 of")),
        "{warnings:?}"
    );
    let mut admin = s.admin().await;
    let (tenants, records): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM shop.tenants), \
                (SELECT count(*) FROM shopbench_meta.seed_chunks WHERE phase = 'tenants')",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(tenants as u64, batch.rows(), "every tenant once");
    assert_eq!(records, 1);
    pool.close().await;
    drop(admin);
    s.finish().await;
}
