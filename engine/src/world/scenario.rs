//! Scenarios: what a lesson file's `[scenario]` contains. Server settings, setup SQL, pools,
//! tasks with their programs, and the invariants to check at the end. Written by people in
//! TOML, so every field has a sensible default and unknown fields are errors.

use super::program::{resolve_labels, Action, Op};
use super::protocol::Client;
use super::schedule::is_valid_task_name;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A whole scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// PostgreSQL settings (`max_connections`, `deadlock_timeout`, ...).
    #[serde(default)]
    pub server: ServerSettings,
    /// SQL run before anything else: schema and seed rows.
    #[serde(default)]
    pub setup: String,
    /// The application machine's CPU count, which sets pgxpool's default MaxConns
    /// (`max(4, cpus)`).
    #[serde(default = "default_cpus")]
    pub cpus: u32,
    /// Seed of the world's pseudo-random generator (database/sql's choice of waiter).
    #[serde(default)]
    pub seed: u64,
    /// The client pools.
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    /// The tasks: requests, workers, and goroutine bodies started by `spawn`.
    pub tasks: Vec<TaskSpec>,
    /// What must hold when every task has finished.
    #[serde(default)]
    pub invariants: Vec<Invariant>,
}

fn default_cpus() -> u32 {
    4
}

/// PostgreSQL settings; unset fields keep PostgreSQL's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// `max_connections` (default 100).
    pub max_connections: Option<u32>,
    /// `superuser_reserved_connections` (default 3).
    pub superuser_reserved_connections: Option<u32>,
    /// `deadlock_timeout` in milliseconds (default 1000).
    pub deadlock_timeout_ms: Option<u64>,
    /// `lock_timeout` in milliseconds (default 0: off).
    pub lock_timeout_ms: Option<u64>,
    /// `statement_timeout` in milliseconds (default 0: off).
    pub statement_timeout_ms: Option<u64>,
    /// `idle_in_transaction_session_timeout` in milliseconds (default 0: off).
    pub idle_in_transaction_session_timeout_ms: Option<u64>,
}

/// Which driver's pool semantics a pool has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Driver {
    /// Go pgx v5 `pgxpool`: MaxConns, FIFO acquire queue, `conn busy` on concurrent use.
    #[serde(rename = "pgxpool")]
    Pgxpool,
    /// Go `database/sql` with lib/pq v1.10: unlimited by default, random waiter, a Tx pinned
    /// to one connection, protocol desynchronisation on concurrent use.
    #[serde(rename = "database/sql")]
    DatabaseSql,
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Driver::Pgxpool => "pgxpool",
            Driver::DatabaseSql => "database/sql",
        })
    }
}

/// A client pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// The name programs use in `on = ...` / `pool = ...`.
    pub name: String,
    /// The driver.
    pub driver: Driver,
    /// pgxpool `MaxConns` (default `max(4, cpus)`).
    pub max_conns: Option<u32>,
    /// database/sql `SetMaxOpenConns` (default 0: unlimited).
    pub max_open_conns: Option<u32>,
    /// database/sql `SetMaxIdleConns` (default 2).
    pub max_idle_conns: Option<u32>,
    /// The client library whose error texts a failing task shows (`pgx`, `lib/pq`,
    /// `psycopg2`, `postgrex`); by default the driver's own (pgx for pgxpool, lib/pq for
    /// database/sql). It changes no behaviour, only the words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
}

impl PoolSpec {
    /// The client library this pool's errors are reported through.
    pub fn client(&self) -> Client {
        self.client.unwrap_or(Client::of_driver(self.driver))
    }
}

/// A task: a request, worker process or goroutine body.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Its name in schedules and the UI (letters, digits, `_ - . #`).
    pub name: String,
    /// How many identical tasks to start; more than one are named `name1`, `name2`, ...
    #[serde(default = "default_count")]
    pub count: u32,
    /// When the (first) task arrives, in milliseconds of virtual time.
    #[serde(default)]
    pub arrival_ms: u64,
    /// With `count > 1`, the gap between two arrivals (a load generator).
    #[serde(default)]
    pub every_ms: u64,
    /// A server-side request timeout: the task's `request` context is cancelled this long
    /// after it arrives (like `http.TimeoutHandler`).
    pub timeout_ms: Option<u64>,
    /// A goroutine body: not started on its own, only by `spawn`.
    #[serde(default)]
    pub goroutine: bool,
    /// What it does.
    pub program: Vec<Op>,
}

fn default_count() -> u32 {
    1
}

/// What must hold at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Invariant {
    /// Every task finished (none is blocked forever).
    AllTasksFinished,
    /// Every task finished without returning an error, other than the `expected` ones: errors
    /// that are answers rather than failures (an error the handler turns into a 400).
    NoTaskFailed {
        /// Error texts that do not count as failures.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        expected: Vec<String>,
    },
    /// No transaction that had locked or written rows was rolled back: no work was thrown away
    /// (and, with a retry loop, done again). Counted from the server's record of aborted xids.
    NoWorkRolledBack,
    /// An SQL query's result (first column of the first row, or `NULL`) equals `equals`.
    Sql {
        /// The query, run on a fresh session after the run.
        query: String,
        /// The expected text of the value.
        equals: String,
    },
    /// A value recorded by a task (`op = "record"`) equals `equals`. `task = "*"` checks
    /// every task that recorded it.
    Recorded {
        /// The task's name, or `*`.
        task: String,
        /// The variable's name.
        var: String,
        /// The expected text.
        equals: String,
    },
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invariant::AllTasksFinished => f.write_str("every task finishes"),
            Invariant::NoTaskFailed { expected } if expected.is_empty() => {
                f.write_str("no task fails")
            }
            Invariant::NoTaskFailed { expected } => {
                write!(
                    f,
                    "no task fails (answering {} is not a failure)",
                    expected.join(", ")
                )
            }
            Invariant::NoWorkRolledBack => {
                f.write_str("no transaction that locked or wrote rows is rolled back")
            }
            Invariant::Sql { query, equals } => write!(f, "`{query}` = {equals}"),
            Invariant::Recorded { task, var, equals } => {
                write!(f, "{var} recorded by {task} = {equals}")
            }
        }
    }
}

