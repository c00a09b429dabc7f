//! Transactions: xids and their fate, subtransactions (savepoints), snapshots and MVCC
//! visibility, commit and abort.
//!
//! As in PostgreSQL, a transaction gets an xid only when it first writes or locks a row, and
//! then holds ExclusiveLock on `transaction <xid>` until it ends; a backend that must wait for
//! a row sleeps on ShareLock on that lock. Subtransactions get their own xids (and xid locks)
//! on the same terms.

use super::event::Event;
use super::locks::{LockMode, LockTag, Owner};
use super::storage::Tuple;
use super::{Pid, Server, Session, Xid, FIRST_XID};
use crate::sql::IsolationLevel;
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// Where a transaction id stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum XidStatus {
    InProgress,
    Committed,
    Aborted,
}

/// What the server remembers about an xid (PostgreSQL's clog and subtrans).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct XidInfo {
    /// The top-level transaction's xid (itself for a top-level xid).
    pub top: Xid,
    pub status: XidStatus,
    pub pid: Pid,
}

/// A savepoint's subtransaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Sub {
    pub name: String,
    /// Its own xid, once it wrote or locked something.
    pub xid: Option<Xid>,
    /// Xids of inner subtransactions released into this one.
    pub merged: Vec<Xid>,
    /// An error aborted this subtransaction; only ROLLBACK [TO] is accepted.
    pub failed: bool,
}

/// A snapshot: which transactions' work is visible.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// The first xid not yet assigned when the snapshot was taken.
    pub xmax: Xid,
    /// Top-level xids running at that moment (other than the taker's own), ascending.
    pub running: Vec<Xid>,
}

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Txn {
    /// Opened by BEGIN (a transaction block), as opposed to one statement's implicit one.
    pub explicit: bool,
    pub isolation: IsolationLevel,
    /// An error aborted the top level; only ROLLBACK is accepted.
    pub failed: bool,
    pub xid: Option<Xid>,
    pub subs: Vec<Sub>,
    /// The transaction snapshot (REPEATABLE READ and SERIALIZABLE), once taken.
    pub snapshot: Option<Snapshot>,
    /// The current command id: one per statement.
    pub cid: u32,
    /// Set once a statement ran: SET TRANSACTION ISOLATION LEVEL is then too late.
    pub started_statements: bool,
    /// The SSI id of a SERIALIZABLE transaction, once it took its snapshot.
    pub ssi: Option<u64>,
    /// The session's settings before the transaction's first SET: a rollback restores them.
    pub saved_gucs: Option<super::Gucs>,
}

impl Txn {
    /// A new transaction.
    pub fn new(explicit: bool, isolation: IsolationLevel) -> Txn {
        Txn {
            explicit,
            isolation,
            failed: false,
            xid: None,
            subs: Vec::new(),
            snapshot: None,
            cid: 0,
            started_statements: false,
            ssi: None,
            saved_gucs: None,
        }
    }

    /// True when an error left the transaction (or its innermost savepoint) aborted.
    pub fn is_failed(&self) -> bool {
        self.failed || self.subs.last().is_some_and(|s| s.failed)
    }

    /// The subtransaction depth: 0 at top level.
    pub fn level(&self) -> u32 {
        self.subs.len() as u32
    }

    /// True for REPEATABLE READ and SERIALIZABLE, which use one snapshot per transaction.
    pub fn uses_transaction_snapshot(&self) -> bool {
        self.isolation != IsolationLevel::ReadCommitted
    }
}

/// What a reader needs to decide visibility.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Viewer<'a> {
    pub snapshot: &'a Snapshot,
    /// The reader's own top-level xid, if it has one.
    pub top: Option<Xid>,
    pub cid: u32,
}

impl Server {
    fn xid_info(&self, x: Xid) -> Option<&XidInfo> {
        self.xids.get(x.0.checked_sub(FIRST_XID)? as usize)
    }

    /// The effective status of an xid: an aborted subtransaction is aborted; otherwise its
    /// top-level transaction decides.
    pub(crate) fn xid_status(&self, x: Xid) -> XidStatus {
        let Some(info) = self.xid_info(x) else {
            // Xids before FIRST_XID belong to "bootstrap" data: committed.
            return XidStatus::Committed;
        };
        if info.status == XidStatus::Aborted {
            return XidStatus::Aborted;
        }
        match self.xid_info(info.top) {
            Some(top) => top.status,
            None => info.status,
        }
    }

