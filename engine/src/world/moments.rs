//! Key moments: the steps that matter for teaching (the pool runs dry, the first lock wait, a
//! cycle closes, the detector fires, tasks stall, an anomaly shows, a connection is refused),
//! derived from the world before and after a step and the step's events, never kept by hand.

use super::graph::WaitForGraph;
use super::outcome::Verdict;
use super::plain::list;
use super::view::{BlockReason, TaskState};
use super::{Event, World};
use crate::server::{self, DeadlockVerdict};
use serde::{Deserialize, Serialize};

/// Something a learner should stop and look at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyMoment {
    /// A task must wait for a pool: every connection is in use.
    PoolExhausted { pool: String, task: String },
    /// A task starts to wait for a lock while no other task waits for one.
    FirstLockWait { task: String, wait: String },
    /// A cycle of waits closes.
    CycleClosed { tasks: Vec<String>, database: bool },
    /// PostgreSQL's deadlock detector aborts a transaction.
    DeadlockDetected { victim: String },
    /// Tasks can never move again, without a cycle.
    Stall { tasks: Vec<String> },
    /// An invariant is broken for good, with no task failing: the data is wrong.
    AnomalyObserved { what: String },
    /// A task fails with an error the lesson does not expect: the run shows the bug.
    Failure { task: String, error: String },
    /// PostgreSQL refuses a new connection.
    ConnectionRefused { task: String, error: String },
    /// A moment the lesson names itself.
    Lesson { text: String },
}

impl KeyMoment {
    /// One sentence saying what just happened and why it matters.
    pub fn sentence(&self) -> String {
        match self {
            KeyMoment::PoolExhausted { pool, task } => format!(
                "Pool {pool} has run dry: every connection is in use, so {task} has to wait for one."
            ),
            KeyMoment::FirstLockWait { task, wait } => format!("{task} {wait}: the first lock wait."),
            KeyMoment::CycleClosed { tasks, database: true } => format!(
                "The cycle closes: {} each wait for a row another holds, and none of them can move.",
                list(tasks)
            ),
            KeyMoment::CycleClosed { tasks, database: false } => format!(
                "The cycle closes: {} wait for each other, and nothing will break the cycle.",
                list(tasks)
            ),
            KeyMoment::DeadlockDetected { victim } => format!(
                "The deadlock detector fires: PostgreSQL aborts {victim}'s transaction to break the cycle."
            ),
            KeyMoment::Stall { tasks } => format!(
                "{} can never move again: what {} will never happen.",
                list(tasks),
                if tasks.len() == 1 { "it waits for" } else { "they wait for" }
            ),
            KeyMoment::AnomalyObserved { what } => format!("The data is wrong: {what}."),
            KeyMoment::Failure { task, error } => format!("{task} fails with “{error}”: the bug shows."),
            KeyMoment::ConnectionRefused { task, error } => {
                format!("PostgreSQL refuses {task} a connection: {error}.")
            }
            KeyMoment::Lesson { text } => text.clone(),
        }
    }
}

impl World {
    /// The key moments of the step that led from `before` to this world with `events`;
    /// `verdict_before` and `verdict_after` are the run's verdicts at both ends.
    pub fn key_moments(
        &self,
        before: &World,
        events: &[Event],
        verdict_before: &Verdict,
        verdict_after: &Verdict,
    ) -> Vec<KeyMoment> {
        let mut out = Vec::new();
        let lock_waiting = |w: &World| {
            w.tasks.iter().any(|t| {
                matches!(
                    w.task_state(t.id),
                    TaskState::Blocked(BlockReason::Lock { .. })
                )
            })
        };
        for e in events {
            match e {
                Event::AcquireQueued { task, pool, .. } => {
                    let queue_was_empty = before
                        .pools
                        .iter()
                        .find(|p| &p.name == pool)
                        .is_none_or(|p| p.waiters.is_empty());
                    if queue_was_empty {
                        out.push(KeyMoment::PoolExhausted {
                            pool: pool.clone(),
                            task: self.task_name(*task),
                        });
                    }
                }
                Event::TaskBlocked {
                    name,
                    reason: reason @ BlockReason::Lock { .. },
                    ..
                } if !lock_waiting(before) => out.push(KeyMoment::FirstLockWait {
                    task: name.clone(),
                    wait: self.describe_wait(reason),
                }),
                Event::Server(server::Event::DeadlockCheck {
                    pid,
                    verdict: DeadlockVerdict::Deadlock { .. },
                }) => out.push(KeyMoment::DeadlockDetected {
                    victim: self
                        .task_of_pid(*pid)
                        .or_else(|| before.task_of_pid(*pid))
                        .map(|t| self.task_name(t))
                        .unwrap_or_else(|| "a session".to_string()),
                }),
                Event::ConnectionRefused { task, error, .. } => {
                    out.push(KeyMoment::ConnectionRefused {
                        task: self.task_name(*task),
                        error: error.clone(),
                    })
                }
                _ => {}
            }
        }
        // A cycle closes: a new cycle among the waits (PostgreSQL's kind, which its detector
        // will break) or one nothing will break. The graph before the move is only drawn when
        // there is a cycle after it (most moves have none, and a graph is a Step's largest
        // single cost on the page).
        let mut closed = self.wait_for_graph().closed_cycles();
        if !closed.is_empty() {
            let already = before.wait_for_graph().closed_cycles();
            closed.retain(|c| !already.contains(c));
        }
        if let Some(cycle) = closed.first() {
            let database = WaitForGraph::kind(cycle) == super::graph::CycleKind::Database;
            let mut tasks: Vec<String> = Vec::new();
            for n in cycle {
                let name = match n {
                    super::WaitNode::Task(t) => Some(self.task_name(*t)),
                    super::WaitNode::Connection(c) => self
                        .connections
                        .get(c)
                        .and_then(|c| c.holder)
                        .map(|t| self.task_name(t)),
                    super::WaitNode::Pool(_) => None,
                };
                if let Some(name) = name {
                    if !tasks.contains(&name) {
                        tasks.push(name);
                    }
                }
            }
            out.push(KeyMoment::CycleClosed { tasks, database });
        }
        if !verdict_before.is_declared() {
            match verdict_after {
                Verdict::Stall { tasks, .. } => out.push(KeyMoment::Stall {
                    tasks: tasks.clone(),
                }),
                Verdict::Failed { failures, .. } => {
                    if let Some((task, error)) = failures.first() {
                        out.push(KeyMoment::Failure {
                            task: task.clone(),
                            error: error.clone(),
                        })
                    }
                }
                Verdict::Anomaly { violations } => {
                    if let Some(what) = violations.first() {
                        out.push(KeyMoment::AnomalyObserved { what: what.clone() })
                    }
                }
                _ => {}
            }
        }
        out
    }
}
