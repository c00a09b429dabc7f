//! Statement execution as a resumable state machine. Each call to [`Server::advance`] does one
//! unit of work: a statement's start (table locks, snapshot, plan), one row, or the end. A row
//! that cannot be locked makes the backend wait; once the lock is granted the same row is
//! tried again from the top, as PostgreSQL's `heap_lock_tuple` loops back to `l3`.

use super::eval::{self, coerce, column_name, is_true, RowRef, Stop};
use super::event::Event;
use super::insert::{not_null_violation, InsertRun};
use super::locks::{LockMode, LockTag, Owner};
use super::rowlock::{RowOp, RowRes, WaitOper};
use super::storage::{Column, Index, Table, Value};
use super::txn::{Snapshot, Sub, Txn, Viewer};
use super::{AcquireFailure, PgError, QueryOutcome, Server, Session, StatementResult};
use crate::sql::{
    Expr, IsolationLevel, Locking, OnConflict, RowLockStrength, SelectItem, Statement,
    StatementKind, WaitPolicy,
};
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

fn parse_duration(value: &str) -> Option<Duration> {
    let v = value.trim();
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = v[digits.len()..].trim().to_ascii_lowercase();
    let us = match unit.as_str() {
        "" | "ms" => n * 1000,
        "us" => n,
        "s" => n * 1_000_000,
        "min" => n * 60_000_000,
        "h" => n * 3_600_000_000,
        _ => return None,
    };
    Some(Duration(us))
}

