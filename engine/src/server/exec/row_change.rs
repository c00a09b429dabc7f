//! Changing and locking one row: SELECT ... FOR UPDATE, UPDATE and DELETE, with
//! EvalPlanQual's re-check of a row that changed while the statement waited for it.

use super::*;
use crate::server::eval::{self, coerce, Stop};
use crate::server::event::Event;
use crate::server::row_ref::RowRef;
use crate::server::rowlock::{RowOp, RowRequest, RowRes, WaitOper};
use crate::server::storage::Value;
use crate::server::txn::Txn;
use crate::server::{PgError, Server, Session};
use crate::sql::{Expr, RowLockStrength, WaitPolicy};
use crate::time::Instant;

impl Server {
    /// Works on one row of a scan. Ok(true): the row is done (this step's unit of work);
    /// Ok(false): the backend now waits and will come back to this row.
    pub(super) fn process_row(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        rw: &mut RowWork,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        for _ in 0..crate::limits::ROW_RETRIES_MAX {
            let chain = match scan.kind.clone() {
                ScanKind::Select { items, locking, .. } => {
                    if let Some(l) = locking {
                        let res = self.row_op(
                            s,
                            RowRequest {
                                table: &scan.table,
                                idx: rw.idx,
                                op: RowOp::Lock(l.strength),
                                policy: l.wait,
                                oper: WaitOper::Lock,
                            },
                            now,
                            events,
                        );
                        // FOR UPDATE at REPEATABLE READ fails the same way whether the row
                        // was updated or deleted (ExecLockRows).
                        match follow(res, rw, repeatable(s), PgError::concurrent_update) {
                            Chain::Granted => {
                                if rw.latest && !self.recheck(s, scan, rw.idx, now, events)? {
                                    return Ok(true);
                                }
                            }
                            Chain::Follow => continue,
                            Chain::Stop(r) => return r,
                        }
                    }
                    let values = self.tables[&scan.table].heap[rw.idx].values.clone();
                    let table = scan.table.clone();
                    let alias = scan.alias.clone();
                    let projection = Projection {
                        table: &table,
                        alias: alias.as_deref(),
                        items: &items,
                    };
                    match self.project(s, projection, &values, now, events) {
                        Ok(r) => scan.out.push(r),
                        Err(Stop::Wait) => return Ok(false),
                        Err(Stop::Error(e)) => return Err(e),
                    }
                    return Ok(true);
                }
                ScanKind::Update { assignments, .. } => {
                    let (new_values, strength) =
                        match self.updated_values(s, scan, rw.idx, &assignments, now, events) {
                            Ok(v) => v,
                            Err(Stop::Wait) => return Ok(false),
                            Err(Stop::Error(e)) => return Err(e),
                        };
                    // A key change must keep the unique indexes unique: lock the row first (as
                    // heap_update would wait for it), then check the new key, waiting for an
                    // in-progress inserter of the same key, then write the new version.
                    if !rw.latest && strength == RowLockStrength::Update {
                        let res = self.row_op(
                            s,
                            RowRequest {
                                table: &scan.table,
                                idx: rw.idx,
                                op: RowOp::Lock(strength),
                                policy: WaitPolicy::Block,
                                oper: WaitOper::Update,
                            },
                            now,
                            events,
                        );
                        match follow(res, rw, repeatable(s), PgError::concurrent_delete) {
                            Chain::Granted => {}
                            Chain::Follow => continue,
                            Chain::Stop(r) => return r,
                        }
                        if !self.check_unique_for_update(
                            s,
                            &scan.table,
                            rw.idx,
                            &new_values,
                            now,
                            events,
                        )? {
                            return Ok(false);
                        }
                    }
                    let write = RowWrite {
                        op: RowOp::Update(new_values, strength),
                        lock: strength,
                        oper: WaitOper::Update,
                    };
                    self.write_row(s, scan, rw, write, now, events)?
                }
                ScanKind::Delete { .. } => {
                    let write = RowWrite {
                        op: RowOp::Delete,
                        lock: RowLockStrength::Update,
                        oper: WaitOper::Delete,
                    };
                    self.write_row(s, scan, rw, write, now, events)?
                }
            };
            match chain {
                Chain::Follow => continue,
                Chain::Stop(r) => return r,
                Chain::Granted => unreachable!("write_row ends in Follow or Stop"),
            }
        }
        Err(PgError::error(
            "XX000",
            "row kept changing while Lockstep tried to lock it",
        ))
    }

