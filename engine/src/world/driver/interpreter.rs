//! The task interpreter: a task's program run operation by operation, its variables and
//! contexts, jumps, returns and deferred calls.

use super::calls::Statement;
use super::*;

impl World {
    /// One step of a runnable task, followed by the purely local operations after it (jumps,
    /// scans, defers...): they touch nothing another task could observe, so giving them steps
    /// of their own would only multiply schedules.
    pub(in crate::world) fn step_task(&mut self, id: TaskId, events: &mut Vec<Event>) {
        self.step_task_once(id, events);
        for _ in 0..=super::scenario::PROGRAM_LENGTH_MAX {
            if !self.next_op_is_local(id) {
                return;
            }
            self.step_task_once(id, events);
        }
    }

    /// Whether the task's next step is a local operation (see [`World::next_step_is_local`]).
    pub(in crate::world) fn next_op_is_local(&self, id: TaskId) -> bool {
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

    pub(super) fn step_task_once(&mut self, id: TaskId, events: &mut Vec<Event>) {
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

    pub(super) fn in_defer(&self, id: TaskId) -> bool {
        matches!(self.tasks[id.0 as usize].pc, Pc::Deferred { .. })
    }

    /// Moves to the next operation (or the next deferred body, or the end).
    pub(super) fn advance(&mut self, id: TaskId, events: &mut Vec<Event>) {
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

    pub(super) fn jump(&mut self, id: TaskId, label: &str) {
        let spec = self.tasks[id.0 as usize].spec;
        let target = self.labels.0[spec]
            .get(label)
            .copied()
            .unwrap_or(usize::MAX);
        self.task_mut(id).pc = Pc::Main(target);
    }

    /// A fallible operation succeeded: `err = nil`, next operation.
    pub(super) fn succeed(&mut self, id: TaskId, events: &mut Vec<Event>) {
        if !self.in_defer(id) && !self.result_ignored(id) {
            self.task_mut(id).err = None;
        }
        self.advance(id, events);
    }

    /// A fallible operation failed: `if err != nil { return err }`, or its `on_error`.
    /// Inside a deferred body the error is ignored, as `defer tx.Rollback()` ignores it.
    pub(super) fn fail(&mut self, id: TaskId, error: TaskError, events: &mut Vec<Event>) {
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
    pub(super) fn result_ignored(&self, id: TaskId) -> bool {
        matches!(
            self.op_at(id).map(|op| op.action),
            Some(Action::Rollback { .. })
        )
    }

    pub(super) fn begin_return(
        &mut self,
        id: TaskId,
        returned: Option<TaskError>,
        events: &mut Vec<Event>,
    ) {
        let t = self.task_mut(id);
        t.err = returned.clone();
        t.returning = Some(returned);
        self.next_defer(id, events);
    }

    pub(super) fn next_defer(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let t = self.task_mut(id);
        match t.defers.pop() {
            Some(defer_op) => t.pc = Pc::Deferred { defer_op, pos: 0 },
            None => self.finish(id, events),
        }
    }

    pub(super) fn finish(&mut self, id: TaskId, events: &mut Vec<Event>) {
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

    pub(super) fn var(&self, id: TaskId, name: &str) -> Option<&Var> {
        self.tasks[id.0 as usize].vars.get(name)
    }

    pub(super) fn set_var(&mut self, id: TaskId, name: &str, value: Var) {
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
    pub(super) fn operand(&self, id: TaskId, text: &str) -> Option<String> {
        match text.strip_prefix('$') {
            Some(name) => self.value_of(id, name),
            None => Some(text.to_string()),
        }
    }

    pub(super) fn value_of(&self, id: TaskId, name: &str) -> Option<String> {
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

    pub(super) fn context_var(
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

    pub(super) fn resolve_target(&self, id: TaskId, on: &str) -> Result<Target, TaskError> {
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

    /// Runs one operation: each kind of operation has its own function, in `ops/` by concern.
    pub(super) fn exec_op(&mut self, id: TaskId, op: Op, events: &mut Vec<Event>) {
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
            } => self.exec_acquire(id, pool, conn, context, events),
            Action::Release { conn } => self.exec_release(id, conn, events),
            Action::Query {
                on,
                sql,
                args,
                rows,
                context,
            } => self.start_statement(
                id,
                Statement {
                    on: &on,
                    sql: &sql,
                    args: &args,
                    context,
                    kind: CallKind::Query { var: rows },
                },
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
                Statement {
                    on: &on,
                    sql: &sql,
                    args: &args,
                    context,
                    kind: CallKind::QueryRow { into },
                },
                events,
            ),
            Action::Exec {
                on,
                sql,
                args,
                context,
            } => self.start_statement(
                id,
                Statement {
                    on: &on,
                    sql: &sql,
                    args: &args,
                    context,
                    kind: CallKind::Exec,
                },
                events,
            ),
            Action::Next { rows, done } => {
                self.start_rows_call(id, &rows, Some(done), None, events)
            }
            Action::Close { rows } => self.start_rows_call(id, &rows, None, None, events),
            Action::Collect { rows, into } => {
                self.start_rows_call(id, &rows, None, Some(into), events)
            }
            Action::Scan { rows, into } => self.exec_scan(id, rows, into, events),
            Action::Begin {
                on,
                tx,
                isolation,
                context,
            } => self.exec_begin(id, on, tx, isolation, context, events),
            Action::Commit { tx } => self.start_tx_end(id, &tx, true, events),
            Action::Rollback { tx } => self.start_tx_end(id, &tx, false, events),
            Action::Spawn { task } => self.exec_spawn(id, task, events),
            Action::Wait => self.exec_wait(id, events),
            Action::Defer { .. } => self.exec_defer(id, events),
            Action::Return { error: returned } => self.exec_return(id, returned, events),
            Action::Sleep { ms } => self.exec_sleep(id, ms),
            Action::Context {
                name,
                timeout_ms,
                parent,
            } => self.exec_context(id, name, timeout_ms, parent, events),
            Action::Cancel { context } => self.exec_cancel(id, context, events),
            Action::Record { var } => self.exec_record(id, var, events),
            Action::Add { into, of } => self.exec_add(id, into, of, events),
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
}
