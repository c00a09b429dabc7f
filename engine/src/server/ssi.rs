//! Serializable snapshot isolation, following PostgreSQL's `predicate.c` at the level the
//! lessons and specs need.
//!
//! SERIALIZABLE transactions record what they read as SIREAD locks on whole tables (lesson
//! tables fit in one heap page and one index leaf page, and PostgreSQL's page-level locks then
//! cover the whole table too) and what they wrote. A read of something a concurrent
//! serializable transaction wrote, or a write of something a concurrent one read, is an
//! rw-antidependency `reader -> writer`. Each new conflict is checked at once as
//! `OnConflict_CheckForSerializationFailure` does: a dangerous structure `T0 -> R -> W -> T2`
//! whose outgoing side committed first fails the current transaction right away or dooms the
//! other one; at commit, `PreCommit_CheckForSerializationFailure` fails a doomed transaction and
//! dooms pivots it would leave behind. The error is
//! `could not serialize access due to read/write dependencies among transactions` (40001).
//! Not modelled: READ ONLY optimisations, summarised conflicts, prepared transactions.

use super::txn::{Viewer, XidStatus};
use super::{PgError, Pid, Server, Session, Xid};
use crate::sql::IsolationLevel;
use litemap::LiteMap;
use serde::{Deserialize, Serialize};

/// One SERIALIZABLE transaction as SSI sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct SsiTxn {
    pid: Pid,
    /// Logical time of its snapshot.
    begin: u64,
    /// Logical time of its commit, once committed.
    commit: Option<u64>,
    /// Another transaction decided this one must fail.
    doomed: bool,
    /// Its top-level xid, once it wrote something.
    xid: Option<Xid>,
}

/// SSI bookkeeping for the whole server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Ssi {
    next_id: u64,
    clock: u64,
    txns: LiteMap<u64, SsiTxn>,
    /// (transaction, table OID): SIREAD locks (a set: keys with no values).
    reads: LiteMap<(u64, u32), ()>,
    /// rw-antidependencies (reader, writer).
    conflicts: LiteMap<(u64, u64), ()>,
}

/// Why a serializable transaction is cancelled (PostgreSQL's "Reason code").
fn failure(reason: &str) -> PgError {
    PgError::serialization_failure(&format!("Reason code: {reason}."))
}

impl Ssi {
    /// Two transactions overlap when neither committed before the other's snapshot.
    fn concurrent(&self, a: u64, b: u64) -> bool {
        let (Some(x), Some(y)) = (self.txns.get(&a), self.txns.get(&b)) else {
            return false;
        };
        x.commit.is_none_or(|c| c > y.begin) && y.commit.is_none_or(|c| c > x.begin)
    }

    fn commit_of(&self, t: u64) -> Option<u64> {
        self.txns.get(&t).and_then(|x| x.commit)
    }

    fn doomed(&self, t: u64) -> bool {
        self.txns.get(&t).is_some_and(|x| x.doomed)
    }

    /// `OnConflict_CheckForSerializationFailure`, for a new conflict `reader -> writer`.
    /// Returns the error for the current transaction `me`, dooming another one instead when
    /// that is PostgreSQL's choice.
    fn on_conflict(&mut self, reader: u64, writer: u64, me: u64) -> Option<PgError> {
        if self.conflicts.insert((reader, writer), ()).is_some() {
            return None;
        }
        let r_commit = self.commit_of(reader);
        let w_commit = self.commit_of(writer);
        // R -> W -> T2 with T2 committed first (before R and W if they committed).
        let mut fail = self.conflicts.keys().any(|&(w, t2)| {
            w == writer
                && self.commit_of(t2).is_some_and(|c2| {
                    r_commit.is_none_or(|rc| c2 <= rc) && w_commit.is_none_or(|wc| c2 <= wc)
                })
        });
        // T0 -> R -> W with W committed, unless T0 committed before W.
        if !fail {
            if let Some(wc) = w_commit {
                fail = self.conflicts.keys().any(|&(t0, r)| {
                    r == reader && !self.doomed(t0) && self.commit_of(t0).is_none_or(|c0| c0 >= wc)
                });
            }
        }
        if !fail {
            return None;
        }
        if writer == me {
            return Some(failure(
                "Canceled on identification as a pivot, during write",
            ));
        }
        if w_commit.is_some() {
            return Some(failure("Canceled on conflict out to pivot, during read"));
        }
        if let Some(t) = self.txns.get_mut(&writer) {
            t.doomed = true;
        }
        None
    }
}

