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
//!
//! A foreign key into a large table ([`postgres::SPLIT_REFERENCED_BYTES`]) is validated one
//! partition of its table at a time first (migration 0017: ROW SHARE on the referenced table,
//! which does not conflict across foreign keys), so the ones into `orders` and `payments` no
//! longer wait for each other; the foreign key itself then only attaches them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use sqlx::PgPool;

use super::postgres::{self, Deferred, FkPartition};
use crate::error::Result;
use results::seed::Rebuild;

/// One piece of the rebuild.
#[derive(Debug, Clone)]
enum Work {
    /// A deferred key, index or foreign key (of a partitioned table: attaching what its
    /// partitions' validations left, and validating the rest).
    Object(Deferred),
    /// ANALYZE of a table (partitions included).
    Analyze { table: String, bytes: u64 },
    /// A deferred foreign key validated on one partition of its table (migration 0017), before
    /// the foreign key itself.
    Partition { key: Deferred, part: FkPartition },
}

/// A lock a rebuild takes on a table, or on one partition of it: SHARE (`CREATE INDEX`) is
/// compatible with itself; ADD CONSTRAINT (ACCESS EXCLUSIVE for a key, SHARE ROW EXCLUSIVE for a
/// foreign key, on both tables) and ANALYZE (SHARE UPDATE EXCLUSIVE) conflict with every rebuild
/// of the same table. A foreign key validated on a partition takes SHARE UPDATE EXCLUSIVE on the
/// partition and ROW SHARE on the referenced table, which conflicts only with a foreign key added
/// whole (it briefly takes SHARE ROW EXCLUSIVE to add the partition's constraint, which waits at
/// most for a short rebuild of the referenced table, none of which remain by then).
#[derive(Debug, Clone, PartialEq)]
struct Lock<'a> {
    table: &'a str,
    /// `None`: the whole table.
    partition: Option<&'a str>,
    shared: bool,
}

impl Lock<'_> {
    fn collides(&self, other: &Lock) -> bool {
        self.table == other.table
            && !(self.shared && other.shared)
            && (self.partition.is_none()
                || other.partition.is_none()
                || self.partition == other.partition)
    }
}

