//! The one verdict on a run: how it ends, declared at the step where that becomes certain,
//! with the facts behind it as data (task, row and pool names) and a one-sentence headline.
//!
//! Certain means no later step can change it: the run has ended; or a task can never move again
//! (the wait-for graph's stuck set, which already accounts for every timer and deadline that
//! could free it); or an invariant is broken for good (a task failed with an error the lesson
//! does not expect, a transaction's work was rolled back, a task recorded a wrong value). The
//! later steps stay playable.

use super::graph::{CycleKind, WaitForGraph, WaitNode};
use super::plain::list;
use super::scenario::Invariant;
use super::task::Life;
use super::view::TaskState;
use super::{Event, World};
use crate::server::{self, DeadlockVerdict, Pid};
use litemap::LiteMap;
use serde::{Deserialize, Serialize};

/// How a run stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// Nothing is certain yet.
    Running,
    /// Every task returned and every invariant holds.
    Completed {
        /// Tasks that answered an error the lesson counts as correct, with the error.
        answers: Vec<(String, String)>,
        /// Whether PostgreSQL broke a deadlock on the way (and a retry survived it).
        deadlock_survived: bool,
    },
    /// PostgreSQL's deadlock detector broke a cycle of row waits, and the run shows the cost.
    DeadlockDetected {
        /// The tasks whose transactions were aborted.
        victims: Vec<String>,
        /// The tasks in the cycles, victims first.
        tasks: Vec<String>,
    },
    /// Tasks wait for each other in a cycle nothing will break.
    Deadlock {
        /// What the cycle goes through.
        kind: CycleKind,
        /// The tasks in it.
        tasks: Vec<String>,
        /// The pools in it.
        pools: Vec<String>,
        /// One plain sentence per edge of the cycle.
        explanation: Vec<String>,
    },
    /// Tasks wait for something that will never happen, without a cycle.
    Stall {
        /// The tasks that can never move again.
        tasks: Vec<String>,
        /// Tasks that returned leaving a transaction open, which nobody will end.
        leakers: Vec<String>,
        /// One plain sentence per edge among the stuck.
        explanation: Vec<String>,
    },
    /// Tasks failed with errors the lesson does not expect.
    Failed {
        /// Each task and its error.
        failures: Vec<(String, String)>,
        /// Other invariants broken as well (the data is wrong too).
        violations: Vec<String>,
    },
    /// No task failed, but an invariant does not hold: the data is wrong.
    Anomaly {
        /// One sentence per broken invariant.
        violations: Vec<String>,
    },
}

/// A verdict and whether the run is over.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Outcome {
    /// The verdict, as certain as it can be now.
    pub verdict: Verdict,
    /// Whether no step is left (every task returned, or none can run and no timer is due).
    pub ended: bool,
}

impl Verdict {
    /// Whether the verdict is known.
    pub fn is_declared(&self) -> bool {
        *self != Verdict::Running
    }

    /// Whether it shows a bug.
    pub fn is_bug(&self) -> bool {
        !matches!(self, Verdict::Running | Verdict::Completed { .. })
    }

