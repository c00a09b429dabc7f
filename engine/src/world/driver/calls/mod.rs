//! A driver call in flight: how it starts (`mod.rs`), its micro-steps (`micro.rs`: acquire,
//! the protocol messages it sends and the replies it reads, with each driver's rules for what
//! a reply means), and how it ends (`finish.rs`).

use super::*;

mod finish;
mod micro;

/// A statement a task sends: where (`on`: a pool, a transaction or a connection variable), the
/// SQL and its arguments, the context it runs under, and what kind of call it is.
pub(in crate::world::driver) struct Statement<'a> {
    pub(in crate::world::driver) on: &'a str,
    pub(in crate::world::driver) sql: &'a str,
    pub(in crate::world::driver) args: &'a [String],
    pub(in crate::world::driver) context: Option<String>,
    pub(in crate::world::driver) kind: CallKind,
}

impl World {
    pub(in crate::world::driver) fn start_call(
        &mut self,
        id: TaskId,
        call: Call,
        driver: Driver,
        events: &mut Vec<Event>,
    ) {
        let conn = call.conn;
        self.task_mut(id).call = Some(call);
        if let Some(conn) = conn {
            match self.connections.get_mut(&conn) {
                None => {
                    let text = match driver {
                        Driver::Pgxpool => "conn closed",
                        Driver::DatabaseSql => BAD_CONNECTION,
                    };
                    return self.fail_call(id, error(text), events);
                }
                // pgx refuses a second operation on a connection that is in use (§1.5).
                Some(c) if driver == Driver::Pgxpool => {
                    if c.busy {
                        // Not `fail_call`: the connection stays with whoever is using it.
                        self.task_mut(id).call = None;
                        return self.fail(id, error("conn busy"), events);
                    }
                    c.busy = true;
                }
                Some(_) => {}
            }
        }
        self.advance_call(id, events);
    }

    /// Starts a statement call of task `id`: on a pool (acquire first), a transaction or a
    /// connection, checking the transaction and the context before anything is sent.
    pub(in crate::world::driver) fn start_statement(
        &mut self,
        id: TaskId,
        statement: Statement<'_>,
        events: &mut Vec<Event>,
    ) {
        let Statement {
            on,
            sql,
            args,
            context,
            kind,
        } = statement;
        let target = match self.resolve_target(id, on) {
            Ok(t) => t,
            Err(e) => return self.fail(id, e, events),
        };
        let ctx = match self.context_var(id, &context) {
            Ok(c) => c,
            Err(e) => return self.fail(id, e, events),
        };
        let args: Vec<String> = args
            .iter()
            .map(|a| self.operand(id, a).unwrap_or_else(|| "NULL".into()))
            .collect();
        let (pool, conn, driver) = match target {
            Target::Pool(p) => (Some(p), None, self.driver_of_pool(p)),
            Target::Conn(c) => (None, Some(c), self.driver_of_conn(c)),
            Target::Tx(tx) => {
                let Some(handle) = self.transactions.get(&tx) else {
                    return self.fail(id, error("lockstep: unknown transaction"), events);
                };
                let driver = self.driver_of_pool(handle.pool);
                if handle.done {
                    let text = match driver {
                        Driver::Pgxpool => "tx is closed",
                        Driver::DatabaseSql => SQL_TX_DONE,
                    };
                    return self.fail(id, error(text), events);
                }
                (None, Some(handle.conn), driver)
            }
        };
        if let Some(e) = ctx.and_then(|c| self.context_error(c)) {
            return self.fail(id, error(e), events);
        }
        let mut script = Vec::new();
        if let Some(p) = pool {
            script.push(Micro::Acquire(p));
        }
        script.extend(statement_script(driver, sql, &args, &kind));
        let mut call = Call::new(kind, script);
        call.conn = conn;
        call.context = ctx;
        self.start_call(id, call, driver, events);
    }

    pub(in crate::world::driver) fn start_rows_call(
        &mut self,
        id: TaskId,
        rows_var: &str,
        next_done: Option<String>,
        collect_into: Option<String>,
        events: &mut Vec<Event>,
    ) {
        let Some(Var::Rows(rows_id)) = self.var(id, rows_var).cloned() else {
            return self.fail(
                id,
                error(format!("lockstep: `{rows_var}` is not a rows cursor")),
                events,
            );
        };
        let rows = self
            .rows
            .get(&rows_id)
            .cloned()
            .expect("rows handle exists");
        // In-memory lists and closed rows need no I/O.
        if rows.buffered.is_some() || rows.closed {
            match (&next_done, &collect_into) {
                (Some(done), _) => {
                    let next = self
                        .rows
                        .get_mut(&rows_id)
                        .and_then(|r| r.buffered.as_mut())
                        .and_then(|b| b.pop_front());
                    let has_row = next.is_some();
                    self.rows.get_mut(&rows_id).expect("exists").current = next;
                    if has_row {
                        self.advance(id, events);
                    } else {
                        self.jump(id, done);
                    }
                }
                (None, Some(into)) => {
                    let list = rows.buffered.clone().unwrap_or_default();
                    self.new_list(id, into, list.into_iter().collect());
                    self.succeed(id, events);
                }
                (None, None) => self.succeed(id, events),
            }
            return;
        }
        let Some(conn) = rows.conn else {
            return self.succeed(id, events);
        };
        let driver = self.driver_of_conn(conn);
        let lock = driver == Driver::DatabaseSql;
        let reader = Reader::RowsNext { error: None };
        let mut script = Vec::new();
        if lock {
            script.push(Micro::Lock);
        }
        let kind = match (next_done, collect_into) {
            (Some(_), _) => {
                script.push(Micro::Read(reader));
                CallKind::Next { rows: rows_id }
            }
            (None, Some(into)) => {
                script.push(Micro::Drain(reader));
                CallKind::Collect {
                    rows: rows_id,
                    into,
                }
            }
            (None, None) => {
                script.push(Micro::Drain(reader));
                CallKind::Close { rows: rows_id }
            }
        };
        if lock {
            script.push(Micro::Unlock);
        }
        let mut call = Call::new(kind, script);
        call.conn = Some(conn);
        // Rows already occupy their pgx connection: no `conn busy` check for their own calls.
        self.task_mut(id).call = Some(call);
        self.advance_call(id, events);
    }

