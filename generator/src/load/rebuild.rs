//! What the load deferred, rebuilt: keys and indexes, then each table's statistics (ANALYZE),
//! then foreign keys, `jobs` at a time, never two whose locks collide.
//!
//! Why in this order, measured at `small` (2 cores): a foreign key is validated by one anti-join
//! per partition of its table against the whole referenced table. Without statistics PostgreSQL
//! sorts both sides for a merge join (346 ms for one `order_status_history` partition against
//! `orders`); with them it hashes the referenced side (163 ms): the large foreign keys took
//! 7.1–7.3 s before ANALYZE and 2.4–3.0 s after. ANALYZE runs anyway; before the foreign keys it
//! pays for itself.
//!
//! Why not simply `jobs` at a time in size order: adding a foreign key takes SHARE ROW EXCLUSIVE
//! on both tables, which conflicts with itself, so the three foreign keys that reference `orders`
//! run one after another whatever the order; a job started on one of them waits on the lock
//! while holding its own table's, and the other jobs queue behind it (the foreign-key stage took
//! 28 s of wall time for ~12 s of work). Here a rebuild starts only when nothing running holds a
//! lock it would wait for, and what unblocks the most work (the longest chain after it) first.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use sqlx::PgPool;

use super::postgres::{self, Deferred};
use crate::error::Result;
use results::seed::Rebuild;

/// One piece of the rebuild.
#[derive(Debug, Clone)]
enum Work {
    /// A deferred key, index or foreign key.
    Object(Deferred),
    /// ANALYZE of a table (partitions included).
    Analyze { table: String, bytes: u64 },
}

/// A lock a rebuild takes on a table: SHARE (`CREATE INDEX`) is compatible with itself; ADD
/// CONSTRAINT (ACCESS EXCLUSIVE for a key, SHARE ROW EXCLUSIVE for a foreign key, on both tables)
/// and ANALYZE (SHARE UPDATE EXCLUSIVE) conflict with every rebuild of the same table.
#[derive(Debug, Clone, PartialEq)]
struct Lock<'a> {
    table: &'a str,
    shared: bool,
}

impl Work {
    fn table(&self) -> &str {
        match self {
            Work::Object(d) => &d.table,
            Work::Analyze { table, .. } => table,
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Work::Object(d) => d.table_bytes,
            Work::Analyze { bytes, .. } => *bytes,
        }
    }

    fn foreign(&self) -> Option<&Deferred> {
        match self {
            Work::Object(d) if d.kind == "foreign key" => Some(d),
            _ => None,
        }
    }

    /// The locks it takes; `None`: unknown (a foreign key deferred before its referenced table
    /// was recorded), so it runs alone.
    fn locks(&self) -> Option<Vec<Lock<'_>>> {
        let own = |shared| Lock {
            table: self.table(),
            shared,
        };
        match self {
            Work::Object(d) if d.kind == "index" => Some(vec![own(true)]),
            Work::Object(d) if d.kind == "foreign key" => {
                let referenced = d.references.as_deref()?;
                Some(vec![
                    own(false),
                    Lock {
                        table: referenced,
                        shared: false,
                    },
                ])
            }
            _ => Some(vec![own(false)]),
        }
    }

    fn collides(&self, other: &Work) -> bool {
        let (Some(a), Some(b)) = (self.locks(), other.locks()) else {
            return true;
        };
        a.iter().any(|x| {
            b.iter()
                .any(|y| x.table == y.table && !(x.shared && y.shared))
        })
    }
}

/// The rebuild as a graph: each piece with what must be done before it, and its priority (the
/// table bytes on the longest chain from it to the end, counting the foreign keys that reference
/// one table as a chain).
struct Plan {
    work: Vec<Work>,
    needs: Vec<Vec<usize>>,
    priority: Vec<u64>,
}

