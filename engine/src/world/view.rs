//! Read-only views for the UI: what each task is doing and why a blocked one waits, each
//! connection and pool as its panel shows it, and accessors for the clock and the server.

use super::scenario::Driver;
use super::schedule::TaskId;
use super::task::{Life, TaskError};
use super::{BackendState, ConnId, Connection, PoolId, TxStatus, World};
use crate::server::{Pid, Server};
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

/// One client connection as the connections panel shows it: where it belongs, who uses it,
/// and the protocol messages in flight each way, as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectionView {
    /// Its id.
    pub id: ConnId,
    /// The pool it belongs to.
    pub pool: PoolId,
    /// That pool's name in the scenario (empty if the pool is unknown).
    pub pool_name: String,
    /// The server process (backend) behind it.
    pub pid: Pid,
    /// The task that has it checked out of its pool, if any.
    pub holder: Option<TaskId>,
    /// The task whose driver call holds database/sql's per-connection mutex, if any.
    pub locked_by: Option<TaskId>,
    /// The transaction status of the last ReadyForQuery the client read.
    pub tx_status: TxStatus,
    /// What the backend is doing with the frontend messages.
    pub backend: BackendState,
    /// pgx: a call or unclosed rows occupy it (`conn busy`).
    pub busy: bool,
    /// The driver has marked it bad: it will not be used again.
    pub bad: bool,
    /// The server ended its session.
    pub terminated: bool,
    /// Frontend → backend messages not yet processed by the backend, oldest first.
    pub to_backend: Vec<String>,
    /// Backend → frontend messages not yet read by the client, oldest first.
    pub to_frontend: Vec<String>,
    /// A reply the driver read ahead and kept for its next call (lib/pq's `saveMessage`).
    pub saved: Option<String>,
}

/// One connection in a pool's slot list: which one, its backend, and who holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotView {
    /// The connection.
    pub conn: ConnId,
    /// The server process behind it.
    pub pid: Pid,
    /// The task that has it checked out, or `None` when it is idle in the pool.
    pub holder: Option<TaskId>,
}

/// One client pool as the pool panel shows it: its limits, its connections and who holds
/// them, and the tasks queued in Acquire.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PoolView {
    /// Its id (its index in the scenario).
    pub id: PoolId,
    /// Its name in the scenario.
    pub name: String,
    /// Whose semantics it has.
    pub driver: Driver,
    /// The most connections it may have open, `None` for unlimited.
    pub max_open: Option<u32>,
    /// The most idle connections it keeps, `None` for all.
    pub max_idle: Option<u32>,
    /// How many more connections it may open before Acquire waits (`None` when unlimited).
    pub free: Option<u32>,
    /// Every open connection of the pool, idle or checked out, in id order.
    pub open: Vec<ConnId>,
    /// Idle connections; the last one is the most recently released and is reused first.
    pub idle: Vec<ConnId>,
    /// Its connections the server has not terminated, in id order, with their holders.
    pub slots: Vec<SlotView>,
    /// Tasks blocked in Acquire, in arrival order.
    pub waiters: Vec<TaskId>,
}

impl World {
    /// The virtual clock's reading.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The simulated server, to read through its views (`tables`, `locks`, `sessions`, …);
    /// a shared reference, so nothing outside the engine can change it.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Every open connection as the UI shows it, in id order.
    pub fn connection_views(&self) -> Vec<ConnectionView> {
        self.connections.values().map(|c| self.view_of(c)).collect()
    }

    /// One open connection as the UI shows it; `None` if it is not open.
    pub fn connection_view(&self, conn: ConnId) -> Option<ConnectionView> {
        self.connections.get(&conn).map(|c| self.view_of(c))
    }

    fn view_of(&self, c: &Connection) -> ConnectionView {
        ConnectionView {
            id: c.id,
            pool: c.pool,
            pool_name: self.pool_name(c.pool).unwrap_or_default().to_string(),
            pid: c.pid,
            holder: c.holder,
            locked_by: c.locked_by,
            tx_status: c.tx_status,
            backend: c.backend,
            busy: c.busy,
            bad: c.bad,
            terminated: c.terminated,
            to_backend: c.to_backend.iter().map(|m| m.to_string()).collect(),
            to_frontend: c.to_frontend.iter().map(|m| m.to_string()).collect(),
            saved: c.saved.as_ref().map(|m| m.to_string()),
        }
    }

    /// A pool's name in the scenario; `None` if there is no such pool.
    pub fn pool_name(&self, pool: PoolId) -> Option<&str> {
        self.pools.get(pool.0 as usize).map(|p| p.name.as_str())
    }

    /// Every pool as the UI shows it, in scenario order.
    pub fn pool_views(&self) -> Vec<PoolView> {
        self.pools
            .iter()
            .enumerate()
            .map(|(index, pool)| {
                let id = PoolId(index as u32);
                let slots = self
                    .connections
                    .values()
                    .filter(|c| c.pool == id && !c.terminated)
                    .map(|c| SlotView {
                        conn: c.id,
                        pid: c.pid,
                        holder: c.holder,
                    })
                    .collect();
                PoolView {
                    id,
                    name: pool.name.clone(),
                    driver: pool.driver,
                    max_open: pool.max_open,
                    max_idle: pool.max_idle,
                    free: pool
                        .max_open
                        .map(|m| m.saturating_sub(pool.open.len() as u32)),
                    open: pool.open.clone(),
                    idle: pool.idle.clone(),
                    slots,
                    waiters: pool.waiters.iter().copied().collect(),
                }
            })
            .collect()
    }

    /// The error a finished task returned; `None` while it runs or when it returned nil.
    pub fn task_error(&self, task: TaskId) -> Option<TaskError> {
        match &self.tasks.get(task.0 as usize)?.life {
            Life::Finished { error } => error.clone(),
            Life::Running => None,
        }
    }
}
