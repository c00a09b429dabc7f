//! Scans: visiting a table's rows in plan order, filtering, projecting, sorting and
//! aggregating, for SELECT and for the row-finding part of UPDATE and DELETE.

use super::*;
use crate::server::eval::{self, column_name, is_true, Stop};
use crate::server::event::Event;
use crate::server::integer;
use crate::server::row_ref::RowRef;
use crate::server::storage::Value;
use crate::server::txn::{Snapshot, Viewer};
use crate::server::{PgError, Server, Session, StatementResult};
use crate::sql::{Expr, SelectItem};
use crate::time::Instant;

/// What a projection reads: the table and the alias its columns may be qualified with, and
/// the output expressions.
#[derive(Clone, Copy)]
pub(in crate::server) struct Projection<'a> {
    pub(in crate::server) table: &'a str,
    pub(in crate::server) alias: Option<&'a str>,
    pub(in crate::server) items: &'a [SelectItem],
}

impl Server {
    pub(super) fn run_values(
        &mut self,
        s: &mut Session,
        items: &[SelectItem],
        filter: Option<&Expr>,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        let mut columns = Vec::new();
        let mut row = Vec::new();
        // Split borrows: the tables stay borrowed while a function takes locks.
        let mut functions = FunctionState {
            locks: &mut self.locks,
            woken: &mut self.woken,
            sequences: &mut self.sequences,
        };
        let mut f = |n: &str, a: &[Value]| functions.call(s, n, a, now, events);
        let keep = match filter.map(|e| eval::eval(e, RowRef::empty(), &mut f)) {
            None => true,
            Some(Ok(v)) => is_true(&v),
            Some(Err(Stop::Wait)) => return Flow::Wait,
            Some(Err(Stop::Error(e))) => return Flow::Fail(e),
        };
        for item in items {
            if let SelectItem::Expr(e, alias) = item {
                // A filtered-out row's target list is never computed (no lock is taken).
                if keep {
                    match eval::eval(e, RowRef::empty(), &mut f) {
                        Ok(v) => row.push(v),
                        Err(Stop::Wait) => return Flow::Wait,
                        Err(Stop::Error(e)) => return Flow::Fail(e),
                    }
                }
                columns.push(alias.clone().unwrap_or_else(|| column_name(e)));
            }
        }
        Flow::Done(StatementResult::Rows {
            columns,
            rows: if keep {
                vec![row.iter().map(Value::to_text).collect()]
            } else {
                Vec::new()
            },
        })
    }