    /// How many top-level transactions with an xid (those that locked or wrote a row) were
    /// rolled back, by ROLLBACK, an error or the end of their session: PostgreSQL's
    /// `pg_stat_database.xact_rollback`, counting only transactions that had done work.
    pub fn transactions_rolled_back_after_work(&self) -> usize {
        self.xids
            .iter()
            .enumerate()
            .filter(|(i, info)| {
                info.top.0 == FIRST_XID + *i as u32 && info.status == XidStatus::Aborted
            })
            .count()
    }

    /// The top-level xid of `x`.
    pub(crate) fn top_of(&self, x: Xid) -> Xid {
        self.xid_info(x).map_or(x, |i| i.top)
    }

    /// The backend running `x`, while it runs.
    pub(crate) fn xid_pid(&self, x: Xid) -> Option<Pid> {
        let i = self.xid_info(x)?;
        (self.xid_status(x) == XidStatus::InProgress).then_some(i.pid)
    }

    /// `TransactionIdIsCurrentTransactionId`: `x` is the reader's own (sub)transaction and not
    /// an aborted subtransaction.
    pub(crate) fn is_current(&self, top: Option<Xid>, x: Xid) -> bool {
        top.is_some_and(|t| self.top_of(x) == t) && self.xid_status(x) != XidStatus::Aborted
    }

    fn in_snapshot_as_running(&self, snap: &Snapshot, x: Xid) -> bool {
        let top = self.top_of(x);
        top >= snap.xmax || snap.running.binary_search(&top).is_ok()
    }

    /// Whether `x`'s work is visible to the snapshot (committed before it was taken).
    pub(crate) fn committed_before(&self, snap: &Snapshot, x: Xid) -> bool {
        self.xid_status(x) == XidStatus::Committed && !self.in_snapshot_as_running(snap, x)
    }

    /// MVCC visibility of one tuple version (`HeapTupleSatisfiesMVCC`).
    pub(crate) fn visible(&self, t: &Tuple, v: Viewer<'_>) -> bool {
        let inserted = if self.is_current(v.top, t.xmin) {
            t.cmin < v.cid
        } else {
            self.committed_before(v.snapshot, t.xmin)
        };
        if !inserted {
            return false;
        }
        for m in t.xmax.iter().filter(|m| m.update) {
            if self.is_current(v.top, m.xid) {
                if m.cmax < v.cid {
                    return false;
                }
            } else if self.committed_before(v.snapshot, m.xid) {
                return false;
            }
        }
        true
    }

    /// Whether any new snapshot would see the tuple (for the UI's live/dead marks).
    pub(crate) fn tuple_is_live(&self, t: &Tuple) -> bool {
        self.xid_status(t.xmin) == XidStatus::Committed
            && !t
                .xmax
                .iter()
                .any(|m| m.update && self.xid_status(m.xid) == XidStatus::Committed)
    }

    pub(crate) fn tuple_view(&self, i: usize, t: &Tuple) -> super::TupleView {
        super::TupleView {
            ctid: super::storage::ctid(i),
            xmin: t.xmin,
            xmax: t
                .xmax
                .iter()
                .map(|m| super::XmaxView {
                    xid: m.xid,
                    pid: self.xid_pid(m.xid),
                    strength: m.strength_or_mode(),
                    update: m.update,
                    active: self.xid_status(m.xid) == XidStatus::InProgress,
                })
                .collect(),
            values: t.values.iter().map(|v| v.to_text()).collect(),
            live: self.tuple_is_live(t),
            aborted: self.xid_status(t.xmin) == XidStatus::Aborted,
            waiters: Vec::new(),
        }
    }

