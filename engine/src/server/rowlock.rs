//! Row-level locking as PostgreSQL's heapam does it: a row lock lives in the tuple's xmax;
//! a backend that finds the row locked in a conflicting way takes the heavyweight tuple lock
//! (its place in line), sleeps on `ShareLock` on the locker's transaction id, and looks again
//! once woken (`heap_lock_tuple`'s `l3` loop). UPDATE and DELETE go through the same protocol,
//! and a FOR KEY SHARE lock that did not conflict with a concurrent update follows the update
//! chain (`heap_lock_updated_tuple`).

use super::event::{Event, WriteKind};
use super::locks::{LockMode, LockRequest, LockTag, Owner};
use super::storage::{ctid, Table, Tuple, Value, XmaxMember};
use super::txn::XidStatus;
use super::{AcquireFailure, PgError, Server, Session, Xid};
use crate::sql::{RowLockStrength, WaitPolicy};
use crate::time::Instant;

/// What happened to one row-level operation.
pub(super) enum RowRes {
    /// Done: the lock is held, or the row was updated/deleted.
    Ok,
    /// This very statement already updated or deleted the row (`TM_SelfModified`): skip it.
    SelfModified,
    /// SKIP LOCKED found the row locked: leave it out.
    Skip,
    /// The row was updated (`Some(newer version)`) or deleted (`None`) by a committed
    /// transaction.
    Updated(Option<usize>),
    /// The backend now waits (for the tuple lock or a transaction); try again once woken.
    Wait,
    /// The statement fails (NOWAIT, deadlock, ...).
    Fail(PgError),
}

/// What to do to a row.
#[derive(Clone, Debug)]
pub(super) enum RowOp {
    /// SELECT ... FOR <strength>, or the lock EvalPlanQual takes on a newer version.
    Lock(RowLockStrength),
    /// Write a new version with these values, holding this strength (FOR UPDATE when a key
    /// changes, FOR NO KEY UPDATE otherwise).
    Update(Vec<Value>, RowLockStrength),
    /// Mark the version deleted (FOR UPDATE strength).
    Delete,
}

impl RowOp {
    /// The row-lock strength the operation takes: an update's own, FOR UPDATE for a delete.
    fn strength(&self) -> RowLockStrength {
        match self {
            RowOp::Lock(st) => *st,
            RowOp::Update(_, st) => *st,
            RowOp::Delete => RowLockStrength::Update,
        }
    }
}

/// Whether a row operation only locked or also wrote.
pub(super) enum OpKind {
    /// Only a row lock: not a write for SSI.
    Lock,
    /// An update or delete.
    Write,
}

/// The wait contexts of `XactLockTableWait` (lmgr.c `XactLockTableWaitErrorCb`).
#[derive(Clone, Copy)]
pub(super) enum WaitOper {
    /// `while updating tuple (b,o) in relation "t"`.
    Update,
    /// `while deleting tuple (b,o) in relation "t"`.
    Delete,
    /// `while locking tuple (b,o) in relation "t"`.
    Lock,
}

/// `Table 13.3 Conflicting Row-Level Locks`.
pub(crate) fn row_conflicts(requested: RowLockStrength, held: RowLockStrength) -> bool {
    use RowLockStrength::*;
    match requested {
        KeyShare => held == Update,
        Share => matches!(held, NoKeyUpdate | Update),
        NoKeyUpdate => matches!(held, Share | NoKeyUpdate | Update),
        Update => true,
    }
}

/// The heavyweight mode of the tuple lock for a row-lock strength (`tupleLockExtraInfo`).
pub(crate) fn tuple_lock_mode(s: RowLockStrength) -> LockMode {
    match s {
        RowLockStrength::KeyShare => LockMode::AccessShare,
        RowLockStrength::Share => LockMode::RowShare,
        RowLockStrength::NoKeyUpdate => LockMode::Exclusive,
        RowLockStrength::Update => LockMode::AccessExclusive,
    }
}

