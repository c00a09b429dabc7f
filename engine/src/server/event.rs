//! What the server reports as it runs: one [`Event`] per observable fact, each with a one-line
//! narration for learners. The UI renders events; it never re-derives engine facts.

use super::locks::{mode_name, LockMode, LockTag};
use super::{PgError, Pid, WaitReason, Xid};
use crate::sql::RowLockStrength;
use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};

/// Which timer fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TimerKind {
    /// The per-wait deadlock check after `deadlock_timeout`.
    DeadlockCheck,
    /// `lock_timeout` for the current wait.
    LockTimeout,
    /// `statement_timeout` for the current statement.
    StatementTimeout,
    /// `idle_in_transaction_session_timeout`.
    IdleInTransaction,
}

/// What the deadlock detector concluded.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeadlockVerdict {
    /// No cycle through the checking backend: it goes back to sleep, never checked again
    /// during this wait.
    NoDeadlock,
    /// A cycle made of soft edges was broken by reordering wait queues; nobody is aborted.
    SoftDeadlockResolved,
    /// A real deadlock: the checking backend is the victim.
    Deadlock {
        /// The cycle's DETAIL lines.
        detail: String,
    },
}

/// How a tuple version was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WriteKind {
    /// A new row.
    Insert,
    /// A new version of an existing row, appended at the end of the heap.
    Update,
    /// The version was marked deleted.
    Delete,
}

/// One observable fact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// A backend started.
    Connected {
        /// The backend.
        pid: Pid,
    },
    /// A backend ended.
    Disconnected {
        /// The backend.
        pid: Pid,
    },
    /// A statement began.
    StatementStarted {
        /// The backend.
        pid: Pid,
        /// The statement text.
        sql: String,
    },
    /// A snapshot was taken.
    SnapshotTaken {
        /// The backend.
        pid: Pid,
        /// Transactions still running at that moment, whose work the snapshot will not see.
        running: Vec<Xid>,
        /// The first xid not yet assigned.
        xmax: Xid,
    },
    /// A transaction block began.
    TransactionBegan {
        /// The backend.
        pid: Pid,
    },
    /// A transaction got its xid (at its first write or row lock) and locked it exclusively.
    XidAssigned {
        /// The backend.
        pid: Pid,
        /// The new xid.
        xid: Xid,
    },
    /// A transaction committed.
    TransactionCommitted {
        /// The backend.
        pid: Pid,
        /// Its xid, if it had one.
        xid: Option<Xid>,
    },
    /// A transaction rolled back (by ROLLBACK, an error, or the session ending).
    TransactionAborted {
        /// The backend.
        pid: Pid,
        /// Its xid, if it had one.
        xid: Option<Xid>,
    },
    /// A heavyweight lock was granted at once.
    LockGranted {
        /// The backend.
        pid: Pid,
        /// The lock.
        tag: LockTag,
        /// The mode.
        mode: LockMode,
    },
    /// A backend started waiting for a lock.
    LockWaiting {
        /// The backend.
        pid: Pid,
        /// What it waits for and who blocks it.
        reason: WaitReason,
    },
    /// A waiting backend got its lock.
    LockAcquiredAfterWait {
        /// The backend.
        pid: Pid,
        /// The lock.
        tag: LockTag,
        /// The mode.
        mode: LockMode,
    },
    /// A row lock was recorded in a tuple's xmax.
    RowLocked {
        /// The backend.
        pid: Pid,
        /// The table.
        table: String,
        /// The tuple's ctid.
        ctid: (u32, u16),
        /// The strength.
        strength: RowLockStrength,
    },
    /// A tuple version was written.
    TupleWritten {
        /// The backend.
        pid: Pid,
        /// The table.
        table: String,
        /// The ctid of the version written (the new one for an update).
        ctid: (u32, u16),
        /// Insert, update or delete.
        kind: WriteKind,
    },
    /// The deadlock detector ran in a waiting backend.
    DeadlockCheck {
        /// The backend that ran it.
        pid: Pid,
        /// What it found.
        verdict: DeadlockVerdict,
    },
    /// A timer fired.
    TimeoutFired {
        /// The backend.
        pid: Pid,
        /// Which timer.
        kind: TimerKind,
        /// Its setting.
        after: Duration,
    },
    /// A statement failed.
    Error {
        /// The backend.
        pid: Pid,
        /// The error as sent to the client.
        error: PgError,
    },
    /// A query string finished (successfully or not).
    QueryFinished {
        /// The backend.
        pid: Pid,
    },
    /// A line of the server log.
    Log {
        /// The backend.
        pid: Pid,
        /// When.
        at: Instant,
        /// The line, e.g. `ERROR:  deadlock detected`.
        line: String,
    },
}

