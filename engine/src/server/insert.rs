//! INSERT, with PostgreSQL's unique checks: a plain INSERT writes its heap tuple first and
//! then checks each unique index, waiting for an in-progress inserter (or deleter) of the same
//! key; INSERT ... ON CONFLICT checks the arbiter indexes first (speculative insertion) and
//! then does nothing, or locks and updates the existing row.

use super::eval::{self, coerce, is_true, Stop};
use super::event::{Event, WriteKind};
use super::exec::{command, Flow, FunctionState, InsertRun, Projection};
use super::row_ref::RowRef;
use super::rowlock::{mark_wait_row, RowOp, RowRequest, RowRes, WaitOper};
use super::storage::{ctid, Table, Tuple, Value};
use super::txn::{Snapshot, Txn, XidStatus};
use super::{PgError, Server, Session, StatementResult, Xid};
use crate::sql::{ConflictAction, Expr, OnConflict, RowLockStrength, WaitPolicy};
use crate::time::Instant;

/// `duplicate key value violates unique constraint "t_pkey"` (23505) with its DETAIL.
pub(super) fn duplicate_key(t: &Table, ixi: usize, values: &[Value]) -> PgError {
    let ix = &t.indexes[ixi];
    let names: Vec<String> = ix
        .columns
        .iter()
        .map(|&c| t.columns[c].name.clone())
        .collect();
    let vals: Vec<String> = ix
        .columns
        .iter()
        .map(|&c| values[c].to_text().unwrap_or_default())
        .collect();
    PgError::error(
        "23505",
        format!(
            "duplicate key value violates unique constraint \"{}\"",
            ix.name
        ),
    )
    .with_detail(format!(
        "Key ({})=({}) already exists.",
        names.join(", "),
        vals.join(", ")
    ))
}

/// The row an INSERT is placing and what each attempt at it reads.
#[derive(Clone, Copy)]
struct RowInsert<'a> {
    /// The row's values (ON CONFLICT DO UPDATE's `excluded`).
    values: &'a [Value],
    /// The statement's snapshot.
    snapshot: &'a Snapshot,
    now: Instant,
}

/// What one attempt at inserting a row came to.
enum Attempt {
    /// The row is done (`true`) or waits (`false`): what `insert_row` returns.
    Done(bool),
    /// Go round again: a wait ended, or a conflicting row was found or went away.
    Again,
}

/// 21000: ON CONFLICT DO UPDATE met a row the same command proposed or updated already.
fn affects_row_twice() -> PgError {
    PgError::error(
        "21000",
        "ON CONFLICT DO UPDATE command cannot affect row a second time",
    )
    .with_hint(
        "Ensure that no rows proposed for insertion within the same command have duplicate constrained values.",
    )
}

/// The new values ON CONFLICT DO UPDATE gives the existing row `j` of `t`, or `None` when its
/// WHERE filter rejects the row.
fn conflict_update_values(
    t: &Table,
    j: usize,
    excluded: &[Value],
    filter: Option<&Expr>,
    assignments: &[(String, Expr)],
) -> Result<Option<Vec<Value>>, Stop> {
    let existing = t.heap[j].values.clone();
    let cols = t.columns.clone();
    let row = RowRef {
        table: Some((&t.name, &t.columns)),
        alias: None,
        values: Some(&existing),
        excluded: Some(excluded),
    };
    let mut nofn = |n: &str, _: &[Value]| -> Result<Value, Stop> {
        Err(PgError::error(
            "0A000",
            format!("function {n} is not supported in ON CONFLICT by Lockstep"),
        )
        .into())
    };
    if let Some(f) = filter {
        if !is_true(&eval::eval(f, row, &mut nofn)?) {
            return Ok(None);
        }
    }
    let mut new = existing.clone();
    for (c, e) in assignments {
        let Some(ci) = cols.iter().position(|x| &x.name == c) else {
            return Err(PgError::no_such_column(c).into());
        };
        let v = eval::eval(e, row, &mut nofn)?;
        new[ci] = coerce(v, cols[ci].ty, c)?;
    }
    Ok(Some(new))
}