impl Plan {
    fn new(objects: Vec<Deferred>, tables: &[(String, u64)]) -> Plan {
        let mut work: Vec<Work> = objects.into_iter().map(Work::Object).collect();
        work.extend(tables.iter().map(|(table, bytes)| Work::Analyze {
            table: table.clone(),
            bytes: *bytes,
        }));
        let analyze: HashMap<&str, usize> = work
            .iter()
            .enumerate()
            .filter(|(_, w)| matches!(w, Work::Analyze { .. }))
            .map(|(i, w)| (w.table(), i))
            .collect();
        let keys_of = |table: &str| -> Vec<usize> {
            work.iter()
                .enumerate()
                .filter(|(_, w)| matches!(w, Work::Object(d) if d.kind != "foreign key" && d.table == table))
                .map(|(i, _)| i)
                .collect()
        };
        let needs: Vec<Vec<usize>> = work
            .iter()
            .map(|w| match w {
                // Statistics once the table's keys and indexes are back (expression indexes
                // have statistics of their own).
                Work::Analyze { table, .. } => keys_of(table),
                // A foreign key needs the key it references and, for its plan, both tables'
                // statistics; one whose referenced table is unknown waits for every ANALYZE.
                Work::Object(d) if d.kind == "foreign key" => match d.references.as_deref() {
                    Some(referenced) => [d.table.as_str(), referenced]
                        .iter()
                        .flat_map(|t| match analyze.get(t) {
                            Some(&a) => vec![a],
                            None => keys_of(t),
                        })
                        .collect(),
                    None => analyze.values().copied().collect(),
                },
                Work::Object(_) => Vec::new(),
            })
            .collect();
        let mut priority = vec![0u64; work.len()];
        // Dependents always come later in a topological order; the needs above only ever point
        // from foreign keys to ANALYZE to keys, so three passes in that order settle it.
        let rank = |w: &Work| match w {
            Work::Object(d) if d.kind == "foreign key" => 0,
            Work::Analyze { .. } => 1,
            Work::Object(_) => 2,
        };
        let mut order: Vec<usize> = (0..work.len()).collect();
        order.sort_by_key(|&i| rank(&work[i]));
        for &i in &order {
            let dependents: Vec<usize> =
                (0..work.len()).filter(|&j| needs[j].contains(&i)).collect();
            let longest = dependents.iter().map(|&j| priority[j]).max().unwrap_or(0);
            // The foreign keys that reference a table run one after another (their locks
            // collide): after its ANALYZE, the chain is their sum.
            let serial: u64 = match &work[i] {
                Work::Analyze { table, .. } => dependents
                    .iter()
                    .filter(|&&j| {
                        work[j].foreign().and_then(|d| d.references.as_deref()) == Some(table)
                    })
                    .map(|&j| priority[j])
                    .sum(),
                Work::Object(_) => 0,
            };
            priority[i] = work[i].bytes() + longest.max(serial);
        }
        Plan {
            work,
            needs,
            priority,
        }
    }
}