impl Event {
    /// One plain-English line for learners.
    pub fn narration(&self) -> String {
        match self {
            Event::Connected { pid } => format!("Backend {pid} starts."),
            Event::Disconnected { pid } => format!("Backend {pid} ends."),
            Event::StatementStarted { pid, sql } => format!("Backend {pid} runs: {sql}"),
            Event::SnapshotTaken { pid, running, .. } => {
                if running.is_empty() {
                    format!("Backend {pid} takes a snapshot: it sees every committed change.")
                } else {
                    let list: Vec<String> = running.iter().map(|x| x.to_string()).collect();
                    format!(
                        "Backend {pid} takes a snapshot: transactions {} are still running, so their changes stay invisible to it.",
                        list.join(", ")
                    )
                }
            }
            Event::TransactionBegan { pid } => format!("Backend {pid} opens a transaction."),
            Event::XidAssigned { pid, xid } => format!(
                "Backend {pid} gets transaction id {xid} and holds ExclusiveLock on it until it ends."
            ),
            Event::TransactionCommitted { pid, xid } => match xid {
                Some(x) => format!(
                    "Backend {pid} commits transaction {x}; its locks are released."
                ),
                None => format!("Backend {pid} commits."),
            },
            Event::TransactionAborted { pid, xid } => match xid {
                Some(x) => format!(
                    "Transaction {x} of backend {pid} rolls back; its changes vanish and its locks are released."
                ),
                None => format!("Backend {pid} rolls back."),
            },
            Event::LockGranted { pid, tag, mode } => {
                format!("Backend {pid} takes {} on {tag}.", mode_name(*mode))
            }
            Event::LockWaiting { pid, reason } => {
                let blockers: Vec<String> = reason.blockers.iter().map(|p| p.to_string()).collect();
                if blockers.is_empty() {
                    format!(
                        "Backend {pid} waits for {} on {} (queued behind earlier waiters).",
                        mode_name(reason.mode),
                        reason.tag
                    )
                } else {
                    format!(
                        "Backend {pid} waits for {} on {}, blocked by {}.",
                        mode_name(reason.mode),
                        reason.tag,
                        blockers.join(", ")
                    )
                }
            }
            Event::LockAcquiredAfterWait { pid, tag, mode } => format!(
                "Backend {pid} stops waiting: it now holds {} on {tag}.",
                mode_name(*mode)
            ),
            Event::RowLocked {
                pid,
                table,
                ctid,
                strength,
            } => format!(
                "Backend {pid} locks row ({},{}) of {table} {}.",
                ctid.0,
                ctid.1,
                RowLockStrength::sql(*strength)
            ),
            Event::TupleWritten {
                pid,
                table,
                ctid,
                kind,
            } => match kind {
                WriteKind::Insert => format!(
                    "Backend {pid} inserts a row into {table} at ({},{}).",
                    ctid.0, ctid.1
                ),
                WriteKind::Update => format!(
                    "Backend {pid} writes a new row version into {table} at ({},{}), the end of the heap.",
                    ctid.0, ctid.1
                ),
                WriteKind::Delete => format!(
                    "Backend {pid} marks row ({},{}) of {table} deleted.",
                    ctid.0, ctid.1
                ),
            },
            Event::DeadlockCheck { pid, verdict } => match verdict {
                DeadlockVerdict::NoDeadlock => format!(
                    "Backend {pid} has waited deadlock_timeout and checks for a deadlock: none, so it keeps waiting."
                ),
                DeadlockVerdict::SoftDeadlockResolved => format!(
                    "Backend {pid} checks for a deadlock and breaks a cycle by reordering a lock's wait queue."
                ),
                DeadlockVerdict::Deadlock { .. } => format!(
                    "Backend {pid} checks for a deadlock and finds a cycle through itself: it aborts its own transaction."
                ),
            },
            Event::TimeoutFired { pid, kind, after } => {
                let name = match kind {
                    TimerKind::DeadlockCheck => "deadlock_timeout",
                    TimerKind::LockTimeout => "lock_timeout",
                    TimerKind::StatementTimeout => "statement_timeout",
                    TimerKind::IdleInTransaction => "idle_in_transaction_session_timeout",
                };
                format!("Backend {pid}: {name} ({after}) expires.")
            }
            Event::Error { pid, error } => format!(
                "Backend {pid} fails: {}: {} (SQLSTATE {}).",
                error.severity, error.message, error.code
            ),
            Event::QueryFinished { pid } => format!("Backend {pid} finishes its query."),
            Event::Log { line, .. } => line.clone(),
        }
    }
}
