//! What the world and the UI read of the server: the wait-for edges between backends, the
//! tables with their tuple versions, the locks, and names for rows and tables.

use super::*;

/// One edge of the wait-for graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitEdge {
    /// The waiting backend.
    pub waiter: Pid,
    /// The backend it waits for.
    pub blocker: Pid,
    /// The lock.
    pub tag: LockTag,
    /// The mode the waiter asked for.
    pub mode: LockMode,
    /// True when the blocker holds a conflicting lock; false when it is only ahead in the queue
    /// with a conflicting request (a "soft" edge, which queue reordering can remove).
    pub hard: bool,
}

/// A table as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableView {
    /// The table's name.
    pub name: String,
    /// Its OID.
    pub oid: u32,
    /// Column names.
    pub columns: Vec<String>,
    /// Every tuple version in heap order, dead ones included.
    pub tuples: Vec<TupleView>,
}

/// A tuple version as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TupleView {
    /// Its ctid (block, offset).
    pub ctid: (u32, u16),
    /// The inserting transaction.
    pub xmin: Xid,
    /// The xmax entries: lockers and the updater/deleter.
    pub xmax: Vec<XmaxView>,
    /// The values as text.
    pub values: Vec<Option<String>>,
    /// Whether a new snapshot would see it: inserted by a committed transaction and not
    /// deleted or updated by one.
    pub live: bool,
    /// Whether an aborted transaction inserted it (it will never be visible).
    pub aborted: bool,
    /// Backends waiting to lock, update or delete this version (or for its key), in the
    /// order they started waiting.
    pub waiters: Vec<Pid>,
}

/// One xmax entry as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct XmaxView {
    /// The transaction.
    pub xid: Xid,
    /// The backend running it, if still running.
    pub pid: Option<Pid>,
    /// The row-lock strength.
    pub strength: RowLockStrength,
    /// True for the updater/deleter.
    pub update: bool,
    /// True while the transaction runs (an ended locker no longer locks anything).
    pub active: bool,
}

/// A heavyweight lock as `pg_locks` would show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LockView {
    /// The lock.
    pub tag: LockTag,
    /// For relation and tuple locks, the table's name.
    pub relation: Option<String>,
    /// Holders and the modes they hold.
    pub holders: Vec<(Pid, LockMode)>,
    /// Waiters in queue order with the mode they want.
    pub waiters: Vec<(Pid, LockMode)>,
}

impl Server {
    /// Who waits for whom and why, derived from the lock manager: hard edges to holders of
    /// conflicting modes, soft edges to earlier waiters with conflicting requests.
    pub fn wait_edges(&self) -> Vec<WaitEdge> {
        let mut out = Vec::new();
        for (pid, (tag, mode)) in &self.locks.waiting {
            let hard = self.locks.hard_blockers(*pid, tag, *mode);
            for b in &hard {
                out.push(WaitEdge {
                    waiter: *pid,
                    blocker: *b,
                    tag: *tag,
                    mode: *mode,
                    hard: true,
                });
            }
            if let Some(lock) = self.locks.locks.get(tag) {
                for q in &lock.queue {
                    if q.pid == *pid {
                        break;
                    }
                    if locks::conflicts(*mode, q.mode) && !hard.contains(&q.pid) {
                        out.push(WaitEdge {
                            waiter: *pid,
                            blocker: q.pid,
                            tag: *tag,
                            mode: *mode,
                            hard: false,
                        });
                    }
                }
            }
        }
        out
    }

    /// Tables with every tuple version, for the UI.
    pub fn tables(&self) -> Vec<TableView> {
        self.tables_first(usize::MAX)
            .into_iter()
            .map(|(table, _)| table)
            .collect()
    }

