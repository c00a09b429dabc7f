//! The planner, as far as row order needs it: which access path a scan takes decides the order
//! in which its rows are emitted, and so the order in which they are locked.
//!
//! The choices are PostgreSQL 15's for the tables lessons and specs use: small, freshly
//! created and never analyzed, so the planner assumes ten pages of rows and a unique index
//! matches one row per key. On such a table (checked with EXPLAIN):
//! - `key = constant` (and `key IN (constant)`, which the parser turns into `=`) is an **Index
//!   Scan**: rows in key order;
//! - `key IN (a, b, ...)` with two or more constants, an OR of such conditions, or a range
//!   (`key > c`, `BETWEEN`) is a **Bitmap Heap Scan**: the bitmap index scan collects the TIDs
//!   the index entries point to, and the heap is visited in TID order. An index entry points
//!   to the root of a HOT chain, so a row whose non-key columns were updated in place (a
//!   heap-only tuple on the same page) is met where its first version sits;
//! - anything else (`<>`, NOT IN, conditions on unindexed columns, no WHERE) is a **Seq
//!   Scan**: every tuple in physical order, a HOT-updated row where its newest version sits.

use crate::server::eval::coerce;
use crate::server::storage::{ctid, Table, Value};
use crate::sql::{BinOp, Expr};
use std::cmp::Ordering;

/// A condition on one indexed column that an index scan can use.
#[derive(Clone, Debug, PartialEq)]
enum KeyCond {
    /// `column = value`.
    Eq(Value),
    /// `column IN (values)`, two or more of them.
    In(Vec<Value>),
    /// `column op value` for `<`, `<=`, `>`, `>=`.
    Cmp(BinOp, Value),
    /// Both hold.
    And(Box<KeyCond>, Box<KeyCond>),
    /// Either holds.
    Or(Box<KeyCond>, Box<KeyCond>),
}

impl KeyCond {
    fn matches(&self, v: &Value) -> bool {
        match self {
            KeyCond::Eq(k) => v.compare(k) == Some(Ordering::Equal),
            KeyCond::In(ks) => ks.iter().any(|k| v.compare(k) == Some(Ordering::Equal)),
            KeyCond::Cmp(op, k) => v.compare(k).is_some_and(|o| match op {
                BinOp::Lt => o == Ordering::Less,
                BinOp::LtEq => o != Ordering::Greater,
                BinOp::Gt => o == Ordering::Greater,
                BinOp::GtEq => o != Ordering::Less,
                _ => false,
            }),
            KeyCond::And(a, b) => a.matches(v) && b.matches(v),
            KeyCond::Or(a, b) => a.matches(v) || b.matches(v),
        }
    }

    /// The keys of an equality at the top level or in an AND: such a scan is an Index Scan.
    fn equality(&self) -> Option<&Value> {
        match self {
            KeyCond::Eq(k) => Some(k),
            KeyCond::And(a, b) => a.equality().or_else(|| b.equality()),
            _ => None,
        }
    }
}

/// The access path of a scan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AccessPath {
    /// Index Scan for one key: the versions of that key, HOT chains in root order.
    Index(Value),
    /// Bitmap Heap Scan: the tuples whose key matches, in the order of their HOT-chain roots.
    Bitmap,
    /// Seq Scan: every tuple in physical order.
    Seq,
}

/// The access path PostgreSQL 15 takes for `filter` on `t`, and the heap indexes it visits,
/// in order. The caller still checks visibility and the whole WHERE clause on each.
pub(crate) fn plan_scan(t: &Table, filter: Option<&Expr>) -> (AccessPath, Vec<usize>) {
    let Some(f) = filter else {
        return (AccessPath::Seq, (0..t.heap.len()).collect());
    };
    let mut bitmap = None;
    for ix in &t.indexes {
        let [col] = ix.columns[..] else {
            continue;
        };
        let Some(cond) = key_cond(f, t, col) else {
            continue;
        };
        if let Some(key) = cond.equality() {
            let key = key.clone();
            let order = heap_order_by_root(t, |v| v[col].compare(&key) == Some(Ordering::Equal));
            return (AccessPath::Index(key), order);
        }
        if bitmap.is_none() {
            bitmap = Some((col, cond));
        }
    }
    match bitmap {
        Some((col, cond)) => (
            AccessPath::Bitmap,
            heap_order_by_root(t, |v| cond.matches(&v[col])),
        ),
        None => (AccessPath::Seq, (0..t.heap.len()).collect()),
    }
}

