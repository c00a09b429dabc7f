//! Statement execution as a resumable state machine. Each call to [`Server::advance`] does one
//! unit of work: a statement's start (table locks, snapshot, plan), one row, or the end. A row
//! that cannot be locked makes the backend wait; once the lock is granted the same row is
//! tried again from the top, as PostgreSQL's `heap_lock_tuple` loops back to `l3`.

mod access_path;
mod ddl;
mod functions;

pub(super) use functions::FunctionState;
pub(super) use scan::Projection;
mod plan;
mod row_change;
mod scan;
mod settings;
mod statement;

use super::event::Event;
use super::storage::Value;
use super::txn::{Snapshot, Txn};
use super::{AcquireFailure, PgError, QueryOutcome, Server, Session, StatementResult};
use crate::server::locks::{LockMode, LockRequest, LockTag, Owner};
use crate::sql::{Expr, Locking, OnConflict, SelectItem, Statement};
use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};

/// A query string in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Query {
    pub statements: Vec<Statement>,
    pub next: usize,
    pub current: Option<Exec>,
    pub results: Vec<StatementResult>,
}

impl Query {
    pub fn new(statements: Vec<Statement>) -> Query {
        Query {
            statements,
            next: 0,
            current: None,
            results: Vec::new(),
        }
    }
}

/// A statement in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Exec {
    /// Table locks still to take before the statement can run (the start step).
    locks: Vec<(u32, String, LockMode)>,
    locks_done: usize,
    nowait: bool,
    started: bool,
    snapshot: Option<Snapshot>,
    body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Body {
    /// LOCK TABLE: done once the locks are held.
    Lock,
    /// DROP TABLE: drops once the locks are held.
    Drop(Vec<String>),
    /// SELECT without FROM: one row of expressions.
    Values(Vec<SelectItem>, Option<Expr>),
    Scan(Box<Scan>),
    Insert(Box<InsertRun>),
}

