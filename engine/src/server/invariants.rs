//! Invariants of the server's state that hold after every step, whatever the workload. Debug
//! builds (the tests) assert them after each unit of work (`Server::step`) and after each step
//! of a world; the randomized tests also check them between their own calls. A violation is an
//! engine bug.

use super::locks::{Lock, LockMode, LockTag, Owner};
use super::txn::XidStatus;
use super::{Server, Xid};

impl Server {
    /// Every broken invariant, one sentence each (empty when all hold).
    pub(crate) fn invariant_violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.transaction_violations(&mut out);
        for (tag, lock) in &self.locks.locks {
            self.lock_violations(tag, lock, &mut out);
        }
        self.waiter_violations(&mut out);
        // A row lock or update in a tuple's xmax by a running transaction is that
        // transaction's: covered by the xid check, since the member's xid is running.
        out
    }

    /// Running xids and open transactions agree.
    fn transaction_violations(&self, out: &mut Vec<String>) {
        // A running xid belongs to the open transaction of a live backend: the top-level xid
        // of some session's transaction is its top.
        let running_tops: Vec<(super::Pid, Xid)> = self
            .sessions
            .values()
            .filter_map(|s| Some((s.pid, s.txn.as_ref()?.xid?)))
            .collect();
        // A failed transaction block was aborted at the error, before the client's ROLLBACK.
        let failed: Vec<super::Pid> = self
            .sessions
            .values()
            .filter(|s| s.txn.as_ref().is_some_and(|t| t.failed))
            .map(|s| s.pid)
            .collect();
        for (i, info) in self.xids.iter().enumerate() {
            let x = Xid(super::FIRST_XID + i as u32);
            if self.xid_status(x) != XidStatus::InProgress {
                continue;
            }
            if !running_tops.contains(&(info.pid, info.top)) {
                out.push(format!(
                    "xid {x} is in progress but backend {} runs no transaction {}",
                    info.pid, info.top
                ));
            }
        }
        for (pid, top) in &running_tops {
            if !failed.contains(pid) && self.xid_status(*top) != XidStatus::InProgress {
                out.push(format!("backend {pid}'s open transaction {top} has ended"));
            }
        }
    }

    /// Who holds and who queues for one lock.
    fn lock_violations(&self, tag: &LockTag, lock: &Lock, out: &mut Vec<String>) {
        for pl in &lock.procs {
            let Some(s) = self.sessions.get(&pl.pid) else {
                if !pl.holds.is_empty() {
                    out.push(format!(
                        "{tag} is held by backend {}, which is gone",
                        pl.pid
                    ));
                }
                continue;
            };
            for hold in &pl.holds {
                // Granted to a waiter that has not run since: it takes the lock up (and
                // for an xid's ShareLock, gives it straight back) at its next step.
                if s.granted == Some((*tag, hold.mode)) {
                    continue;
                }
                // Transaction-owned locks go when the transaction (or the subtransaction
                // that took them) ends.
                if let Owner::Xact(level) = hold.owner {
                    match &s.txn {
                        None => out.push(format!(
                            "backend {} holds {tag} with no transaction open",
                            pl.pid
                        )),
                        Some(t) if t.failed => out.push(format!(
                            "backend {} holds {tag} in a transaction aborted by an error",
                            pl.pid
                        )),
                        Some(t) if level > t.level() => out.push(format!(
                            "backend {} holds {tag} for savepoint level {level} of {}",
                            pl.pid,
                            t.level()
                        )),
                        _ => {}
                    }
                }
                match tag {
                    // Only the owner holds an xid's lock, in ExclusiveLock, while it runs;
                    // a waiter's ShareLock is given back as soon as it is granted.
                    LockTag::Transaction(x) => {
                        let top = self.top_of(*x);
                        let owns = s.txn.as_ref().and_then(|t| t.xid) == Some(top);
                        if hold.mode != LockMode::Exclusive || !owns {
                            out.push(format!(
                                "backend {} holds {:?} on {tag} of another transaction",
                                pl.pid, hold.mode
                            ));
                        } else if self.xid_status(*x) != XidStatus::InProgress {
                            out.push(format!("backend {} still holds {tag}", pl.pid));
                        }
                    }
                    // A tuple lock is held only while its backend works on that row.
                    LockTag::Tuple { .. } if s.tuple_lock.map(|(t, _)| t) != Some(*tag) => out
                        .push(format!(
                            "backend {} holds {tag} but is not locking that tuple",
                            pl.pid
                        )),
                    _ => {}
                }
            }
        }
        for waiter in &lock.queue {
            if self.locks.waiting.get(&waiter.pid).map(|(t, _)| t) != Some(tag) {
                out.push(format!(
                    "backend {} is queued for {tag} but waits for something else",
                    waiter.pid
                ));
            }
        }
    }

    /// Every waiting backend is queued once, and alive.
    fn waiter_violations(&self, out: &mut Vec<String>) {
        for (pid, (tag, _)) in &self.locks.waiting {
            let queued = self
                .locks
                .locks
                .get(tag)
                .map_or(0, |l| l.queue.iter().filter(|w| w.pid == *pid).count());
            if queued != 1 {
                out.push(format!(
                    "backend {pid} waits for {tag} and is queued {queued} times"
                ));
            }
            if !self.sessions.contains_key(pid) {
                out.push(format!("backend {pid} waits for {tag} but is gone"));
            }
        }
    }

    /// Whether the server has a session for `pid`, alive or ended by the server.
    pub(crate) fn has_session(&self, pid: super::Pid) -> bool {
        self.sessions.contains_key(&pid)
    }

    /// Panics if an invariant is broken: called after every unit of work in debug builds.
    #[cfg(debug_assertions)]
    pub(crate) fn assert_invariants(&self) {
        let broken = self.invariant_violations();
        assert!(
            broken.is_empty(),
            "the server's invariants are broken: {broken:#?}"
        );
    }
}
