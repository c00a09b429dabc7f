//! What a task is doing or waiting for, derived from the state: runnable, blocked with its
//! reason (a pool's queue, a lock, a reply, the clock), or finished.

use super::*;

impl World {
    /// Derives a task's state: runnable, blocked (with the reason), or finished.
    pub(in crate::world) fn task_state(&self, id: TaskId) -> TaskState {
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

    pub(super) fn call_state(&self, id: TaskId, call: &Call) -> TaskState {
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
    pub(super) fn read_state(&self, conn: ConnId) -> TaskState {
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
    pub(in crate::world) fn op_at(&self, id: TaskId) -> Option<Op> {
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
}
