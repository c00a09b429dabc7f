//! The client side of a step: running a task's operations, its calls' micro-steps, pools
//! handing out and taking back connections, and what contexts ending does. The driver rules
//! follow the drivers' source: github.com/jackc/pgx v5.10.0 (`pgxpool/pool.go`, `pgxpool/conn.go`,
//! `pgconn/pgconn.go`), Go's `src/database/sql/sql.go`, and github.com/lib/pq v1.10.9 (`conn.go`:
//! `prepareTo`, `readParseResponse`, `rows.Next`, `rows.Close`; `error.go`: `errorf`).

use super::pool::{AcquireDecision, ReleaseDecision};
use super::program::{Action, Comparison, Op, When};
use super::protocol::{pgx_error, pq_error, Backend, Client, Frontend, ReadOutcome, Reader};
use super::task::{Call, CallKind, Context, Life, Micro, Pc, Rows, TaskError, Transaction, Var};
use super::*;

/// What a program's `on = ...` refers to.
#[derive(Clone, Copy, Debug)]
enum Target {
    Pool(PoolId),
    Tx(TxId),
    Conn(ConnId),
}

fn error(text: impl Into<String>) -> TaskError {
    TaskError {
        text: text.into(),
        sqlstate: None,
    }
}

use crate::limits::CONTEXTS_MAX;

/// database/sql's `driver.ErrBadConn`.
const BAD_CONNECTION: &str = "driver: bad connection";
/// database/sql's `ErrTxDone`.
const SQL_TX_DONE: &str = "sql: transaction has already been committed or rolled back";

impl World {
    /// Derives a task's state: runnable, blocked (with the reason), or finished.
    pub(super) fn task_state(&self, id: TaskId) -> TaskState {
        let t = &self.tasks[id.0 as usize];
        match &t.life {
            Life::Finished { error: None } => return TaskState::Finished,
            Life::Finished { error: Some(e) } => return TaskState::Failed(e.text.clone()),
            Life::Running => {}
        }
        if !t.started && self.now < t.arrival {
            return TaskState::Blocked(BlockReason::Arrival { at: t.arrival });
        }
        if let Some(until) = t.wake_at {
            return if self.now < until {
                TaskState::Blocked(BlockReason::Sleep { until })
            } else {
                TaskState::Runnable
            };
        }
        if let Some(call) = &t.call {
            return self.call_state(id, call);
        }
        if let Some(Action::Wait) = self.op_at(id).map(|op| op.action) {
            let waiting: Vec<TaskId> = t
                .children
                .iter()
                .copied()
                .filter(|c| matches!(self.tasks[c.0 as usize].life, Life::Running))
                .collect();
            if !waiting.is_empty() {
                return TaskState::Blocked(BlockReason::Goroutines { tasks: waiting });
            }
        }
        TaskState::Runnable
    }

    fn call_state(&self, id: TaskId, call: &Call) -> TaskState {
        match call.script.first() {
            Some(Micro::Acquire(pool)) => {
                let p = &self.pools[pool.0 as usize];
                match p.position(id) {
                    Some(ahead) => TaskState::Blocked(BlockReason::PoolSlot {
                        pool: p.name.clone(),
                        ahead,
                        max_open: p.max_open.unwrap_or(0),
                    }),
                    None => TaskState::Runnable,
                }
            }
            Some(Micro::Lock) => {
                let holder = call
                    .conn
                    .and_then(|c| self.connections.get(&c))
                    .and_then(|c| c.locked_by)
                    .filter(|&h| h != id);
                match holder {
                    Some(holder) => TaskState::Blocked(BlockReason::ConnectionMutex {
                        conn: call.conn.unwrap_or(ConnId(0)),
                        holder,
                    }),
                    None => TaskState::Runnable,
                }
            }
            Some(Micro::Read(_) | Micro::Drain(_)) => match call.conn {
                Some(conn) => self.read_state(conn),
                None => TaskState::Runnable,
            },
            Some(Micro::Send(_) | Micro::Unlock) | None => TaskState::Runnable,
        }
    }

