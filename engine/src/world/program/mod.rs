//! Programs: what a task does, as a flat list of client operations with labels and jumps.
//!
//! The instruction set is small, orthogonal and data-only, so lesson authors can write it by
//! hand in TOML, one operation per line:
//!
//! ```toml
//! program = [
//!   { line = 3, op = "query", on = "db", sql = "SELECT id FROM orders", rows = "orders" },
//!   { line = 4, op = "next", rows = "orders", done = "end", label = "loop" },
//!   { line = 5, op = "query-row", on = "db", sql = "SELECT count(*) FROM item", into = ["n"] },
//!   { line = 4, op = "goto", to = "loop" },
//!   { line = 9, op = "return", label = "end" },
//! ]
//! ```
//!
//! Every operation carries `line`, the line of the lesson's code listing it stands for, so the
//! UI can highlight it. A fallible operation sets the task's `err` (Go's `err` variable) and, on
//! failure, returns from the task with that error (the ubiquitous `if err != nil { return err }`)
//! unless `on_error` names a label to jump to instead (or `"continue"`). Values written `$name`
//! refer to variables: query arguments, `return` errors and `if` operands (`$err` and
//! `$sqlstate` are the current error's text and SQLSTATE). `tx.Rollback()` leaves `err` alone,
//! as Go code ignores its result. Every operation may also take `label`, `when`
//! (`always` | `error` | `ok`) and `on_error`.
//!
//! | `op` | fields (defaults) | Go |
//! |---|---|---|
//! | `acquire` | `pool`, `conn` (`conn`), `context` | `conn, err := pool.Acquire(ctx)` |
//! | `release` | `conn` (`conn`) | `conn.Release()` |
//! | `query` | `on`, `sql`, `args`, `rows` (`rows`), `context` | `rows, err := on.Query(ctx, sql, args...)` |
//! | `query-row` | `on`, `sql`, `args`, `into`, `context` | `on.QueryRow(ctx, sql, args...).Scan(&into...)` |
//! | `exec` | `on`, `sql`, `args`, `context` | `_, err := on.Exec(ctx, sql, args...)` |
//! | `next` | `rows` (`rows`), `done` | `for rows.Next() {` (jumps to `done` at the end) |
//! | `scan` | `rows` (`rows`), `into` | `rows.Scan(&into...)` |
//! | `close` | `rows` (`rows`) | `rows.Close()` |
//! | `collect` | `rows` (`rows`), `into` | `list, err := pgx.CollectRows(rows, ...)` |
//! | `begin` | `on`, `tx` (`tx`), `isolation`, `context` | `tx, err := on.BeginTx(ctx, opts)` |
//! | `commit` / `rollback` | `tx` (`tx`) | `tx.Commit(ctx)` / `tx.Rollback(ctx)` |
//! | `spawn` / `wait` | `task` / — | `g.Go(func() error {...})` / `err := g.Wait()` |
//! | `defer` | `body` (operations without jumps) | `defer ...` |
//! | `return` | `error` (nil) | `return err` |
//! | `sleep` | `ms` | `time.Sleep(ms)` |
//! | `context` / `cancel` | `name`, `timeout_ms`, `parent` (`request`) / `context` | `ctx, cancel := context.WithTimeout(parent, t)` / `cancel()` |
//! | `record` | `var` | (a value the scenario's invariants check) |
//! | `add` | `into`, `of` | `into := a + b` |
//! | `if` | `var`, `is` (`eq` `ne` `lt` `le` `gt` `ge` `null` `not-null`), `value`, `to` | `if var == value { goto to }` |
//! | `goto` | `to` | loops |
//!
//! `on` names a pool (the call acquires and releases a connection itself, like `pool.Query`),
//! or a variable holding a transaction or an acquired connection. The context `request` is the
//! request's own (`r.Context()`): cancelled when the request's task returns, or when its
//! scenario `timeout_ms` passes.

use serde::{Deserialize, Serialize};

mod raw;
#[cfg(test)]
mod tests;

pub use raw::{Names, OpError, RawOp, OPERATION_NAMES};

/// When an operation runs; mostly useful inside `defer` bodies
/// (`defer func() { if err != nil { tx.Rollback() } }()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// Always.
    #[default]
    Always,
    /// Only when the task's `err` is set.
    Error,
    /// Only when the task's `err` is nil.
    Ok,
}

/// A transaction isolation level requested by `begin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// READ COMMITTED (PostgreSQL's default).
    ReadCommitted,
    /// REPEATABLE READ: one snapshot for the whole transaction.
    RepeatableRead,
    /// SERIALIZABLE.
    Serializable,
}

impl Isolation {
    /// The level as SQL spells it.
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// A comparison used by `if`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    /// Equal (numerically when both sides are integers, else as text).
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// The variable is NULL / nil (no `value`).
    Null,
    /// The variable is not NULL / nil (no `value`).
    NotNull,
}

/// One operation of a program.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawOp", into = "RawOp")]
pub struct Op {
    /// The line of the lesson's code listing this operation stands for.
    pub line: u32,
    /// A name other operations can jump to.
    pub label: Option<String>,
    /// When the operation runs at all.
    pub when: When,
    /// Where to go when the operation fails: a label, or `continue` for the next operation.
    /// Unset means return from the task with the error.
    pub on_error: Option<String>,
    /// What the operation does.
    pub action: Action,
}

