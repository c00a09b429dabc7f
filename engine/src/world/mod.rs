//! The world: the simulated PostgreSQL server together with the application side (pools,
//! connections with their protocol message streams, tasks), the virtual clock and a seeded
//! pseudo-random generator. It is one plain value; only [`World::step`] changes it.
//!
//! A step runs one task by one unit (an operation, a message read, or one unit of its
//! backend's work on the server) or advances the clock to the next timer. Which steps are
//! possible is [`World::choices`]; what a blocked task waits for is derived from the state
//! ([`World::block_reason`]), and so is the wait-for graph ([`World::wait_for_graph`]).

mod backend;
pub mod beat;
mod driver;
pub mod event;
pub mod graph;
pub mod guess;
mod invariants;
pub mod moments;
pub mod outcome;
pub mod plain;
pub mod pool;
pub mod program;
pub mod protocol;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod scheduler;
mod setups;
#[cfg(any(test, debug_assertions))]
mod structure;
mod symmetry;
pub mod task;
pub mod view;

#[cfg(test)]
mod tests;

pub use beat::Taken;
pub use event::{Event, Significance};
pub use graph::{WaitForGraph, WaitNode};
pub use guess::Guess;
pub use moments::KeyMoment;
pub use outcome::{Outcome, Verdict};
pub use pool::Pool;
pub use program::{Action, Comparison, Isolation, Op, When};
pub use protocol::{Backend, Frontend, TxStatus};
pub use scenario::{
    Driver, Invariant, PoolSpec, Scenario, ScenarioError, ServerSettings, TaskSpec,
};
pub use schedule::{Choice, Move, Schedule, ScheduleParseError, TaskId};
pub use setups::Setups;
pub use view::{BlockReason, ConnectionView, PoolView, SlotView, TaskState, TaskView};

use crate::server::{Pid, Server};
use crate::time::{Duration, Instant};
use litemap::LiteMap;
use rng::SplitMix64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use task::{Context, Life, Pc, Rows, Task, Transaction, Var};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, " {}"), self.0)
            }
        }
    };
}

id_type!(
    /// A client connection (one socket, one server session).
    ConnId,
    "conn"
);
id_type!(
    /// A pool, by its index in the scenario.
    PoolId,
    "pool"
);
id_type!(
    /// A client-side transaction handle.
    TxId,
    "tx"
);
id_type!(
    /// A rows cursor.
    RowsId,
    "rows"
);
id_type!(
    /// A context.Context.
    ContextId,
    "ctx"
);

/// Immutable data shared by every clone of a world (the scenario and its label tables):
/// compared by content, not hashed (it is the same for all states of one exploration), and
/// serialized inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared<T>(pub Arc<T>);

impl<T> std::hash::Hash for Shared<T> {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shared<T>, D::Error> {
        T::deserialize(d).map(|t| Shared(Arc::new(t)))
    }
}

/// A client connection: a socket to one server session, with a message queue each way.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Connection {
    /// Its id.
    pub id: ConnId,
    /// The pool it belongs to.
    pub pool: PoolId,
    /// The server process (backend) behind it.
    pub pid: Pid,
    /// Frontend → backend messages not yet processed by the backend.
    pub to_backend: VecDeque<Frontend>,
    /// Backend → frontend messages not yet read by the client.
    pub to_frontend: VecDeque<Backend>,
    /// lib/pq's `saveMessage`: a reply read ahead by `postExecuteWorkaround`.
    pub saved: Option<Backend>,
    /// What the backend is doing.
    pub backend: BackendState,
    /// The SQL of the unnamed statement (Parse).
    pub statement: Option<String>,
    /// The SQL of the unnamed portal, arguments bound (Bind).
    pub portal: Option<String>,
    /// The driver has marked it bad: it will not be used again.
    pub bad: bool,
    /// Checked out of its pool by this task.
    pub holder: Option<TaskId>,
    /// database/sql's per-connection mutex, held for one driver call.
    pub locked_by: Option<TaskId>,
    /// pgx: a call or unclosed rows occupy it (`conn busy`).
    pub busy: bool,
    /// The transaction status of the last ReadyForQuery the client read.
    pub tx_status: TxStatus,
    /// The server session has ended (terminated by the server).
    pub terminated: bool,
}