    /// Whether a reader on `conn` can take a step: a reply is there, or its backend can work.
    fn read_state(&self, conn: ConnId) -> TaskState {
        let Some(c) = self.connections.get(&conn) else {
            return TaskState::Runnable; // reading a closed connection fails at once
        };
        if c.saved.is_some() || !c.to_frontend.is_empty() || c.terminated {
            return TaskState::Runnable;
        }
        match c.backend {
            BackendState::Executing { .. } => {
                if self.server.is_runnable(c.pid) {
                    TaskState::Runnable
                } else {
                    let (blockers, what, row, tag) = self.lock_wait(c.pid);
                    TaskState::Blocked(BlockReason::Lock {
                        conn,
                        pid: c.pid,
                        blockers,
                        what,
                        row,
                        queued: matches!(tag, Some(crate::server::locks::LockTag::Tuple { .. })),
                    })
                }
            }
            BackendState::Ready | BackendState::Skipping => {
                if c.to_backend.is_empty() {
                    TaskState::Blocked(BlockReason::Reply { conn })
                } else {
                    TaskState::Runnable
                }
            }
        }
    }

    /// The operation at the task's program counter, exactly (none past the end).
    pub(super) fn op_at(&self, id: TaskId) -> Option<Op> {
        let t = &self.tasks[id.0 as usize];
        let program = &self.scenario.0.tasks[t.spec].program;
        match t.pc {
            Pc::Main(i) => program.get(i).cloned(),
            Pc::Deferred { defer_op, pos } => match &program[defer_op].action {
                Action::Defer { body } => body.get(pos).cloned(),
                _ => None,
            },
        }
    }

    fn task_mut(&mut self, id: TaskId) -> &mut Task {
        &mut self.tasks[id.0 as usize]
    }

    fn driver_of_pool(&self, pool: PoolId) -> Driver {
        self.pools[pool.0 as usize].driver
    }

    /// The client library whose words a pool's errors are reported in (pools are built in
    /// scenario order, so a pool's id is its index there).
    fn client_of_pool(&self, pool: PoolId) -> Client {
        self.scenario
            .0
            .pools
            .get(pool.0 as usize)
            .map_or(Client::of_driver(self.driver_of_pool(pool)), |p| p.client())
    }

    fn client_of_conn(&self, conn: ConnId) -> Client {
        self.connections
            .get(&conn)
            .map_or(Client::Pgx, |c| self.client_of_pool(c.pool))
    }

    fn driver_of_conn(&self, conn: ConnId) -> Driver {
        self.connections
            .get(&conn)
            .map(|c| self.driver_of_pool(c.pool))
            .unwrap_or(Driver::Pgxpool)
    }

    /// One step of a runnable task, followed by the purely local operations after it (jumps,
    /// scans, defers...): they touch nothing another task could observe, so giving them steps
    /// of their own would only multiply schedules.
    pub(super) fn step_task(&mut self, id: TaskId, events: &mut Vec<Event>) {
        self.step_task_once(id, events);
        for _ in 0..=super::scenario::PROGRAM_LENGTH_MAX {
            if !self.next_op_is_local(id) {
                return;
            }
            self.step_task_once(id, events);
        }
    }

    /// Whether the task's next step is a local operation (see [`World::next_step_is_local`]).
    pub(super) fn next_op_is_local(&self, id: TaskId) -> bool {
        let t = &self.tasks[id.0 as usize];
        if t.call.is_some() || !t.started || t.wake_at.is_some() || !matches!(t.life, Life::Running)
        {
            return false;
        }
        match self.op_at(id).map(|op| op.action) {
            Some(
                Action::Scan { .. }
                | Action::Defer { .. }
                | Action::Context { .. }
                | Action::Add { .. }
                | Action::If { .. }
                | Action::Goto { .. },
            ) => true,
            // `next` over an in-memory list reads no connection.
            Some(Action::Next { rows, .. }) => matches!(
                t.vars.get(&rows),
                Some(Var::Rows(r)) if self.rows.get(r).is_some_and(|r| r.buffered.is_some())
            ),
            _ => false,
        }
    }