/// What an operation does. `on` names a pool, or a variable holding a transaction or an
/// acquired connection; `rows`, `tx`, `conn` and `into` name variables.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `conn, err := pool.Acquire(ctx)` (pgxpool) or `db.Conn(ctx)` (database/sql).
    Acquire {
        pool: String,
        conn: String,
        context: Option<String>,
    },
    /// `conn.Release()` / `conn.Close()`: give an acquired connection back to its pool.
    Release { conn: String },
    /// `rows, err := on.Query(ctx, sql, args...)`: the rows keep their connection until they
    /// are fully read or closed.
    Query {
        on: String,
        sql: String,
        args: Vec<String>,
        rows: String,
        context: Option<String>,
    },
    /// `on.QueryRow(ctx, sql, args...).Scan(&into...)`.
    QueryRow {
        on: String,
        sql: String,
        args: Vec<String>,
        into: Vec<String>,
        context: Option<String>,
    },
    /// `_, err := on.Exec(ctx, sql, args...)`.
    Exec {
        on: String,
        sql: String,
        args: Vec<String>,
        context: Option<String>,
    },
    /// `for rows.Next()`: jump to `done` when there is no next row.
    Next { rows: String, done: String },
    /// `rows.Scan(&into...)`: copy the current row's columns into variables.
    Scan { rows: String, into: Vec<String> },
    /// `rows.Close()`.
    Close { rows: String },
    /// `list, err := pgx.CollectRows(rows, ...)`: read every row into memory and close the
    /// rows; `into` is then an in-memory list that `next`/`scan` iterate without I/O.
    Collect { rows: String, into: String },
    /// `tx, err := on.BeginTx(ctx, opts)`.
    Begin {
        on: String,
        tx: String,
        isolation: Option<Isolation>,
        context: Option<String>,
    },
    /// `err := tx.Commit()`.
    Commit { tx: String },
    /// `tx.Rollback()`, its result ignored as Go code does: `err` keeps its value.
    Rollback { tx: String },
    /// `g.Go(func() error { ... })`: start the goroutine task `task` of the scenario, with a
    /// copy of this task's variables (what its closure captures).
    Spawn { task: String },
    /// `err := g.Wait()`: wait for every goroutine spawned since the last wait; `err` is the
    /// first error any of them returned, and their variables are copied back.
    Wait,
    /// `defer ...`: run `body` when the task returns (deferred bodies run last-in first-out).
    Defer { body: Vec<Op> },
    /// `return` (with `error`, a message or `$err`, or nil).
    Return { error: Option<String> },
    /// `time.Sleep(ms)`.
    Sleep { ms: u64 },
    /// `ctx, cancel := context.WithTimeout(parent, timeout)` (or `WithCancel` without a
    /// timeout). The parent defaults to the request's context, `request`.
    Context {
        name: String,
        timeout_ms: Option<u64>,
        parent: Option<String>,
    },
    /// `cancel()`.
    Cancel { context: String },
    /// Record a variable's value for the scenario's invariants (`[[invariants]] check = "recorded"`).
    Record { var: String },
    /// `into = of[0] + of[1] + ...` on integers.
    Add { into: String, of: Vec<String> },
    /// `if var <is> value { goto to }`; `var` may also be `err` or `sqlstate`.
    If {
        var: String,
        is: Comparison,
        value: Option<String>,
        to: String,
    },
    /// Jump to a label.
    Goto { to: String },
}

impl Action {
    /// The operation's name as written in a program (`op = "..."`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Acquire { .. } => "acquire",
            Action::Release { .. } => "release",
            Action::Query { .. } => "query",
            Action::QueryRow { .. } => "query-row",
            Action::Exec { .. } => "exec",
            Action::Next { .. } => "next",
            Action::Scan { .. } => "scan",
            Action::Close { .. } => "close",
            Action::Collect { .. } => "collect",
            Action::Begin { .. } => "begin",
            Action::Commit { .. } => "commit",
            Action::Rollback { .. } => "rollback",
            Action::Spawn { .. } => "spawn",
            Action::Wait => "wait",
            Action::Defer { .. } => "defer",
            Action::Return { .. } => "return",
            Action::Sleep { .. } => "sleep",
            Action::Context { .. } => "context",
            Action::Cancel { .. } => "cancel",
            Action::Record { .. } => "record",
            Action::Add { .. } => "add",
            Action::If { .. } => "if",
            Action::Goto { .. } => "goto",
        }
    }

    /// Labels this action may jump to.
    pub fn targets(&self) -> Vec<&str> {
        match self {
            Action::Next { done, .. } => vec![done],
            Action::If { to, .. } | Action::Goto { to } => vec![to],
            _ => vec![],
        }
    }
}

/// Checks a program's labels: unique, and every jump target defined. Returns the label table.
pub fn resolve_labels(program: &[Op]) -> Result<litemap::LiteMap<String, usize>, OpError> {
    let mut labels = litemap::LiteMap::new_vec();
    for (index, op) in program.iter().enumerate() {
        if let Some(label) = &op.label {
            if labels.insert(label.clone(), index).is_some() {
                return Err(OpError(format!(
                    "label `{label}` is defined twice (line {})",
                    op.line
                )));
            }
        }
    }
    for op in program {
        let mut targets = op.action.targets();
        if let Some(on_error) = &op.on_error {
            if on_error != "continue" {
                targets.push(on_error);
            }
        }
        for target in targets {
            if !labels.contains_key(target) {
                return Err(OpError(format!(
                    "`{}` at line {} jumps to `{target}`, which no operation is labelled",
                    op.action.name(),
                    op.line
                )));
            }
        }
        if let Action::Defer { body } = &op.action {
            for inner in body {
                if !inner.action.targets().is_empty()
                    || matches!(inner.action, Action::Defer { .. })
                {
                    return Err(OpError(format!(
                        "a deferred body cannot jump or defer (`{}` at line {})",
                        inner.action.name(),
                        inner.line
                    )));
                }
            }
        }
    }
    Ok(labels)
}
