//! A driver call in flight: its micro-steps (acquire, the protocol messages it sends and the
//! replies it reads, with each driver's rules for what a reply means), and how it ends.

use super::*;

/// A statement a task sends: where (`on`: a pool, a transaction or a connection variable), the
/// SQL and its arguments, the context it runs under, and what kind of call it is.
pub(super) struct Statement<'a> {
    pub(super) on: &'a str,
    pub(super) sql: &'a str,
    pub(super) args: &'a [String],
    pub(super) context: Option<String>,
    pub(super) kind: CallKind,
}

impl World {
    pub(super) fn start_call(
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
    pub(super) fn start_statement(
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

    pub(super) fn start_rows_call(
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

    pub(super) fn start_tx_end(
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
    pub(super) fn free_rows_id(&self) -> RowsId {
        (0..)
            .map(RowsId)
            .find(|r| !self.rows.contains_key(r))
            .expect("a free id")
    }

    pub(super) fn new_list(&mut self, id: TaskId, var: &str, list: Vec<Vec<Option<String>>>) {
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

    /// Runs a call's micro-steps: one per step for lib/pq (each message read is visible),
    /// as many as can go without waiting for pgx (its `conn busy` guard makes message-level
    /// interleaving impossible, so finer steps would only multiply schedules).
    pub(super) fn advance_call(&mut self, id: TaskId, events: &mut Vec<Event>) {
        for _ in 0..crate::limits::CALL_MICRO_STEPS_MAX {
            let Some(call) = self.tasks[id.0 as usize].call.clone() else {
                return;
            };
            let pgx = match (call.conn, &call.script.first()) {
                (Some(c), _) => self.driver_of_conn(c) == Driver::Pgxpool,
                (None, Some(Micro::Acquire(p))) => self.driver_of_pool(*p) == Driver::Pgxpool,
                _ => true,
            };
            let Some(micro) = call.script.first().cloned() else {
                self.finish_call(id, events);
                return;
            };
            match micro {
                Micro::Acquire(pool) => {
                    if self.pools[pool.0 as usize].position(id).is_some() {
                        return;
                    }
                    match self.try_acquire(id, pool, call.context, events) {
                        Ok(Some(conn)) => self.granted(id, pool, conn),
                        Ok(None) => return,
                        Err(e) => return self.fail_call(id, e, events),
                    }
                    if self.finish_if_done(id, events) || !pgx {
                        return;
                    }
                }
                Micro::Lock => {
                    let conn = call.conn.expect("a locked call has a connection");
                    match self.connections.get_mut(&conn) {
                        // database/sql's mutex is free, but lib/pq starts every driver call by
                        // checking the error it saved on the connection (conn.go: `query` and
                        // `Exec` call `cn.err.get()`, `rows.Next` (and so `rows.Close`, which
                        // loops over it) calls `cn.err.getForNext()`); after a protocol error
                        // that error is `driver.ErrBadConn` (`errRecover`, `readParseResponse`).
                        Some(c) if c.bad && c.locked_by.is_none() => {
                            return self.fail_call(id, error(BAD_CONNECTION), events);
                        }
                        Some(c) if c.locked_by.is_none() || c.locked_by == Some(id) => {
                            c.locked_by = Some(id);
                            self.pop_micro(id);
                        }
                        Some(_) => return,
                        None => return self.fail_call(id, error(BAD_CONNECTION), events),
                    }
                }
                Micro::Unlock => {
                    if let Some(c) = call.conn.and_then(|c| self.connections.get_mut(&c)) {
                        if c.locked_by == Some(id) {
                            c.locked_by = None;
                        }
                    }
                    self.pop_micro(id);
                    // The end of one driver call: another goroutine may take the mutex now.
                    if self.finish_if_done(id, events) || !pgx {
                        return;
                    }
                }
                Micro::Send(messages) => {
                    let conn = call.conn.expect("a sending call has a connection");
                    let usable = self.connections.get(&conn).map(|c| !c.bad && !c.terminated);
                    if usable != Some(true) {
                        let text = if pgx { "conn closed" } else { BAD_CONNECTION };
                        return self.fail_call(id, error(text), events);
                    }
                    for message in messages {
                        events.push(Event::MessageSent {
                            task: id,
                            conn,
                            message: message.clone(),
                        });
                        self.connections
                            .get_mut(&conn)
                            .expect("usable")
                            .to_backend
                            .push_back(message);
                    }
                    self.pop_micro(id);
                    self.backend_process(conn, events);
                    if self.finish_if_done(id, events) || !pgx {
                        return;
                    }
                }
                Micro::Read(ref reader) | Micro::Drain(ref reader) => {
                    let drain = matches!(micro, Micro::Drain(_));
                    let reader = reader.clone();
                    let conn = call.conn.expect("a reading call has a connection");
                    match self.receive(id, conn, events) {
                        Some(message) => {
                            if !self.feed(id, conn, reader, drain, message, events) {
                                return;
                            }
                        }
                        None => {
                            let Some(c) = self.connections.get(&conn) else {
                                let text = if pgx { "conn closed" } else { BAD_CONNECTION };
                                return self.fail_call(id, error(text), events);
                            };
                            if c.terminated {
                                // The server closed the socket: lib/pq sees io.EOF, which it
                                // turns into ErrBadConn; pgx reports the closed connection.
                                let text = if pgx {
                                    "unexpected EOF"
                                } else {
                                    BAD_CONNECTION
                                };
                                self.mark_bad(id, conn, text, events);
                                return self.fail_call(id, error(text), events);
                            }
                            if matches!(c.backend, BackendState::Executing { .. })
                                && self.server.is_runnable(c.pid)
                            {
                                self.backend_step(conn, events);
                            } else if !c.to_backend.is_empty() {
                                self.backend_process(conn, events);
                            }
                            return;
                        }
                    }
                    if self.finish_if_done(id, events) || !pgx {
                        return;
                    }
                }
            }
        }
    }

    /// Finishes the call when nothing but giving the mutex back is left; true if it did.
    pub(super) fn finish_if_done(&mut self, id: TaskId, events: &mut Vec<Event>) -> bool {
        let Some(call) = self.tasks[id.0 as usize].call.as_ref() else {
            return true;
        };
        if call.script == [Micro::Unlock] {
            if let Some(c) = call.conn.and_then(|c| self.connections.get_mut(&c)) {
                if c.locked_by == Some(id) {
                    c.locked_by = None;
                }
            }
            self.pop_micro(id);
        }
        if self.tasks[id.0 as usize]
            .call
            .as_ref()
            .is_some_and(|c| c.script.is_empty())
        {
            self.finish_call(id, events);
            return true;
        }
        false
    }

    pub(super) fn pop_micro(&mut self, id: TaskId) {
        if let Some(call) = self.task_mut(id).call.as_mut() {
            call.script.remove(0);
        }
    }

    pub(super) fn granted(&mut self, id: TaskId, pool: PoolId, conn: ConnId) {
        if let Some(c) = self.connections.get_mut(&conn) {
            c.holder = Some(id);
            if c.pool == pool && self.pools[pool.0 as usize].driver == Driver::Pgxpool {
                c.busy = true;
            }
        }
        let call = self.task_mut(id).call.as_mut().expect("an acquiring call");
        if matches!(call.script.first(), Some(Micro::Acquire(_))) {
            call.script.remove(0);
        }
        call.conn = Some(conn);
        call.pool = Some(pool);
    }

    /// The next reply for a reader: lib/pq's saved message first.
    pub(super) fn receive(
        &mut self,
        id: TaskId,
        conn: ConnId,
        events: &mut Vec<Event>,
    ) -> Option<Backend> {
        let c = self.connections.get_mut(&conn)?;
        let message = c.saved.take().or_else(|| c.to_frontend.pop_front())?;
        if let Backend::ReadyForQuery { status } = &message {
            c.tx_status = *status;
        }
        events.push(Event::MessageReceived {
            task: id,
            conn,
            message: message.clone(),
        });
        Some(message)
    }

    /// Feeds a message to the front reader; false when the call ended (failed).
    pub(super) fn feed(
        &mut self,
        id: TaskId,
        conn: ConnId,
        reader: Reader,
        drain: bool,
        message: Backend,
        events: &mut Vec<Event>,
    ) -> bool {
        let rearm = |r: Reader| {
            if drain {
                Micro::Drain(r)
            } else {
                Micro::Read(r)
            }
        };
        match reader.read(message) {
            ReadOutcome::More(next) => {
                self.task_mut(id).call.as_mut().expect("call").script[0] = rearm(next);
            }
            ReadOutcome::Done { save, tag } => {
                if let Some(saved) = save {
                    if let Some(c) = self.connections.get_mut(&conn) {
                        c.saved = Some(saved);
                    }
                }
                let call = self.task_mut(id).call.as_mut().expect("call");
                if tag.is_some() {
                    call.tag = tag;
                }
                call.script.remove(0);
            }
            ReadOutcome::Row(values) => {
                let call = self.task_mut(id).call.as_mut().expect("call");
                call.rows.push(values);
                if drain {
                    call.script[0] = Micro::Drain(Reader::RowsNext { error: None });
                } else {
                    call.script.remove(0);
                }
            }
            ReadOutcome::RowsDone => {
                let call = self.task_mut(id).call.as_mut().expect("call");
                call.rows_done = true;
                call.script.remove(0);
            }
            ReadOutcome::ServerError(fields) => {
                // The driver decides how the call ends; the client library, the words.
                let text = self.client_of_conn(conn).server_error(&fields);
                let sqlstate = Some(fields.code.clone());
                if let Some(call) = self.task_mut(id).call.as_mut() {
                    call.rows_done = true;
                }
                self.fail_call(id, TaskError { text, sqlstate }, events);
                return false;
            }
            ReadOutcome::Protocol(text) => {
                let text = format!("pq: {text}");
                self.mark_bad(id, conn, &text, events);
                self.fail_call(id, error(text), events);
                return false;
            }
        }
        true
    }

    pub(super) fn mark_bad(
        &mut self,
        id: TaskId,
        conn: ConnId,
        text: &str,
        events: &mut Vec<Event>,
    ) {
        if let Some(c) = self.connections.get_mut(&conn) {
            if !c.bad {
                c.bad = true;
                events.push(Event::ConnectionMarkedBad {
                    task: id,
                    conn,
                    error: text.to_string(),
                });
            }
        }
    }

    /// A call ended with an error: the driver gives back what the call itself took, then
    /// the operation fails.
    pub(super) fn fail_call(&mut self, id: TaskId, err: TaskError, events: &mut Vec<Event>) {
        let Some(call) = self.task_mut(id).call.take() else {
            return self.fail(id, err, events);
        };
        if let Some(c) = call.conn.and_then(|c| self.connections.get_mut(&c)) {
            if c.locked_by == Some(id) {
                c.locked_by = None;
            }
        }
        match call.kind {
            CallKind::Next { rows } | CallKind::Close { rows } | CallKind::Collect { rows, .. } => {
                // A failed Next closes the rows (pgx: and releases the connection).
                self.close_rows(rows, id, events);
            }
            // Both drivers end the transaction and give its connection back even when
            // COMMIT or ROLLBACK fails (pgxpool's Tx.Commit/Rollback release regardless;
            // database/sql's tx.close).
            CallKind::Commit { tx, .. } | CallKind::Rollback { tx } => {
                if let Some(handle) = self.transactions.get_mut(&tx) {
                    handle.done = true;
                    let (conn, releases) = (handle.conn, handle.releases);
                    if let Some(c) = self.connections.get_mut(&conn) {
                        c.busy = false;
                    }
                    if releases {
                        self.release_conn(conn, id, events);
                    }
                }
            }
            _ => {
                if let Some(conn) = call.conn {
                    if let Some(c) = self.connections.get_mut(&conn) {
                        c.busy = false;
                    }
                    if call.pool.is_some() {
                        // pool.Query/Exec/Begin failed: the connection goes straight back.
                        self.release_conn(conn, id, events);
                    }
                }
            }
        }
        self.fail(id, err, events);
    }

    pub(super) fn finish_call(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let call = self.task_mut(id).call.take().expect("a call to finish");
        let conn = call.conn;
        let pgx = conn.is_some_and(|c| self.driver_of_conn(c) == Driver::Pgxpool);
        match call.kind {
            CallKind::Acquire { var } => {
                let conn = conn.expect("acquired");
                if let Some(c) = self.connections.get_mut(&conn) {
                    // An acquired connection is idle until used.
                    c.busy = false;
                }
                self.set_var(id, &var, Var::Conn(conn));
                self.succeed(id, events);
            }
            CallKind::Query { var } => {
                let conn = conn.expect("queried");
                let rows_id = self.free_rows_id();
                self.rows.insert(
                    rows_id,
                    Rows {
                        conn: Some(conn),
                        releases_to: call.pool,
                        buffered: None,
                        current: None,
                        closed: false,
                        owner: id,
                    },
                );
                self.set_var(id, &var, Var::Rows(rows_id));
                if call.rows_done {
                    self.close_rows(rows_id, id, events);
                }
                self.succeed(id, events);
            }
            CallKind::QueryRow { into } => {
                self.end_statement(id, conn, call.pool, events);
                match call.rows.first() {
                    Some(row) => {
                        for (i, name) in into.iter().enumerate() {
                            let v = row.get(i).cloned().flatten();
                            self.set_var(id, name, Var::Value(v));
                        }
                        self.succeed(id, events);
                    }
                    None => {
                        let text = if pgx {
                            "no rows in result set"
                        } else {
                            "sql: no rows in result set"
                        };
                        self.fail(id, error(text), events);
                    }
                }
            }
            CallKind::Exec => {
                self.end_statement(id, conn, call.pool, events);
                self.succeed(id, events);
            }
            CallKind::Begin { var } => {
                let conn = conn.expect("began");
                if let Some(c) = self.connections.get_mut(&conn) {
                    c.busy = false;
                }
                let pool = self
                    .connections
                    .get(&conn)
                    .map(|c| c.pool)
                    .unwrap_or(PoolId(0));
                let sql_context = if self.driver_of_pool(pool) == Driver::DatabaseSql {
                    call.context
                } else {
                    None
                };
                let tx = (0..)
                    .map(TxId)
                    .find(|t| !self.transactions.contains_key(t))
                    .expect("a free id");
                self.transactions.insert(
                    tx,
                    Transaction {
                        conn,
                        pool,
                        releases: call.pool.is_some(),
                        context: sql_context,
                        done: false,
                        owner: id,
                    },
                );
                self.set_var(id, &var, Var::Tx(tx));
                self.succeed(id, events);
            }
            CallKind::Commit { tx, .. } | CallKind::Rollback { tx } => {
                let (committed, failed) = match call.kind {
                    CallKind::Commit { failed, .. } => (true, failed),
                    _ => (false, false),
                };
                let handle = self.transactions.get_mut(&tx).expect("tx");
                handle.done = true;
                let (conn, releases) = (handle.conn, handle.releases);
                if let Some(c) = self.connections.get_mut(&conn) {
                    c.busy = false;
                }
                if releases {
                    self.release_conn(conn, id, events);
                }
                let rolled_back = call.tag.as_deref() == Some("ROLLBACK");
                if committed && failed {
                    self.fail(
                        id,
                        error("pq: Could not complete operation in a failed transaction"),
                        events,
                    );
                } else if committed && rolled_back && pgx {
                    self.fail(
                        id,
                        error("commit unexpectedly resulted in rollback"),
                        events,
                    );
                } else {
                    self.succeed(id, events);
                }
            }
            CallKind::Next { rows } => {
                let row = call.rows.into_iter().next();
                if call.rows_done || row.is_none() {
                    self.close_rows(rows, id, events);
                    let done = self.op_at(id).and_then(|op| match op.action {
                        Action::Next { done, .. } => Some(done),
                        _ => None,
                    });
                    match done {
                        Some(label) => self.jump(id, &label),
                        None => self.advance(id, events),
                    }
                } else {
                    if let Some(r) = self.rows.get_mut(&rows) {
                        r.current = row;
                    }
                    self.advance(id, events);
                }
            }
            CallKind::Close { rows } => {
                self.close_rows(rows, id, events);
                self.succeed(id, events);
            }
            CallKind::Collect { rows, into } => {
                self.close_rows(rows, id, events);
                self.new_list(id, &into, call.rows);
                self.succeed(id, events);
            }
        }
    }

    /// After an Exec or QueryRow: the connection is free again, and goes back to the pool
    /// when the call took it from there.
    pub(super) fn end_statement(
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

    pub(super) fn close_rows(&mut self, rows: RowsId, id: TaskId, events: &mut Vec<Event>) {
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