    /// One sentence in the lesson's terms.
    pub fn headline(&self, task_noun: &str) -> String {
        match self {
            Verdict::Running => "Running.".to_string(),
            Verdict::Completed { .. } => {
                format!("Every {task_noun} finished and the data is right.")
            }
            Verdict::DeadlockDetected { victims, tasks } => {
                let others: Vec<String> = tasks
                    .iter()
                    .filter(|t| !victims.contains(t))
                    .cloned()
                    .collect();
                let wait = if tasks.len() == 2 {
                    format!("{} wait for each other's rows", list(tasks))
                } else if tasks.len() > 2 {
                    format!("{} wait for each other's rows in a cycle", list(tasks))
                } else {
                    "Transactions wait for each other's rows".to_string()
                };
                let victims = if victims.is_empty() {
                    "a transaction".to_string()
                } else {
                    list(victims)
                };
                let survivor = match others.as_slice() {
                    [] => String::new(),
                    [one] => format!(", and {one} goes on"),
                    many => format!(", and {} go on", list(many)),
                };
                format!(
                    "{wait}: PostgreSQL aborts {victims} after deadlock_timeout{survivor}."
                )
            }
            Verdict::Deadlock {
                kind, tasks, pools, ..
            } => match kind {
                CycleKind::PoolStarvation => format!(
                    "{} each hold a connection from pool {} and wait for another: the pool is empty and nothing will give one back.",
                    list(tasks),
                    list(pools)
                ),
                CycleKind::Mixed => format!(
                    "{} wait for each other through pool {} and the database: neither PostgreSQL nor the pool sees the cycle, so nothing breaks it.",
                    list(tasks),
                    list(pools)
                ),
                CycleKind::Database => format!(
                    "{} wait for each other's rows, and nothing will break the cycle.",
                    list(tasks)
                ),
            },
            Verdict::Stall {
                tasks, leakers, ..
            } => {
                let wait = if tasks.len() == 1 { "waits" } else { "wait" };
                match leakers.as_slice() {
                    [] => format!(
                        "{} {wait} for something that will never happen: nothing can run and no timer is due.",
                        list(tasks)
                    ),
                    leakers => format!(
                        "{} {wait} forever: {} returned without ending {} transaction, so its locks are never released.",
                        list(tasks),
                        list(leakers),
                        if leakers.len() == 1 { "its" } else { "their" }
                    ),
                }
            }
            Verdict::Failed {
                failures,
                violations,
            } => {
                let mut errors: Vec<&str> = failures.iter().map(|(_, e)| e.as_str()).collect();
                errors.dedup();
                let names: Vec<String> = failures.iter().map(|(n, _)| n.clone()).collect();
                let verb = if names.len() == 1 { "fails" } else { "fail" };
                let error = if errors.len() == 1 {
                    format!(" with “{}”", errors[0])
                } else {
                    String::new()
                };
                let data = if violations.is_empty() {
                    ""
                } else {
                    ", and the data is wrong"
                };
                format!("{} {verb}{error}{data}.", list(&names))
            }
            Verdict::Anomaly { violations } => match violations.first() {
                Some(first) => format!("No {task_noun} failed, but the data is wrong: {first}."),
                None => "The data is wrong.".to_string(),
            },
        }
    }

    /// The word the page labels the verdict with: running, completed, deadlock, stalled,
    /// failed or anomaly.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Running => "running",
            Verdict::Completed { .. } => "completed",
            Verdict::DeadlockDetected { .. } | Verdict::Deadlock { .. } => "deadlock",
            Verdict::Stall { .. } => "stalled",
            Verdict::Failed { .. } => "failed",
            Verdict::Anomaly { .. } => "anomaly",
        }
    }
}

