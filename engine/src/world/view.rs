//! Read-only views for the UI: what each task is doing and why a blocked one waits.

use super::schedule::TaskId;
use super::ConnId;
use crate::server::Pid;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a task cannot take a step now. Derived from the world state, never stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockReason {
    /// The request has not arrived yet.
    Arrival { at: Instant },
    /// `time.Sleep` until then.
    Sleep { until: Instant },
    /// Queued in Acquire: the pool is full.
    PoolSlot {
        pool: String,
        ahead: usize,
        max_open: u32,
    },
    /// database/sql serialises driver calls on one connection: another goroutine's call holds
    /// the connection's mutex.
    ConnectionMutex { conn: ConnId, holder: TaskId },
    /// Its backend is waiting for a lock.
    Lock {
        conn: ConnId,
        pid: Pid,
        blockers: Vec<Pid>,
        what: String,
        /// The row version waited for (a row lock or a unique-key check), by table and ctid.
        row: Option<(String, (u32, u16))>,
        /// Waiting in line for the row's tuple lock behind another waiter (rather than for the
        /// transaction that holds the row).
        queued: bool,
    },
    /// Waiting for a reply that nothing is producing (a stuck connection).
    Reply { conn: ConnId },
    /// `g.Wait()` for these goroutines.
    Goroutines { tasks: Vec<TaskId> },
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockReason::Arrival { at } => write!(f, "arrives at {at}"),
            BlockReason::Sleep { until } => write!(f, "sleeps until {until}"),
            BlockReason::PoolSlot { pool, ahead, max_open } => write!(
                f,
                "waits in Acquire: all {max_open} connections of pool {pool} are in use, {ahead} waiter(s) ahead"
            ),
            BlockReason::ConnectionMutex { conn, holder } => write!(
                f,
                "waits for {conn}'s driver mutex, held by task {} during its call",
                holder.0
            ),
            BlockReason::Lock { pid, blockers, what, .. } => {
                let pids: Vec<String> = blockers.iter().map(|p| p.0.to_string()).collect();
                write!(
                    f,
                    "its backend (process {}) waits for {what}, held by process {}",
                    pid.0,
                    pids.join(", ")
                )
            }
            BlockReason::Reply { conn } => write!(f, "waits for a reply on {conn}"),
            BlockReason::Goroutines { tasks } => {
                let ids: Vec<String> = tasks.iter().map(|t| t.0.to_string()).collect();
                write!(f, "waits in g.Wait() for goroutine(s) {}", ids.join(", "))
            }
        }
    }
}

/// Where a task is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskState {
    /// It can take a step now.
    Runnable,
    /// It waits, and says why.
    Blocked(BlockReason),
    /// It returned nil.
    Finished,
    /// It returned this error.
    Failed(String),
}

/// One task as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskView {
    /// Its id.
    pub id: TaskId,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: TaskState,
    /// The listing line of the operation it is at (or last ran, when finished).
    pub line: Option<u32>,
    /// Connections it holds (acquired, pinned by its transactions, or streaming its rows).
    pub connections: Vec<ConnId>,
}