    /// Takes a snapshot for backend `pid`.
    pub(crate) fn take_snapshot(&self, s: &Session, events: &mut Vec<Event>) -> Snapshot {
        let own = s.txn.as_ref().and_then(|t| t.xid);
        // Ascending, as the xids are assigned.
        let running: Vec<Xid> = self
            .xids
            .iter()
            .enumerate()
            .filter(|(i, info)| {
                let x = Xid(FIRST_XID + *i as u32);
                info.top == x && info.status == XidStatus::InProgress && Some(x) != own
            })
            .map(|(i, _)| Xid(FIRST_XID + i as u32))
            .collect();
        let snap = Snapshot {
            xmax: Xid(FIRST_XID + self.xids.len() as u32),
            running,
        };
        events.push(Event::SnapshotTaken {
            pid: s.pid,
            running: snap.running.clone(),
            xmax: snap.xmax,
        });
        snap
    }

    /// The xid the backend writes with: its innermost subtransaction's, assigning xids (top
    /// level first, as PostgreSQL does) where missing.
    pub(crate) fn assign_xid(&mut self, s: &mut Session, events: &mut Vec<Event>) -> Xid {
        let pid = s.pid;
        let Some(txn) = s.txn.as_mut() else {
            // Statements always run in a transaction; this is an engine bug, but a wrong xid
            // is better than a panic in the browser.
            return Xid(0);
        };
        let top = match txn.xid {
            Some(x) => x,
            None => {
                let x = Xid(FIRST_XID + self.xids.len() as u32);
                self.xids.push(XidInfo {
                    top: x,
                    status: XidStatus::InProgress,
                    pid,
                });
                txn.xid = Some(x);
                let _ = self.locks.acquire(
                    pid,
                    LockTag::Transaction(x),
                    LockMode::Exclusive,
                    Owner::Xact(0),
                    false,
                );
                events.push(Event::XidAssigned { pid, xid: x });
                x
            }
        };
        let mut current = top;
        for (i, sub) in txn.subs.iter_mut().enumerate() {
            current = match sub.xid {
                Some(x) => x,
                None => {
                    let x = Xid(FIRST_XID + self.xids.len() as u32);
                    self.xids.push(XidInfo {
                        top,
                        status: XidStatus::InProgress,
                        pid,
                    });
                    sub.xid = Some(x);
                    let _ = self.locks.acquire(
                        pid,
                        LockTag::Transaction(x),
                        LockMode::Exclusive,
                        Owner::Xact(i as u32 + 1),
                        false,
                    );
                    events.push(Event::XidAssigned { pid, xid: x });
                    x
                }
            };
        }
        current
    }

    fn set_status(&mut self, x: Xid, status: XidStatus) {
        if let Some(i) = x.0.checked_sub(FIRST_XID) {
            if let Some(info) = self.xids.get_mut(i as usize) {
                info.status = status;
            }
        }
    }

    /// Ends the transaction of `s` with a commit.
    pub(crate) fn commit_transaction(
        &mut self,
        s: &mut Session,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        let Some(txn) = s.txn.take() else {
            return;
        };
        if let Some(top) = txn.xid {
            for i in 0..self.xids.len() {
                if self.xids[i].top == top && self.xids[i].status == XidStatus::InProgress {
                    self.xids[i].status = XidStatus::Committed;
                }
            }
        }
        self.release_transaction(s, true);
        events.push(Event::TransactionCommitted {
            pid: s.pid,
            xid: txn.xid,
        });
        let _ = now;
    }

    /// Rolls back the whole transaction of `s`, if any.
    pub(crate) fn abort_transaction(
        &mut self,
        s: &mut Session,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        let Some(txn) = s.txn.take() else {
            return;
        };
        if let Some(g) = txn.saved_gucs.clone() {
            s.gucs = g;
        }
        self.abort_xids(&txn);
        self.release_transaction(s, false);
        events.push(Event::TransactionAborted {
            pid: s.pid,
            xid: txn.xid,
        });
        let _ = now;
    }

    /// What ending a transaction either way does: ends its SSI tracking and releases every
    /// transaction-scoped lock, queueing the waiters that can now go.
    fn release_transaction(&mut self, s: &mut Session, committed: bool) {
        self.ssi_end(s.pid, committed);
        let woken = self
            .locks
            .release_where(s.pid, |o| matches!(o, Owner::Xact(_)));
        self.woken.extend(woken);
        s.tuple_lock = None;
    }

    fn abort_xids(&mut self, txn: &Txn) {
        if let Some(top) = txn.xid {
            for i in 0..self.xids.len() {
                if self.xids[i].top == top {
                    self.xids[i].status = XidStatus::Aborted;
                }
            }
        }
    }

