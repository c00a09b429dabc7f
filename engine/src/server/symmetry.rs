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
    /// Destructured field by field, so that a new field fails to compile here until it is
    /// decided whether it keeps a backend from being blank.
    fn is_blank(&self) -> bool {
        let Session {
            // What makes blank backends differ, and is safe to rename or ignore (module docs).
            pid: _,
            gucs: _,
            activity: _,
            txn,
            query,
            outcome,
            wait,
            granted,
            tuple_lock,
            statement_deadline,
            idle_deadline,
            terminated,
            notices,
            ssi_failure,
        } = self;
        txn.is_none()
            && query.is_none()
            && outcome.is_none()
            && wait.is_none()
            && granted.is_none()
            && tuple_lock.is_none()
            && statement_deadline.is_none()
            && idle_deadline.is_none()
            && terminated.is_none()
            && notices.is_empty()
            && ssi_failure.is_none()
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
        // Destructured so that a new field fails to compile until it is hashed here.
        let Server {
            settings,
            tables,
            next_oid,
            xids,
            locks,
            sessions,
            next_pid,
            ssi,
            sequences,
            woken,
        } = self;
        settings.hash(state);
        tables.hash(state);
        next_oid.hash(state);
        xids.hash(state);
        locks.hash(state);
        next_pid.hash(state);
        ssi.hash(state);
        sequences.hash(state);
        woken.hash(state);
        let mut blank = Vec::new();
        for (pid, session) in sessions {
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
        // Destructured so that a new field fails to compile until it is compared here.
        let Server {
            settings,
            tables,
            next_oid,
            xids,
            locks,
            sessions,
            next_pid,
            ssi,
            sequences,
            woken,
        } = self;
        *settings == other.settings
            && *next_oid == other.next_oid
            && *next_pid == other.next_pid
            && *xids == other.xids
            && *locks == other.locks
            && *ssi == other.ssi
            && *sequences == other.sequences
            && *woken == other.woken
            && *tables == other.tables
            && sessions.len() == other.sessions.len()
            && sessions
                .iter()
                .all(|(p, s)| *p == pid || other.sessions.get(p) == Some(s))
    }
}