fn show_duration(d: Duration) -> String {
    if d == Duration::ZERO {
        "0".to_string()
    } else {
        d.to_string()
    }
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

    pub(super) fn level(s: &Session) -> u32 {
        s.txn.as_ref().map_or(0, Txn::level)
    }

    fn ensure_txn(&mut self, s: &mut Session, events: &mut Vec<Event>) {
        if s.txn.is_none() {
            s.txn = Some(Txn::new(false, s.gucs.default_isolation));
        }
        let _ = events;
    }

    fn start_statement(
        &mut self,
        s: &mut Session,
        stmt: Statement,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        s.activity = stmt.text.clone();
        events.push(Event::StatementStarted {
            pid: s.pid,
            sql: stmt.text.clone(),
        });
        if s.gucs.statement_timeout > Duration::ZERO {
            s.statement_deadline = Some(now + s.gucs.statement_timeout);
        }
        let failed = s.txn.as_ref().is_some_and(Txn::is_failed);
        let control = matches!(
            stmt.kind,
            StatementKind::Commit | StatementKind::Rollback | StatementKind::RollbackTo(_)
        );
        if failed && !control {
            return Flow::Fail(PgError::in_failed_transaction());
        }
        match stmt.kind {
            StatementKind::Begin(level) => {
                match s.txn.as_mut() {
                    Some(t) if t.explicit => {
                        notice(
                            s,
                            "WARNING",
                            "there is already a transaction in progress",
                            now,
                            events,
                        );
                    }
                    Some(t) => {
                        t.explicit = true;
                        if let Some(l) = level {
                            t.isolation = l;
                        }
                    }
                    None => {
                        s.txn = Some(Txn::new(true, level.unwrap_or(s.gucs.default_isolation)));
                        events.push(Event::TransactionBegan { pid: s.pid });
                    }
                }
                command("BEGIN")
            }
            StatementKind::Commit => match s.txn.as_ref() {
                None => {
                    notice(
                        s,
                        "WARNING",
                        "there is no transaction in progress",
                        now,
                        events,
                    );
                    command("COMMIT")
                }
                Some(t) if t.is_failed() => {
                    self.abort_transaction(s, now, events);
                    command("ROLLBACK")
                }
                Some(_) => {
                    if let Err(e) = self.ssi_precommit(s) {
                        // The commit itself fails; the transaction is rolled back.
                        if let Some(t) = s.txn.as_mut() {
                            t.explicit = false;
                        }
                        return Flow::Fail(e);
                    }
                    self.commit_transaction(s, now, events);
                    command("COMMIT")
                }
            },
            StatementKind::Rollback => {
                if s.txn.is_none() {
                    notice(
                        s,
                        "WARNING",
                        "there is no transaction in progress",
                        now,
                        events,
                    );
                }
                self.abort_transaction(s, now, events);
                command("ROLLBACK")
            }
            StatementKind::Savepoint(name) => match s.txn.as_mut() {
                Some(t) if t.explicit => {
                    t.subs.push(Sub {
                        name,
                        xid: None,
                        merged: Vec::new(),
                        failed: false,
                    });
                    command("SAVEPOINT")
                }
                _ => Flow::Fail(PgError::error(
                    "25P01",
                    "SAVEPOINT can only be used in transaction blocks",
                )),
            },
            StatementKind::RollbackTo(name) => {
                let Some(t) = s.txn.as_ref().filter(|t| t.explicit) else {
                    return Flow::Fail(PgError::error(
                        "25P01",
                        "ROLLBACK TO SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                // Allowed in a failed block too: the savepoint is looked up (and, when the top level
                // failed, there is none).
                let Some(i) = t.subs.iter().rposition(|sp| sp.name == name) else {
                    return Flow::Fail(PgError::error(
                        "3B001",
                        format!("savepoint \"{name}\" does not exist"),
                    ));
                };
                self.abort_subtransactions(s, i as u32 + 1, events);
                if let Some(t) = s.txn.as_mut() {
                    t.subs.truncate(i);
                    t.subs.push(Sub {
                        name,
                        xid: None,
                        merged: Vec::new(),
                        failed: false,
                    });
                }
                command("ROLLBACK")
            }
            StatementKind::Release(name) => {
                let Some(t) = s.txn.as_ref().filter(|t| t.explicit) else {
                    return Flow::Fail(PgError::error(
                        "25P01",
                        "RELEASE SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                let Some(i) = t.subs.iter().rposition(|sp| sp.name == name) else {
                    return Flow::Fail(PgError::error(
                        "3B001",
                        format!("savepoint \"{name}\" does not exist"),
                    ));
                };
                self.release_subtransactions(s, i as u32 + 1);
                command("RELEASE")
            }
            StatementKind::SetTransaction(level) => {
                match s.txn.as_mut() {
                    Some(t) if t.started_statements => {
                        return Flow::Fail(PgError::error(
                            "25001",
                            "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                        ))
                    }
                    Some(t) => t.isolation = level,
                    None => notice(
                        s,
                        "WARNING",
                        "SET TRANSACTION can only be used in transaction blocks",
                        now,
                        events,
                    ),
                }
                command("SET")
            }
            StatementKind::Set { name, value } => {
                // SET inside a transaction is undone if the transaction rolls back.
                let gucs = s.gucs.clone();
                if let Some(t) = s.txn.as_mut() {
                    t.saved_gucs.get_or_insert(gucs);
                }
                self.set_guc_statement(s, &name, &value)
            }
            StatementKind::Show(name) => match self.show_guc(s, &name) {
                Ok(v) => Flow::Done(StatementResult::Rows {
                    columns: vec![name],
                    rows: vec![vec![Some(v)]],
                }),
                Err(e) => Flow::Fail(e),
            },
            StatementKind::CreateTable(ct) => self.create_table(s, ct, events),
            kind => self.start_dml(s, kind, now, events),
        }
    }

    fn set_guc_statement(&mut self, s: &mut Session, name: &str, value: &str) -> Flow {
        match self.set_guc(s, name, value) {
            Ok(()) => command("SET"),
            Err(e) => Flow::Fail(e),
        }
    }

    fn create_table(
        &mut self,
        s: &mut Session,
        ct: crate::sql::CreateTable,
        events: &mut Vec<Event>,
    ) -> Flow {
        if self.tables.contains_key(&ct.name) {
            if ct.if_not_exists {
                let message = format!("relation \"{}\" already exists, skipping", ct.name);
                notice(s, "NOTICE", &message, Instant::START, events);
                return command("CREATE TABLE");
            }
            return Flow::Fail(PgError::error(
                "42P07",
                format!("relation \"{}\" already exists", ct.name),
            ));
        }
        match self.build_table(&ct) {
            Ok(t) => {
                // DDL writes the catalogs, so it takes an xid like any write.
                self.ensure_txn(s, events);
                self.assign_xid(s, events);
                for c in &t.columns {
                    if let Some(Expr::Function(f, args)) = &c.default {
                        if let (true, [Expr::Str(seq)]) = (f == "nextval", args.as_slice()) {
                            self.sequences.insert(seq.clone(), 0);
                        }
                    }
                }
                self.tables.insert(ct.name.clone(), t);
                command("CREATE TABLE")
            }
            Err(e) => Flow::Fail(e),
        }
    }

    fn start_dml(
        &mut self,
        s: &mut Session,
        kind: StatementKind,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        // LOCK TABLE needs a transaction block: a single-statement query's transaction would
        // release the lock at once (PostgreSQL's RequireTransactionBlock).
        let single_statement = s.query.as_ref().is_none_or(|q| q.statements.len() == 1);
        if matches!(kind, StatementKind::Lock { .. })
            && !s.txn.as_ref().is_some_and(|t| t.explicit)
            && single_statement
        {
            return Flow::Fail(PgError::error(
                "25P01",
                "LOCK TABLE can only be used in transaction blocks",
            ));
        }
        if let StatementKind::DropTable {
            names,
            if_exists: true,
        } = &kind
        {
            for n in names {
                if !self.tables.contains_key(n) {
                    let message = format!("table \"{n}\" does not exist, skipping");
                    notice(s, "NOTICE", &message, now, events);
                }
            }
        }
        self.ensure_txn(s, events);
        if let Some(t) = s.txn.as_mut() {
            t.cid += 1;
            t.started_statements = true;
        }
        // REPEATABLE READ takes its snapshot at the first statement that needs one,
        // before waiting for any table lock.
        let needs_txn_snapshot = s
            .txn
            .as_ref()
            .is_some_and(|t| t.uses_transaction_snapshot() && t.snapshot.is_none());
        // DDL and LOCK TABLE take none: PostgreSQL exempts LOCK so that a transaction can lock
        // its tables first and then read a snapshot taken after the locks were granted.
        let takes_no_snapshot = matches!(
            kind,
            StatementKind::DropTable { .. } | StatementKind::Lock { .. }
        );
        if needs_txn_snapshot && !takes_no_snapshot {
            let snap = self.take_snapshot(s, events);
            if let Some(t) = s.txn.as_mut() {
                t.snapshot = Some(snap);
            }
            self.ssi_begin(s);
        }
        let mut exec = match self.plan(kind) {
            Ok(e) => e,
            Err(e) => return Flow::Fail(e),
        };
        let flow = self.run_exec(s, &mut exec, now, events);
        if let Some(q) = s.query.as_mut() {
            q.current = Some(exec);
        }
        match flow {
            // The start step ends once the locks are held and the plan is ready.
            Flow::Continue => Flow::Continue,
            f => f,
        }
    }

    fn set_guc(&mut self, s: &mut Session, name: &str, value: &str) -> Result<(), PgError> {
        let dur = || {
            parse_duration(value).ok_or_else(|| {
                PgError::error(
                    "22023",
                    format!("invalid value for parameter \"{name}\": \"{value}\""),
                )
            })
        };
        match name {
            "deadlock_timeout" => s.gucs.deadlock_timeout = dur()?.max(Duration::from_millis(1)),
            "lock_timeout" => s.gucs.lock_timeout = dur()?,
            "statement_timeout" => s.gucs.statement_timeout = dur()?,
            "idle_in_transaction_session_timeout" => {
                s.gucs.idle_in_transaction_session_timeout = dur()?
            }
            "default_transaction_isolation" | "transaction_isolation" => {
                let level = match value.to_ascii_lowercase().as_str() {
                    "read committed" | "read uncommitted" => IsolationLevel::ReadCommitted,
                    "repeatable read" => IsolationLevel::RepeatableRead,
                    "serializable" => IsolationLevel::Serializable,
                    _ => {
                        return Err(PgError::error(
                            "22023",
                            format!("invalid value for parameter \"{name}\": \"{value}\""),
                        ))
                    }
                };
                if name == "transaction_isolation" {
                    if let Some(t) = s.txn.as_mut() {
                        t.isolation = level;
                    }
                } else {
                    s.gucs.default_isolation = level;
                }
            }
            // Accepted and ignored: they change nothing the model shows.
            "client_min_messages"
            | "search_path"
            | "application_name"
            | "timezone"
            | "datestyle"
            | "log_lock_waits"
            | "enable_seqscan"
            | "max_parallel_workers" => {}
            _ => {
                return Err(PgError::error(
                    "42704",
                    format!("unrecognized configuration parameter \"{name}\""),
                ))
            }
        }
        Ok(())
    }

    fn show_guc(&self, s: &Session, name: &str) -> Result<String, PgError> {
        Ok(match name {
            "deadlock_timeout" => show_duration(s.gucs.deadlock_timeout),
            "lock_timeout" => show_duration(s.gucs.lock_timeout),
            "statement_timeout" => show_duration(s.gucs.statement_timeout),
            "idle_in_transaction_session_timeout" => {
                show_duration(s.gucs.idle_in_transaction_session_timeout)
            }
            "default_transaction_isolation" => s.gucs.default_isolation.name().to_string(),
            "transaction_isolation" => s
                .txn
                .as_ref()
                .map_or(s.gucs.default_isolation, |t| t.isolation)
                .name()
                .to_string(),
            "max_connections" => self.settings.max_connections.to_string(),
            "superuser_reserved_connections" => {
                self.settings.superuser_reserved_connections.to_string()
            }
            _ => {
                return Err(PgError::error(
                    "42704",
                    format!("unrecognized configuration parameter \"{name}\""),
                ))
            }
        })
    }

    fn build_table(&mut self, ct: &crate::sql::CreateTable) -> Result<Table, PgError> {
        let mut columns: Vec<Column> = Vec::new();
        for c in &ct.columns {
            if columns.iter().any(|x| x.name == c.name) {
                return Err(PgError::error(
                    "42701",
                    format!("column \"{}\" specified more than once", c.name),
                ));
            }
            columns.push(Column {
                name: c.name.clone(),
                ty: c.ty,
                not_null: c.not_null,
                default: c.default.clone(),
            });
        }
        let find = |names: &[String], cols: &[Column]| -> Result<Vec<usize>, PgError> {
            names
                .iter()
                .map(|n| {
                    cols.iter().position(|c| &c.name == n).ok_or_else(|| {
                        PgError::error(
                            "42703",
                            format!("column \"{n}\" named in key does not exist"),
                        )
                    })
                })
                .collect()
        };
        let mut indexes = Vec::new();
        if let Some(pk) = &ct.primary_key {
            let cols = find(pk, &columns)?;
            for &c in &cols {
                columns[c].not_null = true;
            }
            indexes.push(Index {
                name: format!("{}_pkey", ct.name),
                columns: cols,
                primary: true,
            });
        }
        for u in &ct.unique {
            let cols = find(u, &columns)?;
            indexes.push(Index {
                name: format!("{}_{}_key", ct.name, u.join("_")),
                columns: cols,
                primary: false,
            });
        }
        let oid = self.next_oid;
        self.next_oid += 1;
        Ok(Table {
            oid,
            name: ct.name.clone(),
            columns,
            indexes,
            heap: Vec::new(),
        })
    }

    pub(super) fn table(&self, name: &str) -> Result<&Table, PgError> {
        self.tables
            .get(name)
            .ok_or_else(|| PgError::no_such_table(name))
    }

    /// Builds the statement's execution state: which table locks it needs and what it does.
    fn plan(&self, kind: StatementKind) -> Result<Exec, PgError> {
        let mut exec = Exec {
            locks: Vec::new(),
            locks_done: 0,
            nowait: false,
            started: false,
            snapshot: None,
            body: Body::Lock,
        };
        match kind {
            StatementKind::Lock {
                tables,
                mode,
                nowait,
            } => {
                for name in tables {
                    let t = self.table(&name)?;
                    exec.locks.push((t.oid, t.name.clone(), mode));
                }
                exec.nowait = nowait;
            }
            StatementKind::DropTable { names, if_exists } => {
                let mut keep = Vec::new();
                for name in names {
                    match self.tables.get(&name) {
                        Some(t) => {
                            exec.locks
                                .push((t.oid, t.name.clone(), LockMode::AccessExclusive));
                            keep.push(name);
                        }
                        None if if_exists => {}
                        None => {
                            return Err(PgError::error(
                                "42P01",
                                format!("table \"{name}\" does not exist"),
                            ))
                        }
                    }
                }
                exec.body = Body::Drop(keep);
            }
            StatementKind::Select(sel) => {
                let Some((tname, alias)) = sel.from else {
                    if sel.items.iter().any(|i| matches!(i, SelectItem::Star)) {
                        return Err(PgError::error(
                            "42601",
                            "SELECT * with no tables specified is not valid",
                        ));
                    }
                    exec.body = Body::Values(sel.items, sel.filter);
                    return Ok(exec);
                };
                let t = self.table(&tname)?;
                let mode = if sel.locking.is_some() {
                    LockMode::RowShare
                } else {
                    LockMode::AccessShare
                };
                exec.locks.push((t.oid, t.name.clone(), mode));
                let aggregate = sel.items.iter().any(|i| match i {
                    SelectItem::Expr(Expr::Function(n, _), _) => is_aggregate(n),
                    _ => false,
                });
                if aggregate && sel.locking.is_some() {
                    return Err(PgError::error(
                        "0A000",
                        "FOR UPDATE is not allowed with aggregate functions",
                    ));
                }
                let limit = match &sel.limit {
                    None => None,
                    Some(Expr::Int(n)) if *n >= 0 => Some(*n as u64),
                    Some(Expr::Null) => None,
                    Some(_) => {
                        return Err(PgError::error(
                            "0A000",
                            "LIMIT must be a non-negative integer literal in Lockstep",
                        ))
                    }
                };
                let candidates = self.plan_scan(t, sel.filter.as_ref());
                let collect = !sel.order_by.is_empty() || aggregate;
                exec.body = Body::Scan(Box::new(Scan {
                    table: tname,
                    alias,
                    filter: sel.filter,
                    kind: ScanKind::Select {
                        items: sel.items,
                        order_by: sel.order_by,
                        limit,
                        locking: sel.locking,
                        aggregate,
                    },
                    candidates,
                    pos: 0,
                    collect,
                    matched: Vec::new(),
                    lock_list: None,
                    lock_pos: 0,
                    row: None,
                    out: Vec::new(),
                    affected: 0,
                }));
            }
            StatementKind::Update(u) => {
                let t = self.table(&u.table)?;
                for (c, _) in &u.assignments {
                    if t.column(c).is_none() {
                        return Err(PgError::error(
                            "42703",
                            format!("column \"{c}\" of relation \"{}\" does not exist", t.name),
                        ));
                    }
                }
                exec.locks
                    .push((t.oid, t.name.clone(), LockMode::RowExclusive));
                let candidates = self.plan_scan(t, u.filter.as_ref());
                exec.body = Body::Scan(Box::new(Scan {
                    table: u.table,
                    alias: u.alias,
                    filter: u.filter,
                    kind: ScanKind::Update {
                        assignments: u.assignments,
                        returning: u.returning,
                    },
                    candidates,
                    pos: 0,
                    collect: false,
                    matched: Vec::new(),
                    lock_list: None,
                    lock_pos: 0,
                    row: None,
                    out: Vec::new(),
                    affected: 0,
                }));
            }
            StatementKind::Delete(d) => {
                let t = self.table(&d.table)?;
                exec.locks
                    .push((t.oid, t.name.clone(), LockMode::RowExclusive));
                let candidates = self.plan_scan(t, d.filter.as_ref());
                exec.body = Body::Scan(Box::new(Scan {
                    table: d.table,
                    alias: d.alias,
                    filter: d.filter,
                    kind: ScanKind::Delete {
                        returning: d.returning,
                    },
                    candidates,
                    pos: 0,
                    collect: false,
                    matched: Vec::new(),
                    lock_list: None,
                    lock_pos: 0,
                    row: None,
                    out: Vec::new(),
                    affected: 0,
                }));
            }
            StatementKind::Insert(ins) => {
                let t = self.table(&ins.table)?;
                exec.locks
                    .push((t.oid, t.name.clone(), LockMode::RowExclusive));
                let columns: Vec<usize> = match &ins.columns {
                    Some(cols) => cols
                        .iter()
                        .map(|c| {
                            t.column(c).ok_or_else(|| {
                                PgError::error(
                                    "42703",
                                    format!(
                                        "column \"{c}\" of relation \"{}\" does not exist",
                                        t.name
                                    ),
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    None => (0..t.columns.len()).collect(),
                };
                for r in &ins.rows {
                    if r.len() > columns.len() {
                        return Err(PgError::error(
                            "42601",
                            "INSERT has more expressions than target columns",
                        ));
                    }
                    if ins.columns.is_some() && r.len() < columns.len() {
                        return Err(PgError::error(
                            "42601",
                            "INSERT has more target columns than expressions",
                        ));
                    }
                }
                let arbiters = match &ins.on_conflict {
                    None => Vec::new(),
                    Some(OnConflict { target: None, .. }) => (0..t.indexes.len()).collect(),
                    Some(OnConflict {
                        target: Some(cols), ..
                    }) => {
                        let want: Vec<Option<usize>> = cols.iter().map(|c| t.column(c)).collect();
                        let found: Vec<usize> = t
                            .indexes
                            .iter()
                            .enumerate()
                            .filter(|(_, ix)| {
                                ix.columns.len() == want.len()
                                    && ix.columns.iter().all(|c| want.contains(&Some(*c)))
                            })
                            .map(|(i, _)| i)
                            .collect();
                        if found.is_empty() {
                            return Err(PgError::error(
                                "42P10",
                                "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                            ));
                        }
                        found
                    }
                };
                exec.body = Body::Insert(Box::new(InsertRun {
                    table: ins.table,
                    columns,
                    rows: ins.rows,
                    row_pos: 0,
                    on_conflict: ins.on_conflict,
                    arbiters,
                    returning: ins.returning,
                    pending: None,
                    written: None,
                    conflict_row: None,
                    out: Vec::new(),
                    affected: 0,
                }));
            }
            _ => {
                return Err(PgError::error(
                    "0A000",
                    "statement not supported here by Lockstep",
                ))
            }
        }
        Ok(exec)
    }

    /// The heap indexes a scan of `t` visits, in the order of PostgreSQL's plan for `filter`
    /// (see [`super::plan`]).
    fn plan_scan(&self, t: &Table, filter: Option<&Expr>) -> Vec<usize> {
        super::plan::plan_scan(t, filter).1
    }

    fn run_exec(
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
                match self.acquire(
                    s,
                    LockTag::Relation { rel: oid },
                    mode,
                    owner,
                    exec.nowait,
                    None,
                    now,
                    events,
                ) {
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

    /// Calls a function for an expression (advisory locks, current_setting).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call_function(
        locks: &mut super::locks::LockManager,
        woken: &mut Vec<super::locks::Grant>,
        sequences: &mut std::collections::BTreeMap<String, i64>,
        s: &mut Session,
        name: &str,
        args: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Value, Stop> {
        let key = || -> Result<i64, Stop> {
            match args {
                [Value::Int(k)] => Ok(*k),
                [Value::Int(a), Value::Int(b)] => Ok((*a << 32) | (*b & 0xffff_ffff)),
                [Value::Null] => Ok(i64::MIN),
                _ => Err(PgError::error(
                    "42883",
                    format!("function {name} does not exist with these arguments"),
                )
                .into()),
            }
        };
        let level = Self::level(s);
        match name {
            "pg_advisory_lock"
            | "pg_advisory_xact_lock"
            | "pg_advisory_lock_shared"
            | "pg_advisory_xact_lock_shared"
            | "pg_try_advisory_lock"
            | "pg_try_advisory_xact_lock"
            | "pg_try_advisory_lock_shared"
            | "pg_try_advisory_xact_lock_shared" => {
                let k = key()?;
                let mode = if name.ends_with("_shared") {
                    LockMode::Share
                } else {
                    LockMode::Exclusive
                };
                let owner = if name.contains("xact") {
                    Owner::Xact(level)
                } else {
                    Owner::Session
                };
                let tryit = name.starts_with("pg_try");
                match acquire_lock(
                    locks,
                    s,
                    LockTag::Advisory { key: k },
                    mode,
                    owner,
                    tryit,
                    None,
                    now,
                    events,
                ) {
                    Ok(true) => Ok(if tryit { Value::Bool(true) } else { Value::Void }),
                    Ok(false) => Err(Stop::Wait),
                    Err(AcquireFailure::WouldBlock) => Ok(Value::Bool(false)),
                    Err(AcquireFailure::Deadlock(e)) => Err(Stop::Error(e)),
                }
            }
            "pg_advisory_unlock" | "pg_advisory_unlock_shared" => {
                let k = key()?;
                let mode = if name.ends_with("_shared") {
                    LockMode::Share
                } else {
                    LockMode::Exclusive
                };
                match locks.release(s.pid, LockTag::Advisory { key: k }, mode, Owner::Session) {
                    Some(w) => {
                        woken.extend(w);
                        Ok(Value::Bool(true))
                    }
                    None => {
                        let message = format!(
                            "you don't own a lock of type {}",
                            super::locks::mode_name(mode)
                        );
                        notice(s, "WARNING", &message, now, events);
                        Ok(Value::Bool(false))
                    }
                }
            }
            "pg_advisory_unlock_all" => {
                let pid = s.pid;
                // Only session-level advisory locks; transaction-level ones stay.
                let tags: Vec<LockTag> = locks
                    .locks
                    .keys()
                    .filter(|t| matches!(t, LockTag::Advisory { .. }))
                    .copied()
                    .collect();
                for tag in tags {
                    for mode in [LockMode::Exclusive, LockMode::Share] {
                        while locks.hold_count(pid, &tag, mode, Owner::Session) > 0 {
                            if let Some(w) = locks.release(pid, tag, mode, Owner::Session) {
                                woken.extend(w);
                            }
                        }
                    }
                }
                Ok(Value::Void)
            }
            "current_setting" => match args {
                [Value::Text(n)] => {
                    let v = match n.as_str() {
                        "default_transaction_isolation" => {
                            s.gucs.default_isolation.name().to_string()
                        }
                        "transaction_isolation" => s
                            .txn
                            .as_ref()
                            .map_or(s.gucs.default_isolation, |t| t.isolation)
                            .name()
                            .to_string(),
                        "deadlock_timeout" => show_duration(s.gucs.deadlock_timeout),
                        "lock_timeout" => show_duration(s.gucs.lock_timeout),
                        "statement_timeout" => show_duration(s.gucs.statement_timeout),
                        _ => {
                            return Err(PgError::error(
                                "42704",
                                format!("unrecognized configuration parameter \"{n}\""),
                            )
                            .into())
                        }
                    };
                    Ok(Value::Text(v))
                }
                _ => Err(PgError::error("42883", "function current_setting does not exist").into()),
            },
            // Sequences are not transactional: a value handed out stays used even if the
            // transaction rolls back, as in PostgreSQL.
            "nextval" => match args {
                [Value::Text(name)] => match sequences.get_mut(name) {
                    Some(v) => {
                        *v += 1;
                        Ok(Value::Int(*v))
                    }
                    None => Err(PgError::error(
                        "42P01",
                        format!("relation \"{name}\" does not exist"),
                    )
                    .into()),
                },
                _ => Err(PgError::error("42883", "function nextval does not exist").into()),
            },
            "pg_backend_pid" => Ok(Value::Int(s.pid.0 as i64)),
            "txid_current" | "pg_current_xact_id" => Err(PgError::error(
                "0A000",
                format!("function {name} is not supported by Lockstep"),
            )
            .into()),
            "lower" | "upper" => match args {
                [Value::Text(t)] => Ok(Value::Text(if name == "lower" {
                    t.to_lowercase()
                } else {
                    t.to_uppercase()
                })),
                [Value::Null] => Ok(Value::Null),
                _ => Err(PgError::error("42883", format!("function {name} does not exist")).into()),
            },
            "coalesce" => Ok(args
                .iter()
                .find(|v| **v != Value::Null)
                .cloned()
                .unwrap_or(Value::Null)),
            _ if is_aggregate(name) => Err(PgError::error(
                "42803",
                format!("aggregate functions are not allowed here ({name})"),
            )
            .into()),
            _ => Err(PgError::error(
                "42883",
                format!("function {name} does not exist"),
            )
            .with_hint(
                "No function matches the given name and argument types. You might need to add explicit type casts.",
            )
            .into()),
        }
    }

    fn run_values(
        &mut self,
        s: &mut Session,
        items: &[SelectItem],
        filter: Option<&Expr>,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        let mut columns = Vec::new();
        let mut row = Vec::new();
        let locks = &mut self.locks;
        let woken = &mut self.woken;
        let sequences = &mut self.sequences;
        let mut f = |n: &str, a: &[Value]| {
            Self::call_function(locks, woken, sequences, s, n, a, now, events)
        };
        let keep = match filter.map(|e| eval::eval(e, RowRef::empty(), &mut f)) {
            None => true,
            Some(Ok(v)) => is_true(&v),
            Some(Err(Stop::Wait)) => return Flow::Wait,
            Some(Err(Stop::Error(e))) => return Flow::Fail(e),
        };
        for item in items {
            if let SelectItem::Expr(e, alias) = item {
                // A filtered-out row's target list is never computed (no lock is taken).
                if keep {
                    match eval::eval(e, RowRef::empty(), &mut f) {
                        Ok(v) => row.push(v),
                        Err(Stop::Wait) => return Flow::Wait,
                        Err(Stop::Error(e)) => return Flow::Fail(e),
                    }
                }
                columns.push(alias.clone().unwrap_or_else(|| column_name(e)));
            }
        }
        Flow::Done(StatementResult::Rows {
            columns,
            rows: if keep {
                vec![row.iter().map(Value::to_text).collect()]
            } else {
                Vec::new()
            },
        })
    }

    pub(super) fn viewer<'a>(s: &Session, snapshot: &'a Snapshot) -> Viewer<'a> {
        Viewer {
            snapshot,
            top: s.txn.as_ref().and_then(|t| t.xid),
            cid: s.txn.as_ref().map_or(0, |t| t.cid),
        }
    }

    /// Evaluates the scan's WHERE clause on heap tuple `idx`.
    fn filter_matches(
        &mut self,
        s: &mut Session,
        scan: &Scan,
        idx: usize,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, Stop> {
        let Some(filter) = &scan.filter else {
            return Ok(true);
        };
        let Some(t) = self.tables.get(&scan.table) else {
            return Err(PgError::no_such_table(&scan.table).into());
        };
        let row = RowRef {
            table: Some((&t.name, &t.columns)),
            alias: scan.alias.as_deref(),
            values: Some(&t.heap[idx].values),
            excluded: None,
        };
        let locks = &mut self.locks;
        let woken = &mut self.woken;
        let sequences = &mut self.sequences;
        let mut f = |n: &str, a: &[Value]| {
            Self::call_function(locks, woken, sequences, s, n, a, now, events)
        };
        Ok(is_true(&eval::eval(filter, row, &mut f)?))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn project(
        &mut self,
        s: &mut Session,
        table: &str,
        alias: Option<&str>,
        items: &[SelectItem],
        values: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<Vec<Value>, Stop> {
        let Some(t) = self.tables.get(table) else {
            return Err(PgError::no_such_table(table).into());
        };
        let row = RowRef {
            table: Some((&t.name, &t.columns)),
            alias,
            values: Some(values),
            excluded: None,
        };
        let locks = &mut self.locks;
        let woken = &mut self.woken;
        let sequences = &mut self.sequences;
        let mut f = |n: &str, a: &[Value]| {
            Self::call_function(locks, woken, sequences, s, n, a, now, events)
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => out.extend(values.iter().cloned()),
                SelectItem::Expr(e, _) => out.push(eval::eval(e, row, &mut f)?),
            }
        }
        Ok(out)
    }

    pub(super) fn output_columns(&self, table: &str, items: &[SelectItem]) -> Vec<String> {
        let mut cols = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => {
                    if let Some(t) = self.tables.get(table) {
                        cols.extend(t.columns.iter().map(|c| c.name.clone()));
                    }
                }
                SelectItem::Expr(e, alias) => {
                    cols.push(alias.clone().unwrap_or_else(|| column_name(e)))
                }
            }
        }
        cols
    }

    fn run_scan(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        snapshot: &Snapshot,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        // A bound on rows skipped within one step; a table is never that big in a lesson.
        for _ in 0..100_000 {
            if let Some(rw) = scan.row.take() {
                let mut rw = rw;
                match self.process_row(s, scan, &mut rw, now, events) {
                    Ok(true) => return Flow::Continue,
                    Ok(false) => {
                        scan.row = Some(rw);
                        return Flow::Wait;
                    }
                    Err(e) => return Flow::Fail(e),
                }
            }
            let (limit, locking) = match &scan.kind {
                ScanKind::Select { limit, locking, .. } => (*limit, locking.is_some()),
                _ => (None, false),
            };
            if limit.is_some_and(|l| scan.out.len() as u64 >= l) && (!scan.collect || locking) {
                return self.finish_scan(s, scan, now, events);
            }
            if let Some(list) = &scan.lock_list {
                if scan.lock_pos < list.len() {
                    let idx = list[scan.lock_pos];
                    scan.lock_pos += 1;
                    scan.row = Some(RowWork { idx, latest: false });
                    continue;
                }
                return self.finish_scan(s, scan, now, events);
            }
            let Some(t) = self.tables.get(&scan.table) else {
                return Flow::Fail(PgError::no_such_table(&scan.table));
            };
            let viewer = Self::viewer(s, snapshot);
            let ssi = self.ssi_active(s);
            let mut examined = Vec::new();
            let mut found = None;
            while scan.pos < scan.candidates.len() {
                let idx = scan.candidates[scan.pos];
                let Some(tup) = t.heap.get(idx) else {
                    scan.pos += 1;
                    continue;
                };
                let visible = self.visible(tup, viewer);
                if ssi {
                    examined.push(idx);
                }
                if !visible {
                    scan.pos += 1;
                    continue;
                }
                found = Some(idx);
                break;
            }
            for idx in examined {
                let viewer = Self::viewer(s, snapshot);
                let table = scan.table.clone();
                self.ssi_examine(s, &table, idx, viewer);
            }
            let Some(idx) = found else {
                // The scan is over: sort collected rows, then lock them if asked.
                if scan.collect && scan.lock_list.is_none() {
                    self.sort_matched(scan);
                    if locking {
                        scan.lock_list = Some(std::mem::take(&mut scan.matched));
                        continue;
                    }
                }
                return self.finish_scan(s, scan, now, events);
            };
            match self.filter_matches(s, scan, idx, now, events) {
                Ok(true) => {}
                Ok(false) => {
                    scan.pos += 1;
                    continue;
                }
                Err(Stop::Wait) => return Flow::Wait,
                Err(Stop::Error(e)) => return Flow::Fail(e),
            }
            scan.pos += 1;
            if scan.collect {
                scan.matched.push(idx);
                return Flow::Continue;
            }
            scan.row = Some(RowWork { idx, latest: false });
        }
        Flow::Fail(PgError::error(
            "54000",
            "scan exceeded Lockstep's row limit",
        ))
    }

    /// Counts a row an UPDATE or DELETE has written and projects its RETURNING list (from
    /// `values`, the version RETURNING reports). `Ok(false)` when the projection must wait.
    fn row_done(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        returning: &[SelectItem],
        values: &[Value],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        scan.affected += 1;
        if returning.is_empty() {
            return Ok(true);
        }
        let table = scan.table.clone();
        let alias = scan.alias.clone();
        match self.project(s, &table, alias.as_deref(), returning, values, now, events) {
            Ok(r) => scan.out.push(r),
            Err(Stop::Wait) => return Ok(false),
            Err(Stop::Error(e)) => return Err(e),
        }
        Ok(true)
    }

    fn sort_matched(&mut self, scan: &mut Scan) {
        let ScanKind::Select { order_by, .. } = &scan.kind else {
            return;
        };
        if order_by.is_empty() {
            return;
        }
        let Some(t) = self.tables.get(&scan.table) else {
            return;
        };
        let mut keyed: Vec<(Vec<Value>, usize)> = Vec::new();
        for &idx in &scan.matched {
            let row = RowRef {
                table: Some((&t.name, &t.columns)),
                alias: scan.alias.as_deref(),
                values: Some(&t.heap[idx].values),
                excluded: None,
            };
            let mut nofn = |_: &str, _: &[Value]| -> Result<Value, Stop> { Ok(Value::Null) };
            let keys = order_by
                .iter()
                .map(|(e, _)| eval::eval(e, row, &mut nofn).unwrap_or(Value::Null))
                .collect();
            keyed.push((keys, idx));
        }
        keyed.sort_by(|a, b| {
            for (i, (_, desc)) in order_by.iter().enumerate() {
                let o = a.0[i].sort_cmp(&b.0[i]);
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        scan.matched = keyed.into_iter().map(|(_, i)| i).collect();
    }

    fn finish_scan(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        match scan.kind.clone() {
            ScanKind::Select {
                items,
                limit,
                locking,
                aggregate,
                ..
            } => {
                let columns = self.output_columns(&scan.table, &items);
                let mut rows: Vec<Vec<Value>> = Vec::new();
                if aggregate {
                    match self.aggregate(scan, &items) {
                        Ok(r) => rows.push(r),
                        Err(e) => return Flow::Fail(e),
                    }
                } else if scan.collect && locking.is_none() {
                    let matched = scan.matched.clone();
                    for idx in matched {
                        if limit.is_some_and(|l| rows.len() as u64 >= l) {
                            break;
                        }
                        let Some(values) = self
                            .tables
                            .get(&scan.table)
                            .map(|t| t.heap[idx].values.clone())
                        else {
                            break;
                        };
                        match self.project(
                            s,
                            &scan.table.clone(),
                            scan.alias.clone().as_deref(),
                            &items,
                            &values,
                            now,
                            events,
                        ) {
                            Ok(r) => rows.push(r),
                            Err(Stop::Wait) => return Flow::Wait,
                            Err(Stop::Error(e)) => return Flow::Fail(e),
                        }
                    }
                } else {
                    rows = std::mem::take(&mut scan.out);
                }
                Flow::Done(StatementResult::Rows {
                    columns,
                    rows: rows
                        .into_iter()
                        .map(|r| r.iter().map(Value::to_text).collect())
                        .collect(),
                })
            }
            ScanKind::Update { returning, .. } => {
                if returning.is_empty() {
                    command(format!("UPDATE {}", scan.affected))
                } else {
                    Flow::Done(StatementResult::Rows {
                        columns: self.output_columns(&scan.table, &returning),
                        rows: scan
                            .out
                            .iter()
                            .map(|r| r.iter().map(Value::to_text).collect())
                            .collect(),
                    })
                }
            }
            ScanKind::Delete { returning } => {
                if returning.is_empty() {
                    command(format!("DELETE {}", scan.affected))
                } else {
                    Flow::Done(StatementResult::Rows {
                        columns: self.output_columns(&scan.table, &returning),
                        rows: scan
                            .out
                            .iter()
                            .map(|r| r.iter().map(Value::to_text).collect())
                            .collect(),
                    })
                }
            }
        }
    }

    fn aggregate(&self, scan: &Scan, items: &[SelectItem]) -> Result<Vec<Value>, PgError> {
        let t = self.table(&scan.table)?;
        let mut out = Vec::new();
        for item in items {
            let SelectItem::Expr(Expr::Function(name, args), _) = item else {
                return Err(PgError::error(
                    "42803",
                    "column must appear in the GROUP BY clause or be used in an aggregate function",
                ));
            };
            let mut vals = Vec::new();
            for &idx in &scan.matched {
                let row = RowRef {
                    table: Some((&t.name, &t.columns)),
                    alias: scan.alias.as_deref(),
                    values: Some(&t.heap[idx].values),
                    excluded: None,
                };
                let v = match args.as_slice() {
                    [Expr::Star] | [] => Value::Int(1),
                    [e] => {
                        let mut nofn =
                            |_: &str, _: &[Value]| -> Result<Value, Stop> { Ok(Value::Null) };
                        match eval::eval(e, row, &mut nofn) {
                            Ok(v) => v,
                            Err(Stop::Error(e)) => return Err(e),
                            Err(Stop::Wait) => Value::Null,
                        }
                    }
                    _ => {
                        return Err(PgError::error(
                            "42883",
                            format!("function {name} does not exist"),
                        ))
                    }
                };
                if v != Value::Null {
                    vals.push(v);
                }
            }
            out.push(match name.as_str() {
                "count" => Value::Int(vals.len() as i64),
                "sum" => {
                    if vals.is_empty() {
                        Value::Null
                    } else {
                        Value::Int(
                            vals.iter()
                                .map(|v| match v {
                                    Value::Int(n) => *n,
                                    _ => 0,
                                })
                                .sum(),
                        )
                    }
                }
                "max" => vals
                    .into_iter()
                    .max_by(|a, b| a.sort_cmp(b))
                    .unwrap_or(Value::Null),
                _ => vals
                    .into_iter()
                    .min_by(|a, b| a.sort_cmp(b))
                    .unwrap_or(Value::Null),
            });
        }
        Ok(out)
    }

    /// Works on one row of a scan. Ok(true): the row is done (this step's unit of work);
    /// Ok(false): the backend now waits and will come back to this row.
    fn process_row(
        &mut self,
        s: &mut Session,
        scan: &mut Scan,
        rw: &mut RowWork,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        let rr = s.txn.as_ref().is_some_and(Txn::uses_transaction_snapshot);
        for _ in 0..64 {
            let kind = scan.kind.clone();
            match kind {
                ScanKind::Select { items, locking, .. } => {
                    if let Some(l) = locking {
                        let res = self.row_op(
                            s,
                            &scan.table,
                            rw.idx,
                            RowOp::Lock(l.strength),
                            l.wait,
                            WaitOper::Lock,
                            now,
                            events,
                        );
                        match res {
                            RowRes::Ok => {
                                if rw.latest && !self.recheck(s, scan, rw.idx, now, events)? {
                                    return Ok(true);
                                }
                            }
                            RowRes::SelfModified | RowRes::Skip => return Ok(true),
                            RowRes::Updated(next) => {
                                if rr {
                                    return Err(PgError::concurrent_update());
                                }
                                match next {
                                    Some(n) => {
                                        rw.idx = n;
                                        rw.latest = true;
                                        continue;
                                    }
                                    None => return Ok(true),
                                }
                            }
                            RowRes::Wait => return Ok(false),
                            RowRes::Fail(e) => return Err(e),
                        }
                    }
                    let values = self.tables[&scan.table].heap[rw.idx].values.clone();
                    let table = scan.table.clone();
                    let alias = scan.alias.clone();
                    match self.project(s, &table, alias.as_deref(), &items, &values, now, events) {
                        Ok(r) => scan.out.push(r),
                        Err(Stop::Wait) => return Ok(false),
                        Err(Stop::Error(e)) => return Err(e),
                    }
                    return Ok(true);
                }
                ScanKind::Update {
                    assignments,
                    returning,
                } => {
                    let (new_values, strength) =
                        match self.updated_values(s, scan, rw.idx, &assignments, now, events) {
                            Ok(v) => v,
                            Err(Stop::Wait) => return Ok(false),
                            Err(Stop::Error(e)) => return Err(e),
                        };
                    // A key change must keep the unique indexes unique: lock the row first (as
                    // heap_update would wait for it), then check the new key, waiting for an
                    // in-progress inserter of the same key, then write the new version.
                    if !rw.latest && strength == RowLockStrength::Update {
                        match self.row_op(
                            s,
                            &scan.table,
                            rw.idx,
                            RowOp::Lock(strength),
                            WaitPolicy::Block,
                            WaitOper::Update,
                            now,
                            events,
                        ) {
                            RowRes::Ok => {}
                            RowRes::SelfModified | RowRes::Skip => return Ok(true),
                            RowRes::Updated(next) => match next {
                                Some(_) if rr => return Err(PgError::concurrent_update()),
                                None if rr => return Err(PgError::concurrent_delete()),
                                Some(n) => {
                                    rw.idx = n;
                                    rw.latest = true;
                                    continue;
                                }
                                None => return Ok(true),
                            },
                            RowRes::Wait => return Ok(false),
                            RowRes::Fail(e) => return Err(e),
                        }
                        if !self.check_unique_for_update(
                            s,
                            &scan.table,
                            rw.idx,
                            &new_values,
                            now,
                            events,
                        )? {
                            return Ok(false);
                        }
                    }
                    let op = if rw.latest {
                        RowOp::Lock(strength)
                    } else {
                        RowOp::Update(new_values, strength)
                    };
                    let res = self.row_op(
                        s,
                        &scan.table,
                        rw.idx,
                        op,
                        WaitPolicy::Block,
                        if rw.latest {
                            WaitOper::Lock
                        } else {
                            WaitOper::Update
                        },
                        now,
                        events,
                    );
                    match res {
                        RowRes::Ok if rw.latest => {
                            if !self.recheck(s, scan, rw.idx, now, events)? {
                                return Ok(true);
                            }
                            rw.latest = false;
                            continue;
                        }
                        RowRes::Ok => {
                            let t = &self.tables[&scan.table];
                            let new_idx = t.heap[rw.idx].next.unwrap_or(rw.idx);
                            let values = t.heap[new_idx].values.clone();
                            return self.row_done(s, scan, &returning, &values, now, events);
                        }
                        RowRes::SelfModified | RowRes::Skip => return Ok(true),
                        RowRes::Updated(next) => match next {
                            Some(_) if rr => return Err(PgError::concurrent_update()),
                            None if rr => return Err(PgError::concurrent_delete()),
                            Some(n) => {
                                rw.idx = n;
                                rw.latest = true;
                                continue;
                            }
                            None => return Ok(true),
                        },
                        RowRes::Wait => return Ok(false),
                        RowRes::Fail(e) => return Err(e),
                    }
                }
                ScanKind::Delete { returning } => {
                    let op = if rw.latest {
                        RowOp::Lock(RowLockStrength::Update)
                    } else {
                        RowOp::Delete
                    };
                    let res = self.row_op(
                        s,
                        &scan.table,
                        rw.idx,
                        op,
                        WaitPolicy::Block,
                        if rw.latest {
                            WaitOper::Lock
                        } else {
                            WaitOper::Delete
                        },
                        now,
                        events,
                    );
                    match res {
                        RowRes::Ok if rw.latest => {
                            if !self.recheck(s, scan, rw.idx, now, events)? {
                                return Ok(true);
                            }
                            rw.latest = false;
                            continue;
                        }
                        RowRes::Ok => {
                            let values = self.tables[&scan.table].heap[rw.idx].values.clone();
                            return self.row_done(s, scan, &returning, &values, now, events);
                        }
                        RowRes::SelfModified | RowRes::Skip => return Ok(true),
                        RowRes::Updated(next) => match next {
                            Some(_) if rr => return Err(PgError::concurrent_update()),
                            None if rr => return Err(PgError::concurrent_delete()),
                            Some(n) => {
                                rw.idx = n;
                                rw.latest = true;
                                continue;
                            }
                            None => return Ok(true),
                        },
                        RowRes::Wait => return Ok(false),
                        RowRes::Fail(e) => return Err(e),
                    }
                }
            }
        }
        Err(PgError::error(
            "XX000",
            "row kept changing while Lockstep tried to lock it",
        ))
    }

    /// EvalPlanQual's re-check: does the newer version still satisfy the WHERE clause?
    fn recheck(
        &mut self,
        s: &mut Session,
        scan: &Scan,
        idx: usize,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<bool, PgError> {
        match self.filter_matches(s, scan, idx, now, events) {
            Ok(b) => Ok(b),
            // A function in the WHERE clause that would wait now: PostgreSQL would wait in
            // the re-check too; we treat the row as matching (the lock is already held).
            Err(Stop::Wait) => Ok(true),
            Err(Stop::Error(e)) => Err(e),
        }
    }

    fn updated_values(
        &mut self,
        s: &mut Session,
        scan: &Scan,
        idx: usize,
        assignments: &[(String, Expr)],
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Result<(Vec<Value>, RowLockStrength), Stop> {
        let Some(t) = self.tables.get(&scan.table) else {
            return Err(PgError::no_such_table(&scan.table).into());
        };
        let old = t.heap[idx].values.clone();
        let mut new = old.clone();
        let row = RowRef {
            table: Some((&t.name, &t.columns)),
            alias: scan.alias.as_deref(),
            values: Some(&old),
            excluded: None,
        };
        let cols = t.columns.clone();
        let key_cols: Vec<bool> = (0..cols.len()).map(|c| t.is_key_column(c)).collect();
        let tname = t.name.clone();
        let locks = &mut self.locks;
        let woken = &mut self.woken;
        let sequences = &mut self.sequences;
        let mut f = |n: &str, a: &[Value]| {
            Self::call_function(locks, woken, sequences, s, n, a, now, events)
        };
        for (c, e) in assignments {
            let Some(ci) = cols.iter().position(|x| &x.name == c) else {
                return Err(PgError::no_such_column(c).into());
            };
            let v = eval::eval(e, row, &mut f)?;
            let v = coerce(v, cols[ci].ty, c)?;
            if v == Value::Null && cols[ci].not_null {
                return Err(not_null_violation(c, &tname).into());
            }
            new[ci] = v;
        }
        let key_change = (0..cols.len()).any(|c| key_cols[c] && old[c] != new[c]);
        let strength = if key_change {
            RowLockStrength::Update
        } else {
            RowLockStrength::NoKeyUpdate
        };
        Ok((new, strength))
    }
}

/// Registers a lock request for backend `s`, recording the wait (with its deadlock and lock
/// timers) if it has to sleep. A free function so that expression evaluation can take
/// advisory locks while the table being scanned is borrowed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn acquire_lock(
    locks: &mut super::locks::LockManager,
    s: &mut Session,
    tag: LockTag,
    mode: LockMode,
    owner: Owner,
    nowait: bool,
    context: Option<String>,
    now: Instant,
    events: &mut Vec<Event>,
) -> Result<bool, AcquireFailure> {
    if s.granted == Some((tag, mode)) {
        s.granted = None;
        return Ok(true);
    }
    match locks.acquire(s.pid, tag, mode, owner, nowait) {
        super::locks::Acquire::Granted => {
            if !matches!(tag, LockTag::Relation { .. }) || mode > LockMode::RowExclusive {
                events.push(Event::LockGranted {
                    pid: s.pid,
                    tag,
                    mode,
                });
            }
            Ok(true)
        }
        super::locks::Acquire::Waiting => {
            let w = super::Wait {
                tag,
                mode,
                since: now,
                deadlock_at: Some(now + s.gucs.deadlock_timeout),
                lock_timeout_at: (s.gucs.lock_timeout > Duration::ZERO)
                    .then(|| now + s.gucs.lock_timeout),
                context,
                row: None,
            };
            let reason = super::wait_reason_of(locks, s.pid, &w);
            s.wait = Some(w);
            events.push(Event::LockWaiting { pid: s.pid, reason });
            Ok(false)
        }
        super::locks::Acquire::WouldBlock => Err(AcquireFailure::WouldBlock),
        super::locks::Acquire::SimpleDeadlock(other) => {
            let other_wait = locks.waiting.get(&other).copied();
            let mut detail = format!(
                "Process {} waits for {} on {}; blocked by process {}.",
                s.pid,
                super::locks::mode_name(mode),
                tag,
                other
            );
            if let Some((otag, omode)) = other_wait {
                detail.push_str(&format!(
                    "\nProcess {} waits for {} on {}; blocked by process {}.",
                    other,
                    super::locks::mode_name(omode),
                    otag,
                    s.pid
                ));
            }
            events.push(Event::DeadlockCheck {
                pid: s.pid,
                verdict: super::DeadlockVerdict::Deadlock {
                    detail: detail.clone(),
                },
            });
            Err(AcquireFailure::Deadlock(PgError::deadlock(detail, context)))
        }
    }
}

/// Sends a NOTICE or WARNING to the client (and the server log).
fn notice(s: &mut Session, severity: &str, message: &str, now: Instant, events: &mut Vec<Event>) {
    s.notices.push(super::Notice {
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
