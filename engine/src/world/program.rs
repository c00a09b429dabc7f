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
use std::fmt;

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

/// The serde shape of an operation: every field optional, unknown fields rejected, and the
/// per-operation requirements checked in `TryFrom`, so a typo in a lesson file is an error at
/// its line instead of a silently ignored field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOp {
    /// The operation's name.
    pub op: String,
    /// The listing line.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(default, skip_serializing_if = "is_always")]
    when: When,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sql: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    into: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    done: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tx: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    isolation: Option<Isolation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Vec<Op>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    var: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
}

fn is_always(when: &When) -> bool {
    *when == When::Always
}

/// One variable name or several: `into = "x"` or `into = ["x", "y"]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Names {
    /// A single name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n],
            Names::Many(ns) => ns,
        }
    }
}

/// Why an operation in a program is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError(pub String);

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpError {}

/// The operations `op` may name, for error messages.
pub const OPERATION_NAMES: &[&str] = &[
    "acquire",
    "release",
    "query",
    "query-row",
    "exec",
    "next",
    "scan",
    "close",
    "collect",
    "begin",
    "commit",
    "rollback",
    "spawn",
    "wait",
    "defer",
    "return",
    "sleep",
    "context",
    "cancel",
    "record",
    "add",
    "if",
    "goto",
];

impl TryFrom<RawOp> for Op {
    type Error = OpError;

    fn try_from(raw: RawOp) -> Result<Op, OpError> {
        let op_name = raw.op.clone();
        let missing = |field: &str| OpError(format!("`{op_name}` needs `{field}`"));
        let mut used: Vec<&'static str> = Vec::new();
        macro_rules! take {
            ($field:ident) => {{
                used.push(stringify!($field));
                raw.$field
                    .clone()
                    .ok_or_else(|| missing(stringify!($field)))?
            }};
        }
        macro_rules! opt {
            ($field:ident) => {{
                used.push(stringify!($field));
                raw.$field.clone()
            }};
        }
        macro_rules! or {
            ($field:ident, $default:expr) => {{
                used.push(stringify!($field));
                raw.$field.clone().unwrap_or_else(|| $default.to_string())
            }};
        }
        let action = match raw.op.as_str() {
            "acquire" => Action::Acquire {
                pool: take!(pool),
                conn: or!(conn, "conn"),
                context: opt!(context),
            },
            "release" => Action::Release {
                conn: or!(conn, "conn"),
            },
            "query" => Action::Query {
                on: take!(on),
                sql: take!(sql),
                args: {
                    used.push("args");
                    raw.args.clone()
                },
                rows: or!(rows, "rows"),
                context: opt!(context),
            },
            "query-row" => Action::QueryRow {
                on: take!(on),
                sql: take!(sql),
                args: {
                    used.push("args");
                    raw.args.clone()
                },
                into: opt!(into).map(Names::into_vec).unwrap_or_default(),
                context: opt!(context),
            },
            "exec" => Action::Exec {
                on: take!(on),
                sql: take!(sql),
                args: {
                    used.push("args");
                    raw.args.clone()
                },
                context: opt!(context),
            },
            "next" => Action::Next {
                rows: or!(rows, "rows"),
                done: take!(done),
            },
            "scan" => Action::Scan {
                rows: or!(rows, "rows"),
                into: take!(into).into_vec(),
            },
            "close" => Action::Close {
                rows: or!(rows, "rows"),
            },
            "collect" => {
                let into = match opt!(into) {
                    Some(Names::One(n)) => n,
                    Some(Names::Many(_)) => {
                        return Err(OpError("`collect` needs one `into` name".into()))
                    }
                    None => return Err(missing("into")),
                };
                Action::Collect {
                    rows: or!(rows, "rows"),
                    into,
                }
            }
            "begin" => Action::Begin {
                on: take!(on),
                tx: or!(tx, "tx"),
                isolation: opt!(isolation),
                context: opt!(context),
            },
            "commit" => Action::Commit { tx: or!(tx, "tx") },
            "rollback" => Action::Rollback { tx: or!(tx, "tx") },
            "spawn" => Action::Spawn { task: take!(task) },
            "wait" => Action::Wait,
            "defer" => Action::Defer { body: take!(body) },
            "return" => Action::Return { error: opt!(error) },
            "sleep" => Action::Sleep { ms: take!(ms) },
            "context" => Action::Context {
                name: take!(name),
                timeout_ms: opt!(timeout_ms),
                parent: opt!(parent),
            },
            "cancel" => Action::Cancel {
                context: take!(context),
            },
            "record" => Action::Record { var: take!(var) },
            "add" => {
                let into = match take!(into) {
                    Names::One(n) => n,
                    Names::Many(_) => return Err(OpError("`add` needs one `into` name".into())),
                };
                Action::Add {
                    into,
                    of: take!(of),
                }
            }
            "if" => {
                let is = take!(is);
                let value = opt!(value);
                if matches!(is, Comparison::Null | Comparison::NotNull) != value.is_none() {
                    return Err(OpError(
                        "`if` needs a `value` for eq/ne/lt/le/gt/ge and none for null/not-null"
                            .into(),
                    ));
                }
                Action::If {
                    var: take!(var),
                    is,
                    value,
                    to: take!(to),
                }
            }
            "goto" => Action::Goto { to: take!(to) },
            other => {
                return Err(OpError(format!(
                    "unknown operation `{other}`; expected one of: {}",
                    OPERATION_NAMES.join(", ")
                )))
            }
        };
        // A field that this operation does not read is almost certainly a mistake.
        let present = raw.present_fields();
        if let Some(extra) = present.iter().find(|f| !used.contains(f)) {
            return Err(OpError(format!("`{}` does not take `{extra}`", raw.op)));
        }
        Ok(Op {
            line: raw.line,
            label: raw.label,
            when: raw.when,
            on_error: raw.on_error,
            action,
        })
    }
}