impl World {
    /// The verdict on the run so far; `history` is every event of the run, oldest first (a
    /// detected deadlock is an event, not state).
    pub fn outcome<'a>(&self, history: impl IntoIterator<Item = &'a Event>) -> Outcome {
        let ended = self.choices().is_empty();
        let history: Vec<&Event> = history.into_iter().collect();
        let deadlocks = deadlock_detections(&history);
        let verdict = self.verdict(&deadlocks);
        Outcome { verdict, ended }
    }

    fn verdict(&self, deadlocks: &[Detection]) -> Verdict {
        let finished = self.all_finished();
        if !finished {
            if let Some(v) = self.stuck_verdict() {
                return v;
            }
        }
        let failures = self.unexpected_failures();
        let mut violations = self.plain_violations(finished);
        let certain_failure = !failures.is_empty() || !violations.is_empty();
        if !certain_failure {
            return if finished {
                Verdict::Completed {
                    answers: self
                        .tasks
                        .iter()
                        .filter_map(|t| match &t.life {
                            Life::Finished { error: Some(e) } => {
                                Some((t.name.clone(), e.text.clone()))
                            }
                            _ => None,
                        })
                        .collect(),
                    deadlock_survived: !deadlocks.is_empty(),
                }
            } else {
                Verdict::Running
            };
        }
        if !deadlocks.is_empty() {
            let mut victims: Vec<String> = Vec::new();
            let mut tasks: Vec<String> = Vec::new();
            for d in deadlocks {
                if !victims.contains(&d.victim) {
                    victims.push(d.victim.clone());
                }
            }
            tasks.extend(victims.iter().cloned());
            for d in deadlocks {
                for t in &d.others {
                    if !tasks.contains(t) {
                        tasks.push(t.clone());
                    }
                }
            }
            return Verdict::DeadlockDetected { victims, tasks };
        }
        if !failures.is_empty() {
            return Verdict::Failed {
                failures,
                violations,
            };
        }
        violations.dedup();
        Verdict::Anomaly { violations }
    }

    /// Deadlock or stall, once some task can never move again.
    fn stuck_verdict(&self) -> Option<Verdict> {
        // Only a blocked task can be stuck: with none, the graph need not be drawn.
        let blocked = |t: &super::Task| matches!(self.task_state(t.id), TaskState::Blocked(_));
        if !self.tasks.iter().any(blocked) {
            return None;
        }
        let graph = self.wait_for_graph();
        let stuck_tasks: Vec<String> = graph
            .stuck
            .iter()
            .filter_map(|n| match n {
                WaitNode::Task(t) => Some(*t),
                _ => None,
            })
            .filter(|t| matches!(self.task_state(*t), TaskState::Blocked(_)))
            .map(|t| self.task_name(t))
            .collect();
        if stuck_tasks.is_empty() {
            return None;
        }
        if let Some(cycle) = graph.cycles().first() {
            let tasks = cycle
                .iter()
                .filter_map(|n| match n {
                    WaitNode::Task(t) => Some(self.task_name(*t)),
                    _ => None,
                })
                .collect();
            let pools = cycle
                .iter()
                .filter_map(|n| match n {
                    WaitNode::Pool(p) => self.pools.get(p.0 as usize).map(|p| p.name.clone()),
                    _ => None,
                })
                .collect();
            return Some(Verdict::Deadlock {
                kind: WaitForGraph::kind(cycle),
                tasks,
                pools,
                explanation: plain_cycle(&graph, cycle),
            });
        }
        let mut leakers: Vec<String> = Vec::new();
        for e in &graph.edges {
            if let (WaitNode::Connection(c), WaitNode::Task(holder)) = (e.from, e.to) {
                let open = self
                    .connections
                    .get(&c)
                    .is_some_and(|c| c.tx_status != super::TxStatus::Idle);
                let returned = matches!(self.tasks[holder.0 as usize].life, Life::Finished { .. });
                let name = self.task_name(holder);
                if open && returned && graph.stuck.contains(&e.from) && !leakers.contains(&name) {
                    leakers.push(name);
                }
            }
        }
        Some(Verdict::Stall {
            tasks: stuck_tasks,
            leakers,
            explanation: graph
                .edges
                .iter()
                .filter(|e| graph.stuck.contains(&e.from))
                .map(|e| e.plain.clone())
                .collect(),
        })
    }

    /// Tasks that returned an error the lesson does not expect.
    fn unexpected_failures(&self) -> Vec<(String, String)> {
        let checked = self
            .scenario()
            .invariants
            .iter()
            .any(|i| matches!(i, Invariant::NoTaskFailed { .. }));
        if !checked {
            return Vec::new();
        }
        self.tasks
            .iter()
            .filter_map(|t| match &t.life {
                Life::Finished { error: Some(e) } if !self.error_is_expected(&e.text) => {
                    Some((t.name.clone(), e.text.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// The invariants other than "no task fails" that are broken for good: any of them once
    /// the run has finished; before, only those no later step can mend.
    fn plain_violations(&self, finished: bool) -> Vec<String> {
        let mut out = Vec::new();
        for invariant in &self.scenario().invariants {
            match invariant {
                // Failures are told apart; a task that never finishes shows as a stall first.
                Invariant::NoTaskFailed { .. } | Invariant::AllTasksFinished => {}
                Invariant::NoWorkRolledBack => match self.server.transactions_rolled_back_after_work() {
                    0 => {}
                    1 => out.push("a transaction that had locked or written rows was rolled back, and its work thrown away".to_string()),
                    n => out.push(format!("{n} transactions that had locked or written rows were rolled back, and their work thrown away")),
                },
                Invariant::Recorded { task, var, equals } => {
                    for r in self
                        .records
                        .iter()
                        .filter(|r| (task == "*" || &r.task == task) && &r.var == var)
                    {
                        let value = r.value.as_deref().unwrap_or("NULL");
                        if value != equals {
                            out.push(format!("{} computes {var} = {value}, where it must be {equals}", r.task));
                        }
                    }
                    let none = !self.records.iter().any(|r| (task == "*" || &r.task == task) && &r.var == var);
                    if finished && none {
                        out.push(format!("nothing recorded {var}"));
                    }
                }
                Invariant::Sql { query, equals } => {
                    if finished {
                        match self.query_value(query) {
                            Ok(v) if v.as_deref().unwrap_or("NULL") == equals => {}
                            Ok(v) => out.push(format!(
                                "{query} gives {}, where it must give {equals}",
                                v.as_deref().unwrap_or("NULL")
                            )),
                            Err(e) => out.push(format!("{query} fails: {e}")),
                        }
                    }
                }
            }
        }
        out
    }
}

/// The plain sentences of a cycle's edges.
fn plain_cycle(graph: &WaitForGraph, cycle: &[WaitNode]) -> Vec<String> {
    graph
        .edges
        .iter()
        .filter(|e| cycle.contains(&e.from) && cycle.contains(&e.to))
        .map(|e| e.plain.clone())
        .collect()
}

/// A deadlock PostgreSQL detected: the victim and the tasks it waited for, named as they were
/// at that moment.
struct Detection {
    victim: String,
    others: Vec<String>,
}

/// Every deadlock the detector broke in a run, from its events: which task used which backend
/// is followed through the run (connections are handed from task to task by the pools).
impl Event {
    /// Whether a run's verdict reads this event later: what names the tasks behind the
    /// processes that PostgreSQL's deadlock detector reports. Other events can be dropped from
    /// the history passed to [`World::outcome`].
    pub fn shapes_the_verdict(&self) -> bool {
        matches!(
            self,
            Event::TaskStarted { .. }
                | Event::GoroutineSpawned { .. }
                | Event::ConnectionOpened { .. }
                | Event::AcquireGranted { .. }
                | Event::Server(server::Event::LockWaiting { .. })
                | Event::Server(server::Event::DeadlockCheck { .. })
        )
    }
}

fn deadlock_detections(history: &[&Event]) -> Vec<Detection> {
    let mut conn_pid = LiteMap::new_vec();
    let mut conn_task: LiteMap<super::ConnId, String> = LiteMap::new_vec();
    let mut names: LiteMap<super::schedule::TaskId, String> = LiteMap::new_vec();
    let mut waits: LiteMap<Pid, Vec<Pid>> = LiteMap::new_vec();
    let mut out = Vec::new();
    let name_of = |pid: Pid,
                   conn_pid: &LiteMap<super::ConnId, Pid>,
                   conn_task: &LiteMap<super::ConnId, String>| {
        conn_pid
            .iter()
            .find(|(_, p)| **p == pid)
            .and_then(|(c, _)| conn_task.get(c).cloned())
            .unwrap_or_else(|| format!("the session of process {pid}"))
    };
    for e in history {
        match e {
            Event::TaskStarted { task, name }
            | Event::GoroutineSpawned {
                child: task, name, ..
            } => {
                names.insert(*task, name.clone());
            }
            Event::ConnectionOpened { conn, pid, .. } => {
                conn_pid.insert(*conn, *pid);
            }
            Event::AcquireGranted { task, conn, .. } => {
                if let Some(n) = names.get(task) {
                    conn_task.insert(*conn, n.clone());
                }
            }
            Event::Server(server::Event::LockWaiting { pid, reason }) => {
                waits.insert(*pid, reason.blockers.clone());
            }
            Event::Server(server::Event::DeadlockCheck {
                pid,
                verdict: DeadlockVerdict::Deadlock { .. },
            }) => {
                let others = waits
                    .get(pid)
                    .map(|bs| {
                        bs.iter()
                            .map(|b| name_of(*b, &conn_pid, &conn_task))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Detection {
                    victim: name_of(*pid, &conn_pid, &conn_task),
                    others,
                });
            }
            _ => {}
        }
    }
    out
}
