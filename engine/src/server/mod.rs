//! The PostgreSQL model: tables of MVCC tuple versions, the lock manager, transactions,
//! the deadlock detector and timeouts, with PostgreSQL's own messages.
//!
//! The whole server is one plain value, [`Server`]. A client [`Server::submit`]s a query string
//! to a backend, then the world calls [`Server::step`] to run one unit of that backend's work
//! (a statement's start, one row, a statement's end). A backend that must wait for a lock
//! records what it waits for ([`WaitReason`]) and is not runnable until another backend's
//! release grants it the lock. Time is virtual: the caller says what time it is, and timers
//! (deadlock check, lock/statement/idle timeouts) fire only in [`Server::fire_timers`].
//!
//! Modules: [`storage`] (heap, tuples, values), [`locks`] (heavyweight locks and queues),
//! `txn` (xids, snapshots, visibility, commit/abort), `exec` (statement execution: transaction
//! control, planning, scans), `rowlock` (row locks, tuple-lock and xid waits, UPDATE/DELETE of
//! one row), `insert` (INSERT, unique checks, ON CONFLICT), `ssi` (serializable snapshot
//! isolation), `deadlock` (PostgreSQL's deadlock detector), `timers` (timeouts and the deadlock
//! check firing), `views` (what the world and the UI read: wait edges, tables, locks),
//! [`event`] (the trace), [`error`] (error texts).

// PgError carries PostgreSQL's whole report (message, DETAIL, HINT, CONTEXT) by value, as the
// public API promises; errors are rare next to rows, so the size of Result's Err side does not
// matter here.
#![allow(clippy::result_large_err)]

mod deadlock;
pub mod error;
mod eval;
pub mod event;
mod exec;
mod insert;
mod integer;
pub mod locks;
mod row_ref;
mod rowlock;
mod ssi;
pub mod storage;
mod symmetry;
mod timers;
mod txn;
mod views;

pub use error::{PgError, Severity};
pub use event::{DeadlockVerdict, Event, TimerKind, WriteKind};
pub use locks::{LockMode, LockTag};
pub use storage::Value;
pub use views::{LockView, TableView, TupleView, WaitEdge, XmaxView};

use crate::sql::{IsolationLevel, RowLockStrength};
use crate::time::{Duration, Instant};
use litemap::LiteMap;
use locks::{LockManager, LockRequest};
use serde::{Deserialize, Serialize};
use std::fmt;
use storage::Table;

/// The OID of the simulated database, as deadlock DETAIL lines print it.
pub const DATABASE_OID: u32 = 5;
/// The first backend pid handed out; real-looking pids make DETAIL lines read naturally.
pub const FIRST_PID: u32 = 4101;
/// The first transaction id handed out.
pub const FIRST_XID: u32 = 740;
/// The OID of the first table created.
pub const FIRST_TABLE_OID: u32 = 16384;

/// A backend's process id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Pid(pub u32);

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A transaction id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Xid(pub u32);