impl RawOp {
    /// The operation-specific fields that are set.
    fn present_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let checks: [(&'static str, bool); 23] = [
            ("pool", self.pool.is_some()),
            ("on", self.on.is_some()),
            ("conn", self.conn.is_some()),
            ("sql", self.sql.is_some()),
            ("args", !self.args.is_empty()),
            ("rows", self.rows.is_some()),
            ("into", self.into.is_some()),
            ("context", self.context.is_some()),
            ("done", self.done.is_some()),
            ("tx", self.tx.is_some()),
            ("isolation", self.isolation.is_some()),
            ("task", self.task.is_some()),
            ("body", self.body.is_some()),
            ("error", self.error.is_some()),
            ("ms", self.ms.is_some()),
            ("name", self.name.is_some()),
            ("timeout_ms", self.timeout_ms.is_some()),
            ("parent", self.parent.is_some()),
            ("var", self.var.is_some()),
            ("of", self.of.is_some()),
            ("is", self.is.is_some()),
            ("value", self.value.is_some()),
            ("to", self.to.is_some()),
        ];
        for (name, set) in checks {
            if set {
                fields.push(name);
            }
        }
        fields
    }
}

impl From<Op> for RawOp {
    fn from(op: Op) -> RawOp {
        let mut raw = RawOp {
            op: op.action.name().to_string(),
            line: op.line,
            label: op.label,
            when: op.when,
            on_error: op.on_error,
            ..RawOp::default()
        };
        match op.action {
            Action::Acquire {
                pool,
                conn,
                context,
            } => {
                raw.pool = Some(pool);
                raw.conn = Some(conn);
                raw.context = context;
            }
            Action::Release { conn } => raw.conn = Some(conn),
            Action::Query {
                on,
                sql,
                args,
                rows,
                context,
            } => {
                raw.on = Some(on);
                raw.sql = Some(sql);
                raw.args = args;
                raw.rows = Some(rows);
                raw.context = context;
            }
            Action::QueryRow {
                on,
                sql,
                args,
                into,
                context,
            } => {
                raw.on = Some(on);
                raw.sql = Some(sql);
                raw.args = args;
                raw.into = Some(Names::Many(into));
                raw.context = context;
            }
            Action::Exec {
                on,
                sql,
                args,
                context,
            } => {
                raw.on = Some(on);
                raw.sql = Some(sql);
                raw.args = args;
                raw.context = context;
            }
            Action::Next { rows, done } => {
                raw.rows = Some(rows);
                raw.done = Some(done);
            }
            Action::Scan { rows, into } => {
                raw.rows = Some(rows);
                raw.into = Some(Names::Many(into));
            }
            Action::Close { rows } => raw.rows = Some(rows),
            Action::Collect { rows, into } => {
                raw.rows = Some(rows);
                raw.into = Some(Names::One(into));
            }
            Action::Begin {
                on,
                tx,
                isolation,
                context,
            } => {
                raw.on = Some(on);
                raw.tx = Some(tx);
                raw.isolation = isolation;
                raw.context = context;
            }
            Action::Commit { tx } | Action::Rollback { tx } => raw.tx = Some(tx),
            Action::Spawn { task } => raw.task = Some(task),
            Action::Wait => {}
            Action::Defer { body } => raw.body = Some(body),
            Action::Return { error } => raw.error = error,
            Action::Sleep { ms } => raw.ms = Some(ms),
            Action::Context {
                name,
                timeout_ms,
                parent,
            } => {
                raw.name = Some(name);
                raw.timeout_ms = timeout_ms;
                raw.parent = parent;
            }
            Action::Cancel { context } => raw.context = Some(context),
            Action::Record { var } => raw.var = Some(var),
            Action::Add { into, of } => {
                raw.into = Some(Names::One(into));
                raw.of = Some(of);
            }
            Action::If { var, is, value, to } => {
                raw.var = Some(var);
                raw.is = Some(is);
                raw.value = value;
                raw.to = Some(to);
            }
            Action::Goto { to } => raw.to = Some(to),
        }
        raw
    }
}