/// An INSERT in progress: the rows still to insert and the one pending, with what its unique
/// checks have found so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(in crate::server) struct InsertRun {
    pub(in crate::server) table: String,
    pub(in crate::server) columns: Vec<usize>,
    pub(in crate::server) rows: Vec<Vec<Expr>>,
    pub(in crate::server) row_pos: usize,
    pub(in crate::server) on_conflict: Option<OnConflict>,
    pub(in crate::server) arbiters: Vec<usize>,
    pub(in crate::server) returning: Vec<SelectItem>,
    pub(in crate::server) pending: Option<Vec<Value>>,
    /// Heap index of the tuple already written for the pending row (plain INSERT writes the
    /// heap tuple first and then checks the unique index, waiting there if needed).
    pub(in crate::server) written: Option<usize>,
    /// ON CONFLICT DO UPDATE: the existing row being locked/updated.
    pub(in crate::server) conflict_row: Option<usize>,
    pub(in crate::server) out: Vec<Vec<Value>>,
    pub(in crate::server) affected: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum ScanKind {
    Select {
        items: Vec<SelectItem>,
        order_by: Vec<(Expr, bool)>,
        limit: Option<u64>,
        locking: Option<Locking>,
        aggregate: bool,
    },
    Update {
        assignments: Vec<(String, Expr)>,
        returning: Vec<SelectItem>,
    },
    Delete {
        returning: Vec<SelectItem>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Scan {
    table: String,
    alias: Option<String>,
    filter: Option<Expr>,
    kind: ScanKind,
    candidates: Vec<usize>,
    pos: usize,
    /// ORDER BY or aggregates: rows are collected first, then sorted (and locked).
    collect: bool,
    matched: Vec<usize>,
    lock_list: Option<Vec<usize>>,
    lock_pos: usize,
    row: Option<RowWork>,
    out: Vec<Vec<Value>>,
    affected: u64,
}

impl Scan {
    /// A scan of `table` that has not visited a row yet.
    fn new(
        table: String,
        alias: Option<String>,
        filter: Option<Expr>,
        kind: ScanKind,
        candidates: Vec<usize>,
        collect: bool,
    ) -> Scan {
        Scan {
            table,
            alias,
            filter,
            kind,
            candidates,
            pos: 0,
            collect,
            matched: Vec::new(),
            lock_list: None,
            lock_pos: 0,
            row: None,
            out: Vec::new(),
            affected: 0,
        }
    }
}

/// The row being worked on: the heap index of the version, and whether we are following its
/// update chain (EvalPlanQual: lock the newest version, then re-check the WHERE clause).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct RowWork {
    idx: usize,
    latest: bool,
}

/// What one unit of work led to.
pub(super) enum Flow {
    Continue,
    Done(StatementResult),
    Wait,
    Fail(PgError),
}

pub(super) fn command(tag: impl Into<String>) -> Flow {
    Flow::Done(StatementResult::Command { tag: tag.into() })
}

impl Server {
    /// One unit of work of backend `s`'s query.
    pub(crate) fn advance(&mut self, s: &mut Session, now: Instant, events: &mut Vec<Event>) {
        let Some(q) = s.query.as_mut() else {
            return;
        };
        let flow = match q.current.take() {
            Some(mut exec) => {
                let flow = self.run_exec(s, &mut exec, now, events);
                if let Some(q) = s.query.as_mut() {
                    q.current = Some(exec);
                }
                flow
            }
            None => {
                if q.next >= q.statements.len() {
                    self.finish_query(s, None, now, events);
                    return;
                }
                let stmt = q.statements[q.next].clone();
                q.next += 1;
                self.start_statement(s, stmt, now, events)
            }
        };
        // SSI may have decided during this step that the statement must fail.
        let flow = match s.ssi_failure.take() {
            Some(e) if s.query.is_some() => Flow::Fail(e),
            _ => flow,
        };
        match flow {
            Flow::Continue | Flow::Wait => {}
            Flow::Done(result) => {
                s.statement_deadline = None;
                let Some(q) = s.query.as_mut() else {
                    return;
                };
                q.current = None;
                q.results.push(result);
                if q.next >= q.statements.len() {
                    self.finish_query(s, None, now, events);
                }
            }
            Flow::Fail(e) => self.fail_query(s, e, now, events),
        }
    }

    /// Ends the query: records the outcome, commits an implicit transaction, arms the
    /// idle-in-transaction timer.
    pub(crate) fn finish_query(
        &mut self,
        s: &mut Session,
        error: Option<PgError>,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        let results = s.query.take().map(|q| q.results).unwrap_or_default();
        if error.is_none() && s.txn.as_ref().is_some_and(|t| !t.explicit) {
            if let Err(e) = self.ssi_precommit(s) {
                self.abort_transaction(s, now, events);
                s.outcome = Some(QueryOutcome {
                    results,
                    error: Some(e.clone()),
                });
                events.push(Event::Error {
                    pid: s.pid,
                    error: e,
                });
                events.push(Event::QueryFinished { pid: s.pid });
                return;
            }
            self.commit_transaction(s, now, events);
        }
        s.statement_deadline = None;
        if s.txn.as_ref().is_some_and(|t| t.explicit)
            && s.gucs.idle_in_transaction_session_timeout > Duration::ZERO
        {
            s.idle_deadline = Some(now + s.gucs.idle_in_transaction_session_timeout);
        }
        s.outcome = Some(QueryOutcome { results, error });
        events.push(Event::QueryFinished { pid: s.pid });
    }

    /// Fails the running statement: cancels any wait, aborts the (sub)transaction, ends the
    /// query with the error.
    pub(crate) fn fail_query(
        &mut self,
        s: &mut Session,
        error: PgError,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        self.fail_query_logged(s, error, None, now, events);
    }

    /// [`Server::fail_query`] with a different DETAIL for the server log (a deadlock's log
    /// entry also names each process's query).
    pub(crate) fn fail_query_logged(
        &mut self,
        s: &mut Session,
        error: PgError,
        log_detail: Option<String>,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        if s.wait.take().is_some() {
            let woken = self.locks.cancel_wait(s.pid);
            self.woken.extend(woken);
        }
        s.granted = None;
        if let Some((tag, mode)) = s.tuple_lock.take() {
            if let Some(w) = self.locks.release_any(s.pid, tag, mode) {
                self.woken.extend(w);
            }
        }
        // The server log indents continuation lines with a tab.
        let mut logged = error.clone();
        if let Some(d) = log_detail {
            logged.detail = Some(d);
        }
        events.push(Event::Log {
            pid: s.pid,
            at: now,
            line: logged.log_text(),
        });
        if !s.activity.is_empty() {
            events.push(Event::Log {
                pid: s.pid,
                at: now,
                line: format!("STATEMENT:  {}", s.activity),
            });
        }
        events.push(Event::Error {
            pid: s.pid,
            error: error.clone(),
        });
        self.abort_on_error(s, now, events);
        self.finish_query(s, Some(error), now, events);
    }

    pub(in crate::server) fn level(s: &Session) -> u32 {
        s.txn.as_ref().map_or(0, Txn::level)
    }

    pub(super) fn ensure_txn(&mut self, s: &mut Session, events: &mut Vec<Event>) {
        if s.txn.is_none() {
            s.txn = Some(Txn::new(false, s.gucs.default_isolation));
        }
        let _ = events;
    }

    pub(super) fn run_exec(
        &mut self,
        s: &mut Session,
        exec: &mut Exec,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        if !exec.started {
            while exec.locks_done < exec.locks.len() {
                let (oid, name, mode) = exec.locks[exec.locks_done].clone();
                let owner = Owner::Xact(Self::level(s));
                let request = LockRequest {
                    tag: LockTag::Relation { rel: oid },
                    mode,
                    owner,
                    nowait: exec.nowait,
                    context: None,
                };
                match self.acquire(s, request, now, events) {
                    Ok(true) => exec.locks_done += 1,
                    Ok(false) => return Flow::Wait,
                    Err(AcquireFailure::WouldBlock) => {
                        return Flow::Fail(PgError::relation_lock_not_available(&name))
                    }
                    Err(AcquireFailure::Deadlock(e)) => return Flow::Fail(e),
                }
            }
            exec.started = true;
            // A table dropped (and maybe re-created) while we waited for its lock is gone for
            // this statement, as PostgreSQL finds the OID it locked no longer exists.
            if !matches!(exec.body, Body::Drop(_)) {
                for (oid, name, _) in &exec.locks {
                    if self.tables.get(name).map(|t| t.oid) != Some(*oid) {
                        return Flow::Fail(PgError::error(
                            "42P01",
                            format!("could not open relation with OID {oid}"),
                        ));
                    }
                }
            }
            match &mut exec.body {
                Body::Lock => return command("LOCK TABLE"),
                Body::Drop(names) => {
                    self.assign_xid(s, events);
                    for n in names.iter() {
                        if let Some(t) = self.tables.get(n) {
                            for c in &t.columns {
                                if let Some(Expr::Function(f, args)) = &c.default {
                                    if let (true, [Expr::Str(seq)]) =
                                        (f == "nextval", args.as_slice())
                                    {
                                        self.sequences.remove(seq);
                                    }
                                }
                            }
                        }
                        self.tables.remove(n);
                    }
                    return command("DROP TABLE");
                }
                Body::Scan(scan) => {
                    // Tables may have changed while we waited for the lock: plan now.
                    if let Some(t) = self.tables.get(&scan.table) {
                        scan.candidates = self.plan_scan(t, scan.filter.as_ref());
                    } else {
                        return Flow::Fail(PgError::no_such_table(&scan.table));
                    }
                    if let Some(t) = self.tables.get(&scan.table) {
                        if self.ssi_active(s) {
                            let oid = t.oid;
                            self.ssi_read_relation(s, oid);
                        }
                    }
                }
                _ => {}
            }
            exec.snapshot = Some(match s.txn.as_ref().and_then(|t| t.snapshot.clone()) {
                Some(snap) => snap,
                None => self.take_snapshot(s, events),
            });
            return Flow::Continue;
        }
        let Some(snapshot) = exec.snapshot.clone() else {
            return Flow::Fail(PgError::error("XX000", "statement has no snapshot"));
        };
        match &mut exec.body {
            Body::Lock | Body::Drop(_) => command("LOCK TABLE"),
            Body::Values(items, filter) => {
                let items = items.clone();
                let filter = filter.clone();
                self.run_values(s, &items, filter.as_ref(), now, events)
            }
            Body::Scan(scan) => self.run_scan(s, scan, &snapshot, now, events),
            Body::Insert(ins) => self.run_insert(s, ins, &snapshot, now, events),
        }
    }
}

/// Registers a lock request for backend `s`, recording the wait (with its deadlock and lock
/// timers) if it has to sleep. A free function so that expression evaluation can take
/// advisory locks while the table being scanned is borrowed.
pub(crate) fn acquire_lock(
    locks: &mut crate::server::locks::LockManager,
    s: &mut Session,
    request: LockRequest,
    now: Instant,
    events: &mut Vec<Event>,
) -> Result<bool, AcquireFailure> {
    let LockRequest {
        tag,
        mode,
        owner,
        nowait,
        context,
    } = request;
    if s.granted == Some((tag, mode)) {
        s.granted = None;
        return Ok(true);
    }
    match locks.acquire(s.pid, tag, mode, owner, nowait) {
        crate::server::locks::Acquire::Granted => {
            if !matches!(tag, LockTag::Relation { .. }) || mode > LockMode::RowExclusive {
                events.push(Event::LockGranted {
                    pid: s.pid,
                    tag,
                    mode,
                });
            }
            Ok(true)
        }
        crate::server::locks::Acquire::Waiting => {
            let w = crate::server::Wait {
                tag,
                mode,
                since: now,
                deadlock_at: Some(now + s.gucs.deadlock_timeout),
                lock_timeout_at: (s.gucs.lock_timeout > Duration::ZERO)
                    .then(|| now + s.gucs.lock_timeout),
                context,
                row: None,
            };
            let reason = crate::server::wait_reason_of(locks, s.pid, &w);
            s.wait = Some(w);
            events.push(Event::LockWaiting { pid: s.pid, reason });
            Ok(false)
        }
        crate::server::locks::Acquire::WouldBlock => Err(AcquireFailure::WouldBlock),
        crate::server::locks::Acquire::SimpleDeadlock(other) => {
            let other_wait = locks.waiting.get(&other).copied();
            let mut detail = format!(
                "Process {} waits for {} on {}; blocked by process {}.",
                s.pid,
                crate::server::locks::mode_name(mode),
                tag,
                other
            );
            if let Some((otag, omode)) = other_wait {
                detail.push_str(&format!(
                    "\nProcess {} waits for {} on {}; blocked by process {}.",
                    other,
                    crate::server::locks::mode_name(omode),
                    otag,
                    s.pid
                ));
            }
            events.push(Event::DeadlockCheck {
                pid: s.pid,
                verdict: crate::server::DeadlockVerdict::Deadlock {
                    detail: detail.clone(),
                },
            });
            Err(AcquireFailure::Deadlock(PgError::deadlock(detail, context)))
        }
    }
}

/// Sends a NOTICE or WARNING to the client (and the server log).
fn notice(s: &mut Session, severity: &str, message: &str, now: Instant, events: &mut Vec<Event>) {
    s.notices.push(crate::server::Notice {
        severity: severity.to_string(),
        message: message.to_string(),
    });
    events.push(Event::Log {
        pid: s.pid,
        at: now,
        line: format!("{severity}:  {message}"),
    });
}

fn is_aggregate(name: &str) -> bool {
    matches!(name, "count" | "sum" | "min" | "max")
}