    fn step_task_once(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let t = self.task_mut(id);
        if !t.started {
            t.started = true;
            let name = t.name.clone();
            events.push(Event::TaskStarted { task: id, name });
        }
        if t.wake_at.take().is_some() {
            self.advance(id, events);
            return;
        }
        if t.call.is_some() {
            self.advance_call(id, events);
            return;
        }
        // Operations whose `when` does not hold are skipped without costing a step.
        for _ in 0..=super::scenario::PROGRAM_LENGTH_MAX {
            if !matches!(self.tasks[id.0 as usize].life, Life::Running) {
                return;
            }
            let Some(op) = self.op_at(id) else {
                // Falling off the end of the function: `return nil`.
                self.begin_return(id, None, events);
                return;
            };
            let has_error = self.tasks[id.0 as usize].err.is_some();
            let runs = match op.when {
                When::Always => true,
                When::Error => has_error,
                When::Ok => !has_error,
            };
            if runs {
                self.exec_op(id, op, events);
                return;
            }
            self.advance(id, events);
        }
    }

    fn in_defer(&self, id: TaskId) -> bool {
        matches!(self.tasks[id.0 as usize].pc, Pc::Deferred { .. })
    }

    /// Moves to the next operation (or the next deferred body, or the end).
    fn advance(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let t = &self.tasks[id.0 as usize];
        match t.pc {
            Pc::Main(i) => self.task_mut(id).pc = Pc::Main(i + 1),
            Pc::Deferred { defer_op, pos } => {
                let len = match &self.scenario.0.tasks[t.spec].program[defer_op].action {
                    Action::Defer { body } => body.len(),
                    _ => 0,
                };
                if pos + 1 < len {
                    self.task_mut(id).pc = Pc::Deferred {
                        defer_op,
                        pos: pos + 1,
                    };
                } else {
                    self.next_defer(id, events);
                }
            }
        }
    }

    fn jump(&mut self, id: TaskId, label: &str) {
        let spec = self.tasks[id.0 as usize].spec;
        let target = self.labels.0[spec]
            .get(label)
            .copied()
            .unwrap_or(usize::MAX);
        self.task_mut(id).pc = Pc::Main(target);
    }

    /// A fallible operation succeeded: `err = nil`, next operation.
    fn succeed(&mut self, id: TaskId, events: &mut Vec<Event>) {
        if !self.in_defer(id) && !self.result_ignored(id) {
            self.task_mut(id).err = None;
        }
        self.advance(id, events);
    }

    /// A fallible operation failed: `if err != nil { return err }`, or its `on_error`.
    /// Inside a deferred body the error is ignored, as `defer tx.Rollback()` ignores it.
    fn fail(&mut self, id: TaskId, error: TaskError, events: &mut Vec<Event>) {
        if self.in_defer(id) || self.result_ignored(id) {
            self.advance(id, events);
            return;
        }
        let on_error = self.op_at(id).and_then(|op| op.on_error);
        self.task_mut(id).err = Some(error.clone());
        match on_error.as_deref() {
            Some("continue") => self.advance(id, events),
            Some(label) => self.jump(id, label),
            None => self.begin_return(id, Some(error), events),
        }
    }

    /// Go code almost never looks at what `tx.Rollback()` returns (`defer tx.Rollback()`,
    /// or a rollback before `return err`), so a rollback leaves `err` as it was.
    fn result_ignored(&self, id: TaskId) -> bool {
        matches!(
            self.op_at(id).map(|op| op.action),
            Some(Action::Rollback { .. })
        )
    }

    fn begin_return(&mut self, id: TaskId, returned: Option<TaskError>, events: &mut Vec<Event>) {
        let t = self.task_mut(id);
        t.err = returned.clone();
        t.returning = Some(returned);
        self.next_defer(id, events);
    }

    fn next_defer(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let t = self.task_mut(id);
        match t.defers.pop() {
            Some(defer_op) => t.pc = Pc::Deferred { defer_op, pos: 0 },
            None => self.finish(id, events),
        }
    }