/// What a connection's backend is doing with its frontend messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BackendState {
    /// Processing messages as they come.
    Ready,
    /// Running a statement on the server: `simple` for a Query ('Q'), else an Execute;
    /// `row_by_row` when it may lock rows one at a time (then each unit of its work is a
    /// step, so other tasks can interleave between two row locks), else it runs to
    /// completion (or to a lock wait) in one step.
    Executing { simple: bool, row_by_row: bool },
    /// After an error in an extended-query series: discarding messages until Sync.
    Skipping,
}

/// A value a task recorded for the invariants.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Record {
    /// The task's name.
    pub task: String,
    /// The variable's name.
    pub var: String,
    /// Its value.
    pub value: Option<String>,
}

/// The whole simulated system.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct World {
    scenario: Shared<Scenario>,
    labels: Shared<Vec<LiteMap<String, usize>>>,
    /// The PostgreSQL server.
    pub(crate) server: Server,
    /// The virtual clock.
    pub(crate) now: Instant,
    rng: SplitMix64,
    /// The pools, in scenario order.
    pub(crate) pools: Vec<Pool>,
    /// Open connections.
    pub(crate) connections: LiteMap<ConnId, Connection>,
    /// Every task, in id order.
    pub(crate) tasks: Vec<Task>,
    /// Transaction handles.
    pub(crate) transactions: LiteMap<TxId, Transaction>,
    /// Rows cursors.
    pub(crate) rows: LiteMap<RowsId, Rows>,
    /// Contexts, by id.
    pub(crate) contexts: Vec<Context>,
    /// Values recorded for the invariants.
    pub(crate) records: Vec<Record>,
    next_conn: u32,
}

/// A choice that cannot be taken now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepError {
    /// No such task.
    UnknownTask(TaskId),
    /// The task cannot run (blocked or finished), or Tick while a task can run or with no
    /// timer pending.
    NotEnabled(Choice),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::UnknownTask(t) => write!(f, "no {t}"),
            StepError::NotEnabled(Choice::Task(t)) => write!(f, "{t} cannot run now"),
            StepError::NotEnabled(Choice::Tick) => f.write_str("the clock cannot advance now"),
        }
    }
}

impl std::error::Error for StepError {}

/// Why a replay failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The scenario is invalid.
    Scenario(ScenarioError),
    /// Move `index` (0-based) names no task; `known` are the tasks there are.
    UnknownTask {
        index: usize,
        name: String,
        known: Vec<String>,
    },
    /// Move `index`, written `name`, is not enabled at that point.
    NotEnabled {
        index: usize,
        name: String,
        error: StepError,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Scenario(e) => write!(f, "{e}"),
            ReplayError::UnknownTask { index, name, known } => write!(
                f,
                "move {}: no task named `{name}`; the tasks are {}",
                index + 1,
                known.join(", ")
            ),
            // Named as the schedule writes it, not by the task's index.
            ReplayError::NotEnabled {
                index,
                name,
                error: StepError::NotEnabled(Choice::Task(_)),
            } => write!(
                f,
                "move {}: {name} cannot run now (it waits or has finished)",
                index + 1
            ),
            ReplayError::NotEnabled { index, error, .. } => {
                write!(f, "move {}: {error}", index + 1)
            }
        }
    }
}

impl std::error::Error for ReplayError {}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Some task can run, or a timer is pending.
    Running,
    /// Every task has returned; `invariant_violations` says which invariants do not hold.
    Finished { invariant_violations: Vec<String> },
    /// Nothing can run, no timer is pending, and the tasks wait for each other in a cycle
    /// (pool starvation, or a cycle through the pool and the database that PostgreSQL cannot
    /// see). One sentence per edge.
    Deadlock {
        tasks: Vec<TaskId>,
        explanation: Vec<String>,
    },
    /// Nothing can run and no timer is pending, without a cycle: the tasks wait for something
    /// that will never happen (a lock held by a transaction nobody will end).
    Stall { explanation: Vec<String> },
}

