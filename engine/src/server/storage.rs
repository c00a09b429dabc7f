//! Tables as PostgreSQL stores them: a heap of tuple versions in physical order. An UPDATE
//! never changes a tuple in place; it marks the old version with its xid (xmax) and appends a
//! new version at the end of the heap, which is why a sequential scan's order changes after
//! updates.
//!
//! Row locks live in the tuple too, as PostgreSQL keeps them in xmax: [`Tuple::xmax`] lists
//! the transactions that lock or updated/deleted the version (one entry is PostgreSQL's plain
//! xmax, several are a MultiXact).

use super::{Pid, TableView, Xid};
use crate::sql::{Expr, RowLockStrength, SqlType};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// A SQL value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer (int, bigint, and integral numeric).
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// The result of a `void` function such as `pg_advisory_lock()`: prints as an empty string.
    Void,
}

impl Value {
    /// The value as PostgreSQL's text output prints it; `None` for NULL.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Int(n) => Some(n.to_string()),
            Value::Text(s) => Some(s.clone()),
            Value::Bool(b) => Some(if *b { "t" } else { "f" }.to_string()),
            Value::Void => Some(String::new()),
        }
    }

    /// SQL comparison; `None` when either side is NULL (or the types do not compare).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Text(b)) => b.trim().parse::<i64>().ok().map(|b| a.cmp(&b)),
            (Value::Text(a), Value::Int(b)) => a.trim().parse::<i64>().ok().map(|a| a.cmp(b)),
            _ => None,
        }
    }

    /// Ordering for ORDER BY: NULLs sort last, as in PostgreSQL's ascending order.
    pub fn sort_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Greater,
            (_, Value::Null) => Ordering::Less,
            _ => self.compare(other).unwrap_or(Ordering::Equal),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_text() {
            Some(s) => f.write_str(&s),
            None => f.write_str("NULL"),
        }
    }
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
    /// NOT NULL.
    pub not_null: bool,
    /// DEFAULT expression.
    pub default: Option<Expr>,
}

/// A unique index (primary key or UNIQUE constraint).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Index {
    /// Its name, as PostgreSQL would name it (`t_pkey`, `t_col_key`).
    pub name: String,
    /// Positions of its key columns.
    pub columns: Vec<usize>,
    /// True for the primary key.
    pub primary: bool,
}

/// One xmax entry: a transaction that locked this version, or updated or deleted it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct XmaxMember {
    /// The (sub)transaction.
    pub xid: Xid,
    /// The row-lock strength: the locking clause's, FOR UPDATE for a DELETE or a key-changing
    /// UPDATE, FOR NO KEY UPDATE for other UPDATEs.
    pub mode: RowLockStrength,
    /// True when this member updated or deleted the version (not just locked it).
    pub update: bool,
    /// Command id of the update, so the updating transaction's own later statements stop
    /// seeing the old version but the updating statement itself does not trip over it.
    pub cmax: u32,
}

/// One tuple version in the heap.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tuple {
    /// The (sub)transaction that inserted this version.
    pub xmin: Xid,
    /// Command id of the inserting statement within its transaction.
    pub cmin: u32,
    /// Lockers and the updater/deleter, in the order they came.
    pub xmax: Vec<XmaxMember>,
    /// Heap index of the newer version written by an UPDATE (PostgreSQL's `t_ctid` chain).
    pub next: Option<usize>,
    /// The column values.
    pub values: Vec<Value>,
    /// False while a plain INSERT waits in its unique check: PostgreSQL writes the heap tuple
    /// first and the index entry only once the check passes, so until then other inserters
    /// cannot find this tuple through the index.
    pub indexed: bool,
}

/// How many line pointers we put in one heap page before starting the next block. PostgreSQL's
/// limit depends on tuple width; small tables in lessons never reach it.
pub const TUPLES_PER_PAGE: usize = 226;

/// The ctid `(block, offset)` of the tuple at heap index `i`.
pub fn ctid(i: usize) -> (u32, u16) {
    (
        (i / TUPLES_PER_PAGE) as u32,
        (i % TUPLES_PER_PAGE + 1) as u16,
    )
}

/// A table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Table {
    /// Its OID, as deadlock DETAIL lines print it.
    pub oid: u32,
    /// Its name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Unique indexes, primary key first.
    pub indexes: Vec<Index>,
    /// Tuple versions in physical order.
    pub heap: Vec<Tuple>,
}

impl Table {
    /// The position of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// True when column `col` belongs to some unique index's key ("key columns" decide between
    /// FOR UPDATE and FOR NO KEY UPDATE for an UPDATE).
    pub fn is_key_column(&self, col: usize) -> bool {
        self.indexes.iter().any(|i| i.columns.contains(&col))
    }
}

/// What the UI reads of the heaps.
impl super::Server {
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
        v.sort_by_key(|t| t.oid);
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
                                waiters.sort();
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
}
