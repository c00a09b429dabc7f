//! TEMPORARY stand-in for `crate::server` with the agreed contract, so the world compiles
//! before the server branch lands. Statements are not parsed: SELECT returns two rows unless
//! it says `LIMIT 1`; BEGIN/COMMIT/ROLLBACK track the transaction state.
#![allow(missing_docs, dead_code, clippy::result_large_err)]

use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Settings {
    pub max_connections: u32,
    pub superuser_reserved_connections: u32,
    pub deadlock_timeout: Duration,
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    pub idle_in_transaction_session_timeout: Duration,
}

impl Default for Settings {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Pid(pub u32);

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PgError {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub context: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatementResult {
    Command {
        tag: String,
    },
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueryOutcome {
    pub results: Vec<StatementResult>,
    pub error: Option<PgError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionState {
    Idle,
    Active,
    IdleInTransaction,
    IdleInTransactionAborted,
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitEdge {
    pub waiter: Pid,
    pub holder: Pid,
}

impl WaitEdge {
    pub fn describe(&self) -> String {
        "a lock".into()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    Connected(Pid),
    Statement(Pid, String),
}

impl Event {
    pub fn narration(&self) -> String {
        format!("{self:?}")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Session {
    state: SessionState,
    pending: Option<String>,
    outcome: Option<QueryOutcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Server {
    settings: Settings,
    sessions: BTreeMap<Pid, Session>,
    next_pid: u32,
}

impl Server {
    pub fn new(settings: Settings) -> Server {
        Server {
            settings,
            sessions: BTreeMap::new(),
            next_pid: 100,
        }
    }
    pub fn setup(&mut self, _sql: &str) -> Result<(), PgError> {
        Ok(())
    }
    pub fn connect(&mut self, _now: Instant, events: &mut Vec<Event>) -> Result<Pid, PgError> {
        if self.sessions.len() >= self.settings.max_connections as usize {
            return Err(PgError {
                severity: "FATAL".into(),
                code: "53300".into(),
                message: "sorry, too many clients already".into(),
                detail: None,
                hint: None,
                context: None,
            });
        }
        let pid = Pid(self.next_pid);
        self.next_pid += 1;
        self.sessions.insert(
            pid,
            Session {
                state: SessionState::Idle,
                pending: None,
                outcome: None,
            },
        );
        events.push(Event::Connected(pid));
        Ok(pid)
    }
    pub fn disconnect(&mut self, pid: Pid, _now: Instant, _events: &mut Vec<Event>) {
        self.sessions.remove(&pid);
    }
    pub fn submit(&mut self, pid: Pid, sql: &str, _now: Instant, _events: &mut Vec<Event>) {
        if let Some(s) = self.sessions.get_mut(&pid) {
            s.pending = Some(sql.to_string());
        }
    }
    pub fn is_runnable(&self, pid: Pid) -> bool {
        self.sessions.get(&pid).is_some_and(|s| s.pending.is_some())
    }
    pub fn step(&mut self, pid: Pid, _now: Instant, events: &mut Vec<Event>) {
        let Some(s) = self.sessions.get_mut(&pid) else {
            return;
        };
        let Some(sql) = s.pending.take() else { return };
        events.push(Event::Statement(pid, sql.clone()));
        let upper = sql.to_ascii_uppercase();
        let result = if upper.starts_with("BEGIN") {
            s.state = SessionState::IdleInTransaction;
            StatementResult::Command {
                tag: "BEGIN".into(),
            }
        } else if upper.starts_with("COMMIT") {
            let tag = if s.state == SessionState::IdleInTransactionAborted {
                "ROLLBACK"
            } else {
                "COMMIT"
            };
            s.state = SessionState::Idle;
            StatementResult::Command { tag: tag.into() }
        } else if upper.starts_with("ROLLBACK") {
            s.state = SessionState::Idle;
            StatementResult::Command {
                tag: "ROLLBACK".into(),
            }
        } else if upper.starts_with("SELECT") {
            let n = if upper.contains("LIMIT 1") { 1 } else { 2 };
            StatementResult::Rows {
                columns: vec!["x".into()],
                rows: (1..=n).map(|i| vec![Some(i.to_string())]).collect(),
            }
        } else {
            StatementResult::Command {
                tag: "UPDATE 1".into(),
            }
        };
        s.outcome = Some(QueryOutcome {
            results: vec![result],
            error: None,
        });
    }
    pub fn run(&mut self, pid: Pid, now: Instant, events: &mut Vec<Event>) {
        self.step(pid, now, events)
    }
    pub fn take_outcome(&mut self, pid: Pid) -> Option<QueryOutcome> {
        self.sessions.get_mut(&pid)?.outcome.take()
    }
    pub fn state(&self, pid: Pid) -> SessionState {
        self.sessions
            .get(&pid)
            .map(|s| s.state)
            .unwrap_or(SessionState::Terminated)
    }
    pub fn next_timer(&self) -> Option<Instant> {
        None
    }
    pub fn fire_timers(&mut self, _now: Instant, _events: &mut Vec<Event>) {}
    pub fn wait_edges(&self) -> Vec<WaitEdge> {
        Vec::new()
    }
    pub fn cancel(&mut self, _pid: Pid, _now: Instant, _events: &mut Vec<Event>) {}
}