    pub(in crate::world::driver) fn start_tx_end(
        &mut self,
        id: TaskId,
        tx_var: &str,
        commit: bool,
        events: &mut Vec<Event>,
    ) {
        let Some(Var::Tx(tx)) = self.var(id, tx_var).cloned() else {
            return self.fail(
                id,
                error(format!("lockstep: `{tx_var}` is not a transaction")),
                events,
            );
        };
        let handle = self
            .transactions
            .get(&tx)
            .cloned()
            .expect("tx handle exists");
        let driver = self.driver_of_pool(handle.pool);
        if handle.done {
            let text = match driver {
                Driver::Pgxpool => "tx is closed",
                Driver::DatabaseSql => SQL_TX_DONE,
            };
            return self.fail(id, error(text), events);
        }
        if driver == Driver::DatabaseSql {
            if let Some(e) = handle.context.and_then(|c| self.context_error(c)) {
                return self.fail(id, error(e), events);
            }
            let bad = self
                .connections
                .get(&handle.conn)
                .is_none_or(|c| c.bad || c.terminated);
            if bad {
                // lib/pq answers ErrBadConn; database/sql then closes the connection, which
                // ends the server session and with it the transaction.
                self.transactions.get_mut(&tx).expect("exists").done = true;
                self.release_conn(handle.conn, id, events);
                return self.fail(id, error(BAD_CONNECTION), events);
            }
        }
        // lib/pq: committing a failed transaction rolls it back and reports
        // ErrInFailedTransaction.
        let failed = commit
            && driver == Driver::DatabaseSql
            && self
                .connections
                .get(&handle.conn)
                .is_some_and(|c| c.tx_status == TxStatus::Failed);
        let sql = if commit && !failed {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let kind = if commit {
            CallKind::Commit { tx, failed }
        } else {
            CallKind::Rollback { tx }
        };
        let mut call = Call::new(kind, simple_script(driver, sql));
        call.conn = Some(handle.conn);
        self.start_call(id, call, driver, events);
    }

    /// The smallest id not in use: handles are forgotten when done, so reusing ids lets a
    /// loop come back to an identical state.
    pub(in crate::world::driver) fn free_rows_id(&self) -> RowsId {
        (0..)
            .map(RowsId)
            .find(|r| !self.rows.contains_key(r))
            .expect("a free id")
    }

    pub(in crate::world::driver) fn new_list(
        &mut self,
        id: TaskId,
        var: &str,
        list: Vec<Vec<Option<String>>>,
    ) {
        let rows_id = self.free_rows_id();
        self.rows.insert(
            rows_id,
            Rows {
                conn: None,
                releases_to: None,
                buffered: Some(list.into()),
                current: None,
                closed: false,
                owner: id,
            },
        );
        self.set_var(id, var, Var::Rows(rows_id));
    }

    /// After an Exec or QueryRow: the connection is free again, and goes back to the pool
    /// when the call took it from there.
    pub(in crate::world::driver) fn end_statement(
        &mut self,
        id: TaskId,
        conn: Option<ConnId>,
        pool: Option<PoolId>,
        events: &mut Vec<Event>,
    ) {
        let Some(conn) = conn else { return };
        if let Some(c) = self.connections.get_mut(&conn) {
            c.busy = false;
        }
        if pool.is_some() {
            self.release_conn(conn, id, events);
        }
    }

    pub(in crate::world::driver) fn close_rows(
        &mut self,
        rows: RowsId,
        id: TaskId,
        events: &mut Vec<Event>,
    ) {
        let Some(r) = self.rows.get_mut(&rows) else {
            return;
        };
        if r.closed {
            return;
        }
        r.closed = true;
        r.current = None;
        let conn = r.conn.take();
        let releases_to = r.releases_to;
        if let Some(conn) = conn {
            if let Some(c) = self.connections.get_mut(&conn) {
                c.busy = false;
            }
            if releases_to.is_some() {
                self.release_conn(conn, id, events);
            }
        }
    }
}