/// Rebuilds the deferred keys, indexes and foreign keys and ANALYZEs those of `tables`
/// (qualified names) the seed run `run` has not analyzed yet, `jobs` at a time; says how long
/// each took (slowest first). A rebuild whose server goes away (a restart, a terminated backend)
/// is tried again like a chunk, `warn` told: each is one transaction that also removes its
/// deferral record (or, for ANALYZE, writes its record), so a crash undoes all of it and a
/// repeated one finds nothing left to do.
pub async fn rebuild(
    pool: &PgPool,
    run: uuid::Uuid,
    jobs: usize,
    tables: &[String],
    warn: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Rebuild>> {
    let objects = postgres::deferred(pool).await?;
    let analyzed = postgres::analyzed(pool, run).await?;
    let tables: Vec<String> = tables
        .iter()
        .filter(|t| !analyzed.contains(*t))
        .cloned()
        .collect();
    let sized = postgres::table_sizes(pool, &tables).await?;
    let plan = Arc::new(Plan::new(objects, &sized));
    let mut pending: Vec<usize> = (0..plan.work.len()).collect();
    pending.sort_by_key(|&i| std::cmp::Reverse(plan.priority[i]));
    let mut done = vec![false; plan.work.len()];
    let mut running: Vec<usize> = Vec::new();
    let mut tasks = FuturesUnordered::new();
    let mut rebuilds = Vec::with_capacity(plan.work.len());
    loop {
        while running.len() < jobs.max(1) {
            let Some(at) = pending.iter().position(|&i| {
                plan.needs[i].iter().all(|&n| done[n])
                    && running
                        .iter()
                        .all(|&r| !plan.work[i].collides(&plan.work[r]))
            }) else {
                break;
            };
            let i = pending.remove(at);
            running.push(i);
            let plan = plan.clone();
            tasks.push(async move {
                let started = Instant::now();
                let result = super::retrying_when_gone(warn, |_| async {
                    match &plan.work[i] {
                        Work::Object(d) => postgres::restore(pool, &d.name).await,
                        Work::Analyze { table, .. } => postgres::analyze(pool, run, table).await,
                    }
                })
                .await;
                (i, started.elapsed().as_secs_f64(), result)
            });
        }
        let Some((i, seconds, result)) = tasks.next().await else {
            break;
        };
        result?;
        done[i] = true;
        running.retain(|&r| r != i);
        rebuilds.push(match &plan.work[i] {
            Work::Object(d) => Rebuild {
                seconds,
                name: d.name.clone(),
                kind: d.kind.clone(),
                table: d.table.clone(),
                table_bytes: d.table_bytes,
            },
            Work::Analyze { table, bytes } => Rebuild {
                seconds,
                name: table.clone(),
                kind: "analyze".into(),
                table: table.clone(),
                table_bytes: *bytes,
            },
        });
    }
    // Nothing runs, so nothing collides: what is left waits only on work still pending, and the
    // needs never loop (foreign key → ANALYZE → key).
    assert!(pending.is_empty(), "the rebuild's needs loop");
    rebuilds.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    Ok(rebuilds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, kind: &str, table: &str, references: Option<&str>, mb: u64) -> Deferred {
        Deferred {
            name: name.into(),
            kind: kind.into(),
            table: table.into(),
            references: references.map(Into::into),
            table_bytes: mb << 20,
        }
    }

    fn plan() -> Plan {
        Plan::new(
            vec![
                object("orders_pkey", "key", "shop.orders", None, 50),
                object("orders_user_idx", "index", "shop.orders", None, 50),
                object("items_pkey", "key", "shop.items", None, 80),
                object("items_order_idx", "index", "shop.items", None, 80),
                object(
                    "items_fk",
                    "foreign key",
                    "shop.items",
                    Some("shop.orders"),
                    80,
                ),
                object(
                    "history_fk",
                    "foreign key",
                    "shop.history",
                    Some("shop.orders"),
                    90,
                ),
                object("old_fk", "foreign key", "shop.notes", None, 1),
            ],
            &[
                ("shop.orders".into(), 50 << 20),
                ("shop.items".into(), 80 << 20),
                ("shop.history".into(), 90 << 20),
                ("shop.notes".into(), 1 << 20),
            ],
        )
    }

    fn at(p: &Plan, name: &str) -> usize {
        p.work
            .iter()
            .position(|w| match w {
                Work::Object(d) => d.name == name,
                Work::Analyze { table, .. } => format!("analyze {table}") == name,
            })
            .unwrap()
    }

    #[test]
    fn locks_collide_unless_both_are_shared() {
        let p = plan();
        let w = |n| &p.work[at(&p, n)];
        // Two index builds of one table share it; a key and an index of it do not.
        assert!(!w("orders_user_idx").collides(w("orders_user_idx")));
        assert!(w("orders_pkey").collides(w("orders_user_idx")));
        // Foreign keys that reference the same table never run together; a foreign key blocks
        // the indexes of both its tables and their ANALYZE.
        assert!(w("items_fk").collides(w("history_fk")));
        assert!(w("history_fk").collides(w("orders_user_idx")));
        assert!(w("items_fk").collides(w("analyze shop.items")));
        assert!(!w("history_fk").collides(w("items_order_idx")));
        // One whose referenced table is unknown runs alone.
        assert!(w("old_fk").collides(w("analyze shop.history")));
    }

    #[test]
    fn foreign_keys_wait_for_keys_and_statistics_and_what_unblocks_most_goes_first() {
        let p = plan();
        let needs = |n| {
            let mut v: Vec<usize> = p.needs[at(&p, n)].clone();
            v.sort();
            v
        };
        let mut both = vec![at(&p, "analyze shop.items"), at(&p, "analyze shop.orders")];
        both.sort();
        assert_eq!(needs("items_fk"), both);
        let mut keys = vec![at(&p, "orders_pkey"), at(&p, "orders_user_idx")];
        keys.sort();
        assert_eq!(needs("analyze shop.orders"), keys);
        assert_eq!(needs("old_fk").len(), 4);
        // orders is the smallest table, but two foreign keys wait for it, one after the other:
        // its key outranks the larger items' index (50 + 50 + (80 + 90) against 80 + 80 + 80).
        let pr = |n| p.priority[at(&p, n)];
        assert!(pr("orders_pkey") > pr("items_order_idx"));
        assert!(pr("orders_pkey") > pr("items_fk"));
    }
}
