//! How a call ends: the task's variables get their connection, rows, transaction or values,
//! and the connection goes back where it came from.

use super::super::*;

impl World {
    pub(in crate::world::driver) fn finish_call(&mut self, id: TaskId, events: &mut Vec<Event>) {
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
            CallKind::QueryRow { ref into } => {
                self.end_statement(id, conn, call.pool, events);
                self.finish_query_row(id, into, &call.rows, pgx, events);
            }
            CallKind::Exec => {
                self.end_statement(id, conn, call.pool, events);
                self.succeed(id, events);
            }
            CallKind::Begin { ref var } => {
                let conn = conn.expect("began");
                self.finish_begin(id, var, conn, &call, events);
            }
            CallKind::Commit { tx, .. } | CallKind::Rollback { tx } => {
                self.finish_tx_end(id, tx, &call, pgx, events)
            }
            CallKind::Next { rows } => self.finish_next(id, rows, call, events),
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

    /// `row.Scan(...)` after `QueryRow`: the first row's values, or no rows.
    fn finish_query_row(
        &mut self,
        id: TaskId,
        into: &[String],
        rows: &[Vec<Option<String>>],
        pgx: bool,
        events: &mut Vec<Event>,
    ) {
        match rows.first() {
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

    /// `BEGIN` answered: a transaction handle on the connection.
    fn finish_begin(
        &mut self,
        id: TaskId,
        var: &str,
        conn: ConnId,
        call: &Call,
        events: &mut Vec<Event>,
    ) {
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
        self.set_var(id, var, Var::Tx(tx));
        self.succeed(id, events);
    }

    /// `COMMIT` or `ROLLBACK` answered: the transaction is done and its connection free (back
    /// to the pool if the transaction took it from there). A commit that PostgreSQL turned
    /// into a rollback fails in each driver's words.
    fn finish_tx_end(
        &mut self,
        id: TaskId,
        tx: TxId,
        call: &Call,
        pgx: bool,
        events: &mut Vec<Event>,
    ) {
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

    /// `rows.Next()` answered: the next row is current, or the rows close and the program
    /// jumps to the op's `done` label.
    fn finish_next(&mut self, id: TaskId, rows: RowsId, call: Call, events: &mut Vec<Event>) {
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
}