    fn finish(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let t = self.task_mut(id);
        let error = t.returning.take().flatten();
        t.life = Life::Finished {
            error: error.clone(),
        };
        t.call = None;
        let name = t.name.clone();
        let parent = t.parent;
        let request = t.request_context;
        match &error {
            None => events.push(Event::TaskFinished { task: id, name }),
            Some(e) => events.push(Event::TaskFailed {
                task: id,
                name,
                error: e.text.clone(),
            }),
        }
        match parent {
            // errgroup keeps the first error.
            Some(p) => {
                let parent = self.task_mut(p);
                if parent.group_error.is_none() {
                    parent.group_error = error;
                }
            }
            // net/http cancels a request's context when its handler returns.
            None => self.contexts[request.0 as usize].cancelled = true,
        }
    }

    fn var(&self, id: TaskId, name: &str) -> Option<&Var> {
        self.tasks[id.0 as usize].vars.get(name)
    }

    fn set_var(&mut self, id: TaskId, name: &str, value: Var) {
        let old = self.task_mut(id).vars.insert(name.to_string(), value);
        // Forget finished handles nobody refers to any more, so that a loop (a retry, a
        // query per row) comes back to the same state instead of growing the world.
        let referenced = |world: &World, var: &Var| {
            world
                .tasks
                .iter()
                .any(|t| t.vars.values().any(|v| v == var))
        };
        match old {
            Some(Var::Rows(r))
                if !referenced(self, &Var::Rows(r))
                    && self
                        .rows
                        .get(&r)
                        .is_some_and(|rows| rows.closed || rows.buffered.is_some()) =>
            {
                self.rows.remove(&r);
            }
            Some(Var::Tx(tx))
                if !referenced(self, &Var::Tx(tx))
                    && self.transactions.get(&tx).is_some_and(|t| t.done) =>
            {
                self.transactions.remove(&tx);
            }
            _ => {}
        }
    }

    /// The text of a value operand: `$name` reads a variable (`$err`, `$sqlstate` too).
    fn operand(&self, id: TaskId, text: &str) -> Option<String> {
        match text.strip_prefix('$') {
            Some(name) => self.value_of(id, name),
            None => Some(text.to_string()),
        }
    }

    fn value_of(&self, id: TaskId, name: &str) -> Option<String> {
        let t = &self.tasks[id.0 as usize];
        match name {
            "err" => t.err.as_ref().map(|e| e.text.clone()),
            "sqlstate" => t.err.as_ref().and_then(|e| e.sqlstate.clone()),
            _ => match t.vars.get(name) {
                Some(Var::Value(v)) => v.clone(),
                Some(other) => Some(format!("{other:?}")),
                None => None,
            },
        }
    }

    fn context_var(
        &self,
        id: TaskId,
        name: &Option<String>,
    ) -> Result<Option<ContextId>, TaskError> {
        match name.as_deref() {
            None => Ok(None),
            Some("request") => Ok(Some(self.tasks[id.0 as usize].request_context)),
            Some(n) => match self.var(id, n) {
                Some(Var::Context(c)) => Ok(Some(*c)),
                _ => Err(error(format!("lockstep: `{n}` is not a context"))),
            },
        }
    }

    fn resolve_target(&self, id: TaskId, on: &str) -> Result<Target, TaskError> {
        match self.var(id, on) {
            Some(Var::Tx(tx)) => Ok(Target::Tx(*tx)),
            Some(Var::Conn(c)) => Ok(Target::Conn(*c)),
            Some(_) => Err(error(format!(
                "lockstep: `{on}` is neither a transaction nor a connection"
            ))),
            None => match self.pools.iter().position(|p| p.name == on) {
                Some(p) => Ok(Target::Pool(PoolId(p as u32))),
                None => Err(error(format!(
                    "lockstep: `{on}` is not a pool or a variable"
                ))),
            },
        }
    }