    /// An error inside a transaction: the innermost subtransaction is aborted if there is one
    /// (the block waits for ROLLBACK TO), else the whole transaction (the block waits for
    /// ROLLBACK; an implicit transaction just ends).
    pub(crate) fn abort_on_error(
        &mut self,
        s: &mut Session,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        let Some(txn) = s.txn.as_mut() else {
            return;
        };
        if !txn.explicit {
            self.abort_transaction(s, now, events);
            return;
        }
        if txn.failed {
            return;
        }
        if let Some(sub) = txn.subs.last() {
            if sub.failed {
                return;
            }
            let level = txn.subs.len() as u32;
            self.abort_subtransactions(s, level, events);
            if let Some(sub) = s.txn.as_mut().and_then(|t| t.subs.last_mut()) {
                sub.failed = true;
            }
            return;
        }
        let xid = txn.xid;
        let snapshot_txn = txn.clone();
        self.abort_xids(&snapshot_txn);
        self.ssi_end(s.pid, false);
        let woken = self
            .locks
            .release_where(s.pid, |o| matches!(o, Owner::Xact(_)));
        self.woken.extend(woken);
        s.tuple_lock = None;
        if let Some(txn) = s.txn.as_mut() {
            txn.failed = true;
            if let Some(g) = txn.saved_gucs.take() {
                s.gucs = g;
            }
        }
        events.push(Event::TransactionAborted { pid: s.pid, xid });
    }

    /// Aborts subtransactions at depth `level` and deeper: their xids become aborted and the
    /// locks they took are released. They stay on the stack (the caller pops or marks them).
    pub(crate) fn abort_subtransactions(
        &mut self,
        s: &mut Session,
        level: u32,
        events: &mut Vec<Event>,
    ) {
        let pid = s.pid;
        let Some(txn) = s.txn.as_mut() else {
            return;
        };
        let mut aborted = Vec::new();
        for sub in txn.subs.iter().skip(level.saturating_sub(1) as usize) {
            aborted.extend(sub.xid);
            aborted.extend(sub.merged.iter().copied());
        }
        for x in &aborted {
            self.set_status(*x, XidStatus::Aborted);
            events.push(Event::TransactionAborted { pid, xid: Some(*x) });
        }
        let woken = self
            .locks
            .release_where(pid, |o| matches!(o, Owner::Xact(l) if l >= level));
        self.woken.extend(woken);
        s.tuple_lock = None;
    }

    /// RELEASE SAVEPOINT: subtransactions at `level` and deeper merge into their parent.
    pub(crate) fn release_subtransactions(&mut self, s: &mut Session, level: u32) {
        let pid = s.pid;
        let Some(txn) = s.txn.as_mut() else {
            return;
        };
        let idx = level.saturating_sub(1) as usize;
        let mut xids = Vec::new();
        for sub in txn.subs.drain(idx..) {
            xids.extend(sub.xid);
            xids.extend(sub.merged);
        }
        if let Some(parent) = txn.subs.last_mut() {
            parent.merged.extend(xids.iter().copied());
        }
        // A committed subtransaction's xid lock goes away at once; whoever waited on it wakes
        // and, finding the xid still in progress, waits for the top-level transaction instead
        // (XactLockTableWait).
        for x in xids {
            let woken = self.locks.release_tag(pid, LockTag::Transaction(x));
            self.woken.extend(woken);
        }
        self.locks.reassign_to_level(pid, level.saturating_sub(1));
    }

    /// What `XactLockTableWait(x)` ends up sleeping on: `x` itself while its lock is held,
    /// else (a committed subtransaction of a running transaction) the top-level xid.
    pub(crate) fn wait_target(&self, x: Xid) -> Xid {
        let held = self
            .locks
            .locks
            .get(&LockTag::Transaction(x))
            .is_some_and(|l| l.procs.iter().any(|p| !p.holds.is_empty()));
        if !held && self.xid_status(x) == XidStatus::InProgress {
            self.top_of(x)
        } else {
            x
        }
    }
}

impl super::storage::XmaxMember {
    /// The member's strength, for views.
    pub fn strength_or_mode(&self) -> crate::sql::RowLockStrength {
        self.mode
    }
}
