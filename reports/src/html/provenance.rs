//! The report's last two sections: what the database did during the run, and where every figure
//! came from (versions, machine, data, configuration, the seed's own summary).

use super::page::{Cell, Kind, Page, Table};
use crate::format::{bytes, count, ms_f, pct, rate};
use results::run::RunResults;
use results::seed::SeedSummary;

/// Statements and tables listed, largest first.
const TOP: usize = 20;

pub fn database(page: &mut Page, r: &RunResults) {
    page.section("database", "Database");
    let d = &r.database;
    if !r.merged_from.is_empty() {
        page.para(
            "Merged results: these database figures are the first load generator's (every \
             generator measured the same server).",
        );
    }
    let mut t = Table::new(&["figure", "value"]);
    let rows = [
        (
            "shared buffer hit ratio",
            d.hit_ratio.map(pct).unwrap_or_else(|| "unknown".into()),
        ),
        ("commits", count(d.commits)),
        ("rollbacks", count(d.rollbacks)),
        ("deadlocks", count(d.deadlocks)),
        ("temporary files written", bytes(d.temp_bytes)),
        (
            "statements: reads, writes, other (read:write)",
            match &d.statement_mix {
                Some(m) => format!(
                    "{}, {}, {} ({})",
                    count(m.reads),
                    count(m.writes),
                    count(m.other),
                    m.read_write_ratio()
                        .map(|x| format!("{x:.1}:1"))
                        .unwrap_or_else(|| "no writes".into())
                ),
                None => "unknown".into(),
            },
        ),
    ];
    for (k, v) in rows {
        t.row(vec![Cell::text(k), Cell::num(v)]);
    }
    page.table(&t);

    page.heading("Top statements by total time during the run (pg_stat_statements)");
    if let Some(note) = &d.statements_note {
        page.para(note);
    }
    let mut s = Table::new(&[
        "statement",
        "calls",
        "total ms",
        "mean ms",
        "rows",
        "hit ratio",
    ]);
    for st in d.statements.iter().take(TOP) {
        let blocks = st.shared_blks_hit + st.shared_blks_read;
        s.row(vec![
            Cell::new(shorten(&st.query, 300), Kind::Code),
            Cell::num(count(st.calls)),
            Cell::num(ms_f(st.total_ms)),
            Cell::num(ms_f(st.mean_ms)),
            Cell::num(count(st.rows)),
            Cell::num(if blocks == 0 {
                "–".into()
            } else {
                pct(st.shared_blks_hit as f64 / blocks as f64)
            }),
        ]);
    }
    if !s.is_empty() {
        page.table(&s);
    }

    page.heading("Largest tables at the end of the run");
    let mut sizes: Vec<_> = d.sizes.iter().collect();
    sizes.sort_by(|a, b| (b.1 .0 + b.1 .1).cmp(&(a.1 .0 + a.1 .1)).then(a.0.cmp(b.0)));
    let mut z = Table::new(&["table", "table", "indexes", "total"]);
    for (name, (table, index)) in sizes.iter().take(TOP) {
        z.row(vec![
            Cell::new(name.as_str(), Kind::Code),
            Cell::num(bytes(*table)),
            Cell::num(bytes(*index)),
            Cell::num(bytes(table + index)),
        ]);
    }
    if z.is_empty() {
        page.para("No table sizes were recorded.");
    } else {
        page.table(&z);
    }
}

pub fn provenance(page: &mut Page, r: &RunResults) {
    page.section("provenance", "Provenance");
    let e = &r.environment;
    let m = &e.machine;
    let mut t = Table::new(&["what", "value"]);
    let mut rows: Vec<(String, String)> = vec![
        (
            "shopbench".into(),
            format!("{} (git {})", e.shopbench_version, e.git_revision),
        ),
        ("kind".into(), r.kind.to_string()),
        (
            "search served by".into(),
            match r.config.search_backend.as_str() {
                "postgres" => "PostgreSQL full-text search (shop.search_products)".into(),
                "elasticsearch" => "Elasticsearch/OpenSearch at SEARCH_URL".into(),
                other => other.to_string(),
            },
        ),
        (
            "started / finished (UTC)".into(),
            format!("{} / {}", r.started_at, r.finished_at),
        ),
        (
            "measured window".into(),
            format!(
                "{:.1} s{}",
                r.measured_s,
                if r.interrupted { " (interrupted)" } else { "" }
            ),
        ),
        (
            "machine".into(),
            format!(
                "{}: {} CPUs, {}, {} (kernel {})",
                m.hostname,
                m.cpus,
                bytes(m.memory_bytes),
                m.os,
                m.kernel
            ),
        ),
        (
            "dataset".into(),
            format!(
                "scale {}, data seed {}, as of {}",
                e.scale, e.data_seed, e.as_of
            ),
        ),
        (
            "data fingerprint (SHA-256 of the seed's configuration and plan)".into(),
            e.data_fingerprint.clone(),
        ),
        ("command line".into(), r.config.command_line.join(" ")),
    ];
    for (service, version) in &e.servers {
        rows.push((format!("server: {service}"), version.clone()));
    }
    for (k, v) in rows {
        t.row(vec![Cell::text(k), Cell::new(v, Kind::Code)]);
    }
    page.table(&t);
    if !r.merged_from.is_empty() {
        generators(page, r);
    }
    page.heading("Configuration");
    page.pre(&serde_json::to_string_pretty(&r.config).unwrap_or_default());
    if let Some(seed) = &e.seed_summary {
        seed_summary(page, seed);
    }
}