impl Server {
    pub(super) fn run_insert(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        snapshot: &Snapshot,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        for _ in 0..crate::limits::ROW_RETRIES_MAX {
            if ins.pending.is_none() {
                if ins.row_pos >= ins.rows.len() {
                    if ins.returning.is_empty() {
                        return command(format!("INSERT 0 {}", ins.affected));
                    }
                    return Flow::Done(StatementResult::Rows {
                        columns: self.output_columns(&ins.table, &ins.returning),
                        rows: ins
                            .out
                            .iter()
                            .map(|r| r.iter().map(Value::to_text).collect())
                            .collect(),
                    });
                }
                match self.insert_values(s, ins, now, events) {
                    Ok(v) => ins.pending = Some(v),
                    Err(Stop::Wait) => return Flow::Wait,
                    Err(Stop::Error(e)) => return Flow::Fail(e),
                }
            }
            let Some(values) = ins.pending.clone() else {
                continue;
            };
            match self.insert_row(s, ins, &values, snapshot, now, events) {
                Ok(true) => {
                    ins.pending = None;
                    ins.written = None;
                    ins.conflict_row = None;
                    ins.row_pos += 1;
                    return Flow::Continue;
                }
                Ok(false) => return Flow::Wait,
                Err(e) => return Flow::Fail(e),
            }
        }
        Flow::Fail(PgError::error("XX000", "insert kept retrying in Lockstep"))
    }