/// Records which row version a backend waits for (for the UI's row-lock badges), in its wait
/// and in the LockWaiting event just emitted.
pub(super) fn mark_wait_row(s: &mut Session, table: &str, idx: usize, events: &mut [Event]) {
    let row = Some((table.to_string(), ctid(idx)));
    if let Some(w) = s.wait.as_mut() {
        w.row = row.clone();
    }
    if let Some(Event::LockWaiting { reason, .. }) = events
        .iter_mut()
        .rev()
        .find(|e| matches!(e, Event::LockWaiting { pid, .. } if *pid == s.pid))
    {
        reason.row = row;
    }
}

/// One row operation a statement asks for: which tuple version (`idx` in `table`'s heap), what
/// to do to it, how to wait for a conflicting locker, and what the wait's CONTEXT line says.
pub(super) struct RowRequest<'a> {
    pub(super) table: &'a str,
    pub(super) idx: usize,
    pub(super) op: RowOp,
    pub(super) policy: WaitPolicy,
    pub(super) oper: WaitOper,
}

impl Server {
    /// Locks, updates or deletes one tuple version, waiting the way PostgreSQL does: take the
    /// tuple lock (queue position), sleep on the locker's xid, look again.
    pub(super) fn row_op(
        &mut self,
        s: &mut Session,
        request: RowRequest,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> RowRes {
        let (table, idx) = (request.table, request.idx);
        let strength = request.op.strength();
        let top = s.txn.as_ref().and_then(|t| t.xid);
        // An UPDATE writes a new version: refuse before waiting for a lock it could not use.
        if matches!(request.op, RowOp::Update(..))
            && self
                .tables
                .get(table)
                .is_some_and(|t| t.heap.len() >= crate::limits::ROWS_PER_TABLE_MAX)
        {
            return RowRes::Fail(PgError::table_full(table));
        }
        for _ in 0..crate::limits::ROW_RETRIES_MAX {
            let Some(t) = self.tables.get(table) else {
                return RowRes::Fail(PgError::no_such_table(table));
            };
            let tup = &t.heap[idx];
            let live: Vec<XmaxMember> = tup
                .xmax
                .iter()
                .filter(|m| {
                    let st = self.xid_status(m.xid);
                    st != XidStatus::Aborted && (m.update || st == XidStatus::InProgress)
                })
                .cloned()
                .collect();
            let mine = |m: &XmaxMember| self.is_current(top, m.xid);
            if live.iter().any(|m| m.update && mine(m)) {
                self.release_tuple_lock(s);
                return RowRes::SelfModified;
            }
            if matches!(request.op, RowOp::Lock(_))
                && live.iter().any(|m| mine(m) && m.mode >= strength)
            {
                self.release_tuple_lock(s);
                return self.follow_updates(s, table, idx, strength, now, events);
            }
            let skip_tuple_lock = live.iter().any(&mine);
            let conflicting: Vec<&XmaxMember> = live
                .iter()
                .filter(|m| !mine(m) && row_conflicts(strength, m.mode))
                .collect();
            if let Some(m) = conflicting
                .iter()
                .find(|m| m.update && self.xid_status(m.xid) == XidStatus::Committed)
            {
                let _ = m;
                let next = tup.next;
                self.release_tuple_lock(s);
                return RowRes::Updated(next);
            }
            if conflicting.is_empty() {
                let lock_only = matches!(request.op, RowOp::Lock(_));
                self.apply_row_op(s, table, idx, request.op, strength, events);
                self.release_tuple_lock(s);
                if lock_only {
                    return self.follow_updates(s, table, idx, strength, now, events);
                }
                return RowRes::Ok;
            }
            let xwait = self.wait_target(conflicting[0].xid);
            if let Some(res) =
                self.wait_for_locker(s, &request, xwait, skip_tuple_lock, now, events)
            {
                return res;
            }
        }
        RowRes::Fail(PgError::error(
            "XX000",
            "row kept changing while Lockstep tried to lock it",
        ))
    }

    /// Waits for the transaction `xwait` that holds a conflicting lock on the row: first the
    /// tuple lock (the row's queue position, unless `skip_tuple_lock`: this transaction already
    /// locks the row), then a share lock on `xwait`. `None` when `xwait` has already ended:
    /// look at the row again.
    fn wait_for_locker(
        &mut self,
        s: &mut Session,
        request: &RowRequest,
        xwait: Xid,
        skip_tuple_lock: bool,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Option<RowRes> {
        let RowRequest {
            table,
            idx,
            op,
            policy,
            oper,
        } = request;
        let (table, idx, policy, oper) = (*table, *idx, *policy, *oper);
        let strength = op.strength();
        let level = Self::level(s);
        let oid = self.tables.get(table)?.oid;
        let (block, offset) = ctid(idx);
        let nowait = policy != WaitPolicy::Block;
        if !skip_tuple_lock && s.tuple_lock.is_none() {
            let tag = LockTag::Tuple {
                rel: oid,
                block,
                offset,
            };
            let mode = tuple_lock_mode(strength);
            match self.acquire(
                s,
                LockRequest {
                    tag,
                    mode,
                    owner: Owner::Xact(level),
                    nowait,
                    context: None,
                },
                now,
                events,
            ) {
                Ok(true) => s.tuple_lock = Some((tag, mode)),
                Ok(false) => {
                    mark_wait_row(s, table, idx, events);
                    return Some(RowRes::Wait);
                }
                Err(AcquireFailure::WouldBlock) => {
                    return Some(if policy == WaitPolicy::SkipLocked {
                        RowRes::Skip
                    } else {
                        RowRes::Fail(PgError::row_lock_not_available(table))
                    })
                }
                Err(AcquireFailure::Deadlock(e)) => return Some(RowRes::Fail(e)),
            }
        }
        let context = Some(match oper {
            WaitOper::Update => {
                format!("while updating tuple ({block},{offset}) in relation \"{table}\"")
            }
            WaitOper::Delete => {
                format!("while deleting tuple ({block},{offset}) in relation \"{table}\"")
            }
            WaitOper::Lock => {
                format!("while locking tuple ({block},{offset}) in relation \"{table}\"")
            }
        });
        let tag = LockTag::Transaction(xwait);
        match self.acquire(
            s,
            LockRequest {
                tag,
                mode: LockMode::Share,
                owner: Owner::Xact(level),
                nowait,
                context,
            },
            now,
            events,
        ) {
            Ok(true) => {
                // The transaction already ended: drop the share lock and look again.
                if let Some(w) = self.locks.release_any(s.pid, tag, LockMode::Share) {
                    self.woken.extend(w);
                }
                None
            }
            Ok(false) => {
                mark_wait_row(s, table, idx, events);
                Some(RowRes::Wait)
            }
            Err(AcquireFailure::WouldBlock) => {
                self.release_tuple_lock(s);
                Some(if policy == WaitPolicy::SkipLocked {
                    RowRes::Skip
                } else {
                    RowRes::Fail(PgError::row_lock_not_available(table))
                })
            }
            Err(AcquireFailure::Deadlock(e)) => Some(RowRes::Fail(e)),
        }
    }

    /// `heap_lock_updated_tuple`: a row lock that did not conflict with a concurrent update
    /// (FOR KEY SHARE against a non-key UPDATE) is also taken on every newer version of the
    /// row, so that whoever later deletes or re-keys the row still has to wait for us. A newer
    /// version that is locked or updated in a conflicting way makes us wait, or reports the
    /// row as updated/deleted when that change committed.
    pub(super) fn follow_updates(
        &mut self,
        s: &mut Session,
        table: &str,
        idx: usize,
        strength: RowLockStrength,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> RowRes {
        let level = Self::level(s);
        let top = s.txn.as_ref().and_then(|t| t.xid);
        let mut prior = idx;
        for _ in 0..crate::limits::UPDATE_CHAIN_LENGTH_MAX {
            let Some(t) = self.tables.get(table) else {
                return RowRes::Ok;
            };
            let base = &t.heap[prior];
            let Some(updater) = base
                .xmax
                .iter()
                .find(|m| m.update && self.xid_status(m.xid) != XidStatus::Aborted)
                .cloned()
            else {
                return RowRes::Ok;
            };
            if self.is_current(top, updater.xid) {
                return RowRes::Ok;
            }
            let Some(n) = base.next else {
                return RowRes::Ok;
            };
            let tup = &t.heap[n];
            if tup.xmin != updater.xid || self.xid_status(tup.xmin) == XidStatus::Aborted {
                return RowRes::Ok;
            }
            let live: Vec<XmaxMember> = tup
                .xmax
                .iter()
                .filter(|m| {
                    let st = self.xid_status(m.xid);
                    st != XidStatus::Aborted && (m.update || st == XidStatus::InProgress)
                })
                .cloned()
                .collect();
            let held = live
                .iter()
                .any(|m| self.is_current(top, m.xid) && m.mode >= strength);
            let conflicting: Vec<&XmaxMember> = live
                .iter()
                .filter(|m| !self.is_current(top, m.xid) && row_conflicts(strength, m.mode))
                .collect();
            if conflicting
                .iter()
                .any(|m| m.update && self.xid_status(m.xid) == XidStatus::Committed)
            {
                return RowRes::Updated(tup.next);
            }
            if let Some(m) = conflicting.first() {
                let (b, o) = ctid(n);
                let context = Some(format!(
                    "while locking updated version ({b},{o}) of tuple in relation \"{table}\""
                ));
                let xwait = m.xid;
                match self.wait_for_xid(s, xwait, level, context, now, events) {
                    Ok(true) => continue,
                    Ok(false) => {
                        mark_wait_row(s, table, n, events);
                        return RowRes::Wait;
                    }
                    Err(e) => return RowRes::Fail(e),
                }
            }
            if !held {
                self.apply_row_op(s, table, n, RowOp::Lock(strength), strength, events);
            }
            prior = n;
        }
        RowRes::Ok
    }

    pub(super) fn release_tuple_lock(&mut self, s: &mut Session) {
        if let Some((tag, mode)) = s.tuple_lock.take() {
            if let Some(w) = self.locks.release_any(s.pid, tag, mode) {
                self.woken.extend(w);
            }
        }
    }

    /// Records a row lock, an update or a delete in the tuple (no conflicts remain).
    pub(super) fn apply_row_op(
        &mut self,
        s: &mut Session,
        table: &str,
        idx: usize,
        op: RowOp,
        strength: RowLockStrength,
        events: &mut Vec<Event>,
    ) {
        let xid = self.assign_xid(s, events);
        let cid = s.txn.as_ref().map_or(0, |t| t.cid);
        let pid = s.pid;
        let (statuses, carried) = self.xmax_survivors(s, table, idx);
        let ssi_write = self.ssi_active(s);
        let Some(t) = self.tables.get_mut(table) else {
            return;
        };
        let tup = &mut t.heap[idx];
        tup.xmax.retain(|m| {
            let st = statuses
                .iter()
                .find(|(x, _)| *x == m.xid)
                .map_or(XidStatus::InProgress, |(_, st)| *st);
            st != XidStatus::Aborted && (m.update || st == XidStatus::InProgress)
        });
        if !tup.xmax.iter().any(|m| m.update) {
            tup.next = None;
        }
        let kind = match op {
            RowOp::Lock(_) => OpKind::Lock,
            _ => OpKind::Write,
        };
        match op {
            RowOp::Lock(_) => {
                tup.xmax
                    .retain(|m| !(m.xid == xid && !m.update && m.mode <= strength));
                tup.xmax.push(XmaxMember {
                    xid,
                    mode: strength,
                    update: false,
                    cmax: cid,
                });
                events.push(Event::RowLocked {
                    pid,
                    table: table.to_string(),
                    ctid: ctid(idx),
                    strength,
                });
            }
            RowOp::Update(values, _) => {
                let update = XmaxMember {
                    xid,
                    mode: strength,
                    update: true,
                    cmax: cid,
                };
                let new_idx = write_new_version(t, idx, update, values, carried);
                events.push(Event::TupleWritten {
                    pid,
                    table: table.to_string(),
                    ctid: ctid(new_idx),
                    kind: WriteKind::Update,
                });
            }
            RowOp::Delete => {
                tup.xmax.push(XmaxMember {
                    xid,
                    mode: RowLockStrength::Update,
                    update: true,
                    cmax: cid,
                });
                events.push(Event::TupleWritten {
                    pid,
                    table: table.to_string(),
                    ctid: ctid(idx),
                    kind: WriteKind::Delete,
                });
            }
        }
        if ssi_write && !matches!(kind, OpKind::Lock) {
            self.ssi_write(s, table, idx);
        }
    }

    /// The xmax members a row operation keeps: each member's status now, and the key-share
    /// locks of other transactions still running, which an update carries to the new version.
    fn xmax_survivors(
        &self,
        s: &Session,
        table: &str,
        idx: usize,
    ) -> (Vec<(Xid, XidStatus)>, Vec<XmaxMember>) {
        let row = &self.tables.get(table).expect("the row's table exists").heap[idx];
        // Forget members that no longer lock anything, as PostgreSQL compacts a MultiXact.
        let statuses: Vec<(Xid, XidStatus)> = row
            .xmax
            .iter()
            .map(|m| (m.xid, self.xid_status(m.xid)))
            .collect();
        let top = s.txn.as_ref().and_then(|t| t.xid);
        let carried = row
            .xmax
            .iter()
            .filter(|m| {
                !m.update
                    && self.xid_status(m.xid) == XidStatus::InProgress
                    && !self.is_current(top, m.xid)
                    && m.mode == RowLockStrength::KeyShare
            })
            .cloned()
            .collect();
        (statuses, carried)
    }

    /// Sleeps on `ShareLock on transaction xwait` (XactLockTableWait). Ok(true) when the
    /// transaction had already ended; Ok(false) when the backend now waits.
    pub(super) fn wait_for_xid(
        &mut self,
        s: &mut Session,
        xwait: Xid,
        level: u32,
        context: Option<String>,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        let tag = LockTag::Transaction(self.wait_target(xwait));
        match self.acquire(
            s,
            LockRequest {
                tag,
                mode: LockMode::Share,
                owner: Owner::Xact(level),
                nowait: false,
                context,
            },
            now,
            events,
        ) {
            Ok(true) => {
                if let Some(w) = self.locks.release_any(s.pid, tag, LockMode::Share) {
                    self.woken.extend(w);
                }
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(AcquireFailure::WouldBlock) => Ok(false),
            Err(AcquireFailure::Deadlock(e)) => Err(e),
        }
    }
}

/// UPDATE's half of a row operation: the old version `idx` of `t` takes the update in its xmax,
/// and the new version goes at the end of the heap, carrying `carried` (other transactions'
/// key-share locks). Returns the new version's index.
fn write_new_version(
    t: &mut Table,
    idx: usize,
    update: XmaxMember,
    values: Vec<Value>,
    carried: Vec<XmaxMember>,
) -> usize {
    let XmaxMember { xid, cmax: cid, .. } = update;
    let new_idx = t.heap.len();
    let tup = &mut t.heap[idx];
    // A lock this same (sub)transaction holds on the row merges into the update, which keeps
    // the stronger of the two (`compute_new_xmax_infomask` with xmax == add_to_xmax): after FOR
    // UPDATE, even a non-key UPDATE counts as a key update, so FOR KEY SHARE still conflicts
    // with it once it commits.
    let own_lock = tup
        .xmax
        .iter()
        .filter(|m| m.xid == xid && !m.update)
        .map(|m| m.mode)
        .max();
    let mode = own_lock.map_or(update.mode, |own| own.max(update.mode));
    tup.xmax.retain(|m| m.xid != xid || m.update);
    tup.xmax.push(XmaxMember { mode, ..update });
    tup.next = Some(new_idx);
    t.heap.push(Tuple {
        xmin: xid,
        cmin: cid,
        xmax: carried,
        next: None,
        values,
        indexed: true,
    });
    new_idx
}