impl Server {
    /// Registers a SERIALIZABLE transaction when it takes its snapshot.
    pub(crate) fn ssi_begin(&mut self, s: &mut Session) {
        let Some(t) = s.txn.as_mut() else {
            return;
        };
        if t.isolation != IsolationLevel::Serializable || t.ssi.is_some() {
            return;
        }
        let id = self.ssi.next_id;
        self.ssi.next_id += 1;
        self.ssi.clock += 1;
        self.ssi.txns.insert(
            id,
            SsiTxn {
                pid: s.pid,
                begin: self.ssi.clock,
                commit: None,
                doomed: false,
                xid: None,
            },
        );
        t.ssi = Some(id);
    }

    /// True when `s` runs a SERIALIZABLE transaction that SSI tracks.
    pub(crate) fn ssi_active(&self, s: &Session) -> bool {
        s.txn.as_ref().is_some_and(|t| t.ssi.is_some())
    }

    fn ssi_id(s: &Session) -> Option<u64> {
        s.txn.as_ref().and_then(|t| t.ssi)
    }

    /// Records a failure for the running statement of `s` (checked after the current step).
    fn ssi_fail(s: &mut Session, e: PgError) {
        if s.ssi_failure.is_none() {
            s.ssi_failure = Some(e);
        }
    }

    /// A doomed transaction fails at its next read or write.
    fn ssi_check_doomed(&self, s: &mut Session, me: u64) -> bool {
        if self.ssi.doomed(me) {
            Self::ssi_fail(
                s,
                failure("Canceled on identification as a pivot, during conflict out checking"),
            );
            return true;
        }
        false
    }

    /// `s` scans table `oid`: a SIREAD lock on the table (a sequential scan, or an index scan
    /// whose single leaf page holds the whole small table). Later writers of the table get an
    /// rw-conflict from it.
    pub(crate) fn ssi_read_relation(&mut self, s: &mut Session, oid: u32) {
        let Some(me) = Self::ssi_id(s) else {
            return;
        };
        if self.ssi_check_doomed(s, me) {
            return;
        }
        self.ssi.reads.insert((me, oid), ());
    }

    /// The SSI transaction that runs (or ran) top-level xid `x`.
    fn ssi_of_xid(&self, x: Xid) -> Option<u64> {
        let top = self.top_of(x);
        self.ssi
            .txns
            .iter()
            .find(|(_, t)| t.xid == Some(top))
            .map(|(id, _)| *id)
    }

    /// `CheckForSerializableConflictOut`: the scan of `s` examined tuple `idx` of `table`. If a
    /// concurrent serializable transaction wrote this version (or deleted/updated it) in a way
    /// the snapshot does not show, that is an rw-conflict from us to it.
    pub(crate) fn ssi_examine(&mut self, s: &mut Session, table: &str, idx: usize, v: Viewer<'_>) {
        let Some(me) = Self::ssi_id(s) else {
            return;
        };
        if self.ssi_check_doomed(s, me) {
            return;
        }
        let Some(t) = self.tables.get(table).and_then(|t| t.heap.get(idx)) else {
            return;
        };
        let hidden = |x: Xid| {
            !self.is_current(v.top, x)
                && self.xid_status(x) != XidStatus::Aborted
                && !self.committed_before(v.snapshot, x)
        };
        let mut writers = Vec::new();
        if hidden(t.xmin) {
            writers.extend(self.ssi_of_xid(t.xmin));
        }
        for m in t.xmax.iter().filter(|m| m.update) {
            if hidden(m.xid) {
                writers.extend(self.ssi_of_xid(m.xid));
            }
        }
        for w in writers {
            if w != me && self.ssi.concurrent(me, w) {
                if let Some(e) = self.ssi.on_conflict(me, w, me) {
                    Self::ssi_fail(s, e);
                    return;
                }
            }
        }
    }