/// The load generators whose results were merged: each one's share, pace and clock.
fn generators(page: &mut Page, r: &RunResults) {
    page.heading("Load generators");
    let mut t = Table::new(&[
        "generator",
        "host",
        "started",
        "start offset",
        "clock",
        "scheduled",
        "target ops/s",
        "achieved ops/s",
        "kept up",
        "git",
    ]);
    for (i, g) in r.merged_from.iter().enumerate() {
        let (name, offset, clock) = match &g.shard {
            Some(s) => (
                format!("shard {} (run {})", s.shard, s.run_id),
                format!("{} ms", ms_f(s.start_offset_ms)),
                match (s.clock.synchronized, s.clock.max_error_us) {
                    (Some(true), Some(e)) => {
                        format!("synchronized, max error {} ms", ms_f(e as f64 / 1e3))
                    }
                    (Some(false), _) => "NOT synchronized".into(),
                    _ => "unknown".into(),
                },
            ),
            None => (format!("{}", i + 1), "-".into(), "-".into()),
        };
        let opt = |v: Option<f64>| v.map(rate).unwrap_or_else(|| "-".into());
        t.row(vec![
            Cell::text(name),
            Cell::text(g.hostname.clone()),
            Cell::text(g.started_at.clone()),
            Cell::num(offset),
            Cell::text(clock),
            Cell::num(count(g.scheduled)),
            Cell::num(opt(g.target_rate)),
            Cell::num(opt(g.achieved_rate)),
            match g.keeping_up {
                Some(true) => Cell::text("yes"),
                Some(false) => Cell::new("NO", Kind::Bad),
                None => Cell::text("-"),
            },
            Cell::new(g.git_revision.clone(), Kind::Code),
        ]);
    }
    page.table(&t);
}

/// How the data was seeded: the seed's own summary.
fn seed_summary(page: &mut Page, seed: &SeedSummary) {
    page.heading("How the data was seeded");
    page.para(&format!(
        "{} rows in {:.1} s ({} rows/s overall), peak memory {}.",
        count(seed.rows),
        seed.seconds,
        rate(seed.rows_per_second),
        bytes(seed.peak_memory_bytes)
    ));
    let mut t = Table::new(&["table", "rows", "seconds", "rows/s"]);
    for table in &seed.tables {
        t.row(vec![
            Cell::new(&table.table, Kind::Code),
            Cell::num(count(table.rows)),
            Cell::num(format!("{:.1}", table.seconds)),
            Cell::num(rate(table.rows_per_second)),
        ]);
    }
    if !t.is_empty() {
        page.table(&t);
    }
    if !seed.rebuilds.is_empty() {
        let total: f64 = seed.rebuilds.iter().map(|r| r.seconds).sum();
        page.para(&format!(
            "Keys, indexes and foreign keys were rebuilt after the load, and the tables analyzed \
             before the foreign keys were validated: {} objects, {:.1} s of work ({:.1} s of wall \
             time with {} jobs); the slowest:",
            seed.rebuilds.len(),
            total,
            seed.phases.get("indexes").copied().unwrap_or(0.0),
            seed.jobs
        ));
        let mut t = Table::new(&["object", "kind", "table", "table size", "seconds"]);
        for r in seed.rebuilds.iter().take(10) {
            t.row(vec![
                Cell::new(&r.name, Kind::Code),
                Cell::text(&r.kind),
                Cell::new(&r.table, Kind::Code),
                Cell::num(bytes(r.table_bytes)),
                Cell::num(format!("{:.2}", r.seconds)),
            ]);
        }
        page.table(&t);
    }
    if let Some(seconds) = seed.phases.get("vacuum") {
        page.para(&format!(
            "Every table the seed loaded was then vacuumed, as pgbench -i does, so that autovacuum \
             had none of the load left to vacuum during a workload: {seconds:.1} s."
        ));
    }
}

/// The first `limit` characters, on a character boundary, with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match squeezed.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &squeezed[..cut]),
        None => squeezed,
    }
}
