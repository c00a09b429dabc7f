//! Tasks and their in-flight client calls, as data.

use super::protocol::{Frontend, Reader};
use super::schedule::TaskId;
use super::{ConnId, ContextId, PoolId, RowsId, TxId};
use crate::time::Instant;
use litemap::LiteMap;
use serde::{Deserialize, Serialize};

/// A task's variable: what a Go local variable holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Var {
    /// A value (a scanned column, a literal, a sum); `None` is SQL NULL / Go nil.
    Value(Option<String>),
    /// An acquired connection.
    Conn(ConnId),
    /// A transaction.
    Tx(TxId),
    /// A rows cursor (on a connection, or an in-memory list).
    Rows(RowsId),
    /// A context.
    Context(ContextId),
}

/// Where a task is in its program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pc {
    /// At this index of the program.
    Main(usize),
    /// Returning: running operation `pos` of the body of the deferred op at program index
    /// `defer_op` (the top of the defer stack).
    Deferred { defer_op: usize, pos: usize },
}

/// The error a task's `err` holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskError {
    /// The exact text Go would print.
    pub text: String,
    /// The SQLSTATE, for a server error.
    pub sqlstate: Option<String>,
}

/// A task's lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Life {
    /// Started (or arriving at `Task::arrival`).
    Running,
    /// Returned; `error` is what it returned.
    Finished { error: Option<TaskError> },
}

/// One micro-step of a client call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Micro {
    /// Get a connection from the pool (blocks in the pool's queue when it is full).
    Acquire(PoolId),
    /// Take database/sql's per-connection mutex (`withLock(dc, ...)`), blocking while another
    /// goroutine's driver call holds it.
    Lock,
    /// Give the mutex back at the end of one driver call.
    Unlock,
    /// Write these messages to the socket.
    Send(Vec<Frontend>),
    /// Read and check replies until the reader is satisfied.
    Read(Reader),
    /// `rows.Close()`: read rows (with this `rows.Next` reader) until the result ends.
    Drain(Reader),
}

/// What a call produces when its micro-steps are done.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallKind {
    /// `pool.Acquire`: store the connection in this variable.
    Acquire { var: String },
    /// `Query`: store a rows cursor in this variable.
    Query { var: String },
    /// `QueryRow(...).Scan(into...)`: the rows are read to the end, the first row scanned.
    QueryRow { into: Vec<String> },
    /// `Exec`.
    Exec,
    /// `Begin`: store the transaction in this variable.
    Begin { var: String },
    /// `Commit` of this transaction; `failed` when lib/pq found it already failed and sent a
    /// ROLLBACK instead.
    Commit { tx: TxId, failed: bool },
    /// `Rollback` of this transaction.
    Rollback { tx: TxId },
    /// `rows.Next()`, jumping to the op's `done` label at the end.
    Next { rows: RowsId },
    /// `rows.Close()`: read the rest of the result.
    Close { rows: RowsId },
    /// `CollectRows`: read every row, then store an in-memory list in this variable.
    Collect { rows: RowsId, into: String },
}

/// A client call in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    /// What it produces.
    pub kind: CallKind,
    /// The connection it uses, once it has one.
    pub conn: Option<ConnId>,
    /// The pool the connection came from, when the call acquired it itself (pool.Query etc.).
    pub pool: Option<PoolId>,
    /// Remaining micro-steps.
    pub script: Vec<Micro>,
    /// The context bounding it.
    pub context: Option<ContextId>,
    /// Rows read so far (QueryRow, Collect).
    pub rows: Vec<Vec<Option<String>>>,
    /// The last CommandComplete tag.
    pub tag: Option<String>,
    /// The result has ended (ReadyForQuery read).
    pub rows_done: bool,
    /// Whether the driver has already reacted to the context ending.
    pub cancelled: bool,
}

impl Call {
    /// A call with this script.
    pub fn new(kind: CallKind, script: Vec<Micro>) -> Call {
        Call {
            kind,
            conn: None,
            pool: None,
            script,
            context: None,
            rows: Vec::new(),
            tag: None,
            rows_done: false,
            cancelled: false,
        }
    }
}

/// A task: a request, a worker, or a goroutine.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// Its name in schedules.
    pub name: String,
    /// Index of its spec (and program) in the scenario.
    pub spec: usize,
    /// The task that spawned it.
    pub parent: Option<TaskId>,
    /// When it arrives.
    pub arrival: Instant,
    /// Whether it has taken its first step.
    pub started: bool,
    /// Where it is.
    pub pc: Pc,
    /// Its lifecycle.
    pub life: Life,
    /// Go's `err`.
    pub err: Option<TaskError>,
    /// What `return` returned while deferred bodies run.
    pub returning: Option<Option<TaskError>>,
    /// Deferred operations (program indexes of `defer` ops), run last-in first-out.
    pub defers: Vec<usize>,
    /// Its variables.
    pub vars: LiteMap<String, Var>,
    /// The call in flight.
    pub call: Option<Call>,
    /// Asleep until then.
    pub wake_at: Option<Instant>,
    /// Goroutines spawned since the last `wait`.
    pub children: Vec<TaskId>,
    /// errgroup: the first error a goroutine spawned since the last `wait` returned.
    pub group_error: Option<TaskError>,
    /// Its request context (`r.Context()`), cancelled when a request returns or times out.
    pub request_context: ContextId,
}

/// A transaction handle on the client side.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transaction {
    /// The connection it is pinned to.
    pub conn: ConnId,
    /// The pool that connection goes back to.
    pub pool: PoolId,
    /// Whether the pool lent the connection for this transaction only (pool.Begin), so that
    /// Commit/Rollback release it.
    pub releases: bool,
    /// database/sql: the context whose end rolls it back.
    pub context: Option<ContextId>,
    /// Committed or rolled back.
    pub done: bool,
    /// The task that began it.
    pub owner: TaskId,
}

/// A rows cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rows {
    /// The connection still streaming it; `None` once closed or for an in-memory list.
    pub conn: Option<ConnId>,
    /// The pool to give the connection back to when the rows close (pool.Query).
    pub releases_to: Option<PoolId>,
    /// Rows already in memory (a collected list), read by `next` without I/O.
    pub buffered: Option<std::collections::VecDeque<Vec<Option<String>>>>,
    /// The current row.
    pub current: Option<Vec<Option<String>>>,
    /// Closed (fully read or explicitly).
    pub closed: bool,
    /// The task that opened it.
    pub owner: TaskId,
}

/// A context.Context.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Context {
    /// The parent, whose end ends this one.
    pub parent: Option<ContextId>,
    /// `WithTimeout`/`WithDeadline`.
    pub deadline: Option<Instant>,
    /// `cancel()` was called.
    pub cancelled: bool,
    /// The task that created it.
    pub owner: TaskId,
}
