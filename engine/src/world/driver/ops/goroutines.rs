//! The operations on the task itself and its goroutines: spawning and waiting for children,
//! deferring, returning, sleeping, and the contexts it makes and cancels.

use super::super::*;
use crate::limits::TASKS_MAX;

impl World {
    /// `g.Go(func() ...)`: a child task with a copy of the parent's variables.
    pub(in crate::world::driver) fn exec_spawn(
        &mut self,
        id: TaskId,
        task: String,
        events: &mut Vec<Event>,
    ) {
        if self.tasks.len() >= TASKS_MAX as usize {
            let text = format!("lockstep: more than {TASKS_MAX} tasks");
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

    /// `err := g.Wait()`: the children's values come back to the parent, and the first error.
    pub(in crate::world::driver) fn exec_wait(&mut self, id: TaskId, events: &mut Vec<Event>) {
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

    /// `defer ...`: the body runs when the function returns, last deferred first.
    pub(in crate::world::driver) fn exec_defer(&mut self, id: TaskId, events: &mut Vec<Event>) {
        let Pc::Main(i) = self.tasks[id.0 as usize].pc else {
            return self.advance(id, events);
        };
        self.task_mut(id).defers.push(i);
        self.advance(id, events);
    }

    /// `return err`: runs the deferred bodies, then finishes the task.
    pub(in crate::world::driver) fn exec_return(
        &mut self,
        id: TaskId,
        returned: Option<String>,
        events: &mut Vec<Event>,
    ) {
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

    /// `time.Sleep(ms)`: the task waits for the clock.
    pub(in crate::world::driver) fn exec_sleep(&mut self, id: TaskId, ms: u64) {
        let until = self.now + Duration::from_millis(ms);
        self.task_mut(id).wake_at = Some(until);
    }

    /// `ctx, cancel := context.WithTimeout(parent, ms)`, or `WithCancel` without a timeout.
    pub(in crate::world::driver) fn exec_context(
        &mut self,
        id: TaskId,
        name: String,
        timeout_ms: Option<u64>,
        parent: Option<String>,
        events: &mut Vec<Event>,
    ) {
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

    /// `cancel()`: the context and every context made from it end.
    pub(in crate::world::driver) fn exec_cancel(
        &mut self,
        id: TaskId,
        context: String,
        events: &mut Vec<Event>,
    ) {
        match self.context_var(id, &Some(context)) {
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
        }
    }
}