/// For each heap index, the heap index of the root of its HOT chain: an UPDATE that changes
/// no indexed column and writes the new version on the same page is heap-only, and the index
/// keeps pointing at the chain's first version.
pub(crate) fn hot_roots(t: &Table) -> Vec<usize> {
    let mut root: Vec<usize> = (0..t.heap.len()).collect();
    // An UPDATE appends, so a version's successor always comes later in the heap.
    for i in 0..t.heap.len() {
        let Some(j) = t.heap[i].next else {
            continue;
        };
        let (Some(old), Some(new)) = (t.heap.get(i), t.heap.get(j)) else {
            continue;
        };
        let same_page = ctid(i).0 == ctid(j).0;
        let keys_unchanged = t
            .indexes
            .iter()
            .flat_map(|ix| ix.columns.iter())
            .all(|&c| old.values.get(c) == new.values.get(c));
        if j > i && same_page && keys_unchanged {
            root[j] = root[i];
        }
    }
    root
}

/// The heap indexes of tuples whose values satisfy `keep`, ordered as a scan through the index
/// meets them: by the TID of their HOT chain's root, then along the chain.
fn heap_order_by_root(t: &Table, keep: impl Fn(&[Value]) -> bool) -> Vec<usize> {
    let roots = hot_roots(t);
    let mut out: Vec<usize> = (0..t.heap.len())
        .filter(|&i| keep(&t.heap[i].values))
        .collect();
    crate::order::sort_by_key(&mut out, |&i| (roots[i], i));
    out
}

/// The condition `filter` puts on column `col` that an index on it can use, if any.
fn key_cond(filter: &Expr, t: &Table, col: usize) -> Option<KeyCond> {
    let column = &t.columns[col];
    let is_col = |e: &Expr| matches!(e, Expr::Column(q, c) if *c == column.name && q.as_deref().is_none_or(|q| q == t.name));
    let constant = |e: &Expr| -> Option<Value> {
        let raw = match e {
            // `key = NULL` matches nothing; PostgreSQL folds it away.
            Expr::Null => return Some(Value::Null),
            Expr::Int(n) => Value::Int(*n),
            Expr::Str(s) => Value::Text(s.clone()),
            Expr::Cast(inner, _) => match inner.as_ref() {
                Expr::Int(n) => Value::Int(*n),
                Expr::Str(s) => Value::Text(s.clone()),
                _ => return None,
            },
            _ => return None,
        };
        coerce(raw, column.ty, "").ok()
    };
    match filter {
        Expr::Binary(
            op @ (BinOp::Eq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq),
            l,
            r,
        ) => {
            let (value, op) = if is_col(l) {
                (constant(r)?, *op)
            } else if is_col(r) {
                (constant(l)?, flip(*op))
            } else {
                return None;
            };
            Some(match op {
                BinOp::Eq => KeyCond::Eq(value),
                op => KeyCond::Cmp(op, value),
            })
        }
        Expr::InList(e, list, false) if is_col(e) => {
            let values: Vec<Value> = list.iter().map(constant).collect::<Option<_>>()?;
            match <[Value; 1]>::try_from(values) {
                Ok([one]) => Some(KeyCond::Eq(one)),
                Err(values) => Some(KeyCond::In(values)),
            }
        }
        Expr::Binary(BinOp::And, l, r) => match (key_cond(l, t, col), key_cond(r, t, col)) {
            (Some(a), Some(b)) => Some(KeyCond::And(Box::new(a), Box::new(b))),
            (a, b) => a.or(b),
        },
        Expr::Binary(BinOp::Or, l, r) => Some(KeyCond::Or(
            Box::new(key_cond(l, t, col)?),
            Box::new(key_cond(r, t, col)?),
        )),
        _ => None,
    }
}

/// `c op column` is `column flip(op) c`.
fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::LtEq => BinOp::GtEq,
        BinOp::Gt => BinOp::Lt,
        BinOp::GtEq => BinOp::LtEq,
        op => op,
    }
}