impl fmt::Display for Xid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Server settings (GUCs). Sessions can `SET` the timeouts for themselves.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Settings {
    /// `max_connections` (default 100).
    pub max_connections: u32,
    /// `superuser_reserved_connections` (default 3).
    pub superuser_reserved_connections: u32,
    /// `deadlock_timeout` (default 1 s).
    pub deadlock_timeout: Duration,
    /// `lock_timeout` (default 0 = off).
    pub lock_timeout: Duration,
    /// `statement_timeout` (default 0 = off).
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout` (default 0 = off).
    pub idle_in_transaction_session_timeout: Duration,
}

impl Default for Settings {
    /// PostgreSQL's defaults.
    fn default() -> Settings {
        Settings {
            max_connections: 100,
            superuser_reserved_connections: 3,
            deadlock_timeout: Duration::from_secs(1),
            lock_timeout: Duration::ZERO,
            statement_timeout: Duration::ZERO,
            idle_in_transaction_session_timeout: Duration::ZERO,
        }
    }
}

/// The results of one query string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueryOutcome {
    /// One result per statement that completed, in order.
    pub results: Vec<StatementResult>,
    /// The error that stopped the query, if any (later statements did not run).
    pub error: Option<PgError>,
}

/// A NOTICE or WARNING sent to the client while a query ran.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Notice {
    /// `NOTICE` or `WARNING`.
    pub severity: String,
    /// The message.
    pub message: String,
}

/// What one statement returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatementResult {
    /// A statement without a result set, with its command tag (`UPDATE 1`, `BEGIN`).
    Command {
        /// The command tag.
        tag: String,
    },
    /// A result set; values as PostgreSQL prints them as text, `None` for NULL.
    Rows {
        /// Column names.
        columns: Vec<String>,
        /// Rows.
        rows: Vec<Vec<Option<String>>>,
    },
}

/// What a waiting backend waits for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitReason {
    /// The lock.
    pub tag: LockTag,
    /// The mode requested.
    pub mode: LockMode,
    /// The backends holding conflicting modes (hard blockers), then the earlier waiters whose
    /// requests conflict (soft blockers).
    pub blockers: Vec<Pid>,
    /// When the wait began.
    pub since: Instant,
    /// The CONTEXT an error during this wait would carry, e.g.
    /// `while locking tuple (0,2) in relation "widget"`.
    pub context: Option<String>,
    /// For a row-lock or unique-key wait, the row version waited for: table and ctid.
    pub row: Option<(String, (u32, u16))>,
}

/// A backend's state, like `pg_stat_activity.state` plus the wait.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionState {
    /// No query, no transaction.
    Idle,
    /// Running a query.
    Active,
    /// Between queries inside a transaction block.
    IdleInTransaction,
    /// Between queries inside a failed transaction block (only ROLLBACK helps).
    IdleInTransactionAborted,
    /// Running a query that waits for a lock.
    Waiting(WaitReason),
    /// The backend was ended by the server (e.g. the idle-in-transaction timeout).
    Terminated(PgError),
}

/// Per-session settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Gucs {
    pub deadlock_timeout: Duration,
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    pub idle_in_transaction_session_timeout: Duration,
    pub default_isolation: IsolationLevel,
}

/// A wait in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Wait {
    pub tag: LockTag,
    pub mode: LockMode,
    pub since: Instant,
    /// The one deadlock check of this wait, until it has run.
    pub deadlock_at: Option<Instant>,
    pub lock_timeout_at: Option<Instant>,
    pub context: Option<String>,
    /// The row version waited for, if this is a row-lock or unique-key wait.
    pub row: Option<(String, (u32, u16))>,
}

/// One backend.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Session {
    pub pid: Pid,
    pub gucs: Gucs,
    pub txn: Option<txn::Txn>,
    pub query: Option<exec::Query>,
    pub outcome: Option<QueryOutcome>,
    pub wait: Option<Wait>,
    /// A lock granted while waiting, not yet taken up by the resumed statement.
    pub granted: Option<(LockTag, LockMode)>,
    /// The tuple lock held while waiting for a row (at most one per backend).
    pub tuple_lock: Option<(LockTag, LockMode)>,
    pub statement_deadline: Option<Instant>,
    pub idle_deadline: Option<Instant>,
    pub terminated: Option<PgError>,
    /// The statement text currently running, for the server log.
    pub activity: String,
    /// NOTICEs and WARNINGs not yet read by the client.
    pub notices: Vec<Notice>,
    /// A serialization failure found by SSI during the current step.
    pub ssi_failure: Option<PgError>,
}

/// The simulated PostgreSQL server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Server {
    settings: Settings,
    tables: LiteMap<String, Table>,
    next_oid: u32,
    xids: Vec<txn::XidInfo>,
    locks: LockManager,
    sessions: LiteMap<Pid, Session>,
    next_pid: u32,
    ssi: ssi::Ssi,
    /// Sequences (serial columns) and their last value.
    sequences: LiteMap<String, i64>,
    /// Grants made by lock releases that the sessions have not been told about yet; always
    /// empty between calls.
    woken: Vec<locks::Grant>,
}

impl Server {
    /// A server with no tables and no backends.
    pub fn new(settings: Settings) -> Server {
        Server {
            settings,
            tables: LiteMap::new_vec(),
            next_oid: FIRST_TABLE_OID,
            xids: Vec::new(),
            locks: LockManager::default(),
            sessions: LiteMap::new_vec(),
            next_pid: FIRST_PID,
            ssi: ssi::Ssi::default(),
            sequences: LiteMap::new_vec(),
            woken: Vec::new(),
        }
    }

    /// The server's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs SQL to completion on a throwaway session (a lesson's schema and seed rows).
    /// Err on any error, including a statement that would have to wait for a lock.
    pub fn setup(&mut self, sql: &str) -> Result<(), PgError> {
        let mut events = Vec::new();
        let now = Instant::START;
        let pid = self.open_session(true);
        self.submit(pid, sql, now, &mut events);
        self.run(pid, now, &mut events);
        let result = match self.take_outcome(pid) {
            Some(QueryOutcome { error: Some(e), .. }) => Err(e),
            Some(_) => Ok(()),
            None => Err(PgError::error(
                "55P03",
                "setup SQL had to wait for a lock held by another session",
            )),
        };
        self.disconnect(pid, now, &mut events);
        // The throwaway backend's pid is not handed out again, but we rewind the counter so
        // that the first real backend gets FIRST_PID whatever setup ran.
        self.next_pid = self.next_pid.min(pid.0);
        result
    }

    /// Opens a backend. Err(FATAL 53300) when all slots are taken (or all but the slots
    /// reserved for superusers).
    pub fn connect(&mut self, now: Instant, events: &mut Vec<Event>) -> Result<Pid, PgError> {
        if self.sessions().count() >= crate::limits::SESSIONS_MAX {
            return Err(PgError::fatal(
                "53300",
                format!(
                    "sorry, Lockstep's limit of SESSIONS_MAX ({}) sessions is reached",
                    crate::limits::SESSIONS_MAX
                ),
            ));
        }
        let live = self.sessions().count() as u32;
        let free = self.settings.max_connections.saturating_sub(live);
        let refusal = if free == 0 {
            Some("sorry, too many clients already")
        } else if self.settings.superuser_reserved_connections > 0
            && free <= self.settings.superuser_reserved_connections
        {
            Some("remaining connection slots are reserved for roles with the SUPERUSER attribute")
        } else {
            None
        };
        if let Some(message) = refusal {
            // The postmaster has already forked a backend for the client: it takes a pid,
            // logs the refusal and exits.
            let err = PgError::fatal("53300", message);
            let pid = Pid(self.next_pid);
            self.next_pid += 1;
            events.push(Event::Log {
                pid,
                at: now,
                line: err.to_string(),
            });
            return Err(err);
        }
        let pid = self.open_session(false);
        events.push(Event::Connected { pid });
        Ok(pid)
    }

    fn open_session(&mut self, _superuser: bool) -> Pid {
        let pid = Pid(self.next_pid);
        self.next_pid += 1;
        let s = Session {
            pid,
            gucs: Gucs {
                deadlock_timeout: self.settings.deadlock_timeout,
                lock_timeout: self.settings.lock_timeout,
                statement_timeout: self.settings.statement_timeout,
                idle_in_transaction_session_timeout: self
                    .settings
                    .idle_in_transaction_session_timeout,
                default_isolation: IsolationLevel::ReadCommitted,
            },
            txn: None,
            query: None,
            outcome: None,
            wait: None,
            granted: None,
            tuple_lock: None,
            statement_deadline: None,
            idle_deadline: None,
            terminated: None,
            activity: String::new(),
            notices: Vec::new(),
            ssi_failure: None,
        };
        self.sessions.insert(pid, s);
        pid
    }

    /// Closes a backend: aborts its open transaction, releases its locks, wakes waiters.
    pub fn disconnect(&mut self, pid: Pid, now: Instant, events: &mut Vec<Event>) {
        let Some(mut s) = self.sessions.remove(&pid) else {
            return;
        };
        if s.terminated.is_none() {
            self.end_session(&mut s, now, events);
        }
        events.push(Event::Disconnected { pid });
        self.apply_grants(now, events);
    }

    /// Ends a backend's work: cancels its wait, rolls back, releases every lock.
    fn end_session(&mut self, s: &mut Session, now: Instant, events: &mut Vec<Event>) {
        if s.wait.take().is_some() {
            let woken = self.locks.cancel_wait(s.pid);
            self.woken.extend(woken);
        }
        s.granted = None;
        s.tuple_lock = None;
        s.query = None;
        self.abort_transaction(s, now, events);
        let woken = self.locks.release_where(s.pid, |_| true);
        self.woken.extend(woken);
        s.statement_deadline = None;
        s.idle_deadline = None;
    }

    /// Starts a query string (simple protocol; may hold several statements). A parse error
    /// becomes the outcome's error at once.
    pub fn submit(&mut self, pid: Pid, sql: &str, now: Instant, events: &mut Vec<Event>) {
        let Some(mut s) = self.sessions.remove(&pid) else {
            return;
        };
        if s.terminated.is_some() || s.query.is_some() {
            self.sessions.insert(pid, s);
            return;
        }
        s.outcome = None;
        s.idle_deadline = None;
        match crate::sql::parse(sql) {
            Ok(statements) => {
                if statements.is_empty() {
                    s.outcome = Some(QueryOutcome {
                        results: Vec::new(),
                        error: None,
                    });
                } else {
                    s.query = Some(exec::Query::new(statements));
                }
            }
            Err(e) => {
                let err = PgError::syntax(&e);
                s.activity = sql.trim().to_string();
                s.query = Some(exec::Query::new(Vec::new()));
                self.fail_query(&mut s, err, now, events);
            }
        }
        self.sessions.insert(pid, s);
        self.apply_grants(now, events);
    }

    /// True when the backend has a query in progress that is not waiting for a lock.
    pub fn is_runnable(&self, pid: Pid) -> bool {
        self.sessions
            .get(&pid)
            .is_some_and(|s| s.query.is_some() && s.wait.is_none() && s.terminated.is_none())
    }

    /// One unit of work of that backend: a statement's start (snapshot, table lock), one row
    /// examined/locked/updated/inserted, or a statement's end. Lock waits begin here.
    pub fn step(&mut self, pid: Pid, now: Instant, events: &mut Vec<Event>) {
        if !self.is_runnable(pid) {
            return;
        }
        let Some(mut s) = self.sessions.remove(&pid) else {
            return;
        };
        self.step_session(&mut s, now, events);
        self.sessions.insert(pid, s);
        self.apply_grants(now, events);
        // Debug builds (the tests) check the server's invariants after every unit of work.
        #[cfg(debug_assertions)]
        self.assert_invariants();
    }

    /// Runs the backend until its query is done or it waits.
    pub fn run(&mut self, pid: Pid, now: Instant, events: &mut Vec<Event>) {
        // A bound on work per call: a runaway loop is an engine bug, not a hang.
        for _ in 0..crate::limits::BACKEND_UNITS_PER_RUN_MAX {
            if !self.is_runnable(pid) {
                return;
            }
            self.step(pid, now, events);
        }
    }

    /// The finished query's results, once (None while running or waiting).
    pub fn take_outcome(&mut self, pid: Pid) -> Option<QueryOutcome> {
        self.sessions.get_mut(&pid)?.outcome.take()
    }

    /// NOTICEs and WARNINGs the backend sent since the last call, in order.
    pub fn take_notices(&mut self, pid: Pid) -> Vec<Notice> {
        self.sessions
            .get_mut(&pid)
            .map(|s| std::mem::take(&mut s.notices))
            .unwrap_or_default()
    }

    /// `pg_stat_activity`-like state.
    pub fn state(&self, pid: Pid) -> SessionState {
        let Some(s) = self.sessions.get(&pid) else {
            return SessionState::Terminated(PgError::fatal("08006", "connection closed"));
        };
        if let Some(e) = &s.terminated {
            return SessionState::Terminated(e.clone());
        }
        if let Some(w) = &s.wait {
            return SessionState::Waiting(self.wait_reason(pid, w));
        }
        if s.query.is_some() {
            return SessionState::Active;
        }
        match &s.txn {
            Some(t) if t.explicit && t.is_failed() => SessionState::IdleInTransactionAborted,
            Some(t) if t.explicit => SessionState::IdleInTransaction,
            _ => SessionState::Idle,
        }
    }

    fn wait_reason(&self, pid: Pid, w: &Wait) -> WaitReason {
        wait_reason_of(&self.locks, pid, w)
    }

    /// Live backends in pid order.
    pub fn sessions(&self) -> impl Iterator<Item = Pid> + '_ {
        self.sessions
            .values()
            .filter(|s| s.terminated.is_none())
            .map(|s| s.pid)
    }

    /// Whether a timer of this backend is pending (a deadlock check, a lock, statement or
    /// idle-in-transaction timeout): when it fires, the backend's wait or session may end.
    pub fn has_timer(&self, pid: Pid) -> bool {
        self.timers().iter().any(|(_, _, p)| *p == pid)
    }

    /// The xid of the backend's transaction, once it has one (at its first write or row lock).
    pub fn backend_xid(&self, pid: Pid) -> Option<Xid> {
        self.sessions.get(&pid)?.txn.as_ref()?.xid
    }

    fn step_session(&mut self, s: &mut Session, now: Instant, events: &mut Vec<Event>) {
        // Take up a lock granted while we slept. A tuple lock is remembered as held; an xid
        // lock is released at once (XactLockTableWait only waits for the transaction to end).
        if let Some((tag, mode)) = s.granted {
            match tag {
                LockTag::Tuple { .. } => {
                    s.granted = None;
                    s.tuple_lock = Some((tag, mode));
                }
                LockTag::Transaction(_) => {
                    s.granted = None;
                    if let Some(w) = self.locks.release_any(s.pid, tag, mode) {
                        self.woken.extend(w);
                    }
                }
                _ => {}
            }
        }
        self.advance(s, now, events);
    }

    /// Registers a lock request for backend `s` (see [`exec::acquire_lock`]).
    fn acquire(
        &mut self,
        s: &mut Session,
        request: LockRequest,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, AcquireFailure> {
        exec::acquire_lock(&mut self.locks, s, request, now, events)
    }
}

/// The wait reason of a backend: hard blockers first, then earlier waiters in the queue whose
/// requests conflict.
pub(crate) fn wait_reason_of(locks: &LockManager, pid: Pid, w: &Wait) -> WaitReason {
    let mut blockers = locks.hard_blockers(pid, &w.tag, w.mode);
    if let Some(lock) = locks.locks.get(&w.tag) {
        for q in &lock.queue {
            if q.pid == pid {
                break;
            }
            if locks::conflicts(w.mode, q.mode) && !blockers.contains(&q.pid) {
                blockers.push(q.pid);
            }
        }
    }
    WaitReason {
        tag: w.tag,
        mode: w.mode,
        blockers,
        since: w.since,
        context: w.context.clone(),
        row: w.row.clone(),
    }
}

/// Why a lock request did not end in a grant or a wait.
pub(crate) enum AcquireFailure {
    /// NOWAIT / SKIP LOCKED and the lock is taken.
    WouldBlock,
    /// A deadlock found on the spot.
    Deadlock(PgError),
}

/// Serializes a map as a list of pairs, so that maps with structured keys (lock tags) survive
/// JSON, which only allows string keys.
pub(crate) mod seq_map {
    use litemap::LiteMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the map as `[[key, value], ...]`.
    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &LiteMap<K, V>,
        ser: S,
    ) -> Result<S::Ok, S::Error> {
        ser.collect_seq(map.iter())
    }

    /// Reads `[[key, value], ...]` back into a map.
    pub fn deserialize<'de, K, V, D>(de: D) -> Result<LiteMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let pairs: Vec<(K, V)> = Vec::deserialize(de)?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(any(test, debug_assertions))]
mod invariants;
#[cfg(test)]
mod tests;