    /// `s` wrote (updated, deleted or inserted) tuple `idx` of `table`.
    pub(crate) fn ssi_write(&mut self, s: &mut Session, table: &str, idx: usize) {
        let _ = idx;
        let Some(me) = Self::ssi_id(s) else {
            return;
        };
        if self.ssi_check_doomed(s, me) {
            return;
        }
        let Some(oid) = self.tables.get(table).map(|t| t.oid) else {
            return;
        };
        let top = s.txn.as_ref().and_then(|t| t.xid);
        if let Some(t) = self.ssi.txns.get_mut(&me) {
            t.xid = t.xid.or(top);
        }
        let readers: Vec<u64> = self
            .ssi
            .reads
            .keys()
            .filter(|(r, rel)| *r != me && *rel == oid)
            .map(|(r, _)| *r)
            .collect();
        for r in readers {
            if self.ssi.concurrent(r, me) {
                if let Some(e) = self.ssi.on_conflict(r, me, me) {
                    Self::ssi_fail(s, e);
                    return;
                }
            }
        }
    }

    /// `PreCommit_CheckForSerializationFailure`: a doomed transaction fails; otherwise the
    /// pivots this commit would leave in a dangerous structure are doomed.
    pub(crate) fn ssi_precommit(&mut self, s: &Session) -> Result<(), PgError> {
        let Some(me) = Self::ssi_id(s) else {
            return Ok(());
        };
        if self.ssi.doomed(me) {
            return Err(failure(
                "Canceled on identification as a pivot, during commit attempt",
            ));
        }
        let near: Vec<u64> = self
            .ssi
            .conflicts
            .keys()
            .filter(|(_, w)| *w == me)
            .map(|(r, _)| *r)
            .collect();
        for t_in in near {
            if self.ssi.commit_of(t_in).is_some() || self.ssi.doomed(t_in) {
                continue;
            }
            let dangerous = self.ssi.conflicts.keys().any(|&(far, w)| {
                w == t_in
                    && (far == me || (self.ssi.commit_of(far).is_none() && !self.ssi.doomed(far)))
            });
            if dangerous {
                if let Some(t) = self.ssi.txns.get_mut(&t_in) {
                    t.doomed = true;
                }
            }
        }
        Ok(())
    }

    /// The transaction of `pid` ended. A committed one stays known while transactions that
    /// overlap it still run; an aborted one is forgotten.
    pub(crate) fn ssi_end(&mut self, pid: Pid, committed: bool) {
        let Some(id) = self
            .ssi
            .txns
            .iter()
            .find(|(_, t)| t.pid == pid && t.commit.is_none())
            .map(|(id, _)| *id)
        else {
            return;
        };
        if committed {
            self.ssi.clock += 1;
            let at = self.ssi.clock;
            if let Some(t) = self.ssi.txns.get_mut(&id) {
                t.commit = Some(at);
            }
        } else {
            self.ssi.txns.remove(&id);
            self.ssi.reads.retain(|(t, _), _| *t != id);
            self.ssi.conflicts.retain(|(r, w), _| *r != id && *w != id);
        }
        if self.ssi.txns.values().all(|t| t.commit.is_some()) {
            // Nobody can form a dangerous structure with finished transactions alone.
            self.ssi.txns.clear();
            self.ssi.reads.clear();
            self.ssi.conflicts.clear();
        }
    }
}
