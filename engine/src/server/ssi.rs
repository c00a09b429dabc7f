//! Serializable snapshot isolation, reduced to what the lessons and specs need.
//!
//! SERIALIZABLE transactions record what they read (a whole table for a sequential scan, single
//! row versions otherwise: PostgreSQL's SIREAD predicate locks) and what they wrote. A read of
//! something a concurrent serializable transaction wrote, or a write of something a concurrent
//! one read, is an rw-antidependency `reader -> writer`. A transaction that tries to commit as
//! the pivot of a dangerous structure — an rw-conflict in, and an rw-conflict out to a
//! transaction that already committed — fails with `could not serialize access due to
//! read/write dependencies among transactions` (40001), as PostgreSQL's
//! `PreCommit_CheckForSerializationFailure` does. Write skew is caught; false positives and
//! the read-only optimisations of the real implementation are not modelled.

use super::{PgError, Pid, Server, Session};
use crate::sql::IsolationLevel;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One SERIALIZABLE transaction as SSI sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct SsiTxn {
    pid: Pid,
    /// Logical time of its snapshot.
    begin: u64,
    /// Logical time of its commit, once committed.
    commit: Option<u64>,
}

/// SSI bookkeeping for the whole server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Ssi {
    next_id: u64,
    clock: u64,
    txns: BTreeMap<u64, SsiTxn>,
    /// (transaction, table OID, row version or None for the whole table).
    reads: BTreeSet<(u64, u32, Option<usize>)>,
    /// (transaction, table OID, row version written or inserted).
    writes: BTreeSet<(u64, u32, usize)>,
    /// rw-antidependencies (reader, writer).
    conflicts: BTreeSet<(u64, u64)>,
}

impl Ssi {
    /// Two transactions overlap when neither committed before the other's snapshot.
    fn concurrent(&self, a: u64, b: u64) -> bool {
        let (Some(x), Some(y)) = (self.txns.get(&a), self.txns.get(&b)) else {
            return false;
        };
        x.commit.is_none_or(|c| c > y.begin) && y.commit.is_none_or(|c| c > x.begin)
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

    fn ssi_read(&mut self, s: &Session, oid: u32, idx: Option<usize>) {
        let Some(me) = Self::ssi_id(s) else {
            return;
        };
        self.ssi.reads.insert((me, oid, idx));
        let writers: Vec<u64> = self
            .ssi
            .writes
            .iter()
            .filter(|(w, rel, i)| *w != me && *rel == oid && idx.is_none_or(|x| x == *i))
            .map(|(w, _, _)| *w)
            .collect();
        for w in writers {
            if self.ssi.concurrent(me, w) {
                self.ssi.conflicts.insert((me, w));
            }
        }
    }

    /// A sequential scan of table `oid` by `s`.
    pub(crate) fn ssi_read_relation(&mut self, s: &Session, oid: u32) {
        self.ssi_read(s, oid, None);
    }

    /// `s` read tuple `idx` of `table`.
    pub(crate) fn ssi_read_tuple(&mut self, s: &Session, table: &str, idx: usize) {
        if let Some(oid) = self.tables.get(table).map(|t| t.oid) {
            self.ssi_read(s, oid, Some(idx));
        }
    }

    /// `s` wrote (updated, deleted or inserted) tuple `idx` of `table`.
    pub(crate) fn ssi_write(&mut self, s: &Session, table: &str, idx: usize) {
        let Some(me) = Self::ssi_id(s) else {
            return;
        };
        let Some(oid) = self.tables.get(table).map(|t| t.oid) else {
            return;
        };
        self.ssi.writes.insert((me, oid, idx));
        let readers: Vec<u64> = self
            .ssi
            .reads
            .iter()
            .filter(|(r, rel, i)| *r != me && *rel == oid && i.is_none_or(|x| x == idx))
            .map(|(r, _, _)| *r)
            .collect();
        for r in readers {
            if self.ssi.concurrent(r, me) {
                self.ssi.conflicts.insert((r, me));
            }
        }
    }

    /// The commit-time check: fail when committing would make this transaction the pivot of
    /// a dangerous structure whose outgoing side already committed.
    pub(crate) fn ssi_precommit(&mut self, s: &Session) -> Result<(), PgError> {
        let Some(me) = Self::ssi_id(s) else {
            return Ok(());
        };
        let has_in = self.ssi.conflicts.iter().any(|(_, w)| *w == me);
        let out_committed = self
            .ssi
            .conflicts
            .iter()
            .any(|(r, w)| *r == me && self.ssi.txns.get(w).is_some_and(|t| t.commit.is_some()));
        if has_in && out_committed {
            return Err(PgError::serialization_failure(
                "Reason code: Canceled on identification as a pivot, during commit attempt.",
            ));
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
            self.ssi.reads.retain(|(t, _, _)| *t != id);
            self.ssi.writes.retain(|(t, _, _)| *t != id);
            self.ssi.conflicts.retain(|(r, w)| *r != id && *w != id);
        }
        if self.ssi.txns.values().all(|t| t.commit.is_some()) {
            // Nobody can form a dangerous structure with finished transactions alone.
            self.ssi.txns.clear();
            self.ssi.reads.clear();
            self.ssi.writes.clear();
            self.ssi.conflicts.clear();
        }
    }
}