    fn exec_op(&mut self, id: TaskId, op: Op, events: &mut Vec<Event>) {
        if self.in_defer(id) {
            events.push(Event::DeferredRan {
                task: id,
                line: op.line,
                op: op.action.name().into(),
            });
        }
        match op.action {
            Action::Acquire {
                pool,
                conn,
                context,
            } => {
                let Some(p) = self.pools.iter().position(|x| x.name == pool) else {
                    return self.fail(id, error(format!("lockstep: no pool `{pool}`")), events);
                };
                let ctx = match self.context_var(id, &context) {
                    Ok(c) => c,
                    Err(e) => return self.fail(id, e, events),
                };
                let mut call = Call::new(
                    CallKind::Acquire { var: conn },
                    vec![Micro::Acquire(PoolId(p as u32))],
                );
                call.context = ctx;
                self.task_mut(id).call = Some(call);
                self.advance_call(id, events);
            }
            Action::Release { conn } => match self.var(id, &conn) {
                Some(Var::Conn(c)) => {
                    let c = *c;
                    self.task_mut(id).vars.remove(&conn);
                    self.release_conn(c, id, events);
                    self.advance(id, events);
                }
                _ => self.fail(
                    id,
                    error(format!("lockstep: `{conn}` is not a connection")),
                    events,
                ),
            },
            Action::Query {
                on,
                sql,
                args,
                rows,
                context,
            } => self.start_statement(
                id,
                &on,
                &sql,
                &args,
                context,
                CallKind::Query { var: rows },
                events,
            ),
            Action::QueryRow {
                on,
                sql,
                args,
                into,
                context,
            } => self.start_statement(
                id,
                &on,
                &sql,
                &args,
                context,
                CallKind::QueryRow { into },
                events,
            ),
            Action::Exec {
                on,
                sql,
                args,
                context,
            } => self.start_statement(id, &on, &sql, &args, context, CallKind::Exec, events),
            Action::Next { rows, done } => {
                self.start_rows_call(id, &rows, Some(done), None, events)
            }
            Action::Close { rows } => self.start_rows_call(id, &rows, None, None, events),
            Action::Collect { rows, into } => {
                self.start_rows_call(id, &rows, None, Some(into), events)
            }
            Action::Scan { rows, into } => {
                let current = match self.var(id, &rows) {
                    Some(Var::Rows(r)) => self.rows.get(r).and_then(|r| r.current.clone()),
                    _ => None,
                };
                match current {
                    Some(values) => {
                        for (i, name) in into.iter().enumerate() {
                            let v = values.get(i).cloned().flatten();
                            self.set_var(id, name, Var::Value(v));
                        }
                        self.succeed(id, events);
                    }
                    None => self.fail(id, error("sql: Scan called without calling Next"), events),
                }
            }
            Action::Begin {
                on,
                tx,
                isolation,
                context,
            } => {
                let target = match self.resolve_target(id, &on) {
                    Ok(t) => t,
                    Err(e) => return self.fail(id, e, events),
                };
                let ctx = match self.context_var(id, &context) {
                    Ok(c) => c,
                    Err(e) => return self.fail(id, e, events),
                };
                if let Some(e) = ctx.and_then(|c| self.context_error(c)) {
                    return self.fail(id, error(e), events);
                }
                let begin = match isolation {
                    Some(level) => format!("BEGIN ISOLATION LEVEL {}", level.sql()),
                    None => "BEGIN".to_string(),
                };
                let (pool, conn) = match target {
                    Target::Pool(p) => (Some(p), None),
                    Target::Conn(c) => (None, Some(c)),
                    Target::Tx(_) => {
                        return self.fail(
                            id,
                            error("lockstep: cannot begin on a transaction"),
                            events,
                        )
                    }
                };
                let driver = match (pool, conn) {
                    (Some(p), _) => self.driver_of_pool(p),
                    (_, Some(c)) => self.driver_of_conn(c),
                    _ => Driver::Pgxpool,
                };
                let mut script = Vec::new();
                if let Some(p) = pool {
                    script.push(Micro::Acquire(p));
                }
                script.extend(simple_script(driver, &begin));
                let mut call = Call::new(CallKind::Begin { var: tx }, script);
                call.conn = conn;
                call.context = ctx;
                self.start_call(id, call, driver, events);
            }
            Action::Commit { tx } => self.start_tx_end(id, &tx, true, events),
            Action::Rollback { tx } => self.start_tx_end(id, &tx, false, events),
            Action::Spawn { task } => {
                if self.tasks.len() >= super::scenario::TASKS_MAX as usize {
                    let text = format!("lockstep: more than {} tasks", super::scenario::TASKS_MAX);
                    return self.fail(id, error(text), events);
                }
                let spec = self
                    .scenario
                    .0
                    .tasks
                    .iter()
                    .position(|t| t.name == task)
                    .unwrap_or(0);
                let parent = &self.tasks[id.0 as usize];
                let base = format!("{}.{}", parent.name, task);
                let mut name = base.clone();
                let mut k = 2;
                while self.tasks.iter().any(|t| t.name == name) {
                    name = format!("{base}#{k}");
                    k += 1;
                }
                let vars = parent.vars.clone();
                let now = self.now;
                let child = self.add_task(name.clone(), spec, Some(id), now, None, vars);
                self.task_mut(id).children.push(child);
                events.push(Event::GoroutineSpawned {
                    task: id,
                    child,
                    name,
                });
                self.advance(id, events);
            }
            Action::Wait => {
                let children = std::mem::take(&mut self.task_mut(id).children);
                for child in children {
                    let values: Vec<(String, Var)> = self.tasks[child.0 as usize]
                        .vars
                        .iter()
                        .filter(|(_, v)| matches!(v, Var::Value(_)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    for (k, v) in values {
                        self.set_var(id, &k, v);
                    }
                }
                match self.task_mut(id).group_error.take() {
                    Some(e) => self.fail(id, e, events),
                    None => self.succeed(id, events),
                }
            }
            Action::Defer { .. } => {
                let Pc::Main(i) = self.tasks[id.0 as usize].pc else {
                    return self.advance(id, events);
                };
                self.task_mut(id).defers.push(i);
                self.advance(id, events);
            }
            Action::Return { error: returned } => {
                let returned = match returned.as_deref() {
                    None => None,
                    Some("$err") => self.tasks[id.0 as usize].err.clone(),
                    Some(text) => self.operand(id, text).map(error),
                };
                if self.in_defer(id) {
                    // A `return` inside a deferred body ends that body only.
                    self.next_defer(id, events);
                } else {
                    self.begin_return(id, returned, events);
                }
            }
            Action::Sleep { ms } => {
                let until = self.now + Duration::from_millis(ms);
                self.task_mut(id).wake_at = Some(until);
            }
            Action::Context {
                name,
                timeout_ms,
                parent,
            } => {
                if self.contexts.len() >= CONTEXTS_MAX {
                    let text = format!("lockstep: more than {CONTEXTS_MAX} contexts");
                    return self.fail(id, error(text), events);
                }
                let parent = match parent {
                    Some(p) => self.context_var(id, &Some(p)),
                    None => Ok(Some(self.tasks[id.0 as usize].request_context)),
                };
                let parent = match parent {
                    Ok(p) => p,
                    Err(e) => return self.fail(id, e, events),
                };
                let deadline = timeout_ms.map(|ms| self.now + Duration::from_millis(ms));
                self.contexts.push(Context {
                    parent,
                    deadline,
                    cancelled: false,
                    owner: id,
                });
                let ctx = ContextId(self.contexts.len() as u32 - 1);
                self.set_var(id, &name, Var::Context(ctx));
                self.advance(id, events);
            }
            Action::Cancel { context } => match self.context_var(id, &Some(context)) {
                Ok(Some(ctx)) => {
                    if self.context_error(ctx).is_none() {
                        events.push(Event::ContextEnded {
                            task: id,
                            error: "context canceled".into(),
                        });
                    }
                    self.contexts[ctx.0 as usize].cancelled = true;
                    self.advance(id, events);
                }
                Ok(None) => self.advance(id, events),
                Err(e) => self.fail(id, e, events),
            },
            Action::Record { var } => {
                let value = self.value_of(id, &var);
                let name = self.tasks[id.0 as usize].name.clone();
                self.records.push(Record {
                    task: name.clone(),
                    var: var.clone(),
                    value: value.clone(),
                });
                events.push(Event::ValueRecorded {
                    task: id,
                    name,
                    var,
                    value,
                });
                self.advance(id, events);
            }
            Action::Add { into, of } => {
                let mut sum: i64 = 0;
                for operand in &of {
                    let text = self.operand(id, operand).unwrap_or_default();
                    match text.trim().parse::<i64>() {
                        Ok(n) => sum = sum.saturating_add(n),
                        Err(_) => {
                            return self.fail(
                                id,
                                error(format!(
                                    "lockstep: `{operand}` = `{text}` is not an integer"
                                )),
                                events,
                            )
                        }
                    }
                }
                self.set_var(id, &into, Var::Value(Some(sum.to_string())));
                self.advance(id, events);
            }
            Action::If { var, is, value, to } => {
                let left = self.value_of(id, &var);
                let right = value.as_deref().and_then(|v| self.operand(id, v));
                if compare(left.as_deref(), is, right.as_deref()) {
                    self.jump(id, &to);
                } else {
                    self.advance(id, events);
                }
            }
            Action::Goto { to } => self.jump(id, &to),
        }
    }

    fn start_call(&mut self, id: TaskId, call: Call, driver: Driver, events: &mut Vec<Event>) {
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

    #[allow(clippy::too_many_arguments)]
    fn start_statement(
        &mut self,
        id: TaskId,
        on: &str,
        sql: &str,
        args: &[String],
        context: Option<String>,
        kind: CallKind,
        events: &mut Vec<Event>,
    ) {
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

    fn start_rows_call(
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

    fn start_tx_end(&mut self, id: TaskId, tx_var: &str, commit: bool, events: &mut Vec<Event>) {
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
    fn free_rows_id(&self) -> RowsId {
        (0..)
            .map(RowsId)
            .find(|r| !self.rows.contains_key(r))
            .expect("a free id")
    }

    fn new_list(&mut self, id: TaskId, var: &str, list: Vec<Vec<Option<String>>>) {
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
    fn advance_call(&mut self, id: TaskId, events: &mut Vec<Event>) {
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
    fn finish_if_done(&mut self, id: TaskId, events: &mut Vec<Event>) -> bool {
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

    fn pop_micro(&mut self, id: TaskId) {
        if let Some(call) = self.task_mut(id).call.as_mut() {
            call.script.remove(0);
        }
    }

    fn granted(&mut self, id: TaskId, pool: PoolId, conn: ConnId) {
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
    fn receive(&mut self, id: TaskId, conn: ConnId, events: &mut Vec<Event>) -> Option<Backend> {
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
    fn feed(
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

    fn mark_bad(&mut self, id: TaskId, conn: ConnId, text: &str, events: &mut Vec<Event>) {
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
    fn fail_call(&mut self, id: TaskId, err: TaskError, events: &mut Vec<Event>) {
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

    fn finish_call(&mut self, id: TaskId, events: &mut Vec<Event>) {
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
    fn end_statement(
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

    fn close_rows(&mut self, rows: RowsId, id: TaskId, events: &mut Vec<Event>) {
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

    /// Acquire's first attempt: a connection now, `None` when queued, or an error.
    fn try_acquire(
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

    fn open_conn(
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
                self.pools[pool.0 as usize].open.insert(id);
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
    pub(super) fn close_conn(
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
        pool.open.remove(&conn);
        pool.idle.retain(|&i| i != conn);
        events.push(Event::ConnectionClosed {
            task,
            conn,
            why: why.to_string(),
        });
    }

    /// A holder gives a connection back to its pool.
    pub(super) fn release_conn(&mut self, conn: ConnId, by: TaskId, events: &mut Vec<Event>) {
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
    pub(super) fn settle(&mut self, events: &mut Vec<Event>) {
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

/// The script of a simple-protocol statement without arguments (BEGIN, COMMIT, ROLLBACK).
fn simple_script(driver: Driver, sql: &str) -> Vec<Micro> {
    let exchange = vec![
        Micro::Send(vec![Frontend::Query {
            sql: sql.to_string(),
        }]),
        Micro::Read(Reader::SimpleExec {
            tag: None,
            error: None,
        }),
    ];
    match driver {
        Driver::Pgxpool => exchange,
        Driver::DatabaseSql => {
            let mut script = vec![Micro::Lock];
            script.extend(exchange);
            script.push(Micro::Unlock);
            script
        }
    }
}

/// The micro-steps of Query / QueryRow / Exec after the connection is known.
fn statement_script(driver: Driver, sql: &str, args: &[String], kind: &CallKind) -> Vec<Micro> {
    let parse = Frontend::Parse {
        sql: sql.to_string(),
    };
    let bind = Frontend::Bind {
        args: args.to_vec(),
    };
    let rows_next = || Micro::Read(Reader::RowsNext { error: None });
    let drain = || Micro::Drain(Reader::RowsNext { error: None });
    let execute = || {
        Micro::Read(Reader::ExecuteResponse {
            tag: None,
            error: None,
        })
    };
    match driver {
        Driver::Pgxpool => {
            let mut script = vec![
                Micro::Send(vec![
                    parse,
                    Frontend::Describe,
                    Frontend::Sync,
                    bind,
                    Frontend::Execute,
                    Frontend::Sync,
                ]),
                Micro::Read(Reader::ParseResponse),
                Micro::Read(Reader::DescribeStatement),
                Micro::Read(Reader::ReadyForQuery),
                Micro::Read(Reader::BindResponse),
            ];
            match kind {
                CallKind::QueryRow { .. } => script.extend([rows_next(), drain()]),
                CallKind::Exec => script.push(execute()),
                _ => {}
            }
            script
        }
        Driver::DatabaseSql => {
            // lib/pq: no arguments means the simple protocol (`simpleQuery`/`simpleExec`);
            // with arguments, prepare on the unnamed statement, then bind and execute (§2.6.2).
            let mut script = vec![Micro::Lock];
            if args.is_empty() {
                script.push(Micro::Send(vec![Frontend::Query {
                    sql: sql.to_string(),
                }]));
                match kind {
                    CallKind::Exec => script.push(Micro::Read(Reader::SimpleExec {
                        tag: None,
                        error: None,
                    })),
                    _ => script.push(Micro::Read(Reader::SimpleQuery { error: None })),
                }
            } else {
                script.extend([
                    Micro::Send(vec![parse, Frontend::Describe, Frontend::Sync]),
                    Micro::Read(Reader::ParseResponse),
                    Micro::Read(Reader::DescribeStatement),
                    Micro::Read(Reader::ReadyForQuery),
                    Micro::Send(vec![bind, Frontend::Execute, Frontend::Sync]),
                    Micro::Read(Reader::BindResponse),
                    Micro::Read(Reader::PostExecute),
                ]);
                if let CallKind::Exec = kind {
                    script.push(execute());
                }
            }
            script.push(Micro::Unlock);
            // database/sql's Row.Scan: rows.Next, then rows.Close, each its own driver call.
            if let CallKind::QueryRow { .. } = kind {
                script.extend([
                    Micro::Lock,
                    rows_next(),
                    Micro::Unlock,
                    Micro::Lock,
                    drain(),
                    Micro::Unlock,
                ]);
            }
            script
        }
    }
}

fn compare(left: Option<&str>, is: Comparison, right: Option<&str>) -> bool {
    match is {
        Comparison::Null => return left.is_none(),
        Comparison::NotNull => return left.is_some(),
        _ => {}
    }
    let (Some(l), Some(r)) = (left, right) else {
        // SQL-like: a comparison with NULL is not true (but `ne` against a value is).
        return matches!(is, Comparison::Ne) && left != right;
    };
    let ordering = match (l.trim().parse::<i64>(), r.trim().parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => l.cmp(r),
    };
    match is {
        Comparison::Eq => ordering.is_eq(),
        Comparison::Ne => ordering.is_ne(),
        Comparison::Lt => ordering.is_lt(),
        Comparison::Le => ordering.is_le(),
        Comparison::Gt => ordering.is_gt(),
        Comparison::Ge => ordering.is_ge(),
        Comparison::Null | Comparison::NotNull => unreachable!(),
    }
}