    /// UPDATE or DELETE of the row `rw` points at. The version the scan found is written
    /// (`write.op`); a newer version reached by following an update chain is first locked
    /// (`write.lock`) and re-checked against the WHERE clause (EvalPlanQual), and then the
    /// next round writes it.
    fn write_row(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        rw: &mut RowWork,
        write: RowWrite,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Chain, PgError> {
        let (op, oper) = if rw.latest {
            (RowOp::Lock(write.lock), WaitOper::Lock)
        } else {
            (write.op, write.oper)
        };
        let res = self.row_op(
            s,
            RowRequest {
                table: &scan.table,
                idx: rw.idx,
                op,
                policy: WaitPolicy::Block,
                oper,
            },
            now,
            events,
        );
        match follow(res, rw, repeatable(s), PgError::concurrent_delete) {
            Chain::Granted if rw.latest => {
                if !self.recheck(s, scan, rw.idx, now, events)? {
                    return Ok(Chain::Stop(Ok(true)));
                }
                rw.latest = false;
                Ok(Chain::Follow)
            }
            Chain::Granted => {
                // The values RETURNING sees: an UPDATE's new version, a DELETE's old one.
                let t = &self.tables[&scan.table];
                let written = match write.oper {
                    WaitOper::Update => t.heap[rw.idx].next.unwrap_or(rw.idx),
                    _ => rw.idx,
                };
                let values = t.heap[written].values.clone();
                let returning = match &scan.kind {
                    ScanKind::Update { returning, .. } | ScanKind::Delete { returning } => {
                        returning.clone()
                    }
                    ScanKind::Select { .. } => Vec::new(),
                };
                let done = self.row_done(s, scan, &returning, &values, now, events);
                Ok(Chain::Stop(done))
            }
            other => Ok(other),
        }
    }

    /// EvalPlanQual's re-check: does the newer version still satisfy the WHERE clause?
    pub(super) fn recheck(
        &mut self,
        s: &mut Session,
        scan: &Scan,
        idx: usize,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        match self.filter_matches(s, scan, idx, now, events) {
            Ok(b) => Ok(b),
            // A function in the WHERE clause that would wait now: PostgreSQL would wait in
            // the re-check too; we treat the row as matching (the lock is already held).
            Err(Stop::Wait) => Ok(true),
            Err(Stop::Error(e)) => Err(e),
        }
    }

    pub(super) fn updated_values(
        &mut self,
        s: &mut Session,
        scan: &Scan,
        idx: usize,
        assignments: &[(String, Expr)],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<(Vec<Value>, RowLockStrength), Stop> {
        let Some(t) = self.tables.get(&scan.table) else {
            return Err(PgError::no_such_table(&scan.table).into());
        };
        let old = t.heap[idx].values.clone();
        let mut new = old.clone();
        let row = RowRef {
            table: Some((&t.name, &t.columns)),
            alias: scan.alias.as_deref(),
            values: Some(&old),
            excluded: None,
        };
        let cols = t.columns.clone();
        let key_cols: Vec<bool> = (0..cols.len()).map(|c| t.is_key_column(c)).collect();
        let tname = t.name.clone();
        // Split borrows: the tables stay borrowed while a function takes locks.
        let mut functions = FunctionState {
            locks: &mut self.locks,
            woken: &mut self.woken,
            sequences: &mut self.sequences,
        };
        let mut f = |n: &str, a: &[Value]| functions.call(s, n, a, now, events);
        for (c, e) in assignments {
            let Some(ci) = cols.iter().position(|x| &x.name == c) else {
                return Err(PgError::no_such_column(c).into());
            };
            let v = eval::eval(e, row, &mut f)?;
            let v = coerce(v, cols[ci].ty, c)?;
            if v == Value::Null && cols[ci].not_null {
                return Err(PgError::not_null_violation(c, &tname).into());
            }
            new[ci] = v;
        }
        let key_change = (0..cols.len()).any(|c| key_cols[c] && old[c] != new[c]);
        let strength = if key_change {
            RowLockStrength::Update
        } else {
            RowLockStrength::NoKeyUpdate
        };
        Ok((new, strength))
    }
}

/// A write to one row: the operation, the row lock a newer version gets before its re-check,
/// and what a wait for the row is reported as.
struct RowWrite {
    op: RowOp,
    lock: RowLockStrength,
    oper: WaitOper,
}

/// Where a row operation's answer leaves the row being worked on.
enum Chain {
    /// The lock or write was granted.
    Granted,
    /// The row was updated by a committed transaction: work on its newer version next.
    Follow,
    /// Done with this row: Ok(true) finished, Ok(false) waiting, or the statement's error.
    Stop(Result<bool, PgError>),
}

/// Whether the statement runs on a transaction snapshot (REPEATABLE READ or SERIALIZABLE),
/// where a row changed by a concurrent transaction is a serialization failure.
fn repeatable(s: &Session) -> bool {
    s.txn.as_ref().is_some_and(Txn::uses_transaction_snapshot)
}

/// Reads a row operation's answer; on a concurrent update, points `rw` at the newer version
/// (READ COMMITTED) or fails with `concurrent_update` / `deleted` (REPEATABLE READ and up).
fn follow(res: RowRes, rw: &mut RowWork, repeatable: bool, deleted: fn() -> PgError) -> Chain {
    match res {
        RowRes::Ok => Chain::Granted,
        RowRes::SelfModified | RowRes::Skip => Chain::Stop(Ok(true)),
        RowRes::Updated(Some(_)) if repeatable => Chain::Stop(Err(PgError::concurrent_update())),
        RowRes::Updated(None) if repeatable => Chain::Stop(Err(deleted())),
        RowRes::Updated(Some(next)) => {
            rw.idx = next;
            rw.latest = true;
            Chain::Follow
        }
        RowRes::Updated(None) => Chain::Stop(Ok(true)),
        RowRes::Wait => Chain::Stop(Ok(false)),
        RowRes::Fail(e) => Chain::Stop(Err(e)),
    }
}
