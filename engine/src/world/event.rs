//! What happened in one step: the world's events, each with a one-line narration and the task
//! it concerns. The UI renders these; it never re-derives engine facts.

use super::protocol::{Backend, Frontend};
use super::schedule::TaskId;
use super::view::BlockReason;
use super::ConnId;
use crate::server;
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// Something happened inside PostgreSQL.
    Server(server::Event),
    /// The clock jumped to the next timer.
    ClockAdvanced { to: Instant },
    /// A task took its first step.
    TaskStarted { task: TaskId, name: String },
    /// A task cannot go on until something else happens.
    TaskBlocked {
        task: TaskId,
        name: String,
        reason: BlockReason,
    },
    /// A task returned nil.
    TaskFinished { task: TaskId, name: String },
    /// A task returned an error, with Go's exact text.
    TaskFailed {
        task: TaskId,
        name: String,
        error: String,
    },
    /// A task spawned a goroutine.
    GoroutineSpawned {
        task: TaskId,
        child: TaskId,
        name: String,
    },
    /// A task asked a pool for a connection.
    AcquireRequested { task: TaskId, pool: String },
    /// A pool gave a task a connection.
    AcquireGranted {
        task: TaskId,
        pool: String,
        conn: ConnId,
    },
    /// A pool was full: the task joins the queue behind `ahead` others.
    AcquireQueued {
        task: TaskId,
        pool: String,
        ahead: usize,
    },
    /// The task's context ended while it waited for the pool.
    AcquireFailed {
        task: TaskId,
        pool: String,
        error: String,
    },
    /// A connection went back to its pool.
    ConnectionReleased {
        task: TaskId,
        pool: String,
        conn: ConnId,
    },
    /// A pool opened a new server connection.
    ConnectionOpened {
        task: Option<TaskId>,
        pool: String,
        conn: ConnId,
        pid: server::Pid,
    },
    /// The server refused a new connection.
    ConnectionRefused {
        task: TaskId,
        pool: String,
        error: String,
    },
    /// A connection was closed (its server session ends, rolling back any transaction).
    ConnectionClosed {
        task: Option<TaskId>,
        conn: ConnId,
        why: String,
    },
    /// The driver will not use this connection again.
    ConnectionMarkedBad {
        task: TaskId,
        conn: ConnId,
        error: String,
    },
    /// A client wrote a message.
    MessageSent {
        task: TaskId,
        conn: ConnId,
        message: Frontend,
    },
    /// A backend queued a reply.
    MessageQueued { conn: ConnId, message: Backend },
    /// A client read a message.
    MessageReceived {
        task: TaskId,
        conn: ConnId,
        message: Backend,
    },
    /// A task ran a deferred operation.
    DeferredRan { task: TaskId, line: u32, op: String },
    /// A task recorded a value for the invariants.
    ValueRecorded {
        task: TaskId,
        name: String,
        var: String,
        value: Option<String>,
    },
    /// A context ended.
    ContextEnded { task: TaskId, error: String },
    /// database/sql rolled a transaction back because its context ended.
    TransactionRolledBackByContext { task: TaskId, conn: ConnId },
    /// An invariant does not hold at the end.
    InvariantViolated {
        invariant: String,
        explanation: String,
    },
}

/// How much an event matters to a learner: what the session groups into one step and what the
/// status line tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Significance {
    /// A wire-protocol message: the point of a lesson about the protocol, detail elsewhere.
    Protocol,
    /// Bookkeeping a learner would not name (a snapshot, an xid, a tuple lock that only orders
    /// waiters, a log line, a connection opened on the way to being handed out).
    Detail,
    /// Something a learner would name: a statement starts or returns, a row is locked or
    /// written, a task waits, commits, rolls back, finishes or fails, the pool hands out or
    /// takes back a connection, the detector or a timer fires.
    Learner,
}

impl Event {
    /// The task the event concerns, if any.
    pub fn task(&self) -> Option<TaskId> {
        match self {
            Event::Server(_) | Event::ClockAdvanced { .. } | Event::MessageQueued { .. } => None,
            Event::InvariantViolated { .. } => None,
            Event::ConnectionOpened { task, .. } | Event::ConnectionClosed { task, .. } => *task,
            Event::TaskStarted { task, .. }
            | Event::TaskBlocked { task, .. }
            | Event::TaskFinished { task, .. }
            | Event::TaskFailed { task, .. }
            | Event::GoroutineSpawned { task, .. }
            | Event::AcquireRequested { task, .. }
            | Event::AcquireGranted { task, .. }
            | Event::AcquireQueued { task, .. }
            | Event::AcquireFailed { task, .. }
            | Event::ConnectionReleased { task, .. }
            | Event::ConnectionRefused { task, .. }
            | Event::ConnectionMarkedBad { task, .. }
            | Event::MessageSent { task, .. }
            | Event::MessageReceived { task, .. }
            | Event::DeferredRan { task, .. }
            | Event::ValueRecorded { task, .. }
            | Event::ContextEnded { task, .. }
            | Event::TransactionRolledBackByContext { task, .. } => Some(*task),
        }
    }