impl Work {
    fn table(&self) -> &str {
        match self {
            Work::Object(d) | Work::Partition { key: d, .. } => &d.table,
            Work::Analyze { table, .. } => table,
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Work::Object(d) => d.table_bytes,
            Work::Analyze { bytes, .. } => *bytes,
            Work::Partition { part, .. } => part.bytes,
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
            partition: None,
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
                        partition: None,
                        shared: false,
                    },
                ])
            }
            Work::Partition { key, part } => Some(vec![
                Lock {
                    table: &key.table,
                    partition: Some(&part.partition),
                    shared: false,
                },
                Lock {
                    table: key.references.as_deref()?,
                    partition: None,
                    shared: true,
                },
            ]),
            _ => Some(vec![own(false)]),
        }
    }

    fn collides(&self, other: &Work) -> bool {
        let (Some(a), Some(b)) = (self.locks(), other.locks()) else {
            return true;
        };
        a.iter().any(|x| b.iter().any(|y| x.collides(y)))
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
    fn new(objects: Vec<Deferred>, tables: &[(String, u64)], parts: Vec<FkPartition>) -> Plan {
        let mut work: Vec<Work> = Vec::new();
        for part in parts {
            let key = objects
                .iter()
                .find(|d| d.name == part.key && d.kind == "foreign key" && d.references.is_some());
            if let Some(key) = key {
                work.push(Work::Partition {
                    key: key.clone(),
                    part,
                });
            }
        }
        work.extend(objects.into_iter().map(Work::Object));
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
        // A foreign key needs the key it references and, for its plan, both tables' statistics;
        // one whose referenced table is unknown waits for every ANALYZE.
        let before_foreign_key = |d: &Deferred| -> Vec<usize> {
            match d.references.as_deref() {
                Some(referenced) => [d.table.as_str(), referenced]
                    .iter()
                    .flat_map(|t| match analyze.get(t) {
                        Some(&a) => vec![a],
                        None => keys_of(t),
                    })
                    .collect(),
                None => analyze.values().copied().collect(),
            }
        };
        // Each foreign key's partition validations (`work` holds them first).
        let mut partitions_of: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in work.iter().enumerate() {
            if let Work::Partition { key, .. } = w {
                partitions_of.entry(key.name.as_str()).or_default().push(i);
            }
        }
        let partitions_of = |name: &str| partitions_of.get(name).cloned().unwrap_or_default();
        let needs: Vec<Vec<usize>> = work
            .iter()
            .map(|w| match w {
                // Statistics once the table's keys and indexes are back (expression indexes
                // have statistics of their own).
                Work::Analyze { table, .. } => keys_of(table),
                Work::Partition { key, .. } => before_foreign_key(key),
                // The foreign key itself once its partitions are validated: it attaches them.
                Work::Object(d) if d.kind == "foreign key" => {
                    let mut needs = before_foreign_key(d);
                    needs.extend(partitions_of(&d.name));
                    needs
                }
                Work::Object(_) => Vec::new(),
            })
            .collect();
        // What each piece costs, in table bytes: a foreign key whose partitions are validated on
        // their own only validates what they leave (empty partitions).
        let weight: Vec<u64> = work
            .iter()
            .map(|w| match w {
                Work::Object(d) if d.kind == "foreign key" => {
                    let parts: u64 = partitions_of(&d.name)
                        .iter()
                        .map(|&p| work[p].bytes())
                        .sum();
                    d.table_bytes.saturating_sub(parts)
                }
                w => w.bytes(),
            })
            .collect();
        let mut priority = vec![0u64; work.len()];
        // Dependents always come later in a topological order; the needs above only ever point
        // from foreign keys to their partitions, ANALYZE or keys, from partitions to ANALYZE or
        // keys, and from ANALYZE to keys, so four passes in that order settle it.
        let rank = |w: &Work| match w {
            Work::Object(d) if d.kind == "foreign key" => 0,
            Work::Partition { .. } => 1,
            Work::Analyze { .. } => 2,
            Work::Object(_) => 3,
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
                Work::Object(_) | Work::Partition { .. } => 0,
            };
            priority[i] = weight[i] + longest.max(serial);
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
    split_bytes: i64,
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
    let parts = postgres::fk_partitions(pool, split_bytes).await?;
    let plan = Arc::new(Plan::new(objects, &sized, parts));
    let mut pending: Vec<usize> = (0..plan.work.len()).collect();
    pending.sort_by_key(|&i| std::cmp::Reverse(plan.priority[i]));
    let mut done = vec![false; plan.work.len()];
    let mut running: Vec<usize> = Vec::new();
    let mut tasks = FuturesUnordered::new();
    let mut rebuilds = Vec::with_capacity(plan.work.len());
    let mut partitions: HashMap<String, f64> = HashMap::new();
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
                        Work::Partition { key, part } => {
                            postgres::validate_on(pool, &key.name, &part.partition).await
                        }
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
            // Said as part of its foreign key.
            Work::Partition { key, .. } => {
                *partitions.entry(key.name.clone()).or_default() += seconds;
                continue;
            }
            Work::Object(d) => Rebuild {
                // A foreign key's time includes its partitions' validations.
                seconds: seconds + partitions.get(&d.name).copied().unwrap_or(0.0),
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
        plan_with(true)
    }

    /// With `partitioned`, history's foreign key is validated on two partitions first.
    fn plan_with(partitioned: bool) -> Plan {
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
            ["shop.history_p1", "shop.history_p2"]
                .iter()
                .filter(|_| partitioned)
                .map(|p| FkPartition {
                    key: "history_fk".into(),
                    partition: p.to_string(),
                    bytes: 40 << 20,
                })
                .collect(),
        )
    }

    fn at(p: &Plan, name: &str) -> usize {
        p.work
            .iter()
            .position(|w| match w {
                Work::Object(d) => d.name == name,
                Work::Analyze { table, .. } => format!("analyze {table}") == name,
                Work::Partition { part, .. } => part.partition == name,
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
        // Validated on a partition, a foreign key shares the referenced table with another
        // partition's validation and with index builds, but not with a foreign key added whole;
        // it has its partition to itself, and waits for anything on the whole table.
        assert!(!w("shop.history_p1").collides(w("shop.history_p2")));
        assert!(!w("shop.history_p1").collides(w("orders_user_idx")));
        assert!(w("shop.history_p1").collides(w("items_fk")));
        assert!(w("shop.history_p1").collides(w("shop.history_p1")));
        assert!(w("shop.history_p1").collides(w("analyze shop.history")));
        assert!(w("shop.history_p1").collides(w("history_fk")));
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
        // A partition's validation waits as its foreign key would; the foreign key, which then
        // only attaches them, waits for its partitions too.
        let mut stats = vec![
            at(&p, "analyze shop.history"),
            at(&p, "analyze shop.orders"),
        ];
        stats.sort();
        assert_eq!(needs("shop.history_p1"), stats);
        let mut attach = stats.clone();
        attach.extend([at(&p, "shop.history_p1"), at(&p, "shop.history_p2")]);
        attach.sort();
        assert_eq!(needs("history_fk"), attach);
        // orders is the smallest table, but two foreign keys added whole wait for it, one after
        // the other: its key outranks the larger items' index (50 + 50 + (80 + 90) against
        // 80 + 80 + 80).
        let whole = plan_with(false);
        let pr = |n| whole.priority[at(&whole, n)];
        assert_eq!(pr("orders_pkey"), (50 + 50 + 80 + 90) << 20);
        assert!(pr("orders_pkey") > pr("items_order_idx"));
        assert!(pr("orders_pkey") > pr("items_fk"));
        // Validated partition by partition, history's foreign key no longer waits behind
        // items': 50 + 50 + (80 + 10) against the same 80 + 80 + 80.
        let pr = |n| p.priority[at(&p, n)];
        assert_eq!(pr("orders_pkey"), (50 + 50 + 80 + 10) << 20);
        assert!(pr("orders_pkey") < pr("items_order_idx"));
        // history's foreign key weighs only what its partitions leave (90 - 2 × 40 MB), and a
        // partition, its own size and the foreign key's after it.
        assert_eq!(pr("history_fk"), 10 << 20);
        assert_eq!(pr("shop.history_p1"), 50 << 20);
    }
}