/// The longest run `replay` accepts, so that a hostile schedule cannot run without end.
pub use crate::limits::SCHEDULE_LENGTH_MAX;

impl World {
    /// A world at the start of `scenario`: setup SQL run, pools empty, tasks not yet arrived.
    pub fn new(scenario: &Scenario) -> Result<World, ScenarioError> {
        World::new_with(scenario, &mut Setups::new())
    }

    /// [`World::new`], starting from a copy of a server `setups` has already set up the same
    /// way, if it has one: for building many worlds of one lesson.
    pub fn new_with(scenario: &Scenario, setups: &mut Setups) -> Result<World, ScenarioError> {
        scenario.validate()?;
        let server = setups.server_for(scenario)?;
        let pools = scenario
            .pools
            .iter()
            .map(|spec| match spec.driver {
                Driver::Pgxpool => Pool::new(
                    spec.name.clone(),
                    Driver::Pgxpool,
                    Some(scenario.max_conns(spec)),
                    None,
                ),
                Driver::DatabaseSql => {
                    let max_open = spec.max_open_conns.filter(|&n| n > 0);
                    // SetMaxIdleConns: reduced to MaxOpenConns when that is lower.
                    let mut max_idle = spec.max_idle_conns.unwrap_or(2);
                    if let Some(open) = max_open {
                        max_idle = max_idle.min(open);
                    }
                    Pool::new(
                        spec.name.clone(),
                        Driver::DatabaseSql,
                        max_open,
                        Some(max_idle),
                    )
                }
            })
            .collect();
        let labels = scenario
            .tasks
            .iter()
            .map(|t| program::resolve_labels(&t.program).unwrap_or_default())
            .collect();
        let mut world = World {
            scenario: Shared(Arc::new(scenario.clone())),
            labels: Shared(Arc::new(labels)),
            server,
            now: Instant::START,
            rng: SplitMix64::new(scenario.seed),
            pools,
            connections: LiteMap::new_vec(),
            tasks: Vec::new(),
            transactions: LiteMap::new_vec(),
            rows: LiteMap::new_vec(),
            contexts: Vec::new(),
            records: Vec::new(),
            next_conn: 0,
        };
        for (spec_index, spec) in scenario.tasks.iter().enumerate() {
            if spec.goroutine {
                continue;
            }
            for i in 0..spec.count {
                let name = if spec.count > 1 {
                    format!("{}{}", spec.name, i + 1)
                } else {
                    spec.name.clone()
                };
                if world.tasks.iter().any(|t| t.name == name)
                    || scenario
                        .tasks
                        .iter()
                        .any(|t| t.name == name && spec.count > 1)
                {
                    return Err(ScenarioError::Invalid(format!(
                        "task name `{name}` (an instance of `{}`) is already taken",
                        spec.name
                    )));
                }
                let arrival = Instant::START
                    + Duration::from_millis(spec.arrival_ms + u64::from(i) * spec.every_ms);
                let deadline = spec
                    .timeout_ms
                    .map(|ms| arrival + Duration::from_millis(ms));
                world.add_task(
                    name,
                    spec_index,
                    None,
                    arrival,
                    deadline,
                    LiteMap::new_vec(),
                );
            }
        }
        Ok(world)
    }

    /// Replays `schedule` from the start of `scenario`, returning the world and every event.
    pub fn replay(
        scenario: &Scenario,
        schedule: &Schedule,
    ) -> Result<(World, Vec<Event>), ReplayError> {
        let mut world = World::new(scenario).map_err(ReplayError::Scenario)?;
        let mut events = Vec::new();
        for (index, m) in schedule.0.iter().enumerate().take(SCHEDULE_LENGTH_MAX) {
            let choice = match m {
                Move::Tick => Choice::Tick,
                Move::Task(name) => match world.task_named(name) {
                    Some(id) => Choice::Task(id),
                    None => {
                        return Err(ReplayError::UnknownTask {
                            index,
                            name: name.clone(),
                            known: world.tasks.iter().map(|t| t.name.clone()).collect(),
                        })
                    }
                },
            };
            let step_events = world
                .step(choice)
                .map_err(|error| ReplayError::NotEnabled {
                    index,
                    name: m.to_string(),
                    error,
                })?;
            events.extend(step_events);
        }
        Ok((world, events))
    }