    pub(super) fn insert_values(
        &mut self,
        s: &mut Session,
        ins: &InsertRun,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Vec<Value>, Stop> {
        let Some(t) = self.tables.get(&ins.table) else {
            return Err(PgError::no_such_table(&ins.table).into());
        };
        let cols = t.columns.clone();
        let tname = t.name.clone();
        let exprs = ins.rows[ins.row_pos].clone();
        // Split borrows: the tables stay borrowed while a function takes locks.
        let mut functions = FunctionState {
            locks: &mut self.locks,
            woken: &mut self.woken,
            sequences: &mut self.sequences,
        };
        let mut f = |n: &str, a: &[Value]| functions.call(s, n, a, now, events);
        let mut values = vec![Value::Null; cols.len()];
        let mut given = vec![false; cols.len()];
        for (i, e) in exprs.iter().enumerate() {
            let ci = ins.columns[i];
            // DEFAULT in VALUES leaves the column to its default below.
            if *e == Expr::Default {
                continue;
            }
            let v = eval::eval(e, RowRef::empty(), &mut f)?;
            values[ci] = coerce(v, cols[ci].ty, &cols[ci].name)?;
            given[ci] = true;
        }
        for (ci, c) in cols.iter().enumerate() {
            if !given[ci] {
                if let Some(d) = &c.default {
                    let v = eval::eval(d, RowRef::empty(), &mut f)?;
                    values[ci] = coerce(v, c.ty, &c.name)?;
                }
            }
            if c.not_null && values[ci] == Value::Null {
                return Err(PgError::not_null_violation(&c.name, &tname).into());
            }
        }
        Ok(values)
    }

    /// Finds a tuple that conflicts with `values` in one of `indexes`, the way a unique check
    /// with a dirty snapshot does. Returns the conflicting heap index, or the xid to wait for.
    pub(super) fn unique_conflict(
        &self,
        s: &Session,
        table: &Table,
        indexes: &[usize],
        values: &[Value],
        exclude: Option<usize>,
    ) -> Option<(usize, usize, Option<Xid>)> {
        let top = s.txn.as_ref().and_then(|t| t.xid);
        for &ixi in indexes {
            let ix = &table.indexes[ixi];
            if ix.columns.iter().any(|&c| values[c] == Value::Null) {
                continue;
            }
            for (j, tup) in table.heap.iter().enumerate() {
                if Some(j) == exclude || !tup.indexed {
                    continue;
                }
                if !ix
                    .columns
                    .iter()
                    .all(|&c| tup.values[c].compare(&values[c]) == Some(std::cmp::Ordering::Equal))
                {
                    continue;
                }
                let ins_status = self.xid_status(tup.xmin);
                if ins_status == XidStatus::Aborted {
                    continue;
                }
                let own_insert = self.is_current(top, tup.xmin);
                if ins_status == XidStatus::InProgress && !own_insert {
                    return Some((ixi, j, Some(tup.xmin)));
                }
                let deleter = tup
                    .xmax
                    .iter()
                    .find(|m| m.update && self.xid_status(m.xid) != XidStatus::Aborted);
                match deleter {
                    Some(m) if self.is_current(top, m.xid) => continue,
                    Some(m) if self.xid_status(m.xid) == XidStatus::Committed => continue,
                    Some(m) => return Some((ixi, j, Some(m.xid))),
                    None => return Some((ixi, j, None)),
                }
            }
        }
        None
    }

    /// Inserts one row (or handles its conflict). Ok(true) when the row is done, Ok(false)
    /// when it waits.
    pub(super) fn insert_row(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        values: &[Value],
        snapshot: &Snapshot,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        if self.table(&ins.table)?.heap.len() >= crate::limits::ROWS_PER_TABLE_MAX {
            return Err(PgError::table_full(&ins.table));
        }
        let row = RowInsert {
            values,
            snapshot,
            now,
        };
        for _ in 0..crate::limits::ROW_RETRIES_MAX {
            let attempt = if let Some(j) = ins.conflict_row {
                // ON CONFLICT DO UPDATE after the conflicting row was found.
                self.update_conflicting_row(s, ins, j, row, events)?
            } else if ins.on_conflict.is_some() {
                self.insert_speculatively(s, ins, row, events)?
            } else {
                self.insert_plainly(s, ins, row, events)?
            };
            match attempt {
                Attempt::Done(done) => return Ok(done),
                Attempt::Again => continue,
            }
        }
        Err(PgError::error("XX000", "insert kept retrying in Lockstep"))
    }

    /// INSERT ... ON CONFLICT DO UPDATE (or DO NOTHING) on the existing row `j`: lock it, then
    /// update it with the assignments, if the filter lets it.
    fn update_conflicting_row(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        j: usize,
        row: RowInsert,
        events: &mut Vec<Event>,
    ) -> Result<Attempt, PgError> {
        let t = self.table(&ins.table)?;
        let tname = t.name.clone();
        // A row this very command inserted or updated is invisible to its own
        // ON CONFLICT DO UPDATE (TM_Invisible): proposing the same key twice is an error.
        let tup = &t.heap[j];
        let top = s.txn.as_ref().and_then(|x| x.xid);
        let cid = s.txn.as_ref().map_or(0, |x| x.cid);
        if self.is_current(top, tup.xmin) && tup.cmin >= cid {
            return Err(affects_row_twice());
        }
        let Some(OnConflict {
            action:
                ConflictAction::Update {
                    assignments,
                    filter,
                },
            ..
        }) = ins.on_conflict.clone()
        else {
            return Ok(Attempt::Done(true));
        };
        let key_change = assignments
            .iter()
            .any(|(c, _)| t.column(c).is_some_and(|ci| t.is_key_column(ci)));
        let strength = if key_change {
            RowLockStrength::Update
        } else {
            RowLockStrength::NoKeyUpdate
        };
        if let Some(attempt) = self.lock_conflicting_row(s, ins, j, strength, row.now, events)? {
            return Ok(attempt);
        }
        let t = self.table(&ins.table)?;
        let viewer = Self::viewer(s, row.snapshot);
        let rr = s.txn.as_ref().is_some_and(Txn::uses_transaction_snapshot);
        if rr && !self.visible(&t.heap[j], viewer) && !self.is_current(viewer.top, t.heap[j].xmin) {
            return Err(PgError::concurrent_update());
        }
        let new = match conflict_update_values(t, j, row.values, filter.as_ref(), &assignments) {
            Ok(Some(new)) => new,
            Ok(None) => return Ok(Attempt::Done(true)),
            Err(Stop::Error(e)) => return Err(e),
            Err(Stop::Wait) => return Ok(Attempt::Done(false)),
        };
        match self.row_op(
            s,
            RowRequest {
                table: &tname,
                idx: j,
                op: RowOp::Update(new.clone(), strength),
                policy: WaitPolicy::Block,
                oper: WaitOper::Update,
            },
            row.now,
            events,
        ) {
            RowRes::Ok => {
                ins.affected += 1;
                if !ins.returning.is_empty() {
                    let table = ins.table.clone();
                    let returning = ins.returning.clone();
                    match self.project(
                        s,
                        Projection {
                            table: &table,
                            alias: None,
                            items: &returning,
                        },
                        &new,
                        row.now,
                        events,
                    ) {
                        Ok(r) => ins.out.push(r),
                        Err(Stop::Error(e)) => return Err(e),
                        Err(Stop::Wait) => return Ok(Attempt::Done(false)),
                    }
                }
                Ok(Attempt::Done(true))
            }
            RowRes::Wait => Ok(Attempt::Done(false)),
            RowRes::Fail(e) => Err(e),
            _ => {
                ins.conflict_row = None;
                Ok(Attempt::Again)
            }
        }
    }

    /// Locks the conflicting row `j` for ON CONFLICT DO UPDATE: `None` once it is locked,
    /// else what the attempt came to.
    fn lock_conflicting_row(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        j: usize,
        strength: RowLockStrength,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Option<Attempt>, PgError> {
        let tname = self.table(&ins.table)?.name.clone();
        match self.row_op(
            s,
            RowRequest {
                table: &tname,
                idx: j,
                op: RowOp::Lock(strength),
                policy: WaitPolicy::Block,
                oper: WaitOper::Lock,
            },
            now,
            events,
        ) {
            RowRes::Ok => Ok(None),
            RowRes::Wait => Ok(Some(Attempt::Done(false))),
            RowRes::Fail(e) => Err(e),
            RowRes::SelfModified => Err(affects_row_twice()),
            RowRes::Skip => Ok(Some(Attempt::Done(true))),
            RowRes::Updated(_) => {
                if s.txn.as_ref().is_some_and(Txn::uses_transaction_snapshot) {
                    return Err(PgError::concurrent_update());
                }
                ins.conflict_row = None;
                Ok(Some(Attempt::Again))
            }
        }
    }

    /// Speculative insertion (INSERT ... ON CONFLICT): check the arbiter indexes first,
    /// waiting for in-progress inserters of the same key, and write the tuple only if there
    /// is no conflict.
    fn insert_speculatively(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        row: RowInsert,
        events: &mut Vec<Event>,
    ) -> Result<Attempt, PgError> {
        let level = Self::level(s);
        let t = self.table(&ins.table)?;
        let tname = t.name.clone();
        match self.unique_conflict(s, t, &ins.arbiters, row.values, None) {
            Some((_, j, Some(xwait))) => {
                let (b, o) = ctid(j);
                let context = Some(format!(
                    "while inserting index tuple ({b},{o}) in relation \"{tname}\""
                ));
                match self.wait_for_xid(s, xwait, level, context, row.now, events)? {
                    true => Ok(Attempt::Again),
                    false => {
                        mark_wait_row(s, &tname, j, events);
                        Ok(Attempt::Done(false))
                    }
                }
            }
            Some((_, j, None)) => {
                let nothing = matches!(
                    ins.on_conflict,
                    Some(OnConflict {
                        action: ConflictAction::Nothing,
                        ..
                    })
                );
                if nothing {
                    let viewer = Self::viewer(s, row.snapshot);
                    let rr = s.txn.as_ref().is_some_and(Txn::uses_transaction_snapshot);
                    if rr
                        && !self.visible(&t.heap[j], viewer)
                        && !self.is_current(viewer.top, t.heap[j].xmin)
                    {
                        return Err(PgError::concurrent_update());
                    }
                    return Ok(Attempt::Done(true));
                }
                ins.conflict_row = Some(j);
                Ok(Attempt::Again)
            }
            None => {
                self.write_tuple(s, &ins.table, row.values.to_vec(), true, events);
                ins.affected += 1;
                self.insert_returning(s, ins, row.values, row.now, events)?;
                Ok(Attempt::Done(true))
            }
        }
    }

    /// Plain INSERT: the heap tuple goes in first, then each unique index is checked, waiting
    /// for an in-progress inserter or deleter of the same key.
    fn insert_plainly(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        row: RowInsert,
        events: &mut Vec<Event>,
    ) -> Result<Attempt, PgError> {
        let level = Self::level(s);
        let my_idx = match ins.written {
            Some(i) => i,
            None => {
                let i = self.write_tuple(s, &ins.table, row.values.to_vec(), false, events);
                ins.written = Some(i);
                i
            }
        };
        let t = self.table(&ins.table)?;
        let all: Vec<usize> = (0..t.indexes.len()).collect();
        match self.unique_conflict(s, t, &all, row.values, Some(my_idx)) {
            Some((ixi, j, Some(xwait))) => {
                let (b, o) = ctid(my_idx);
                let ixname = t.indexes[ixi].name.clone();
                let context = Some(format!(
                    "while inserting index tuple ({b},{o}) in relation \"{ixname}\""
                ));
                let table = ins.table.clone();
                match self.wait_for_xid(s, xwait, level, context, row.now, events)? {
                    true => Ok(Attempt::Again),
                    false => {
                        mark_wait_row(s, &table, j, events);
                        Ok(Attempt::Done(false))
                    }
                }
            }
            Some((ixi, _, None)) => Err(duplicate_key(t, ixi, row.values)),
            None => {
                if let Some(t) = self.tables.get_mut(&ins.table) {
                    t.heap[my_idx].indexed = true;
                }
                ins.affected += 1;
                self.insert_returning(s, ins, row.values, row.now, events)?;
                Ok(Attempt::Done(true))
            }
        }
    }

    pub(super) fn insert_returning(
        &mut self,
        s: &mut Session,
        ins: &mut InsertRun,
        values: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<(), PgError> {
        if ins.returning.is_empty() {
            return Ok(());
        }
        let table = ins.table.clone();
        let returning = ins.returning.clone();
        match self.project(
            s,
            Projection {
                table: &table,
                alias: None,
                items: &returning,
            },
            values,
            now,
            events,
        ) {
            Ok(r) => {
                ins.out.push(r);
                Ok(())
            }
            Err(Stop::Error(e)) => Err(e),
            Err(Stop::Wait) => Ok(()),
        }
    }

    /// The unique check of an UPDATE that changes a key: Ok(true) when the new key is free,
    /// Ok(false) when the backend now waits for an in-progress inserter or deleter of it.
    pub(super) fn check_unique_for_update(
        &mut self,
        s: &mut Session,
        table: &str,
        idx: usize,
        new_values: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        let level = Self::level(s);
        for _ in 0..crate::limits::ROW_RETRIES_MAX {
            let t = self.table(table)?;
            let old = &t.heap[idx].values;
            let changed: Vec<usize> = (0..t.indexes.len())
                .filter(|&i| {
                    t.indexes[i]
                        .columns
                        .iter()
                        .any(|&c| old[c] != new_values[c])
                })
                .collect();
            match self.unique_conflict(s, t, &changed, new_values, Some(idx)) {
                None => return Ok(true),
                Some((ixi, j, Some(xwait))) => {
                    let (b, o) = ctid(t.heap.len());
                    let context = Some(format!(
                        "while inserting index tuple ({b},{o}) in relation \"{}\"",
                        t.indexes[ixi].name
                    ));
                    if !self.wait_for_xid(s, xwait, level, context, now, events)? {
                        mark_wait_row(s, table, j, events);
                        return Ok(false);
                    }
                }
                Some((ixi, _, None)) => return Err(duplicate_key(t, ixi, new_values)),
            }
        }
        Err(PgError::error(
            "XX000",
            "unique check kept retrying in Lockstep",
        ))
    }

    pub(super) fn write_tuple(
        &mut self,
        s: &mut Session,
        table: &str,
        values: Vec<Value>,
        indexed: bool,
        events: &mut Vec<Event>,
    ) -> usize {
        let xid = self.assign_xid(s, events);
        let cid = s.txn.as_ref().map_or(0, |t| t.cid);
        let ssi = self.ssi_active(s);
        let Some(t) = self.tables.get_mut(table) else {
            return 0;
        };
        let idx = t.heap.len();
        t.heap.push(Tuple {
            xmin: xid,
            cmin: cid,
            xmax: Vec::new(),
            next: None,
            values,
            indexed,
        });
        events.push(Event::TupleWritten {
            pid: s.pid,
            table: table.to_string(),
            ctid: ctid(idx),
            kind: WriteKind::Insert,
        });
        if ssi {
            self.ssi_write(s, table, idx);
        }
        idx
    }
}
