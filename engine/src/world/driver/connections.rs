//! Connections: a pool handing one out or queueing the caller, opening a new one (or being
//! refused), taking one back, closing it, and what ending contexts and timers settle.

use super::*;

impl World {
    /// Acquire's first attempt: a connection now, `None` when queued, or an error.
    pub(super) fn try_acquire(
        &mut self,
        id: TaskId,
        pool: PoolId,
        context: Option<ContextId>,
        events: &mut Vec<Event>,
    ) -> Result<Option<ConnId>, TaskError> {
        let name = self.pools[pool.0 as usize].name.clone();
        events.push(Event::AcquireRequested {
            task: id,
            pool: name.clone(),
        });
        if let Some(e) = context.and_then(|c| self.context_error(c)) {
            return Err(error(e));
        }
        match self.pools[pool.0 as usize].decide_acquire() {
            AcquireDecision::Reuse(conn) => {
                self.pools[pool.0 as usize].idle.pop();
                events.push(Event::AcquireGranted {
                    task: id,
                    pool: name,
                    conn,
                });
                Ok(Some(conn))
            }
            AcquireDecision::Open => {
                let conn = self.open_conn(pool, id, events)?;
                events.push(Event::AcquireGranted {
                    task: id,
                    pool: name,
                    conn,
                });
                Ok(Some(conn))
            }
            AcquireDecision::Wait => {
                let p = &mut self.pools[pool.0 as usize];
                let ahead = p.waiters.len();
                p.waiters.push_back(id);
                events.push(Event::AcquireQueued {
                    task: id,
                    pool: name,
                    ahead,
                });
                Ok(None)
            }
        }
    }

    pub(super) fn open_conn(
        &mut self,
        pool: PoolId,
        task: TaskId,
        events: &mut Vec<Event>,
    ) -> Result<ConnId, TaskError> {
        let mut server_events = Vec::new();
        let result = self.server.connect(self.now, &mut server_events);
        events.extend(server_events.into_iter().map(Event::Server));
        let name = self.pools[pool.0 as usize].name.clone();
        match result {
            Ok(pid) => {
                let id = ConnId(self.next_conn);
                self.next_conn += 1;
                self.connections.insert(
                    id,
                    Connection {
                        id,
                        pool,
                        pid,
                        to_backend: VecDeque::new(),
                        to_frontend: VecDeque::new(),
                        saved: None,
                        backend: BackendState::Ready,
                        statement: None,
                        portal: None,
                        bad: false,
                        holder: Some(task),
                        locked_by: None,
                        busy: false,
                        tx_status: TxStatus::Idle,
                        terminated: false,
                    },
                );
                self.pools[pool.0 as usize].open.push(id);
                events.push(Event::ConnectionOpened {
                    task: Some(task),
                    pool: name,
                    conn: id,
                    pid,
                });
                Ok(id)
            }
            Err(e) => {
                let fields = backend::error_fields(&e);
                let text = match (self.driver_of_pool(pool), self.client_of_pool(pool)) {
                    // lib/pq does not turn startup errors into ErrBadConn (§2.2).
                    (Driver::DatabaseSql, Client::LibPq) => pq_error(&fields),
                    (Driver::Pgxpool, Client::Pgx) => format!(
                        "failed to connect to `user=app database=app`: server error ({})",
                        pgx_error(&fields)
                    ),
                    // psycopg2 and Postgrex: the server's error in their own words (libpq's
                    // and DBConnection's wording around a failed connection is not modelled).
                    (_, client) => client.server_error(&fields),
                };
                events.push(Event::ConnectionRefused {
                    task,
                    pool: name,
                    error: text.clone(),
                });
                Err(TaskError {
                    text,
                    sqlstate: Some(fields.code),
                })
            }
        }
    }

    /// Closes a connection: its server session ends (rolling back any transaction).
    pub(in crate::world) fn close_conn(
        &mut self,
        conn: ConnId,
        task: Option<TaskId>,
        why: &str,
        events: &mut Vec<Event>,
    ) {
        let Some(c) = self.connections.remove(&conn) else {
            return;
        };
        if !c.terminated {
            let mut server_events = Vec::new();
            self.server.disconnect(c.pid, self.now, &mut server_events);
            events.extend(server_events.into_iter().map(Event::Server));
        }
        let pool = &mut self.pools[c.pool.0 as usize];
        pool.open.retain(|&c| c != conn);
        pool.idle.retain(|&i| i != conn);
        events.push(Event::ConnectionClosed {
            task,
            conn,
            why: why.to_string(),
        });
    }

