//! Plain words: what happened and why a task waits, in the lesson's terms (tasks by name, rows
//! by table and primary key, pools by name). The events' own narrations and
//! [`BlockReason`]'s `Display` keep PostgreSQL's exact wording for the details; this module
//! says the same things the way a learner would.

use super::event::{Event, Significance};
use super::schedule::TaskId;
use super::view::BlockReason;
use super::World;
use crate::server::{self, DeadlockVerdict, Pid, TimerKind, WriteKind};

/// Names joined the way a sentence lists them: `A`, `A and B`, `A, B and C`.
pub fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One clause of a narration: who did it (none for the clock) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Clause {
    subject: Option<String>,
    predicate: String,
}

impl World {
    /// The task using the backend `pid` now: the one holding its connection (or, with
    /// database/sql, the one inside a driver call on it).
    pub fn task_of_pid(&self, pid: Pid) -> Option<TaskId> {
        self.connections
            .values()
            .find(|c| c.pid == pid)
            .and_then(|c| c.holder.or(c.locked_by))
    }

    /// A task's name.
    pub fn task_name(&self, task: TaskId) -> String {
        self.tasks
            .get(task.0 as usize)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| task.to_string())
    }

    /// A row version by table and primary key (`widget 3`).
    pub fn row_name(&self, table: &str, ctid: (u32, u16)) -> String {
        self.server
            .row_label(table, ctid)
            .unwrap_or_else(|| format!("a row of {table}"))
    }

    /// The names of the tasks behind these backends (a backend no task uses is "another
    /// session").
    fn pid_names(&self, pids: &[Pid], also: Option<&World>) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for &pid in pids {
            let name = self
                .task_of_pid(pid)
                .or_else(|| also.and_then(|w| w.task_of_pid(pid)))
                .map(|t| self.task_name(t))
                .unwrap_or_else(|| "another session".to_string());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Why a task waits, in plain words, as the predicate of a sentence about it ("waits for
    /// widget 2, held by B"). `BlockReason`'s `Display` gives PostgreSQL's wording.
    pub fn describe_wait(&self, reason: &BlockReason) -> String {
        match reason {
            BlockReason::Arrival { at } => format!("arrives at {at}"),
            BlockReason::Sleep { until } => format!("sleeps until {until}"),
            BlockReason::PoolSlot {
                pool,
                ahead,
                max_open,
            } => {
                let line = match ahead {
                    0 => String::new(),
                    1 => ", 1 ahead of it in line".to_string(),
                    n => format!(", {n} ahead of it in line"),
                };
                format!("waits for a connection from pool {pool}: all {max_open} are in use{line}")
            }
            BlockReason::ConnectionMutex { holder, .. } => format!(
                "waits for {}, which is using the connection they share",
                self.task_name(*holder)
            ),
            BlockReason::Lock {
                blockers,
                row,
                queued,
                ..
            } => {
                let who = list(&self.pid_names(blockers, None));
                let what = match row {
                    Some((table, ctid)) => self.row_name(table, *ctid),
                    None => "a lock".to_string(),
                };
                match (who.is_empty(), queued) {
                    (true, _) => format!("waits for {what}, in line behind earlier waiters"),
                    (false, true) => format!("waits in line for {what} behind {who}"),
                    (false, false) => format!("waits for {what}, held by {who}"),
                }
            }
            BlockReason::Reply { .. } => "waits for an answer from the server".to_string(),
            BlockReason::Goroutines { tasks } => {
                let names: Vec<String> = tasks.iter().map(|t| self.task_name(*t)).collect();
                format!("waits for {} to finish", list(&names))
            }
        }
    }

    /// What these events did, in one sentence of the lesson's terms; `before` is the world
    /// before them (to name sessions that have since let go of their connection). With
    /// `protocol`, wire messages are told too; otherwise they, and every other detail, are left
    /// to the events' own narrations. Empty when nothing in them is worth a sentence.
    pub fn describe_events(&self, before: &World, events: &[Event], protocol: bool) -> String {
        let mut clauses: Vec<Clause> = Vec::new();
        let name_of = |pid: Pid| -> String {
            self.pid_names(&[pid], Some(before))
                .pop()
                .unwrap_or_default()
        };
        let blocked: Vec<TaskId> = events
            .iter()
            .filter_map(|e| match e {
                Event::TaskBlocked { task, .. } => Some(*task),
                _ => None,
            })
            .collect();
        let detector_fired = events.iter().any(|e| {
            matches!(
                e,
                Event::Server(server::Event::DeadlockCheck {
                    verdict: DeadlockVerdict::Deadlock { .. },
                    ..
                })
            )
        });
        let started: Vec<Pid> = events
            .iter()
            .filter_map(|e| match e {
                Event::Server(server::Event::StatementStarted { pid, .. }) => Some(*pid),
                _ => None,
            })
            .collect();
        let errored: Vec<Pid> = events
            .iter()
            .filter_map(|e| match e {
                Event::Server(server::Event::Error { pid, .. }) => Some(*pid),
                _ => None,
            })
            .collect();
        for e in events {
            let c = match e {
                Event::Server(s) => self.describe_server_event(
                    s,
                    &name_of,
                    &blocked,
                    detector_fired,
                    &started,
                    &errored,
                ),
                _ => self.describe_world_event(e, protocol),
            };
            if let Some(c) = c {
                push_clause(&mut clauses, c);
            }
        }
        sentence(&clauses)
    }

    /// The clause for one event of the world outside the server; wire messages only with
    /// `protocol`.
    fn describe_world_event(&self, e: &Event, protocol: bool) -> Option<Clause> {
        let task = |t: TaskId| self.task_name(t);
        let clause = |subject: String, predicate: String| Clause {
            subject: Some(subject),
            predicate,
        };
        match e {
            Event::TaskStarted { name, .. } => Some(clause(name.clone(), "starts".into())),
            Event::TaskBlocked { name, reason, .. } => {
                Some(clause(name.clone(), self.describe_wait(reason)))
            }
            Event::TaskFinished { name, .. } => {
                Some(clause(name.clone(), "finishes without error".into()))
            }
            Event::TaskFailed { name, error, .. } => {
                Some(clause(name.clone(), format!("fails with “{error}”")))
            }
            Event::GoroutineSpawned { name, .. } => {
                Some(clause(name.clone(), "starts as a goroutine".into()))
            }
            Event::AcquireGranted { task: t, pool, .. } => Some(clause(
                task(*t),
                format!("gets a connection from pool {pool}"),
            )),
            Event::AcquireFailed {
                task: t,
                pool,
                error,
            } => Some(clause(
                task(*t),
                format!("gives up waiting for pool {pool}: {error}"),
            )),
            Event::ConnectionReleased { task: t, pool, .. } => Some(clause(
                task(*t),
                format!("gives its connection back to pool {pool}"),
            )),
            Event::ConnectionRefused { task: t, error, .. } => Some(clause(
                task(*t),
                format!("is refused a new connection: {error}"),
            )),
            Event::ConnectionClosed { conn, why, .. } => Some(Clause {
                subject: None,
                predicate: format!("{conn} is closed: {why}"),
            }),
            Event::ConnectionMarkedBad { task: t, .. } => Some(clause(
                task(*t),
                "discards its connection: the driver will not use it again".into(),
            )),
            Event::ContextEnded { task: t, error } => {
                Some(clause(task(*t), format!("runs out of time: {error}")))
            }
            Event::TransactionRolledBackByContext { task: t, .. } => Some(clause(
                task(*t),
                "has its transaction rolled back by database/sql, because its context ended".into(),
            )),
            Event::ValueRecorded {
                name, var, value, ..
            } => Some(clause(
                name.clone(),
                format!("computes {var} = {}", value.as_deref().unwrap_or("NULL")),
            )),
            Event::ClockAdvanced { to } => Some(Clause {
                subject: None,
                predicate: format!("the clock moves on to {to}"),
            }),
            Event::MessageSent {
                task: t, message, ..
            } if protocol => Some(clause(task(*t), format!("sends {message}"))),
            Event::MessageReceived {
                task: t, message, ..
            } if protocol => Some(clause(task(*t), format!("reads {message}"))),
            Event::MessageQueued { message, .. } if protocol => Some(Clause {
                subject: None,
                predicate: format!("the server replies {message}"),
            }),
            _ => None,
        }
    }

    fn describe_server_event(
        &self,
        event: &server::Event,
        name_of: &dyn Fn(Pid) -> String,
        blocked: &[TaskId],
        detector_fired: bool,
        started: &[Pid],
        errored: &[Pid],
    ) -> Option<Clause> {
        let clause = |pid: Pid, predicate: String| {
            Some(Clause {
                subject: Some(name_of(pid)),
                predicate,
            })
        };
        match event {
            server::Event::StatementStarted { pid, sql } => clause(*pid, format!("runs {sql}")),
            server::Event::TransactionCommitted { pid, xid: Some(_) } => {
                clause(*pid, "commits, releasing its row locks".into())
            }
            // The detector's clause says the victim's transaction is aborted.
            server::Event::TransactionAborted { pid, xid: Some(_) } if !detector_fired => clause(
                *pid,
                "has its transaction rolled back: its row locks and writes are gone".into(),
            ),
            server::Event::RowLocked {
                pid, table, ctid, ..
            } => clause(*pid, format!("locks {}", self.row_name(table, *ctid))),
            server::Event::TupleWritten {
                pid,
                table,
                ctid,
                kind,
            } => {
                let verb = match kind {
                    WriteKind::Insert => "inserts",
                    WriteKind::Update => "updates",
                    WriteKind::Delete => "deletes",
                };
                clause(*pid, format!("{verb} {}", self.row_name(table, *ctid)))
            }
            server::Event::LockWaiting { pid, reason } => {
                // The waiting task's own TaskBlocked says it in its words.
                let said = self
                    .task_of_pid(*pid)
                    .is_some_and(|t| blocked.contains(&t));
                if said {
                    return None;
                }
                let what = match &reason.row {
                    Some((table, ctid)) => self.row_name(table, *ctid),
                    None => "a lock".to_string(),
                };
                let who = list(&self.pid_names(&reason.blockers, None));
                clause(*pid, format!("waits for {what}, held by {who}"))
            }
            server::Event::LockAcquiredAfterWait { pid, tag, .. } => match tag {
                server::locks::LockTag::Tuple { .. } => None,
                _ => clause(*pid, "stops waiting: the lock it waited for is free".into()),
            },
            server::Event::DeadlockCheck { pid, verdict } => match verdict {
                DeadlockVerdict::NoDeadlock => clause(
                    *pid,
                    "has waited deadlock_timeout: PostgreSQL checks for a deadlock, finds none, and lets it wait on".into(),
                ),
                DeadlockVerdict::SoftDeadlockResolved => clause(
                    *pid,
                    "has waited deadlock_timeout: PostgreSQL reorders a wait queue to avoid a deadlock".into(),
                ),
                DeadlockVerdict::Deadlock { .. } => Some(Clause {
                    subject: None,
                    predicate: format!(
                        "PostgreSQL's deadlock detector finds the cycle and aborts {}'s transaction",
                        name_of(*pid)
                    ),
                }),
            },
            server::Event::TimeoutFired { pid, kind, after } => match kind {
                TimerKind::DeadlockCheck => None,
                TimerKind::LockTimeout => {
                    clause(*pid, format!("has waited lock_timeout ({after}): PostgreSQL cancels its statement"))
                }
                TimerKind::StatementTimeout => clause(
                    *pid,
                    format!("has run for statement_timeout ({after}): PostgreSQL cancels its statement"),
                ),
                TimerKind::IdleInTransaction => clause(
                    *pid,
                    format!("has sat idle in a transaction for {after}: PostgreSQL ends its session"),
                ),
            },
            server::Event::Error { pid, error } if !detector_fired => {
                clause(*pid, format!("gets an error: {}", error.message))
            }
            server::Event::QueryFinished { pid } if !started.contains(pid) && !errored.contains(pid) => {
                let verb = self
                    .server
                    .current_query(*pid)
                    .and_then(|q| q.split_whitespace().next())
                    .map(|w| w.to_uppercase())
                    .unwrap_or_else(|| "query".to_string());
                clause(*pid, format!("sees its {verb} return"))
            }
            _ => None,
        }
    }
}

/// Adds a clause, folding row locks of one subject into one ("locks widget 1 and widget 3")
/// and dropping exact repeats.
fn push_clause(clauses: &mut Vec<Clause>, c: Clause) {
    if let Some(last) = clauses.last_mut() {
        if last.subject == c.subject {
            if last.predicate == c.predicate {
                return;
            }
            if let (Some(rows), Some(row)) = (
                last.predicate.strip_prefix("locks "),
                c.predicate.strip_prefix("locks "),
            ) {
                last.predicate = format!("locks {}", join_more(rows, row));
                return;
            }
        }
    }
    clauses.push(c);
}

/// `a` and then `b` as one list: `widget 1 and widget 3`, `widget 1, widget 3 and widget 2`.
fn join_more(a: &str, b: &str) -> String {
    match a.rsplit_once(" and ") {
        Some((head, tail)) => format!("{head}, {tail} and {b}"),
        None => format!("{a} and {b}"),
    }
}

/// Clauses as one sentence: a subject's consecutive clauses share it ("A starts, gets a
/// connection from pool db and runs BEGIN"), different subjects are joined by semicolons. At
/// most four subjects are told; the rest is in the details.
fn sentence(clauses: &[Clause]) -> String {
    let mut groups: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for c in clauses {
        match groups.last_mut() {
            Some((subject, predicates)) if *subject == c.subject && c.subject.is_some() => {
                predicates.push(c.predicate.clone())
            }
            _ => groups.push((c.subject.clone(), vec![c.predicate.clone()])),
        }
    }
    let total = groups.len();
    let mut parts: Vec<String> = groups
        .into_iter()
        .take(4)
        .map(|(subject, predicates)| {
            let said = list(&predicates);
            match subject {
                Some(s) => format!("{s} {said}"),
                None => said,
            }
        })
        .collect();
    if total > 4 {
        parts.push("and more (see the details)".to_string());
    }
    let mut text = parts.join("; ");
    if let Some(first) = text.get(0..1) {
        text = first.to_uppercase() + &text[1..];
    }
    if !text.is_empty() && !text.ends_with(['.', '!', '?', '”']) {
        text.push('.');
    }
    text
}

/// Whether events include one a learner would name (not only protocol messages and other
/// detail).
pub fn names_something(events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| e.significance() == Significance::Learner)
}