    /// How much the event matters to a learner.
    pub fn significance(&self) -> Significance {
        use crate::server::Event as S;
        match self {
            Event::MessageSent { .. }
            | Event::MessageQueued { .. }
            | Event::MessageReceived { .. } => Significance::Protocol,
            Event::AcquireRequested { .. }
            | Event::AcquireQueued { .. }
            | Event::ConnectionOpened { .. }
            | Event::DeferredRan { .. }
            | Event::InvariantViolated { .. } => Significance::Detail,
            Event::Server(s) => match s {
                S::Connected { .. }
                | S::Disconnected { .. }
                | S::SnapshotTaken { .. }
                | S::TransactionBegan { .. }
                | S::XidAssigned { .. }
                | S::LockGranted { .. }
                | S::Log { .. }
                // A statement's end shows in what its task does next.
                | S::QueryFinished { .. } => Significance::Detail,
                // The end of an implicit or read-only transaction: the statement says it.
                S::TransactionCommitted { xid: None, .. } | S::TransactionAborted { xid: None, .. } => {
                    Significance::Detail
                }
                // A tuple lock only orders the waiters for a row.
                S::LockAcquiredAfterWait {
                    tag: crate::server::locks::LockTag::Tuple { .. },
                    ..
                } => Significance::Detail,
                S::StatementStarted { .. }
                | S::TransactionCommitted { .. }
                | S::TransactionAborted { .. }
                | S::LockWaiting { .. }
                | S::LockAcquiredAfterWait { .. }
                | S::RowLocked { .. }
                | S::TupleWritten { .. }
                | S::DeadlockCheck { .. }
                | S::TimeoutFired { .. }
                | S::Error { .. } => Significance::Learner,
            },
            Event::ClockAdvanced { .. }
            | Event::TaskStarted { .. }
            | Event::TaskBlocked { .. }
            | Event::TaskFinished { .. }
            | Event::TaskFailed { .. }
            | Event::GoroutineSpawned { .. }
            | Event::AcquireGranted { .. }
            | Event::AcquireFailed { .. }
            | Event::ConnectionReleased { .. }
            | Event::ConnectionRefused { .. }
            | Event::ConnectionClosed { .. }
            | Event::ConnectionMarkedBad { .. }
            | Event::ValueRecorded { .. }
            | Event::ContextEnded { .. }
            | Event::TransactionRolledBackByContext { .. } => Significance::Learner,
        }
    }

    /// One line for the timeline.
    pub fn narration(&self) -> String {
        match self {
            Event::Server(e) => e.narration(),
            Event::ClockAdvanced { to } => format!("the clock advances to {to}"),
            Event::TaskStarted { name, .. } => format!("{name} starts"),
            Event::TaskBlocked { name, reason, .. } => format!("{name} blocks: {reason}"),
            Event::TaskFinished { name, .. } => format!("{name} returns nil"),
            Event::TaskFailed { name, error, .. } => format!("{name} fails: {error}"),
            Event::GoroutineSpawned { name, .. } => format!("goroutine {name} starts"),
            Event::AcquireRequested { pool, .. } => format!("asks pool {pool} for a connection"),
            Event::AcquireGranted { pool, conn, .. } => format!("gets {conn} from pool {pool}"),
            Event::AcquireQueued { pool, ahead, .. } => {
                format!("pool {pool} is full: waits in Acquire behind {ahead} other(s)")
            }
            Event::AcquireFailed { pool, error, .. } => {
                format!("gives up waiting for pool {pool}: {error}")
            }
            Event::ConnectionReleased { pool, conn, .. } => {
                format!("gives {conn} back to pool {pool}")
            }
            Event::ConnectionOpened {
                pool, conn, pid, ..
            } => {
                format!("pool {pool} opens {conn} (server process {})", pid.0)
            }
            Event::ConnectionRefused { pool, error, .. } => {
                format!("pool {pool} cannot open a connection: {error}")
            }
            Event::ConnectionClosed { conn, why, .. } => format!("{conn} is closed: {why}"),
            Event::ConnectionMarkedBad { conn, error, .. } => {
                format!("{conn} is marked bad after: {error}")
            }
            Event::MessageSent { conn, message, .. } => format!("sends {message} on {conn}"),
            Event::MessageQueued { conn, message } => {
                format!("backend of {conn} replies {message}")
            }
            Event::MessageReceived { conn, message, .. } => format!("reads {message} from {conn}"),
            Event::DeferredRan { line, op, .. } => format!("runs deferred {op} (line {line})"),
            Event::ValueRecorded { var, value, .. } => {
                format!("records {var} = {}", value.as_deref().unwrap_or("NULL"))
            }
            Event::ContextEnded { error, .. } => format!("its context ends: {error}"),
            Event::TransactionRolledBackByContext { conn, .. } => format!(
                "database/sql rolls back the transaction on {conn} because its context ended"
            ),
            Event::InvariantViolated {
                invariant,
                explanation,
            } => {
                format!("invariant broken: {invariant}: {explanation}")
            }
        }
    }
}
