//! A statement starts: transaction control (BEGIN, COMMIT, ROLLBACK, savepoints), SET and
//! SHOW, CREATE TABLE, and the start of a DML statement (its plan and snapshot).

use super::*;
use crate::server::event::Event;
use crate::server::txn::{Sub, Txn};
use crate::server::{PgError, Server, Session, StatementResult};
use crate::sql::{Statement, StatementKind};
use crate::time::{Duration, Instant};

impl Server {
    pub(super) fn start_statement(
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
            StatementKind::Begin(_)
            | StatementKind::Commit
            | StatementKind::Rollback
            | StatementKind::Savepoint(_)
            | StatementKind::RollbackTo(_)
            | StatementKind::Release(_)
            | StatementKind::SetTransaction(_) => {
                self.start_transaction_control(s, stmt.kind, now, events)
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

    /// BEGIN, COMMIT, ROLLBACK, savepoints and SET TRANSACTION, with PostgreSQL's warnings
    /// when there is no transaction (or already one).
    fn start_transaction_control(
        &mut self,
        s: &mut Session,
        kind: StatementKind,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Flow {
        match kind {
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
            StatementKind::Savepoint(_)
            | StatementKind::RollbackTo(_)
            | StatementKind::Release(_) => self.start_savepoint_command(s, kind, events),
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
            _ => unreachable!("only transaction control statements come here"),
        }
    }

    /// SAVEPOINT, ROLLBACK TO SAVEPOINT and RELEASE SAVEPOINT: only inside a transaction
    /// block, and only for a savepoint that exists.
    fn start_savepoint_command(
        &mut self,
        s: &mut Session,
        kind: StatementKind,
        events: &mut Vec<Event>,
    ) -> Flow {
        match kind {
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
            _ => unreachable!("only savepoint commands come here"),
        }
    }

    pub(super) fn start_dml(
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
}