    /// The scenario this world runs.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario.0
    }

    /// The task with this name.
    pub fn task_named(&self, name: &str) -> Option<TaskId> {
        self.tasks.iter().find(|t| t.name == name).map(|t| t.id)
    }

    /// How a choice is written in a schedule.
    pub fn move_of(&self, choice: Choice) -> Move {
        match choice {
            Choice::Task(t) => Move::Task(self.tasks[t.0 as usize].name.clone()),
            Choice::Tick => Move::Tick,
        }
    }

    /// The enabled choices: runnable tasks in id order, or `Tick` when none can run and a
    /// timer is pending.
    pub fn choices(&self) -> Vec<Choice> {
        let runnable: Vec<Choice> = self
            .tasks
            .iter()
            .filter(|t| self.task_state(t.id) == TaskState::Runnable)
            .map(|t| Choice::Task(t.id))
            .collect();
        if runnable.is_empty() && self.next_timer().is_some() && !self.all_finished() {
            vec![Choice::Tick]
        } else {
            runnable
        }
    }

    /// Takes one step.
    pub fn step(&mut self, choice: Choice) -> Result<Vec<Event>, StepError> {
        let mut events = Vec::new();
        match choice {
            Choice::Task(t) => {
                if t.0 as usize >= self.tasks.len() {
                    return Err(StepError::UnknownTask(t));
                }
                if self.task_state(t) != TaskState::Runnable {
                    return Err(StepError::NotEnabled(choice));
                }
                let was_finished = self.all_finished();
                self.step_task(t, &mut events);
                self.settle(&mut events);
                if !was_finished && self.all_finished() {
                    self.report_invariants(&mut events);
                }
                if let TaskState::Blocked(reason) = self.task_state(t) {
                    let name = self.tasks[t.0 as usize].name.clone();
                    events.push(Event::TaskBlocked {
                        task: t,
                        name,
                        reason,
                    });
                }
            }
            Choice::Tick => {
                if !self.choices().contains(&Choice::Tick) {
                    return Err(StepError::NotEnabled(choice));
                }
                let Some(at) = self.next_timer() else {
                    return Err(StepError::NotEnabled(choice));
                };
                self.now = at;
                events.push(Event::ClockAdvanced { to: at });
                let mut server_events = Vec::new();
                self.server.fire_timers(at, &mut server_events);
                events.extend(server_events.into_iter().map(Event::Server));
                self.settle(&mut events);
                if self.all_finished() {
                    self.report_invariants(&mut events);
                }
            }
        }
        // Debug builds (the tests) check the engine's own invariants after every step; release
        // builds, the command line and the browser pay nothing.
        #[cfg(debug_assertions)]
        self.assert_structure();
        Ok(events)
    }

    /// Where the run stands.
    pub fn status(&self) -> Status {
        if self.all_finished() {
            return Status::Finished {
                invariant_violations: self.invariant_violations(),
            };
        }
        if !self.choices().is_empty() {
            return Status::Running;
        }
        let graph = self.wait_for_graph();
        let cycles = graph.cycles();
        if let Some(cycle) = cycles.first() {
            let tasks = cycle
                .iter()
                .filter_map(|n| match n {
                    WaitNode::Task(t) => Some(*t),
                    _ => None,
                })
                .collect();
            return Status::Deadlock {
                tasks,
                explanation: graph.explain_cycle(cycle),
            };
        }
        let mut explanation = vec![
            "nothing can run and no timer is pending: every unfinished task waits for something that will never happen"
                .to_string(),
        ];
        explanation.extend(graph.explain());
        Status::Stall { explanation }
    }

    /// Every task as the UI shows it.
    pub fn task_views(&self) -> Vec<TaskView> {
        self.tasks
            .iter()
            .map(|t| TaskView {
                id: t.id,
                name: t.name.clone(),
                state: self.task_state(t.id),
                line: self.current_op(t.id).map(|op| op.line),
                connections: self.held_connections(t.id),
            })
            .collect()
    }

    /// What a task waits for, if it is blocked.
    pub fn block_reason(&self, task: TaskId) -> Option<BlockReason> {
        match self.task_state(task) {
            TaskState::Blocked(reason) => Some(reason),
            _ => None,
        }
    }

    /// The next moment something is due: an arrival, a wake-up, a context deadline, or a
    /// server timer, strictly after now.
    pub fn next_timer(&self) -> Option<Instant> {
        let mut next: Option<Instant> = self.server.next_timer().filter(|&t| t > self.now);
        let mut consider = |t: Instant| {
            if t > self.now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for task in &self.tasks {
            if !task.started && matches!(task.life, Life::Running) {
                consider(task.arrival);
            }
            if let Some(w) = task.wake_at {
                consider(w);
            }
        }
        for (index, ctx) in self.contexts.iter().enumerate() {
            if let Some(d) = ctx.deadline {
                if self.context_error(ContextId(index as u32)).is_none() {
                    consider(d);
                }
            }
        }
        next
    }

    /// Whether every task has returned.
    pub fn all_finished(&self) -> bool {
        self.tasks
            .iter()
            .all(|t| matches!(t.life, Life::Finished { .. }))
    }

    /// The current operation of a task (the last one when it has finished).
    pub fn current_op(&self, task: TaskId) -> Option<&Op> {
        let t = &self.tasks[task.0 as usize];
        let program = &self.scenario.0.tasks[t.spec].program;
        match t.pc {
            Pc::Main(i) => program.get(i).or(program.last()),
            Pc::Deferred { defer_op, pos } => match &program[defer_op].action {
                Action::Defer { body } => body.get(pos),
                _ => None,
            },
        }
    }

    /// The connections a task holds: acquired, pinned by its transactions, or streaming its
    /// rows.
    pub fn held_connections(&self, task: TaskId) -> Vec<ConnId> {
        self.connections
            .values()
            .filter(|c| c.holder == Some(task))
            .map(|c| c.id)
            .collect()
    }

    /// Whether the task's next step touches only its own state (no pool, connection, server,
    /// clock or other task). Such operations normally ride along with the step before them;
    /// this is true only for a task that has not started or whose previous step could not
    /// take them (an explorer may treat such a step as independent of all others).
    pub fn next_step_is_local(&self, task: TaskId) -> bool {
        self.next_op_is_local(task)
    }

    /// The error a context has ended with, if it has.
    pub fn context_error(&self, ctx: ContextId) -> Option<&'static str> {
        let mut current = Some(ctx);
        while let Some(id) = current {
            let c = &self.contexts[id.0 as usize];
            if c.cancelled {
                return Some("context canceled");
            }
            if c.deadline.is_some_and(|d| d <= self.now) {
                return Some("context deadline exceeded");
            }
            current = c.parent;
        }
        None
    }

    fn add_task(
        &mut self,
        name: String,
        spec: usize,
        parent: Option<TaskId>,
        arrival: Instant,
        deadline: Option<Instant>,
        vars: LiteMap<String, Var>,
    ) -> TaskId {
        let id = TaskId(self.tasks.len() as u32);
        // A goroutine's closure sees its parent's request context.
        let request_context = match parent {
            Some(p) => self.tasks[p.0 as usize].request_context,
            None => {
                self.contexts.push(Context {
                    parent: None,
                    deadline,
                    cancelled: false,
                    owner: id,
                });
                ContextId(self.contexts.len() as u32 - 1)
            }
        };
        self.tasks.push(Task {
            id,
            name,
            spec,
            parent,
            arrival,
            started: false,
            pc: Pc::Main(0),
            life: Life::Running,
            err: None,
            returning: None,
            defers: Vec::new(),
            vars,
            call: None,
            wake_at: None,
            children: Vec::new(),
            group_error: None,
            request_context,
        });
        id
    }
}