    pub(in crate::server) fn viewer<'a>(s: &Session, snapshot: &'a Snapshot) -> Viewer<'a> {
        Viewer {
            snapshot,
            top: s.txn.as_ref().and_then(|t| t.xid),
            cid: s.txn.as_ref().map_or(0, |t| t.cid),
        }
    }

    /// Evaluates the scan's WHERE clause on heap tuple `idx`.
    pub(super) fn filter_matches(
        &mut self,
        s: &mut Session,
        scan: &Scan,
        idx: usize,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, Stop> {
        let Some(filter) = &scan.filter else {
            return Ok(true);
        };
        let Some(t) = self.tables.get(&scan.table) else {
            return Err(PgError::no_such_table(&scan.table).into());
        };
        let row = RowRef {
            table: Some((&t.name, &t.columns)),
            alias: scan.alias.as_deref(),
            values: Some(&t.heap[idx].values),
            excluded: None,
        };
        // Split borrows: the tables stay borrowed while a function takes locks.
        let mut functions = FunctionState {
            locks: &mut self.locks,
            woken: &mut self.woken,
            sequences: &mut self.sequences,
        };
        let mut f = |n: &str, a: &[Value]| functions.call(s, n, a, now, events);
        Ok(is_true(&eval::eval(filter, row, &mut f)?))
    }

    pub(in crate::server) fn project(
        &mut self,
        s: &mut Session,
        projection: Projection,
        values: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Vec<Value>, Stop> {
        let Projection {
            table,
            alias,
            items,
        } = projection;
        let Some(t) = self.tables.get(table) else {
            return Err(PgError::no_such_table(table).into());
        };
        let row = RowRef {
            table: Some((&t.name, &t.columns)),
            alias,
            values: Some(values),
            excluded: None,
        };
        // Split borrows: the tables stay borrowed while a function takes locks.
        let mut functions = FunctionState {
            locks: &mut self.locks,
            woken: &mut self.woken,
            sequences: &mut self.sequences,
        };
        let mut f = |n: &str, a: &[Value]| functions.call(s, n, a, now, events);
        let mut out = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => out.extend(values.iter().cloned()),
                SelectItem::Expr(e, _) => out.push(eval::eval(e, row, &mut f)?),
            }
        }
        Ok(out)
    }

    pub(in crate::server) fn output_columns(
        &self,
        table: &str,
        items: &[SelectItem],
    ) -> Vec<String> {
        let mut cols = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => {
                    if let Some(t) = self.tables.get(table) {
                        cols.extend(t.columns.iter().map(|c| c.name.clone()));
                    }
                }
                SelectItem::Expr(e, alias) => {
                    cols.push(alias.clone().unwrap_or_else(|| column_name(e)))
                }
            }
        }
        cols
    }

    pub(super) fn run_scan(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        snapshot: &Snapshot,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        // A bound on rows skipped within one step; a table is never that big in a lesson.
        for _ in 0..crate::limits::ROWS_SKIPPED_PER_STEP_MAX {
            if let Some(rw) = scan.row.take() {
                let mut rw = rw;
                match self.process_row(s, scan, &mut rw, now, events) {
                    Ok(true) => return Flow::Continue,
                    Ok(false) => {
                        scan.row = Some(rw);
                        return Flow::Wait;
                    }
                    Err(e) => return Flow::Fail(e),
                }
            }
            let (limit, locking) = match &scan.kind {
                ScanKind::Select { limit, locking, .. } => (*limit, locking.is_some()),
                _ => (None, false),
            };
            if limit.is_some_and(|l| scan.out.len() as u64 >= l) && (!scan.collect || locking) {
                return self.finish_scan(s, scan, now, events);
            }
            if let Some(list) = &scan.lock_list {
                if scan.lock_pos < list.len() {
                    let idx = list[scan.lock_pos];
                    scan.lock_pos += 1;
                    scan.row = Some(RowWork { idx, latest: false });
                    continue;
                }
                return self.finish_scan(s, scan, now, events);
            }
            let Some(t) = self.tables.get(&scan.table) else {
                return Flow::Fail(PgError::no_such_table(&scan.table));
            };
            let viewer = Self::viewer(s, snapshot);
            let ssi = self.ssi_active(s);
            let mut examined = Vec::new();
            let mut found = None;
            while scan.pos < scan.candidates.len() {
                let idx = scan.candidates[scan.pos];
                let Some(tup) = t.heap.get(idx) else {
                    scan.pos += 1;
                    continue;
                };
                let visible = self.visible(tup, viewer);
                if ssi {
                    examined.push(idx);
                }
                if !visible {
                    scan.pos += 1;
                    continue;
                }
                found = Some(idx);
                break;
            }
            for idx in examined {
                let viewer = Self::viewer(s, snapshot);
                let table = scan.table.clone();
                self.ssi_examine(s, &table, idx, viewer);
            }
            let Some(idx) = found else {
                // The scan is over: sort collected rows, then lock them if asked.
                if scan.collect && scan.lock_list.is_none() {
                    self.sort_matched(scan);
                    if locking {
                        scan.lock_list = Some(std::mem::take(&mut scan.matched));
                        continue;
                    }
                }
                return self.finish_scan(s, scan, now, events);
            };
            match self.filter_matches(s, scan, idx, now, events) {
                Ok(true) => {}
                Ok(false) => {
                    scan.pos += 1;
                    continue;
                }
                Err(Stop::Wait) => return Flow::Wait,
                Err(Stop::Error(e)) => return Flow::Fail(e),
            }
            scan.pos += 1;
            if scan.collect {
                scan.matched.push(idx);
                return Flow::Continue;
            }
            scan.row = Some(RowWork { idx, latest: false });
        }
        Flow::Fail(PgError::error(
            "54000",
            "scan exceeded Lockstep's row limit",
        ))
    }

    /// Counts a row an UPDATE or DELETE has written and projects its RETURNING list (from
    /// `values`, the version RETURNING reports). `Ok(false)` when the projection must wait.
    pub(super) fn row_done(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        returning: &[SelectItem],
        values: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        scan.affected += 1;
        if returning.is_empty() {
            return Ok(true);
        }
        let table = scan.table.clone();
        let alias = scan.alias.clone();
        match self.project(
            s,
            Projection {
                table: &table,
                alias: alias.as_deref(),
                items: returning,
            },
            values,
            now,
            events,
        ) {
            Ok(r) => scan.out.push(r),
            Err(Stop::Wait) => return Ok(false),
            Err(Stop::Error(e)) => return Err(e),
        }
        Ok(true)
    }

    pub(super) fn sort_matched(&mut self, scan: &mut Scan) {
        let ScanKind::Select { order_by, .. } = &scan.kind else {
            return;
        };
        if order_by.is_empty() {
            return;
        }
        let Some(t) = self.tables.get(&scan.table) else {
            return;
        };
        let mut keyed: Vec<(Vec<Value>, usize)> = Vec::new();
        for &idx in &scan.matched {
            let row = RowRef {
                table: Some((&t.name, &t.columns)),
                alias: scan.alias.as_deref(),
                values: Some(&t.heap[idx].values),
                excluded: None,
            };
            let mut nofn = |_: &str, _: &[Value]| -> Result<Value, Stop> { Ok(Value::Null) };
            let keys = order_by
                .iter()
                .map(|(e, _)| eval::eval(e, row, &mut nofn).unwrap_or(Value::Null))
                .collect();
            keyed.push((keys, idx));
        }
        crate::order::sort_by(&mut keyed, |a, b| {
            for (i, (_, desc)) in order_by.iter().enumerate() {
                let o = a.0[i].sort_cmp(&b.0[i]);
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        scan.matched = keyed.into_iter().map(|(_, i)| i).collect();
    }

    pub(super) fn finish_scan(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        match scan.kind.clone() {
            ScanKind::Select {
                items,
                limit,
                locking,
                aggregate,
                ..
            } => {
                let columns = self.output_columns(&scan.table, &items);
                let mut rows: Vec<Vec<Value>> = Vec::new();
                if aggregate {
                    match self.aggregate(scan, &items) {
                        Ok(r) => rows.push(r),
                        Err(e) => return Flow::Fail(e),
                    }
                } else if scan.collect && locking.is_none() {
                    let matched = scan.matched.clone();
                    for idx in matched {
                        if limit.is_some_and(|l| rows.len() as u64 >= l) {
                            break;
                        }
                        let Some(values) = self
                            .tables
                            .get(&scan.table)
                            .map(|t| t.heap[idx].values.clone())
                        else {
                            break;
                        };
                        match self.project(
                            s,
                            Projection {
                                table: &scan.table.clone(),
                                alias: scan.alias.clone().as_deref(),
                                items: &items,
                            },
                            &values,
                            now,
                            events,
                        ) {
                            Ok(r) => rows.push(r),
                            Err(Stop::Wait) => return Flow::Wait,
                            Err(Stop::Error(e)) => return Flow::Fail(e),
                        }
                    }
                } else {
                    rows = std::mem::take(&mut scan.out);
                }
                Flow::Done(StatementResult::Rows {
                    columns,
                    rows: rows
                        .into_iter()
                        .map(|r| r.iter().map(Value::to_text).collect())
                        .collect(),
                })
            }
            ScanKind::Update { returning, .. } => {
                if returning.is_empty() {
                    command(format!("UPDATE {}", scan.affected))
                } else {
                    Flow::Done(StatementResult::Rows {
                        columns: self.output_columns(&scan.table, &returning),
                        rows: scan
                            .out
                            .iter()
                            .map(|r| r.iter().map(Value::to_text).collect())
                            .collect(),
                    })
                }
            }
            ScanKind::Delete { returning } => {
                if returning.is_empty() {
                    command(format!("DELETE {}", scan.affected))
                } else {
                    Flow::Done(StatementResult::Rows {
                        columns: self.output_columns(&scan.table, &returning),
                        rows: scan
                            .out
                            .iter()
                            .map(|r| r.iter().map(Value::to_text).collect())
                            .collect(),
                    })
                }
            }
        }
    }

    pub(super) fn aggregate(
        &self,
        scan: &Scan,
        items: &[SelectItem],
    ) -> Result<Vec<Value>, PgError> {
        let t = self.table(&scan.table)?;
        let mut out = Vec::new();
        for item in items {
            let SelectItem::Expr(Expr::Function(name, args), _) = item else {
                return Err(PgError::error(
                    "42803",
                    "column must appear in the GROUP BY clause or be used in an aggregate function",
                ));
            };
            let mut vals = Vec::new();
            for &idx in &scan.matched {
                let row = RowRef {
                    table: Some((&t.name, &t.columns)),
                    alias: scan.alias.as_deref(),
                    values: Some(&t.heap[idx].values),
                    excluded: None,
                };
                let v = match args.as_slice() {
                    [Expr::Star] | [] => Value::Int(1),
                    [e] => {
                        let mut nofn =
                            |_: &str, _: &[Value]| -> Result<Value, Stop> { Ok(Value::Null) };
                        match eval::eval(e, row, &mut nofn) {
                            Ok(v) => v,
                            Err(Stop::Error(e)) => return Err(e),
                            Err(Stop::Wait) => Value::Null,
                        }
                    }
                    _ => {
                        return Err(PgError::error(
                            "42883",
                            format!("function {name} does not exist"),
                        ))
                    }
                };
                if v != Value::Null {
                    vals.push(v);
                }
            }
            out.push(match name.as_str() {
                "count" => Value::Int(vals.len() as i64),
                "sum" => {
                    let table = RowRef {
                        table: Some((&t.name, &t.columns)),
                        alias: scan.alias.as_deref(),
                        values: None,
                        excluded: None,
                    };
                    sum(&vals, integer::function_type(name, args, table))?
                }
                "max" => vals
                    .into_iter()
                    .max_by(|a, b| a.sort_cmp(b))
                    .unwrap_or(Value::Null),
                _ => vals
                    .into_iter()
                    .min_by(|a, b| a.sort_cmp(b))
                    .unwrap_or(Value::Null),
            });
        }
        Ok(out)
    }
}

/// `sum` of the non-NULL values in its result type `ty` (bigint for int4 input, numeric for
/// int8); NULL when there are none.
fn sum(vals: &[Value], ty: integer::IntType) -> Result<Value, PgError> {
    if vals.is_empty() {
        return Ok(Value::Null);
    }
    let total: i128 = vals
        .iter()
        .map(|v| match v {
            Value::Int(n) => i128::from(*n),
            _ => 0,
        })
        .sum();
    Ok(Value::Int(ty.check(total)?))
}