    /// A holder gives a connection back to its pool.
    pub(in crate::world) fn release_conn(
        &mut self,
        conn: ConnId,
        by: TaskId,
        events: &mut Vec<Event>,
    ) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let pool = c.pool;
        let driver = self.pools[pool.0 as usize].driver;
        c.holder = None;
        c.locked_by = None;
        let reusable = !c.bad
            && !c.terminated
            && match driver {
                // pgxpool destroys a connection released mid-query or inside a transaction.
                Driver::Pgxpool => {
                    c.tx_status == TxStatus::Idle
                        && !c.busy
                        && c.to_frontend.is_empty()
                        && c.saved.is_none()
                        && c.backend == BackendState::Ready
                }
                Driver::DatabaseSql => true,
            };
        c.busy = false;
        let name = self.pools[pool.0 as usize].name.clone();
        events.push(Event::ConnectionReleased {
            task: by,
            pool: name.clone(),
            conn,
        });
        let decision = self.pools[pool.0 as usize].decide_release(reusable, &mut self.rng);
        match decision {
            ReleaseDecision::HandTo(waiter) => {
                events.push(Event::AcquireGranted {
                    task: waiter,
                    pool: name,
                    conn,
                });
                self.granted(waiter, pool, conn);
            }
            ReleaseDecision::CloseAndOpenFor(waiter) => {
                let why = if driver == Driver::Pgxpool {
                    "released while not idle (in a transaction or mid-query): pgxpool destroys it"
                } else {
                    "bad connection: database/sql closes it"
                };
                self.close_conn(conn, Some(by), why, events);
                match self.open_conn(pool, waiter, events) {
                    Ok(fresh) => {
                        events.push(Event::AcquireGranted {
                            task: waiter,
                            pool: name,
                            conn: fresh,
                        });
                        self.granted(waiter, pool, fresh);
                    }
                    Err(e) => self.fail_call(waiter, e, events),
                }
            }
            ReleaseDecision::KeepIdle => self.pools[pool.0 as usize].idle.push(conn),
            ReleaseDecision::Close => {
                let why = if !reusable && driver == Driver::Pgxpool {
                    "released while not idle (in a transaction or mid-query): pgxpool destroys it"
                } else if !reusable {
                    "bad connection: database/sql closes it"
                } else {
                    "more idle connections than MaxIdleConns"
                };
                self.close_conn(conn, Some(by), why, events);
            }
        }
    }

    /// Consequences that follow from the state after a step: finished statements, ended
    /// server sessions, and ended contexts (Acquire gives up, a query is cancelled,
    /// database/sql rolls a transaction back).
    pub(in crate::world) fn settle(&mut self, events: &mut Vec<Event>) {
        let conns: Vec<ConnId> = self.connections.keys().copied().collect();
        for conn in &conns {
            self.poll_backend(*conn, events);
        }
        // Acquire gives up when its context ends.
        for pool in 0..self.pools.len() {
            let waiters: Vec<TaskId> = self.pools[pool].waiters.iter().copied().collect();
            for w in waiters {
                let ctx = self.tasks[w.0 as usize]
                    .call
                    .as_ref()
                    .and_then(|c| c.context);
                if let Some(e) = ctx.and_then(|c| self.context_error(c)) {
                    self.pools[pool].leave_queue(w);
                    let name = self.pools[pool].name.clone();
                    events.push(Event::AcquireFailed {
                        task: w,
                        pool: name,
                        error: e.to_string(),
                    });
                    self.fail_call(w, error(e), events);
                }
            }
        }
        // A query whose context ends.
        for index in 0..self.tasks.len() {
            let id = TaskId(index as u32);
            let Some(call) = self.tasks[index].call.clone() else {
                continue;
            };
            let (Some(ctx), Some(conn), false) = (call.context, call.conn, call.cancelled) else {
                continue;
            };
            let Some(e) = self.context_error(ctx) else {
                continue;
            };
            self.task_mut(id).call.as_mut().expect("call").cancelled = true;
            events.push(Event::ContextEnded {
                task: id,
                error: e.to_string(),
            });
            match self.driver_of_conn(conn) {
                // pgconn's context watcher interrupts the socket: the connection is closed.
                // The server session ends with the socket (rolling back its transaction);
                // the pool destroys the connection when it is released.
                Driver::Pgxpool => {
                    if let Some(c) = self.connections.get_mut(&conn) {
                        c.bad = true;
                        if !c.terminated {
                            c.terminated = true;
                            let pid = c.pid;
                            let mut server_events = Vec::new();
                            self.server.disconnect(pid, self.now, &mut server_events);
                            events.extend(server_events.into_iter().map(Event::Server));
                        }
                    }
                    self.fail_call(id, error(format!("timeout: {e}")), events);
                }
                // lib/pq sends a CancelRequest: the running statement fails on the server.
                Driver::DatabaseSql => self.cancel_backend(conn, events),
            }
        }
        // database/sql rolls a transaction back when its context ends (Tx.awaitDone).
        let txs: Vec<TxId> = self.transactions.keys().copied().collect();
        for tx in txs {
            let handle = self.transactions[&tx].clone();
            let Some(ctx) = handle.context else { continue };
            if handle.done || self.context_error(ctx).is_none() {
                continue;
            }
            let Some(c) = self.connections.get(&handle.conn) else {
                continue;
            };
            let quiet = c.locked_by.is_none()
                && c.to_backend.is_empty()
                && c.to_frontend.is_empty()
                && c.saved.is_none()
                && c.backend == BackendState::Ready;
            if !quiet {
                continue; // awaitDone waits for the driver call in progress (closemu)
            }
            self.transactions.get_mut(&tx).expect("tx").done = true;
            events.push(Event::TransactionRolledBackByContext {
                task: handle.owner,
                conn: handle.conn,
            });
            self.rollback_directly(handle.conn, events);
            if handle.releases {
                self.release_conn(handle.conn, handle.owner, events);
            }
        }
    }
}