/// Why a scenario is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
    /// Something in the scenario itself is wrong.
    Invalid(String),
    /// The setup SQL failed on the server.
    Setup(String),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Invalid(m) => write!(f, "invalid scenario: {m}"),
            ScenarioError::Setup(m) => write!(f, "setup SQL failed: {m}"),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Upper bounds on a scenario, so that a hostile or mistaken file cannot make the engine
/// allocate without limit.
pub use crate::limits::{PROGRAM_LENGTH_MAX, TASKS_MAX};

impl Scenario {
    /// Checks names, references and jumps; called by `World::new`.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |m: String| Err(ScenarioError::Invalid(m));
        let mut pools = BTreeSet::new();
        for pool in &self.pools {
            if !pools.insert(pool.name.as_str()) {
                return invalid(format!("pool `{}` is defined twice", pool.name));
            }
            if pool.max_conns == Some(0) {
                return invalid(format!(
                    "pool `{}`: max_conns must be at least 1",
                    pool.name
                ));
            }
            match pool.driver {
                Driver::Pgxpool if pool.max_open_conns.is_some() || pool.max_idle_conns.is_some() => {
                    return invalid(format!(
                        "pool `{}`: max_open_conns/max_idle_conns are database/sql settings; pgxpool has max_conns",
                        pool.name
                    ))
                }
                Driver::DatabaseSql if pool.max_conns.is_some() => {
                    return invalid(format!(
                        "pool `{}`: max_conns is a pgxpool setting; database/sql has max_open_conns",
                        pool.name
                    ))
                }
                _ => {}
            }
        }
        let mut names = BTreeSet::new();
        let mut total = 0u32;
        for task in &self.tasks {
            if !is_valid_task_name(&task.name) {
                return invalid(format!(
                    "task name `{}` may use only letters, digits, _ - . #",
                    task.name
                ));
            }
            if !names.insert(task.name.as_str()) {
                return invalid(format!("task `{}` is defined twice", task.name));
            }
            if task.count == 0 {
                return invalid(format!("task `{}`: count must be at least 1", task.name));
            }
            total = total.saturating_add(task.count);
            let length = program_length(&task.program);
            if length > PROGRAM_LENGTH_MAX {
                return invalid(format!(
                    "task `{}`: its program has {length} ops, more than PROGRAM_LENGTH_MAX ({PROGRAM_LENGTH_MAX})",
                    task.name
                ));
            }
            resolve_labels(&task.program)
                .map_err(|e| ScenarioError::Invalid(format!("task `{}`: {e}", task.name)))?;
        }
        if total > TASKS_MAX {
            return invalid(format!(
                "{total} tasks (counting each `count`), more than TASKS_MAX ({TASKS_MAX})"
            ));
        }
        for task in &self.tasks {
            for op in all_ops(&task.program) {
                let fail = |m: String| {
                    ScenarioError::Invalid(format!("task `{}`, line {}: {m}", task.name, op.line))
                };
                match &op.action {
                    Action::Acquire { pool, .. } if !pools.contains(pool.as_str()) => {
                        return Err(fail(format!("no pool named `{pool}`")))
                    }
                    Action::Spawn { task: child } => {
                        match self.tasks.iter().find(|t| &t.name == child) {
                            Some(t) if t.goroutine => {}
                            Some(_) => {
                                return Err(fail(format!(
                                    "`{child}` is not marked `goroutine = true`"
                                )))
                            }
                            None => return Err(fail(format!("no task named `{child}`"))),
                        }
                    }
                    _ => {}
                }
            }
        }
        if !self.tasks.iter().any(|t| !t.goroutine) {
            return invalid("no task starts on its own (all are goroutine bodies)".into());
        }
        Ok(())
    }

    /// The pool's effective pgxpool MaxConns.
    pub fn max_conns(&self, pool: &PoolSpec) -> u32 {
        pool.max_conns.unwrap_or(self.cpus.max(4))
    }
}

/// How many ops a program has, counting the bodies of `defer`s at any depth. Iterative: a
/// hostile file may nest deeply.
fn program_length(program: &[Op]) -> usize {
    let mut count = 0;
    let mut pending: Vec<&[Op]> = vec![program];
    while let Some(ops) = pending.pop() {
        count += ops.len();
        for op in ops {
            if let Action::Defer { body } = &op.action {
                pending.push(body);
            }
        }
    }
    count
}

/// Every operation of a program, including deferred bodies.
fn all_ops(program: &[Op]) -> Vec<&Op> {
    let mut ops = Vec::new();
    for op in program {
        ops.push(op);
        if let Action::Defer { body } = &op.action {
            ops.extend(body.iter());
        }
    }
    ops
}
