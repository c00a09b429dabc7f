//! A call's micro-steps: acquiring from a pool, the connection's driver mutex, sending
//! frontend messages and reading the replies, with each driver's rules for what a reply means.

use super::super::*;

/// What one micro-step came to.
enum MicroStep {
    /// The call waits, or has failed: the task's step is over.
    Waits,
    /// On to the next micro-step.
    Next,
    /// One driver call ended: the call finishes if nothing else is left, and only pgx goes on.
    CallEnds,
}

impl World {
    /// Runs the task's call on, micro-step by micro-step, until it waits or is done. A pgx call
    /// goes on past the end of one driver call; a database/sql one stops there.
    pub(in crate::world::driver) fn advance_call(&mut self, id: TaskId, events: &mut Vec<Event>) {
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
            let step = match micro {
                Micro::Acquire(pool) => self.acquire_micro(id, pool, &call, events),
                Micro::Lock => self.lock_micro(id, &call, events),
                Micro::Unlock => self.unlock_micro(id, &call),
                Micro::Send(messages) => self.send_micro(id, &call, messages, pgx, events),
                Micro::Read(reader) => self.read_micro(id, &call, reader, false, pgx, events),
                Micro::Drain(reader) => self.read_micro(id, &call, reader, true, pgx, events),
            };
            match step {
                MicroStep::Waits => return,
                MicroStep::Next => {}
                // The end of one driver call: another goroutine may take the mutex now.
                MicroStep::CallEnds => {
                    if self.finish_if_done(id, events) || !pgx {
                        return;
                    }
                }
            }
        }
    }

    /// `Micro::Acquire`: a slot from the pool, or a place in its queue.
    fn acquire_micro(
        &mut self,
        id: TaskId,
        pool: PoolId,
        call: &Call,
        events: &mut Vec<Event>,
    ) -> MicroStep {
        if self.pools[pool.0 as usize].position(id).is_some() {
            return MicroStep::Waits;
        }
        match self.try_acquire(id, pool, call.context, events) {
            Ok(Some(conn)) => self.granted(id, pool, conn),
            Ok(None) => return MicroStep::Waits,
            Err(e) => {
                self.fail_call(id, e, events);
                return MicroStep::Waits;
            }
        }
        MicroStep::CallEnds
    }

    /// `Micro::Lock`: the connection's driver mutex (database/sql's `driverConn`).
    fn lock_micro(&mut self, id: TaskId, call: &Call, events: &mut Vec<Event>) -> MicroStep {
        let conn = call.conn.expect("a locked call has a connection");
        match self.connections.get_mut(&conn) {
            // database/sql's mutex is free, but lib/pq starts every driver call by
            // checking the error it saved on the connection (conn.go: `query` and
            // `Exec` call `cn.err.get()`, `rows.Next` (and so `rows.Close`, which
            // loops over it) calls `cn.err.getForNext()`); after a protocol error
            // that error is `driver.ErrBadConn` (`errRecover`, `readParseResponse`).
            Some(c) if c.bad && c.locked_by.is_none() => {
                self.fail_call(id, error(BAD_CONNECTION), events);
                MicroStep::Waits
            }
            Some(c) if c.locked_by.is_none() || c.locked_by == Some(id) => {
                c.locked_by = Some(id);
                self.pop_micro(id);
                MicroStep::Next
            }
            Some(_) => MicroStep::Waits,
            None => {
                self.fail_call(id, error(BAD_CONNECTION), events);
                MicroStep::Waits
            }
        }
    }

    /// `Micro::Unlock`: gives the driver mutex back.
    fn unlock_micro(&mut self, id: TaskId, call: &Call) -> MicroStep {
        if let Some(c) = call.conn.and_then(|c| self.connections.get_mut(&c)) {
            if c.locked_by == Some(id) {
                c.locked_by = None;
            }
        }
        self.pop_micro(id);
        MicroStep::CallEnds
    }

    /// `Micro::Send`: frontend messages onto the connection, and the backend processes them.
    fn send_micro(
        &mut self,
        id: TaskId,
        call: &Call,
        messages: Vec<Frontend>,
        pgx: bool,
        events: &mut Vec<Event>,
    ) -> MicroStep {
        let conn = call.conn.expect("a sending call has a connection");
        let usable = self.connections.get(&conn).map(|c| !c.bad && !c.terminated);
        if usable != Some(true) {
            let text = if pgx { "conn closed" } else { BAD_CONNECTION };
            self.fail_call(id, error(text), events);
            return MicroStep::Waits;
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
        MicroStep::CallEnds
    }

    /// `Micro::Read` and `Micro::Drain`: one reply fed to the reader, or, with none there yet,
    /// the backend moved on.
    fn read_micro(
        &mut self,
        id: TaskId,
        call: &Call,
        reader: Reader,
        drain: bool,
        pgx: bool,
        events: &mut Vec<Event>,
    ) -> MicroStep {
        let conn = call.conn.expect("a reading call has a connection");
        if let Some(message) = self.receive(id, conn, events) {
            return match self.feed(id, conn, reader, drain, message, events) {
                true => MicroStep::CallEnds,
                false => MicroStep::Waits,
            };
        }
        let Some(c) = self.connections.get(&conn) else {
            let text = if pgx { "conn closed" } else { BAD_CONNECTION };
            self.fail_call(id, error(text), events);
            return MicroStep::Waits;
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
            self.fail_call(id, error(text), events);
            return MicroStep::Waits;
        }
        if matches!(c.backend, BackendState::Executing { .. }) && self.server.is_runnable(c.pid) {
            self.backend_step(conn, events);
        } else if !c.to_backend.is_empty() {
            self.backend_process(conn, events);
        }
        MicroStep::Waits
    }

    /// Finishes the call when nothing but giving the mutex back is left; true if it did.
    pub(in crate::world::driver) fn finish_if_done(
        &mut self,
        id: TaskId,
        events: &mut Vec<Event>,
    ) -> bool {
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

    pub(in crate::world::driver) fn pop_micro(&mut self, id: TaskId) {
        if let Some(call) = self.task_mut(id).call.as_mut() {
            call.script.remove(0);
        }
    }

    pub(in crate::world::driver) fn granted(&mut self, id: TaskId, pool: PoolId, conn: ConnId) {
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
    pub(in crate::world::driver) fn receive(
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
    pub(in crate::world::driver) fn feed(
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

    pub(in crate::world::driver) fn mark_bad(
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
    pub(in crate::world::driver) fn fail_call(
        &mut self,
        id: TaskId,
        err: TaskError,
        events: &mut Vec<Event>,
    ) {
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
}