/// Checks a program's labels: unique, and every jump target defined. Returns the label table.
pub fn resolve_labels(
    program: &[Op],
) -> Result<std::collections::BTreeMap<String, usize>, OpError> {
    let mut labels = std::collections::BTreeMap::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Op, String> {
        serde_json::from_str::<Op>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn an_operation_reads_with_defaults_for_variable_names() {
        let op = parse(r#"{"op":"query","line":3,"on":"db","sql":"SELECT 1"}"#).unwrap();
        assert_eq!(op.line, 3);
        assert_eq!(
            op.action,
            Action::Query {
                on: "db".into(),
                sql: "SELECT 1".into(),
                args: vec![],
                rows: "rows".into(),
                context: None
            }
        );
    }

    #[test]
    fn a_missing_or_foreign_field_is_an_error_naming_it() {
        let err = parse(r#"{"op":"query","line":3,"on":"db"}"#).unwrap_err();
        assert!(err.contains("`query` needs `sql`"), "{err}");
        let err = parse(r#"{"op":"commit","line":3,"sql":"x"}"#).unwrap_err();
        assert!(err.contains("`commit` does not take `sql`"), "{err}");
        let err = parse(r#"{"op":"comit","line":3}"#).unwrap_err();
        assert!(err.contains("unknown operation `comit`"), "{err}");
        let err = parse(r#"{"op":"commit","line":3,"txx":"t"}"#).unwrap_err();
        assert!(err.contains("txx"), "{err}");
    }

    #[test]
    fn operations_round_trip_through_serde() {
        let text = r#"{"op":"defer","line":4,"body":[{"op":"rollback","line":4,"when":"error","tx":"tx"}]}"#;
        let op = parse(text).unwrap();
        let again: Op = serde_json::from_str(&serde_json::to_string(&op).unwrap()).unwrap();
        assert_eq!(op, again);
    }

    #[test]
    fn jumps_to_undefined_labels_are_rejected() {
        let program: Vec<Op> = serde_json::from_str(
            r#"[{"op":"next","line":1,"done":"end"},{"op":"return","line":2,"label":"fin"}]"#,
        )
        .unwrap();
        let err = resolve_labels(&program).unwrap_err();
        assert!(err.0.contains("`end`"), "{err}");
    }
}