    /// Tables with their first `versions_max` tuple versions in heap order, each with how many
    /// versions it has in all: a view whose cost does not grow with the heap.
    pub fn tables_first(&self, versions_max: usize) -> Vec<(TableView, usize)> {
        let mut v: Vec<&Table> = self.tables.values().collect();
        crate::order::sort_by_key(&mut v, |t| t.oid);
        v.into_iter()
            .map(|t| {
                (
                    TableView {
                        name: t.name.clone(),
                        oid: t.oid,
                        columns: t.columns.iter().map(|c| c.name.clone()).collect(),
                        tuples: t
                            .heap
                            .iter()
                            .take(versions_max)
                            .enumerate()
                            .map(|(i, tup)| {
                                let mut view = self.tuple_view(i, tup);
                                let mut waiters: Vec<(Instant, Pid)> = self
                                    .sessions
                                    .values()
                                    .filter_map(|s| s.wait.as_ref().map(|w| (s.pid, w)))
                                    .filter(|(_, w)| {
                                        w.row.as_ref().is_some_and(|(name, c)| {
                                            *name == t.name && *c == view.ctid
                                        })
                                    })
                                    .map(|(pid, w)| (w.since, pid))
                                    .collect();
                                crate::order::sort(&mut waiters);
                                view.waiters = waiters.into_iter().map(|(_, p)| p).collect();
                                view
                            })
                            .collect(),
                    },
                    t.heap.len(),
                )
            })
            .collect()
    }

    /// Tuple versions in every table's heap together: what a copy of the server costs, roughly.
    pub fn tuple_versions(&self) -> usize {
        self.tables.values().map(|t| t.heap.len()).sum()
    }

    /// Heavyweight locks like `pg_locks`, for the UI (row locks are in [`Server::tables`]).
    pub fn locks(&self) -> Vec<LockView> {
        self.locks
            .locks
            .iter()
            .map(|(tag, lock)| {
                let relation = match tag {
                    LockTag::Relation { rel } | LockTag::Tuple { rel, .. } => self
                        .tables
                        .values()
                        .find(|t| t.oid == *rel)
                        .map(|t| t.name.clone()),
                    _ => None,
                };
                let mut holders = Vec::new();
                for p in &lock.procs {
                    for h in &p.holds {
                        if !holders.contains(&(p.pid, h.mode)) {
                            holders.push((p.pid, h.mode));
                        }
                    }
                }
                LockView {
                    tag: *tag,
                    relation,
                    holders,
                    waiters: lock.queue.iter().map(|w| (w.pid, w.mode)).collect(),
                }
            })
            .collect()
    }

    /// The statement the backend runs (or ran last), like `pg_stat_activity.query`.
    pub fn current_query(&self, pid: Pid) -> Option<&str> {
        self.sessions
            .get(&pid)
            .map(|s| s.activity.as_str())
            .filter(|q| !q.is_empty())
    }

    /// A row as a learner names it: its table and primary-key value, like `widget 3` (the
    /// values of a composite key joined by commas). `None` when the table or the tuple version
    /// does not exist; a table without a primary key is named by the ctid.
    pub fn row_label(&self, table: &str, ctid: (u32, u16)) -> Option<String> {
        let t = self.tables.get(table)?;
        let index =
            (ctid.0 as usize) * storage::TUPLES_PER_PAGE + (ctid.1 as usize).checked_sub(1)?;
        let tuple = t.heap.get(index)?;
        match t.indexes.iter().find(|i| i.primary) {
            Some(pk) => {
                let key: Vec<String> = pk
                    .columns
                    .iter()
                    .map(|&c| {
                        tuple
                            .values
                            .get(c)
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                Some(format!("{table} {}", key.join(", ")))
            }
            None => Some(format!("row ({},{}) of {table}", ctid.0, ctid.1)),
        }
    }

    /// The name of the table with this OID.
    pub fn table_name(&self, oid: u32) -> Option<&str> {
        self.tables
            .values()
            .find(|t| t.oid == oid)
            .map(|t| t.name.as_str())
    }
}
