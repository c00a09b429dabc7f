//! What the explorer's symmetry reduction needs from the server: which backends are *blank*
//! (idle, outside any transaction, holding and awaiting nothing), a hash in which blank backends
//! are anonymous, and whether a step changed nothing but one backend's own session.
//!
//! A blank backend differs from another blank backend only by its pid, its settings and the
//! text of the last statement it ran. The pid of a blank backend is referenced nowhere that
//! matters: not by locks or wait queues (it holds and awaits nothing), and only by finished
//! transactions in the xid and SSI tables, whose pid is read only while they are in progress.
//! The last statement's text is only read while a statement runs (for log lines), and the next
//! statement replaces it. So two servers that differ only in which pids their blank backends
//! have, or in what those backends ran last, behave alike once the pids are renamed.

use super::{Pid, Server, Session};
use crate::explore::fingerprint::fingerprint;
use std::hash::{Hash, Hasher};

impl Session {
    fn is_blank(&self) -> bool {
        self.txn.is_none()
            && self.query.is_none()
            && self.outcome.is_none()
            && self.wait.is_none()
            && self.granted.is_none()
            && self.tuple_lock.is_none()
            && self.statement_deadline.is_none()
            && self.idle_deadline.is_none()
            && self.terminated.is_none()
            && self.notices.is_empty()
            && self.ssi_failure.is_none()
    }
}

impl Server {
    /// Whether backend `pid` is blank: idle, outside any transaction, holding and awaiting no
    /// lock, with no timer and nothing unread. Such backends are interchangeable (see the module
    /// docs).
    pub fn session_is_blank(&self, pid: Pid) -> bool {
        self.sessions.get(&pid).is_some_and(Session::is_blank)
            && !self.locks.waiting.contains_key(&pid)
            && self.locks.locks.values().all(|lock| {
                lock.procs.iter().all(|p| p.pid != pid) && lock.queue.iter().all(|w| w.pid != pid)
            })
    }

    /// Hashes the server as its `Hash` does, except that blank backends are hashed without their
    /// pid and last statement, as a sorted list: two servers that differ only in those hash
    /// alike.
    pub fn hash_with_anonymous_blank_sessions<H: Hasher>(&self, state: &mut H) {
        self.settings.hash(state);
        self.tables.hash(state);
        self.next_oid.hash(state);
        self.xids.hash(state);
        self.locks.hash(state);
        self.next_pid.hash(state);
        self.ssi.hash(state);
        self.sequences.hash(state);
        self.woken.hash(state);
        let mut blank = Vec::new();
        for (pid, session) in &self.sessions {
            if self.session_is_blank(*pid) {
                blank.push(fingerprint(&session.gucs));
            } else {
                pid.hash(state);
                session.hash(state);
            }
        }
        blank.sort_unstable();
        blank.hash(state);
    }

    /// Whether `other` equals this server except in backend `pid`'s session: what a step that
    /// only ran a statement of that backend to its end, leaving nothing behind, looks like.
    pub fn equal_except_session(&self, other: &Server, pid: Pid) -> bool {
        self.settings == other.settings
            && self.next_oid == other.next_oid
            && self.next_pid == other.next_pid
            && self.xids == other.xids
            && self.locks == other.locks
            && self.ssi == other.ssi
            && self.sequences == other.sequences
            && self.woken == other.woken
            && self.tables == other.tables
            && self.sessions.len() == other.sessions.len()
            && self
                .sessions
                .iter()
                .all(|(p, s)| *p == pid || other.sessions.get(p) == Some(s))
    }
}
